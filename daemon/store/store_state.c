/*
 * store_state — holds, failure streaks and previous outcomes (see store_state.h).
 */
#include "store_state.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "store.h"
#include "store_impl.h"

int store_trigger_defer(struct store *s, int64_t id, uint64_t not_before)
{
	sqlite3_stmt *st;
	int r = store_prepare(s, "UPDATE triggers SET not_before = ?2 WHERE id = ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)not_before);
	return store_run(s, st);
}

int store_hold_set(struct store *s, const char *project, const char *env, const char *reason,
                   uint64_t at)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "INSERT OR REPLACE INTO holds(project, env, since, reason)"
	                      " VALUES(?1, ?2, ?3, ?4)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)at);
	store_bind_text(st, 4, reason);
	return store_run(s, st);
}

int store_hold_release(struct store *s, const char *project, const char *env)
{
	sqlite3_stmt *st;
	int r = store_prepare(s, "DELETE FROM holds WHERE project = ?1 AND (?2 = '*' OR env = ?2)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	r = store_run(s, st);
	return r < 0 ? r : sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int store_hold_get(struct store *s, const char *project, const char *env, char *reason, size_t len,
                   uint64_t *ret_since)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s,
	                          "SELECT reason, since FROM holds WHERE project = ?1"
	                          " AND env IN (?2, '*') ORDER BY env = '*' LIMIT 1",
	                          &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (reason && len)
			store_copy_col(st, 0, reason, len);
		if (ret_since)
			*ret_since = (uint64_t)sqlite3_column_int64(st, 1);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, "hold");
	}
	sqlite3_finalize(st);
	return r;
}

int store_holds_each(struct store *s, const char *project,
                     int (*cb)(const struct store_hold *h, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s,
	                          "SELECT project, env, reason, since FROM holds"
	                          " WHERE ?1 IS NULL OR project = ?1 ORDER BY project, env",
	                          &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_hold h = {(const char *)sqlite3_column_text(st, 0),
		                       (const char *)sqlite3_column_text(st, 1),
		                       (const char *)sqlite3_column_text(st, 2),
		                       (uint64_t)sqlite3_column_int64(st, 3)};
		if (cb(&h, arg))
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sql_err(s, rc, "holds");
}

int store_env_failures(struct store *s, const char *project, const char *env, unsigned *ret_count,
                       uint64_t *ret_since)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s,
	                          "SELECT count(*), min(queued_at) FROM builds WHERE project = ?1 "
	                          "AND env = ?2"
	                          " AND status IN ('failed', 'interrupted') AND id > coalesce("
	                          "  (SELECT id FROM builds WHERE project = ?1 AND env = ?2"
	                          "   AND status = 'succeeded' ORDER BY id DESC LIMIT 1), 0)",
	                          &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_count = (unsigned)sqlite3_column_int64(st, 0);
		*ret_since = (uint64_t)sqlite3_column_int64(st, 1);
		r = 0;
	} else {
		r = store_sql_err(s, rc, "env failures");
	}
	sqlite3_finalize(st);
	return r;
}

int store_env_outcome_before(struct store *s, const char *project, const char *env, int64_t before,
                             char *buf, size_t len)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s,
	                          "SELECT status FROM builds WHERE project = ?1 AND env = ?2"
	                          " AND id < ?3 AND status IN ('succeeded', 'failed')"
	                          " ORDER BY id DESC LIMIT 1",
	                          &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	sqlite3_bind_int64(st, 3, before);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_copy_col(st, 0, buf, len);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, "outcome");
	sqlite3_finalize(st);
	return r;
}
