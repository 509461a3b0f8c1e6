/*
 * test_pkgdb — the package-database parsers on the real files copied into
 * tests/fixtures/feeds/pkgdb/ (see ORIGIN.md there) and on hand-written
 * inputs for the forms the real files lack (not-installed stanzas, CRLF,
 * malformed lines with their exact error).
 *
 * Every package of every real dpkg and apk file is compared with an
 * independent listing next to it (*.expected.tsv: dpkg-query for dpkg, a
 * separate Python reader for apk; ORIGIN.md says how they were made). Real
 * files are loaded into buffers of exactly their size, without a NUL, so
 * ASan catches any read past len. Run from the repository root.
 */
#include "pkgdb.h"
#include "version.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define FIX     "tests/fixtures/feeds/pkgdb/"
#define ROW_MAX (2 * PKGDB_NAME_MAX + 2 * VERSION_MAX_LEN + 8)

/* ---- helpers ---- */

/* The file in a malloc'd buffer of exactly its size (no NUL terminator). */
/* Exactly the file's bytes, with no NUL after them (unlike test_read_file): a parser that
 * reads one byte past its length is caught by ASan. */
static char *load(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), FIX "%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* What a walk reported, one "name\tversion\tsource\tsource_version" row each. */
struct got {
	char (*rows)[ROW_MAX];
	size_t n, cap;
	int stop_at; /* return -ECANCELED from this call (1-based), 0 never */
};

static void got_init(struct got *g, size_t cap)
{
	g->rows = calloc(cap, ROW_MAX);
	assert_non_null(g->rows);
	g->n = 0;
	g->cap = cap;
	g->stop_at = 0;
}

static int collect_cb(const struct pkgdb_pkg *p, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < g->cap);
	assert_true(*p->name && *p->version && *p->source && *p->source_version);
	snprintf(g->rows[g->n++], ROW_MAX, "%s\t%s\t%s\t%s", p->name, p->version, p->source,
	         p->source_version);
	return g->stop_at && (int)g->n == g->stop_at ? -ECANCELED : 0;
}

static int count_cb(const struct pkgdb_pkg *p, void *arg)
{
	(void)p;
	(*(size_t *)arg)++;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Checks the rows (sorted here) against the expected listing, line by line. */
static void compare_listing(struct got *g, const char *tsv)
{
	size_t len, i = 0;
	char *buf = load(tsv, &len), *p = buf, *end = buf + len;

	qsort(g->rows, g->n, ROW_MAX, row_cmp);
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (i >= g->n)
			fail_msg("%s: only %zu packages reported", tsv, g->n);
		if (strlen(g->rows[i]) != n || memcmp(g->rows[i], p, n))
			fail_msg("%s: row %zu: expected '%.*s', got '%s'", tsv, i + 1, (int)n, p,
			         g->rows[i]);
		i++;
		p += n + 1;
	}
	assert_int_equal(i, g->n);
	free(buf);
}

static const char *find_row(struct got *g, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 0; i < g->n; i++)
		if (!strncmp(g->rows[i], name, k) && g->rows[i][k] == '\t')
			return g->rows[i];
	fail_msg("package %s not reported", name);
	return NULL;
}

typedef int (*each_fn)(const char *, size_t, pkgdb_cb, void *, char *, size_t);

/* Runs a walk over a string; returns its result, rows in g (n rows at most 16). */
static int walk(each_fn fn, const char *text, struct got *g, char *err, size_t errlen)
{
	got_init(g, 16);
	err[0] = '\0';
	return fn(text, strlen(text), collect_cb, g, err, errlen);
}

/* A walk that must fail with errno e and exactly the message msg. */
static void expect_error(each_fn fn, const char *text, int e, const char *msg)
{
	struct got g;
	char err[256];
	int r = walk(fn, text, &g, err, sizeof(err));

	if (r != e || strcmp(err, msg))
		fail_msg("input:\n%s\nexpected %d '%s', got %d '%s'", text, e, msg, r, err);
	free(g.rows);
}

/* ---- dpkg ---- */

struct real_file {
	const char *name;
	int count; /* from `grep -c '^Package:'` and dpkg-query, see ORIGIN.md */
};

static void test_dpkg_real_files(void **state)
{
	static const struct real_file files[] = {
	        {"debian10-postgresql-partial.dpkg-status", 3},
	        {"debian11-nginx-image.dpkg-status", 142},
	        {"debian12-partial.dpkg-status", 7},
	        {"debian12-python3.12-slim-image.dpkg-status", 140},
	        {"ubuntu18.04-texlive.dpkg-status", 357},
	};
	char err[256], tsv[128];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *buf = load(files[i].name, &len);
		struct got g;

		got_init(&g, 400);
		err[0] = '\0';
		assert_int_equal(pkgdb_dpkg_each(buf, len, collect_cb, &g, err, sizeof(err)),
		                 files[i].count);
		assert_string_equal(err, "");
		assert_int_equal(pkgdb_detect(buf, len), PKGDB_DPKG);
		snprintf(tsv, sizeof(tsv), "%s.expected.tsv", files[i].name);
		compare_listing(&g, tsv);
		free(g.rows);
		free(buf);
	}
}

/* python:3.12-slim: Source with a version, epochs, a binary of another source. */
static void test_dpkg_slim_entries(void **state)
{
	size_t len;
	char *buf = load("debian12-python3.12-slim-image.dpkg-status", &len);
	struct got g;

	(void)state;
	got_init(&g, 400);
	assert_int_equal(pkgdb_dpkg_each(buf, len, collect_cb, &g, NULL, 0), 140);
	/* "Source: bash (5.2.15-2)" with "Version: 5.2.15-2+b7" (a binNMU) */
	assert_string_equal(find_row(&g, "bash"), "bash\t5.2.15-2+b7\tbash\t5.2.15-2");
	/* "Source: util-linux (2.38.1-5+deb12u3)": the epoch is the binary's only */
	assert_string_equal(find_row(&g, "bsdutils"),
	                    "bsdutils\t1:2.38.1-5+deb12u3\tutil-linux\t2.38.1-5+deb12u3");
	/* "Source: git" without a version: the binary's, epoch included */
	assert_string_equal(find_row(&g, "git-man"),
	                    "git-man\t1:2.39.5-0+deb12u2\tgit\t1:2.39.5-0+deb12u2");
	assert_string_equal(find_row(&g, "libgcc-s1"), "libgcc-s1\t12.2.0-14\tgcc-12\t12.2.0-14");
	/* no Source field at all */
	assert_string_equal(find_row(&g, "adduser"), "adduser\t3.134\tadduser\t3.134");
	free(g.rows);
	free(buf);
}

/* Which states count, and the syntax the real files do not show. */
static void test_dpkg_states_and_syntax(void **state)
{
	static const char text[] =
	        "Package: gone\r\n"
	        "Status: deinstall ok config-files\r\n" /* no Version: fine, not installed */
	        "\r\n"
	        "Package: half\nStatus: install reinstreq half-installed\nVersion: 1\n"
	        "   \t \n" /* blank with spaces ends the stanza */
	        "package: pending\nSTATUS: install ok triggers-pending\nversion: 2\n\n\n"
	        "Package: unpacked\nStatus: install ok unpacked\nVersion: 3\n\n"
	        "Package: leaving\nStatus: deinstall ok installed\nVersion: 4\n"
	        "Description: still on disk\n continued\n .\n\tand tabbed\n\n"
	        "Package: distroless\nVersion: 5\nSource: dl-src (4.9)\n\n"
	        "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6\n\n"
	        "Package: libc6\nStatus: install ok installed\nArchitecture: i386\nVersion: 6\n"
	        "Source:   glibc   \n"; /* no final newline; value blanks trimmed */
	struct got g;
	char err[128];

	(void)state;
	assert_int_equal(walk(pkgdb_dpkg_each, text, &g, err, sizeof(err)), 5);
	assert_string_equal(g.rows[0], "pending\t2\tpending\t2");
	assert_string_equal(g.rows[1], "leaving\t4\tleaving\t4");
	assert_string_equal(g.rows[2], "distroless\t5\tdl-src\t4.9");
	assert_string_equal(g.rows[3], "libc6\t6\tlibc6\t6");
	assert_string_equal(g.rows[4], "libc6\t6\tglibc\t6"); /* both arches reported */
	free(g.rows);

	assert_int_equal(walk(pkgdb_dpkg_each, "", &g, err, sizeof(err)), 0);
	free(g.rows);
	assert_int_equal(walk(pkgdb_dpkg_each, "\n \n\n", &g, err, sizeof(err)), 0);
	free(g.rows);
}

static void test_dpkg_errors(void **state)
{
	char long_name[PKGDB_NAME_MAX + 32];

	(void)state;
	expect_error(pkgdb_dpkg_each,
	             "Package: a\nVersion: 1\n\nPackage: b\nStatus: i ok installed\n", -EINVAL,
	             "line 4: stanza without Version");
	expect_error(pkgdb_dpkg_each, "Version: 1\n", -EINVAL, "line 1: stanza without Package");
	expect_error(pkgdb_dpkg_each, "Package: a\nVersion 1\n", -EINVAL,
	             "line 2: expected 'Field: value'");
	expect_error(pkgdb_dpkg_each, "Package: a\n: 1\n", -EINVAL,
	             "line 2: expected 'Field: value'");
	expect_error(pkgdb_dpkg_each, "\n continued\n", -EINVAL,
	             "line 2: unexpected continuation line");
	expect_error(pkgdb_dpkg_each, "Package: a\nVersion: 1\n 2\n", -EINVAL,
	             "line 3: unexpected continuation line");
	expect_error(pkgdb_dpkg_each, "Package: a\nVersion: 1\nversion: 2\n", -EINVAL,
	             "line 3:1: duplicate field version");
	expect_error(pkgdb_dpkg_each, "Package: a\nStatus: install installed\nVersion: 1\n",
	             -EINVAL, "line 2: Status needs three words");
	expect_error(pkgdb_dpkg_each, "Package: a\nStatus: install ok happy\nVersion: 1\n", -EINVAL,
	             "line 2: unknown package state in Status");
	expect_error(pkgdb_dpkg_each,
	             "Package: a\nVersion: 1\n\nPackage: b\nVersion: 1\nSource: c (1\n", -EINVAL,
	             "line 6: Source is not 'name' or 'name (version)'");
	expect_error(pkgdb_dpkg_each, "Package: a\nVersion: 1\nSource: c (1)(2)\n", -EINVAL,
	             "line 3: Source version holds a parenthesis");
	expect_error(pkgdb_dpkg_each, "Package: a\nVersion: 1\nSource: (1)\n", -EINVAL,
	             "line 3: Source name is empty");
	expect_error(pkgdb_dpkg_each, "Package: a\nVersion: 1 2\n", -EINVAL,
	             "line 2: Version has a byte that is not printable ASCII");
	expect_error(pkgdb_dpkg_each, "Package:\nVersion: 1\n", -EINVAL,
	             "line 1: Package is empty");
	expect_error(pkgdb_dpkg_each, "Package: caf\xc3\xa9\nVersion: 1\n", -EINVAL,
	             "line 1: Package has a byte that is not printable ASCII");
	expect_error(pkgdb_dpkg_each, "Package: a\nVersion: 1\x7f\n", -EINVAL,
	             "line 2: Version has a byte that is not printable ASCII");
	memset(long_name, 'a', sizeof(long_name));
	memcpy(long_name, "Package: ", 9);
	snprintf(long_name + 9 + PKGDB_NAME_MAX + 1, 16, "\nVersion: 1\n");
	expect_error(pkgdb_dpkg_each, long_name, -EINVAL, "line 1: Package is too long");
	long_name[9 + PKGDB_NAME_MAX] = '\n'; /* exactly PKGDB_NAME_MAX: accepted */
	long_name[9 + PKGDB_NAME_MAX + 1] = 'V';
	{
		struct got g;
		char err[128];

		snprintf(long_name + 9 + PKGDB_NAME_MAX + 1, 16, "Version: 1\n");
		assert_int_equal(walk(pkgdb_dpkg_each, long_name, &g, err, sizeof(err)), 1);
		assert_int_equal(strlen(g.rows[0]), PKGDB_NAME_MAX * 2 + 5);
		free(g.rows);
	}
}

/* A NUL inside a value is an error, not a shorter string. */
static void test_dpkg_nul(void **state)
{
	static const char text[] = "Package: a\0b\nVersion: 1\n";
	char err[128] = "";
	size_t n = 0;

	(void)state;
	assert_int_equal(pkgdb_dpkg_each(text, sizeof(text) - 1, count_cb, &n, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "line 1: Package has a byte that is not printable ASCII");
	assert_int_equal(n, 0);
}

static void test_dpkg_stop_and_limit(void **state)
{
	static const char two[] = "Package: a\nVersion: 1\n\nPackage: b\nVersion: 1\n\n"
	                          "Package: c\nVersion: 1\n";
	const size_t per = sizeof("Package: p000000\nVersion: 1\n\n") - 1;
	char err[128], *big;
	struct got g;
	size_t n = 0;

	(void)state;
	got_init(&g, 4);
	g.stop_at = 2;
	assert_int_equal(pkgdb_dpkg_each(two, strlen(two), collect_cb, &g, NULL, 0), -ECANCELED);
	assert_int_equal(g.n, 2);
	free(g.rows);

	big = malloc(per * (PKGDB_MAX_PKGS + 1) + 1);
	assert_non_null(big);
	for (int i = 0; i <= PKGDB_MAX_PKGS; i++) {
		char one[64];

		assert_int_equal(snprintf(one, sizeof(one), "Package: p%06d\nVersion: 1\n\n", i),
		                 (int)per);
		memcpy(big + (size_t)i * per, one, per);
	}
	assert_int_equal(pkgdb_dpkg_each(big, per * PKGDB_MAX_PKGS, count_cb, &n, err, sizeof(err)),
	                 PKGDB_MAX_PKGS);
	n = 0;
	assert_int_equal(
	        pkgdb_dpkg_each(big, per * (PKGDB_MAX_PKGS + 1), count_cb, &n, err, sizeof(err)),
	        -E2BIG);
	assert_string_equal(err, "line 300001: more than 100000 packages");
	assert_int_equal(n, PKGDB_MAX_PKGS);
	free(big);
}

/* ---- apk ---- */

static void test_apk_real_files(void **state)
{
	static const struct real_file files[] = {
	        {"alpine3.16-nginx-image.apk-installed", 42},
	        {"alpine3.18-base.apk-installed", 15},
	};
	char err[256], tsv[128];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *buf = load(files[i].name, &len);
		struct got g;

		got_init(&g, 100);
		err[0] = '\0';
		assert_int_equal(pkgdb_apk_each(buf, len, collect_cb, &g, err, sizeof(err)),
		                 files[i].count);
		assert_string_equal(err, "");
		assert_int_equal(pkgdb_detect(buf, len), PKGDB_APK);
		if (i == 1) { /* origin mapping: o: names the source (aport) */
			assert_string_equal(find_row(&g, "libcrypto3"),
			                    "libcrypto3\t3.1.0-r4\topenssl\t3.1.0-r4");
			assert_string_equal(find_row(&g, "ssl_client"),
			                    "ssl_client\t1.36.0-r9\tbusybox\t1.36.0-r9");
			assert_string_equal(find_row(&g, "musl"), "musl\t1.2.4-r0\tmusl\t1.2.4-r0");
		}
		snprintf(tsv, sizeof(tsv), "%s.expected.tsv", files[i].name);
		compare_listing(&g, tsv);
		free(g.rows);
		free(buf);
	}
}

static void test_apk_hand(void **state)
{
	static const char text[] = "C:Q1abc=\r\nP:noorigin\r\nV:1.0-r0\r\nF:usr\r\n\r\n"
	                           "P:libfoo\nV:2.1-r3\no:foo\nm:Someone <a@b>\n \n"
	                           "P:last\nV:3\n";
	struct got g;
	char err[128];

	(void)state;
	assert_int_equal(walk(pkgdb_apk_each, text, &g, err, sizeof(err)), 3);
	assert_string_equal(g.rows[0], "noorigin\t1.0-r0\tnoorigin\t1.0-r0");
	assert_string_equal(g.rows[1], "libfoo\t2.1-r3\tfoo\t2.1-r3");
	assert_string_equal(g.rows[2], "last\t3\tlast\t3");
	free(g.rows);

	expect_error(pkgdb_apk_each, "P:a\nV:1\n\nC:x\nP:b\n", -EINVAL,
	             "line 4: package without V:");
	expect_error(pkgdb_apk_each, "V:1\no:x\n", -EINVAL, "line 1: package without P:");
	expect_error(pkgdb_apk_each, "P:a\nV:1\nnot a field\n", -EINVAL,
	             "line 3: expected 'X:value'");
	expect_error(pkgdb_apk_each, "P:a\nV:1\nP:b\n", -EINVAL,
	             "line 3:1: duplicate P: in one package");
	expect_error(pkgdb_apk_each, "P:\nV:1\n", -EINVAL, "line 1: P: is empty");
	expect_error(pkgdb_apk_each, "P:a\nV:1 2\n", -EINVAL,
	             "line 2: V: has a byte that is not printable ASCII");
}

/* ---- pip freeze ---- */

static void test_freeze_forms(void **state)
{
	static const char text[] =
	        "# a comment\n"                                                  /* 1 */
	        "\n"                                                             /* 2 */
	        "-e git+https://github.com/x/y.git@abc#egg=y\n"                  /* 3 */
	        "-r other.txt\n"                                                 /* 4 */
	        "--index-url https://pypi.org/simple\n"                          /* 5 */
	        "Friendly.Bard==1.0\n"                                           /* 6 */
	        "foo @ https://example.com/foo-1.0.tar.gz\n"                     /* 7 */
	        "bar @ file:///tmp/bar==2.0\n"                                   /* 8: == after @ */
	        "requests[socks,security]==2.31.0 ; python_version >= \"3.8\"\n" /* 9 */
	        "  six==1.16.0  # pinned by hand\n"                              /* 10 */
	        "arbitrary===1.0-local.weird\n"                                  /* 11 */
	        "unpinned\n"                                                     /* 12 */
	        "ranged>=1.0\n"                                                  /* 13 */
	        "wild==1.*\n"                                                    /* 14 */
	        "certifi==2024.2.2 \\\n"                                         /* 15 */
	        "    --hash=sha256:0123\n"                                       /* 16 */
	        "    # via requests\n"                                           /* 17 */
	        "spaced == 3.0\r\n"                                              /* 18 */
	        "hashed==4.0 --hash=sha256:abcd\n";                              /* 19 */
	struct got g;
	char err[128];

	(void)state;
	assert_int_equal(walk(pkgdb_freeze_each, text, &g, err, sizeof(err)), 7);
	assert_string_equal(g.rows[0], "friendly-bard\t1.0\tfriendly-bard\t1.0");
	assert_string_equal(g.rows[1], "requests\t2.31.0\trequests\t2.31.0");
	assert_string_equal(g.rows[2], "six\t1.16.0\tsix\t1.16.0");
	assert_string_equal(g.rows[3], "arbitrary\t1.0-local.weird\tarbitrary\t1.0-local.weird");
	assert_string_equal(g.rows[4], "certifi\t2024.2.2\tcertifi\t2024.2.2");
	assert_string_equal(g.rows[5], "spaced\t3.0\tspaced\t3.0");
	assert_string_equal(g.rows[6], "hashed\t4.0\thashed\t4.0");
	free(g.rows);
	assert_int_equal(pkgdb_detect(text, strlen(text)), PKGDB_FREEZE);
}

static void test_freeze_errors(void **state)
{
	(void)state;
	expect_error(pkgdb_freeze_each, "a==1\n==2.0\n", -EINVAL, "line 2: invalid project name");
	expect_error(pkgdb_freeze_each, "a==1\nb==\n", -EINVAL, "line 2: version is empty");
	expect_error(pkgdb_freeze_each, "bad name==1\n", -EINVAL, "line 1: invalid project name");
	expect_error(pkgdb_freeze_each, "-x\nfoo_==1\n", -EINVAL, "line 2: invalid project name");
	expect_error(pkgdb_freeze_each, "a==1.0,<2\n", -EINVAL,
	             "line 1:7: more than one version specifier");
	expect_error(pkgdb_freeze_each, "a====1\n", -EINVAL, "line 1:5: malformed version");
	expect_error(pkgdb_freeze_each, "a[x==1\n", -EINVAL, "line 1:2: unclosed extras");
	expect_error(pkgdb_freeze_each, "  b [x==1\n", -EINVAL, "line 1:5: unclosed extras");
	expect_error(pkgdb_freeze_each, "a==1 b\n", -EINVAL,
	             "line 1: unexpected text after the version");
	{
		static const char nul[] = "a==1\nb\0==2\n";
		char err[64];
		size_t n = 0;

		assert_int_equal(
		        pkgdb_freeze_each(nul, sizeof(nul) - 1, count_cb, &n, err, sizeof(err)),
		        -EINVAL);
		assert_string_equal(err, "line 2: NUL byte");
	}
}

/* `pip freeze` of Debian 12's system Python (names with dots and capitals). */
static void test_freeze_real(void **state)
{
	size_t len;
	char *buf = load("debian12-system.pip-freeze", &len);
	struct got g;

	(void)state;
	got_init(&g, 64);
	assert_int_equal(pkgdb_freeze_each(buf, len, collect_cb, &g, NULL, 0), 30);
	assert_int_equal(pkgdb_detect(buf, len), PKGDB_FREEZE);
	assert_string_equal(find_row(&g, "lazr-uri"), "lazr-uri\t1.0.6\tlazr-uri\t1.0.6");
	assert_string_equal(find_row(&g, "pyyaml"), "pyyaml\t6.0\tpyyaml\t6.0");
	assert_string_equal(find_row(&g, "pygobject"), "pygobject\t3.42.2\tpygobject\t3.42.2");
	assert_string_equal(find_row(&g, "python-apt"), "python-apt\t2.6.0\tpython-apt\t2.6.0");
	free(g.rows);
	free(buf);
}

/* ---- Python names and metadata ---- */

static void test_pep503(void **state)
{
	/* the equivalent spellings listed in PEP 503 ("Normalized Names") */
	static const char *const same[] = {"Friendly-Bard", "FRIENDLY-BARD",  "friendly.bard",
	                                   "friendly_bard", "friendly--bard", "FrIeNdLy-._.-bArD",
	                                   "friendly-bard"};
	static const char *const bad[] = {"",    "-lead",       "trail.", "sp ace",
	                                  "a/b", "caf\xc3\xa9", "a==1"};
	char out[PKGDB_NAME_MAX + 1], big[PKGDB_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(pkgdb_pep503(same[i], out, sizeof(out)), 13);
		assert_string_equal(out, "friendly-bard");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pkgdb_pep503(bad[i], out, sizeof(out)), 0);
	assert_int_equal(pkgdb_pep503("A", out, sizeof(out)), 1);
	assert_string_equal(out, "a");
	assert_int_equal(pkgdb_pep503("zope.interface", out, 15), 14);
	assert_int_equal(pkgdb_pep503("zope.interface", out, 14), 0); /* no room for the NUL */
	memset(big, 'a', sizeof(big));
	big[PKGDB_NAME_MAX] = '\0';
	assert_int_equal(pkgdb_pep503(big, out, sizeof(out)), PKGDB_NAME_MAX);
	big[PKGDB_NAME_MAX] = 'a';
	big[PKGDB_NAME_MAX + 1] = '\0';
	assert_int_equal(pkgdb_pep503(big, out, sizeof(out)), 0);
}

static void test_metadata_real(void **state)
{
	char name[64], ver[64], err[128] = "";
	size_t len;
	char *buf = load("PyYAML-6.0.dist-info.METADATA", &len);

	(void)state;
	assert_int_equal(pkgdb_python_metadata(buf, len, name, sizeof(name), ver, sizeof(ver), err,
	                                       sizeof(err)),
	                 0);
	assert_string_equal(name, "pyyaml");
	assert_string_equal(ver, "6.0");
	assert_int_equal(pkgdb_detect(buf, len), -EINVAL);
	free(buf);

	buf = load("lazr.uri-1.0.6.egg-info.PKG-INFO", &len);
	assert_int_equal(pkgdb_python_metadata(buf, len, name, sizeof(name), ver, sizeof(ver), err,
	                                       sizeof(err)),
	                 0);
	assert_string_equal(name, "lazr-uri");
	assert_string_equal(ver, "1.0.6");
	assert_int_equal(
	        pkgdb_python_metadata(buf, len, name, 8, ver, sizeof(ver), err, sizeof(err)),
	        -ENOSPC);
	assert_int_equal(pkgdb_python_metadata(buf, len, name, 9, ver, 5, err, sizeof(err)),
	                 -ENOSPC);
	free(buf);
}

struct meta_case {
	const char *text;
	int ret;
	const char *name_or_err, *version;
};

static void test_metadata_hand(void **state)
{
	static const struct meta_case cases[] = {
	        {"Metadata-Version: 2.1\r\nname:  Foo_Bar \r\nVERSION: 1.0rc1\r\nName: other\r\n",
	         0, "foo-bar", "1.0rc1"},
	        {"Metadata-Version: 1.0\nSummary: x\n  continued Name: no\nName: a\nVersion: 2\n",
	         0, "a", "2"},
	        {"Name: a\n\nVersion: 1\n", -EINVAL, "no Version: field in the header", NULL},
	        {"Version: 1\nnot a header\nName: a\n", -EINVAL, "no Name: field in the header",
	         NULL},
	        {"Version: 1\n\tName: a\n", -EINVAL, "no Name: field in the header", NULL},
	        {"Metadata-Version: 2.1\nName: bad name\nVersion: 1\n", -EINVAL,
	         "line 2: invalid project name in Name:", NULL},
	        {"Name: a\nVersion:\n", -EINVAL, "line 2: Version is empty", NULL},
	        {"", -EINVAL, "no Name: field in the header", NULL},
	};
	char name[64], ver[64], err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct meta_case *c = &cases[i];
		int r;

		err[0] = '\0';
		r = pkgdb_python_metadata(c->text, strlen(c->text), name, sizeof(name), ver,
		                          sizeof(ver), err, sizeof(err));
		if (r != c->ret)
			fail_msg("case %zu: %d (%s)", i, r, err);
		if (r == 0) {
			assert_string_equal(name, c->name_or_err);
			assert_string_equal(ver, c->version);
		} else {
			assert_string_equal(err, c->name_or_err);
		}
	}
}

static void test_dist_dirname(void **state)
{
	static const struct {
		const char *dir;
		int ret;
		const char *name, *version;
	} cases[] = {
	        {"numpy-1.26.4.dist-info", 0, "numpy", "1.26.4"},
	        {"Django-4.2.egg-info", 0, "django", "4.2"},
	        {"PyYAML-6.0.dist-info", 0, "pyyaml", "6.0"},
	        {"lazr.uri-1.0.6.egg-info", 0, "lazr-uri", "1.0.6"},
	        {"python_apt-2.6.0.egg-info", 0, "python-apt", "2.6.0"},
	        {"crit-3.17.1-py3.11.egg-info", 0, "crit", "3.17.1"},
	        {"cupshelpers-1.0-py3.10-linux-x86_64.egg-info", 0, "cupshelpers", "1.0"},
	        {"cryptography.egg-info", -EINVAL, NULL, NULL},
	        {"foo-1.0-py3.dist-info", -EINVAL, NULL, NULL},
	        {"foo-.dist-info", -EINVAL, NULL, NULL},
	        {"-1.0.dist-info", -EINVAL, NULL, NULL},
	        {"foo-1.0.txt", -EINVAL, NULL, NULL},
	        {"site/foo-1.0.dist-info", -EINVAL, NULL, NULL},
	        {".dist-info", -EINVAL, NULL, NULL},
	        {"", -EINVAL, NULL, NULL},
	};
	char name[32], ver[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = pkgdb_dist_dirname(cases[i].dir, name, sizeof(name), ver, sizeof(ver));

		if (r != cases[i].ret)
			fail_msg("%s: %d", cases[i].dir, r);
		if (r == 0) {
			assert_string_equal(name, cases[i].name);
			assert_string_equal(ver, cases[i].version);
		}
	}
	assert_int_equal(pkgdb_dist_dirname("numpy-1.26.4.dist-info", name, 5, ver, 8), -ENOSPC);
	assert_int_equal(pkgdb_dist_dirname("numpy-1.26.4.dist-info", name, 6, ver, 6), -ENOSPC);
	assert_int_equal(pkgdb_dist_dirname("numpy-1.26.4.dist-info", name, 6, ver, 7), 0);
}

/* ---- os-release ---- */

struct os_case {
	const char *text;
	const char *id, *version_id, *codename, *pretty, *ecosystem, *why;
};

static void check_os(const char *label, const char *text, size_t len, const struct os_case *c)
{
	struct pkgdb_os os;
	char err[160] = "junk";

	if (pkgdb_os_release(text, len, &os, err, sizeof(err)) != 0)
		fail_msg("%s: %s", label, err);
	assert_string_equal(os.id, c->id);
	assert_string_equal(os.version_id, c->version_id);
	assert_string_equal(os.codename, c->codename);
	assert_string_equal(os.pretty, c->pretty);
	assert_string_equal(os.ecosystem, c->ecosystem);
	assert_string_equal(err, c->why);
}

static void test_os_release_real(void **state)
{
	static const struct {
		const char *file;
		struct os_case want;
	} files[] = {
	        {"alpine3.16-nginx-image.os-release",
	         {NULL, "alpine", "3.16.3", "", "Alpine Linux v3.16", "Alpine:v3.16", ""}},
	        {"debian11-nginx-image.os-release",
	         {NULL, "debian", "11", "bullseye", "Debian GNU/Linux 11 (bullseye)", "Debian:11",
	          ""}},
	        {"debian12-python3.12-slim-image.os-release",
	         {NULL, "debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)", "Debian:12",
	          ""}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *buf = load(files[i].file, &len);

		check_os(files[i].file, buf, len, &files[i].want);
		assert_int_equal(pkgdb_detect(buf, len), -EINVAL);
		free(buf);
	}
}

static void test_os_release_hand(void **state)
{
	static const struct os_case cases[] = {
	        {"PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n"
	         "VERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\n"
	         "ID_LIKE=debian\nUBUNTU_CODENAME=jammy\n",
	         "ubuntu", "22.04", "jammy", "Ubuntu 22.04.4 LTS", "Ubuntu:22.04:LTS", ""},
	        {"PRETTY_NAME=\"Ubuntu 23.10\"\nVERSION_ID=\"23.10\"\nVERSION_CODENAME=mantic\n"
	         "ID=ubuntu\nID_LIKE=debian\n",
	         "ubuntu", "23.10", "mantic", "Ubuntu 23.10", "Ubuntu:23.10", ""},
	        {"ID=ubuntu\nVERSION_ID=23.04\n", "ubuntu", "23.04", "", "", "Ubuntu:23.04", ""},
	        {"ID=ubuntu\nVERSION_ID=14.04\n", "ubuntu", "14.04", "", "", "Ubuntu:14.04:LTS",
	         ""},
	        {"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\n"
	         "PRETTY_NAME=\"Alpine Linux v3.18\"\n",
	         "alpine", "3.18.4", "", "Alpine Linux v3.18", "Alpine:v3.18", ""},
	        {"PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\n"
	         "VERSION_CODENAME=trixie\nID=debian\n",
	         "debian", "", "trixie", "Debian GNU/Linux trixie/sid", "Debian:13", ""},
	        {"ID=debian\nPRETTY_NAME=\"Debian GNU/Linux sid\"\n", "debian", "", "",
	         "Debian GNU/Linux sid", "",
	         "debian without VERSION_ID and with no VERSION_CODENAME ''"},
	        {"ID=debian\nVERSION_CODENAME=duke\n", "debian", "", "duke", "", "",
	         "debian without VERSION_ID and with an unknown VERSION_CODENAME 'duke'"},
	        {"ID=alpine\nVERSION_ID=3.21_alpha20240923\nPRETTY_NAME=\"Alpine Linux edge\"\n",
	         "alpine", "3.21_alpha20240923", "", "Alpine Linux edge", "",
	         "alpine VERSION_ID '3.21_alpha20240923' is not a release (edge?)"},
	        {"ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.3\"\n", "linuxmint",
	         "21.3", "", "", "",
	         "ID=linuxmint (like ubuntu debian) has no OSV ecosystem of its own"},
	        {"NAME=Fedora\nID=fedora\nVERSION_ID=40\n", "fedora", "40", "", "", "",
	         "ID=fedora has no OSV ecosystem"},
	        {"# no ID at all\n", "linux", "", "", "", "", "ID=linux has no OSV ecosystem"},
	        /* quoting: shell rules; later assignments win */
	        {"  ID=debian  \nID='debian'\nVERSION_ID=1\\2\nVERSION_ID=\"12\"\n"
	         "PRETTY_NAME=\"a \\\"q\\\" \\$x \\n 'b'\"\n",
	         "debian", "12", "", "a \"q\" $x \\n 'b'", "Debian:12", ""},
	        {"ID=debian\nVERSION_ID=12\nPRETTY_NAME='it'\\''s' x\"y\"\n", "debian", "12", "",
	         "it's xy", "Debian:12", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char label[16];

		snprintf(label, sizeof(label), "case %zu", i);
		check_os(label, cases[i].text, strlen(cases[i].text), &cases[i]);
	}
}

static void test_os_release_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	        {"ID=debian\nPRETTY_NAME=\"Debian\n", "line 2:13: unterminated quote"},
	        {"ID=debian\n  VERSION_ID='12\n", "line 2:14: unterminated quote"},
	        {"ID=debian\nVERSION_ID 12\n", "line 2:11: expected KEY=value"},
	        {"ID=debian\n=12\n", "line 2:1: expected KEY=value"},
	        {"ID=debian\n1D=x\n", "line 2:1: expected KEY=value"},
	        {"ID=debian\nX=a\\\n", "line 2:4: trailing backslash"},
	        {"ID=debian\nX=a\x01\n", "line 2:4: control character"},
	        {"ID=abcdefghijabcdefghijabcdefghijab\n", "ID longer than 31 bytes"},
	};
	struct pkgdb_os os;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = pkgdb_os_release(cases[i].text, strlen(cases[i].text), &os, err,
		                         sizeof(err));

		if (r != -EINVAL || strcmp(err, cases[i].err))
			fail_msg("case %zu: %d '%s'", i, r, err);
	}
	/* a long PRETTY_NAME is cut, not an error, and never inside a UTF-8 character */
	{
		char text[300] = "ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=";
		size_t n = strlen(text);

		memset(text + n, 'x', 126);
		memcpy(text + n + 126, "\xc3\xa9\xc3\xa9\n", 5);
		assert_int_equal(pkgdb_os_release(text, n + 131, &os, err, sizeof(err)), 0);
		assert_int_equal(strlen(os.pretty), 126);
		assert_string_equal(os.ecosystem, "Alpine:v3.18");
	}
}

static void test_debian_version(void **state)
{
	static const struct {
		const char *text;
		int ret;
		const char *version_id, *codename, *ecosystem;
	} cases[] = {
	        {"11.5\n", 0, "11", "", "Debian:11"},
	        {"10.13", 0, "10", "", "Debian:10"},
	        {"trixie/sid\n", 0, "", "trixie", "Debian:13"},
	        {"bookworm/sid\n", 0, "", "bookworm", "Debian:12"},
	        {"buster\n", 0, "", "buster", "Debian:10"},
	        {"squeeze/sid\n", -EINVAL, NULL, NULL, NULL},
	        {"12.\n", -EINVAL, NULL, NULL, NULL},
	        {"123.1\n", -EINVAL, NULL, NULL, NULL},
	        {"\n", -EINVAL, NULL, NULL, NULL},
	        {"", -EINVAL, NULL, NULL, NULL},
	};
	struct pkgdb_os os;
	size_t len;
	char *buf = load("debian12-python3.12-slim-image.debian_version", &len);

	(void)state;
	memset(&os, 0, sizeof(os));
	snprintf(os.pretty, sizeof(os.pretty), "kept");
	assert_int_equal(pkgdb_debian_version(buf, len, &os), 0); /* "12.9\n" */
	assert_string_equal(os.id, "debian");
	assert_string_equal(os.version_id, "12");
	assert_string_equal(os.ecosystem, "Debian:12");
	assert_string_equal(os.pretty, "kept");
	free(buf);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&os, 0, sizeof(os));
		if (pkgdb_debian_version(cases[i].text, strlen(cases[i].text), &os) != cases[i].ret)
			fail_msg("'%s'", cases[i].text);
		if (cases[i].ret)
			continue;
		assert_string_equal(os.version_id, cases[i].version_id);
		assert_string_equal(os.codename, cases[i].codename);
		assert_string_equal(os.ecosystem, cases[i].ecosystem);
	}
}

static void test_detect(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
	        {"\n\nPackage: a\nVersion: 1\n", PKGDB_DPKG},
	        {"Status: install ok installed\nPackage: a\n", PKGDB_DPKG},
	        {"Status: install ok installed\n\nPackage: a\n", -EINVAL},
	        {"C:Q1x=\nP:musl\n", PKGDB_APK},
	        {"a==1\n", PKGDB_FREEZE},
	        {"# comment only\n", PKGDB_FREEZE},
	        {"-e .\n", PKGDB_FREEZE},
	        {"foo @ https://x/y.whl\n", PKGDB_FREEZE},
	        {"", -EINVAL},
	        {" \n\t\n", -EINVAL},
	        {"hello world\n", -EINVAL},
	        {"1:x\n", -EINVAL},
	        {"NAME=\"Alpine Linux\"\n", -EINVAL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (pkgdb_detect(cases[i].text, strlen(cases[i].text)) != cases[i].want)
			fail_msg("'%s'", cases[i].text);
	assert_int_equal(pkgdb_detect(NULL, 0), -EINVAL);
}

static int arch_cb(const struct pkgdb_pkg *p, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s:%s:%s|", p->name, p->arch ? p->arch : "-",
	         p->license ? p->license : "-");
	return 0;
}

/* Architecture (dpkg), A: and L: (apk) for the evidence documents; a bad licence is dropped. */
static void test_arch_license(void **state)
{
	static const char dpkg[] = "Package: a\nVersion: 1\nArchitecture: amd64\n\n"
	                           "Package: b\nVersion: 1\n\n"
	                           "Package: c\nVersion: 1\nArchitecture: bad arch\n";
	static const char apk[] = "P:musl\nV:1\nA:x86_64\nL:MIT AND BSD-2-Clause\n\n"
	                          "P:x\nV:1\nL:\x01\n\nP:y\nV:1\n";
	char out[512] = "", err[128];

	(void)state;
	assert_int_equal(pkgdb_dpkg_each(dpkg, 66, arch_cb, out, err, sizeof(err)), 2);
	assert_string_equal(out, "a:amd64:-|b:-:-|");
	assert_int_equal(pkgdb_dpkg_each(dpkg, sizeof(dpkg) - 1, arch_cb, out, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "Architecture"));
	out[0] = '\0';
	assert_int_equal(pkgdb_apk_each(apk, sizeof(apk) - 1, arch_cb, out, err, sizeof(err)), 3);
	assert_string_equal(out, "musl:x86_64:MIT AND BSD-2-Clause|x:-:-|y:-:-|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dpkg_real_files),
	        cmocka_unit_test(test_dpkg_slim_entries),
	        cmocka_unit_test(test_dpkg_states_and_syntax),
	        cmocka_unit_test(test_dpkg_errors),
	        cmocka_unit_test(test_dpkg_nul),
	        cmocka_unit_test(test_dpkg_stop_and_limit),
	        cmocka_unit_test(test_apk_real_files),
	        cmocka_unit_test(test_apk_hand),
	        cmocka_unit_test(test_freeze_forms),
	        cmocka_unit_test(test_freeze_errors),
	        cmocka_unit_test(test_freeze_real),
	        cmocka_unit_test(test_pep503),
	        cmocka_unit_test(test_metadata_real),
	        cmocka_unit_test(test_metadata_hand),
	        cmocka_unit_test(test_dist_dirname),
	        cmocka_unit_test(test_os_release_real),
	        cmocka_unit_test(test_os_release_hand),
	        cmocka_unit_test(test_os_release_errors),
	        cmocka_unit_test(test_debian_version),
	        cmocka_unit_test(test_detect),
	        cmocka_unit_test(test_arch_license),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
