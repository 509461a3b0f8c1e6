/*
 * store_query — read-only queries of the store for the REST API and metrics.
 *
 * Part of the store module (it shares struct store through store_impl.h).
 * Everything here only reads, except store_probe_writable which takes and
 * releases the write lock without writing a row.
 */
#include "store_query.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_impl.h"

#define BUILD_COLS                                                                             \
	"id, project, env, trigger, reasons, status, queued_at, started_at, finished_at,"      \
	" engine, image_id, digest, base_name, base_digest, tags, log_path, error, pruned_at," \
	" builder, failed_step, log_error"
#define BASE_COLS                                                                          \
	"b.digest, b.index_digest, b.candidate, b.error, b.candidate_since, b.first_seen," \
	" b.checked_at, b.changed_at"

static const char *text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static uint64_t u64(sqlite3_stmt *st, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(st, col);
	return v > 0 ? (uint64_t)v : 0;
}

/* Steps st to the end, handing each row to row(st, arg); finalizes st. */
struct build_walk {
	store_build_cb cb;
	void *arg;
	int rows;
};

static int build_row(sqlite3_stmt *st, void *arg)
{
	struct build_walk *w = arg;
	struct store_build b = {
	        .project = text(st, 1),
	        .env = text(st, 2),
	        .trigger = text(st, 3),
	        .reasons = text(st, 4),
	        .status = text(st, 5),
	        .queued_at = u64(st, 6),
	        .started_at = u64(st, 7),
	        .finished_at = u64(st, 8),
	        .engine = text(st, 9),
	        .image_id = text(st, 10),
	        .digest = text(st, 11),
	        .base_name = text(st, 12),
	        .base_digest = text(st, 13),
	        .tags = text(st, 14),
	        .log_path = text(st, 15),
	        .error = text(st, 16),
	        .pruned_at = u64(st, 17),
	        .builder = text(st, 18),
	        .failed_step = text(st, 19),
	        .log_error = text(st, 20),
	};

	w->rows++;
	return w->cb(sqlite3_column_int64(st, 0), &b, w->arg);
}

int store_builds_each(struct store *s, const struct store_build_filter *f, store_build_cb cb,
                      void *arg)
{
	struct build_walk w = {cb, arg, 0};
	sqlite3_stmt *st;
	char sql[512];
	int r;

	/* Only the filters given are in the WHERE clause, so that SQLite walks the rowid range
	 * or an index down from the cursor and stops after limit rows: a page costs the same at
	 * any depth (an "?1 IS NULL OR" form made it scan the table). */
	snprintf(sql, sizeof(sql),
	         "SELECT " BUILD_COLS " FROM builds WHERE 1%s%s%s%s"
	         " ORDER BY id DESC LIMIT :limit",
	         f->project ? " AND project = :project" : "", f->env ? " AND env = :env" : "",
	         f->status ? " AND status = :status" : "",
	         f->before > 0 ? " AND id < :before" : "");
	r = store_prepare(s, sql, &st);
	if (r < 0)
		return r;
	store_bind_text(st, sqlite3_bind_parameter_index(st, ":project"), f->project);
	store_bind_text(st, sqlite3_bind_parameter_index(st, ":env"), f->env);
	store_bind_text(st, sqlite3_bind_parameter_index(st, ":status"), f->status);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":before"), f->before);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), f->limit);
	return store_walk(s, st, build_row, &w);
}

int store_build_get(struct store *s, int64_t id, store_build_cb cb, void *arg)
{
	struct build_walk w = {cb, arg, 0};
	sqlite3_stmt *st;
	int r = store_prepare(s, "SELECT " BUILD_COLS " FROM builds WHERE id = ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = store_walk(s, st, build_row, &w);
	return r == 0 && w.rows == 0 ? -ENOENT : r;
}

int store_builds_latest_each(struct store *s, const char *project, store_build_cb cb, void *arg)
{
	struct build_walk w = {cb, arg, 0};
	sqlite3_stmt *st;
	/*
	 * The (project, env) pairs by skipping through the builds_project index (a seek
	 * per pair, not a scan of history), then each pair's newest build and newest
	 * success that IMAGE:ENV served (its tags name ENV or REPO:ENV; a build waiting
	 * for its window does not), walking back from its end.
	 */
	int r = store_prepare(
	        s,
	        "WITH RECURSIVE"
	        " p(project) AS (SELECT CASE WHEN ?1 IS NULL THEN (SELECT min(project) FROM builds)"
	        "  ELSE ?1 END"
	        "  UNION ALL SELECT (SELECT min(project) FROM builds WHERE project > p.project)"
	        "  FROM p WHERE ?1 IS NULL AND p.project IS NOT NULL),"
	        " pe(project, env) AS (SELECT p.project,"
	        "  (SELECT min(env) FROM builds WHERE project = p.project)"
	        "  FROM p WHERE p.project IS NOT NULL"
	        "  UNION ALL SELECT pe.project, (SELECT min(env) FROM builds"
	        "  WHERE project = pe.project AND env > pe.env) FROM pe WHERE pe.env IS NOT NULL)"
	        " SELECT " BUILD_COLS " FROM builds WHERE id IN ("
	        "  SELECT (SELECT max(id) FROM builds b WHERE b.project = pe.project"
	        "   AND b.env = pe.env) FROM pe WHERE pe.env IS NOT NULL"
	        "  UNION SELECT (SELECT id FROM builds b WHERE b.project = pe.project"
	        "   AND b.env = pe.env AND b.status = 'succeeded' AND (b.tags IS NULL"
	        "   OR instr(',' || b.tags || ',', ',' || b.env || ',') > 0"
	        "   OR instr(b.tags || ',', ':' || b.env || ',') > 0) ORDER BY id DESC LIMIT 1)"
	        "  FROM pe WHERE pe.env IS NOT NULL)"
	        " ORDER BY project, env, id",
	        &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	return store_walk(s, st, build_row, &w);
}

struct engine_walk {
	int (*cb)(const struct store_engine *e, void *arg);
	void *arg;
};

static int engine_row(sqlite3_stmt *st, void *arg)
{
	struct engine_walk *w = arg;
	struct store_engine e = {
	        .host = text(st, 0),
	        .api_version = text(st, 1),
	        .engine_version = text(st, 2),
	        .os = text(st, 3),
	        .arch = text(st, 4),
	        .podman = sqlite3_column_int(st, 5) != 0,
	        .reachable = sqlite3_column_int(st, 6) != 0,
	        .error = text(st, 7),
	        .checked_at = u64(st, 8),
	        .builder = text(st, 9),
	};

	return w->cb(&e, w->arg);
}

int store_engines_each(struct store *s, int (*cb)(const struct store_engine *e, void *arg),
                       void *arg)
{
	struct engine_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "SELECT host, api_version, engine_version, os, arch, podman, reachable,"
	        " error, checked_at, builder FROM engines ORDER BY host",
	        &st);

	return r < 0 ? r : store_walk(s, st, engine_row, &w);
}

struct base_walk {
	store_base_cb cb;
	void *arg;
};

/* Columns: ref, platform, BASE_COLS (8), then project and envs when present. */
static int base_row(sqlite3_stmt *st, void *arg)
{
	struct base_walk *w = arg;
	struct store_base_row b = {
	        .ref = text(st, 0),
	        .platform = text(st, 1),
	        .digest = text(st, 2),
	        .index_digest = text(st, 3),
	        .candidate = text(st, 4),
	        .error = text(st, 5),
	        .candidate_since = u64(st, 6),
	        .first_seen = u64(st, 7),
	        .checked_at = u64(st, 8),
	        .changed_at = u64(st, 9),
	};

	if (sqlite3_column_count(st) > 11) {
		b.project = text(st, 10);
		b.envs = text(st, 11);
	}
	return w->cb(&b, w->arg);
}

int store_bases_each(struct store *s, store_base_cb cb, void *arg)
{
	struct base_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT b.ref, b.platform, " BASE_COLS
	                      " FROM bases b ORDER BY b.ref, b.platform",
	                      &st);

	return r < 0 ? r : store_walk(s, st, base_row, &w);
}

int store_project_bases_each(struct store *s, const char *project, store_base_cb cb, void *arg)
{
	struct base_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT p.ref, p.platform, " BASE_COLS ", p.project, p.envs"
	                      " FROM project_bases p LEFT JOIN bases b"
	                      " ON b.ref = p.ref AND b.platform = p.platform"
	                      " WHERE ?1 IS NULL OR p.project = ?1"
	                      " ORDER BY p.project, p.ref, p.platform",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	return store_walk(s, st, base_row, &w);
}

int store_trigger_pending_id(struct store *s, const char *project, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(
	                s, "SELECT id FROM triggers WHERE project = ?1 AND state = 'pending'", &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, "trigger lookup");
	sqlite3_finalize(st);
	return r;
}

struct count_walk {
	int (*cb)(const char *project, const char *env, const char *status, int64_t n, void *arg);
	void *arg;
};

static int count_row(sqlite3_stmt *st, void *arg)
{
	struct count_walk *w = arg;
	return w->cb(text(st, 0), text(st, 1), text(st, 2), sqlite3_column_int64(st, 3), w->arg);
}

int store_build_counts_each(struct store *s,
                            int (*cb)(const char *project, const char *env, const char *status,
                                      int64_t n, void *arg),
                            void *arg)
{
	struct count_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT project, env, status, n FROM build_counts WHERE n > 0"
	                      " ORDER BY project, env, status",
	                      &st);

	return r < 0 ? r : store_walk(s, st, count_row, &w);
}

struct duration_walk {
	store_duration_cb cb;
	void *arg;
};

static int duration_row(sqlite3_stmt *st, void *arg)
{
	struct duration_walk *w = arg;
	return w->cb(text(st, 0), text(st, 1), (unsigned)sqlite3_column_int(st, 2), u64(st, 3),
	             u64(st, 4), w->arg);
}

int store_build_durations_each(struct store *s, store_duration_cb cb, void *arg)
{
	struct duration_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT project, env, bucket, n, sum_ms FROM build_durations"
	                      " WHERE n > 0 ORDER BY project, env, bucket",
	                      &st);

	return r < 0 ? r : store_walk(s, st, duration_row, &w);
}

struct kind_walk {
	int (*cb)(const char *kind, const char *state, int64_t n, void *arg);
	void *arg;
};

static int kind_row(sqlite3_stmt *st, void *arg)
{
	struct kind_walk *w = arg;
	return w->cb(text(st, 0), text(st, 1), sqlite3_column_int64(st, 2), w->arg);
}

int store_trigger_counts_each(struct store *s,
                              int (*cb)(const char *kind, const char *state, int64_t n, void *arg),
                              void *arg)
{
	struct kind_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "SELECT kind, state, count(*) FROM triggers GROUP BY kind, state"
	                      " ORDER BY kind, state",
	                      &st);

	return r < 0 ? r : store_walk(s, st, kind_row, &w);
}

int store_probe_writable(struct store *s, char *err, size_t errlen)
{
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "the state database does not take writes: %s",
		         sqlite3_errmsg(s->db));
		return rc == SQLITE_BUSY ? -EBUSY : rc == SQLITE_READONLY ? -EROFS : -EIO;
	}
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return 0;
}
