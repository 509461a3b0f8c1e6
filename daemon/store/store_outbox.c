/*
 * store_outbox — webhook deliveries that have not been made yet, so that a restart
 * does not lose them (notify adds a row when it queues an event, deletes it when the
 * event is delivered or given up).
 */
#include <errno.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "store_impl.h"

int store_outbox_add(struct store *s, const char *hook, const char *event, const char *body,
                     uint64_t at, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "INSERT INTO outbox(hook, event, body, created_at)"
	                      " VALUES(?1, ?2, ?3, ?4)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, hook);
	store_bind_text(st, 2, event);
	store_bind_text(st, 3, body);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)at);
	r = store_run(s, st);
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int store_outbox_delete(struct store *s, int64_t id)
{
	sqlite3_stmt *st;
	int r = store_prepare(s, "DELETE FROM outbox WHERE id = ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	return store_run(s, st);
}

int64_t store_outbox_count(struct store *s)
{
	int64_t n = 0;
	int r = store_query_int(s, "SELECT count(*) FROM outbox", &n);

	return r < 0 ? r : n;
}

struct outbox_walk {
	int (*cb)(int64_t id, const char *hook, const char *event, const char *body, void *arg);
	void *arg;
};

static int outbox_row(sqlite3_stmt *st, void *arg)
{
	struct outbox_walk *w = arg;

	return w->cb(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
	             (const char *)sqlite3_column_text(st, 2),
	             (const char *)sqlite3_column_text(st, 3), w->arg);
}

int store_outbox_each(struct store *s,
                      int (*cb)(int64_t id, const char *hook, const char *event, const char *body,
                                void *arg),
                      void *arg)
{
	struct outbox_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s, "SELECT id, hook, event, body FROM outbox ORDER BY id", &st);

	return r < 0 ? r : store_walk(s, st, outbox_row, &w);
}
