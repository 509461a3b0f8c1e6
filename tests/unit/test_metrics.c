/*
 * metrics: the exposition of a real store (build counts and the duration histogram that
 * the store keeps as builds change), and label escaping.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "metrics.h"
#include "store.h"

static void test_label_escape(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	metrics_label_escape(f, "a\"b\\c\nd");
	fclose(f);
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	free(buf);
}

/* One finished build of project p, environment env, that ran secs seconds. */
static void build(struct store *s, const char *env, const char *status, uint64_t secs)
{
	struct store_build b = {
	        .project = "p", .env = env, .trigger = "manual", .status = "queued"};
	int64_t id = 0;

	assert_int_equal(store_build_insert(s, &b, &id), 0);
	b = (struct store_build){.status = "running", .started_at = 1000};
	assert_int_equal(store_build_update(s, id, &b), 0);
	b = (struct store_build){.status = status, .finished_at = 1000 + secs * 1000};
	assert_int_equal(store_build_update(s, id, &b), 0);
}

static void test_builds_section(void **state)
{
	static const char yaml[] = "state_dir: /tmp\nengines: [ { host: unix:///x.sock } ]\n"
	                           "projects:\n  - { name: p, context: /tmp, image: r.test/p,"
	                           " environments: { test: {}, prod: {} } }\n";
	char dir[] = "/tmp/refit-metrics-XXXXXX", path[64];
	struct config_errors errs = {0};
	struct config *cfg = NULL;
	struct store *s = NULL;
	char err[256], *body = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
	assert_int_equal(config_parse("m.yaml", yaml, sizeof(yaml) - 1, &cfg, &errs), 0);
	assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
	build(s, "prod", "succeeded", 10);   /* <= 30 s */
	build(s, "prod", "succeeded", 100);  /* <= 120 s */
	build(s, "prod", "failed", 5000);    /* <= 7200 s */
	build(s, "prod", "interrupted", 40); /* not a finished build: no duration */
	build(s, "test", "failed", 9000);    /* +Inf */
	struct metrics_view v = {.store = s, .cfg = cfg, .started_at_ms = 1, .now_ms = 2};
	assert_int_equal(metrics_render(&v, &body, &len), 0);
	assert_non_null(strstr(body, "refit_builds_total{project=\"p\",env=\"prod\",result="
	                             "\"succeeded\"} 2\n"));
	assert_non_null(strstr(body, "refit_builds_total{project=\"p\",env=\"prod\",result="
	                             "\"failed\"} 1\n"));
	/* cumulative buckets */
	assert_non_null(strstr(body, "refit_build_duration_seconds_bucket{project=\"p\",env="
	                             "\"prod\",le=\"30\"} 1\n"));
	assert_non_null(strstr(body, "refit_build_duration_seconds_bucket{project=\"p\",env="
	                             "\"prod\",le=\"120\"} 2\n"));
	assert_non_null(strstr(body, "refit_build_duration_seconds_bucket{project=\"p\",env="
	                             "\"prod\",le=\"3600\"} 2\n"));
	assert_non_null(strstr(body, "refit_build_duration_seconds_bucket{project=\"p\",env="
	                             "\"prod\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(body, "refit_build_duration_seconds_count{project=\"p\",env="
	                             "\"prod\"} 3\n"));
	assert_non_null(strstr(body, "refit_build_duration_seconds_sum{project=\"p\",env="
	                             "\"prod\"} 5110.000\n"));
	assert_non_null(strstr(body, "refit_build_duration_seconds_bucket{project=\"p\",env="
	                             "\"test\",le=\"7200\"} 0\n"));
	assert_non_null(strstr(body, "refit_build_duration_seconds_bucket{project=\"p\",env="
	                             "\"test\",le=\"+Inf\"} 1\n"));
	free(body);
	store_close(s);
	config_free(cfg);
	config_errors_done(&errs);
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	assert_int_equal(system(err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_label_escape),
	        cmocka_unit_test(test_builds_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
