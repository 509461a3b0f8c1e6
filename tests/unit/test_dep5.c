/* dep5: licences of real Debian 12 copyright files (tests/fixtures/dep5, see ORIGIN.md), and edges.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dep5.h"
#include "evdoc.h"

#define FIX "tests/fixtures/dep5/"

static int licence_of(const char *name, char *out, size_t outlen)
{
	static char buf[256 << 10];
	FILE *f = fopen(name, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return dep5_license(buf, n, out, outlen);
}

static void test_spdx(void **state)
{
	static const char *const cases[][2] = {
	        {"zlib1g", "Zlib"},
	        {"libjansson4", "MIT"}, /* Expat */
	        {"ca-certificates", "GPL-2.0-or-later AND MPL-2.0"},
	        {"libssl3", "Apache-2.0 AND (Artistic-1.0-Perl OR GPL-1.0-or-later)"},
	        {NULL, NULL}};
	char out[257];

	(void)state;
	for (size_t i = 0; cases[i][0]; i++) {
		char path[128];
		snprintf(path, sizeof(path), FIX "%s", cases[i][0]);
		assert_int_equal(licence_of(path, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i][1]);
		assert_true(evdoc_license_is_expression(out));
	}
}

/* A name without an SPDX id: Debian's words, which the SBOM keeps as a comment. */
static void test_debian_words(void **state)
{
	char out[257];

	(void)state;
	assert_int_equal(licence_of(FIX "tzdata", out, sizeof(out)), 0);
	assert_string_equal(out, "public-domain");
	assert_false(evdoc_license_is_expression(out));
	assert_int_equal(licence_of(FIX "libsqlite3-0", out, sizeof(out)), 0);
	assert_string_equal(out, "public-domain; GPL-2+");
	assert_int_equal(licence_of(FIX "libyaml-0-2", out, sizeof(out)), 0);
	assert_string_equal(out, "Expat; permissive");
	assert_false(evdoc_license_is_expression(out));
	/* perl-base names more than fits: cut after the last whole name */
	assert_int_equal(licence_of(FIX "perl-base", out, sizeof(out)), 0);
	assert_true(strlen(out) < sizeof(out));
	assert_string_equal(out + strlen(out) - 5, "; ...");
	assert_memory_equal(out, "GPL-1+ or Artistic; Expat; ", 27);
}

static void test_not_machine_readable(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(licence_of(FIX "libc6", out, sizeof(out)), -ENOENT);
	assert_int_equal(dep5_license("", 0, out, sizeof(out)), -ENOENT);
	assert_int_equal(dep5_license("License: MIT\n", 13, out, sizeof(out)), -ENOENT);
	assert_int_equal(dep5_license("x", 1, out, 1), -EINVAL);
}

static void test_edges(void **state)
{
	static const char doc[] =
	        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\r\n"
	        "Upstream-Name: x\r\n"
	        " \t \r\n"
	        "Files: *\r\n"
	        "License:   GPL-2+   with   OpenSSL   exception\r\n"
	        " the text, which is not the synopsis\r\n"
	        "\r\n"
	        "License: BSD-3-clause\r\n" /* standalone: a text, not a file's licence */
	        " text\r\n"
	        "\r\n"
	        "Files: a/*\r\n"
	        "License: LGPL-2.1+ or GPL-3\r\n"
	        "\r\n"
	        "Files: b/*\r\n"
	        "License: GPL-2+ with OpenSSL exception\r\n";
	char out[257], tiny[12];

	(void)state;
	assert_int_equal(dep5_license(doc, sizeof(doc) - 1, out, sizeof(out)), 0);
	assert_string_equal(out, "GPL-2.0-or-later WITH OpenSSL-exception AND "
	                         "(LGPL-2.1-or-later OR GPL-3.0-only)");
	assert_true(evdoc_license_is_expression(out));
	/* an expression that does not fit is not cut: Debian's words are, and say so */
	assert_int_equal(dep5_license(doc, sizeof(doc) - 1, tiny, sizeof(tiny)), 0);
	assert_true(strlen(tiny) < sizeof(tiny));
	assert_non_null(strstr(tiny, "..."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_spdx),
	        cmocka_unit_test(test_debian_words),
	        cmocka_unit_test(test_not_machine_readable),
	        cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
