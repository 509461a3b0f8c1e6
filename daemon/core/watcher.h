/*
 * watcher — refit's first trigger: base images that moved.
 *
 * From every project's Dockerfile (all stages, ARGs, each environment's
 * target and build args) it derives the base references, and polls each
 * distinct (reference, platform) once per interval however many projects use
 * it, spread with jitter over the interval; the registry pool bounds the
 * concurrency and keeps connections alive. Digests are recorded in the store
 * (first seen, checked, changed). A new digest must hold for the settle
 * window before it becomes a trigger for every project that uses the base;
 * one that flips back within the window is forgotten. Triggers are written
 * to the store, in the same transaction as the new digest, before the
 * trigger callback runs.
 */
#ifndef REFIT_WATCHER_H
#define REFIT_WATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct watcher;
struct store;
struct store_base;
struct registry_pool;
struct config;

/* Called after a base trigger for project has been stored. */
typedef void (*watcher_trigger_cb)(const char *project, int64_t trigger_id, void *arg);

struct watcher_opts {
	const char *platform; /* the engines' platform; NULL: linux/amd64 */
	watcher_trigger_cb cb;
	void *arg;
};

int watcher_new(uv_loop_t *loop, struct store *store, struct registry_pool *reg,
                const struct watcher_opts *o, struct watcher **ret);

/*
 * (Re)derives the watched references from cfg's projects (reading their
 * Dockerfiles) and the poll settings; keeps the schedule of references that
 * stay. Problems with one project are logged and leave the others watched.
 */
int watcher_configure(struct watcher *w, const struct config *cfg);

/* Sets the platform bases are resolved for (takes effect at the next configure). */
void watcher_set_platform(struct watcher *w, const char *platform);

/* Polls every reference whose repository is name (domain/path) now. */
void watcher_check_now(struct watcher *w, const char *name);

/* Number of distinct (reference, platform) pairs watched. */
size_t watcher_count(const struct watcher *w);

/* Stops polling; callbacks never run after this. */
void watcher_free(struct watcher *w);

enum base_event {
	BASE_FIRST,        /* first digest ever seen: recorded, no trigger */
	BASE_SAME,         /* unchanged */
	BASE_CANDIDATE,    /* a new digest starts its settle window */
	BASE_SETTLING,     /* the candidate holds but the window is not over */
	BASE_MOVED,        /* the candidate held for the window: trigger */
	BASE_FLIPPED_BACK, /* the old digest came back within the window */
};

/*
 * The pure state transition of one observation: updates s for digest seen
 * at now (ms) with the settle window settle_ms, and says what happened.
 */
enum base_event base_observe(struct store_base *s, const char *digest, const char *index_digest,
                             uint64_t now, uint64_t settle_ms);

#endif
