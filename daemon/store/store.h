/*
 * store — the SQLite state store (state_dir/state.db).
 *
 * WAL mode with synchronous=FULL: a kill -9 at any instant loses nothing that
 * a store_* call reported as written, and a transaction cut short by process
 * death leaves the last committed state. The schema is versioned through
 * PRAGMA user_version and migrated forward on open. Only this module
 * includes sqlite3.h; others see these functions and plain structs.
 */
#ifndef REFIT_STORE_H
#define REFIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* The schema version this build migrates to. */
#define STORE_SCHEMA_VERSION 18

/*
 * Opens (creating when absent) the database at path and migrates it. On
 * failure returns a negative errno and a reason in err.
 */
int store_open(const char *path, struct store **ret, char *err, size_t errlen);
void store_close(struct store *s);

/* The schema version found in the file (after migration). */
int store_schema_version(struct store *s);

/*
 * A number that grows with every row this process writes: readers (the REST
 * API) re-render what they serve only when it moved.
 */
uint64_t store_generation(struct store *s);

/*
 * Runs fn inside one transaction: committed when fn returns 0, rolled back otherwise.
 * Called from inside another one (fn of an outer store_transaction), it is a savepoint:
 * a failure undoes fn's writes only, and the outer transaction commits the rest.
 */
int store_transaction(struct store *s, int (*fn)(struct store *s, void *arg), void *arg);

/* What refitd learnt about an engine on its last contact. */
struct store_engine {
	const char *host;
	const char *api_version; /* negotiated; NULL when unreachable */
	const char *engine_version;
	const char *os, *arch;
	bool podman;
	bool reachable;
	const char *error; /* last failure, NULL when fine */
	uint64_t checked_at;
	const char *builder; /* buildkit, classic or podman; NULL until known */
};

int store_engine_update(struct store *s, const struct store_engine *e);

/* Appends an event (start, reload, errors worth keeping) to the journal table. */
int store_event_add(struct store *s, uint64_t at, const char *kind, const char *project,
                    const char *message);

/*
 * Records a trigger for project (kind: base, security, age, initial, manual);
 * an already pending trigger of the project absorbs it (reasons merged) so a
 * project has one pending rebuild. Returns the pending trigger's id in ret_id.
 */
int store_trigger_add(struct store *s, const char *project, const char *kind, const char *reason,
                      uint64_t at, int64_t *ret_id);
/* Number of pending triggers (for status and tests). */
int store_trigger_pending_count(struct store *s);

/* The recorded state of one base image reference on one platform. */
struct store_base {
	char digest[80];       /* the digest that counts (platform manifest) */
	char index_digest[80]; /* the index it came from, "" if single-platform */
	char candidate[80];    /* a new digest waiting out the settle window, or "" */
	uint64_t candidate_since, first_seen, checked_at, changed_at;
};

/* Reads a base's state; -ENOENT when it was never seen. */
int store_base_get(struct store *s, const char *ref, const char *platform, struct store_base *ret);

/*
 * Writes a base's state (error: the last poll failure or NULL) and, in the
 * same transaction, a "base" trigger with reason for every project in
 * trigger_projects (NULL-terminated, may be NULL): a trigger is on disk
 * before anything acts on it. Trigger ids go to ret_trigger_ids if given.
 */
int store_base_update(struct store *s, const char *ref, const char *platform,
                      const struct store_base *b, const char *error,
                      const char *const *trigger_projects, const char *reason, uint64_t at,
                      int64_t *ret_trigger_ids);

/* A poll that found a base unchanged: when it was checked (its error, if any, is over). */
struct store_base_checked {
	const char *ref, *platform;
	uint64_t at;
};

/* Records n such polls in one transaction (one fsync for a round of checks, not one each). */
int store_bases_checked(struct store *s, const struct store_base_checked *v, size_t n);

/* One base a project uses, and in which of its environments (comma-separated). */
struct store_base_use {
	const char *ref, *platform, *envs;
};

/* Replaces the list of bases project uses. */
int store_project_bases_set(struct store *s, const char *project, const struct store_base_use *uses,
                            size_t n);

/* A build row: one environment of one rebuild. NULL / 0 fields are left alone by updates. */
struct store_build {
	const char *project, *env, *trigger, *reasons;
	const char *status; /* queued, running, succeeded, failed, skipped, interrupted */
	uint64_t queued_at, started_at, finished_at;
	const char *engine, *image_id, *digest, *base_name, *base_digest, *tags, *log_path;
	const char *error;
	const char *builder; /* buildkit, classic or podman */
	const char
	        *failed_step;  /* the build step a failed build stopped at, e.g. "[3/5] RUN ..." */
	uint64_t pruned_at;    /* the retention policy removed its log and inventory (read only) */
	const char *log_error; /* why its log could not be written; NULL when it was */
};

int store_build_insert(struct store *s, const struct store_build *b, int64_t *ret_id);
/*
 * Updates a build row. When the store cannot write (disk full, I/O error) the update is
 * kept, in order, and written by store_retry once it can: the error is still returned.
 */
int store_build_update(struct store *s, int64_t id, const struct store_build *b);

struct store_trigger {
	int64_t id;
	const char *project, *kind, *reasons;
	uint64_t created_at;
	uint64_t not_before; /* a retry's backoff: not started before (wall clock ms); 0: now */
	const char *envs;    /* the environments it rebuilds, comma-separated; NULL: all */
	bool held;           /* the whole project is held (store_hold_set with env "*") */
};

/* Called per pending trigger, oldest first; non-zero stops the iteration. */
typedef int (*store_trigger_cb)(const struct store_trigger *t, void *arg);

/* Iterates the pending triggers; returns how many were seen or a negative errno. */
int store_triggers_pending(struct store *s, store_trigger_cb cb, void *arg);

/*
 * store_trigger_add merges into the project's pending trigger when there is one: the
 * reasons are joined, a security kind wins, and a manual one cuts a retry's backoff.
 * store_trigger_defer sets a trigger's not_before (the retry after a failure).
 */
int store_trigger_defer(struct store *s, int64_t id, uint64_t not_before);

/* store_trigger_add for one environment (and those it requires); merged with a pending
 * trigger, the environments add up, and one for every environment wins. */
int store_trigger_add_env(struct store *s, const char *project, const char *env, const char *kind,
                          const char *reason, uint64_t at, int64_t *ret_id);

/* Moves a trigger to state (running, done, failed, pending) and links its build; kept
 * for store_retry like a build update when the store cannot write. */
int store_trigger_set_state(struct store *s, int64_t id, const char *state, int64_t build_id,
                            uint64_t at);

/*
 * After a restart: builds that were running become interrupted, and their
 * triggers pending again (merged into a pending one of the same project).
 */
int store_recover(struct store *s, uint64_t at);

/* When project last built successfully; -ENOENT when never. */
int store_last_success(struct store *s, const char *project, uint64_t *ret_at);
/* The same for every project that ever succeeded, one query (cb's non-zero return stops). */
int store_last_success_each(struct store *s, int (*cb)(const char *project, uint64_t at, void *arg),
                            void *arg);
/* The engine that last built an image of the project (its layer cache is warm there);
 * -ENOENT when none has. */
int store_last_engine(struct store *s, const char *project, char *buf, size_t len);

/*
 * Retention: up to limit builds finished before `before` whose log and inventory may go,
 * oldest first. Never the newest build of a (project, environment), nor its two newest
 * successful ones (the current image and the one a rollback returns to), nor a build
 * pruned already. cb gets each id and log path (NULL when none).
 */
int store_prune_each(struct store *s, uint64_t before, int limit,
                     int (*cb)(int64_t id, const char *log_path, void *arg), void *arg);
/* Drops the builds' package inventories and records when their logs went, in one
 * transaction. */
int store_prune_builds(struct store *s, const int64_t *ids, size_t n, uint64_t at);

/* Webhook deliveries not made yet (notify); hook identifies the webhook without its URL. */
int store_outbox_add(struct store *s, const char *hook, const char *event, const char *body,
                     uint64_t at, int64_t *ret_id);
int store_outbox_delete(struct store *s, int64_t id);
/* Number of deliveries not made yet (metrics); negative errno on failure. */
int64_t store_outbox_count(struct store *s);
/* Oldest first; a non-zero return of cb stops the walk. */
int store_outbox_each(struct store *s,
                      int (*cb)(int64_t id, const char *hook, const char *event, const char *body,
                                void *arg),
                      void *arg);

/* True when project has any build or trigger recorded (no "initial" trigger then). */
bool store_project_attempted(struct store *s, const char *project);

/*
 * Why writes to the store fail now (SQLite's reason, and "the filesystem of state_dir is
 * full" for a full disk), NULL while they work; ret_since: since when (wall clock ms).
 */
const char *store_write_error(struct store *s, uint64_t *ret_since);
/* Build updates and trigger states waiting for the store to take writes. */
size_t store_deferred_count(struct store *s);
/*
 * Called every few seconds: writes what waits; when nothing waits but writes failed,
 * probes with a journal entry. 0 when the store writes again (or never stopped).
 */
int store_retry(struct store *s);

/* Reads one integer/text column of the first row of a read-only query (tests, status). */
int store_query_int(struct store *s, const char *sql, int64_t *ret);

#endif
