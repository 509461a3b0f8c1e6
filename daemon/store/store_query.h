/*
 * store_query — the read side of the store, for the REST API and metrics.
 *
 * The row structs are those of store.h. Rows are handed to a callback one at a time; the strings of
 * a row are valid only during that call (they point into SQLite's statement). A callback returning
 * non-zero stops the walk and that value is returned. Every walk is bounded by its query (LIMIT) or
 * by the size of a table refit itself fills.
 */
#ifndef REFIT_STORE_QUERY_H
#define REFIT_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Filters of a builds listing; NULL/0 fields do not filter. Newest first. */
struct store_build_filter {
	const char *project, *env, *status;
	int64_t before; /* only ids below this */
	unsigned limit; /* at most this many rows (required, > 0) */
};

/* A build row (struct store_build of store.h) with its id. */
typedef int (*store_build_cb)(int64_t id, const struct store_build *b, void *arg);

/* Walks the builds matching f, newest first. */
int store_builds_each(struct store *s, const struct store_build_filter *f, store_build_cb cb,
                      void *arg);

/* Reads one build; -ENOENT when there is no such id. */
int store_build_get(struct store *s, int64_t id, store_build_cb cb, void *arg);

/*
 * Walks, for one project (all when NULL), the latest build of each
 * environment and the latest succeeded one that IMAGE:ENV served (one row when
 * they are the same; a build waiting for its window is not yet), by project,
 * env, then id.
 */
int store_builds_latest_each(struct store *s, const char *project, store_build_cb cb, void *arg);

/* Walks the engines table, by host. */
int store_engines_each(struct store *s, int (*cb)(const struct store_engine *e, void *arg),
                       void *arg);

/* One row of the bases table, optionally joined with the project using it. */
struct store_base_row {
	const char *ref, *platform;
	const char *digest, *index_digest, *candidate, *error; /* NULL when absent */
	uint64_t candidate_since, first_seen, checked_at, changed_at;
	const char *project, *envs; /* project_bases walks only */
};

typedef int (*store_base_cb)(const struct store_base_row *b, void *arg);

/* Walks every recorded base, by ref and platform. */
int store_bases_each(struct store *s, store_base_cb cb, void *arg);

/*
 * Walks what projects use (project_bases joined with bases: digest fields are
 * NULL for a base never polled yet), for one project or all when NULL.
 */
int store_project_bases_each(struct store *s, const char *project, store_base_cb cb, void *arg);

/* The id of project's pending trigger in ret_id; -ENOENT when none. */
int store_trigger_pending_id(struct store *s, const char *project, int64_t *ret_id);

/* Build counts grouped by project, env and status. */
int store_build_counts_each(struct store *s,
                            int (*cb)(const char *project, const char *env, const char *status,
                                      int64_t n, void *arg),
                            void *arg);

/*
 * The duration histogram (finished - started) of succeeded and failed builds, by project
 * and env: n builds in bucket (0..STORE_DURATION_BUCKETS - 1: at most 30, 60, 120, 300,
 * 600, 1200, 1800, 3600, 7200 s, then the rest), sum_ms their total. Kept by the store as
 * builds change, so its cost does not grow with history.
 */
#define STORE_DURATION_BUCKETS 10
typedef int (*store_duration_cb)(const char *project, const char *env, unsigned bucket, uint64_t n,
                                 uint64_t sum_ms, void *arg);
int store_build_durations_each(struct store *s, store_duration_cb cb, void *arg);

/* Trigger counts by kind (base, security, age, initial, manual) and state. */
int store_trigger_counts_each(struct store *s,
                              int (*cb)(const char *kind, const char *state, int64_t n, void *arg),
                              void *arg);

/*
 * Checks that the database still takes writes (a write lock taken and
 * released, nothing written): 0, or a negative errno and the reason in err.
 */
int store_probe_writable(struct store *s, char *err, size_t errlen);

#endif
