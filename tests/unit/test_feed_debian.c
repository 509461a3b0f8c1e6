/*
 * test_feed_debian — the Debian tracker JSON streamed to feed rows: the three
 * real excerpts in tests/fixtures/feeds/debian-tracker/ (see ORIGIN.md
 * there) against the rows an independent Python reading wrote to expected/,
 * pushed whole, byte by byte and in random pieces; then the traps, malformed
 * and truncated documents, the bound on one entry or package name (and a
 * package three times over it, which passes), error positions, the callback
 * stopping the parse and allocation failures. Run from the repository root.
 */
#include "feed_debian.h"

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

#define FIXTURES "tests/fixtures/feeds/debian-tracker/"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* Allocations jansson may still make before failing; -1 = no limit. */
static long alloc_budget = -1;

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

/* Rows as "ecosystem\tpackage\tid\tfixed\turgency\tsummary\n", '-' for what is absent. */
struct rows {
	char *text;
	size_t len, cap;
	int n, stop_at;
};

static void rows_init(struct rows *r)
{
	memset(r, 0, sizeof(*r));
	r->cap = 256;
	r->text = calloc(1, r->cap);
	assert_non_null(r->text);
}

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

/* The affected object must be exactly this: nothing else for the matcher to guess at. */
static void check_affected(const json_t *aff, const char *fixed, const char *urgency)
{
	long budget = alloc_budget;
	char want[512], ds[128] = "", *got;

	alloc_budget = -1; /* the check's own dump is not under test */
	got = json_dumps(aff, JSON_COMPACT | JSON_SORT_KEYS);
	alloc_budget = budget;
	if (urgency)
		snprintf(ds, sizeof(ds), "\"database_specific\":{\"urgency\":\"%s\"},", urgency);
	if (fixed)
		snprintf(want, sizeof(want),
		         "{%s\"ranges\":[{\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"%s\"}],"
		         "\"type\":\"ECOSYSTEM\"}]}",
		         ds, fixed);
	else
		snprintf(want, sizeof(want),
		         "{%s\"ranges\":[{\"events\":[{\"introduced\":\"0\"}],\"type\":"
		         "\"ECOSYSTEM\"}]}",
		         ds);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static int on_row(const struct feed_row *row, void *arg)
{
	struct rows *r = arg;
	const json_t *range = json_array_get(json_object_get(row->affected, "ranges"), 0);
	const json_t *ev = json_array_get(json_object_get(range, "events"), 1);
	const char *fixed = json_string_value(json_object_get(ev, "fixed"));
	const char *urg = json_string_value(
	        json_object_get(json_object_get(row->affected, "database_specific"), "urgency"));
	char line[1024];

	check_affected(row->affected, fixed, urg);
	assert_null(row->modified);
	assert_null(row->aliases);
	assert_false(row->withdrawn);
	assert_true(!row->summary || strlen(row->summary) <= FEED_DEBIAN_SUMMARY_MAX);
	snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\t%s\t%s\n", row->ecosystem, row->package,
	         row->id, fixed ? fixed : "-", urg ? urg : "-", row->summary ? row->summary : "-");
	rows_add(r, line);
	r->n++;
	return r->stop_at && r->n == r->stop_at ? -ECANCELED : 0;
}

/* Deterministic piece sizes: mostly small (splits inside strings and escapes), some large. */
static size_t next_piece(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % 8 == 0 ? (*seed >> 8) % 4096 + 1 : (*seed >> 16) % 23 + 1;
}

/*
 * Pushes doc in pieces: piece 0 = whole, else piece bytes at a time, or
 * random sizes when piece is SIZE_MAX (seeded by seed). Returns finish()'s
 * value; the first failing push must give the same.
 */
static int run(const char *doc, size_t len, size_t piece, uint32_t seed, struct rows *r,
               struct feed_debian_stats *st, char *err, size_t errlen)
{
	struct feed_debian *f = feed_debian_new(on_row, r);
	int pushed = 0, ret;

	assert_non_null(f);
	for (size_t off = 0; off < len && pushed == 0;) {
		size_t k = piece == 0 ? len : piece == SIZE_MAX ? next_piece(&seed) : piece;

		if (k > len - off)
			k = len - off;
		pushed = feed_debian_push(f, doc + off, k);
		off += k;
	}
	ret = feed_debian_finish(f, err, errlen);
	if (pushed)
		assert_int_equal(ret, pushed);
	if (st)
		feed_debian_stats(f, st);
	feed_debian_free(f);
	return ret;
}

static int run_text(const char *doc, struct rows *r, struct feed_debian_stats *st, char *err,
                    size_t errlen)
{
	return run(doc, strlen(doc), 0, 0, r, st, err, errlen);
}

/* ---- the real excerpts against expected/ ---- */

static const char *const excerpts[] = {"osvdev", "vulnerablecode", "vunnel"};

/* Splits an expected TSV file into its counts and its row lines. */
static const char *expected_counts(const char *tsv, struct feed_debian_stats *st)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	        {"packages", offsetof(struct feed_debian_stats, packages)},
	        {"entries", offsetof(struct feed_debian_stats, entries)},
	        {"rows", offsetof(struct feed_debian_stats, rows)},
	        {"not_affected", offsetof(struct feed_debian_stats, not_affected)},
	        {"other_release", offsetof(struct feed_debian_stats, other_release)},
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

static void check_excerpt(const char *name, size_t piece, uint32_t seed)
{
	char path[256], err[256] = "";
	struct feed_debian_stats want, got;
	struct rows r;
	size_t len, tlen;
	char *doc, *tsv;
	const char *rows;
	int n;

	snprintf(path, sizeof(path), FIXTURES "tracker-json-excerpt-%s.json", name);
	doc = test_read_file(path, &len);
	snprintf(path, sizeof(path), FIXTURES "expected/tracker-json-excerpt-%s.tsv", name);
	tsv = test_read_file(path, &tlen);
	rows = expected_counts(tsv, &want);
	rows_init(&r);
	n = run(doc, len, piece, seed, &r, &got, err, sizeof(err));
	if (n < 0)
		fail_msg("%s: %s", name, err);
	assert_int_equal(n, want.rows);
	assert_string_equal(r.text, rows);
	assert_int_equal(got.packages, want.packages);
	assert_int_equal(got.entries, want.entries);
	assert_int_equal(got.rows, want.rows);
	assert_int_equal(got.not_affected, want.not_affected);
	assert_int_equal(got.other_release, want.other_release);
	assert_int_equal(got.bad_version, 0);
	assert_int_equal(got.bad_entry, 0);
	assert_true(got.largest_member > 0 && got.largest_member < len);
	free(r.text);
	free(tsv);
	free(doc);
}

static void test_excerpts_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(excerpts); i++)
		check_excerpt(excerpts[i], 0, 0);
}

static void test_excerpts_byte_by_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(excerpts); i++)
		check_excerpt(excerpts[i], 1, 0);
}

static void test_excerpts_random_pieces(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 40; seed++)
		for (size_t i = 0; i < N(excerpts); i++)
			check_excerpt(excerpts[i], SIZE_MAX, seed);
}

/* Every cut of the document into two pushes. */
static void test_excerpt_every_split(void **state)
{
	size_t len;
	char *doc = test_read_file(FIXTURES "tracker-json-excerpt-vunnel.json", &len), err[256];
	struct rows whole;

	(void)state;
	rows_init(&whole);
	assert_int_equal(run(doc, len, 0, 0, &whole, NULL, err, sizeof(err)), 16);
	for (size_t cut = 0; cut <= len; cut++) {
		struct feed_debian *f;
		struct rows r;

		rows_init(&r);
		f = feed_debian_new(on_row, &r);
		assert_non_null(f);
		assert_int_equal(feed_debian_push(f, doc, cut), 0);
		assert_int_equal(feed_debian_push(f, doc + cut, len - cut), 0);
		assert_int_equal(feed_debian_finish(f, err, sizeof(err)), 16);
		assert_string_equal(r.text, whole.text);
		feed_debian_free(f);
		free(r.text);
	}
	free(whole.text);
	free(doc);
}

/* ---- traps and single cases ---- */

static void test_releases_array(void **state)
{
	char err[256];
	struct rows r;
	struct feed_debian_stats st;

	(void)state;
	/* real: chromium-browser / CVE-2022-0358 in the vunnel excerpt */
	rows_init(&r);
	assert_int_equal(run_text("{\"chromium-browser\":{\"CVE-2022-0358\":{\"releases\":[]}},"
	                          "\"x\":{\"CVE-2022-0001\":{\"releases\":{\"bookworm\":{"
	                          "\"status\":\"open\"}}}}}",
	                          &r, &st, err, sizeof(err)),
	                 1);
	assert_string_equal(r.text, "Debian:12\tx\tCVE-2022-0001\t-\t-\t-\n");
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.bad_entry, 0);
	free(r.text);
}

static void test_fixed_zero_and_statuses(void **state)
{
	char err[256];
	struct rows r;
	struct feed_debian_stats st;

	(void)state;
	rows_init(&r);
	assert_int_equal(
	        run_text("{\"p\":{\"CVE-2020-0001\":{\"releases\":{"
	                 "\"bookworm\":{\"status\":\"resolved\",\"fixed_version\":\"0\","
	                 "\"urgency\":\"unimportant\"},"
	                 "\"bullseye\":{\"status\":\"resolved\",\"fixed_version\":\"1:2.3-4+"
	                 "deb11u1\"},"
	                 "\"buster\":{\"status\":\"undetermined\"},"
	                 "\"stretch\":{\"status\":\"open\",\"fixed_version\":\"9.9-9\","
	                 "\"urgency\":\"end-of-life\"},"
	                 "\"trixie\":{\"status\":\"resolved\",\"fixed_version\":\"1.0 beta\"},"
	                 "\"forky\":{\"status\":\"resolved\"},"
	                 "\"jessie\":{\"status\":\"fixed\",\"fixed_version\":\"1-1\"},"
	                 "\"sid\":{\"status\":\"open\"},\"duke\":{\"status\":\"open\"}}}}}",
	                 &r, &st, err, sizeof(err)),
	        3);
	assert_string_equal(r.text, "Debian:11\tp\tCVE-2020-0001\t1:2.3-4+deb11u1\t-\t-\n"
	                            "Debian:10\tp\tCVE-2020-0001\t-\t-\t-\n"
	                            "Debian:9\tp\tCVE-2020-0001\t-\tend-of-life\t-\n");
	assert_int_equal(st.not_affected, 1);
	assert_int_equal(st.bad_version, 1); /* "1.0 beta" */
	assert_int_equal(st.bad_entry, 2);   /* forky without fixed_version, jessie "fixed" */
	assert_int_equal(st.other_release, 2);
	free(r.text);
}

static void test_odd_entries_skipped(void **state)
{
	char err[256], doc[1024], longid[FEED_DEBIAN_NAME_MAX + 2];
	struct rows r;
	struct feed_debian_stats st;

	(void)state;
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	snprintf(doc, sizeof(doc),
	         "{\"p\":{\"%s\":{\"releases\":{\"bookworm\":{\"status\":\"open\"}}},"
	         "\"CVE-1\":{\"releases\":[{\"bookworm\":{}}]},"
	         "\"CVE-2\":{\"releases\":\"bookworm\"},"
	         "\"CVE-3\":{\"releases\":{\"bookworm\":[],\"buster\":{\"status\":7}}},"
	         "\"CVE-4\":{},"
	         "\"\":{\"releases\":{\"bookworm\":{\"status\":\"open\"}}}},"
	         "\"\":{\"CVE-5\":{}}}",
	         longid);
	rows_init(&r);
	assert_int_equal(run_text(doc, &r, &st, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(st.packages, 2);
	assert_int_equal(st.entries, 6); /* those of package "" are not looked at */
	assert_int_equal(st.bad_entry, 7);
	free(r.text);
}

static void test_want(void **state)
{
	size_t len;
	char *doc = test_read_file(FIXTURES "tracker-json-excerpt-vunnel.json", &len), err[256];
	struct feed_debian *f;
	struct feed_debian_stats st;
	struct rows r;

	(void)state;
	rows_init(&r);
	f = feed_debian_new(on_row, &r);
	assert_non_null(f);
	assert_int_equal(feed_debian_want(f, "sid"), -EINVAL);
	assert_int_equal(feed_debian_want(f, "Bookworm"), -EINVAL);
	assert_int_equal(feed_debian_want(f, NULL), -EINVAL);
	assert_int_equal(feed_debian_want(f, "bookworm"), 0);
	assert_int_equal(feed_debian_want(f, "stretch"), 0);
	assert_int_equal(feed_debian_push(f, doc, len), 0);
	assert_int_equal(feed_debian_finish(f, err, sizeof(err)), 6);
	feed_debian_stats(f, &st);
	assert_int_equal(st.other_release, 18); /* 3 of each entry's 4 or 5 releases */
	assert_int_equal(st.not_affected, 1);
	assert_string_equal(
	        r.text,
	        "Debian:9\tprototypejs\tCVE-2008-7220\t1.6.0.2-1\thigh**\t"
	        "Unspecified vulnerability in Prototype JavaScript framework (prototypejs) before "
	        "1.6.0.2 allows attackers to make \"cross-site ajax requests\" via unknown "
	        "vectors.\n"
	        "Debian:9\ttxt2man\tCVE-2013-1444\t1.5.5-4.1\tlow**\t"
	        "A certain Debian patch for txt2man 1.5.5, as used in txt2man 1.5.5-2, 1.5.5-4, "
	        "and "
	        "others, allows local users to overwrite arbitrary files via a symlink attack on "
	        "/tmp/2222.\n"
	        "Debian:9\tbackupninja\tCVE-2005-3111\t0.8-2\tmedium\t"
	        "The handler code for backupninja 0.8 and earlier creates temporary files with "
	        "predictable filenames, which allows local users to modify arbitrary files via a "
	        "symlink attack.\n"
	        "Debian:12\tchromium\tCVE-2022-0456\t98.0.4758.80-1\tnot yet assigned\t-\n"
	        "Debian:9\tchromium\tCVE-2022-0456\t-\tend-of-life\t-\n"
	        "Debian:12\tsope\tCVE-2025-53603\t5.8.0-1+deb12u1\tnot yet assigned\t"
	        "In Alinto SOPE SOGo 2.0.2 through 5.12.2, sope-core/NGExtensions/NGHashMap.m "
	        "allows "
	        "a NULL pointer dereference and SOGo crash via a request in which a parameter in "
	        "the "
	        "query string is a duplicate of a parameter in the POST body.\n");
	feed_debian_free(f);
	free(r.text);
	free(doc);
}

static void test_summary_cut(void **state)
{
	char doc[1024], desc[400], err[256], want[512];
	struct rows r;

	(void)state;
	/* 255 'a' then U+00E9 (2 bytes): 256 bytes would split it, so 255 are kept */
	memset(desc, 'a', 255);
	snprintf(desc + 255, sizeof(desc) - 255, "\xc3\xa9 and more text after the cut");
	snprintf(doc, sizeof(doc),
	         "{\"p\":{\"CVE-1\":{\"description\":\"%s\",\"releases\":{\"trixie\":{"
	         "\"status\":\"open\"}}}}}",
	         desc);
	rows_init(&r);
	assert_int_equal(run_text(doc, &r, NULL, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "Debian:13\tp\tCVE-1\t-\t-\t%.255s\n", desc);
	assert_string_equal(r.text, want);
	free(r.text);

	/* 254 'a' then U+00E9: exactly 256 bytes, kept whole */
	memset(desc, 'a', 254);
	snprintf(desc + 254, sizeof(desc) - 254, "\xc3\xa9 more");
	snprintf(doc, sizeof(doc),
	         "{\"p\":{\"CVE-1\":{\"description\":\"%s\",\"releases\":{\"trixie\":{"
	         "\"status\":\"open\"}}}}}",
	         desc);
	rows_init(&r);
	assert_int_equal(run_text(doc, &r, NULL, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "Debian:13\tp\tCVE-1\t-\t-\t%.256s\n", desc);
	assert_string_equal(r.text, want);
	free(r.text);
}

/* Strings holding braces, brackets, commas and escaped quotes, split everywhere. */
static void test_tricky_strings(void **state)
{
	const char *doc = "{ \"a\\\"},{\" : {\"CVE-\\\\\\\"}]\" : {\"description\":"
	                  "\"}}]],\\\\\\\"{\\u00e9\\n\",\"releases\":{\"bookworm\":{"
	                  "\"status\":\"open\"}}}} , \"b[\":{} }\n";
	size_t len = strlen(doc);
	char err[256];

	(void)state;
	for (size_t piece = 0; piece <= len; piece++) {
		struct rows r;

		rows_init(&r);
		assert_int_equal(run(doc, len, piece, 0, &r, NULL, err, sizeof(err)), 1);
		assert_string_equal(r.text,
		                    "Debian:12\ta\"},{\tCVE-\\\"}]\t-\t-\t}}]],\\\"{\xc3\xa9\n\n");
		free(r.text);
	}
}

static void test_truncated(void **state)
{
	for (size_t i = 0; i < N(excerpts); i++) {
		char path[256], err[256];
		size_t len, end;
		char *doc;

		snprintf(path, sizeof(path), FIXTURES "tracker-json-excerpt-%s.json", excerpts[i]);
		doc = test_read_file(path, &len);
		for (end = len; end > 0 && doc[end - 1] != '}'; end--)
			;
		for (size_t cut = 0; cut < end; cut++) {
			struct rows r;

			rows_init(&r);
			err[0] = '\0';
			assert_int_equal(run(doc, cut, 0, 0, &r, NULL, err, sizeof(err)), -EBADMSG);
			if (!strstr(err, cut ? "truncated document" : "empty document"))
				fail_msg("%s cut at %zu: %s", excerpts[i], cut, err);
			free(r.text);
		}
		free(doc);
	}
}

/* Malformed documents: finish()'s value, a part of its message, the rows before it. */
static const struct {
	const char *doc;
	int ret;
	const char *msg;
	int rows; /* those of the entries that ended before the error */
} malformed[] = {
        {"", -EBADMSG, "line 1 column 1: empty document", 0},
        {" \n ", -EBADMSG, "line 2 column 2: empty document", 0},
        {"[{\"a\":{}}]", -EBADMSG, "line 1 column 1: the document is not a JSON object", 0},
        {"\"a\"", -EBADMSG, "not a JSON object", 0},
        {"{\"a\":{}} x", -EBADMSG, "line 1 column 10: bytes after the end of the document", 0},
        {"{\"a\":{}}\n{}", -EBADMSG, "line 2 column 1: bytes after the end", 0},
        {"{\"a\":{}},", -EBADMSG, "bytes after the end", 0},
        {"{\"a\":{\"x\":{}}}}", -EBADMSG, "line 1 column 15: bytes after the end", 0},
        {"{,}", -EBADMSG, "line 1 column 2: empty member", 0},
        {"{\"a\":{},}", -EBADMSG, "line 1 column 9: empty member", 0},
        {"{\"a\":{},,\"b\":{}}", -EBADMSG, "line 1 column 9: empty member", 0},
        {"{\"a\":{,}}", -EBADMSG, "line 1 column 7: empty member", 0},
        {"{\"a\":{\"x\":{},}}", -EBADMSG, "line 1 column 14: empty member", 0},
        {"{\"a\":{\"x\":{},,\"y\":{}}}", -EBADMSG, "line 1 column 14: empty member", 0},
        {"{]}", -EBADMSG, "line 1 column 2: unbalanced ']'", 0},
        {"{\"a\":{\"x\":{}}]", -EBADMSG, "line 1 column 14: unbalanced ']'", 0},
        {"{\"a\":{\"x\":{}]}}", -EBADMSG, "line 1 column 13: unbalanced ']'", 0},
        /* the punctuation between packages, checked by the scanner */
        {"{\"a\":{}\"b\":{}}", -EBADMSG, "line 1 column 8: ',' or '}' expected after package a", 0},
        {"{\"a\":{} x}", -EBADMSG, "line 1 column 9: ',' or '}' expected after package a", 0},
        {"{\"a\"}", -EBADMSG, "line 1 column 5: ':' expected after package a", 0},
        {"{\"a\" x:{}}", -EBADMSG, "line 1 column 6: ':' expected after package a", 0},
        {"{\"a\":{},\"b\"}", -EBADMSG, "line 1 column 12: ':' expected after package b", 0},
        {"{a:{}}", -EBADMSG, "line 1 column 2: a package name was expected", 0},
        {"{\"a\":{},1:{}}", -EBADMSG, "line 1 column 9: a package name was expected", 0},
        /* package names, decoded by jansson */
        {"{\"a\\x\":{}}", -EBADMSG, "line 1 column 5: invalid escape near '\"a\\x'", 0},
        {"{\"\\u0000\":{}}", -EBADMSG, "line 1 column 9: \\u0000 is not allowed", 0},
        {"{\"\xff\":{}}", -EBADMSG, "line 1 column 2: unable to decode byte 0xff", 0},
        {"{\"a\nb\":{}}", -EBADMSG, "line", 0},
        /* inside a package: jansson's, entry by entry */
        {"{\"a\":{\"CVE-1\":{]}}", -EBADMSG, "line 1 column", 0},
        {"{\"a\":{\"x\":{} \"y\":{}}}", -EBADMSG, "line 1 column 16: '}' expected near '\"y\"'", 0},
        {"{\"a\":{\"x\" {}}}", -EBADMSG, "line 1 column 11: ':' expected near '{'", 0},
        {"{\"a\":{\"x\"}}", -EBADMSG, "line 1 column 10: ':' expected near '}'", 0},
        {"{\"a\":{\"x\":{}} , \"b\":{\"y\":{},\"z\":1 2}}", -EBADMSG,
         "line 1 column 35: '}' expected near '2'", 0},
        {"{\"\":{\"CVE-1\":{]}}}", -EBADMSG, "line 1 column", 0}, /* skipped, still decoded */
        {"{\"a\":{\"x\":{\"releases\":{\"bookworm\":{\"status\":\"open\"}}},\"y\":{]}}}", -EBADMSG,
         "line 1 column", 1},
        {"{\"a\":{\"CVE-1\":{\"releases\":{\"bookworm\":{\"status\":\"open\"}}}}", -EBADMSG,
         "truncated document", 1},
        {"{\"a\":{\"CVE-1\"", -EBADMSG, "line 1 column 14: truncated document", 0},
        {"{\"a\":[]}", -EBADMSG, "line 1 column 2: package a is not an object", 0},
        {"{\"a\":\"b\"}", -EBADMSG, "package a is not an object", 0},
        {"{\"a\":tru}", -EBADMSG, "line 1 column 2: package a is not an object", 0},
        {"{\n  \"a\": {\"CVE-1\": []}}", -EBADMSG,
         "line 2 column 9: package a: CVE-1 is not an object", 0},
        {"{\"a\":{\"x\":\"\\u0000\"}}", -EBADMSG, "line 1 column", 0},
        {"{\"a\":{\"x\":\"\xff\"}}", -EBADMSG, "line 1 column", 0},
};

static void test_malformed(void **state)
{
	char err[256];

	(void)state;
	for (size_t i = 0; i < N(malformed); i++) {
		for (size_t piece = 0; piece < 3; piece++) {
			struct rows r;

			rows_init(&r);
			err[0] = '\0';
			assert_int_equal(run(malformed[i].doc, strlen(malformed[i].doc), piece, 0,
			                     &r, NULL, err, sizeof(err)),
			                 malformed[i].ret);
			if (!strstr(err, malformed[i].msg))
				fail_msg("%s: '%s' has no '%s'", malformed[i].doc, err,
				         malformed[i].msg);
			assert_int_equal(r.n, malformed[i].rows);
			free(r.text);
		}
	}
}

static void test_empty_object(void **state)
{
	static const char *const docs[] = {"{}", " {\n}\n", "\t{ }", "{\"a\":{}}"};
	char err[256];

	(void)state;
	for (size_t i = 0; i < N(docs); i++) {
		struct rows r;

		rows_init(&r);
		assert_int_equal(run(docs[i], strlen(docs[i]), 1, 0, &r, NULL, err, sizeof(err)),
		                 0);
		free(r.text);
	}
}

/* jansson's line and column, moved to the member's place in the document. */
static void test_error_position(void **state)
{
	const char *doc = "{\n"
	                  "  \"ok\": {},\n"
	                  "  \"bad\": {\n"
	                  "    \"CVE-1\": {\"releases\": tru}\n"
	                  "  }\n"
	                  "}\n";
	const char *one_line = "{\"ok\":{},\"bad\":{\"CVE-1\":{\"releases\":tru}}}";
	char err[256];
	struct rows r;

	(void)state;
	rows_init(&r);
	assert_int_equal(run_text(doc, &r, NULL, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 4 column 29: invalid token near 'tru'");
	free(r.text);
	rows_init(&r);
	assert_int_equal(run_text(one_line, &r, NULL, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 1 column 39: invalid token near 'tru'");
	free(r.text);
	/* a package name goes to jansson alone: moved to where its quote is */
	rows_init(&r);
	assert_int_equal(
	        run_text("{\n  \"ok\": {},\n  \"b\\q\": {}\n}\n", &r, NULL, err, sizeof(err)),
	        -EBADMSG);
	assert_string_equal(err, "line 3 column 6: invalid escape near '\"b\\q'");
	free(r.text);
}

/* Pushes doc in pieces of piece bytes (0: whole) into a parser bounded to max. */
static int run_bounded(const char *doc, size_t piece, size_t max, struct rows *r, char *err,
                       size_t errlen)
{
	struct feed_debian *f = feed_debian_new(on_row, r);
	size_t len = strlen(doc);
	int ret;

	assert_non_null(f);
	feed_debian_set_member_max(f, max);
	for (size_t off = 0, k; off < len; off += k) {
		k = piece ? piece : len;
		if (k > len - off)
			k = len - off;
		if (feed_debian_push(f, doc + off, k) < 0)
			break;
	}
	ret = feed_debian_finish(f, err, errlen);
	if (ret < 0)
		assert_int_equal(feed_debian_push(f, "}", 1), ret); /* sticks */
	feed_debian_free(f);
	return ret;
}

/* The bound is on one entry: a package over it passes, an entry over it does not. */
static void test_member_bound(void **state)
{
	const char *e1 = "\"CVE-1\":{\"releases\":{\"bookworm\":{\"status\":\"open\"}}}";
	const char *e2 = "\"CVE-2\":{\"releases\":{\"trixie\":{\"status\":\"open\"}}}";
	const char *e3 = "\"CVE-3\":{\"releases\":{\"bookworm\":{\"status\":\"open\"}},"
	                 "\"description\":\"x\"}";
	char doc[512], err[256], want[128];
	size_t max = strlen(e1); /* e1 fits exactly, e1 and e2 together do not, e3 does not */
	struct rows r;

	(void)state;
	snprintf(doc, sizeof(doc), "{\"a\":{%s,%s},\"b\":{%s}}", e1, e2, e3);
	/* e3 starts after {"a":{ e1 , e2 },"b":{ */
	snprintf(want, sizeof(want), "line 1 column %zu: package b: an entry over %zu bytes",
	         strlen(e1) + strlen(e2) + 15, max);
	for (size_t piece = 0; piece < 8; piece++) {
		rows_init(&r);
		assert_int_equal(run_bounded(doc, piece, max, &r, err, sizeof(err)), -EMSGSIZE);
		assert_string_equal(err, want);
		assert_int_equal(r.n, 2); /* a's entries, each within the bound */
		free(r.text);
	}
	snprintf(doc, sizeof(doc), "{\"a\":{%s,%s}}", e1, e2);
	rows_init(&r);
	assert_int_equal(run_bounded(doc, 1, max, &r, err, sizeof(err)), 2);
	free(r.text);
	/* the blanks between the delimiters are the entry's, counted */
	snprintf(doc, sizeof(doc), "{\"a\":{ %s}}", e1);
	rows_init(&r);
	assert_int_equal(run_bounded(doc, 1, max, &r, err, sizeof(err)), -EMSGSIZE);
	snprintf(want, sizeof(want), "line 1 column 8: package a: an entry over %zu bytes", max);
	assert_string_equal(err, want);
	free(r.text);
}

/* A package name, quotes included, is bounded too. */
static void test_name_bound(void **state)
{
	char err[256];
	struct rows r;

	(void)state;
	rows_init(&r);
	assert_int_equal(run_bounded("{\"12345678\":{}}", 1, 10, &r, err, sizeof(err)), 0);
	assert_int_equal(run_bounded("{\"ok\":{},\"123456789\":{}}", 1, 10, &r, err, sizeof(err)),
	                 -EMSGSIZE);
	assert_string_equal(err, "line 1 column 10: a package name over 10 bytes");
	assert_int_equal(run_bounded("{\"ok\":{},\"123456789\":{}}", 0, 10, &r, err, sizeof(err)),
	                 -EMSGSIZE);
	assert_string_equal(err, "line 1 column 10: a package name over 10 bytes");
	free(r.text);
}

/* The default bound, FEED_DEBIAN_MEMBER_MAX, with a real-sized push pattern. */
static void test_member_bound_default(void **state)
{
	const char *head = "{\"linux\":{\"CVE-1\":{\"description\":\"";
	size_t chunk = 64 << 10, sent = 0;
	char *fill = malloc(chunk), err[256];
	struct feed_debian *f;
	struct rows r;
	int ret = 0;

	(void)state;
	assert_non_null(fill);
	memset(fill, 'x', chunk);
	rows_init(&r);
	f = feed_debian_new(on_row, &r);
	assert_non_null(f);
	assert_int_equal(feed_debian_push(f, head, strlen(head)), 0);
	sent = strlen(head) - strlen("{\"linux\":{"); /* the entry so far */
	while (ret == 0 && sent <= (size_t)FEED_DEBIAN_MEMBER_MAX + chunk) {
		ret = feed_debian_push(f, fill, chunk);
		sent += chunk;
	}
	assert_int_equal(ret, -EMSGSIZE);
	assert_true(sent > FEED_DEBIAN_MEMBER_MAX && sent - chunk <= FEED_DEBIAN_MEMBER_MAX);
	assert_int_equal(feed_debian_finish(f, err, sizeof(err)), -EMSGSIZE);
	assert_string_equal(err, "line 1 column 11: package linux: an entry over 1048576 bytes");
	feed_debian_free(f);
	free(r.text);
	free(fill);
}

/*
 * A package of 3 times the default bound, in 2048 entries: it streams, and
 * what was held at once (largest_member) is one entry, not the package.
 */
static void test_big_package(void **state)
{
	const size_t n = 2048, each = (size_t)FEED_DEBIAN_MEMBER_MAX * 3 / 2048;
	size_t cap = n * (each + 128) + 64, len, id_len;
	char *doc = malloc(cap), *desc = malloc(each), err[256];
	struct feed_debian_stats st;
	struct rows r;

	(void)state;
	assert_non_null(doc);
	assert_non_null(desc);
	memset(desc, 'd', each - 1);
	desc[each - 1] = '\0';
	len = (size_t)snprintf(doc, cap, "{\"linux\":{");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
		        doc + len, cap - len,
		        "%s\"CVE-2024-%05zu\":{\"description\":\"%s\",\"releases\":{"
		        "\"bookworm\":{\"status\":\"open\"}}}",
		        i ? "," : "", i, desc);
	len += (size_t)snprintf(doc + len, cap - len, "}}");
	assert_true(len > 3 * (size_t)FEED_DEBIAN_MEMBER_MAX && len < cap);
	rows_init(&r);
	assert_int_equal(run(doc, len, 65536, 0, &r, &st, err, sizeof(err)), (int)n);
	assert_int_equal(st.packages, 1);
	assert_int_equal(st.entries, n);
	id_len = strlen("\"CVE-2024-00000\"");
	assert_int_equal(st.largest_member,
	                 id_len +
	                         strlen(":{\"description\":\"\",\"releases\":{\"bookworm\":{"
	                                "\"status\":\"open\"}}}") +
	                         each - 1);
	assert_non_null(strstr(r.text, "Debian:12\tlinux\tCVE-2024-02047\t-\t-\tddd"));
	free(r.text);
	free(desc);
	free(doc);
}

static void test_callback_stop(void **state)
{
	size_t len;
	char *doc = test_read_file(FIXTURES "tracker-json-excerpt-osvdev.json", &len), err[256];
	struct feed_debian *f;
	struct feed_debian_stats st;
	struct rows r;

	(void)state;
	rows_init(&r);
	r.stop_at = 2;
	f = feed_debian_new(on_row, &r);
	assert_non_null(f);
	assert_int_equal(feed_debian_push(f, doc, len), -ECANCELED);
	assert_int_equal(feed_debian_push(f, "x", 1), -ECANCELED);
	assert_int_equal(feed_debian_finish(f, err, sizeof(err)), -ECANCELED);
	assert_string_equal(err, "stopped by the row callback (-125)");
	assert_int_equal(r.n, 2);
	feed_debian_stats(f, &st);
	assert_int_equal(st.rows, 1); /* the refused row is not counted */
	assert_int_equal(feed_debian_finish(f, NULL, 0), -ECANCELED);
	feed_debian_free(f);
	feed_debian_free(NULL);
	free(r.text);
	free(doc);
}

static void test_alloc_failures(void **state)
{
	size_t len;
	char *doc = test_read_file(FIXTURES "tracker-json-excerpt-vunnel.json", &len), err[256];
	int ok = 0, oom = 0;

	(void)state;
	json_set_alloc_funcs(failing_malloc, free);
	for (long n = 0; n < 100000 && !ok; n++) {
		struct rows r;
		int ret;

		rows_init(&r);
		alloc_budget = n;
		ret = run(doc, len, 97, 0, &r, NULL, err, sizeof(err));
		alloc_budget = -1;
		if (ret == 16)
			ok = 1;
		else if (ret == -ENOMEM)
			oom++;
		else if (ret != -EBADMSG) /* jansson's decoder reports some as syntax errors */
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
	        cmocka_unit_test(test_excerpts_whole),
	        cmocka_unit_test(test_excerpts_byte_by_byte),
	        cmocka_unit_test(test_excerpts_random_pieces),
	        cmocka_unit_test(test_excerpt_every_split),
	        cmocka_unit_test(test_releases_array),
	        cmocka_unit_test(test_fixed_zero_and_statuses),
	        cmocka_unit_test(test_odd_entries_skipped),
	        cmocka_unit_test(test_want),
	        cmocka_unit_test(test_summary_cut),
	        cmocka_unit_test(test_tricky_strings),
	        cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_empty_object),
	        cmocka_unit_test(test_error_position),
	        cmocka_unit_test(test_member_bound),
	        cmocka_unit_test(test_name_bound),
	        cmocka_unit_test(test_member_bound_default),
	        cmocka_unit_test(test_big_package),
	        cmocka_unit_test(test_callback_stop),
	        cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
