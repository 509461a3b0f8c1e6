/*
 * store_follow — `follow:` (table follows): per project, environment and ARG,
 * the newer value the environment builds with (a newer tag of the FROM whose
 * version part the ARG makes up), the tag it yields, the ARG's own value (the
 * Dockerfile's default or the environment's build arg) when it was found.
 */
#ifndef REFIT_STORE_FOLLOW_H
#define REFIT_STORE_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct store_follow_row {
	const char *project, *env, *arg;
	const char *value; /* followed: the ARG's value the build passes */
	const char *tag;   /* the tag it yields */
	const char *own;   /* the ARG's own value then */
	const char *ref;   /* the base as the Dockerfile resolves it */
	const char *policy;
	uint64_t updated_at;
};

/* Records r; *ret_changed: the value differs from the one recorded (or none was). */
int store_follow_set(struct store *s, const struct store_follow_row *r, bool *ret_changed);

/* Drops the rows of project's env (every env when NULL) but arg's (none kept when NULL). */
int store_follow_clear(struct store *s, const char *project, const char *env, const char *keep_arg);

/* Walks the rows of one project (all when NULL), by project, env and arg. */
int store_follow_each(struct store *s, const char *project,
                      int (*cb)(const struct store_follow_row *r, void *arg), void *arg);

#endif
