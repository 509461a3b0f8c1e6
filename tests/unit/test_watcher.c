/*
 * watcher: the settle-window state machine (base_observe), without a loop; and, on a
 * loop against a registry that never answers, what a reconfigure leaves in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "config.h"
#include "creds.h"
#include "fakehttp.h"
#include "http_client.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "watcher.h"

#define A "sha256:aaaa"
#define B "sha256:bbbb"
#define C "sha256:cccc"

static void test_first_and_same(void **state)
{
	struct store_base s = {0};

	(void)state;
	assert_int_equal(base_observe(&s, A, NULL, 1000, 600000), BASE_FIRST);
	assert_string_equal(s.digest, A);
	assert_int_equal(s.first_seen, 1000);
	assert_int_equal(base_observe(&s, A, NULL, 2000, 600000), BASE_SAME);
	assert_int_equal(s.checked_at, 2000);
	assert_int_equal(s.changed_at, 1000);
}

static void test_settle_then_move(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, NULL, 0, 600000);
	assert_int_equal(base_observe(&s, B, NULL, 1000, 600000), BASE_CANDIDATE);
	assert_string_equal(s.digest, A); /* not yet */
	assert_string_equal(s.candidate, B);
	assert_int_equal(base_observe(&s, B, NULL, 300000, 600000), BASE_SETTLING);
	assert_int_equal(base_observe(&s, B, NULL, 601000, 600000), BASE_MOVED);
	assert_string_equal(s.digest, B);
	assert_string_equal(s.candidate, "");
	assert_int_equal(s.changed_at, 601000);
	assert_int_equal(base_observe(&s, B, NULL, 700000, 600000), BASE_SAME);
}

static void test_flip_back(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, NULL, 0, 600000);
	assert_int_equal(base_observe(&s, B, NULL, 1000, 600000), BASE_CANDIDATE);
	assert_int_equal(base_observe(&s, A, NULL, 2000, 600000), BASE_FLIPPED_BACK);
	assert_string_equal(s.candidate, "");
	assert_string_equal(s.digest, A);
	/* the same new digest again restarts its window from scratch */
	assert_int_equal(base_observe(&s, B, NULL, 3000, 600000), BASE_CANDIDATE);
	assert_int_equal(s.candidate_since, 3000);
}

static void test_candidate_replaced(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, NULL, 0, 600000);
	base_observe(&s, B, NULL, 1000, 600000);
	/* a third digest within the window: it starts its own window */
	assert_int_equal(base_observe(&s, C, NULL, 500000, 600000), BASE_CANDIDATE);
	assert_string_equal(s.candidate, C);
	assert_int_equal(base_observe(&s, C, NULL, 700000, 600000), BASE_SETTLING);
	assert_int_equal(base_observe(&s, C, NULL, 1100000, 600000), BASE_MOVED);
	assert_string_equal(s.digest, C);
}

static void test_settle_zero(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, "sha256:index1", 0, 0);
	assert_string_equal(s.index_digest, "sha256:index1");
	assert_int_equal(base_observe(&s, B, "sha256:index2", 10, 0), BASE_MOVED);
	assert_string_equal(s.index_digest, "sha256:index2");
	/* the index moves (another platform) but our digest does not */
	assert_int_equal(base_observe(&s, B, "sha256:index3", 20, 0), BASE_SAME);
	assert_string_equal(s.index_digest, "sha256:index3");
}

/* A registry that never answers: the lookups stay in flight. */
static void mute(struct fakehttp_conn *c, const char *method, const char *target, void *arg)
{
	(void)method;
	(void)target;
	++*(unsigned *)arg;
	fakehttp_hold(c);
}

/* A configuration of one project in dir/name, built FROM base. */
static struct config *one_project(const char *dir, const char *name, const char *base)
{
	char path[512], text[2048];
	struct config_errors errs = {0};
	struct config *c = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/%s/Dockerfile", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "FROM %s\nUSER 65534\n", base);
	fclose(f);
	snprintf(text, sizeof(text),
	         "state_dir: %s\n"
	         "engines: [ { host: unix:///nonexistent.sock } ]\n"
	         "projects:\n"
	         "  - { name: %s, context: %s/%s, image: 127.0.0.1:1/team/%s,\n"
	         "      environments: { prod: {} } }\n",
	         dir, name, dir, name, name);
	assert_int_equal(config_parse("t.yaml", text, strlen(text), &c, &errs), 0);
	config_errors_done(&errs);
	return c;
}

/*
 * A reconfigure drops a reference whose lookup is in flight (the entry is freed when
 * the lookup ends); then the clients go, as a reload that changes the registries or a
 * stop does: the pool first, so the lookup never ends. The watcher still frees it
 * (LeakSanitizer says when it does not).
 */
static void test_dropped_inflight_freed(void **state)
{
	char dir[] = "/tmp/refit-watcher-XXXXXX", base[128], name[128], path[600], err[256];
	struct creds_opts co = {.docker_config = ""};
	struct watcher_opts wo = {.platform = "linux/amd64"};
	struct fakehttp reg = {0};
	unsigned got = 0;
	uv_loop_t loop;
	struct http_client *http;
	struct creds *creds;
	struct registry_pool *pool;
	struct store *store;
	struct watcher *w;
	struct config *one, *two;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(fakehttp_tcp(&loop, &reg, mute, &got), 0);
	snprintf(base, sizeof(base), "127.0.0.1:%d/base/x:1", reg.port);
	one = one_project(dir, "a", base);
	two = one_project(dir, "b", "127.0.0.1:1/base/y:1");
	snprintf(path, sizeof(path), "%s/state.db", dir);
	assert_int_equal(store_open(path, &store, err, sizeof(err)), 0);
	assert_int_equal(http_client_new(&loop, &http), 0);
	assert_int_equal(creds_new(&loop, &co, &creds), 0);
	assert_int_equal(registry_pool_new(&loop, http, creds, NULL, &pool), 0);
	assert_int_equal(watcher_new(&loop, store, pool, &wo, &w), 0);
	assert_int_equal(watcher_configure(w, one), 0);
	snprintf(name, sizeof(name), "127.0.0.1:%d/base/x", reg.port);
	watcher_check_now(w, name);
	for (int i = 0; got == 0 && i < 500; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	assert_true(got > 0); /* the lookup is on the wire */
	assert_int_equal(watcher_configure(w, two), 0);
	registry_pool_free(pool);
	watcher_free(w);
	creds_free(creds);
	http_client_close(http);
	fakehttp_stop(&reg);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	store_close(store);
	config_free(one);
	config_free(two);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_first_and_same),
	        cmocka_unit_test(test_settle_then_move),
	        cmocka_unit_test(test_flip_back),
	        cmocka_unit_test(test_candidate_replaced),
	        cmocka_unit_test(test_settle_zero),
	        cmocka_unit_test(test_dropped_inflight_freed),
	};

	log_setup(getenv("TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR, LOG_FMT_TEXT, false);
	http_global_init();
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return r;
}
