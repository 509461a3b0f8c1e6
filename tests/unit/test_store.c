/* store: migrations, reopen, process death mid-transaction, trigger coalescing, retention. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_promo.h"
#include "store_follow.h"
#include "store_tags.h"
#include "store_feed.h"
#include "store_query.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/refit-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	/* a failed test_immutable_refused may leave the attribute behind */
	snprintf(cmd, sizeof(cmd), "chattr -R -i %s 2>/dev/null; rm -rf %s", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_ok(void)
{
	struct store *s = NULL;
	char err[256] = "";

	if (store_open(path, &s, err, sizeof(err)) < 0)
		print_message("store_open: %s\n", err);
	assert_non_null(s);
	return s;
}

static void test_migrate_and_reopen(void **state)
{
	struct store *s = open_ok();
	struct store_engine e = {
	        .host = "unix:///x", .api_version = "1.41", .reachable = true, .checked_at = 1};
	int64_t n = 0;

	(void)state;
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_engine_update(s, &e), 0);
	e.api_version = NULL; /* unreachable later: keeps the last known version */
	e.reachable = false;
	e.error = "gone";
	assert_int_equal(store_engine_update(s, &e), 0);
	store_close(s);
	s = open_ok();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_query_int(s,
	                                 "SELECT count(*) FROM engines WHERE api_version = "
	                                 "'1.41' AND reachable = 0 AND error = 'gone'",
	                                 &n),
	                 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_query_int(s,
	                                 "SELECT count(*) FROM pragma_journal_mode "
	                                 "WHERE journal_mode = 'wal'",
	                                 &n),
	                 0);
	assert_int_equal(n, 1);
	store_close(s);
}

static int insert_then_die(struct store *s, void *arg)
{
	(void)arg;
	assert_int_equal(store_event_add(s, 2, "uncommitted", NULL, "lost"), 0);
	raise(SIGKILL); /* process death in the middle of the transaction */
	return 0;
}

static void test_death_mid_transaction(void **state)
{
	struct store *s = open_ok();
	int64_t n = -1;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(store_event_add(s, 1, "committed", NULL, "kept"), 0);
	store_close(s);
	pid = fork();
	if (pid == 0) {
		s = open_ok();
		store_transaction(s, insert_then_die, NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	s = open_ok();
	assert_int_equal(
	        store_query_int(s, "SELECT count(*) FROM events WHERE kind = 'committed'", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(
	        store_query_int(s, "SELECT count(*) FROM events WHERE kind = 'uncommitted'", &n),
	        0);
	assert_int_equal(n, 0);
	store_close(s);
}

static int fail_tx(struct store *s, void *arg)
{
	(void)arg;
	store_event_add(s, 3, "rolled-back", NULL, NULL);
	return -EIO;
}

static void test_rollback(void **state)
{
	struct store *s = open_ok();
	int64_t n = -1;

	(void)state;
	assert_int_equal(store_transaction(s, fail_tx, NULL), -EIO);
	assert_int_equal(
	        store_query_int(s, "SELECT count(*) FROM events WHERE kind = 'rolled-back'", &n),
	        0);
	assert_int_equal(n, 0);
	store_close(s);
}

static void test_trigger_coalescing(void **state)
{
	struct store *s = open_ok();
	int64_t a, b, c, n;

	(void)state;
	assert_int_equal(store_trigger_add(s, "p1", "base", "base moved: x", 10, &a), 0);
	assert_int_equal(store_trigger_add(s, "p1", "manual", "by hand", 11, &b), 0);
	assert_int_equal(store_trigger_add(s, "p1", "manual", "by hand", 12, &b), 0);
	assert_int_equal(store_trigger_add(s, "p2", "age", "older than 7d", 13, &c), 0);
	assert_int_equal(a, b);
	assert_true(c != a);
	assert_int_equal(store_trigger_pending_count(s), 2);
	assert_int_equal(store_query_int(s,
	                                 "SELECT length(reasons) FROM triggers WHERE project "
	                                 "= 'p1'",
	                                 &n),
	                 0);
	assert_int_equal(n, strlen("base moved: x\nby hand"));
	store_close(s);
}

struct ids {
	int64_t v[16];
	size_t n;
};

static int collect_id(int64_t id, const char *log_path, void *arg)
{
	struct ids *l = arg;

	assert_non_null(log_path);
	assert_true(l->n < 16);
	l->v[l->n++] = id;
	return 0;
}

static int count_pkg(const struct store_pkg *p, void *arg)
{
	(void)p;
	++*(int *)arg;
	return 0;
}

/* Which builds retention may strip, and that stripping keeps what matching needs. */
static void test_prune(void **state)
{
	static const struct {
		const char *env, *status;
		uint64_t finished;
		bool inventory;
	} rows[] = {
	        {"test", "succeeded", 1000, true},  /* 1: old, superseded: goes */
	        {"test", "succeeded", 1000, true},  /* 2: 2nd newest with an inventory */
	        {"test", "failed", 1000, false},    /* 3: old failure: goes */
	        {"test", "succeeded", 1000, true},  /* 4: current (newest with an inventory) */
	        {"test", "succeeded", 1000, false}, /* 5: newest success, inventory failed */
	        {"prod", "succeeded", 1000, true},  /* 6: the only prod build */
	        {"test", "failed", 9000, false},    /* 7: newest, and recent */
	};
	const struct store_pkg pkg = {"Debian:12", "openssl", "3.0.1", NULL, NULL, NULL, NULL};
	const struct store_inventory inv = {
	        .ecosystem = "Debian:12", .pkgs = &pkg, .n_pkgs = 1, .read_at = 1000};
	struct store *s = open_ok();
	struct ids got = {.n = 0};
	int64_t id, n = -1;
	int pkgs;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store_build b = {.project = "p",
		                        .env = rows[i].env,
		                        .trigger = "age",
		                        .status = "running",
		                        .log_path = "/x/logs/1.log"};
		assert_int_equal(store_build_insert(s, &b, &id), 0);
		b = (struct store_build){.status = rows[i].status, .finished_at = rows[i].finished};
		assert_int_equal(store_build_update(s, id, &b), 0);
		if (rows[i].inventory)
			assert_int_equal(store_inventory_put(s, id, &inv), 0);
	}
	assert_int_equal(store_prune_each(s, 5000, 100, collect_id, &got), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.v[0], 1);
	assert_int_equal(got.v[1], 3);
	got.n = 0; /* a limit of one: the oldest first */
	assert_int_equal(store_prune_each(s, 5000, 1, collect_id, &got), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v[0], 1);

	assert_int_equal(store_prune_builds(s, (int64_t[]){1, 3}, 2, 7000), 0);
	pkgs = 0;
	assert_int_equal(store_inventory_each(s, 1, count_pkg, &pkgs), -ENOENT);
	assert_int_equal(store_inventory_each(s, 2, count_pkg, &pkgs), 0);
	assert_int_equal(pkgs, 1);
	assert_int_equal(
	        store_query_int(s, "SELECT count(*) FROM builds WHERE pruned_at = 7000", &n), 0);
	assert_int_equal(n, 2);
	got.n = 0; /* nothing left to strip, and the current image is still build 4 */
	assert_int_equal(store_prune_each(s, 5000, 100, collect_id, &got), 0);
	assert_int_equal(got.n, 0);
	assert_int_equal(store_previous_inventory_build(s, 5, &id), 0);
	assert_int_equal(id, 4);
	store_close(s);
}

/* Setting a project's bases to what is stored already writes nothing (no commit per
 * project at start-up or reload); a change is written. */
static void test_project_bases_unchanged(void **state)
{
	const struct store_base_use uses[] = {{"r/a:1", "linux/amd64", "prod"},
	                                      {"r/b:2", "linux/amd64", "prod,test"}};
	const struct store_base_use changed[] = {{"r/a:1", "linux/amd64", "prod"},
	                                         {"r/b:2", "linux/amd64", "test"}};
	struct store *s = open_ok();
	uint64_t g;
	int64_t n = 0;

	(void)state;
	assert_int_equal(store_project_bases_set(s, "p", uses, 2), 0);
	g = store_generation(s);
	assert_int_equal(store_project_bases_set(s, "p", uses, 2), 0);
	assert_true(store_generation(s) == g);
	assert_int_equal(store_project_bases_set(s, "p", uses, 1), 0); /* one fewer */
	assert_true(store_generation(s) != g);
	assert_int_equal(store_project_bases_set(s, "p", changed, 2), 0);
	assert_int_equal(store_query_int(s,
	                                 "SELECT count(*) FROM project_bases WHERE project = 'p'"
	                                 " AND envs = 'test'",
	                                 &n),
	                 0);
	assert_int_equal(n, 1);
	g = store_generation(s);
	assert_int_equal(store_project_bases_set(s, "p", changed, 2), 0);
	assert_true(store_generation(s) == g);
	store_close(s);
}

struct current_rows {
	char v[4][64];
	size_t n;
};

static int collect_current(const struct store_current *c, void *arg)
{
	struct current_rows *r = arg;

	if (r->n < 4)
		snprintf(r->v[r->n++], sizeof(r->v[0]), "%s:%s:%lld", c->project, c->env,
		         (long long)c->build_id);
	return 0;
}

static int collect_eco(const char *ecosystem, void *arg)
{
	struct current_rows *r = arg;

	if (r->n < 4)
		snprintf(r->v[r->n++], sizeof(r->v[0]), "%s", ecosystem);
	return 0;
}

static void add_build(struct store *s, const char *env, const char *status, bool inventory_first,
                      const struct store_inventory *inv)
{
	struct store_build b = {.project = "p", .env = env, .trigger = "age", .status = "running"};
	int64_t id;

	assert_int_equal(store_build_insert(s, &b, &id), 0);
	if (inv && inventory_first)
		assert_int_equal(store_inventory_put(s, id, inv), 0);
	b = (struct store_build){.status = status, .finished_at = 1000};
	assert_int_equal(store_build_update(s, id, &b), 0);
	if (inv && !inventory_first)
		assert_int_equal(store_inventory_put(s, id, inv), 0);
}

/* The current image of each environment is kept as state, whichever is written first. */
static void test_current_images(void **state)
{
	const struct store_pkg deb = {"Debian:12", "openssl", "3.0.1", NULL, NULL, NULL, NULL};
	const struct store_pkg both[] = {deb, {"PyPI", "numpy", "1.26.0", NULL, NULL, NULL, NULL}};
	const struct store_inventory d = {.pkgs = &deb, .n_pkgs = 1, .read_at = 1000};
	const struct store_inventory dp = {.pkgs = both, .n_pkgs = 2, .read_at = 1000};
	struct store *s = open_ok();
	struct current_rows cur = {.n = 0}, eco = {.n = 0};

	(void)state;
	add_build(s, "test", "succeeded", false, &d);   /* 1 */
	add_build(s, "prod", "succeeded", false, &dp);  /* 2 */
	add_build(s, "test", "succeeded", true, &d);    /* 3: inventory before the status */
	add_build(s, "test", "succeeded", false, NULL); /* 4: no inventory */
	add_build(s, "test", "failed", true, &dp);      /* 5: failed */
	assert_int_equal(store_current_each(s, collect_current, &cur), 0);
	assert_int_equal(cur.n, 2);
	assert_string_equal(cur.v[0], "p:prod:2");
	assert_string_equal(cur.v[1], "p:test:3");
	assert_int_equal(store_inventory_ecosystems(s, collect_eco, &eco), 0);
	assert_int_equal(eco.n, 2);
	assert_string_equal(eco.v[0], "Debian:12");
	assert_string_equal(eco.v[1], "PyPI");

	/* the current test inventory and the only prod one go: test falls back to 1 */
	assert_int_equal(store_prune_builds(s, (int64_t[]){3, 2}, 2, 7000), 0);
	cur.n = eco.n = 0;
	assert_int_equal(store_current_each(s, collect_current, &cur), 0);
	assert_int_equal(cur.n, 1);
	assert_string_equal(cur.v[0], "p:test:1");
	assert_int_equal(store_inventory_ecosystems(s, collect_eco, &eco), 0);
	assert_int_equal(eco.n, 1);
	assert_string_equal(eco.v[0], "Debian:12");

	/* an inventory read again replaces its ecosystems */
	assert_int_equal(store_inventory_put(s, 1, &dp), 0);
	eco.n = 0;
	assert_int_equal(store_inventory_ecosystems(s, collect_eco, &eco), 0);
	assert_int_equal(eco.n, 2);
	assert_int_equal(store_inventory_put(s, 1, &d), 0);
	eco.n = 0;
	assert_int_equal(store_inventory_ecosystems(s, collect_eco, &eco), 0);
	assert_int_equal(eco.n, 1);
	store_close(s);
}

struct outbox_rows {
	int64_t ids[4];
	char bodies[4][16];
	size_t n;
};

static int outbox_cb(int64_t id, const char *hook, const char *event, const char *body, void *arg)
{
	struct outbox_rows *o = arg;

	assert_string_equal(hook, "sha256:h");
	assert_string_equal(event, "built");
	assert_true(o->n < 4);
	o->ids[o->n] = id;
	snprintf(o->bodies[o->n++], sizeof(o->bodies[0]), "%s", body);
	return 0;
}

/* Deliveries survive a reopen, oldest first, and an id is never handed out twice. */
static void test_outbox(void **state)
{
	struct store *s = open_ok();
	struct outbox_rows o = {.n = 0};
	int64_t a, b, c;

	(void)state;
	assert_int_equal(store_outbox_add(s, "sha256:h", "built", "{\"n\":1}", 1, &a), 0);
	assert_int_equal(store_outbox_add(s, "sha256:h", "built", "{\"n\":2}", 2, &b), 0);
	assert_int_equal(store_outbox_delete(s, b), 0); /* the newest goes... */
	assert_int_equal(store_outbox_add(s, "sha256:h", "built", "{\"n\":3}", 3, &c), 0);
	assert_true(c > b); /* ...and its id is not reused */
	store_close(s);
	s = open_ok();
	assert_int_equal(store_outbox_each(s, outbox_cb, &o), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.ids[0], a);
	assert_string_equal(o.bodies[0], "{\"n\":1}");
	assert_int_equal(o.ids[1], c);
	store_close(s);
}

static void test_newer_schema_refused(void **state)
{
	struct store *s = open_ok();
	char err[256] = "";
	int64_t n;

	(void)state;
	store_query_int(s, "PRAGMA user_version = 99", &n);
	store_close(s);
	assert_int_equal(store_open(path, &s, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "schema version 99 is newer"));
}

static void test_not_a_database(void **state)
{
	char bad[160], err[256] = "";
	struct store *s = NULL;
	FILE *f;

	(void)state;
	snprintf(bad, sizeof(bad), "%s/garbage.db", dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database at all ", f);
	fclose(f);
	assert_true(store_open(bad, &s, err, sizeof(err)) < 0);
	assert_null(s);
	assert_non_null(strstr(err, "not a database"));
}

/* The whole file, to show a refused file was left byte for byte as it was. */
static char *slurp(const char *p, long *ret_len)
{
	FILE *f = fopen(p, "rb");
	char *b;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*ret_len = ftell(f);
	rewind(f);
	b = malloc((size_t)*ret_len + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)*ret_len, f), (size_t)*ret_len);
	fclose(f);
	return b;
}

static void assert_refused_untouched(const char *p, int want, const char *says)
{
	char err[1024] = "", side[192];
	struct store *s = NULL;
	long n0, n1;
	char *before = slurp(p, &n0), *after;

	assert_int_equal(store_open(p, &s, err, sizeof(err)), want);
	assert_null(s);
	print_message("refused: %s\n", err);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, says));
	after = slurp(p, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, (size_t)n0);
	snprintf(side, sizeof(side), "%s-wal", p);
	assert_int_equal(access(side, F_OK), -1);
	free(before);
	free(after);
}

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* A page overwritten on disk: refitd does not start on it, and leaves it for a restore. */
static void test_damaged_refused(void **state)
{
	struct store *s = open_ok();
	char msg[600];

	(void)state;
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = 0;
	for (int i = 0; i < 400; i++)
		assert_int_equal(store_event_add(s, (uint64_t)i, "start", "p", msg), 0);
	store_close(s); /* the last close checkpoints: every page is in state.db */
	sh("dd if=/dev/urandom of=%s bs=4096 seek=3 count=1 conv=notrunc status=none", path);
	assert_refused_untouched(path, -EUCLEAN, "is damaged (quick_check:");
}

/* Files that are not refit's: opened by nobody but their owner, not switched to WAL. */
static void test_foreign_refused(void **state)
{
	char p[160];

	(void)state;
	snprintf(p, sizeof(p), "%s/notes.db", dir);
	sh("sqlite3 %s \"CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);"
	   " INSERT INTO notes(body) VALUES('mine')\"",
	   p);
	assert_refused_untouched(p, -EPROTO, "not refit's state (tables notes");
	/* Another application's mark (Fossil's), even with tables named like refit's. */
	snprintf(p, sizeof(p), "%s/fossil.db", dir);
	sh("sqlite3 %s \"PRAGMA application_id = 252006674; CREATE TABLE builds(x)\"", p);
	assert_refused_untouched(p, -EPROTO, "another application (SQLite application_id");
	/* A builds table, but no schema version refit ever wrote. */
	snprintf(p, sizeof(p), "%s/builds.db", dir);
	sh("sqlite3 %s \"PRAGMA journal_mode = WAL; CREATE TABLE builds(x)\" >/dev/null", p);
	assert_refused_untouched(p, -EPROTO, "(schema version 0; no refit mark)");
}

/* A state.db of a refitd from before the mark: still refit's, marked on open. */
static void test_unmarked_refit_file(void **state)
{
	struct store *s = open_ok();
	int64_t n = 0;

	(void)state;
	store_query_int(s, "PRAGMA application_id = 0", &n);
	store_close(s);
	s = open_ok();
	assert_int_equal(store_query_int(s, "PRAGMA application_id", &n), 0);
	assert_int_equal(n, 0x52666974);
	store_close(s);
}

/* chattr +i on the file, then on its directory: refused at start, not a start that fails
 * every write afterwards. Skipped where the filesystem has no immutable attribute. */
static void test_immutable_refused(void **state)
{
	struct store *s = open_ok();
	char err[1024] = "", cmd[256];

	(void)state;
	store_close(s);
	s = NULL;
	snprintf(cmd, sizeof(cmd), "chattr +i %s 2>/dev/null", path);
	if (system(cmd) != 0)
		skip();
	assert_int_equal(store_open(path, &s, err, sizeof(err)), -EROFS);
	print_message("refused: %s\n", err);
	assert_non_null(strstr(err, "cannot be opened for writing"));
	sh("chattr -i %s && chattr +i %s", path, dir);
	assert_true(store_open(path, &s, err, sizeof(err)) < 0);
	print_message("refused: %s\n", err);
	assert_null(s);
	assert_non_null(strstr(err, path));
	sh("chattr -i %s", dir);
	s = open_ok(); /* and usable again once the attribute is gone */
	store_close(s);
}

/*
 * A full store (SQLite's max_page_count stands in for a full disk: the same SQLITE_FULL):
 * a build's outcome and its trigger's state wait in memory, the store says why it cannot
 * write, and store_retry writes them in order once there is room.
 */
/* What the triggers keep for /metrics equals the same aggregates over every build row. */
static int count_cb(const char *project, const char *env, const char *status, int64_t n, void *arg)
{
	int64_t *sum = arg;

	(void)env;
	(void)status;
	sum[0] += n;
	sum[1] += !strcmp(project, "p") ? n : 0;
	return 0;
}

static int histo_cb(const char *project, const char *env, unsigned bucket, uint64_t n,
                    uint64_t sum_ms, void *arg)
{
	int64_t *h = arg;

	(void)project;
	(void)env;
	assert_true(bucket < STORE_DURATION_BUCKETS);
	h[bucket] += (int64_t)n;
	h[STORE_DURATION_BUCKETS] += (int64_t)sum_ms;
	return 0;
}

static void test_history_aggregates(void **state)
{
	static const uint64_t secs[] = {1, 30, 31, 400, 7200, 7201, 86400};
	struct store *s = open_ok();
	int64_t ids[7], sum[2] = {0, 0}, h[STORE_DURATION_BUCKETS + 1] = {0}, n = 0;

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		struct store_build b = {.project = i % 2 ? "p" : "q",
		                        .env = "prod",
		                        .trigger = "manual",
		                        .status = "queued"};
		assert_int_equal(store_build_insert(s, &b, &ids[i]), 0);
		b = (struct store_build){.status = "running", .started_at = 1000};
		assert_int_equal(store_build_update(s, ids[i], &b), 0);
		b = (struct store_build){.status = i == 6  ? "interrupted"
		                                   : i % 3 ? "succeeded"
		                                           : "failed",
		                         .finished_at = 1000 + secs[i] * 1000};
		assert_int_equal(store_build_update(s, ids[i], &b), 0);
	}
	assert_int_equal(store_build_counts_each(s, count_cb, sum), 0);
	assert_int_equal(store_query_int(s, "SELECT count(*) FROM builds", &n), 0);
	assert_int_equal(sum[0], n);
	assert_int_equal(store_query_int(s, "SELECT count(*) FROM builds WHERE project = 'p'", &n),
	                 0);
	assert_int_equal(sum[1], n);
	assert_int_equal(store_build_durations_each(s, histo_cb, h), 0);
	/* 1 s and 30 s in <= 30; 31 s in <= 60; 400 s in <= 600; 7200 in <= 7200; 7201 in +Inf;
	 * the interrupted one is not a finished build */
	assert_int_equal(h[0], 2);
	assert_int_equal(h[1], 1);
	assert_int_equal(h[4], 1);
	assert_int_equal(h[8], 1);
	assert_int_equal(h[9], 1);
	assert_int_equal(h[STORE_DURATION_BUCKETS], (1 + 30 + 31 + 400 + 7200 + 7201) * 1000);
	/* the last success per project (kept by triggers too) */
	uint64_t at = 0;
	assert_int_equal(store_last_success(s, "p", &at), 0);
	assert_int_equal(at, 1000 + 7201 * 1000);
	assert_int_equal(store_last_success(s, "q", &at), 0);
	assert_int_equal(at, 1000 + 7200 * 1000);
	assert_int_equal(store_last_success(s, "nobody", &at), -ENOENT);
	store_close(s);
}

static void test_full_store_defers(void **state)
{
	struct store *s = open_ok();
	struct store_build b = {
	        .project = "p", .env = "prod", .trigger = "manual", .status = "running"};
	char big[20000], sql[96];
	int64_t id = 0, tid = 0, pages = 0, n = 0;
	uint64_t since = 0;

	(void)state;
	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(store_trigger_add(s, "p", "manual", "r", 1, &tid), 0);
	assert_int_equal(store_build_insert(s, &b, &id), 0);
	assert_int_equal(store_query_int(s, "PRAGMA page_count", &pages), 0);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)pages);
	store_query_int(s, sql, &n);
	assert_null(store_write_error(s, NULL));
	b = (struct store_build){.status = "succeeded", .digest = "sha256:d", .error = big};
	assert_int_equal(store_build_update(s, id, &b), -ENOSPC);
	assert_int_equal(store_trigger_set_state(s, tid, "done", id, 2), -ENOSPC);
	assert_non_null(strstr(store_write_error(s, &since), "full"));
	assert_true(since > 0);
	assert_int_equal(store_deferred_count(s), 2);
	/* a trigger added meanwhile fails too, and says so (no ROLLBACK of nothing) */
	assert_int_equal(store_trigger_add(s, "q", "manual", big, 3, NULL), -ENOSPC);
	assert_int_equal(store_retry(s), -ENOSPC);
	assert_int_equal(
	        store_query_int(s, "SELECT count(*) FROM builds WHERE status = 'running'", &n), 0);
	assert_int_equal(n, 1);
	store_query_int(s, "PRAGMA max_page_count = 1000000", &n);
	assert_int_equal(store_retry(s), 0);
	assert_int_equal(store_deferred_count(s), 0);
	assert_null(store_write_error(s, NULL));
	assert_int_equal(store_query_int(s,
	                                 "SELECT count(*) FROM builds WHERE status = 'succeeded'"
	                                 " AND digest = 'sha256:d' AND length(error) = 19999",
	                                 &n),
	                 0);
	assert_int_equal(n, 1);
	assert_int_equal(
	        store_query_int(s, "SELECT count(*) FROM triggers WHERE state = 'done'", &n), 0);
	assert_int_equal(n, 1);
	store_close(s);
}

static int tags_row_cb(const struct store_tags_row *r, void *arg)
{
	snprintf(arg, 256, "%s %s %s %s %s %s", r->project, r->tag, r->policy,
	         r->newest ? r->newest : "-", r->error ? r->error : "-",
	         r->checked_at ? "checked" : "never");
	return 0;
}

/* Newer tags of pinned bases: each new tag announced once; an error keeps the last answer. */
static void test_base_tags(void **state)
{
	struct store *s = open_ok();
	const struct store_base_use uses[] = {{"r/py:3.11.4-slim", "linux/amd64", "prod"}};
	struct store_tags_row r = {
	        "p", "r/py:3.11.4-slim", "3.11.4-slim", "patch", "3.11.9-slim", NULL, 1000};
	const char *off[] = {"q", NULL};
	char line[256] = "";
	bool announce = false;

	(void)state;
	assert_int_equal(store_project_bases_set(s, "p", uses, 1), 0);
	assert_int_equal(store_tags_update(s, &r, &announce), 0);
	assert_true(announce);
	r.checked_at = 2000;
	assert_int_equal(store_tags_update(s, &r, &announce), 0);
	assert_false(announce); /* the same tag again */
	r.error = "registry: unreachable";
	assert_int_equal(store_tags_update(s, &r, &announce), 0);
	assert_false(announce);
	assert_int_equal(store_tags_each(s, "p", tags_row_cb, line), 0);
	assert_string_equal(line, "p 3.11.4-slim patch 3.11.9-slim registry: unreachable checked");
	r.error = NULL;
	r.newest = "3.11.10-slim";
	assert_int_equal(store_tags_update(s, &r, &announce), 0);
	assert_true(announce); /* a newer one */
	r.newest = NULL;
	assert_int_equal(store_tags_update(s, &r, &announce), 0);
	assert_false(announce);
	store_close(s);
	s = open_ok();
	r.newest = "3.11.10-slim";
	assert_int_equal(store_tags_update(s, &r, &announce), 0);
	assert_false(announce); /* announced before the restart */
	assert_int_equal(store_tags_prune(s, off), 0);
	line[0] = '\0';
	assert_int_equal(store_tags_each(s, NULL, tags_row_cb, line), 0);
	assert_string_equal(line, "p 3.11.4-slim patch 3.11.10-slim - checked");
	assert_int_equal(store_project_bases_set(s, "p", NULL, 0), 0);
	assert_int_equal(store_tags_prune(s, NULL), 0);
	line[0] = '\0';
	assert_int_equal(store_tags_each(s, NULL, tags_row_cb, line), 0);
	assert_string_equal(line, ""); /* the base is no longer used */
	store_close(s);
}

static int follow_row_cb(const struct store_follow_row *r, void *arg)
{
	size_t used = strlen(arg);

	snprintf((char *)arg + used, 256 - used, "%s%s/%s %s=%s %s %s %s", used ? "; " : "",
	         r->project, r->env, r->arg, r->value, r->tag, r->own, r->policy);
	return 0;
}

/* follow: one value per project, env and ARG; changed only when the value moves; clear. */
static void test_follows(void **state)
{
	struct store *s = open_ok();
	struct store_follow_row r = {
	        "p",     "test", "PY", "3.11.9", "3.11.9-slim", "3.11.4", "r/py:3.11.4-slim",
	        "patch", 1000};
	char line[256] = "";
	bool changed = false;

	(void)state;
	assert_int_equal(store_follow_set(s, &r, &changed), 0);
	assert_true(changed);
	r.updated_at = 2000;
	assert_int_equal(store_follow_set(s, &r, &changed), 0);
	assert_false(changed);
	r.env = "rnd";
	assert_int_equal(store_follow_set(s, &r, &changed), 0);
	assert_true(changed);
	r.env = "test";
	r.value = "3.11.10";
	r.tag = "3.11.10-slim";
	store_close(s);
	s = open_ok();
	assert_int_equal(store_follow_set(s, &r, &changed), 0);
	assert_true(changed);
	assert_int_equal(store_follow_each(s, "p", follow_row_cb, line), 0);
	assert_string_equal(line, "p/rnd PY=3.11.9 3.11.9-slim 3.11.4 patch; "
	                          "p/test PY=3.11.10 3.11.10-slim 3.11.4 patch");
	assert_int_equal(store_follow_clear(s, "p", "test", "PY"), 0); /* keeps PY */
	assert_int_equal(store_follow_clear(s, "p", "rnd", NULL), 0);
	line[0] = '\0';
	assert_int_equal(store_follow_each(s, NULL, follow_row_cb, line), 0);
	assert_string_equal(line, "p/test PY=3.11.10 3.11.10-slim 3.11.4 patch");
	assert_int_equal(store_follow_clear(s, "p", NULL, NULL), 0);
	line[0] = '\0';
	assert_int_equal(store_follow_each(s, NULL, follow_row_cb, line), 0);
	assert_string_equal(line, "");
	store_close(s);
}

static int promo_cb(const struct store_promo *p, void *arg)
{
	char *seen = arg;
	size_t len = strlen(seen);

	snprintf(seen + len, 256 - len, "%s/%s=%lld:%s;", p->project, p->env,
	         (long long)p->build_id, p->stamp_tag);
	return 0;
}

/* One waiting promotion per environment: a newer build replaces it, a drop names its build. */
static void test_promotions(void **state)
{
	struct store *s = open_ok();
	struct store_promo p = {"a", "prod", "prod-20261208T010000Z", "sha256:aa", 3, 1000};
	char seen[256] = "";

	(void)state;
	assert_int_equal(store_promo_set(s, &p), 0);
	p.build_id = 5;
	p.stamp_tag = "prod-20261208T020000Z";
	p.since = 2000;
	assert_int_equal(store_promo_set(s, &p), 0);
	p.env = "rnd";
	p.build_id = 6;
	assert_int_equal(store_promo_set(s, &p), 0);
	assert_int_equal(store_promo_each(s, "a", promo_cb, seen), 0);
	assert_string_equal(seen, "a/prod=5:prod-20261208T020000Z;a/rnd=6:prod-20261208T020000Z;");
	assert_int_equal(store_promo_drop(s, "a", "prod", 3), -ENOENT); /* replaced */
	assert_int_equal(store_promo_drop(s, "a", "prod", 5), 0);
	assert_int_equal(store_promo_drop(s, "a", "rnd", 0), 0);
	seen[0] = '\0';
	assert_int_equal(store_promo_each(s, NULL, promo_cb, seen), 0);
	assert_string_equal(seen, "");
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_migrate_and_reopen, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_base_tags, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_follows, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_death_mid_transaction, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_trigger_coalescing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_current_images, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_project_bases_unchanged, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_damaged_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_foreign_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unmarked_refit_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_immutable_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_full_store_defers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_history_aggregates, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_promotions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
