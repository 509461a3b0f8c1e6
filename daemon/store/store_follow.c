/*
 * store_follow — the follows table (see store_follow.h).
 */
#include "store_follow.h"

#include <errno.h>
#include <string.h>

#include "store_impl.h"

struct set {
	const struct store_follow_row *r;
	bool changed;
};

static int set_tx(struct store *s, void *arg)
{
	struct set *u = arg;
	const struct store_follow_row *r = u->r;
	char value[256] = "";
	sqlite3_stmt *st;
	int rc, ret = store_prepare(s,
	                            "SELECT value FROM follows WHERE project = ?1 AND env = ?2"
	                            " AND arg = ?3",
	                            &st);

	if (ret < 0)
		return ret;
	store_bind_text(st, 1, r->project);
	store_bind_text(st, 2, r->env);
	store_bind_text(st, 3, r->arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_copy_col(st, 0, value, sizeof(value));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_err(s, rc, "follows lookup");
	u->changed = rc == SQLITE_DONE || strcmp(value, r->value);
	ret = store_prepare(
	        s,
	        "INSERT OR REPLACE INTO follows(project, env, arg, value, tag, own, ref,"
	        " policy, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	        &st);
	if (ret < 0)
		return ret;
	store_bind_text(st, 1, r->project);
	store_bind_text(st, 2, r->env);
	store_bind_text(st, 3, r->arg);
	store_bind_text(st, 4, r->value);
	store_bind_text(st, 5, r->tag);
	store_bind_text(st, 6, r->own);
	store_bind_text(st, 7, r->ref);
	store_bind_text(st, 8, r->policy);
	store_bind_u64(st, 9, r->updated_at);
	return store_run(s, st);
}

int store_follow_set(struct store *s, const struct store_follow_row *r, bool *ret_changed)
{
	struct set u = {r, false};
	int ret = store_transaction(s, set_tx, &u);

	if (ret == 0)
		*ret_changed = u.changed;
	return ret;
}

int store_follow_clear(struct store *s, const char *project, const char *env, const char *keep_arg)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "DELETE FROM follows WHERE project = ?1 AND (?2 IS NULL OR env = ?2)"
	                      " AND (?3 IS NULL OR arg <> ?3)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	store_bind_text(st, 3, keep_arg);
	return store_run(s, st);
}

struct walk {
	int (*cb)(const struct store_follow_row *r, void *arg);
	void *arg;
};

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int row(sqlite3_stmt *st, void *arg)
{
	struct walk *w = arg;
	struct store_follow_row r = {col(st, 0), col(st, 1), col(st, 2),
	                             col(st, 3), col(st, 4), col(st, 5),
	                             col(st, 6), col(st, 7), (uint64_t)sqlite3_column_int64(st, 8)};

	return w->cb(&r, w->arg);
}

int store_follow_each(struct store *s, const char *project,
                      int (*cb)(const struct store_follow_row *r, void *arg), void *arg)
{
	struct walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT project, env, arg, value, tag, own, ref, policy, updated_at"
	                      " FROM follows WHERE ?1 IS NULL OR project = ?1"
	                      " ORDER BY project, env, arg",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	return store_walk(s, st, row, &w);
}
