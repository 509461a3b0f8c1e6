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

struct store {
	sqlite3 *db;
	int version;
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

#endif
