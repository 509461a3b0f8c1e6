/*
 * test_ignore — the ignore module against every case of the moby/patternmatcher
 * vectors (tests/fixtures/ignore/patternmatcher_vectors.json, 166 cases in 7
 * tables, and the same matching cases flattened in matches.tsv), refit's own
 * edge cases and deliberate divergences, and the context walk on a temporary
 * tree. Each vector table prints "pass/total" and its listed divergences; a
 * divergent case is not skipped, its own check asserts what refit does instead.
 * Run from the repository root.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ignore.h"

#define VECTORS     "tests/fixtures/ignore/patternmatcher_vectors.json"
#define TSV         "tests/fixtures/ignore/matches.tsv"
#define TOTAL_CASES 166
#define TSV_CASES   137
#define WHY_MAX     512
#define TEXT_MAX    8192
#define PROBES_MAX  512
#define LIST_MAX    64

typedef bool (*case_fn)(json_t *c, char *why);

/* A vector refit does not follow, with the reason and the check of what we do. */
struct divergence {
	const char *table;
	const char *key; /* the case's first pattern */
	const char *reason;
	case_fn check;
};

static bool check_malformed_repeat(json_t *c, char *why);

static const struct divergence divergences[] = {
        {"malformed_repeat", "[Local-Only]/",
         "Docker's New() accepts the pattern (filepath.Match allows the reversed range l-O) "
         "and every later match fails with ErrBadPattern from the lazy regexp compile, which "
         "fails the build; refit rejects it while parsing, with its line number, so a broken "
         ".dockerignore is reported once and up front",
         check_malformed_repeat},
};

/* ---- helpers ---- */

static const char *str(const json_t *c, const char *key)
{
	return json_string_value(json_object_get(c, key));
}

static json_t *load_vectors(void)
{
	json_error_t jerr;
	json_t *root = json_load_file(VECTORS, 0, &jerr);

	if (!root)
		fail_msg("%s:%d: %s (run from the repository root)", VECTORS, jerr.line, jerr.text);
	return root;
}

static json_t *table(json_t *root, const char *name, size_t *declared)
{
	json_t *t = json_object_get(json_object_get(root, "tables"), name);

	assert_non_null(t);
	*declared = (size_t)json_integer_value(json_object_get(t, "count"));
	return json_object_get(t, "cases");
}

/* Whether pattern s means the same as a .dockerignore line as it does when
 * handed to patternmatcher.New directly (the Go tables do the latter). */
static bool expressible(const char *s, char *why)
{
	const char *t = s + strspn(s, " \t");

	if (s[0] == '#' || strpbrk(s, "\n\r") || (t[0] == '/' && t[1]) ||
	    (t[0] == '!' && (t[1] == ' ' || t[1] == '\t' || t[1] == '/' || strstr(t, "..")))) {
		snprintf(why, WHY_MAX, "pattern %s reads differently as a file line", s);
		return false;
	}
	return true;
}

/* The patterns of a JSON array as .dockerignore text, one per line. */
static bool join_patterns(const json_t *arr, char *buf, size_t size, char *why)
{
	size_t len = 0, i;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		size_t n = strlen(s);

		if (!expressible(s, why))
			return false;
		assert_true(len + n + 2 < size);
		memcpy(buf + len, s, n);
		len += n;
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	return true;
}

/* Parses the patterns and checks one path: an error, or the exclusion verdict. */
static bool check_text(const char *text, const char *path, bool want_err, bool want, char *why)
{
	struct ignore *ig = NULL;
	char err[256] = "";
	int r = ignore_parse(text, strlen(text), &ig, err, sizeof(err));
	bool got;

	if (want_err) {
		ignore_free(ig);
		if (r >= 0)
			snprintf(why, WHY_MAX, "parsed, want an error");
		return r < 0;
	}
	if (r < 0) {
		snprintf(why, WHY_MAX, "parse failed: %s", err);
		return false;
	}
	got = ignore_excluded(ig, path);
	ignore_free(ig);
	if (got != want)
		snprintf(why, WHY_MAX, "excluded=%d, want %d", got, want);
	return got == want;
}

static const struct divergence *find_divergence(const char *name, json_t *c)
{
	json_t *pats = json_object_get(c, "patterns");
	const char *key = pats ? json_string_value(json_array_get(pats, 0)) : str(c, "pattern");

	for (size_t i = 0; i < sizeof(divergences) / sizeof(divergences[0]); i++)
		if (!strcmp(divergences[i].table, name) && key && !strcmp(divergences[i].key, key))
			return &divergences[i];
	return NULL;
}

/* Runs every case of a table; returns the number of failures. */
static size_t run_table(json_t *root, const char *name, case_fn fn, size_t *ret_total)
{
	size_t declared, pass = 0, div = 0, fails = 0, i;
	json_t *cases = table(root, name, &declared), *c;

	json_array_foreach(cases, i, c)
	{
		const struct divergence *d = find_divergence(name, c);
		char why[WHY_MAX] = "";
		char *desc;

		if (d)
			div++;
		if ((d ? d->check : fn)(c, why)) {
			pass += !d;
			continue;
		}
		fails++;
		desc = json_dumps(c, JSON_COMPACT | JSON_ENSURE_ASCII);
		print_message("FAIL %s[%zu]%s %s: %s\n", name, i, d ? " (divergent)" : "", desc,
		              why);
		free(desc);
	}
	print_message("  %-20s %3zu/%3zu passed, %zu divergent (listed)\n", name, pass,
	              json_array_size(cases), div);
	for (size_t k = 0; k < sizeof(divergences) / sizeof(divergences[0]); k++)
		if (!strcmp(divergences[k].table, name))
			print_message("    divergent %s: %s\n", divergences[k].key,
			              divergences[k].reason);
	assert_int_equal(json_array_size(cases), declared);
	*ret_total += json_array_size(cases);
	return fails;
}

/* ---- the vector tables ---- */

/* simple_matches, matches, filepath_match: MatchesOrParentMatches or an error. */
static bool case_match(json_t *c, char *why)
{
	char text[TEXT_MAX];
	json_t *e = json_object_get(c, "error");

	if (!join_patterns(json_object_get(c, "patterns"), text, sizeof(text), why))
		return false;
	return check_text(text, str(c, "path"), json_is_true(e) || json_is_string(e),
	                  json_is_true(json_object_get(c, "match")), why);
}

/* Go's Pattern.match for one candidate, by the vector's match type and regexp. */
static bool go_match_one(const char *type, const char *pat, const regex_t *rx, const char *s)
{
	size_t n = strlen(s), pl = strlen(pat);

	if (!strcmp(type, "exactMatch"))
		return !strcmp(s, pat);
	if (!strcmp(type, "prefixMatch"))
		return !strncmp(s, pat, pl - 2);
	if (!strcmp(type, "suffixMatch"))
		return (n >= pl - 2 && !strcmp(s + n - (pl - 2), pat + 2)) ||
		       (pat[2] == '/' && !strcmp(s, pat + 3));
	return regexec(rx, s, 0, NULL, 0) == 0;
}

/* MatchesOrParentMatches for a clean relative path with Go's semantics. */
static bool go_match(const char *type, const char *pat, const regex_t *rx, const char *path)
{
	char buf[1024];

	if (go_match_one(type, pat, rx, path))
		return true;
	for (size_t k = 0; path[k]; k++) {
		if (path[k] != '/')
			continue;
		assert_true(k < sizeof(buf));
		memcpy(buf, path, k);
		buf[k] = '\0';
		if (go_match_one(type, pat, rx, buf))
			return true;
	}
	return false;
}

struct probes {
	const char *v[PROBES_MAX];
	size_t n;
};

static const char *const extra_probes[] = {
        "file",       "file.txt",   "a/b/file",   "dir",        "dir/dir2",      "x/dir2/y/z",
        "dir2",       "dir2/file",  "abc.def",    "abcZdef",    "ace",           "a/b",
        "foo/bar",    "xfoo/bar",   "a/foo/barx", ".foo",       "x/.foo",        "a(b)c/def",
        "myfile",     "dist/x.whl", "a/x/b",      "abc/b",      "fileXtxt",      "dir/x/file.txt",
        "x.txt/y",    "ab",         "a",          "dir/file/x", "a/dir2/b/c",    "b/file*",
        "xdir2/file", "xdir2/x/y",  "afoo/bar",   "a/xdir2/y",  "adir/file.txt", "xfile",
};

/* Clean relative ASCII paths from the matching tables, plus a few more. */
static void collect_probes(json_t *root, struct probes *p)
{
	static const char *const tables[] = {"simple_matches", "matches", "filepath_match"};
	size_t declared, i;
	json_t *c;

	p->n = 0;
	for (size_t t = 0; t < 3; t++)
		json_array_foreach(table(root, tables[t], &declared), i, c)
		{
			const char *s = str(c, "path");
			size_t n = strlen(s);
			bool ascii = true;

			for (size_t k = 0; k < n; k++)
				ascii &= (unsigned char)s[k] < 0x80 && s[k] != '\n';
			if (ascii && n && s[0] != '/' && s[n - 1] != '/' && strcmp(s, ".") &&
			    !strstr(s, "//") && p->n < PROBES_MAX)
				p->v[p->n++] = s;
		}
	for (i = 0; i < sizeof(extra_probes) / sizeof(extra_probes[0]); i++)
		p->v[p->n++] = extra_probes[i];
}

/* compile: Docker's classification and regexp, run over probe paths with
 * POSIX regexec (same meaning for these ASCII expressions), must agree with
 * ignore_excluded on every probe. */
static bool case_compile_probes(json_t *c, const struct probes *p, char *why)
{
	const char *pat = str(c, "pattern"), *type = str(c, "match_type");
	bool use_re = !strcmp(type, "regexpMatch"), ok = true;
	struct ignore *ig = NULL;
	char err[256];
	regex_t rx;

	if (use_re && regcomp(&rx, str(c, "regexp_slash"), REG_EXTENDED | REG_NOSUB)) {
		snprintf(why, WHY_MAX, "regcomp failed");
		return false;
	}
	if (ignore_parse(pat, strlen(pat), &ig, err, sizeof(err)) < 0) {
		snprintf(why, WHY_MAX, "parse failed: %s", err);
		ok = false;
	}
	for (size_t i = 0; ok && i < p->n; i++) {
		bool want = go_match(type, pat, use_re ? &rx : NULL, p->v[i]);

		if (ignore_excluded(ig, p->v[i]) != want) {
			snprintf(why, WHY_MAX, "probe %s: excluded=%d, want %d", p->v[i], !want,
			         want);
			ok = false;
		}
	}
	ignore_free(ig);
	if (use_re)
		regfree(&rx);
	return ok;
}

/* clean_patterns: blank patterns dropped, white space trimmed, lone '!' refused. */
static bool case_clean(json_t *c, char *why)
{
	json_t *pats = json_object_get(c, "patterns"), *v,
	       *cnt = json_object_get(c, "pattern_count");
	char text[TEXT_MAX], child[256];
	size_t i, nonblank = 0;
	bool ok = true;

	if (json_is_true(json_object_get(c, "error")))
		return join_patterns(pats, text, sizeof(text), why) &&
		       check_text(text, "x", true, false, why);
	json_array_foreach(pats, i, v)
	{
		const char *s = json_string_value(v), *t = s + strspn(s, " \t");
		bool exc = t[0] == '!';
		size_t n = strcspn(t + exc, " \t");

		if (!*t)
			continue;
		nonblank++;
		snprintf(child, sizeof(child), "%.*s", (int)n, t + exc);
		ok &= join_patterns(pats, text, sizeof(text), why) &&
		      check_text(text, child, false, !exc, why);
		snprintf(child, sizeof(child), "%.*s/child", (int)n, t + exc);
		ok &= check_text(text, child, false, !exc, why);
	}
	ok &= check_text(text, "not-listed", false, false, why);
	if (cnt && nonblank != (size_t)json_integer_value(cnt)) {
		snprintf(why, WHY_MAX, "%zu non-blank patterns, want %lld", nonblank,
		         json_integer_value(cnt));
		ok = false;
	}
	return ok;
}

/* The divergent check: the reversed range is refused when parsing, every time. */
static bool check_malformed_repeat(json_t *c, char *why)
{
	char text[TEXT_MAX], err[256] = "";
	struct ignore *ig = NULL;

	if (!join_patterns(json_object_get(c, "patterns"), text, sizeof(text), why))
		return false;
	for (json_int_t k = 0; k < json_integer_value(json_object_get(c, "repeat_calls")); k++) {
		if (ignore_parse(text, strlen(text), &ig, err, sizeof(err)) != -EINVAL ||
		    !strstr(err, "line 1: bad pattern") || !strstr(err, "reversed")) {
			snprintf(why, WHY_MAX, "want a parse error naming the range, got \"%s\"",
			         err);
			ignore_free(ig);
			return false;
		}
	}
	return true;
}

static bool is_lone_bang(const char *s, size_t n)
{
	size_t i = strspn(s, " \t");

	if (i >= n || s[i] != '!')
		return false;
	for (i++; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* Removes the lone-'!' lines of text (Docker's New rejects them); returns the
 * 1-based number of the first one removed, 0 if none. */
static unsigned drop_lone_bangs(const char *text, char *out)
{
	unsigned line = 0, first = 0;
	size_t len = 0;

	for (const char *s = text; *s; line++) {
		size_t n = strcspn(s, "\n");

		if (is_lone_bang(s, n)) {
			first = first ? first : line + 1;
		} else {
			memcpy(out + len, s, n);
			len += n;
			out[len++] = '\n';
		}
		s += n + (s[n] == '\n');
	}
	out[len] = '\0';
	return first;
}

/* ignorefile_readall: the file text must behave like the expected pattern list. */
static bool case_readall(json_t *c, char *why)
{
	const char *content = str(c, "content");
	char text[TEXT_MAX], list[TEXT_MAX], err[256] = "", want_err[64], probe[256];
	struct ignore *a = NULL, *b = NULL;
	json_t *exp = json_object_get(c, "expected"), *v;
	unsigned first = drop_lone_bangs(content, text);
	size_t i, len = 0;
	bool ok = true;

	/* Whole: ReadAll keeps each lone "!" and New() rejects the first. */
	snprintf(want_err, sizeof(want_err), "line %u: illegal exclusion pattern", first);
	if (!first || ignore_parse(content, strlen(content), &a, err, sizeof(err)) != -EINVAL ||
	    strncmp(err, want_err, strlen(want_err))) {
		snprintf(why, WHY_MAX, "want \"%s...\", got \"%s\"", want_err, err);
		return false;
	}
	list[0] = '\0';
	json_array_foreach(exp, i, v)
	{
		const char *s = json_string_value(v);

		if (strcmp(s, "!"))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\n", s);
	}
	assert_int_equal(ignore_parse(text, strlen(text), &a, err, sizeof(err)), 0);
	assert_int_equal(ignore_parse(list, strlen(list), &b, err, sizeof(err)), 0);
	json_array_foreach(exp, i, v)
	{
		const char *s = json_string_value(v);
		bool exc = s[0] == '!';

		if (!strcmp(s, "!"))
			continue;
		for (int child = 0; child < 2; child++) {
			snprintf(probe, sizeof(probe), "%s%s", s + exc, child ? "/x" : "");
			ok &= ignore_excluded(a, probe) == !exc &&
			      ignore_excluded(b, probe) == !exc;
		}
	}
	for (const char *s = content; *s; s += strcspn(s, "\n") + (s[strcspn(s, "\n")] != 0)) {
		snprintf(probe, sizeof(probe), "%.*s", (int)strcspn(s, "\n"), s);
		ok &= ignore_excluded(a, probe) == ignore_excluded(b, probe);
	}
	ok &= !ignore_excluded(a, "# this is a comment");
	ignore_free(a);
	ignore_free(b);
	if (!ok)
		snprintf(why, WHY_MAX, "the file and the expected list behave differently");
	return ok;
}

static void test_vectors(void **state)
{
	json_t *root = load_vectors();
	struct probes *probes = calloc(1, sizeof(*probes));
	size_t total = 0, fails = 0, declared, i;
	json_t *c;

	(void)state;
	assert_non_null(probes);
	collect_probes(root, probes);
	fails += run_table(root, "simple_matches", case_match, &total);
	fails += run_table(root, "matches", case_match, &total);
	fails += run_table(root, "filepath_match", case_match, &total);
	/* compile needs the probe list, so it runs its cases here. */
	{
		size_t pass = 0;
		json_t *cases = table(root, "compile", &declared);

		json_array_foreach(cases, i, c)
		{
			char why[WHY_MAX] = "";

			if (case_compile_probes(c, probes, why)) {
				pass++;
				continue;
			}
			fails++;
			print_message("FAIL compile[%zu] %s: %s\n", i, str(c, "pattern"), why);
		}
		print_message("  %-20s %3zu/%3zu passed, 0 divergent (%zu probe paths each)\n",
		              "compile", pass, json_array_size(cases), probes->n);
		assert_int_equal(json_array_size(cases), declared);
		total += json_array_size(cases);
	}
	fails += run_table(root, "clean_patterns", case_clean, &total);
	fails += run_table(root, "malformed_repeat", case_match, &total);
	fails += run_table(root, "ignorefile_readall", case_readall, &total);
	assert_int_equal(total, TOTAL_CASES);
	assert_int_equal(fails, 0);
	free(probes);
	json_decref(root);
}

/* matches.tsv: the same matching cases as three tables, flattened. */
static void test_vectors_tsv(void **state)
{
	FILE *f = fopen(TSV, "r");
	char line[TEXT_MAX], text[TEXT_MAX], why[WHY_MAX];
	size_t cases = 0, pass = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *fields[16], *save = NULL;
		size_t nf = 0, len = 0;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		for (char *t = strtok_r(line, "\t", &save); t && nf < 16;
		     t = strtok_r(NULL, "\t", &save))
			fields[nf++] = t;
		assert_true(nf >= 2);
		text[0] = '\0';
		for (size_t k = 2; k < nf; k++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", fields[k]);
		cases++;
		why[0] = '\0';
		if (check_text(text, fields[1], fields[0][0] == 'E', fields[0][0] == '1', why))
			pass++;
		else
			print_message("FAIL matches.tsv %s %s: %s\n", fields[0], fields[1], why);
	}
	fclose(f);
	print_message("  %-20s %3zu/%3zu passed, 0 divergent\n", "matches.tsv", pass, cases);
	assert_int_equal(cases, TSV_CASES);
	assert_int_equal(pass, cases);
}

/* ---- refit's own cases ----
 *
 * Expected values were confirmed against the Docker CLI 28.2.2 (legacy
 * builder, DOCKER_BUILDKIT=0, a stub daemon recording the context tar), except
 * where refit deliberately differs from it:
 *  - '\' before a letter, digit or non-ASCII rune: Docker passes it to Go's
 *    regexp ("\d" a digit, "\t" a tab, most others an error at build time);
 *    refit refuses the pattern, e.g. a Windows-style "src\main".
 *  - '*' or '?' inside [...]: Docker rewrites them inside the class ("[*]"
 *    matches "]" but not "*"); refit refuses the pattern.
 *  - a NUL byte, a line over 64 KiB, a pattern over 4 KiB: refused.
 *  - errors Docker finds lazily at the first match (a reversed range) are
 *    found when parsing, as in the malformed_repeat vector.
 *  - the walk sends every file an exception re-includes (with "**" and an
 *    exception for *.go files in any directory, nested .go files too), as
 *    BuildKit does; the legacy builder descends into an excluded directory
 *    only when an exception's text starts with its path, so it sends the
 *    top-level ones only.
 *  - the Dockerfile and .dockerignore are kept by exact path (the CLI appends
 *    them as "!" patterns, which would also re-include look-alikes).
 *  - <Dockerfile>.dockerignore replaces .dockerignore when present, as in
 *    BuildKit (the legacy builder ignores it).
 */

struct own_case {
	const char *text;
	const char *path;
	int want; /* 1 excluded, 0 kept, -1 parse error */
};

static const struct own_case own_cases[] = {
        /* file reading: CRLF, BOM, comments only in column 0, '/' and './' */
        {"docs\r\n!docs/keep\r\n", "docs/x", 1},
        {"docs\r\n!docs/keep\r\n", "docs/keep", 0},
        {"\357\273\277secret\n", "secret", 1},
        {"a\n\357\273\277b\n", "b", 0}, /* a BOM is stripped from line 1 only */
        {"a\n\357\273\277b\n", "\357\273\277b", 1},
        {" # not a comment\n", "# not a comment", 1},
        {"#comment\n", "#comment", 0},
        {"/abs\n", "abs", 1},
        {"./rel/\n", "rel/x", 1},
        {"a/../b\n", "b", 1},
        {"! /\n", "x", -1},                        /* "!" + "/" cleans to a lone "!" */
        {"\302\240docs\343\200\200\n", "docs", 1}, /* Unicode white space trimmed */
        {"x\n\n\n   \n#c\n", "x", 1},
        /* classes: '!' is a literal in Docker's regexp, '^' negates */
        {"[!a]\n", "!", 1},
        {"[!a]\n", "a", 1},
        {"[!a]\n", "b", 0},
        {"a[^x]b\n", "a/b", 1},    /* a negated class matches '/' */
        {"[[:x]\n", ":", 1},       /* no ":]" later: '[' is a literal */
        {"[[:alpha:]]\n", "a", 1}, /* POSIX classes, as Go's regexp has them */
        {"[[:alpha:]]\n", "1", 0},
        {"[[:foo:]]\n", "a", -1},
        {"[[:alpha:]\n", "a", -1}, /* Go's regexp: missing closing ] */
        {"[^[:digit:]]x\n", "ax", 1},
        {"[^[:digit:]]x\n", "1x", 0},
        {"[[:^alpha:]]\n", "1", 1},
        {"[[:^alpha:]]\n", "a", 0},
        {"[[:alpha:]-z]\n", "-", 1},
        {"[x[:digit:]]\n", "5", 1},
        {"[x[:digit:]]\n", "y", 0},
        {"[a[:]\n", ":", 1}, /* no ":]" later: '[' is a literal */
        {"[[:punct:]]*\n", "_b", 1},
        {"[[:punct:]]*\n", "c", 0},
        {"[*]\n", "*", -1},
        {"[?]\n", "?", -1},
        {"[z-a]\n", "b", -1},
        {"[a\\]]\n", "]", 1},
        {"[a-\\d]\n", "a", -1},
        {"[\\d]\n", "1", -1},
        {"[\\*-a]\n", "Z", 1}, /* an escaped '*' is a literal range end */
        {"[\\*-a]\n", "b", 0},
        /* escapes: punctuation literal, letters refused */
        {"\\!x\n", "!x", 1},
        {"a\\.b\n", "a.b", 1},
        {"a\\.b\n", "axb", 0},
        {"src\\main\n", "src\\main", -1},
        {"\\d\n", "1", -1},
        {"\\\n", "x", -1},
        /* '^' outside a class is Go's start of text inside a regexp */
        {"a^b\n", "a^b", 1},
        {"a^b*\n", "a^bc", 0},
        {"**^x\n", "^x", 1},
        {"?^x\n", "a^x", 0},
        /* '.' in '**' stops at a newline, as in Go's regexp */
        {"**/*.txt\n", "x\ny/f.txt", 0},
        {"**/*.txt\n", "x/f.txt", 1},
        {"**\n", "x\ny", 1},
        {"*\n", "x\ny", 1},
        /* runes: '?' takes a whole rune; a bad byte is one U+FFFD */
        {"a?b\n", "a\342\230\272b", 1},
        {"a?b\n", "a\377b", 1},
        {"a??b\n", "a\342\230\272b", 0},
        {"a\377*\n", "a\376c", 1}, /* both bytes decode to U+FFFD */
        {"a\377\n", "a\376", 0},   /* exact match compares bytes */
        /* Docker's quirky "**" forms */
        {"**file\n", "myfile", 1},  /* suffix match */
        {"**/file\n", "myfile", 0}, /* suffix "/file" or exactly "file" */
        {"a**b\n", "axb", 0},       /* (.*\/)? between literals */
        {"a**b\n", "ax/b", 1},
        {"abc**\n", "abcdef/x", 1}, /* prefix match */
        {"***\n", "a/b", 1},
        /* paths: cleaned, "." never excluded, parents count */
        {"docs\n", "docs/", 1},
        {"docs\n", "./docs/x", 1},
        {"*\n", ".", 0},
        {"a/b\n", "a/b/c/d", 1},
        {"a/b\n", "a/bc", 0},
        {"x\n!x\nx\n", "x", 1},
        {"x\n!x\n", "x", 0},
        /* limits and garbage */
        {"!\n", "x", -1},
        {"[\n", "x", -1},
        {"[]\n", "x", -1},
        {"[^]\n", "x", -1},
};

static void test_own_cases(void **state)
{
	size_t n = sizeof(own_cases) / sizeof(own_cases[0]), fails = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct own_case *c = &own_cases[i];
		struct ignore *ig = NULL;
		char err[256] = "";
		int r = ignore_parse(c->text, strlen(c->text), &ig, err, sizeof(err));

		if ((r < 0) != (c->want < 0) ||
		    (r == 0 && ignore_excluded(ig, c->path) != c->want)) {
			print_message("FAIL own[%zu] %s on %s: r=%d err=%s\n", i, c->text, c->path,
			              r, err);
			fails++;
		}
		ignore_free(ig);
	}
	print_message("  %-20s %3zu/%3zu passed\n", "refit cases", n - fails, n);
	assert_int_equal(fails, 0);
}

static void expect_error(const char *text, size_t len, int want_r, const char *want)
{
	struct ignore *ig = NULL;
	char err[256] = "";
	int r = ignore_parse(text, len, &ig, err, sizeof(err));

	if (r != want_r || strcmp(err, want))
		fail_msg("parse %s: r=%d \"%s\", want %d \"%s\"", text, r, err, want_r, want);
	assert_null(ig);
}

static void test_errors(void **state)
{
	char *big = malloc(IGNORE_FILE_MAX + 2);
	char line[IGNORE_LINE_MAX + 8];

	(void)state;
	expect_error("ok\n[\n", 5, -EINVAL,
	             "line 2: bad pattern \"[\": unterminated character class");
	expect_error("!\n", 2, -EINVAL, "line 1: illegal exclusion pattern: \"!\"");
	expect_error("# c\n\nab[c-a]\n", 13, -EINVAL,
	             "line 3: bad pattern \"ab[c-a]\": character class range is reversed");
	expect_error("x\\\n", 3, -EINVAL, "line 1: bad pattern \"x\\\": trailing backslash");
	expect_error("[-]\n", 4, -EINVAL,
	             "line 1: bad pattern \"[-]\": '-' or ']' out of place in character class");
	expect_error("a\\w\n", 4, -EINVAL,
	             "line 1: bad pattern \"a\\w\": unsupported escape \"\\w\" (Docker reads it as "
	             "a regexp escape)");
	expect_error("ok\na\0b\n", 7, -EINVAL, "line 2: NUL byte in pattern");
	memset(line, 'a', sizeof(line));
	expect_error(line, IGNORE_LINE_MAX + 1, -EINVAL, "line 1: line longer than 65536 bytes");
	expect_error(line, IGNORE_PATTERN_MAX + 1, -EINVAL,
	             "line 1: pattern longer than 4096 bytes");
	assert_non_null(big);
	memset(big, '\n', IGNORE_FILE_MAX + 1);
	expect_error(big, IGNORE_FILE_MAX + 1, -EFBIG, "larger than 4194304 bytes");
	free(big);
	assert_false(ignore_excluded(NULL, "x"));
	assert_false(ignore_prunable(NULL, "x"));
	ignore_free(NULL);
}

static struct ignore *parse_ok(const char *text)
{
	struct ignore *ig = NULL;
	char err[256];

	if (ignore_parse(text, strlen(text), &ig, err, sizeof(err)) < 0)
		fail_msg("parse %s: %s", text, err);
	return ig;
}

static void test_prunable(void **state)
{
	static const struct {
		const char *text, *dir;
		bool want;
	} cases[] = {
	        {"node_modules\n", "node_modules", true},
	        {"node_modules\n", "src", false}, /* not excluded */
	        {"docs\n!docs/README.md\n", "docs", false},
	        {"**\n!**/*.go\n", "src", false},
	        {"build\n!build/keep/*.o\n", "build", false},
	        {"build\n!build/keep/*.o\n", "build/other", true},
	        {"build\n!build/*/x.o\n", "build/other", false}, /* '*' may be "other" */
	        {"build\n!build/keep/x.o\n", "build/other", true},
	        {"build\n!other/x\n", "build", true},
	        {"!docs/x\ndocs\n", "docs", true}, /* the exception comes first */
	        {"cache/**\n!cache/keep\n", "cache/sub", true},
	        {"x\n!x/y/**\n", "x", false},
	        {"x\n!x/y/**\n", "x/z", true},
	        {"x\n!**.go\n", "x", false}, /* suffix exceptions may match anywhere */
	        {"x\n!x?y\n", "x", true},
	        {"x\n!x/?\n", "x", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ignore *ig = parse_ok(cases[i].text);

		if (ignore_prunable(ig, cases[i].dir) != cases[i].want)
			fail_msg("prunable(%s) with %s: want %d", cases[i].dir, cases[i].text,
			         cases[i].want);
		ignore_free(ig);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Patterns that make backtracking matchers exponential stay fast here. */
static void test_pathological(void **state)
{
	char *pat = malloc(IGNORE_PATTERN_MAX + 2), *path = malloc(IGNORE_PATH_MAX);
	struct ignore *ig;
	size_t n = 0;
	double t0 = now_s();

	(void)state;
	assert_non_null(pat);
	assert_non_null(path);
	while (n + 3 < IGNORE_PATTERN_MAX - 2)
		n += (size_t)sprintf(pat + n, "**/");
	strcpy(pat + n, "x\n");
	for (n = 0; n + 2 < IGNORE_PATH_MAX - 2; n += 2)
		memcpy(path + n, "a/", 2);
	strcpy(path + n, "b");
	ig = parse_ok(pat);
	assert_false(ignore_excluded(ig, path));
	assert_true(ignore_prunable(ig, "a") == false);
	ignore_free(ig);
	for (n = 0; n + 2 < IGNORE_PATTERN_MAX - 2; n += 2)
		memcpy(pat + n, "*a", 2);
	strcpy(pat + n, "b\n");
	memset(path, 'a', IGNORE_PATH_MAX - 1);
	path[IGNORE_PATH_MAX - 1] = '\0';
	ig = parse_ok(pat);
	assert_false(ignore_excluded(ig, path));
	ignore_free(ig);
	print_message("  pathological patterns matched in %.2fs\n", now_s() - t0);
	assert_true(now_s() - t0 < 20.0);
	free(pat);
	free(path);
}

/* ---- the walk ---- */

struct list {
	char *v[LIST_MAX];
	size_t n;
	int stop_at; /* return 7 from this call (1-based); 0: never */
};

static int list_add(struct list *l, const char *prefix, const char *s)
{
	char buf[IGNORE_PATH_MAX + 8];

	assert_true(l->n < LIST_MAX);
	snprintf(buf, sizeof(buf), "%s%s", prefix, s);
	l->v[l->n] = strdup(buf);
	assert_non_null(l->v[l->n]);
	return ++l->n == (size_t)l->stop_at ? 7 : 0;
}

static int file_cb(const char *relpath, void *arg)
{
	return list_add(arg, "", relpath);
}

static int entry_cb(const char *relpath, const struct stat *st, void *arg)
{
	return list_add(arg, S_ISDIR(st->st_mode) ? "D " : "F ", relpath);
}

static void list_expect(struct list *l, const char *const *want, size_t n)
{
	for (size_t i = 0; i < l->n || i < n; i++)
		if (i >= l->n || i >= n || strcmp(l->v[i], want[i]))
			fail_msg("entry %zu: got \"%s\", want \"%s\"", i,
			         i < l->n ? l->v[i] : "(end)", i < n ? want[i] : "(end)");
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* Builds a tree from "d:dir", "f:file=content", "l:link>target", "p:fifo". */
static void make_tree(const char *root, const char *const *spec, size_t n)
{
	char path[IGNORE_PATH_MAX + 256];

	for (size_t i = 0; i < n; i++) {
		const char *s = spec[i] + 2, *sep = strpbrk(s, "=>");
		int len = sep ? (int)(sep - s) : (int)strlen(s), fd;

		snprintf(path, sizeof(path), "%s/%.*s", root, len, s);
		switch (spec[i][0]) {
		case 'd':
			assert_int_equal(mkdir(path, 0755), 0);
			break;
		case 'f':
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			assert_true(fd >= 0);
			if (sep)
				assert_int_equal(write(fd, sep + 1, strlen(sep + 1)),
				                 (ssize_t)strlen(sep + 1));
			close(fd);
			break;
		case 'l':
			assert_int_equal(symlink(sep + 1, path), 0);
			break;
		default:
			assert_int_equal(mkfifo(path, 0644), 0);
		}
	}
}

/* A chain of nested directories "d/d/d/..." levels deep under root/rel. */
static void make_chain(const char *root, const char *rel, int levels)
{
	char path[IGNORE_PATH_MAX + 256];
	int fd, nfd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < levels; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	close(fd);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

struct tree {
	char root[64];
};

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->root, "/tmp/refit-test-ignore-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	nftw(t->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

static const char *const main_tree[] = {
        "f:Dockerfile=FROM scratch\n",
        ("f:.dockerignore=# comment\n*.log\nsecrets\nbuild\n!build/keep/deep/file.txt\n"
         "node_modules\nDockerfile\n.dockerignore\n"),
        "f:app.py",
        "f:debug.log",
        "d:secrets",
        "f:secrets/key.pem",
        "d:build",
        "f:build/out.o",
        "d:build/keep",
        "d:build/keep/deep",
        "f:build/keep/deep/file.txt",
        "f:build/keep/deep/other.txt",
        "d:node_modules",
        "d:src",
        "f:src/main.c",
        "d:src/sub",
        "d:src/sub/empty",
        "l:link-to-src>src",
        "l:dangling>nowhere",
        "p:fifo",
};

static void test_walk(void **state)
{
	static const char *const files[] = {
	        ".dockerignore", "Dockerfile", "app.py",      "build/keep/deep/file.txt",
	        "dangling",      "fifo",       "link-to-src", "src/main.c",
	};
	static const char *const entries[] = {
	        "F .dockerignore",
	        "F Dockerfile",
	        "F app.py",
	        "D build",
	        "D build/keep",
	        "D build/keep/deep",
	        "F build/keep/deep/file.txt",
	        "F dangling",
	        "F fifo",
	        "F link-to-src",
	        "D src",
	        "F src/main.c",
	        "D src/sub",
	        "D src/sub/empty",
	};
	struct tree *t = *state;
	struct list l = {.n = 0};
	char err[512] = "";

	make_tree(t->root, main_tree, sizeof(main_tree) / sizeof(main_tree[0]));
	/* Deeper than the walk allows: reading it would fail, so it must be pruned. */
	make_chain(t->root, "node_modules", IGNORE_DEPTH_MAX + 10);
	assert_int_equal(ignore_walk(t->root, NULL, file_cb, &l, err, sizeof(err)), 0);
	list_expect(&l, files, sizeof(files) / sizeof(files[0]));
	assert_int_equal(ignore_walk_entries(t->root, NULL, entry_cb, &l, err, sizeof(err)), 0);
	list_expect(&l, entries, sizeof(entries) / sizeof(entries[0]));
	l.stop_at = 2;
	assert_int_equal(ignore_walk(t->root, NULL, file_cb, &l, err, sizeof(err)), 7);
	list_expect(&l, files, 2);
}

static void test_walk_dockerfile(void **state)
{
	static const char *const spec[] = {
	        "f:.dockerignore=docker\n*.md\n",
	        "d:docker",
	        "f:docker/app.Dockerfile",
	        "f:docker/other",
	        "f:README.md",
	        "f:run.py",
	        "f:secret.env",
	        "f:docker/app.Dockerfile.dockerignore=*.env\ndocker\n",
	};
	static const char *const plain[] = {".dockerignore", "docker/app.Dockerfile", "run.py",
	                                    "secret.env"};
	static const char *const specific[] = {".dockerignore", "README.md",
	                                       "docker/app.Dockerfile", "run.py"};
	static const char *const entries[] = {"F .dockerignore", "F README.md", "D docker",
	                                      "F docker/app.Dockerfile", "F run.py"};
	struct tree *t = *state;
	struct list l = {.n = 0};
	char err[512] = "";

	/* Without its own ignore file: .dockerignore, the Dockerfile sent anyway. */
	make_tree(t->root, spec, 7);
	assert_int_equal(
	        ignore_walk(t->root, "docker/app.Dockerfile", file_cb, &l, err, sizeof(err)), 0);
	list_expect(&l, plain, 4);
	/* With docker/app.Dockerfile.dockerignore, that file rules instead. */
	make_tree(t->root, spec + 7, 1);
	assert_int_equal(
	        ignore_walk(t->root, "./docker//app.Dockerfile", file_cb, &l, err, sizeof(err)), 0);
	list_expect(&l, specific, 4);
	assert_int_equal(ignore_walk_entries(t->root, "docker/app.Dockerfile", entry_cb, &l, err,
	                                     sizeof(err)),
	                 0);
	list_expect(&l, entries, 5);
}

static void test_walk_lowercase_dockerfile(void **state)
{
	static const char *const spec[] = {"f:.dockerignore=*\n", "f:dockerfile", "f:x"};
	static const char *const want[] = {".dockerignore", "dockerfile"};
	struct tree *t = *state;
	struct list l = {.n = 0};
	char err[512] = "";

	make_tree(t->root, spec, 3);
	assert_int_equal(ignore_walk(t->root, NULL, file_cb, &l, err, sizeof(err)), 0);
	list_expect(&l, want, 2);
}

static void test_walk_errors(void **state)
{
	static const char *const spec[] = {"f:.dockerignore=ok\n[\n", "d:deep"};
	struct tree *t = *state;
	struct list l = {.n = 0};
	char err[512] = "", want[512];
	int fd;

	make_tree(t->root, spec, 2);
	assert_int_equal(ignore_walk(t->root, NULL, file_cb, &l, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
	         "%s/.dockerignore:2: bad pattern \"[\": unterminated character "
	         "class",
	         t->root);
	assert_string_equal(err, want);
	snprintf(want, sizeof(want), "%s/.dockerignore", t->root);
	fd = open(want, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	make_chain(t->root, "deep", IGNORE_DEPTH_MAX + 1);
	assert_int_equal(ignore_walk(t->root, NULL, file_cb, &l, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "/deep/d/d/d"));
	assert_non_null(strstr(err, ": directory tree too deep"));
	snprintf(want, sizeof(want), "%s/missing", t->root);
	assert_int_equal(ignore_walk(want, NULL, file_cb, &l, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s/missing: No such file or directory", t->root);
	assert_string_equal(err, want);
	for (size_t i = 0; i < l.n; i++) /* .dockerignore, sent before the failure */
		free(l.v[i]);
}

static void test_walk_unreadable(void **state)
{
	static const char *const spec[] = {"d:locked", "f:locked/x", "d:skipped", "f:skipped/y",
	                                   "f:.dockerignore=skipped\n"};
	struct tree *t = *state;
	struct list l = {.n = 0};
	char err[512] = "", path[256];

	make_tree(t->root, spec, 5);
	snprintf(path, sizeof(path), "%s/skipped", t->root);
	assert_int_equal(chmod(path, 0), 0);
	snprintf(path, sizeof(path), "%s/locked", t->root);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() == 0) {
		/* root reads any directory: the walk succeeds, still skipping "skipped" */
		static const char *const want[] = {".dockerignore", "locked/x"};

		print_message(
		        "  running as root: permissions not enforced, checked the walk only\n");
		assert_int_equal(ignore_walk(t->root, NULL, file_cb, &l, err, sizeof(err)), 0);
		list_expect(&l, want, 2);
	} else {
		assert_int_equal(ignore_walk(t->root, NULL, file_cb, &l, err, sizeof(err)),
		                 -EACCES);
		snprintf(path, sizeof(path), "%s/locked: Permission denied", t->root);
		assert_string_equal(err, path);
	}
	snprintf(path, sizeof(path), "%s/locked", t->root);
	chmod(path, 0755);
	snprintf(path, sizeof(path), "%s/skipped", t->root);
	chmod(path, 0755);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors),
	        cmocka_unit_test(test_vectors_tsv),
	        cmocka_unit_test(test_own_cases),
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_prunable),
	        cmocka_unit_test(test_pathological),
	        cmocka_unit_test_setup_teardown(test_walk, tree_setup, tree_teardown),
	        cmocka_unit_test_setup_teardown(test_walk_dockerfile, tree_setup, tree_teardown),
	        cmocka_unit_test_setup_teardown(test_walk_lowercase_dockerfile, tree_setup,
	                                        tree_teardown),
	        cmocka_unit_test_setup_teardown(test_walk_errors, tree_setup, tree_teardown),
	        cmocka_unit_test_setup_teardown(test_walk_unreadable, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
