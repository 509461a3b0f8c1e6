/*
 * test_follow — the ARG of a FROM's tag an environment may follow: template
 * matching, refusals, deriving the value for a newer tag, and the FROM found
 * in a Dockerfile with defaults and environment build args.
 */
#include "follow.h"
#include "dockerfile.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int tpl(const char *raw, const char *tag, struct follow_tpl *t)
{
	char why[256] = "";
	int r = follow_template(raw, tag, t, why, sizeof(why));

	if (r < 0)
		print_message("  %s (%s): %s\n", raw, tag, why);
	return r;
}

static void test_template(void **state)
{
	struct follow_tpl t;
	char v[64], tag[160];

	(void)state;
	/* the whole tag */
	assert_int_equal(tpl("python:${PY}", "3.11.4", &t), 0);
	assert_string_equal(t.arg, "PY");
	assert_string_equal(t.prefix, "");
	assert_string_equal(t.suffix, "");
	assert_string_equal(t.value, "3.11.4");
	assert_int_equal(follow_derive(&t, "3.11.9", v, sizeof(v)), 0);
	assert_string_equal(v, "3.11.9");
	/* a suffix, $NAME spelling, a variable registry with a port */
	assert_int_equal(tpl("$R/refit-test/py:${PY}-slim", "3.11.4-slim", &t), 0);
	assert_string_equal(t.arg, "PY");
	assert_string_equal(t.suffix, "-slim");
	assert_int_equal(follow_derive(&t, "3.11.9-slim", v, sizeof(v)), 0);
	assert_string_equal(v, "3.11.9");
	assert_int_equal(follow_tag(&t, "3.11.9", tag, sizeof(tag)), 0);
	assert_string_equal(tag, "3.11.9-slim");
	assert_int_equal(follow_derive(&t, "3.11.9-alpine", v, sizeof(v)), -EINVAL);
	assert_int_equal(follow_derive(&t, "-slim", v, sizeof(v)), -EINVAL);
	assert_int_equal(follow_derive(&t, "slim-slim", v, sizeof(v)), -EINVAL);
	assert_int_equal(tpl("localhost:5000/py:$PY-slim", "3.11.4-slim", &t), 0);
	assert_string_equal(t.arg, "PY");
	/* a literal prefix before the ARG */
	assert_int_equal(tpl("x/y:v${V}", "v1.2", &t), 0);
	assert_string_equal(t.prefix, "v");
	assert_int_equal(follow_derive(&t, "v1.3", v, sizeof(v)), 0);
	assert_string_equal(v, "1.3");
	/* the value may carry the flavour too */
	assert_int_equal(tpl("python:${PY}", "3.11.4-slim", &t), 0);
	assert_int_equal(follow_derive(&t, "3.11.9-slim", v, sizeof(v)), 0);
	assert_string_equal(v, "3.11.9-slim");
}

static void test_refused(void **state)
{
	struct follow_tpl t;

	(void)state;
	/* the ARG is the variant, not the version */
	assert_int_equal(tpl("python:3.11-${VARIANT}", "3.11-slim", &t), -EINVAL);
	/* two ARGs in one tag, or one twice */
	assert_int_equal(tpl("python:${PY}-${VARIANT}", "3.11.4-slim", &t), -EINVAL);
	assert_int_equal(tpl("x:${PY}-py${PY}", "3.11-py3.11", &t), -EINVAL);
	/* only part of the version */
	assert_int_equal(tpl("python:3.${MINOR}.4", "3.11.4", &t), -EINVAL);
	assert_int_equal(tpl("python:${MAJOR}.11.4", "3.11.4", &t), -EINVAL);
	/* modifiers */
	assert_int_equal(tpl("python:${PY:-3.11}", "3.11", &t), -EINVAL);
	/* not a version */
	assert_int_equal(tpl("debian:${SUITE}", "bookworm", &t), -EINVAL);
	/* no ARG in the tag, no written tag, a digest */
	assert_int_equal(tpl("$R/python:3.11", "3.11", &t), -ENOENT);
	assert_int_equal(tpl("${IMAGE}", "3.11", &t), -ENOENT);
	assert_int_equal(tpl("python:${PY}@sha256:aa", "3.11", &t), -ENOENT);
	/* an escaped dollar is literal */
	assert_int_equal(tpl("python:\\$PY", "$PY", &t), -ENOENT);
	/* the written tag does not match the resolved one */
	assert_int_equal(tpl("python:${PY}-slim", "3.11.4-alpine", &t), -EINVAL);
}

static const char dockerfile[] = "ARG R=registry.example\n"
                                 "ARG PY=3.11.4\n"
                                 "ARG VARIANT=slim\n"
                                 "FROM $R/refit-test/py:${PY}-slim AS app\n"
                                 "RUN true\n"
                                 "FROM python:3.11-${VARIANT} AS other\n"
                                 "RUN true\n";

static void test_find(void **state)
{
	struct dockerfile *df = NULL;
	struct follow_base fb;
	char err[512];
	const char *none[] = {NULL};
	const char *args[] = {"PY=3.12.1", NULL};

	(void)state;
	assert_int_equal(dockerfile_parse(dockerfile, strlen(dockerfile), &df, err, sizeof(err)),
	                 0);
	/* the default */
	assert_int_equal(follow_find(df, none, "app", NULL, &fb, err, sizeof(err)), 0);
	assert_string_equal(fb.tpl.arg, "PY");
	assert_string_equal(fb.tpl.value, "3.11.4");
	assert_string_equal(fb.ref, "registry.example/refit-test/py:3.11.4-slim");
	assert_string_equal(fb.tag, "3.11.4-slim");
	assert_int_equal(fb.line, 4);
	/* the environment's build arg wins */
	assert_int_equal(follow_find(df, args, "app", NULL, &fb, err, sizeof(err)), 0);
	assert_string_equal(fb.tpl.value, "3.12.1");
	assert_string_equal(fb.ref, "registry.example/refit-test/py:3.12.1-slim");
	/* the last stage's ARG is the variant: refused, with the line and why */
	assert_int_equal(follow_find(df, none, NULL, NULL, &fb, err, sizeof(err)), -ENOENT);
	print_message("  %s\n", err);
	assert_non_null(strstr(err, "line 6"));
	assert_non_null(strstr(err, "VARIANT"));
	dockerfile_free(df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_template),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
