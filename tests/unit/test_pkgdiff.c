/* pkgdiff: added, removed, upgraded, downgraded by each ecosystem's order; fixes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evdoc_fixture.h"
#include "pkgdiff.h"

static const char *s(json_t *o, const char *path)
{
	return json_string_value(fx_at(o, path));
}

static void test_changes(void **state)
{
	struct evdoc_build b = fx_build();
	json_t *d = pkgdiff_json(&b);
	struct pkgdiff_counts c;

	(void)state;
	assert_non_null(d);
	assert_int_equal(json_integer_value(json_object_get(d, "previous_build")), 40);
	/* sorted by ecosystem family then name: Debian libssl3, then PyPI requests */
	assert_int_equal(json_array_size(json_object_get(d, "upgraded")), 2);
	assert_string_equal(s(d, "upgraded.0.name"), "libssl3");
	assert_string_equal(s(d, "upgraded.0.from"), "3.0.11-1~deb12u2");
	assert_string_equal(s(d, "upgraded.0.to"), "3.0.15-1~deb12u1");
	assert_string_equal(s(d, "upgraded.0.arch"), "amd64");
	assert_string_equal(s(d, "upgraded.0.fixes.0"), "CVE-2023-5678"); /* by source name */
	assert_string_equal(s(d, "upgraded.1.name"), "requests");
	assert_string_equal(s(d, "upgraded.1.fixes.0"), "PYSEC-2023-74");
	assert_string_equal(s(d, "upgraded.1.purl"), "pkg:pypi/requests@2.31.0");
	/* 2024b -> 2024a is older by Debian's order */
	assert_string_equal(s(d, "downgraded.0.name"), "tzdata");
	assert_string_equal(s(d, "added.0.name"), "six");
	assert_string_equal(s(d, "added.0.version"), "1.16.0");
	assert_null(json_object_get(json_array_get(json_object_get(d, "added"), 0), "fixes"));
	assert_string_equal(s(d, "removed.0.name"), "libgone1");
	assert_int_equal(json_array_size(fx_at(d, "removed.0.fixes")), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "unchanged")), 5);
	json_decref(d);
	assert_int_equal(pkgdiff_count(&b, &c), 0);
	assert_int_equal(c.added, 1);
	assert_int_equal(c.removed, 1);
	assert_int_equal(c.upgraded, 2);
	assert_int_equal(c.downgraded, 1);
	assert_int_equal(c.unchanged, 5);
}

/* Version order, not string order; a release upgrade; multi-arch copies. */
static void test_order_and_identity(void **state)
{
	struct evdoc_pkg old[] = {
	        {"PyPI", "numpy", "1.9.0", NULL, NULL, NULL, NULL},
	        {"Debian:11", "bash", "5.1-2", NULL, NULL, "amd64", NULL},
	        {"Debian:11", "libc6", "2.31-13", NULL, NULL, "amd64", NULL},
	        {"Debian:11", "libc6", "2.31-13", NULL, NULL, "i386", NULL},
	};
	struct evdoc_pkg now[] = {
	        {"PyPI", "numpy", "1.10.0", NULL, NULL, NULL, NULL},
	        {"Debian:12", "bash", "5.2.15-2+b2", NULL, NULL, "amd64", NULL},
	        {"Debian:12", "libc6", "2.36-9", NULL, NULL, "amd64", NULL},
	};
	struct evdoc_build b = {
	        .prev_id = 1, .prev_pkgs = old, .n_prev_pkgs = 4, .pkgs = now, .n_pkgs = 3};
	json_t *d = pkgdiff_json(&b);

	(void)state;
	assert_int_equal(json_array_size(json_object_get(d, "upgraded")), 3);
	assert_string_equal(s(d, "upgraded.0.name"), "bash");
	assert_string_equal(s(d, "upgraded.2.name"), "numpy"); /* 1.9.0 < 1.10.0 */
	assert_string_equal(s(d, "removed.0.arch"), "i386");
	assert_int_equal(json_array_size(json_object_get(d, "added")), 0);
	json_decref(d);
}

/* No previous image: everything is added, previous_build is null. */
static void test_first(void **state)
{
	struct evdoc_build b = fx_build();
	json_t *d;

	(void)state;
	b.prev_id = 0;
	b.n_prev_pkgs = 0;
	d = pkgdiff_json(&b);
	assert_true(json_is_null(json_object_get(d, "previous_build")));
	assert_int_equal(json_array_size(json_object_get(d, "added")), b.n_pkgs);
	json_decref(d);
}

static json_t *diff_of(const void *arg)
{
	return pkgdiff_json(arg);
}

static void test_alloc_failures(void **state)
{
	struct evdoc_build b = fx_build();

	(void)state;
	assert_true(fx_fail_each(diff_of, &b) > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_changes),
	        cmocka_unit_test(test_order_and_identity),
	        cmocka_unit_test(test_first),
	        cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
