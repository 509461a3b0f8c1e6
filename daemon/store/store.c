#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_impl.h"

/*
 * Forward migrations: migrations[i] takes the schema from version i to i+1.
 * Never edit a released step; append a new one.
 */
/* Whether build row R counts in the duration histogram, and its bucket (see 14 -> 15). */
#define DURATION_OF(r)                                                                        \
	r ".status IN ('succeeded', 'failed') AND " r ".started_at > 0 AND " r ".finished_at" \
	  " >= " r ".started_at"
#define DURATION_BUCKET(r)                                               \
	"CASE WHEN " r ".finished_at - " r ".started_at <= 30000 THEN 0" \
	" WHEN " r ".finished_at - " r ".started_at <= 60000 THEN 1"     \
	" WHEN " r ".finished_at - " r ".started_at <= 120000 THEN 2"    \
	" WHEN " r ".finished_at - " r ".started_at <= 300000 THEN 3"    \
	" WHEN " r ".finished_at - " r ".started_at <= 600000 THEN 4"    \
	" WHEN " r ".finished_at - " r ".started_at <= 1200000 THEN 5"   \
	" WHEN " r ".finished_at - " r ".started_at <= 1800000 THEN 6"   \
	" WHEN " r ".finished_at - " r ".started_at <= 3600000 THEN 7"   \
	" WHEN " r ".finished_at - " r ".started_at <= 7200000 THEN 8 ELSE 9 END"

static const char *const migrations[] = {
        /* 0 -> 1 */
        "CREATE TABLE engines("
        "  host TEXT PRIMARY KEY, api_version TEXT, engine_version TEXT, os TEXT,"
        "  arch TEXT, podman INTEGER NOT NULL DEFAULT 0, reachable INTEGER NOT NULL,"
        "  error TEXT, checked_at INTEGER NOT NULL);"
        "CREATE TABLE projects("
        "  name TEXT PRIMARY KEY, image TEXT, state TEXT NOT NULL DEFAULT 'new',"
        "  created_at INTEGER NOT NULL);"
        "CREATE TABLE bases("
        "  ref TEXT NOT NULL, platform TEXT NOT NULL, digest TEXT, index_digest TEXT,"
        "  media_type TEXT, first_seen INTEGER, checked_at INTEGER, changed_at INTEGER,"
        "  candidate TEXT, candidate_since INTEGER, error TEXT,"
        "  PRIMARY KEY(ref, platform));"
        "CREATE TABLE builds("
        "  id INTEGER PRIMARY KEY, project TEXT NOT NULL, env TEXT NOT NULL,"
        "  trigger TEXT NOT NULL, reasons TEXT, status TEXT NOT NULL,"
        "  queued_at INTEGER, started_at INTEGER, finished_at INTEGER, engine TEXT,"
        "  image_id TEXT, digest TEXT, base_name TEXT, base_digest TEXT, tags TEXT,"
        "  log_path TEXT, error TEXT);"
        "CREATE INDEX builds_project ON builds(project, env, id);"
        "CREATE TABLE triggers("
        "  id INTEGER PRIMARY KEY, project TEXT NOT NULL, kind TEXT NOT NULL,"
        "  reasons TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
        "  state TEXT NOT NULL DEFAULT 'pending', build_id INTEGER);"
        "CREATE UNIQUE INDEX triggers_one_pending ON triggers(project) WHERE state = 'pending';"
        "CREATE TABLE events("
        "  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, project TEXT,"
        "  message TEXT);",
        /* 1 -> 2: which project uses which base (for the API and triggers) */
        "CREATE TABLE project_bases("
        "  project TEXT NOT NULL, ref TEXT NOT NULL, platform TEXT NOT NULL,"
        "  envs TEXT NOT NULL, PRIMARY KEY(project, ref, platform));"
        "CREATE INDEX project_bases_ref ON project_bases(ref, platform);",
        /* 2 -> 3: security feeds, image inventories and what they match */
        "CREATE TABLE feeds("
        "  name TEXT NOT NULL, scope TEXT NOT NULL, watermark TEXT, etag TEXT,"
        "  last_modified TEXT, polled_at INTEGER, ok_at INTEGER, changed_at INTEGER,"
        "  error TEXT, records INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(name, scope));"
        "CREATE TABLE advisories("
        "  feed TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL,"
        "  ecosystem TEXT NOT NULL, package TEXT NOT NULL, modified TEXT, summary TEXT,"
        "  aliases TEXT, affected TEXT NOT NULL, versions TEXT,"
        "  withdrawn INTEGER NOT NULL DEFAULT 0,"
        "  seen_at INTEGER NOT NULL, poll INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY(feed, id, ecosystem, package));"
        "CREATE INDEX advisories_pkg ON advisories(ecosystem, package);"
        "CREATE INDEX advisories_scope ON advisories(feed, scope);"
        "CREATE TABLE inventories("
        "  build_id INTEGER PRIMARY KEY, os_id TEXT, os_version TEXT, ecosystem TEXT,"
        "  packages INTEGER NOT NULL DEFAULT 0, read_at INTEGER NOT NULL, error TEXT);"
        "CREATE TABLE inventory_pkgs("
        "  build_id INTEGER NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL,"
        "  version TEXT NOT NULL, source TEXT, source_version TEXT);"
        "CREATE INDEX inventory_pkgs_build ON inventory_pkgs(build_id);"
        "CREATE TABLE build_advisories("
        "  build_id INTEGER NOT NULL, advisory TEXT NOT NULL, package TEXT NOT NULL,"
        "  ecosystem TEXT NOT NULL, installed TEXT, fixed TEXT, state TEXT NOT NULL,"
        "  seen_at INTEGER, PRIMARY KEY(build_id, advisory, package));"
        "CREATE TABLE advisory_changes("
        "  ecosystem TEXT NOT NULL, package TEXT NOT NULL,"
        "  PRIMARY KEY(ecosystem, package)) WITHOUT ROWID;",
        /* 3 -> 4: when the retention policy removed a build's log and inventory */
        "ALTER TABLE builds ADD COLUMN pruned_at INTEGER;"
        "CREATE INDEX builds_unpruned ON builds(id) WHERE pruned_at IS NULL;",
        /* 4 -> 5: webhook deliveries not made yet; hook is the sha256 of the URL, which
         * may hold a token and is not kept here; ids are never reused: X-Refit-Delivery */
        "CREATE TABLE outbox("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT, hook TEXT NOT NULL, event TEXT NOT NULL,"
        "  body TEXT NOT NULL, created_at INTEGER NOT NULL);",
        /* 5 -> 6: the current image of each environment (its newest succeeded build with an
         * inventory) and each inventory's ecosystems, kept as state by triggers: the feed
         * rounds and advisory scans read these instead of ranking all of history. */
        "CREATE TABLE current_images("
        "  project TEXT NOT NULL, env TEXT NOT NULL, build_id INTEGER NOT NULL,"
        "  PRIMARY KEY(project, env)) WITHOUT ROWID;"
        "CREATE INDEX current_images_build ON current_images(build_id);"
        "CREATE TABLE inventory_ecosystems("
        "  build_id INTEGER NOT NULL, ecosystem TEXT NOT NULL,"
        "  PRIMARY KEY(build_id, ecosystem)) WITHOUT ROWID;"
        "INSERT INTO current_images(project, env, build_id)"
        "  SELECT b.project, b.env, max(b.id) FROM builds b JOIN inventories i"
        "  ON i.build_id = b.id WHERE b.status = 'succeeded' GROUP BY b.project, b.env;"
        "INSERT INTO inventory_ecosystems(build_id, ecosystem)"
        "  SELECT DISTINCT build_id, ecosystem FROM inventory_pkgs;"
        "CREATE TRIGGER inventory_pkgs_ecosystem AFTER INSERT ON inventory_pkgs BEGIN"
        "  INSERT OR IGNORE INTO inventory_ecosystems(build_id, ecosystem)"
        "  VALUES(new.build_id, new.ecosystem);"
        "END;"
        "CREATE TRIGGER current_by_inventory AFTER INSERT ON inventories BEGIN"
        "  INSERT OR REPLACE INTO current_images(project, env, build_id)"
        "  SELECT b.project, b.env, b.id FROM builds b"
        "  WHERE b.id = new.build_id AND b.status = 'succeeded' AND b.id >= coalesce("
        "    (SELECT c.build_id FROM current_images c"
        "     WHERE c.project = b.project AND c.env = b.env), 0);"
        "END;"
        "CREATE TRIGGER current_by_success AFTER UPDATE OF status ON builds"
        "  WHEN new.status = 'succeeded' BEGIN"
        "  INSERT OR REPLACE INTO current_images(project, env, build_id)"
        "  SELECT new.project, new.env, new.id"
        "  WHERE EXISTS (SELECT 1 FROM inventories WHERE build_id = new.id) AND new.id >= coalesce("
        "    (SELECT c.build_id FROM current_images c"
        "     WHERE c.project = new.project AND c.env = new.env), 0);"
        "END;"
        /* An inventory removed: the environment falls back to its newest other one. */
        "CREATE TRIGGER inventory_gone AFTER DELETE ON inventories BEGIN"
        "  DELETE FROM inventory_ecosystems WHERE build_id = old.build_id;"
        "END;"
        "CREATE TRIGGER current_inventory_gone AFTER DELETE ON inventories"
        "  WHEN EXISTS (SELECT 1 FROM current_images WHERE build_id = old.build_id) BEGIN"
        "  DELETE FROM current_images WHERE build_id = old.build_id;"
        "  INSERT INTO current_images(project, env, build_id)"
        "  SELECT b.project, b.env, max(b.id) FROM builds o JOIN builds b"
        "  ON b.project = o.project AND b.env = o.env JOIN inventories i ON i.build_id = b.id"
        "  WHERE o.id = old.build_id AND b.status = 'succeeded' GROUP BY b.project, b.env;"
        "END;",
        /* 6 -> 7: which builder made a build (buildkit, classic, podman), and the step a
         * failed build failed at */
        "ALTER TABLE builds ADD COLUMN builder TEXT;"
        "ALTER TABLE builds ADD COLUMN failed_step TEXT;",
        /* 7 -> 8: /v1/builds pages by keyset on the rowid: per project, and per status */
        "CREATE INDEX builds_project_id ON builds(project, id);"
        "CREATE INDEX builds_status_id ON builds(status, id);",
        /* 8 -> 9: the builder each engine builds with (buildkit, classic, podman) */
        "ALTER TABLE engines ADD COLUMN builder TEXT;",
        /* 9 -> 10: a retry waits until not_before (wall clock ms; 0: at once), so that
         * the backoff survives a restart and a manual rebuild can cut it short; a
         * trigger may name the environments it rebuilds (envs, comma-separated); an
         * environment held by hand or by a rollback is not rebuilt until released */
        "ALTER TABLE triggers ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE triggers ADD COLUMN envs TEXT;" /* NULL: every environment */
        "CREATE TABLE holds("
        "  project TEXT NOT NULL, env TEXT NOT NULL, since INTEGER NOT NULL,"
        "  reason TEXT NOT NULL, PRIMARY KEY(project, env));",
        /* 10 -> 11: where the build context pins a matched package's version (state
         * needs-change): file relative to the context, line, column, the package as pinned
         * (Debian: the binary, where the advisory names the source), the version as written */
        "ALTER TABLE build_advisories ADD COLUMN pin_file TEXT;"
        "ALTER TABLE build_advisories ADD COLUMN pin_package TEXT;"
        "ALTER TABLE build_advisories ADD COLUMN pin_line INTEGER;"
        "ALTER TABLE build_advisories ADD COLUMN pin_col INTEGER;"
        "ALTER TABLE build_advisories ADD COLUMN pin_version TEXT;",
        /* 11 -> 12: evidence: each package's architecture and licence where the database
         * says, and what refit captured just before a rebuild ran (the Dockerfile's
         * digest, the context's git commit, per environment the target, the build
         * arguments without secret values and the bases with their digests, as JSON);
         * a build's inputs are the latest row of its project captured before it */
        "ALTER TABLE inventory_pkgs ADD COLUMN arch TEXT;"
        "ALTER TABLE inventory_pkgs ADD COLUMN license TEXT;"
        "CREATE TABLE build_inputs("
        "  project TEXT NOT NULL, after_build INTEGER NOT NULL, at INTEGER NOT NULL, image TEXT,"
        "  refit_version TEXT, engine TEXT, engine_version TEXT, platform TEXT,"
        "  dockerfile TEXT, dockerfile_digest TEXT, git_commit TEXT, git_source TEXT,"
        "  envs TEXT NOT NULL, PRIMARY KEY(project, after_build)) WITHOUT ROWID;",
        /* 12 -> 13: why a build's log could not be written (the build went on without it) */
        "ALTER TABLE builds ADD COLUMN log_error TEXT;",
        /* 13 -> 14: newer tags of version-pinned bases, per project (its policy) and base;
         * notified: the newest tag an outdated event was sent for */
        "CREATE TABLE base_tags("
        "  project TEXT NOT NULL, ref TEXT NOT NULL, tag TEXT NOT NULL, policy TEXT NOT NULL,"
        "  newest TEXT, notified TEXT, checked_at INTEGER NOT NULL, error TEXT,"
        "  PRIMARY KEY(project, ref)) WITHOUT ROWID;",
        /* clang-format off */
        /* 14 -> 15: what /metrics reports of all history, kept as state by triggers
         * (it was two scans of every build per scrape: 0.9 s at 100,000 builds):
         * builds per (project, env, status), and the duration histogram of finished
         * builds per (project, env) in metrics.c's buckets (seconds <= 30, 60, 120,
         * 300, 600, 1200, 1800, 3600, 7200, +Inf: bucket 0..9). */
        "CREATE TABLE build_counts(project TEXT NOT NULL, env TEXT NOT NULL,"
        "  status TEXT NOT NULL, n INTEGER NOT NULL,"
        "  PRIMARY KEY(project, env, status)) WITHOUT ROWID;"
        "CREATE TABLE build_durations(project TEXT NOT NULL, env TEXT NOT NULL,"
        "  bucket INTEGER NOT NULL, n INTEGER NOT NULL, sum_ms INTEGER NOT NULL,"
        "  PRIMARY KEY(project, env, bucket)) WITHOUT ROWID;"
        "INSERT INTO build_counts SELECT project, env, status, count(*) FROM builds"
        "  GROUP BY project, env, status;"
        "INSERT INTO build_durations SELECT project, env, " DURATION_BUCKET("builds") ","
        "  count(*), sum(finished_at - started_at) FROM builds WHERE " DURATION_OF("builds")
        "  GROUP BY 1, 2, 3;"
        "CREATE TRIGGER build_counted AFTER INSERT ON builds BEGIN"
        "  INSERT INTO build_counts VALUES(new.project, new.env, new.status, 1)"
        "  ON CONFLICT DO UPDATE SET n = n + 1;"
        "  INSERT INTO build_durations SELECT new.project, new.env, " DURATION_BUCKET("new") ","
        "  1, new.finished_at - new.started_at WHERE " DURATION_OF("new")
        "  ON CONFLICT DO UPDATE SET n = n + 1, sum_ms = sum_ms + excluded.sum_ms;"
        "END;"
        "CREATE TRIGGER build_recounted AFTER UPDATE OF status, started_at, finished_at"
        "  ON builds BEGIN"
        "  UPDATE build_counts SET n = n - 1 WHERE project = old.project AND env = old.env"
        "  AND status = old.status;"
        "  INSERT INTO build_counts VALUES(new.project, new.env, new.status, 1)"
        "  ON CONFLICT DO UPDATE SET n = n + 1;"
        "  UPDATE build_durations SET n = n - 1,"
        "  sum_ms = sum_ms - (old.finished_at - old.started_at)"
        "  WHERE " DURATION_OF("old") " AND project = old.project AND env = old.env"
        "  AND bucket = " DURATION_BUCKET("old") ";"
        "  INSERT INTO build_durations SELECT new.project, new.env, " DURATION_BUCKET("new") ","
        "  1, new.finished_at - new.started_at WHERE " DURATION_OF("new")
        "  ON CONFLICT DO UPDATE SET n = n + 1, sum_ms = sum_ms + excluded.sum_ms;"
        "END;"
        "CREATE TRIGGER build_uncounted AFTER DELETE ON builds BEGIN"
        "  UPDATE build_counts SET n = n - 1 WHERE project = old.project AND env = old.env"
        "  AND status = old.status;"
        "  UPDATE build_durations SET n = n - 1,"
        "  sum_ms = sum_ms - (old.finished_at - old.started_at)"
        "  WHERE " DURATION_OF("old") " AND project = old.project AND env = old.env"
        "  AND bucket = " DURATION_BUCKET("old") ";"
        "END;"
        "CREATE INDEX builds_log_error ON builds(id) WHERE log_error IS NOT NULL;",
        /* clang-format on */
        /* 15 -> 16: promotions waiting for their environment's window: the build pushed
         * under its stamp tag whose IMAGE:ENV moves when the window opens (one per env) */
        "CREATE TABLE promotions("
        "  project TEXT NOT NULL, env TEXT NOT NULL, build_id INTEGER NOT NULL,"
        "  stamp_tag TEXT NOT NULL, digest TEXT NOT NULL, since INTEGER NOT NULL,"
        "  PRIMARY KEY(project, env)) WITHOUT ROWID;",
        /* 16 -> 17: `follow:` — the newer value of the ARG making up a FROM's version tag
         * an environment builds with (value), the tag it yields, and the ARG's own value */
        "CREATE TABLE follows("
        "  project TEXT NOT NULL, env TEXT NOT NULL, arg TEXT NOT NULL, value TEXT NOT NULL,"
        "  tag TEXT NOT NULL, own TEXT NOT NULL, ref TEXT NOT NULL, policy TEXT NOT NULL,"
        "  updated_at INTEGER NOT NULL, PRIMARY KEY(project, env, arg)) WITHOUT ROWID;",
        /* 17 -> 18: each project's last success, kept by triggers, for the scheduler's
         * age pass over every project each minute (a query per project before) */
        "CREATE TABLE last_success(project TEXT PRIMARY KEY, finished_at INTEGER NOT NULL)"
        "  WITHOUT ROWID;"
        "INSERT INTO last_success SELECT project, max(finished_at) FROM builds"
        "  WHERE status = 'succeeded' AND finished_at IS NOT NULL GROUP BY project;"
        "CREATE TRIGGER last_success_insert AFTER INSERT ON builds"
        "  WHEN new.status = 'succeeded' AND new.finished_at IS NOT NULL BEGIN"
        "  INSERT INTO last_success VALUES(new.project, new.finished_at)"
        "  ON CONFLICT DO UPDATE SET finished_at = max(finished_at, excluded.finished_at);"
        "END;"
        "CREATE TRIGGER last_success_update AFTER UPDATE OF status, finished_at ON builds"
        "  WHEN new.status = 'succeeded' AND new.finished_at IS NOT NULL BEGIN"
        "  INSERT INTO last_success VALUES(new.project, new.finished_at)"
        "  ON CONFLICT DO UPDATE SET finished_at = max(finished_at, excluded.finished_at);"
        "END;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_sql_err(struct store *s, int rc, const char *what)
{
	log_err("store: %s: %s", what, sqlite3_errmsg(s->db));
	store_write_failed(s, rc);
	return (rc & 0xff) == SQLITE_FULL ? -ENOSPC
	       : rc == SQLITE_NOMEM       ? -ENOMEM
	       : rc == SQLITE_FULL        ? -ENOSPC
	                                  : -EIO;
}

int store_exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : store_sql_err(s, rc, sql);
}

static int read_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Applies every pending step, each in its own transaction with its version bump. */
static int migrate(struct store *s, char *err, size_t errlen)
{
	int v = read_version(s), from = v;

	if (v < 0) {
		snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	if (v > N_MIGRATIONS) {
		snprintf(err, errlen, "schema version %d is newer than this refitd (%d)", v,
		         N_MIGRATIONS);
		return -EPROTO;
	}
	for (; v < N_MIGRATIONS; v++) {
		char bump[64];
		int r;

		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		r = store_exec(s, "BEGIN IMMEDIATE");
		if (r == 0)
			r = store_exec(s, migrations[v]);
		if (r == 0)
			r = store_exec(s, bump);
		if (r == 0)
			r = store_exec(s, "COMMIT");
		if (r < 0) {
			snprintf(err, errlen, "migration to version %d failed: %s", v + 1,
			         sqlite3_errmsg(s->db));
			if (!sqlite3_get_autocommit(s->db))
				store_exec(s, "ROLLBACK");
			return r;
		}
	}
	if (from > 0 && from < v)
		log_info("store: migrated the schema from version %d to %d", from, v);
	s->version = v;
	return 0;
}

int store_open(const char *path, struct store **ret, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	bool fresh = false;
	int r = -EIO;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = store_guard_file(path, &fresh, err, errlen);
	if (r < 0)
		goto out;
	r = -EIO;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		         s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	r = store_guard_open(s, path, fresh, err, errlen);
	if (r < 0)
		goto out;
	r = -EIO;
	sqlite3_busy_timeout(s->db, 2000);
	sqlite3_extended_result_codes(s->db, 1);
	/* A 32 MiB page cache: the inventories of a busy host make the file hundreds of MB,
	 * and SQLite's default 2 MiB made retention rounds superlinear (bench_retention). */
	if (store_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                  "PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768") < 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		goto out;
	}
	r = migrate(s, err, errlen);
	if (r == 0)
		r = store_guard_mark(s, path, err, errlen);
	if (r < 0)
		goto out;
	*ret = s;
	s = NULL;
out:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_retry(s);
	store_deferred_drop(s);
	sqlite3_finalize(s->advisories_for);
	sqlite3_close(s->db);
	free(s);
}

uint64_t store_generation(struct store *s)
{
	return (uint64_t)sqlite3_total_changes64(s->db) + (s->health_changes << 40);
}

int store_schema_version(struct store *s)
{
	return s->version;
}

/* Inside another transaction, a savepoint: its failure undoes only its own writes. */
static int nested_transaction(struct store *s, int (*fn)(struct store *s, void *arg), void *arg)
{
	int r = store_exec(s, "SAVEPOINT nested");

	if (r < 0)
		return r;
	r = fn(s, arg);
	if (r < 0 && !sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK TO nested");
	if (!sqlite3_get_autocommit(s->db) && store_exec(s, "RELEASE nested") < 0 && r == 0)
		r = -EIO;
	return r;
}

int store_transaction(struct store *s, int (*fn)(struct store *s, void *arg), void *arg)
{
	int r;

	if (!sqlite3_get_autocommit(s->db))
		return nested_transaction(s, fn, arg);
	if ((r = store_exec(s, "BEGIN IMMEDIATE")) < 0)
		return r;
	r = fn(s, arg);
	if (r == 0)
		r = store_exec(s, "COMMIT");
	/* SQLite rolls back by itself after some failures (a full disk, an I/O error) */
	if (r < 0 && !sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK");
	if (r == 0)
		store_write_worked(s);
	return r;
}

/* Prepares sql and binds the NULL-terminated-by-count text/int arguments. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
	return rc == SQLITE_OK ? 0 : store_sql_err(s, rc, "prepare");
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Steps a statement that returns no rows, then finalizes it. */
int store_run(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : store_sql_err(s, rc, sqlite3_sql(st));

	sqlite3_finalize(st);
	if (r == 0)
		store_write_worked(s); /* when it committed: outside a transaction */
	return r;
}

int store_walk(struct store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *arg),
               void *arg)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = row(st, arg);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_err(s, rc, "query");
	sqlite3_finalize(st);
	return r;
}

int store_engine_update(struct store *s, const struct store_engine *e)
{
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "INSERT INTO engines(host, api_version, engine_version, os, arch, podman,"
	        " reachable, error, checked_at, builder) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
	        " ON CONFLICT(host) DO UPDATE SET"
	        " api_version = coalesce(?2, api_version),"
	        " engine_version = coalesce(?3, engine_version), os = coalesce(?4, os),"
	        " arch = coalesce(?5, arch), podman = ?6, reachable = ?7, error = ?8,"
	        " checked_at = ?9, builder = coalesce(?10, builder)",
	        &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, e->host);
	store_bind_text(st, 2, e->api_version);
	store_bind_text(st, 3, e->engine_version);
	store_bind_text(st, 4, e->os);
	store_bind_text(st, 5, e->arch);
	sqlite3_bind_int(st, 6, e->podman);
	sqlite3_bind_int(st, 7, e->reachable);
	store_bind_text(st, 8, e->error);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)e->checked_at);
	store_bind_text(st, 10, e->builder);
	return store_run(s, st);
}

int store_event_add(struct store *s, uint64_t at, const char *kind, const char *project,
                    const char *message)
{
	sqlite3_stmt *st;
	int r = store_prepare(
	        s, "INSERT INTO events(at, kind, project, message) VALUES(?1,?2,?3,?4)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, project);
	store_bind_text(st, 4, message);
	return store_run(s, st);
}

struct trigger_args {
	const char *project, *kind, *reason;
	uint64_t at;
	int64_t id;
	const char *env; /* NULL: every environment */
};

/* Merges into the pending trigger when there is one, else inserts a new one. */
static int trigger_add_tx(struct store *s, void *arg)
{
	struct trigger_args *a = arg;
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "UPDATE triggers SET updated_at = ?3,"
	        " kind = CASE WHEN ?4 = 'security' OR (?4 = 'manual' AND kind = 'retry')"
	        "   THEN ?4 ELSE kind END,"
	        " not_before = CASE WHEN ?4 = 'manual' THEN 0 ELSE not_before END,"
	        " reasons = CASE WHEN instr(char(10) || reasons || char(10),"
	        "   char(10) || ?2 || char(10)) THEN reasons"
	        "   ELSE reasons || char(10) || ?2 END"
	        " WHERE project = ?1 AND state = 'pending' RETURNING id",
	        &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, a->project, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, a->reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)a->at);
	sqlite3_bind_text(st, 4, a->kind, -1, SQLITE_TRANSIENT);
	store_bind_text(st, 5, a->env);
	if (sqlite3_step(st) == SQLITE_ROW) {
		a->id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	r = store_prepare(
	        s,
	        "INSERT INTO triggers(project, kind, reasons, created_at, updated_at, envs)"
	        " VALUES(?1, ?2, ?3, ?4, ?4, ?5)",
	        &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, a->project, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, a->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, a->reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)a->at);
	store_bind_text(st, 5, a->env);
	r = store_run(s, st);
	if (r == 0)
		a->id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int store_trigger_add(struct store *s, const char *project, const char *kind, const char *reason,
                      uint64_t at, int64_t *ret_id)
{
	return store_trigger_add_env(s, project, NULL, kind, reason, at, ret_id);
}

int store_trigger_add_env(struct store *s, const char *project, const char *env, const char *kind,
                          const char *reason, uint64_t at, int64_t *ret_id)
{
	struct trigger_args a = {project, kind, reason, at, 0, env};
	int r = store_transaction(s, trigger_add_tx, &a);

	if (r == 0 && ret_id)
		*ret_id = a.id;
	return r;
}

int store_trigger_pending_count(struct store *s)
{
	int64_t n = 0;
	int r = store_query_int(s, "SELECT count(*) FROM triggers WHERE state = 'pending'", &n);
	return r < 0 ? r : (int)n;
}

void store_copy_col(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	snprintf(buf, len, "%s", v ? (const char *)v : "");
}

int store_base_get(struct store *s, const char *ref, const char *platform, struct store_base *ret)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(
	                s,
	                "SELECT digest, index_digest, candidate, candidate_since, first_seen,"
	                " checked_at, changed_at FROM bases WHERE ref = ?1 AND platform = ?2",
	                &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, ref);
	store_bind_text(st, 2, platform);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		store_copy_col(st, 0, ret->digest, sizeof(ret->digest));
		store_copy_col(st, 1, ret->index_digest, sizeof(ret->index_digest));
		store_copy_col(st, 2, ret->candidate, sizeof(ret->candidate));
		ret->candidate_since = (uint64_t)sqlite3_column_int64(st, 3);
		ret->first_seen = (uint64_t)sqlite3_column_int64(st, 4);
		ret->checked_at = (uint64_t)sqlite3_column_int64(st, 5);
		ret->changed_at = (uint64_t)sqlite3_column_int64(st, 6);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, "base get");
	}
	sqlite3_finalize(st);
	return r;
}

static int base_put(struct store *s, const char *ref, const char *platform,
                    const struct store_base *b, const char *error)
{
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "INSERT INTO bases(ref, platform, digest, index_digest, candidate,"
	        " candidate_since, first_seen, checked_at, changed_at, error)"
	        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
	        " ON CONFLICT(ref, platform) DO UPDATE SET digest = ?3, index_digest = ?4,"
	        " candidate = ?5, candidate_since = ?6, first_seen = ?7, checked_at = ?8,"
	        " changed_at = ?9, error = ?10",
	        &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, ref);
	store_bind_text(st, 2, platform);
	store_bind_text(st, 3, b->digest[0] ? b->digest : NULL);
	store_bind_text(st, 4, b->index_digest[0] ? b->index_digest : NULL);
	store_bind_text(st, 5, b->candidate[0] ? b->candidate : NULL);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)b->candidate_since);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)b->first_seen);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)b->checked_at);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)b->changed_at);
	store_bind_text(st, 10, error);
	return store_run(s, st);
}

struct base_update {
	const char *ref, *platform;
	const struct store_base *b;
	const char *error;
	const char *const *projects;
	const char *reason;
	uint64_t at;
	int64_t *trigger_ids;
};

static int base_update_tx(struct store *s, void *arg)
{
	struct base_update *u = arg;
	int r = base_put(s, u->ref, u->platform, u->b, u->error);

	for (size_t i = 0; r == 0 && u->projects && u->projects[i]; i++) {
		struct trigger_args t = {u->projects[i], "base", u->reason, u->at, 0, NULL};
		r = trigger_add_tx(s, &t);
		if (r == 0 && u->trigger_ids)
			u->trigger_ids[i] = t.id;
	}
	return r;
}

int store_base_update(struct store *s, const char *ref, const char *platform,
                      const struct store_base *b, const char *error,
                      const char *const *trigger_projects, const char *reason, uint64_t at,
                      int64_t *ret_trigger_ids)
{
	struct base_update u = {ref, platform,       b, error, trigger_projects, reason,
	                        at,  ret_trigger_ids};

	return store_transaction(s, base_update_tx, &u);
}

struct checked_batch {
	const struct store_base_checked *v;
	size_t n;
};

static int checked_tx(struct store *s, void *arg)
{
	struct checked_batch *c = arg;
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "UPDATE bases SET checked_at = max(checked_at, ?3), error = NULL"
	                      " WHERE ref = ?1 AND platform = ?2",
	                      &st);

	for (size_t i = 0; r == 0 && i < c->n; i++) {
		store_bind_text(st, 1, c->v[i].ref);
		store_bind_text(st, 2, c->v[i].platform);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)c->v[i].at);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = store_sql_err(s, sqlite3_errcode(s->db), "bases checked");
		sqlite3_reset(st);
	}
	if (st)
		sqlite3_finalize(st);
	return r;
}

int store_bases_checked(struct store *s, const struct store_base_checked *v, size_t n)
{
	struct checked_batch c = {v, n};

	return n ? store_transaction(s, checked_tx, &c) : 0;
}

struct usage {
	const char *project;
	const struct store_base_use *uses;
	size_t n;
};

static int usage_tx(struct store *s, void *arg)
{
	struct usage *u = arg;
	sqlite3_stmt *st;
	int r = store_prepare(s, "DELETE FROM project_bases WHERE project = ?1", &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, u->project);
	r = store_run(s, st);
	for (size_t i = 0; r == 0 && i < u->n; i++) {
		r = store_prepare(s,
		                  "INSERT INTO project_bases(project, ref, platform, envs)"
		                  " VALUES(?1, ?2, ?3, ?4)",
		                  &st);
		if (r < 0)
			break;
		store_bind_text(st, 1, u->project);
		store_bind_text(st, 2, u->uses[i].ref);
		store_bind_text(st, 3, u->uses[i].platform);
		store_bind_text(st, 4, u->uses[i].envs);
		r = store_run(s, st);
	}
	return r;
}

/* Counts the rows of project_bases for u's project that match the sql's extra bindings. */
static int usage_count(struct store *s, const char *sql, const struct usage *u, size_t i,
                       int64_t *ret)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s, sql, &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, u->project);
	if (i < u->n) {
		store_bind_text(st, 2, u->uses[i].ref);
		store_bind_text(st, 3, u->uses[i].platform);
		store_bind_text(st, 4, u->uses[i].envs);
	}
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_sql_err(s, rc, "project bases");
}

/* True when the stored uses of the project are exactly u's (a restart or a reload that
 * changed nothing): then nothing is written, and no commit is paid per project. */
static bool usage_same(struct store *s, const struct usage *u)
{
	int64_t n;

	if (usage_count(s, "SELECT count(*) FROM project_bases WHERE project = ?1", u, u->n, &n) <
	            0 ||
	    (size_t)n != u->n)
		return false;
	for (size_t i = 0; i < u->n; i++)
		if (usage_count(s,
		                "SELECT count(*) FROM project_bases WHERE project = ?1 AND ref = ?2"
		                " AND platform = ?3 AND envs = ?4",
		                u, i, &n) < 0 ||
		    n != 1)
			return false;
	return true;
}

int store_project_bases_set(struct store *s, const char *project, const struct store_base_use *uses,
                            size_t n)
{
	struct usage u = {project, uses, n};

	return usage_same(s, &u) ? 0 : store_transaction(s, usage_tx, &u);
}

void store_bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, (sqlite3_int64)v);
	else
		sqlite3_bind_null(st, i);
}

int store_build_insert(struct store *s, const struct store_build *b, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "INSERT INTO builds(project, env, trigger, reasons, status, queued_at,"
	        " started_at, engine, log_path, builder) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	        &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, b->project);
	store_bind_text(st, 2, b->env);
	store_bind_text(st, 3, b->trigger);
	store_bind_text(st, 4, b->reasons);
	store_bind_text(st, 5, b->status);
	store_bind_u64(st, 6, b->queued_at);
	store_bind_u64(st, 7, b->started_at);
	store_bind_text(st, 8, b->engine);
	store_bind_text(st, 9, b->log_path);
	store_bind_text(st, 10, b->builder);
	r = store_run(s, st);
	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int store_build_update_now(struct store *s, int64_t id, const struct store_build *b)
{
	sqlite3_stmt *st;
	int r = store_prepare(
	        s,
	        "UPDATE builds SET status = coalesce(?2, status),"
	        " started_at = coalesce(?3, started_at),"
	        " finished_at = coalesce(?4, finished_at), image_id = coalesce(?5, image_id),"
	        " digest = coalesce(?6, digest), base_name = coalesce(?7, base_name),"
	        " base_digest = coalesce(?8, base_digest), tags = coalesce(?9, tags),"
	        " error = coalesce(?10, error), log_path = coalesce(?11, log_path),"
	        " builder = coalesce(?12, builder), failed_step = coalesce(?13, failed_step),"
	        " log_error = coalesce(?14, log_error) WHERE id = ?1",
	        &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, b->status);
	store_bind_u64(st, 3, b->started_at);
	store_bind_u64(st, 4, b->finished_at);
	store_bind_text(st, 5, b->image_id);
	store_bind_text(st, 6, b->digest);
	store_bind_text(st, 7, b->base_name);
	store_bind_text(st, 8, b->base_digest);
	store_bind_text(st, 9, b->tags);
	store_bind_text(st, 10, b->error);
	store_bind_text(st, 11, b->log_path);
	store_bind_text(st, 12, b->builder);
	store_bind_text(st, 13, b->failed_step);
	store_bind_text(st, 14, b->log_error);
	return store_run(s, st);
}

int store_triggers_pending(struct store *s, store_trigger_cb cb, void *arg)
{
	sqlite3_stmt *st;
	int rc, n = 0,
	        r = store_prepare(s,
	                          "SELECT id, project, kind, reasons, created_at, not_before, envs,"
	                          " EXISTS(SELECT 1 FROM holds h WHERE h.project = triggers.project"
	                          "  AND h.env = '*')"
	                          " FROM triggers WHERE state = 'pending' ORDER BY id",
	                          &st);

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_trigger t = {
		        .id = sqlite3_column_int64(st, 0),
		        .project = (const char *)sqlite3_column_text(st, 1),
		        .kind = (const char *)sqlite3_column_text(st, 2),
		        .reasons = (const char *)sqlite3_column_text(st, 3),
		        .created_at = (uint64_t)sqlite3_column_int64(st, 4),
		        .not_before = (uint64_t)sqlite3_column_int64(st, 5),
		        .envs = (const char *)sqlite3_column_text(st, 6),
		        .held = sqlite3_column_int(st, 7) != 0,
		};
		n++;
		if (cb(&t, arg))
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : store_sql_err(s, rc, "pending triggers");
}

int store_trigger_state_now(struct store *s, int64_t id, const char *state, int64_t build_id,
                            uint64_t at)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "UPDATE triggers SET state = ?2, updated_at = ?3,"
	                      " build_id = coalesce(?4, build_id) WHERE id = ?1",
	                      &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)at);
	if (build_id)
		sqlite3_bind_int64(st, 4, build_id);
	else
		sqlite3_bind_null(st, 4);
	return store_run(s, st);
}

static int recover_tx(struct store *s, void *arg)
{
	sqlite3_stmt *st;
	uint64_t at = *(uint64_t *)arg;
	int r = store_prepare(s,
	                      "UPDATE builds SET status = 'interrupted', finished_at = ?1,"
	                      " error = 'refitd stopped during the build'"
	                      " WHERE status IN ('queued', 'running')",
	                      &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
	r = store_run(s, st);
	/* A running trigger goes back to pending unless one is pending already
	 * (then the two merge: the pending one gets its reasons). */
	if (r == 0)
		r = store_exec(
		        s,
		        "UPDATE triggers SET reasons = reasons || char(10) || (SELECT group_concat("
		        "r.reasons, char(10)) FROM triggers r WHERE r.project = triggers.project"
		        " AND r.state = 'running') WHERE state = 'pending' AND project IN (SELECT"
		        " project FROM triggers WHERE state = 'running');"
		        "UPDATE triggers SET state = 'merged' WHERE state = 'running' AND project "
		        "IN"
		        " (SELECT project FROM triggers WHERE state = 'pending');"
		        "UPDATE triggers SET state = 'pending' WHERE state = 'running'");
	return r;
}

int store_recover(struct store *s, uint64_t at)
{
	return store_transaction(s, recover_tx, &at);
}

int store_last_success(struct store *s, const char *project, uint64_t *ret_at)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s, "SELECT finished_at FROM last_success WHERE project = ?1",
	                          &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_at = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, "last success");
	sqlite3_finalize(st);
	return r;
}

struct success_walk {
	int (*cb)(const char *project, uint64_t at, void *arg);
	void *arg;
};

static int success_row(sqlite3_stmt *st, void *arg)
{
	struct success_walk *w = arg;

	return w->cb((const char *)sqlite3_column_text(st, 0),
	             (uint64_t)sqlite3_column_int64(st, 1), w->arg);
}

int store_last_success_each(struct store *s, int (*cb)(const char *project, uint64_t at, void *arg),
                            void *arg)
{
	struct success_walk w = {cb, arg};
	sqlite3_stmt *st;
	int r = store_prepare(s, "SELECT project, finished_at FROM last_success", &st);

	return r < 0 ? r : store_walk(s, st, success_row, &w);
}

int store_last_engine(struct store *s, const char *project, char *buf, size_t len)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(
	                s,
	                "SELECT engine FROM builds WHERE project = ?1 AND engine IS NOT NULL"
	                " AND image_id IS NOT NULL ORDER BY id DESC LIMIT 1",
	                &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, project);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, "last engine");
	sqlite3_finalize(st);
	return r;
}

bool store_project_attempted(struct store *s, const char *project)
{
	sqlite3_stmt *st;
	bool any = false;

	if (store_prepare(s,
	                  "SELECT 1 FROM builds WHERE project = ?1 UNION ALL"
	                  " SELECT 1 FROM triggers WHERE project = ?1 LIMIT 1",
	                  &st) < 0)
		return true; /* on doubt, no initial trigger */
	store_bind_text(st, 1, project);
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return any;
}

int store_query_int(struct store *s, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc, r = store_prepare(s, sql, &st);

	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_sql_err(s, rc, sql);
	sqlite3_finalize(st);
	return r;
}
