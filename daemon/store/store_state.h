/*
 * store_state — what the states of projects and environments are made of, beyond
 * their builds: holds (an environment is not rebuilt until released), how long an
 * environment has been failing, and the outcome before a given build (which tells a
 * new failure from a repeated one, and a recovery from a plain success).
 */
#ifndef REFIT_STORE_STATE_H
#define REFIT_STORE_STATE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Env "*" holds every environment of the project. Setting a hold again replaces it. */
int store_hold_set(struct store *s, const char *project, const char *env, const char *reason,
                   uint64_t at);
/* Drops the hold of env ("*": every hold of the project); -ENOENT when there was none. */
int store_hold_release(struct store *s, const char *project, const char *env);

struct store_hold {
	const char *project, *env, *reason;
	uint64_t since;
};

/* The hold that applies to project/env (its own, else the project's "*"): 0 and *ret
 * filled (reason copied into buf), -ENOENT when none. */
int store_hold_get(struct store *s, const char *project, const char *env, char *reason, size_t len,
                   uint64_t *ret_since);

/* Every hold (only one project's when project is not NULL); cb's non-zero return stops. */
int store_holds_each(struct store *s, const char *project,
                     int (*cb)(const struct store_hold *h, void *arg), void *arg);

/*
 * How many builds of project/env have failed since its last success (failed and
 * interrupted count; skipped ones do not), and when the first of them was queued.
 */
int store_env_failures(struct store *s, const char *project, const char *env, unsigned *ret_count,
                       uint64_t *ret_since);

/*
 * The status of the last finished build of project/env before build `before` that
 * succeeded or failed (skipped and interrupted ones are passed over): "succeeded" or
 * "failed" in buf, -ENOENT when there is none.
 */
int store_env_outcome_before(struct store *s, const char *project, const char *env, int64_t before,
                             char *buf, size_t len);

#endif
