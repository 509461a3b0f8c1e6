/*
 * store_tags — the base_tags table (see store_tags.h).
 */
#include "store_tags.h"

#include <errno.h>
#include <string.h>

#include "store_impl.h"

struct update {
	const struct store_tags_row *r;
	bool announce;
};

static int update_tx(struct store *s, void *arg)
{
	struct update *u = arg;
	const struct store_tags_row *r = u->r;
	char notified[256] = "";
	sqlite3_stmt *st;
	int rc, ret = store_prepare(
	                s, "SELECT notified FROM base_tags WHERE project = ?1 AND ref = ?2", &st);

	if (ret < 0)
		return ret;
	store_bind_text(st, 1, r->project);
	store_bind_text(st, 2, r->ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_copy_col(st, 0, notified, sizeof(notified));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_err(s, rc, "base_tags lookup");
	u->announce = !r->error && r->newest && strcmp(notified, r->newest);
	ret = store_prepare(
	        s,
	        "INSERT INTO base_tags(project, ref, tag, policy, newest, notified, checked_at, "
	        "error) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	        " ON CONFLICT(project, ref) DO UPDATE SET tag = ?3, policy = ?4,"
	        " newest = CASE WHEN ?8 IS NULL THEN ?5 ELSE newest END,"
	        " notified = coalesce(?6, notified), checked_at = ?7, error = ?8",
	        &st);
	if (ret < 0)
		return ret;
	store_bind_text(st, 1, r->project);
	store_bind_text(st, 2, r->ref);
	store_bind_text(st, 3, r->tag);
	store_bind_text(st, 4, r->policy);
	store_bind_text(st, 5, r->error ? NULL : r->newest);
	store_bind_text(st, 6, u->announce ? r->newest : NULL);
	store_bind_u64(st, 7, r->checked_at);
	store_bind_text(st, 8, r->error);
	return store_run(s, st);
}

int store_tags_update(struct store *s, const struct store_tags_row *r, bool *ret_announce)
{
	struct update u = {r, false};
	int ret = store_transaction(s, update_tx, &u);

	if (ret == 0)
		*ret_announce = u.announce;
	return ret;
}

struct walk {
	int (*cb)(const struct store_tags_row *r, void *arg);
	void *arg;
};

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int row(sqlite3_stmt *st, void *arg)
{
	struct walk *w = arg;
	struct store_tags_row r = {col(st, 0),
	                           col(st, 1),
	                           col(st, 2),
	                           col(st, 3),
	                           col(st, 4),
	                           col(st, 6),
	                           (uint64_t)sqlite3_column_int64(st, 5)};

	return w->cb(&r, w->arg);
}

int store_tags_each(struct store *s, const char *project,
                    int (*cb)(const struct store_tags_row *r, void *arg), void *arg)
{
	struct walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT project, ref, tag, policy, newest, checked_at, error"
	                      " FROM base_tags WHERE ?1 IS NULL OR project = ?1"
	                      " ORDER BY project, ref",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	return store_walk(s, st, row, &w);
}

int store_tags_prune(struct store *s, const char *const *off_projects)
{
	sqlite3_stmt *st;
	int r = store_exec(s,
	                   "DELETE FROM base_tags WHERE NOT EXISTS (SELECT 1 FROM project_bases p"
	                   " WHERE p.project = base_tags.project AND p.ref = base_tags.ref)");

	for (size_t i = 0; r == 0 && off_projects && off_projects[i]; i++) {
		r = store_prepare(s, "DELETE FROM base_tags WHERE project = ?1", &st);
		if (r == 0) {
			store_bind_text(st, 1, off_projects[i]);
			r = store_run(s, st);
		}
	}
	return r;
}
