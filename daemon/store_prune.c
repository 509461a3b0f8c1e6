/*
 * store_prune — what the retention policy may remove from the store: the package
 * inventories of old builds (the bulk of the database) and, through the caller, their
 * log files. Build rows, their advisories and the events stay: they are the history.
 */
#include <errno.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "store_impl.h"

/*
 * The builds a (project, environment) still needs: its newest; its two newest successful
 * ones, the current image and the one a rollback returns to; and its two newest
 * successful ones with an inventory, which advisories are matched against.
 */
#define RANKED(where)                                                             \
	"SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY project, env" \
	"  ORDER BY id DESC) AS n FROM builds b" where ")"
#define SUCCEEDED " WHERE status = 'succeeded'"
#define KEPT_SQL                                                                                 \
	RANKED("")                                                                               \
	" WHERE n = 1 UNION " RANKED(SUCCEEDED) " WHERE n <= 2 UNION " RANKED(                   \
	        SUCCEEDED                                                                        \
	        " AND EXISTS (SELECT 1 FROM inventories i WHERE i.build_id = b.id)") " WHERE n " \
	                                                                             "<= 2"

struct prune_walk {
	int (*cb)(int64_t id, const char *log_path, void *arg);
	void *arg;
};

static int prune_row(sqlite3_stmt *st, void *arg)
{
	struct prune_walk *w = arg;

	return w->cb(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), w->arg);
}

int store_prune_each(struct store *s, uint64_t before, int limit,
                     int (*cb)(int64_t id, const char *log_path, void *arg), void *arg)
{
	struct prune_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT id, log_path FROM builds WHERE pruned_at IS NULL"
	                      " AND finished_at IS NOT NULL AND finished_at < ?1"
	                      " AND id NOT IN (" KEPT_SQL ") ORDER BY id LIMIT ?2",
	                      &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
	sqlite3_bind_int(st, 2, limit);
	return store_walk(s, st, prune_row, &w);
}

struct prune_args {
	int64_t id;
	uint64_t at;
};

static int prune_tx(struct store *s, void *arg)
{
	static const char *const sql[] = {
	        "DELETE FROM inventory_pkgs WHERE build_id = ?1",
	        "DELETE FROM inventories WHERE build_id = ?1",
	        "UPDATE builds SET pruned_at = ?2 WHERE id = ?1",
	};
	const struct prune_args *a = arg;

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st;
		int r = store_prepare(s, sql[i], &st);

		if (r < 0)
			return r;
		sqlite3_bind_int64(st, 1, a->id);
		if (i == 2)
			sqlite3_bind_int64(st, 2, (sqlite3_int64)a->at);
		r = store_run(s, st);
		if (r < 0)
			return r;
	}
	return 0;
}

int store_prune_build(struct store *s, int64_t id, uint64_t at)
{
	struct prune_args a = {id, at};

	return store_transaction(s, prune_tx, &a);
}
