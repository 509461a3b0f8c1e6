/*
 * promote: whether IMAGE:ENV moves now or waits for the window, on a fake clock;
 * and the window: and urgent_advisories: keys with their errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "promote.h"
#include "tzif.h"

/* UTC milliseconds of a date and time. */
static uint64_t at(int y, unsigned mo, unsigned d, int h, int mi)
{
	return (uint64_t)(tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static const char yaml[] =
        "projects:\n"
        "  - name: a\n"
        "    context: /srv/a\n"
        "    image: reg.test/ds/a\n"
        "    environments:\n"
        "      test: {}\n"
        "      prod: { requires: test, window: Mon-Fri 02:00-05:00 Europe/Berlin }\n"
        "      rnd: { window: 'Sat-Sun 10:00-12:00 UTC', urgent_advisories: true }\n";

/* The configuration above, with Berlin's rules as the daemon would have read them. */
static struct config *load(void)
{
	struct config_errors errs = {0};
	struct config *c = NULL;

	assert_int_equal(config_parse("t.yaml", yaml, strlen(yaml), &c, &errs), 0);
	config_errors_done(&errs);
	assert_null(c->projects[0].envs[0].window);
	assert_non_null(c->projects[0].envs[1].window);
	assert_false(c->projects[0].envs[1].urgent_advisories);
	assert_true(c->projects[0].envs[2].urgent_advisories);
	/* config_parse reads no file: the zones are set here as config_load_checked would */
	assert_int_equal(tzif_parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", &c->projects[0].envs[1].tz),
	                 0);
	assert_int_equal(tzif_parse_posix("UTC0", &c->projects[0].envs[2].tz), 0);
	return c;
}

static enum promote_verdict decide(const struct config_env *e, bool fix, bool held, uint64_t now,
                                   uint64_t *ret_at)
{
	struct promote_input in = {.env = e, .security_fix = fix, .held = held, .now_ms = now};

	return promote_decide(&in, ret_at);
}

static void test_no_window(void **state)
{
	struct config *c = load();
	const struct config_env *test = &c->projects[0].envs[0];
	uint64_t when = 0, now = at(2026, 12, 11, 14, 0); /* a Friday afternoon */

	(void)state;
	assert_int_equal(decide(test, false, false, now, &when), PROMOTE_NOW);
	assert_int_equal(when, now);
	assert_int_equal(decide(test, false, true, now, &when), PROMOTE_HELD);
	config_free(c);
}

static void test_closed_and_open(void **state)
{
	struct config *c = load();
	const struct config_env *prod = &c->projects[0].envs[1];
	uint64_t when = 0;

	(void)state;
	/* Friday 14:00 UTC (15:00 in Berlin): waits until Monday 02:00 Berlin = 01:00 UTC */
	assert_int_equal(decide(prod, false, false, at(2026, 12, 11, 14, 0), &when), PROMOTE_WAIT);
	assert_int_equal(when, at(2026, 12, 14, 1, 0));
	/* Tuesday 01:30 UTC = 02:30 Berlin: open */
	assert_int_equal(decide(prod, false, false, at(2026, 12, 15, 1, 30), &when), PROMOTE_NOW);
	assert_int_equal(when, at(2026, 12, 15, 1, 30));
	/* the end is not in the window: 04:00 UTC = 05:00 Berlin waits for Wednesday */
	assert_int_equal(decide(prod, false, false, at(2026, 12, 15, 4, 0), &when), PROMOTE_WAIT);
	assert_int_equal(when, at(2026, 12, 16, 1, 0));
	/* summer time: 02:00 Berlin is 00:00 UTC */
	assert_int_equal(decide(prod, false, false, at(2026, 6, 5, 12, 0), &when), PROMOTE_WAIT);
	assert_int_equal(when, at(2026, 6, 8, 0, 0));
	/* the clock moves on to the opening: due */
	assert_int_equal(decide(prod, false, false, at(2026, 6, 8, 0, 0), &when), PROMOTE_NOW);
	config_free(c);
}

static void test_urgent(void **state)
{
	struct config *c = load();
	const struct config_env *prod = &c->projects[0].envs[1], *rnd = &c->projects[0].envs[2];
	uint64_t when = 0, fri = at(2026, 12, 11, 14, 0);

	(void)state;
	/* a security fix without urgent_advisories waits like any build */
	assert_int_equal(decide(prod, true, false, fri, &when), PROMOTE_WAIT);
	/* with it, it goes at once; anything else still waits for Saturday 10:00 UTC */
	assert_int_equal(decide(rnd, true, false, fri, &when), PROMOTE_NOW);
	assert_int_equal(when, fri);
	assert_int_equal(decide(rnd, false, false, fri, &when), PROMOTE_WAIT);
	assert_int_equal(when, at(2026, 12, 12, 10, 0));
	/* a hold stops even an urgent one */
	assert_int_equal(decide(rnd, true, true, fri, &when), PROMOTE_HELD);
	config_free(c);
}

static void test_held_in_window(void **state)
{
	struct config *c = load();
	const struct config_env *prod = &c->projects[0].envs[1];
	uint64_t when = 0, open = at(2026, 12, 15, 1, 30);

	(void)state;
	assert_int_equal(decide(prod, false, true, open, &when), PROMOTE_HELD);
	assert_int_equal(when, open);
	assert_string_equal(promote_verdict_name(PROMOTE_HELD), "held");
	assert_string_equal(promote_verdict_name(PROMOTE_WAIT), "waiting for window");
	config_free(c);
}

static void test_no_zone_read(void **state)
{
	struct config *c = load();
	struct config_env *prod = &c->projects[0].envs[1];
	uint64_t when = 0;

	(void)state;
	tz_free(prod->tz); /* config_parse alone: as before windows, never stuck */
	prod->tz = NULL;
	assert_int_equal(decide(prod, false, false, at(2026, 12, 11, 14, 0), &when), PROMOTE_NOW);
	config_free(c);
}

static void parse_bad(const char *env, const char *want)
{
	char text[512];
	struct config_errors errs = {0};
	struct config *c = NULL;
	bool found = false;

	snprintf(text, sizeof(text),
	         "projects:\n  - name: a\n    context: /srv/a\n    image: reg.test/ds/a\n"
	         "    environments:\n      prod: %s\n",
	         env);
	assert_int_equal(config_parse("t.yaml", text, strlen(text), &c, &errs), -EINVAL);
	for (size_t i = 0; i < errs.n; i++)
		found |= !strncmp(errs.lines[i], want, strlen(want));
	for (size_t i = 0; !found && i < errs.n; i++)
		print_message("got: %s\n", errs.lines[i]);
	assert_true(found);
	config_errors_done(&errs);
}

static void test_config_errors(void **state)
{
	(void)state;
	parse_bad("{ window: 'Mon-Fri 25:00-05:00' }",
	          "t.yaml:6:23: window: 'Mon-Fri 25:00-05:00': ");
	parse_bad("{ window: 'Mon-Fri 02:00-05:00 ../etc/passwd' }", "t.yaml:6:23: window: ");
	parse_bad("{ urgent_advisories: maybe }", "t.yaml:6:34: ");
}

/* config_load_checked reads the zone: an unknown one fails the load (start, SIGHUP). */
static void test_zone_files(void **state)
{
	char dir[] = "/tmp/refit-test-promote.XXXXXX", path[256], ctx[160];
	struct config_errors errs = {0};
	struct config *c = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(ctx, sizeof(ctx), "%s/ctx", dir);
	assert_int_equal(mkdir(ctx, 0755), 0);
	snprintf(path, sizeof(path), "%s/Dockerfile", ctx);
	f = fopen(path, "w");
	fputs("FROM busybox\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/refit.yaml", dir);
	f = fopen(path, "w");
	fprintf(f,
	        "projects:\n  - name: a\n    context: %s\n    image: reg.test/ds/a\n"
	        "    environments:\n      prod: { window: 'daily 02:00-03:00 Nowhere/Atlantis' }\n"
	        "      test: { window: 'daily 02:00-03:00' }\n",
	        ctx);
	fclose(f);
	assert_int_equal(config_load_checked(path, &c, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(
	        strstr(errs.lines[0], ":6:23: window: unknown time zone 'Nowhere/Atlantis'"));
	config_errors_done(&errs);

	f = fopen(path, "w");
	fprintf(f,
	        "projects:\n  - name: a\n    context: %s\n    image: reg.test/ds/a\n"
	        "    environments:\n      prod: { window: 'daily 02:00-03:00 Europe/Berlin' }\n",
	        ctx);
	fclose(f);
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0) {
		assert_int_equal(config_load_checked(path, &c, &errs), 0);
		assert_non_null(c->projects[0].envs[0].tz);
		config_free(c);
	}
	config_errors_done(&errs);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Dockerfile", ctx);
	unlink(path);
	rmdir(ctx);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_no_window),    cmocka_unit_test(test_closed_and_open),
	        cmocka_unit_test(test_urgent),       cmocka_unit_test(test_held_in_window),
	        cmocka_unit_test(test_no_zone_read), cmocka_unit_test(test_config_errors),
	        cmocka_unit_test(test_zone_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
