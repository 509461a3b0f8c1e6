/*
 * test_version — the version module: hand-picked cases, every vector of the
 * real fixture files in tests/fixtures/version/ (see ORIGIN.md there), and
 * dpkg itself as the oracle for Debian ordering on this machine's own
 * archive versions.
 *
 * A vector that is not followed is never skipped silently: the versions we
 * reject are listed with their reason in tests/fixtures/version/divergences.tsv,
 * the one operator we do not implement (apk's fuzzy '~') is counted here, and
 * both are printed with per-file pass counts. Run from the repository root.
 */
#include "version.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define FIXTURES      "tests/fixtures/version/"
#define MAX_LINE      1024
#define MAX_DIVERGE   512
#define MAX_REASONS   32
#define ORACLE_SAMPLE 3000

/* ---- helpers ---- */

static char sym(int cmp)
{
	return cmp < 0 ? '<' : cmp > 0 ? '>' : '=';
}

/* '<', '=', '>' or '!' when either is invalid. */
static char compare(enum version_eco eco, const char *a, const char *b)
{
	int cmp = 42;

	if (version_cmp(eco, a, b, &cmp) < 0) {
		assert_int_equal(cmp, 42); /* untouched on error */
		return '!';
	}
	assert_true(cmp == -1 || cmp == 0 || cmp == 1);
	return sym(cmp);
}

static char flip(char op)
{
	return op == '<' ? '>' : op == '>' ? '<' : op;
}

struct order_case {
	const char *a;
	char op;
	const char *b;
};

static void check_cases(enum version_eco eco, const struct order_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char got = compare(eco, c[i].a, c[i].b);

		if (got != c[i].op || compare(eco, c[i].b, c[i].a) != flip(c[i].op))
			fail_msg("%s: '%s' %c '%s' expected, got %c", version_eco_name(eco), c[i].a,
			         c[i].op, c[i].b, got);
	}
}

static void check_invalid(enum version_eco eco, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (version_valid(eco, v[i]) != -EINVAL)
			fail_msg("%s: '%s' accepted", version_eco_name(eco), v[i]);
		assert_int_equal(compare(eco, v[i], "1"), '!');
		assert_int_equal(compare(eco, "1", v[i]), '!');
	}
}

/* A chain that must be strictly increasing, every pair of it checked. */
static void check_chain(enum version_eco eco, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (compare(eco, v[i], v[j]) != sym((int)i - (int)j))
				fail_msg("%s: '%s' vs '%s'", version_eco_name(eco), v[i], v[j]);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- hand-picked cases ---- */

static void test_eco_parse(void **state)
{
	enum version_eco eco = VERSION_PYPI;

	(void)state;
	assert_int_equal(version_eco_parse("debian", &eco), 0);
	assert_int_equal(eco, VERSION_DEBIAN);
	assert_int_equal(version_eco_parse("Ubuntu", &eco), 0);
	assert_int_equal(eco, VERSION_UBUNTU);
	assert_int_equal(version_eco_parse("ALPINE", &eco), 0);
	assert_int_equal(eco, VERSION_ALPINE);
	assert_int_equal(version_eco_parse("PyPI", &eco), 0);
	assert_int_equal(eco, VERSION_PYPI);
	assert_int_equal(version_eco_parse("npm", &eco), -EINVAL);
	assert_int_equal(version_eco_parse("debian ", &eco), -EINVAL);
	assert_int_equal(version_eco_parse("", &eco), -EINVAL);
	assert_int_equal(version_eco_parse(NULL, &eco), -EINVAL);
	assert_int_equal(eco, VERSION_PYPI);
	assert_string_equal(version_eco_name(VERSION_ALPINE), "alpine");
	assert_null(version_eco_name((enum version_eco)7));
	assert_int_equal(version_valid((enum version_eco)7, "1"), -EINVAL);
	assert_int_equal(version_valid(VERSION_DEBIAN, NULL), -EINVAL);
}

static void test_length_bound(void **state)
{
	static const enum version_eco ecos[] = {VERSION_DEBIAN, VERSION_UBUNTU, VERSION_ALPINE,
	                                        VERSION_PYPI};
	char v[VERSION_MAX_LEN + 2];

	(void)state;
	memset(v, '0', sizeof(v));
	v[0] = '1';
	v[VERSION_MAX_LEN] = '\0';
	for (size_t i = 0; i < N(ecos); i++)
		assert_int_equal(version_valid(ecos[i], v), 0);
	v[VERSION_MAX_LEN] = '0';
	v[VERSION_MAX_LEN + 1] = '\0';
	for (size_t i = 0; i < N(ecos); i++) {
		assert_int_equal(version_valid(ecos[i], v), -EINVAL);
		assert_int_equal(compare(ecos[i], v, "1"), '!');
	}
}

static void test_dpkg(void **state)
{
	static const struct order_case cases[] = {
	        {"1.0~rc1", '<', "1.0"},
	        {"1.0~~", '<', "1.0~"},
	        {"1.0~", '<', "1.0"},
	        {"1.0", '<', "1.0a"},
	        {"1.0a", '<', "1.0+"},
	        {"1.0a", '<', "1.0."},
	        {"1.0", '<', "1.0.0"},
	        {"1.0", '=', "1.0-0"},
	        {"0:1.0", '=', "1.0"},
	        {"1:1.0", '>', "2.0"},
	        {"1.2.10", '>', "1.2.9"},
	        {"1.002", '=', "1.2"},
	        {"1.0-1~bpo1", '<', "1.0-1"},
	        {"1.0-1", '<', "1.0-1.1"},
	        {"1.0-1", '<', "1.0-1+b1"},
	        {" 1.0\t", '=', "1.0"},
	        {"2147483647:1", '>', "9:9"},
	        {"1:2:3-4-5", '>', "1:2:3-4"},
	        {"1.0-a", '>', "1.0-Z"},
	        {"1.0-10", '>', "1.0-9"},
	        {"1.2-3-4", '<', "1.2-3-5"},
	        {"3.0.0-2+deb12u1", '>', "3.0.0-2"},
	        {"2.36.1-8+deb11u1", '<', "2.36.1-8+deb11u2"},
	};
	static const char *const invalid[] = {
	        "",        " ",    "\t",    "a1.0",        "1.0 1",  ":1",           "1:",
	        "a:1",     "-1",   "1.0-",  "1:-1",        "1.0_1",  "1.0-1_1",      "1.0-1:1",
	        "+1:1",    "-1:1", "1.0\n", "1.0\xc3\xa9", "1.0-a-", "2147483648:1", "1:a",
	        "1.0-1/2", "~1",
	};

	(void)state;
	check_cases(VERSION_DEBIAN, cases, N(cases));
	check_cases(VERSION_UBUNTU, cases, N(cases));
	check_invalid(VERSION_DEBIAN, invalid, N(invalid));
	check_invalid(VERSION_UBUNTU, invalid, N(invalid));
}

static void test_apk(void **state)
{
	static const char *const chain[] = {
	        "1.0_alpha", "1.0_alpha1", "1.0_beta",  "1.0_pre2", "1.0_rc",  "1.0",
	        "1.0-r1",    "1.0~0a",     "1.0~ab",    "1.0_cvs",  "1.0_svn", "1.0_git20240101",
	        "1.0_hg",    "1.0_p1",     "1.0_p1-r1", "1.0a",     "1.0b",    "1.0.1",
	        "1.01",      "1.1",        "1.9",       "1.10",     "2",
	};
	static const struct order_case cases[] = {
	        {"01", '=', "1"},
	        {"1.010", '<', "1.09"},
	        {"1.0_p1_pre2", '<', "1.0_p1"},
	        {"99999999999999999999", '>', "9999999999999999999"},
	        {"1.0~1234-r1", '>', "1.0~1234-r0"},
	        {"1.2.3-r0", '=', "1.2.3-r00"},
	};
	static const char *const invalid[] = {
	        "",          "a",         "1.",          ".1",       "1..2",     "1.0A",
	        "1.0ab",     "1.0a1",     "1.0_",        "1.0_foo",  "1.0_-r0",  "1.0-r",
	        "1.0-r1-r2", "1.0-1",     "1.0~",        "1.0~xyz",  "1.0~ABC",  "1.0 ",
	        " 1.0",      "1.0-r1_p1", "1.0~ab_p1",   "1.0_p1a",  "1.0-r1.1", "1.0.a",
	        "1_1_alpha", "1__alpha",  "1.0_alpha.1", "1.0-r1~a",
	};

	(void)state;
	check_chain(VERSION_ALPINE, chain, N(chain));
	check_cases(VERSION_ALPINE, cases, N(cases));
	check_invalid(VERSION_ALPINE, invalid, N(invalid));
}

static void test_pep440(void **state)
{
	/* pypa/packaging's own ordering list (tests/test_version.py), and beyond. */
	static const char *const chain[] = {
	        "1.0.dev456",
	        "1.0a1",
	        "1.0a2.dev456",
	        "1.0a12.dev456",
	        "1.0a12",
	        "1.0b1.dev456",
	        "1.0b2",
	        "1.0b2.post345.dev456",
	        "1.0b2.post345",
	        "1.0b2-346",
	        "1.0c1.dev456",
	        "1.0c1",
	        "1.0rc2",
	        "1.0c3",
	        "1.0",
	        "1.0.post456.dev34",
	        "1.0.post456",
	        "1.1.dev1",
	        "1.2+123abc",
	        "1.2+123abc456",
	        "1.2+abc",
	        "1.2+abc123",
	        "1.2+abc123def",
	        "1.2+1234.abc",
	        "1.2+123456",
	        "1.2.r32+123456",
	        "1.2.rev33+123456",
	        "1!0.1",
	        "1!1.0b2.post345.dev456",
	        "1!1.0.post456",
	        "1!1.2.rev33+123456",
	};
	static const struct order_case cases[] = {
	        {"1.0", '=', "1.0.0"},
	        {"1", '=', "1.0.0.0"},
	        {"1.0", '<', "1.0.0.1"},
	        {"01.02", '=', "1.2"},
	        {"0!1.0", '=', "1.0"},
	        {"v1.0", '=', "1.0"},
	        {" V1.0\n", '=', "1.0"},
	        {"1.0\x1c", '=', "1.0"},
	        {"1.0a1", '=', "1.0alpha1"},
	        {"1.0a1", '=', "1.0.A.1"},
	        {"1.0a1", '=', "1.0-a_1"},
	        {"1.0b1", '=', "1.0BETA1"},
	        {"1.0rc1", '=', "1.0c1"},
	        {"1.0rc1", '=', "1.0pre1"},
	        {"1.0rc1", '=', "1.0preview1"},
	        {"1.0a", '=', "1.0a0"},
	        {"1.0a-", '=', "1.0a0"},
	        {"1.0a-1", '=', "1.0a1"},
	        {"1.0.post1", '=', "1.0-1"},
	        {"1.0.post1", '=', "1.0rev1"},
	        {"1.0.post1", '=', "1.0r1"},
	        {"1.0.post1", '=', "1.0_POST_1"},
	        {"1.0.post", '=', "1.0.post0"},
	        {"1.0.post-", '=', "1.0.post0"},
	        {"1.0.dev", '=', "1.0.dev0"},
	        {"1.0-dev", '=', "1.0dev0"},
	        {"1.0.post.dev", '=', "1.0.post0.dev0"},
	        {"1.0+ABC.1", '=', "1.0+abc-1"},
	        {"1.0+a_b-c.d", '=', "1.0+a.b.c.d"},
	        {"1.0+01", '=', "1.0+1"},
	        {"1.0.dev.+abc", '=', "1.0.dev0+abc"},
	        {"1.0a.-1", '=', "1.0a0.post1"},
	        {"1.0+1", '>', "1.0+abc"},
	        {"1.0+abc", '<', "1.0+abc.0"},
	        {"1.0+abc", '<', "1.0+abd"},
	        {"1.0+ab", '<', "1.0+abc"},
	        {"1.0", '<', "1.0+0"},
	        {"1.0.dev1", '<', "1.0a1.dev1"},
	        {"1.0.post1.dev1", '>', "1.0"},
	        {"1.0rc1.post1.dev1+x", '<', "1.0rc1.post1"},
	        {"99999999999999999999999.0", '>', "99999999999999999999998.1"},
	};
	static const char *const invalid[] = {
	        "",
	        " ",
	        "v",
	        "vv1",
	        "1.0-",
	        "1.0+",
	        "1.0+a..b",
	        "1.0abc",
	        "1.0a1b2",
	        "1!",
	        "!1",
	        "1.0-1-1",
	        "1.0.dev.post",
	        "1.0_1",
	        "1.0.-1",
	        "1.0+a+b",
	        "1.0.+a",
	        "1.0 1",
	        "1.0.",
	        "1..0",
	        "a",
	        "1.0+a b",
	        "1.0\xc5\xbf",
	        "1.0-final",
	        "2013-01-21T20:33:09",
	        "1.0+\xc4\xb1",
	};

	(void)state;
	check_chain(VERSION_PYPI, chain, N(chain));
	check_cases(VERSION_PYPI, cases, N(cases));
	check_invalid(VERSION_PYPI, invalid, N(invalid));
}

/* ---- vector files ---- */

struct divergence {
	char file[64];
	char version[VERSION_MAX_LEN + 1];
	int reason;
	unsigned used;
};

struct reason {
	char id[32];
	char text[400];
	unsigned vectors;
};

struct vectors {
	struct divergence div[MAX_DIVERGE];
	size_t n_div;
	struct reason reasons[MAX_REASONS];
	size_t n_reasons;
	unsigned failed;
};

struct tally {
	unsigned passed, diverged, skipped;
};

static FILE *open_fixture(const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the repository root): %s", path,
		         strerror(errno));
	return f;
}

/* Reads a line without its newline; fails the test on a line that does not fit. */
static bool next_line(FILE *f, char *buf, size_t size)
{
	size_t n;

	if (!fgets(buf, (int)size, f))
		return false;
	n = strlen(buf);
	if (n == size - 1 && buf[n - 1] != '\n')
		fail_msg("fixture line too long: %.40s...", buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return true;
}

static int find_reason(const struct vectors *vx, const char *id)
{
	for (size_t i = 0; i < vx->n_reasons; i++)
		if (!strcmp(vx->reasons[i].id, id))
			return (int)i;
	fail_msg("divergences.tsv: unknown reason '%s'", id);
	return -1;
}

/* Copies a field that must fit. */
static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		fail_msg("divergences.tsv: field too long: %s", src);
	memcpy(dst, src, n + 1);
}

static void load_divergences(struct vectors *vx)
{
	char line[MAX_LINE];
	FILE *f = open_fixture("divergences.tsv");

	while (next_line(f, line, sizeof(line))) {
		char *tab = strchr(line, '\t'), *tab2;

		if (line[0] == '#' || line[0] == '\0')
			continue;
		assert_non_null(tab);
		*tab++ = '\0';
		if (line[0] == '@') {
			struct reason *r = &vx->reasons[vx->n_reasons++];

			assert_true(vx->n_reasons <= MAX_REASONS);
			copy_field(r->id, sizeof(r->id), line + 1);
			copy_field(r->text, sizeof(r->text), tab);
			continue;
		}
		tab2 = strchr(tab, '\t');
		assert_non_null(tab2);
		*tab2++ = '\0';
		assert_true(vx->n_div < MAX_DIVERGE);
		copy_field(vx->div[vx->n_div].file, sizeof(vx->div[0].file), line);
		copy_field(vx->div[vx->n_div].version, sizeof(vx->div[0].version), tab);
		vx->div[vx->n_div++].reason = find_reason(vx, tab2);
	}
	fclose(f);
}

static struct divergence *find_divergence(struct vectors *vx, const char *file, const char *v)
{
	for (size_t i = 0; i < vx->n_div; i++)
		if (!strcmp(vx->div[i].file, file) && !strcmp(vx->div[i].version, v))
			return &vx->div[i];
	return NULL;
}

/*
 * A vector we did not follow because it involves versions we reject: fine
 * when each of them is listed for this file; reported either way.
 */
static void diverged(struct vectors *vx, const char *file, enum version_eco eco,
                     const char *const *v, size_t n, const char *vector, struct tally *t)
{
	const struct divergence *first = NULL;

	for (size_t i = 0; i < n; i++) {
		struct divergence *d;

		if (version_valid(eco, v[i]) == 0)
			continue;
		d = find_divergence(vx, file, v[i]);
		if (!d) {
			printf("  FAIL %s (%s): '%s' rejected, not in divergences.tsv: %s\n", file,
			       version_eco_name(eco), v[i], vector);
			vx->failed++;
			return;
		}
		d->used++;
		first = first ? first : d;
	}
	assert_non_null(first);
	vx->reasons[first->reason].vectors++;
	printf("  diverged %s (%s): %s  [%s]\n", file, version_eco_name(eco), vector,
	       vx->reasons[first->reason].id);
	t->diverged++;
}

static void check_order(struct vectors *vx, const char *file, enum version_eco eco, const char *a,
                        char op, const char *b, const char *vector, struct tally *t)
{
	const char *const v[] = {a, b};
	char got = compare(eco, a, b);

	if (got == '!') {
		diverged(vx, file, eco, v, 2, vector, t);
	} else if (got != op || compare(eco, b, a) != flip(op)) {
		printf("  FAIL %s (%s): %s: got %c\n", file, version_eco_name(eco), vector, got);
		vx->failed++;
	} else {
		t->passed++;
	}
}

static void check_validity(struct vectors *vx, const char *file, enum version_eco eco,
                           const char *v, bool valid, struct tally *t)
{
	bool ok = version_valid(eco, v) == 0;

	if (ok == valid && (!ok || compare(eco, v, v) == '=')) {
		t->passed++;
	} else if (valid) {
		diverged(vx, file, eco, &v, 1, v, t);
	} else {
		printf("  FAIL %s (%s): '%s' accepted, the file says invalid\n", file,
		       version_eco_name(eco), v);
		vx->failed++;
	}
}

static void print_tally(const char *file, enum version_eco eco, const struct tally *t)
{
	printf("vectors: %-42s %-7s %6u passed, %3u diverged (listed), %2u skipped (listed)\n",
	       file, version_eco_name(eco), t->passed, t->diverged, t->skipped);
}

/* osv-scalibr semantic fixtures: "A op B", '//' and '#' comments. */
static void run_semantic(struct vectors *vx, const char *file, enum version_eco eco)
{
	char line[MAX_LINE], a[MAX_LINE], b[MAX_LINE], op[8];
	struct tally t = {0};
	FILE *f = open_fixture(file);

	while (next_line(f, line, sizeof(line))) {
		if (!line[0] || !strncmp(line, "//", 2) || line[0] == '#')
			continue;
		if (sscanf(line, "%1023s %7s %1023s", a, op, b) != 3 || strlen(op) != 1)
			fail_msg("%s: unparsable vector '%s'", file, line);
		check_order(vx, file, eco, a, op[0], b, line, &t);
	}
	fclose(f);
	print_tally(file, eco, &t);
}

/* APT's test/versions.lst: "A B ret", ret 1/-1/0, '#' comments. */
static void run_apt(struct vectors *vx, enum version_eco eco)
{
	static const char file[] = "apt-versions.lst";
	char line[MAX_LINE], a[MAX_LINE], b[MAX_LINE];
	struct tally t = {0};
	FILE *f = open_fixture(file);
	int ret;

	while (next_line(f, line, sizeof(line))) {
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		if (sscanf(line, "%1023s %1023s %d", a, b, &ret) != 3)
			continue; /* blank or comment only */
		check_order(vx, file, eco, a, sym(ret), b, line, &t);
	}
	fclose(f);
	print_tally(file, eco, &t);
}

/* apk-tools test/unit/version.data: "A op B", "V" (valid), "!V" (invalid). */
static void run_apk_tools(struct vectors *vx)
{
	static const char file[] = "apk-tools-version.data";
	char line[MAX_LINE], a[MAX_LINE], b[MAX_LINE], op[8];
	struct tally t = {0};
	FILE *f = open_fixture(file);

	while (next_line(f, line, sizeof(line))) {
		char *hash = strchr(line, '#');
		int n;

		if (hash)
			*hash = '\0';
		n = sscanf(line, "%1023s %7s %1023s", a, op, b);
		if (n == 3 && strchr(op, '~')) {
			/* apk's fuzzy dependency match, not an ordering: no such
			 * operation in version.h. */
			printf("  skipped %s: %s  [apk fuzzy match '%s' is not an ordering]\n",
			       file, line, op);
			t.skipped++;
		} else if (n == 3 && strlen(op) == 1) {
			check_order(vx, file, VERSION_ALPINE, a, op[0], b, line, &t);
		} else if (n == 1) {
			check_validity(vx, file, VERSION_ALPINE, a[0] == '!' ? a + 1 : a,
			               a[0] != '!', &t);
		} else if (n > 0) {
			fail_msg("%s: unparsable vector '%s'", file, line);
		}
	}
	fclose(f);
	print_tally(file, VERSION_ALPINE, &t);
}

/* osv.dev's lists of Alpine versions: one per line, '#' comments. */
static void run_list(struct vectors *vx, const char *file, bool valid)
{
	char line[MAX_LINE];
	struct tally t = {0};
	FILE *f = open_fixture(file);

	while (next_line(f, line, sizeof(line)))
		if (line[0] && line[0] != '#')
			check_validity(vx, file, VERSION_ALPINE, line, valid, &t);
	fclose(f);
	print_tally(file, VERSION_ALPINE, &t);
}

static void test_vectors(void **state)
{
	struct vectors *vx = calloc(1, sizeof(*vx));
	unsigned listed_unused = 0, failed;

	(void)state;
	assert_non_null(vx);
	load_divergences(vx);
	for (int e = VERSION_DEBIAN; e <= VERSION_UBUNTU; e++) {
		run_semantic(vx, "osv-semantic/debian-versions.txt", (enum version_eco)e);
		run_semantic(vx, "osv-semantic/debian-versions-generated.txt", (enum version_eco)e);
		run_apt(vx, (enum version_eco)e);
	}
	run_semantic(vx, "osv-semantic/alpine-versions.txt", VERSION_ALPINE);
	run_semantic(vx, "osv-semantic/alpine-versions-generated.txt", VERSION_ALPINE);
	run_apk_tools(vx);
	run_list(vx, "osv-dev-alpine-valid_versions.txt", true);
	run_list(vx, "osv-dev-alpine-invalid_versions.txt", false);
	run_semantic(vx, "osv-semantic/pypi-versions.txt", VERSION_PYPI);
	run_semantic(vx, "osv-semantic/pypi-versions-generated.txt", VERSION_PYPI);

	for (size_t i = 0; i < vx->n_div; i++) {
		if (!vx->div[i].used) {
			printf("  FAIL divergences.tsv: %s '%s' used by no vector\n",
			       vx->div[i].file, vx->div[i].version);
			listed_unused++;
		}
	}
	for (size_t i = 0; i < vx->n_reasons; i++)
		printf("reason %-22s %4u vectors: %s\n", vx->reasons[i].id, vx->reasons[i].vectors,
		       vx->reasons[i].text);
	printf("vectors: %u failed, %u stale divergence entries\n", vx->failed, listed_unused);
	failed = vx->failed;
	free(vx);
	assert_int_equal(failed, 0);
	assert_int_equal(listed_unused, 0);
}

/* ---- the dpkg oracle ---- */

struct strvec {
	char **v;
	size_t n, cap;
};

static void strvec_push(struct strvec *sv, const char *s, size_t len)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 1024;
		sv->v = realloc(sv->v, sv->cap * sizeof(*sv->v));
		assert_non_null(sv->v);
	}
	sv->v[sv->n] = strndup(s, len);
	assert_non_null(sv->v[sv->n]);
	sv->n++;
}

static void strvec_free(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
}

/* Collects the "Version: " fields of a deb822 stream. */
static void load_deb822_versions(FILE *f, struct strvec *sv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, "Version: ", 9) != 0)
			continue;
		while (n > 9 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		strvec_push(sv, line + 9, (size_t)n - 9);
	}
	free(line);
}

/* Fallback when there are no apt lists: tokens 1 and 3 of the osv Debian vectors. */
static void load_fixture_versions(struct strvec *sv)
{
	char line[MAX_LINE], a[MAX_LINE], b[MAX_LINE], op[8];
	FILE *f = open_fixture("osv-semantic/debian-versions-generated.txt");

	while (next_line(f, line, sizeof(line))) {
		if (sscanf(line, "%1023s %7s %1023s", a, op, b) == 3) {
			strvec_push(sv, a, strlen(a));
			strvec_push(sv, b, strlen(b));
		}
	}
	fclose(f);
}

static int strcmp_cb(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dpkg_order_cb(const void *a, const void *b)
{
	int cmp = 0;

	assert_int_equal(version_cmp(VERSION_DEBIAN, *(char *const *)a, *(char *const *)b, &cmp),
	                 0);
	return cmp;
}

static void sort_unique(struct strvec *sv)
{
	size_t out = 0;

	qsort(sv->v, sv->n, sizeof(*sv->v), strcmp_cb);
	for (size_t i = 0; i < sv->n; i++) {
		if (out > 0 && !strcmp(sv->v[out - 1], sv->v[i]))
			free(sv->v[i]);
		else
			sv->v[out++] = sv->v[i];
	}
	sv->n = out;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The first k entries become a deterministic random sample, in random order. */
static void shuffle_prefix(char **v, size_t n, size_t k)
{
	uint64_t seed = 20240611;

	for (size_t i = 0; i < k && i + 1 < n; i++) {
		size_t j = i + (size_t)(splitmix64(&seed) % (n - i));
		char *tmp = v[i];

		v[i] = v[j];
		v[j] = tmp;
	}
}

/* Writes "A B" pairs, each oriented so that we predict '<' or '=' (one dpkg call then). */
static size_t write_pairs(FILE *f, char **v, size_t n, char *expect, size_t at)
{
	for (size_t i = 0; i + 1 < n; i++) {
		const char *a = v[i], *b = v[i + 1];
		char c = compare(VERSION_DEBIAN, a, b);

		if (c == '>') {
			a = v[i + 1];
			b = v[i];
			c = '<';
		}
		fprintf(f, "%s %s\n", a, b);
		expect[at++] = c;
	}
	return at;
}

static const char oracle_script[] = "while read -r a b; do "
                                    "if dpkg --compare-versions \"$a\" lt \"$b\"; then echo '<'; "
                                    "elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo '='; "
                                    "else echo '>'; fi; done < ";

/* Runs dpkg over the pairs file; returns the number of disagreements. */
static unsigned run_dpkg(const char *path, const char *expect, size_t n)
{
	char cmd[256], line[16], pair[2 * MAX_LINE];
	unsigned bad = 0;
	size_t i = 0;
	FILE *p, *pairs = fopen(path, "r");

	assert_non_null(pairs);
	snprintf(cmd, sizeof(cmd), "%s%s", oracle_script, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) && i < n) {
		assert_non_null(fgets(pair, sizeof(pair), pairs));
		if (line[0] != expect[i]) {
			if (bad++ < 20)
				printf("  DISAGREE dpkg says %c, refit %c: %s", line[0], expect[i],
				       pair);
		}
		i++;
	}
	assert_int_equal(pclose(p), 0);
	fclose(pairs);
	if (i != n)
		fail_msg("dpkg oracle answered %zu of %zu pairs", i, n);
	return bad;
}

static const char *load_oracle_versions(struct strvec *sv)
{
	FILE *p = popen("apt-cache dumpavail 2>/dev/null", "r"), *f;

	if (p) {
		load_deb822_versions(p, sv);
		pclose(p);
	}
	if (sv->n > 0)
		return "apt-cache dumpavail";
	printf("dpkg oracle: apt-cache dumpavail gave nothing (no apt lists): falling back to "
	       "/var/lib/dpkg/status and the fixture versions\n");
	f = fopen("/var/lib/dpkg/status", "r");
	if (f) {
		load_deb822_versions(f, sv);
		fclose(f);
	}
	load_fixture_versions(sv);
	return "/var/lib/dpkg/status + osv-semantic/debian-versions-generated.txt";
}

/* Every real version must be valid: dpkg-deb refuses to build with a bad one. */
static void check_all_valid(const struct strvec *sv)
{
	unsigned rejected = 0;

	for (size_t i = 0; i < sv->n; i++) {
		if (version_valid(VERSION_DEBIAN, sv->v[i]) != 0) {
			printf("  REJECTED real version '%s'\n", sv->v[i]);
			rejected++;
		}
	}
	assert_int_equal(rejected, 0);
}

/*
 * Writes the pairs to check into a temporary file (path is its template):
 * the k sampled versions' neighbours in random order, then in our sorted
 * order, where they are as close as versions get. Returns the pair count.
 */
static size_t build_pairs(char **v, size_t k, char *expect, char *path)
{
	size_t n = 0;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	n = write_pairs(f, v, k, expect, n);
	qsort(v, k, sizeof(*v), dpkg_order_cb);
	n = write_pairs(f, v, k, expect, n);
	assert_int_equal(fclose(f), 0);
	return n;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_dpkg_oracle(void **state)
{
	struct strvec sv = {0};
	char path[] = "/tmp/refit-dpkg-oracle.XXXXXX", *expect;
	struct timespec t0;
	size_t k, npairs, total;
	const char *source;
	unsigned bad;

	(void)state;
	if (system("command -v dpkg >/dev/null 2>&1") != 0) {
		printf("dpkg oracle: SKIPPED, no dpkg on this machine\n");
		skip();
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	source = load_oracle_versions(&sv);
	total = sv.n;
	sort_unique(&sv);
	check_all_valid(&sv);
	assert_true(sv.n >= 2);
	k = sv.n < ORACLE_SAMPLE ? sv.n : ORACLE_SAMPLE;
	shuffle_prefix(sv.v, sv.n, k);
	expect = malloc(2 * k);
	assert_non_null(expect);
	npairs = build_pairs(sv.v, k, expect, path);
	bad = run_dpkg(path, expect, npairs);
	unlink(path);
	printf("dpkg oracle: %zu versions from %s (%zu unique), %zu sampled, %zu pairs "
	       "(%zu shuffled + %zu sorted neighbours), %u disagreements, %.1f s\n",
	       total, source, sv.n, k, npairs, k - 1, k - 1, bad, seconds_since(&t0));
	free(expect);
	strvec_free(&sv);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_eco_parse),   cmocka_unit_test(test_length_bound),
	        cmocka_unit_test(test_dpkg),        cmocka_unit_test(test_apk),
	        cmocka_unit_test(test_pep440),      cmocka_unit_test(test_vectors),
	        cmocka_unit_test(test_dpkg_oracle),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
