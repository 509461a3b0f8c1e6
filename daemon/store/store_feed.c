/*
 * store_feed — feeds, advisories, inventories and matches (see store_feed.h).
 * Part of the store module: it shares struct store through store_impl.h.
 */
#include "store_feed.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

static const char *text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static uint64_t u64(sqlite3_stmt *st, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(st, col);
	return v > 0 ? (uint64_t)v : 0;
}

static int state_row(sqlite3_stmt *st, struct store_feed_state *ret)
{
	memset(ret, 0, sizeof(*ret));
	store_copy_col(st, 0, ret->watermark, sizeof(ret->watermark));
	store_copy_col(st, 1, ret->etag, sizeof(ret->etag));
	store_copy_col(st, 2, ret->last_modified, sizeof(ret->last_modified));
	ret->polled_at = u64(st, 3);
	ret->ok_at = u64(st, 4);
	ret->changed_at = u64(st, 5);
	store_copy_col(st, 6, ret->error, sizeof(ret->error));
	ret->records = sqlite3_column_int64(st, 7);
	return 0;
}

#define FEED_COLS "watermark, etag, last_modified, polled_at, ok_at, changed_at, error, records"

int store_feed_get(struct store *s, const char *feed, const char *scope,
                   struct store_feed_state *ret)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(
	                s, "SELECT " FEED_COLS " FROM feeds WHERE name = ?1 AND scope = ?2", &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, feed);
	store_bind_text(st, 2, scope);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		state_row(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, "feed get");
	sqlite3_finalize(st);
	return r;
}

int store_feed_polled(struct store *s, const char *feed, const char *scope,
                      const struct store_feed_state *fs, const char *error)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "INSERT INTO feeds(name, scope, polled_at, ok_at, error)"
	                      " VALUES(?1, ?2, ?3, CASE WHEN ?4 IS NULL THEN ?3 END, ?4)"
	                      " ON CONFLICT(name, scope) DO UPDATE SET polled_at = ?3, error = ?4,"
	                      " ok_at = CASE WHEN ?4 IS NULL THEN ?3 ELSE ok_at END",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, feed);
	store_bind_text(st, 2, scope);
	store_bind_u64(st, 3, fs->polled_at);
	store_bind_text(st, 4, error);
	return store_run(s, st);
}

/* Remembers that (ecosystem, package) has new advisory content, for the next scan. */
static int note_change(struct store *s, const char *ecosystem, const char *package)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "INSERT OR IGNORE INTO advisory_changes(ecosystem, package)"
	                      " VALUES(?1, ?2)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, ecosystem);
	store_bind_text(st, 2, package);
	return store_run(s, st);
}

/* Upserts one row; seen_at moves only when the content differs. Counts changes. */
static int advisory_put(struct store *s, sqlite3_stmt *st, const struct store_feed_batch *b,
                        const struct store_advisory *a, size_t *changed)
{
	int rc;

	sqlite3_reset(st);
	store_bind_text(st, 1, b->feed);
	store_bind_text(st, 2, b->scope);
	store_bind_text(st, 3, a->id);
	store_bind_text(st, 4, a->ecosystem);
	store_bind_text(st, 5, a->package);
	store_bind_text(st, 6, a->modified);
	store_bind_text(st, 7, a->summary);
	store_bind_text(st, 8, a->aliases);
	store_bind_text(st, 9, a->affected);
	sqlite3_bind_int(st, 10, a->withdrawn);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)b->now);
	store_bind_text(st, 12, a->versions);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_sql_err(s, rc, "advisory put");
	if (u64(st, 0) == b->now) {
		(*changed)++;
		rc = note_change(s, a->ecosystem, a->package);
		if (rc < 0) {
			while (sqlite3_step(st) == SQLITE_ROW)
				;
			return rc;
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	return rc == SQLITE_DONE ? 0 : store_sql_err(s, rc, "advisory put");
}

static int put_rows(struct store *s, const struct store_feed_batch *b, size_t *changed)
{
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "INSERT INTO advisories(feed, scope, id, ecosystem, package, modified, summary,"
	        " aliases, affected, withdrawn, seen_at, poll, versions)"
	        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?11,?12)"
	        " ON CONFLICT(feed, id, ecosystem, package) DO UPDATE SET scope = ?2,"
	        " modified = ?6, summary = ?7, aliases = ?8, affected = ?9, withdrawn = ?10,"
	        " poll = ?11, versions = ?12,"
	        " seen_at = CASE WHEN affected IS NOT ?9 OR withdrawn != ?10"
	        "   OR modified IS NOT ?6 OR versions IS NOT ?12 THEN ?11 ELSE seen_at END"
	        " RETURNING seen_at",
	        &st);

	for (size_t i = 0; r == 0 && i < b->n_rows; i++)
		r = advisory_put(s, st, b, &b->rows[i], changed);
	sqlite3_finalize(st);
	return r;
}

/*
 * Deletes the advisory rows matching cond (?1 feed, ?2 scope or id, ?3 the
 * batch's poll), first noting their packages as changed. Counts the rows.
 */
static int drop_where(struct store *s, const char *cond, const char *feed, const char *key,
                      uint64_t now, size_t *changed)
{
	char sql[2][320];
	sqlite3_stmt *st;
	int r = 0;

	snprintf(sql[0], sizeof(sql[0]),
	         "INSERT OR IGNORE INTO advisory_changes(ecosystem, package)"
	         " SELECT ecosystem, package FROM advisories WHERE %s",
	         cond);
	snprintf(sql[1], sizeof(sql[1]), "DELETE FROM advisories WHERE %s", cond);
	for (int i = 0; r == 0 && i < 2; i++) {
		r = store_prepare(s, sql[i], &st);
		if (r < 0)
			return r;
		store_bind_text(st, 1, feed);
		store_bind_text(st, 2, key);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		r = store_run(s, st);
	}
	*changed += (size_t)sqlite3_changes(s->db);
	return r;
}

/* Drops the rows a full load or an updated record no longer has. */
static int sweep(struct store *s, const struct store_feed_batch *b, size_t *changed)
{
	int r = 0;

	if (b->replace)
		r = drop_where(s, "feed = ?1 AND scope = ?2 AND poll != ?3", b->feed, b->scope,
		               b->now, changed);
	for (size_t i = 0; r == 0 && i < b->n_clear; i++)
		r = drop_where(s, "feed = ?1 AND id = ?2 AND poll != ?3", b->feed, b->clear_ids[i],
		               b->now, changed);
	return r;
}

static int state_put(struct store *s, const struct store_feed_batch *b, size_t changed)
{
	const struct store_feed_state *fs = b->state;
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "INSERT INTO feeds(name, scope, watermark, etag, last_modified, polled_at, ok_at,"
	        " changed_at, error, records) VALUES(?1,?2,?3,?4,?5,?6,?6,?7,NULL,"
	        " (SELECT count(*) FROM advisories WHERE feed = ?1 AND scope = ?2))"
	        " ON CONFLICT(name, scope) DO UPDATE SET watermark = ?3, etag = ?4,"
	        " last_modified = ?5, polled_at = ?6, ok_at = ?6,"
	        " changed_at = coalesce(?7, changed_at), error = NULL, records = excluded.records",
	        &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, b->feed);
	store_bind_text(st, 2, b->scope);
	store_bind_text(st, 3, fs->watermark[0] ? fs->watermark : NULL);
	store_bind_text(st, 4, fs->etag[0] ? fs->etag : NULL);
	store_bind_text(st, 5, fs->last_modified[0] ? fs->last_modified : NULL);
	store_bind_u64(st, 6, b->now);
	store_bind_u64(st, 7, changed ? b->now : 0);
	return store_run(s, st);
}

struct apply {
	const struct store_feed_batch *b;
	size_t changed;
};

static int apply_tx(struct store *s, void *arg)
{
	struct apply *a = arg;
	int r = put_rows(s, a->b, &a->changed);

	if (r == 0)
		r = sweep(s, a->b, &a->changed);
	if (r == 0)
		r = state_put(s, a->b, a->changed);
	return r;
}

int store_feed_apply(struct store *s, const struct store_feed_batch *b)
{
	struct apply a = {b, 0};
	int r = store_transaction(s, apply_tx, &a);

	return r < 0 ? r : (int)(a.changed > 0x7fffffff ? 0x7fffffff : a.changed);
}

struct adv_walk {
	store_advisory_cb cb;
	void *arg;
};

static int advisory_row(sqlite3_stmt *st, void *arg)
{
	struct adv_walk *w = arg;
	struct store_advisory a = {
	        .feed = text(st, 0),
	        .scope = text(st, 1),
	        .id = text(st, 2),
	        .ecosystem = text(st, 3),
	        .package = text(st, 4),
	        .modified = text(st, 5),
	        .summary = text(st, 6),
	        .aliases = text(st, 7),
	        .affected = text(st, 8),
	        .withdrawn = sqlite3_column_int(st, 9) != 0,
	        .seen_at = u64(st, 10),
	        .versions = text(st, 11),
	};
	return w->cb(&a, w->arg);
}

int store_advisories_for(struct store *s, const char *ecosystem, const char *package,
                         store_advisory_cb cb, void *arg)
{
	struct adv_walk w = {cb, arg};
	sqlite3_stmt *st = s->advisories_for;
	int rc, r = 0;

	if (!st) {
		rc = sqlite3_prepare_v3(
		        s->db,
		        "SELECT feed, scope, id, ecosystem, package, modified, summary,"
		        " aliases, affected, withdrawn, seen_at, versions FROM advisories"
		        " WHERE ecosystem = ?1 AND package = ?2 AND withdrawn = 0"
		        " ORDER BY id",
		        -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return store_sql_err(s, rc, "prepare");
		s->advisories_for = st;
	}
	store_bind_text(st, 1, ecosystem);
	store_bind_text(st, 2, package);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = advisory_row(st, &w);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_err(s, rc, "advisories");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

struct feed_walk {
	int (*cb)(const char *feed, const char *scope, const struct store_feed_state *st,
	          void *arg);
	void *arg;
};

static int feed_row(sqlite3_stmt *st, void *arg)
{
	struct feed_walk *w = arg;
	struct store_feed_state fs;

	state_row(st, &fs);
	fs.records = sqlite3_column_int64(st, 7);
	return w->cb(text(st, 8), text(st, 9), &fs, w->arg);
}

int store_feeds_each(struct store *s,
                     int (*cb)(const char *feed, const char *scope,
                               const struct store_feed_state *st, void *arg),
                     void *arg)
{
	struct feed_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(
	        s, "SELECT " FEED_COLS ", name, scope FROM feeds ORDER BY name, scope", &st);

	return r < 0 ? r : store_walk(s, st, feed_row, &w);
}

static int drop_tx(struct store *s, void *arg)
{
	static const char *const sql[] = {
	        ("INSERT OR IGNORE INTO advisory_changes(ecosystem, package)"
	         " SELECT ecosystem, package FROM advisories WHERE feed = ?1"),
	        "DELETE FROM advisories WHERE feed = ?1", "DELETE FROM feeds WHERE name = ?1"};
	sqlite3_stmt *st;
	int r = 0;

	for (size_t i = 0; r == 0 && i < 3; i++) {
		r = store_prepare(s, sql[i], &st);
		if (r < 0)
			return r;
		store_bind_text(st, 1, arg);
		r = store_run(s, st);
	}
	return r;
}

int store_feed_drop(struct store *s, const char *feed)
{
	return store_transaction(s, drop_tx, (void *)(uintptr_t)feed);
}

int64_t store_feed_count(struct store *s, const char *feed)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (store_prepare(s, "SELECT count(*) FROM advisories WHERE feed = ?1", &st) < 0)
		return 0;
	store_bind_text(st, 1, feed);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Runs a DELETE whose ?1 is a build id. */
static int delete_rows(struct store *s, const char *sql, int64_t build_id)
{
	sqlite3_stmt *st;
	int r = store_prepare(s, sql, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, build_id);
	return store_run(s, st);
}

struct inventory_args {
	int64_t build_id;
	const struct store_inventory *inv;
};

static int pkgs_put(struct store *s, int64_t build_id, const struct store_inventory *inv)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s,
	                          "INSERT INTO inventory_pkgs(build_id, ecosystem, name, version,"
	                          " source, source_version, arch, license)"
	                          " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
	                          &st);

	for (size_t i = 0; r == 0 && i < inv->n_pkgs; i++) {
		const struct store_pkg *p = &inv->pkgs[i];

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, build_id);
		store_bind_text(st, 2, p->ecosystem);
		store_bind_text(st, 3, p->name);
		store_bind_text(st, 4, p->version);
		store_bind_text(st, 5, p->source);
		store_bind_text(st, 6, p->source_version);
		store_bind_text(st, 7, p->arch);
		store_bind_text(st, 8, p->license);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			r = store_sql_err(s, rc, "inventory package");
	}
	sqlite3_finalize(st);
	return r;
}

static int inventory_tx(struct store *s, void *arg)
{
	struct inventory_args *a = arg;
	sqlite3_stmt *st;
	int r = delete_rows(s, "DELETE FROM inventory_pkgs WHERE build_id = ?1", a->build_id);

	if (r == 0) /* the triggers add those of the new packages */
		r = delete_rows(s, "DELETE FROM inventory_ecosystems WHERE build_id = ?1",
		                a->build_id);
	if (r == 0)
		r = store_prepare(
		        s,
		        "INSERT OR REPLACE INTO inventories(build_id, os_id, os_version,"
		        " ecosystem, packages, read_at, error) VALUES(?1,?2,?3,?4,?5,?6,?7)",
		        &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a->build_id);
	store_bind_text(st, 2, a->inv->os_id);
	store_bind_text(st, 3, a->inv->os_version);
	store_bind_text(st, 4, a->inv->ecosystem);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)a->inv->n_pkgs);
	store_bind_u64(st, 6, a->inv->read_at);
	store_bind_text(st, 7, a->inv->error);
	r = store_run(s, st);
	return r < 0 ? r : pkgs_put(s, a->build_id, a->inv);
}

int store_inventory_put(struct store *s, int64_t build_id, const struct store_inventory *inv)
{
	struct inventory_args a = {build_id, inv};

	return store_transaction(s, inventory_tx, &a);
}

struct pkg_walk {
	int (*cb)(const struct store_pkg *p, void *arg);
	void *arg;
};

static int pkg_row(sqlite3_stmt *st, void *arg)
{
	struct pkg_walk *w = arg;
	struct store_pkg p = {text(st, 0), text(st, 1), text(st, 2), text(st, 3),
	                      text(st, 4), text(st, 5), text(st, 6)};

	return w->cb(&p, w->arg);
}

int store_inventory_each(struct store *s, int64_t build_id,
                         int (*cb)(const struct store_pkg *p, void *arg), void *arg)
{
	struct pkg_walk w = {cb, arg};
	sqlite3_stmt *st;
	int64_t n = 0;
	int r = store_prepare(s, "SELECT count(*) FROM inventories WHERE build_id = ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, build_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n == 0)
		return -ENOENT;
	r = store_prepare(s,
	                  "SELECT ecosystem, name, version, source, source_version, arch, license"
	                  " FROM inventory_pkgs WHERE build_id = ?1 ORDER BY rowid",
	                  &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, build_id);
	return store_walk(s, st, pkg_row, &w);
}

/* The latest succeeded build with an inventory, per project and environment (kept by the
 * schema's triggers in current_images). */
#define CURRENT_SQL                                                      \
	"SELECT b.project, b.env, b.trigger, b.id FROM current_images c" \
	" JOIN builds b ON b.id = c.build_id"

struct eco_walk {
	int (*cb)(const char *ecosystem, void *arg);
	void *arg;
};

static int eco_row(sqlite3_stmt *st, void *arg)
{
	struct eco_walk *w = arg;
	return w->cb(text(st, 0), w->arg);
}

int store_inventory_ecosystems(struct store *s, int (*cb)(const char *ecosystem, void *arg),
                               void *arg)
{
	struct eco_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT DISTINCT e.ecosystem FROM current_images c"
	                      " JOIN inventory_ecosystems e ON e.build_id = c.build_id"
	                      " ORDER BY e.ecosystem",
	                      &st);

	return r < 0 ? r : store_walk(s, st, eco_row, &w);
}

static int match_bind_run(struct store *s, sqlite3_stmt *st, int64_t build_id,
                          const struct store_match *m)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, build_id);
	store_bind_text(st, 2, m->advisory);
	store_bind_text(st, 3, m->package);
	store_bind_text(st, 4, m->ecosystem);
	store_bind_text(st, 5, m->installed);
	store_bind_text(st, 6, m->fixed);
	store_bind_text(st, 7, m->state);
	store_bind_u64(st, 8, m->seen_at);
	store_bind_text(st, 9, m->pin_file);
	if (m->pin_file) {
		sqlite3_bind_int(st, 10, m->pin_line);
		sqlite3_bind_int(st, 11, m->pin_col);
	} else {
		sqlite3_bind_null(st, 10);
		sqlite3_bind_null(st, 11);
	}
	store_bind_text(st, 12, m->pin_file ? m->pin_version : NULL);
	store_bind_text(st, 13, m->pin_file ? m->pin_package : NULL);
	rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : store_sql_err(s, rc, "match put");
}

struct matches_args {
	int64_t build_id;
	const struct store_match *m;
	size_t n;
};

static int matches_tx(struct store *s, void *arg)
{
	struct matches_args *a = arg;
	sqlite3_stmt *st;
	int r = delete_rows(s, "DELETE FROM build_advisories WHERE build_id = ?1", a->build_id);

	if (r == 0)
		r = store_prepare(
		        s,
		        "INSERT OR REPLACE INTO build_advisories(build_id, advisory, package,"
		        " ecosystem, installed, fixed, state, seen_at, pin_file, pin_line, pin_col,"
		        " pin_version, pin_package)"
		        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
		        &st);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < a->n; i++)
		r = match_bind_run(s, st, a->build_id, &a->m[i]);
	sqlite3_finalize(st);
	return r;
}

int store_matches_put(struct store *s, int64_t build_id, const struct store_match *m, size_t n)
{
	struct matches_args a = {build_id, m, n};

	return store_transaction(s, matches_tx, &a);
}

int store_match_state(struct store *s, int64_t build_id, const char *advisory, const char *package,
                      const char *state, uint64_t seen_at)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "UPDATE build_advisories SET state = ?4, seen_at = ?5"
	                      " WHERE build_id = ?1 AND advisory = ?2 AND package = ?3",
	                      &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, build_id);
	store_bind_text(st, 2, advisory);
	store_bind_text(st, 3, package);
	store_bind_text(st, 4, state);
	store_bind_u64(st, 5, seen_at);
	return store_run(s, st);
}

int store_match_seen_before(struct store *s, const char *project, const char *env, int64_t build_id,
                            const char *advisory, const char *package)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s,
	                          "SELECT count(*) FROM build_advisories WHERE build_id = ("
	                          "  SELECT max(id) FROM builds WHERE project = ?1 AND env = ?2"
	                          "  AND status = 'succeeded' AND id < ?3)"
	                          " AND advisory = ?4 AND package = ?5",
	                          &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	store_bind_text(st, 2, env);
	sqlite3_bind_int64(st, 3, build_id);
	store_bind_text(st, 4, advisory);
	store_bind_text(st, 5, package);
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) > 0
	                     : store_sql_err(s, rc, "match seen before");
	sqlite3_finalize(st);
	return r;
}

struct match_walk {
	int (*cb)(const struct store_match *m, void *arg);
	void *arg;
};

static int match_row(sqlite3_stmt *st, void *arg)
{
	struct match_walk *w = arg;
	struct store_match m = {text(st, 0),
	                        text(st, 1),
	                        text(st, 2),
	                        text(st, 3),
	                        text(st, 4),
	                        text(st, 5),
	                        u64(st, 6),
	                        text(st, 7),
	                        sqlite3_column_int(st, 8),
	                        sqlite3_column_int(st, 9),
	                        text(st, 10),
	                        text(st, 11)};

	return w->cb(&m, w->arg);
}

int store_matches_each(struct store *s, int64_t build_id,
                       int (*cb)(const struct store_match *m, void *arg), void *arg)
{
	struct match_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "SELECT advisory, package, ecosystem, installed, fixed, state, seen_at, pin_file,"
	        " pin_line, pin_col, pin_version, pin_package"
	        " FROM build_advisories WHERE build_id = ?1 ORDER BY advisory, package",
	        &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, build_id);
	return store_walk(s, st, match_row, &w);
}

struct current_walk {
	int (*cb)(const struct store_current *c, void *arg);
	void *arg;
};

static int current_row(sqlite3_stmt *st, void *arg)
{
	struct current_walk *w = arg;
	struct store_current c = {text(st, 0), text(st, 1), text(st, 2),
	                          sqlite3_column_int64(st, 3)};

	return w->cb(&c, w->arg);
}

int store_current_each(struct store *s, int (*cb)(const struct store_current *c, void *arg),
                       void *arg)
{
	struct current_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s, CURRENT_SQL " ORDER BY b.project, b.env", &st);

	return r < 0 ? r : store_walk(s, st, current_row, &w);
}

int store_current_changed_each(struct store *s, int (*cb)(const struct store_current *c, void *arg),
                               void *arg)
{
	struct current_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      CURRENT_SQL " WHERE EXISTS (SELECT 1 FROM inventory_pkgs p"
	                                  " JOIN advisory_changes c ON c.ecosystem = p.ecosystem"
	                                  " AND c.package IN (p.name, p.source)"
	                                  " WHERE p.build_id = b.id) ORDER BY b.project, b.env",
	                      &st);

	return r < 0 ? r : store_walk(s, st, current_row, &w);
}

int store_changes_clear(struct store *s)
{
	return store_exec(s, "DELETE FROM advisory_changes");
}

int store_previous_inventory_build(struct store *s, int64_t build_id, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s,
	                          "SELECT max(c.id) FROM builds c JOIN inventories i"
	                          " ON i.build_id = c.id JOIN builds b ON b.id = ?1"
	                          " WHERE c.project = b.project AND c.env = b.env AND c.id < ?1"
	                          " AND c.status = 'succeeded'",
	                          &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, build_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*ret = sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_ROW ? -ENOENT : store_sql_err(s, rc, "previous inventory");
	sqlite3_finalize(st);
	return r;
}
