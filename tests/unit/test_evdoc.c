/* evdoc: package URLs, distro qualifiers, times, licence expressions, digests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "evdoc.h"

static void purl_is(const struct evdoc_pkg *p, const char *want)
{
	char buf[EVDOC_PURL_MAX];

	assert_int_equal(evdoc_purl(p, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void test_purl(void **state)
{
	(void)state;
	/* the example, with the '+' and '~' of Debian versions */
	purl_is(&(struct evdoc_pkg){"Debian:12", "openssl", "3.0.11-1~deb12u2", "openssl",
	                            "3.0.11-1~deb12u2", "amd64", NULL},
	        "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");
	purl_is(&(struct evdoc_pkg){"Debian:12", "libc6", "2.36-9+deb12u9", "glibc", NULL, "amd64",
	                            NULL},
	        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12");
	/* an epoch's ':' is encoded */
	purl_is(&(struct evdoc_pkg){"Debian:11", "bsdutils", "1:2.36.1-8", NULL, NULL, NULL, NULL},
	        "pkg:deb/debian/bsdutils@1%3A2.36.1-8?distro=debian-11");
	purl_is(&(struct evdoc_pkg){"Ubuntu:22.04:LTS", "bash", "5.1-6ubuntu1", NULL, NULL, "amd64",
	                            NULL},
	        "pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04");
	purl_is(&(struct evdoc_pkg){"Alpine:v3.18", "musl", "1.2.4-r0", NULL, NULL, "x86_64",
	                            "MIT"},
	        "pkg:apk/alpine/musl@1.2.4-r0?arch=x86_64&distro=alpine-3.18");
	purl_is(&(struct evdoc_pkg){"PyPI", "requests", "2.31.0", NULL, NULL, NULL, NULL},
	        "pkg:pypi/requests@2.31.0");
	/* arch means nothing to PyPI: left out */
	purl_is(&(struct evdoc_pkg){"PyPI", "zope-interface", "6.0+local", NULL, NULL, "x86_64",
	                            NULL},
	        "pkg:pypi/zope-interface@6.0%2Blocal");
	purl_is(&(struct evdoc_pkg){"", "thing", "1", NULL, NULL, NULL, NULL},
	        "pkg:generic/thing@1");
	purl_is(&(struct evdoc_pkg){NULL, "a b", "1/2", NULL, NULL, NULL, NULL},
	        "pkg:generic/a%20b@1%2F2");
}

static void test_purl_bounds(void **state)
{
	struct evdoc_pkg p = {"Debian:12", "openssl", "3.0.11", NULL, NULL, "amd64", NULL};
	char buf[EVDOC_PURL_MAX];
	int n = evdoc_purl(&p, buf, sizeof(buf));

	(void)state;
	for (size_t len = 0; len <= (size_t)n; len++) /* every buffer too small by one or more */
		assert_int_equal(evdoc_purl(&p, buf, len), -ENOSPC);
	assert_int_equal(evdoc_purl(&p, buf, (size_t)n + 1), n);
}

static void test_distro(void **state)
{
	char b[32];

	(void)state;
	evdoc_distro("Debian:12", b, sizeof(b));
	assert_string_equal(b, "debian-12");
	evdoc_distro("Ubuntu:20.04:LTS", b, sizeof(b));
	assert_string_equal(b, "ubuntu-20.04");
	evdoc_distro("Alpine:v3.11", b, sizeof(b));
	assert_string_equal(b, "alpine-3.11");
	evdoc_distro("PyPI", b, sizeof(b));
	assert_string_equal(b, "");
	evdoc_distro("Debian:", b, sizeof(b));
	assert_string_equal(b, "");
	evdoc_distro(NULL, b, sizeof(b));
	assert_string_equal(b, "");
}

static void test_license(void **state)
{
	static const char *const yes[] = {"MIT",
	                                  "GPL-2.0-only",
	                                  "MIT AND BSD-2-Clause AND GPL-2.0-or-later",
	                                  "(MIT OR Apache-2.0) AND Zlib",
	                                  "GPL-2.0-or-later WITH Classpath-exception-2.0",
	                                  "LGPL-2.1+",
	                                  "bsd-3-clause",
	                                  "LicenseRef-refit-test",
	                                  NULL};
	static const char *const no[] = {"",
	                                 "MIT BSD GPL2+",
	                                 "AND",
	                                 "MIT AND",
	                                 "(MIT",
	                                 "MIT)",
	                                 "MIT OR OR",
	                                 "Public Domain",
	                                 "MIT,BSD",
	                                 "GPL-2+",
	                                 "public-domain",
	                                 "GPL-2-oracle",
	                                 "MIT WITH MIT",
	                                 "GPL-2.0-only WITH Foo-exception",
	                                 NULL};

	(void)state;
	for (size_t i = 0; yes[i]; i++)
		assert_true(evdoc_license_is_expression(yes[i]));
	for (size_t i = 0; no[i]; i++)
		assert_false(evdoc_license_is_expression(no[i]));
	assert_false(evdoc_license_is_expression(NULL));
}

static void test_time_digest(void **state)
{
	char b[40];

	(void)state;
	evdoc_time(1765154062500, b, sizeof(b));
	assert_string_equal(b, "2025-12-08T00:34:22Z");
	evdoc_time(0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00Z");
	assert_string_equal(
	        evdoc_sha256_hex("sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
	                         "0123456789abcdef"),
	        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_null(evdoc_sha256_hex("sha256:0123"));
	assert_null(evdoc_sha256_hex("sha512:0123456789abcdef0123456789abcdef0123456789abcdef"
	                             "0123456789abcdef"));
	assert_null(evdoc_sha256_hex("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
	                             "0123456789abcdef"));
	assert_null(evdoc_sha256_hex(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_purl),        cmocka_unit_test(test_purl_bounds),
	        cmocka_unit_test(test_distro),      cmocka_unit_test(test_license),
	        cmocka_unit_test(test_time_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
