/* vex: statements per advisory and state, action statements, never not_affected. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evdoc_fixture.h"
#include "vex.h"

static json_t *stmt(json_t *d, const char *id)
{
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(d, "statements"), i, x)
	{
		if (!strcmp(json_string_value(fx_at(x, "vulnerability.name")), id))
			return x;
	}
	fail_msg("no statement for %s", id);
	return NULL;
}

static const char *s(json_t *o, const char *path)
{
	return json_string_value(fx_at(o, path));
}

static void test_document(void **state)
{
	struct evdoc_build b = fx_build();
	json_t *d = NULL, *x;
	size_t i;

	(void)state;
	assert_int_equal(vex_document(&b, &d), 0);
	assert_string_equal(s(d, "@context"), "https://openvex.dev/ns/v0.2.0");
	assert_string_equal(s(d, "@id"), "urn:refit:vex:churn:prod:42");
	assert_int_equal(json_array_size(json_object_get(d, "statements")), 6);
	json_array_foreach(json_object_get(d, "statements"), i, x)
	{
		const char *st = s(x, "status");
		assert_true(!strcmp(st, "fixed") || !strcmp(st, "affected"));
		assert_true(!strcmp(st, "fixed") || json_object_get(x, "action_statement"));
	}
	x = stmt(d, "PYSEC-2023-74");
	assert_string_equal(s(x, "status"), "fixed");
	assert_string_equal(s(x, "status_notes"),
	                    "Fixed by this rebuild: requests 2.25.0 -> 2.31.0.");
	assert_string_equal(s(x, "products.0.subcomponents.0.@id"), "pkg:pypi/requests@2.31.0");
	assert_true(!strncmp(s(x, "products.0.@id"), "pkg:oci/churn@sha256%3Aabab", 27));
	x = stmt(d, "CVE-2023-5678"); /* a source package: the binary's purl */
	assert_string_equal(s(x, "status"), "fixed");
	assert_string_equal(s(x, "products.0.subcomponents.0.@id"),
	                    "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12");
	x = stmt(d, "PYSEC-2023-192");
	assert_string_equal(s(x, "status"), "affected");
	assert_true(!strncmp(s(x, "action_statement"), "Needs a change in the project", 29));
	assert_non_null(strstr(s(x, "action_statement"), "urllib3>=1.26.17"));
	x = stmt(d, "CVE-2024-0002");
	assert_true(!strncmp(s(x, "action_statement"), "Pending upstream: openssl 3.0.16", 32));
	x = stmt(d, "CVE-2024-0001");
	assert_true(!strncmp(s(x, "action_statement"), "Pending upstream: no fixed version", 34));
	assert_string_equal(s(x, "products.0.subcomponents.0.@id"),
	                    "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12");
	x = stmt(d, "CVE-2024-0003");
	assert_non_null(strstr(s(x, "action_statement"), "refit rebuilds the image without cache"));
	json_decref(d);
}

/* Two packages of one source and one advisory: one statement, both subcomponents. */
static void test_grouping(void **state)
{
	struct evdoc_pkg pk[] = {
	        {"Debian:12", "libssl3", "3.0.15", "openssl", "3.0.15", "amd64", NULL},
	        {"Debian:12", "openssl", "3.0.15", "openssl", "3.0.15", "amd64", NULL},
	        {"Debian:12", "openssl", "3.0.15", "openssl", "3.0.15", "amd64", NULL}, /* repeat */
	};
	struct evdoc_advisory adv[] = {
	        {"CVE-1", "libssl3", "Debian:12", "3.0.15", "3.0.16", "pending-upstream"},
	        {"CVE-1", "openssl", "Debian:12", "3.0.15", "3.0.16", "pending-upstream"},
	};
	struct evdoc_build b = fx_build();
	json_t *d = NULL;

	(void)state;
	b.pkgs = pk;
	b.n_pkgs = 3;
	b.advisories = adv;
	b.n_advisories = 2;
	assert_int_equal(vex_document(&b, &d), 0);
	assert_int_equal(json_array_size(json_object_get(d, "statements")), 1);
	assert_int_equal(json_array_size(fx_at(d, "statements.0.products.0.subcomponents")), 2);
	assert_non_null(strstr(s(d, "statements.0.action_statement"), "(2 packages)"));
	json_decref(d);
}

/* The context pins the package (main's needs-change state): a change in the project. */
static void test_needs_change(void **state)
{
	struct evdoc_advisory adv[] = {
	        {"CVE-9", "requests", "PyPI", "2.25.0", "2.31.0", "needs-change"},
	};
	struct evdoc_build b = fx_build();
	json_t *d = NULL;

	(void)state;
	b.advisories = adv;
	b.n_advisories = 1;
	assert_int_equal(vex_document(&b, &d), 0);
	assert_string_equal(s(d, "statements.0.status"), "affected");
	assert_true(!strncmp(s(d, "statements.0.action_statement"),
	                     "Needs a change in the project: the build context pins requests", 62));
	json_decref(d);
}

static void test_errors(void **state)
{
	struct evdoc_build b = fx_build();
	json_t *d = NULL;

	(void)state;
	b.n_advisories = 0;
	assert_int_equal(vex_document(&b, &d), -ENODATA);
	b = fx_build();
	b.digest = b.image_id = NULL;
	assert_int_equal(vex_document(&b, &d), -EINVAL);
	assert_null(d);
}

static json_t *vex_of(const void *arg)
{
	json_t *d = NULL;

	return vex_document(arg, &d) == 0 ? d : NULL;
}

static void test_alloc_failures(void **state)
{
	struct evdoc_build b = fx_build();

	(void)state;
	assert_true(fx_fail_each(vex_of, &b) > 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_document),       cmocka_unit_test(test_grouping),
	        cmocka_unit_test(test_needs_change),   cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
