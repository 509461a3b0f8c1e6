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
 * A build its (project, environment) still needs: its newest; its two newest successful
 * ones, the current image and the one a rollback returns to; and its two newest successful
 * ones with an inventory, which advisories are matched against. Each test walks the
 * builds_project index backwards from the end of that environment, so a round costs a few
 * index steps per candidate (builds_unpruned leaves out what is pruned already), not a
 * ranking of the whole table.
 */
#define SAME_ENV "c.project = b.project AND c.env = b.env"
#define SUCCEEDED_NEWEST_FIRST                           \
	" WHERE " SAME_ENV " AND c.status = 'succeeded'" \
	" ORDER BY c.id DESC LIMIT 2"
/* clang-format off */
#define NOT_KEPT                                                                     \
	" AND b.id < (SELECT max(c.id) FROM builds c WHERE " SAME_ENV ")"            \
	" AND b.id NOT IN (SELECT c.id FROM builds c" SUCCEEDED_NEWEST_FIRST ")"     \
	" AND b.id NOT IN (SELECT c.id FROM builds c"                                \
	"  JOIN inventories i ON i.build_id = c.id" SUCCEEDED_NEWEST_FIRST ")"
/* clang-format on */

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
	                      "SELECT b.id, b.log_path FROM builds b WHERE b.pruned_at IS NULL"
	                      " AND b.finished_at IS NOT NULL AND b.finished_at < ?1" NOT_KEPT
	                      " ORDER BY b.id LIMIT ?2",
	                      &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
	sqlite3_bind_int(st, 2, limit);
	return store_walk(s, st, prune_row, &w);
}

struct prune_args {
	const int64_t *ids;
	size_t n;
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
	sqlite3_stmt *st[3] = {NULL, NULL, NULL};
	int r = 0;

	for (size_t i = 0; r == 0 && i < 3; i++)
		r = store_prepare(s, sql[i], &st[i]);
	for (size_t k = 0; r == 0 && k < a->n; k++)
		for (size_t i = 0; r == 0 && i < 3; i++) {
			int rc;

			sqlite3_bind_int64(st[i], 1, a->ids[k]);
			if (i == 2)
				sqlite3_bind_int64(st[i], 2, (sqlite3_int64)a->at);
			rc = sqlite3_step(st[i]);
			r = rc == SQLITE_DONE ? 0 : store_sql_err(s, rc, sql[i]);
			sqlite3_reset(st[i]);
		}
	for (size_t i = 0; i < 3; i++)
		sqlite3_finalize(st[i]);
	return r;
}

/*
 * Without an fsync of its own: a prune lost to a power cut is done again in the next
 * round, and the WAL keeps the file consistent either way. The other writes keep
 * synchronous = FULL (set back in the same loop turn).
 */
int store_prune_builds(struct store *s, const int64_t *ids, size_t n, uint64_t at)
{
	struct prune_args a = {ids, n, at};
	int r;

	if (!n)
		return 0;
	store_exec(s, "PRAGMA synchronous = NORMAL");
	r = store_transaction(s, prune_tx, &a);
	store_exec(s, "PRAGMA synchronous = FULL");
	return r;
}
