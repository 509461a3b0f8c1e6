/*
 * feeds against a mirror on the test's own loop (tests/unit/fakehttp.h): a reload that
 * takes a feed out while a round polls it. The round's tasks were planned from the old
 * configuration; the reload drops the feed's advisories (forget_stale), and what its
 * tasks still bring must not put them back, nor its scopes' state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fakehttp.h"
#include "feeds.h"
#include "http_client.h"
#include "log.h"
#include "store.h"
#include "store_feed.h"
#include "testutil.h"

/* Real Alpine secdb data (origin: tests/fixtures/feeds/alpine-secdb/ORIGIN.md). */
#define SECDB "tests/fixtures/feeds/alpine-secdb/json-excerpts/v3.10-community-fetch.claircore.json"

struct mirror {
	struct fakehttp srv;
	char *doc;
	unsigned gets;
	bool hold_gone; /* the first request for the feed "gone" waits */
};

static void serve(struct fakehttp_conn *c, const char *method, const char *target, void *arg)
{
	struct mirror *m = arg;

	(void)method;
	m->gets++;
	if (m->hold_gone && !strncmp(target, "/gone/", 6)) {
		m->hold_gone = false;
		fakehttp_hold(c);
	} else {
		fakehttp_reply(c, 200, m->doc);
	}
}

/* Two secdb feeds on the mirror, "gone" and "kept"; or "kept" alone. */
static struct config *with_feeds(const char *dir, int port, bool gone)
{
	char text[1024], line[128] = "";
	struct config_errors errs = {0};
	struct config *c = NULL;

	if (gone)
		snprintf(line, sizeof(line),
		         "  - { name: gone, type: alpine-secdb, url: http://127.0.0.1:%d/gone }\n",
		         port);
	snprintf(text, sizeof(text),
	         "state_dir: %s\n"
	         "feeds:\n"
	         "%s"
	         "  - { name: kept, type: alpine-secdb, url: http://127.0.0.1:%d/kept }\n"
	         "projects:\n"
	         "  - { name: p, context: %s, image: registry.example/team/p,\n"
	         "      environments: { prod: {} } }\n",
	         dir, line, port, dir);
	assert_int_equal(config_parse("t.yaml", text, strlen(text), &c, &errs), 0);
	config_errors_done(&errs);
	return c;
}

/* The current image of p/prod has an Alpine 3.10 package: the round polls v3.10. */
static void current_image(struct store *st)
{
	struct store_build b = {.project = "p",
	                        .env = "prod",
	                        .trigger = "initial",
	                        .status = "running",
	                        .queued_at = 1000};
	struct store_pkg pkg = {"Alpine:v3.10", "botan", "2.5.0-r0", "botan",
	                        "2.5.0-r0",     NULL,    NULL};
	struct store_inventory inv = {
	        .ecosystem = "Alpine:v3.10", .pkgs = &pkg, .n_pkgs = 1, .read_at = 1000};
	int64_t id;

	assert_int_equal(store_build_insert(st, &b, &id), 0);
	b = (struct store_build){.status = "succeeded", .finished_at = 2000};
	assert_int_equal(store_build_update(st, id, &b), 0);
	assert_int_equal(store_inventory_put(st, id, &inv), 0);
}

static int scope_of(const char *feed, const char *scope, const struct store_feed_state *s,
                    void *arg)
{
	(void)scope;
	(void)s;
	if (!strcmp(feed, "gone"))
		++*(unsigned *)arg;
	return 0;
}

/* Runs the loop until cond holds (at most about 10 s). */
#define RUN_UNTIL(loop, cond)                                  \
	do {                                                   \
		for (int i_ = 0; !(cond) && i_ < 1000; i_++) { \
			uv_run((loop), UV_RUN_NOWAIT);         \
			usleep(10000);                         \
		}                                              \
		assert_true(cond);                             \
	} while (0)

static bool round_ended(const struct feeds *f)
{
	uint64_t last, next;

	feeds_times(f, &last, &next);
	return last != 0;
}

static void test_feed_removed_mid_round(void **state)
{
	char dir[] = "/tmp/refit-feeds-XXXXXX", path[128], err[256];
	struct mirror m = {.hold_gone = true};
	uv_loop_t loop;
	struct store *st;
	struct http_client *http;
	struct feeds *f;
	struct config *before, *after;
	unsigned gone_scopes = 0;
	size_t len;

	(void)state;
	m.doc = test_read_file(SECDB, &len);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), 0);
	current_image(st);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(fakehttp_tcp(&loop, &m.srv, serve, &m), 0);
	before = with_feeds(dir, m.srv.port, true);
	after = with_feeds(dir, m.srv.port, false);
	assert_int_equal(http_client_new(&loop, &http), 0);
	assert_int_equal(feeds_new(&loop, st, http, NULL, NULL, &f), 0);
	feeds_configure(f, before);
	feeds_poll_now(f);
	RUN_UNTIL(&loop, !m.hold_gone); /* the first task, gone's v3.10/main, is on the wire */
	feeds_configure(f, after);      /* the reload: gone is out */
	fakehttp_release_held(&m.srv, 200, m.doc);
	RUN_UNTIL(&loop, round_ended(f));
	assert_int_equal(store_feed_count(st, "gone"), 0);
	assert_int_equal(store_feeds_each(st, scope_of, &gone_scopes) < 0, 0);
	assert_int_equal(gone_scopes, 0);
	assert_true(store_feed_count(st, "kept") > 0); /* the feed that stayed was polled */
	feeds_free(f);
	http_client_close(http);
	fakehttp_stop(&m.srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	store_close(st);
	config_free(before);
	config_free(after);
	free(m.doc);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_feed_removed_mid_round),
	};

	log_setup(getenv("TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR, LOG_FMT_TEXT, false);
	http_global_init();
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return r;
}
