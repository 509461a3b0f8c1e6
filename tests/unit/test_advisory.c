/*
 * advisory + store_feed: matching inventories against stored advisories,
 * the states that carry from one image to the next, and the one property
 * that matters most: a fix that is not in the archive yet never makes refit
 * rebuild the same image over and over.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "advisory.h"
#include "config.h"
#include "pinload.h"
#include "pins.h"
#include "store_feed.h"

static char dir[64];
static struct store *st;
static struct config *cfg;
static uint64_t clock_ms = 1000000;

static const char yaml[] = "state_dir: /tmp\n"
                           "projects:\n"
                           "  - name: p\n"
                           "    context: /tmp\n"
                           "    image: registry.example/team/p\n"
                           "    environments: { prod: {} }\n";

static int setup(void **state)
{
	struct config_errors errs = {0};
	char path[128], err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/refit-adv-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (store_open(path, &st, err, sizeof(err)) < 0)
		return -1;
	return config_parse("t.yaml", yaml, sizeof(yaml) - 1, &cfg, &errs);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	store_close(st);
	config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A succeeded build of p/prod with one package in its inventory. */
static int64_t build(const char *trigger, const char *eco, const char *name, const char *version,
                     const char *source, const char *source_version)
{
	struct store_build b = {.project = "p",
	                        .env = "prod",
	                        .trigger = trigger,
	                        .status = "running",
	                        .queued_at = clock_ms};
	struct store_pkg pkg = {eco, name, version, source, source_version, NULL, NULL};
	struct store_inventory inv = {
	        .ecosystem = eco, .pkgs = &pkg, .n_pkgs = 1, .read_at = clock_ms};
	int64_t id;

	assert_int_equal(store_build_insert(st, &b, &id), 0);
	b = (struct store_build){.status = "succeeded", .finished_at = clock_ms};
	assert_int_equal(store_build_update(st, id, &b), 0);
	assert_int_equal(store_inventory_put(st, id, &inv), 0);
	return id;
}

/* Stores one advisory row as a full load of scope; returns the rows changed. */
static int advisory(const char *id, const char *eco, const char *pkg, const char *modified,
                    const char *affected)
{
	struct store_advisory a = {.id = id,
	                           .ecosystem = eco,
	                           .package = pkg,
	                           .modified = modified,
	                           .affected = affected};
	struct store_feed_state fs = {0};
	struct store_feed_batch b = {.feed = "osv",
	                             .scope = "test",
	                             .replace = true,
	                             .rows = &a,
	                             .n_rows = 1,
	                             .state = &fs,
	                             .now = ++clock_ms};

	return store_feed_apply(st, &b);
}

static const char fixed_231[] =
        "{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
        "{\"fixed\":\"2.31.0\"}]}]}";

struct states {
	char line[8][160];
	size_t n;
};

static int state_cb(const struct store_match *m, void *arg)
{
	struct states *s = arg;

	if (s->n < 8)
		snprintf(s->line[s->n++], sizeof(s->line[0]), "%s %s %s %s %s", m->advisory,
		         m->package, m->installed ? m->installed : "-", m->fixed ? m->fixed : "-",
		         m->state);
	return 0;
}

static void expect_states(int64_t build_id, size_t n, const char *const *want)
{
	struct states s = {.n = 0};

	assert_int_equal(store_matches_each(st, build_id, state_cb, &s), 0);
	assert_int_equal(s.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s.line[i], want[i]);
}

static int64_t pending_count(void)
{
	return store_trigger_pending_count(st);
}

static int collect_cb(const struct store_trigger *t, void *arg)
{
	int64_t *ids = arg;

	for (size_t i = 0; i < 7; i++)
		if (!ids[i]) {
			ids[i] = t->id;
			break;
		}
	return 0;
}

/* The scheduler ran the pending trigger: it is done. */
static void finish_pending(const char *want_kind)
{
	int64_t ids[8] = {0}, n = 0;
	char sql[128];

	assert_int_equal(store_query_int(st,
	                                 "SELECT count(*) FROM triggers WHERE state = 'pending'"
	                                 " AND kind = 'security'",
	                                 &n),
	                 0);
	assert_int_equal(n, !strcmp(want_kind, "security"));
	assert_true(store_triggers_pending(st, collect_cb, ids) >= 0);
	for (size_t i = 0; ids[i]; i++) {
		snprintf(sql, sizeof(sql), "trigger %lld", (long long)ids[i]);
		assert_int_equal(store_trigger_set_state(st, ids[i], "done", 0, ++clock_ms), 0);
	}
}

static void test_never_loops(void **state)
{
	char *fixes = (char *)1;
	int64_t b1, b2, b3, b4;

	(void)state;
	assert_int_equal(
	        advisory("PYSEC-2099-1", "PyPI", "requests", "2099-01-01T00:00:00Z", fixed_231), 1);
	/* a cached build: the advisory is open, and the scan asks for a rebuild */
	b1 = build("initial", "PyPI", "requests", "2.25.0", "requests", "2.25.0");
	assert_int_equal(advisory_record_build(st, b1, false, NULL, &fixes), 0);
	assert_null(fixes);
	expect_states(b1, 1, (const char *const[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 open"});
	assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 1);
	expect_states(b1, 1,
	              (const char *const[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 triggered"});
	assert_int_equal(pending_count(), 1);
	/* scanning again (another feed round, nothing new) asks for nothing more */
	assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 0);
	finish_pending("security");
	/* the no-cache rebuild still has 2.25.0: the archive has no fix yet */
	b2 = build("security", "PyPI", "requests", "2.25.0", "requests", "2.25.0");
	assert_int_equal(advisory_record_build(st, b2, true, NULL, &fixes), 0);
	assert_null(fixes);
	expect_states(
	        b2, 1,
	        (const char *const[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 pending-upstream"});
	for (int i = 0; i < 3; i++)
		assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 0);
	assert_int_equal(pending_count(), 0);
	/* a cached rebuild (the base moved) keeps the pending state: no loop either */
	b3 = build("base", "PyPI", "requests", "2.25.0", "requests", "2.25.0");
	assert_int_equal(advisory_record_build(st, b3, false, NULL, &fixes), 0);
	expect_states(
	        b3, 1,
	        (const char *const[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 pending-upstream"});
	assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 0);
	/* the feed changes the advisory: one more try */
	assert_int_equal(
	        advisory("PYSEC-2099-1", "PyPI", "requests", "2099-02-01T00:00:00Z", fixed_231), 1);
	assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 1);
	assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 0);
	finish_pending("security");
	/* this time the fix is in: the build records it as fixed */
	b4 = build("security", "PyPI", "requests", "2.31.0", "requests", "2.31.0");
	assert_int_equal(advisory_record_build(st, b4, true, NULL, &fixes), 0);
	assert_non_null(fixes);
	assert_string_equal(fixes, "PYSEC-2099-1");
	free(fixes);
	expect_states(b4, 1, (const char *const[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 fixed"});
	assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 0);
	expect_states(b4, 1, (const char *const[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 fixed"});
}

static void test_debian_source_then_binary(void **state)
{
	struct advisory_hits h = {0};
	int64_t b;

	(void)state;
	/* OSV keys Debian on source packages, with the source's version */
	assert_int_equal(
	        advisory("DSA-9999-1", "Debian:12", "openssl", NULL,
	                 "{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
	                 "{\"fixed\":\"3.0.13-1~deb12u1\"}]}]}"),
	        1);
	b = build("initial", "Debian:12", "libssl3", "3.0.11-1~deb12u2+b1", "openssl",
	          "3.0.11-1~deb12u2");
	assert_int_equal(advisory_match(st, b, NULL, &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.v[0].id, "DSA-9999-1");
	assert_string_equal(h.v[0].package, "openssl");
	assert_string_equal(h.v[0].installed, "3.0.11-1~deb12u2");
	assert_string_equal(h.v[0].fixed, "3.0.13-1~deb12u1");
	advisory_hits_done(&h);
	/* another release's record does not apply */
	b = build("initial", "Debian:11", "libssl3", "3.0.11-1~deb12u2+b1", "openssl",
	          "3.0.11-1~deb12u2");
	assert_int_equal(advisory_match(st, b, NULL, &h), 0);
	assert_int_equal(h.n, 0);
	advisory_hits_done(&h);
	/* an unfixed advisory is recorded, never triggers */
	assert_int_equal(advisory("CVE-2099-2", "Debian:12", "zlib", NULL,
	                          "{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":"
	                          "[{\"introduced\":\"0\"}]}]}"),
	                 2); /* a full load of the scope: DSA-9999-1 is gone, CVE-2099-2 new */
	b = build("initial", "Debian:12", "zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1");
	assert_int_equal(advisory_match(st, b, NULL, &h), 0);
	assert_int_equal(h.n, 1);
	assert_null(h.v[0].fixed);
	advisory_hits_done(&h);
}

static void test_feed_apply_seen_at(void **state)
{
	int64_t seen1 = 0, seen2 = 0;

	(void)state;
	assert_int_equal(advisory("PYSEC-2099-3", "PyPI", "six", "2099-01-01T00:00:00Z", fixed_231),
	                 1);
	assert_int_equal(store_query_int(st,
	                                 "SELECT seen_at FROM advisories WHERE id = 'PYSEC-2099-3'",
	                                 &seen1),
	                 0);
	/* the same record again: nothing changed, seen_at stays */
	assert_int_equal(advisory("PYSEC-2099-3", "PyPI", "six", "2099-01-01T00:00:00Z", fixed_231),
	                 0);
	assert_int_equal(store_query_int(st,
	                                 "SELECT seen_at FROM advisories WHERE id = 'PYSEC-2099-3'",
	                                 &seen2),
	                 0);
	assert_int_equal(seen1, seen2);
	assert_int_equal(store_feed_count(st, "osv"), 1);
}

static int64_t changes(void)
{
	int64_t n = -1;

	assert_int_equal(store_query_int(st, "SELECT count(*) FROM advisory_changes", &n), 0);
	return n;
}

/* What the feeds changed is remembered per (ecosystem, package) until a scan: only those images. */
static void test_changes(void **state)
{
	(void)state;
	assert_int_equal(advisory("PYSEC-2099-4", "PyPI", "six", "2099-01-01T00:00:00Z", fixed_231),
	                 1);
	assert_int_equal(changes(), 1);
	assert_int_equal(advisory_scan(st, cfg, NULL, ++clock_ms), 0); /* no image has six */
	assert_int_equal(changes(), 0);
	assert_int_equal(advisory("PYSEC-2099-4", "PyPI", "six", "2099-01-01T00:00:00Z", fixed_231),
	                 0);
	assert_int_equal(changes(), 0); /* the same content is no change */
	/* a full load without it drops it, and that is a change */
	assert_int_equal(advisory("PYSEC-2099-5", "PyPI", "attrs", NULL, fixed_231), 2);
	assert_int_equal(changes(), 2);
	assert_int_equal(store_changes_clear(st), 0);
	assert_int_equal(store_feed_drop(st, "osv"), 0);
	assert_int_equal(changes(), 1);
	assert_int_equal(store_feed_count(st, "osv"), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The context pins the vulnerable version: needs-change with the place, and no rebuild; once
 * the pin is changed the advisory is fixable again and triggers. Debian: a pinned binary holds
 * its source's advisory. */
static void test_pinned_needs_change(void **state)
{
	struct config_errors errs = {0};
	struct config *c = NULL;
	struct pins pins = {0};
	char ctx[128], path[256], y[512], *fixes = NULL;
	int64_t b1, b2, n = -1;

	(void)state;
	snprintf(ctx, sizeof(ctx), "%s/ctx", dir);
	assert_int_equal(mkdir(ctx, 0755), 0);
	snprintf(path, sizeof(path), "%s/Dockerfile", ctx);
	write_file(path, "FROM debian:12\n"
	                 "RUN apt-get update && apt-get install -y \\\n"
	                 "      libssl3=3.0.11-1~deb12u2\n"
	                 "COPY requirements.txt .\nRUN pip install -r requirements.txt\n");
	snprintf(path, sizeof(path), "%s/requirements.txt", ctx);
	write_file(path, "# app\nnumpy==1.24.4\nrequests==2.25.0  # held back\n");
	snprintf(y, sizeof(y),
	         "state_dir: /tmp\nprojects:\n  - name: p\n    context: %s\n"
	         "    image: registry.example/team/p\n    environments: { prod: {} }\n",
	         ctx);
	assert_int_equal(config_parse("t.yaml", y, strlen(y), &c, &errs), 0);
	assert_int_equal(advisory("PYSEC-2099-1", "PyPI", "requests", NULL, fixed_231), 1);
	assert_int_equal(pinload_env(&c->projects[0], &c->projects[0].envs[0], &pins), 0);
	assert_int_equal(pins.n, 3);

	b1 = build("initial", "PyPI", "requests", "2.25.0", NULL, NULL);
	assert_int_equal(advisory_record_build(st, b1, false, &pins, &fixes), 0);
	expect_states(b1, 1, (const char *[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 needs-change"});
	assert_int_equal(store_query_int(st,
	                                 "SELECT pin_line * 1000 + pin_col FROM build_advisories"
	                                 " WHERE pin_file = 'requirements.txt'"
	                                 " AND pin_version = '2.25.0'",
	                                 &n),
	                 0);
	assert_int_equal(n, 3001);
	assert_int_equal(advisory_scan(st, c, "p", ++clock_ms), 0);
	assert_int_equal(pending_count(), 0);
	expect_states(b1, 1, (const char *[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 needs-change"});

	/* the team lifts the pin: the next scan finds it fixable and asks for a rebuild */
	write_file(path, "# app\nnumpy==1.24.4\nrequests>=2.25.0\n");
	assert_int_equal(advisory_scan(st, c, "p", ++clock_ms), 1);
	assert_int_equal(pending_count(), 1);
	expect_states(b1, 1, (const char *[]){"PYSEC-2099-1 requests 2.25.0 2.31.0 triggered"});
	finish_pending("security");

	/* Debian: the advisory names the source, the Dockerfile pins the binary */
	assert_int_equal(
	        advisory("DSA-9999-1", "Debian:12", "openssl", NULL,
	                 "{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
	                 "{\"fixed\":\"3.0.13-1~deb12u1\"}]}]}"),
	        2);
	b2 = build("initial", "Debian:12", "libssl3", "3.0.11-1~deb12u2", "openssl",
	           "3.0.11-1~deb12u2");
	assert_int_equal(advisory_record_build(st, b2, false, &pins, &fixes), 0);
	expect_states(b2, 2, /* the image before had requests: that one is fixed here */
	              (const char *[]){"DSA-9999-1 openssl 3.0.11-1~deb12u2 3.0.13-1~deb12u1 "
	                               "needs-change",
	                               "PYSEC-2099-1 requests 2.25.0 2.31.0 fixed"});
	assert_int_equal(store_query_int(st,
	                                 "SELECT pin_line FROM build_advisories WHERE build_id = "
	                                 "(SELECT max(build_id) FROM build_advisories)"
	                                 " AND pin_file = 'Dockerfile'",
	                                 &n),
	                 0);
	assert_int_equal(n, 3);
	free(fixes);
	pins_done(&pins);
	config_free(c);
}

static void test_fixes_label(void **state)
{
	char buf[40];

	(void)state;
	advisory_fixes_label("PYSEC-2023-74", buf, sizeof(buf));
	assert_string_equal(buf, "PYSEC-2023-74");
	advisory_fixes_label("CVE-2023-0001,CVE-2023-0002,CVE-2023-0003,CVE-2023-0004", buf,
	                     sizeof(buf));
	assert_string_equal(buf, "CVE-2023-0001,CVE-2023-0002,+2");
	advisory_fixes_label(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_never_loops, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_debian_source_then_binary, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pinned_needs_change, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_feed_apply_seen_at, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
	        cmocka_unit_test(test_fixes_label),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
