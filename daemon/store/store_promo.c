/*
 * store_promo — pending promotions (see store_promo.h).
 */
#include "store_promo.h"

#include <errno.h>

#include <sqlite3.h>

#include "store_impl.h"

int store_promo_set(struct store *s, const struct store_promo *p)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "INSERT OR REPLACE INTO promotions(project, env, build_id, stamp_tag,"
	                      " digest, since) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, p->project);
	store_bind_text(st, 2, p->env);
	sqlite3_bind_int64(st, 3, p->build_id);
	store_bind_text(st, 4, p->stamp_tag);
	store_bind_text(st, 5, p->digest);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)p->since);
	return store_run(s, st);
}

int store_promo_drop(struct store *s, const char *project, const char *env, int64_t build_id)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "DELETE FROM promotions WHERE project = ?1 AND env = ?2"
	                      " AND (?3 = 0 OR build_id = ?3)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	sqlite3_bind_int64(st, 3, build_id);
	r = store_run(s, st);
	return r < 0 ? r : sqlite3_changes(s->db) ? 0 : -ENOENT;
}

struct walk {
	int (*cb)(const struct store_promo *p, void *arg);
	void *arg;
};

static int row(sqlite3_stmt *st, void *arg)
{
	struct walk *w = arg;
	struct store_promo p = {(const char *)sqlite3_column_text(st, 0),
	                        (const char *)sqlite3_column_text(st, 1),
	                        (const char *)sqlite3_column_text(st, 2),
	                        (const char *)sqlite3_column_text(st, 3),
	                        sqlite3_column_int64(st, 4),
	                        (uint64_t)sqlite3_column_int64(st, 5)};

	return w->cb(&p, w->arg);
}

int store_promo_each(struct store *s, const char *project,
                     int (*cb)(const struct store_promo *p, void *arg), void *arg)
{
	struct walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT project, env, stamp_tag, digest, build_id, since"
	                      " FROM promotions WHERE ?1 IS NULL OR project = ?1"
	                      " ORDER BY since, project, env",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	return store_walk(s, st, row, &w);
}
