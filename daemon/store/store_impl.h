/*
 * store_impl.h — the store's private state and SQL helpers, shared by the
 * files of the store module only (store.c, store_query.c, store_feed.c).
 * Nobody else includes it.
 */
#ifndef REFIT_STORE_IMPL_H
#define REFIT_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct store_deferred;

struct store {
	sqlite3 *db;
	int version;
	/* store_defer.c: why writes fail ("" while they work), and what waits for them */
	char write_error[256];
	uint64_t write_failing_since;
	struct store_deferred *deferred;
	size_t n_deferred;
	uint64_t health_changes;      /* moves store_generation when the write health changes */
	sqlite3_stmt *advisories_for; /* prepared once: matching runs it per package */
};

/* Logs SQLite's message for what and maps rc to a negative errno. */
int store_sql_err(struct store *s, int rc, const char *what);
int store_exec(struct store *s, const char *sql);
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **ret);
/* Binds v, or NULL when v is NULL (text) or 0 (u64). */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
void store_bind_u64(sqlite3_stmt *st, int i, uint64_t v);
/* Steps a statement that returns no rows, then finalizes it. */
int store_run(struct store *s, sqlite3_stmt *st);
/* Copies a text column into buf ("" for NULL). */
void store_copy_col(sqlite3_stmt *st, int col, char *buf, size_t len);
/* Steps st to the end, handing each row to row(st, arg); finalizes st. */
int store_walk(struct store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *arg),
               void *arg);

/* store_guard.c, in store_open's order: before SQLite opens path (is it refit's? ret_fresh:
 * nothing recorded yet), once it is open (writable? undamaged?), after the migrations (the
 * application_id mark, written each start as the proof that a commit goes through). Each
 * returns a negative errno and, in err, the reason with the file's name and what to do. */
int store_guard_file(const char *path, bool *ret_fresh, char *err, size_t errlen);
int store_guard_open(struct store *s, const char *path, bool fresh, char *err, size_t errlen);
int store_guard_mark(struct store *s, const char *path, char *err, size_t errlen);

/* store_defer.c: the write health, fed by store_sql_err and successful commits. */
void store_write_failed(struct store *s, int rc);
void store_write_worked(struct store *s);
void store_deferred_drop(struct store *s);
/* The writes themselves; store_build_update and store_trigger_set_state defer them. */
struct store_build;
int store_build_update_now(struct store *s, int64_t id, const struct store_build *b);
int store_trigger_state_now(struct store *s, int64_t id, const char *state, int64_t build_id,
                            uint64_t at);

#endif
