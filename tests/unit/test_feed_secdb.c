/*
 * test_feed_secdb — Alpine secdb to feed rows: every real document in
 * tests/fixtures/feeds/alpine-secdb/ (see ORIGIN.md there) against the rows
 * and counts an independent Python reading wrote to expected/, then the
 * messy cases one by one, wrong shapes, truncation, the callback stopping
 * the parse and allocation failures. Run from the repository root.
 */
#include "feed_secdb.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define FIXTURES "tests/fixtures/feeds/alpine-secdb/"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* Rows as "package\tid\tfixed\n" lines, each row's other fields checked on the way. */
struct rows {
	char *text;
	size_t len, cap;
	int n, stop_at;
	const char *ecosystem;
};

static void rows_add(struct rows *r, const char *line)
{
	size_t n = strlen(line);

	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->text = realloc(r->text, r->cap);
		assert_non_null(r->text);
	}
	memcpy(r->text + r->len, line, n + 1);
	r->len += n;
}

/* Allocations jansson may still make before failing; -1 = no limit. */
static long alloc_budget = -1;

/* The only affected object secdb rows may carry, for fixed. */
static void check_affected(const json_t *aff, const char *fixed)
{
	long budget = alloc_budget;
	char want[512], *got;

	alloc_budget = -1; /* the check's own dump is not under test */
	got = json_dumps(aff, JSON_COMPACT | JSON_SORT_KEYS);
	alloc_budget = budget;

	snprintf(want, sizeof(want),
	         "{\"ranges\":[{\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"%s\"}],"
	         "\"type\":\"ECOSYSTEM\"}]}",
	         fixed);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static int on_row(const struct feed_row *row, void *arg)
{
	struct rows *r = arg;
	const json_t *ev = json_array_get(
	        json_object_get(json_array_get(json_object_get(row->affected, "ranges"), 0),
	                        "events"),
	        1);
	const char *fixed = json_string_value(json_object_get(ev, "fixed"));
	char line[512];

	assert_non_null(fixed);
	check_affected(row->affected, fixed);
	if (r->ecosystem)
		assert_string_equal(row->ecosystem, r->ecosystem);
	assert_null(row->modified);
	assert_null(row->summary);
	assert_null(row->aliases);
	assert_false(row->withdrawn);
	snprintf(line, sizeof(line), "%s\t%s\t%s\n", row->package, row->id, fixed);
	rows_add(r, line);
	r->n++;
	return r->stop_at && r->n == r->stop_at ? -ECANCELED : 0;
}

static int parse_text(const char *doc, struct rows *r, struct feed_secdb_stats *st, char *err,
                      size_t errlen)
{
	memset(r, 0, sizeof(*r));
	rows_add(r, "");
	return feed_secdb_parse_stats(doc, strlen(doc), on_row, r, st, err, errlen);
}

/* ---- the real documents against expected/ ---- */

static const char *const real_docs[] = {
        "converted-json/v3.3-main",
        "converted-json/v3.3-community",
        "converted-json/v3.4-main",
        "converted-json/v3.4-community",
        "converted-json/v3.5-main",
        "converted-json/v3.5-community",
        "converted-json/v3.6-main",
        "converted-json/v3.6-community",
        "converted-json/v3.7-main",
        "converted-json/v3.7-community",
        "converted-json/v3.8-main",
        "converted-json/v3.8-community",
        "converted-json/v3.9-main",
        "converted-json/v3.9-community",
        "converted-json/v3.10-main",
        "converted-json/v3.10-community",
        "converted-json/v3.11-main",
        "converted-json/v3.11-community",
        "json-excerpts/v3.10-community-fetch.claircore",
        "json-excerpts/v3.11-main.vulnerablecode",
        "json-excerpts/v3.3-community.vulnerablecode",
};

/* Splits an expected TSV file into its counts and its row lines. */
static const char *expected_counts(const char *tsv, struct feed_secdb_stats *st)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	        {"packages", offsetof(struct feed_secdb_stats, packages)},
	        {"rows", offsetof(struct feed_secdb_stats, rows)},
	        {"not_affected", offsetof(struct feed_secdb_stats, not_affected)},
	        {"bad_versions", offsetof(struct feed_secdb_stats, bad_versions)},
	        {"merged", offsetof(struct feed_secdb_stats, merged)},
	        {"junk", offsetof(struct feed_secdb_stats, junk)},
	        {"repaired", offsetof(struct feed_secdb_stats, repaired)},
	        {"empty", offsetof(struct feed_secdb_stats, empty)},
	};
	const char *p = tsv;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < N(keys); i++) {
		char key[32];
		unsigned long v;
		int used = 0;

		if (sscanf(p, "# %31s %lu\n%n", key, &v, &used) != 2 || strcmp(key, keys[i].key))
			fail_msg("expected file: no '# %s' line", keys[i].key);
		*(size_t *)(void *)((char *)st + keys[i].off) = v;
		p += used;
	}
	return p;
}

static void test_real_documents(void **state)
{
	size_t total = 0;

	(void)state;
	for (size_t i = 0; i < N(real_docs); i++) {
		char path[256], err[256] = "";
		struct feed_secdb_stats want, got;
		struct rows r;
		size_t len, tlen;
		char *doc, *tsv;
		const char *rows, *slash = strchr(real_docs[i], '/');
		int n;

		snprintf(path, sizeof(path), FIXTURES "%s.json", real_docs[i]);
		doc = test_read_file(path, &len);
		snprintf(path, sizeof(path), FIXTURES "expected/%.*s__%s.tsv",
		         (int)(slash - real_docs[i]), real_docs[i], slash + 1);
		tsv = test_read_file(path, &tlen);
		rows = expected_counts(tsv, &want);
		memset(&r, 0, sizeof(r));
		rows_add(&r, "");
		n = feed_secdb_parse_stats(doc, len, on_row, &r, &got, err, sizeof(err));
		if (n < 0)
			fail_msg("%s: %s", real_docs[i], err);
		assert_int_equal(n, want.rows);
		assert_string_equal(r.text, rows);
		assert_memory_equal(&got, &want, sizeof(got));
		total += (size_t)n;
		free(r.text);
		free(tsv);
		free(doc);
	}
	/* the sum over all files, also from the Python reading (ORIGIN.md) */
	assert_int_equal(total, 12548);
}

/* ---- one case at a time ---- */

static void test_two_ids_and_bad_version(void **state)
{
	char *doc, err[256];
	size_t len;
	struct rows r = {.ecosystem = "Alpine:v3.11"};
	struct feed_secdb_stats st;

	(void)state;
	doc = test_read_file(FIXTURES "json-excerpts/v3.11-main.vulnerablecode.json", &len);
	rows_add(&r, "");
	assert_int_equal(feed_secdb_parse_stats(doc, len, on_row, &r, &st, err, sizeof(err)), 5);
	/* "4.10-1-r1" is no apk version: XSA-252 comes from "CVE-2018-7540 XSA-252" alone */
	assert_string_equal(r.text, "apk-tools\tCVE-2017-9669\t2.7.2-r0\n"
	                            "apk-tools\tCVE-2017-9671\t2.7.2-r0\n"
	                            "xen\tCVE-2018-7540\t4.10.0-r2\n"
	                            "xen\tXSA-248\t4.10.0-r1\n"
	                            "xen\tXSA-252\t4.10.0-r2\n");
	assert_int_equal(st.bad_versions, 1);
	assert_int_equal(st.packages, 2);
	assert_int_equal(st.junk, 0);
	free(r.text);
	free(doc);
}

static void test_never_affected(void **state)
{
	char *doc, err[256];
	size_t len;
	struct rows r = {0};
	struct feed_secdb_stats st;

	(void)state;
	/* real: db's five CVEs under "0" in v3.8 main */
	doc = test_read_file(FIXTURES "converted-json/v3.8-main.json", &len);
	rows_add(&r, "");
	assert_int_equal(feed_secdb_parse_stats(doc, len, on_row, &r, &st, err, sizeof(err)),
	                 1202 - 8);
	assert_int_equal(st.not_affected, 5);
	assert_null(strstr(r.text, "CVE-2016-0682"));
	assert_null(strstr(r.text, "\ndb\t"));
	free(r.text);
	free(doc);

	/* "0" wins over a fix listing the same id; other ids of the package stay */
	assert_int_equal(parse_text("{\"distroversion\":\"v3.18\",\"packages\":[{\"pkg\":{\"name\":"
	                            "\"db\",\"secfixes\":{\"5.3.28-r1\":[\"CVE-2019-8457\","
	                            "\"CVE-2016-0682\"],\"0\":[\"CVE-2016-0682\"]}}}]}",
	                            &r, &st, err, sizeof(err)),
	                 1);
	assert_string_equal(r.text, "db\tCVE-2019-8457\t5.3.28-r1\n");
	assert_int_equal(st.not_affected, 1);
	assert_int_equal(st.merged, 1);
	free(r.text);
}

static void test_lowest_version(void **state)
{
	char err[256];
	struct rows r = {.ecosystem = "Alpine:v3.9"};
	struct feed_secdb_stats st;

	(void)state;
	/* apk order, not byte order: 1.9-r0 < 1.9-r1 < 1.10-r0 */
	assert_int_equal(parse_text("{\"distroversion\":\"v3.9\",\"packages\":[{\"pkg\":{\"name\":"
	                            "\"p\",\"secfixes\":{\"1.10-r0\":[\"CVE-2020-0001\"],"
	                            "\"1.9-r1\":[\"CVE-2020-0001 CVE-2020-0002\"],"
	                            "\"1.9-r0\":[\"CVE-2020-0001\"]}}}]}",
	                            &r, &st, err, sizeof(err)),
	                 2);
	assert_string_equal(r.text, "p\tCVE-2020-0001\t1.9-r0\n"
	                            "p\tCVE-2020-0002\t1.9-r1\n");
	assert_int_equal(st.merged, 2);
	free(r.text);

	/* a package listed twice is one package: the lowest fix over both */
	assert_int_equal(parse_text("{\"distroversion\":\"v3.9\",\"packages\":[{\"pkg\":{\"name\":"
	                            "\"q\",\"secfixes\":{\"2.0-r0\":[\"CVE-2020-0003\"]}}},"
	                            "{\"pkg\":{\"name\":\"p\",\"secfixes\":{\"1-r0\":[\"X-1\"]}}},"
	                            "{\"pkg\":{\"name\":\"q\",\"secfixes\":{\"1.0-r0\":"
	                            "[\"CVE-2020-0003\"]}}}]}",
	                            &r, &st, err, sizeof(err)),
	                 2);
	assert_string_equal(r.text, "p\tX-1\t1-r0\n"
	                            "q\tCVE-2020-0003\t1.0-r0\n");
	assert_int_equal(st.packages, 3);
	assert_int_equal(st.merged, 1);
	free(r.text);

	/* real: bind in v3.6 main lists CVE-2017-3142 under 9.11.3-r0 and 9.11.1_p1-r1 */
	{
		size_t len;
		char *doc = test_read_file(FIXTURES "converted-json/v3.6-main.json", &len);

		memset(&r, 0, sizeof(r));
		rows_add(&r, "");
		assert_true(feed_secdb_parse(doc, len, on_row, &r, err, sizeof(err)) > 0);
		assert_non_null(strstr(r.text, "\nbind\tCVE-2017-3142\t9.11.1_p1-r1\n"));
		assert_non_null(strstr(r.text, "\nopenssl\tCVE-2017-3738\t1.0.2n-r0\n"));
		free(r.text);
		free(doc);
	}
}

static void test_messy_ids(void **state)
{
	char err[256];
	struct rows r = {0};
	struct feed_secdb_stats st;

	(void)state;
	/* each string is real (v3.5 … v3.11), the package is not */
	assert_int_equal(
	        parse_text(
	                "{\"distroversion\":\"v3.11\",\"packages\":[{\"pkg\":{\"name\":\"x\","
	                "\"secfixes\":{\"1.0-r0\":[\"CVE-2018-14467 (BGP)\","
	                "\"CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)\","
	                "\"CVE 2018-16859\",\"CVE_2019-2426\",\"CVE-\?\?\?\?-\?\?\?\?\?  XSA-284\","
	                "\"CVE-2017-5753 XSA-254 XPTI\",\"wnpa-sec-2017-18\",\"ZBX-11023\","
	                "\"CVE-2018-1000,\",\"-\"],\"1.1-r0\":null}}}]}",
	                &r, &st, err, sizeof(err)),
	        10);
	assert_string_equal(r.text, "x\tCVE-2017-5753\t1.0-r0\n"
	                            "x\tCVE-2018-1000\t1.0-r0\n"
	                            "x\tCVE-2018-10103\t1.0-r0\n"
	                            "x\tCVE-2018-14467\t1.0-r0\n"
	                            "x\tCVE-2018-16859\t1.0-r0\n"
	                            "x\tCVE-2019-2426\t1.0-r0\n"
	                            "x\tXSA-254\t1.0-r0\n"
	                            "x\tXSA-284\t1.0-r0\n"
	                            "x\tZBX-11023\t1.0-r0\n"
	                            "x\twnpa-sec-2017-18\t1.0-r0\n");
	assert_int_equal(st.repaired, 2);
	assert_int_equal(st.junk, 3); /* CVE-????-?????, XPTI, - */
	assert_int_equal(st.empty, 1);
	free(r.text);
}

static void test_empty_documents(void **state)
{
	static const char *const files[] = {
	        FIXTURES "converted-json/v3.3-community.json",               /* "packages": null */
	        FIXTURES "json-excerpts/v3.3-community.vulnerablecode.json", /* "packages": [] */
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < N(files); i++) {
		size_t len;
		char *doc = test_read_file(files[i], &len);
		struct rows r = {0};
		struct feed_secdb_stats st;

		rows_add(&r, "");
		assert_int_equal(
		        feed_secdb_parse_stats(doc, len, on_row, &r, &st, err, sizeof(err)), 0);
		assert_int_equal(r.n, 0);
		assert_int_equal(st.packages, 0);
		free(r.text);
		free(doc);
	}
}

static void test_truncated(void **state)
{
	size_t len;
	char *doc = test_read_file(FIXTURES "converted-json/v3.11-main.json", &len);
	char err[256];
	struct rows r = {0};

	(void)state;
	for (size_t cut = 0; cut < len - 1; cut += 1 + cut / 3) {
		err[0] = '\0';
		rows_add(&r, "");
		assert_int_equal(feed_secdb_parse(doc, cut, on_row, &r, err, sizeof(err)), -EINVAL);
		assert_int_equal(r.n, 0);
		assert_non_null(strstr(err, "line "));
	}
	/* the last byte is a '}' followed by a newline: without the newline it still parses */
	assert_int_equal(feed_secdb_parse(doc, len - 1, on_row, &r, err, sizeof(err)), 1266);
	free(r.text);
	free(doc);
}

static void test_bad_shapes(void **state)
{
	static const struct {
		const char *doc, *msg;
	} cases[] = {
	        {"[]", "not an object"},
	        {"{\"packages\":[]}", "distroversion is missing"},
	        {"{\"distroversion\":\"edge\",\"packages\":[]}", "distroversion is edge"},
	        {"{\"distroversion\":\"v3.123\",\"packages\":[]}", "v3.123"},
	        {"{\"distroversion\":\"v4.0\",\"packages\":[]}", "v4.0"},
	        {"{\"distroversion\":\"v3.18\"}", "\"packages\" is missing"},
	        {"{\"distroversion\":\"v3.18\",\"packages\":{}}", "not a list"},
	        {"{\"distroversion\":\"v3.18\",\"packages\":[{\"pkg\":{}}]}",
	         "packages[0]: no pkg"},
	        {"{\"distroversion\":\"v3.18\",\"packages\":[{\"pkg\":{\"name\":\"\"}}]}",
	         "no pkg.name"},
	        {"{\"distroversion\":\"v3.18\",\"packages\":[{\"pkg\":{\"name\":\"a\"}},"
	         "{\"pkg\":{\"name\":\"b\",\"secfixes\":[]}}]}",
	         "packages[1] (b): secfixes is not an object"},
	        {"{\"distroversion\":\"v3.18\",\"packages\":[{\"pkg\":{\"name\":\"a\","
	         "\"secfixes\":{\"1-r0\":7}}}]}",
	         "secfixes[\"1-r0\"] is not a list"},
	        {"{\"distroversion\":\"v3.18\",\"packages\":[]} {}", "line 1 column"},
	        {"{\"distroversion\":\"v3.18\",\n\"packages\":[}", "line 2 column"},
	};
	char err[256];
	struct rows r = {0};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		err[0] = '\0';
		assert_int_equal(parse_text(cases[i].doc, &r, NULL, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: '%s' has no '%s'", cases[i].doc, err, cases[i].msg);
		assert_int_equal(r.n, 0);
		free(r.text);
	}
}

static void test_wolfi_refused(void **state)
{
	size_t len;
	char *doc = test_read_file(FIXTURES "other-distros/wolfi-security.vunnel.json", &len);
	char err[256];
	struct rows r = {0};

	(void)state;
	rows_add(&r, "");
	assert_int_equal(feed_secdb_parse(doc, len, on_row, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "distroversion is missing, not \"v3.N\"");
	free(r.text);
	free(doc);
}

static void test_limits_and_stop(void **state)
{
	size_t len;
	char *doc = test_read_file(FIXTURES "converted-json/v3.10-main.json", &len);
	char err[256];
	struct rows r = {.stop_at = 3};
	struct feed_secdb_stats st = {.rows = 777};

	(void)state;
	rows_add(&r, "");
	assert_int_equal(feed_secdb_parse_stats(doc, len, on_row, &r, &st, err, sizeof(err)),
	                 -ECANCELED);
	assert_int_equal(r.n, 3);
	assert_int_equal(st.rows, 777); /* untouched on failure */
	assert_string_equal(err, "stopped by the row callback (-125)");
	/* the size bound is checked before the first byte is read */
	assert_int_equal(
	        feed_secdb_parse(doc, (size_t)FEED_SECDB_MAX_LEN + 1, on_row, &r, err, sizeof(err)),
	        -EMSGSIZE);
	/* err may be NULL */
	assert_int_equal(feed_secdb_parse("{", 1, on_row, &r, NULL, 0), -EINVAL);
	free(r.text);
	free(doc);
}

static void test_too_many_ids(void **state)
{
	size_t cap = (size_t)FEED_SECDB_MAX_IDS * 20 + 256, off;
	char *doc = malloc(cap), err[256];
	struct rows r = {0};

	(void)state;
	assert_non_null(doc);
	off = (size_t)snprintf(doc, cap,
	                       "{\"distroversion\":\"v3.18\",\"packages\":[{\"pkg\":{"
	                       "\"name\":\"p\",\"secfixes\":{\"1-r0\":[");
	for (int i = 0; i <= FEED_SECDB_MAX_IDS; i++)
		off += (size_t)snprintf(doc + off, cap - off, "%s\"X-%d\"", i ? "," : "", i);
	snprintf(doc + off, cap - off, "]}}}]}");
	assert_int_equal(parse_text(doc, &r, NULL, err, sizeof(err)), -EMSGSIZE);
	assert_string_equal(err, "more than 262144 ids in one document");
	free(r.text);
	free(doc);
}

/* ---- allocation failures (jansson's allocator, which the rows are built with) ---- */

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void test_alloc_failures(void **state)
{
	size_t len;
	char *doc =
	        test_read_file(FIXTURES "json-excerpts/v3.10-community-fetch.claircore.json", &len);
	char err[256];
	int ok = 0, oom = 0;

	(void)state;
	json_set_alloc_funcs(failing_malloc, free);
	for (long n = 0; n < 100000 && !ok; n++) {
		struct rows r = {0};
		int ret;

		rows_add(&r, "");
		alloc_budget = n;
		ret = feed_secdb_parse(doc, len, on_row, &r, err, sizeof(err));
		alloc_budget = -1;
		if (ret == 9)
			ok = 1;
		else if (ret == -ENOMEM)
			oom++;
		else if (ret != -EINVAL) /* jansson's decoder reports some as syntax errors */
			fail_msg("budget %ld: %d (%s)", n, ret, err);
		free(r.text);
	}
	json_set_alloc_funcs(malloc, free);
	assert_true(ok);
	assert_true(oom > 10);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_real_documents),
	        cmocka_unit_test(test_two_ids_and_bad_version),
	        cmocka_unit_test(test_never_affected),
	        cmocka_unit_test(test_lowest_version),
	        cmocka_unit_test(test_messy_ids),
	        cmocka_unit_test(test_empty_documents),
	        cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_bad_shapes),
	        cmocka_unit_test(test_wolfi_refused),
	        cmocka_unit_test(test_limits_and_stop),
	        cmocka_unit_test(test_too_many_ids),
	        cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
