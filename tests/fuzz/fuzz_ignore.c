/*
 * fuzz_ignore — libFuzzer target for the ignore module.
 *
 * Input: .dockerignore text, a NUL byte, then paths, one per line (no NUL: the
 * whole input is the text and a few fixed paths are tried). Beyond memory
 * safety and bounded time it checks two properties:
 *  - pruning is sound: beneath a directory that ignore_prunable() lets a walker
 *    skip, every path is excluded;
 *  - for a one-line pattern over a small ASCII alphabet, the verdict is
 *    Docker's: the pattern is translated as patternmatcher's Pattern.compile
 *    does (ported below from the Go source, independently of ignore.c) and run
 *    with POSIX regexec, with Go's exact, prefix and suffix shortcuts.
 */
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ignore.h"

#define INPUT_MAX 65536
#define PATHS_MAX 64
#define RE_MAX    (8 * IGNORE_PATTERN_MAX + 16)
#define ALPHABET  "ab/.*?[]^-!\\"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum go_type { GO_EXACT, GO_PREFIX, GO_SUFFIX, GO_REGEXP };

struct re_buf {
	char s[RE_MAX];
	size_t len;
};

static void put(struct re_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n < sizeof(b->s)) {
		memcpy(b->s + b->len, s, n + 1);
		b->len += n;
	}
}

static void put_char(struct re_buf *b, char c)
{
	char s[2] = {c, '\0'};

	put(b, s);
}

/* patternmatcher's Pattern.compile for '/' on an ASCII pattern. */
static enum go_type go_compile(const char *p, size_t n, struct re_buf *re)
{
	enum go_type t = GO_EXACT;

	re->len = 0;
	put(re, "^");
	for (size_t i = 0, it = 0; i < n; it++) {
		char ch = p[i++];

		if (ch == '*' && i < n && p[i] == '*') {
			i++;
			if (i < n && p[i] == '/')
				i++;
			if (i >= n && t == GO_EXACT) {
				t = GO_PREFIX;
			} else {
				put(re, i >= n ? ".*" : "(.*/)?");
				t = GO_REGEXP;
			}
			if (it == 0)
				t = GO_SUFFIX;
		} else if (ch == '*' || ch == '?') {
			put(re, ch == '*' ? "[^/]*" : "[^/]");
			t = GO_REGEXP;
		} else if (strchr(".+()|{}$", ch)) {
			put_char(re, '\\');
			put_char(re, ch);
		} else if (ch == '\\' && i < n) {
			put_char(re, '\\');
			put_char(re, p[i++]);
			t = GO_REGEXP;
		} else {
			put_char(re, ch);
			if (ch == '[' || ch == ']')
				t = GO_REGEXP;
		}
	}
	put(re, "$");
	return t;
}

/* Whether POSIX brackets would read the pattern's classes unlike Go: a
 * backslash or "[." "[=" "[:" inside one. */
static bool posix_differs(const char *p, size_t n)
{
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		if (!in && p[i] == '\\') {
			i++;
		} else if (!in && p[i] == '[') {
			in = true;
			i += i + 1 < n && p[i + 1] == '^';
			i++; /* the first member may be ']' */
			if (i < n &&
			    (p[i] == '\\' || (p[i] == '[' && i + 1 < n && strchr(".=:", p[i + 1]))))
				return true;
		} else if (in && p[i] == ']') {
			in = false;
		} else if (in && (p[i] == '\\' ||
		                  (p[i] == '[' && i + 1 < n && strchr(".=:", p[i + 1])))) {
			return true;
		}
	}
	return false;
}

static bool go_match_one(enum go_type t, const char *pat, size_t pl, const regex_t *rx,
                         const char *s, size_t n)
{
	char buf[IGNORE_PATH_MAX];

	switch (t) {
	case GO_EXACT:
		return n == pl && !memcmp(s, pat, n);
	case GO_PREFIX:
		return n >= pl - 2 && !memcmp(s, pat, pl - 2);
	case GO_SUFFIX:
		return (n >= pl - 2 && !memcmp(s + n - (pl - 2), pat + 2, pl - 2)) ||
		       (pl > 2 && pat[2] == '/' && n == pl - 3 && !memcmp(s, pat + 3, n));
	default:
		memcpy(buf, s, n);
		buf[n] = '\0';
		return regexec(rx, buf, 0, NULL, 0) == 0;
	}
}

/* MatchesOrParentMatches with Go's semantics on a clean relative path. */
static bool go_match(enum go_type t, const char *pat, size_t pl, const regex_t *rx,
                     const char *path, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (path[k] == '/' && go_match_one(t, pat, pl, rx, path, k))
			return true;
	return go_match_one(t, pat, pl, rx, path, n);
}

/* Non-empty, relative, no empty, "." or ".." component, no trailing '/'. */
static bool simple_clean(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || s[0] == '/' || s[n - 1] == '/')
		return false;
	while (i <= n) {
		size_t j = i;

		while (j < n && s[j] != '/')
			j++;
		if (j == i || (j - i == 1 && s[i] == '.') ||
		    (j - i == 2 && s[i] == '.' && s[i + 1] == '.'))
			return false;
		i = j + 1;
	}
	return true;
}

static bool in_alphabet(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(ALPHABET, s[i]))
			return false;
	return true;
}

struct oracle {
	bool on;
	enum go_type type;
	regex_t rx;
	const char *pat;
	size_t len;
};

/* Sets the oracle up when the text is one plain pattern it can judge. */
static void oracle_init(struct oracle *o, const char *text, size_t n)
{
	struct re_buf *re = malloc(sizeof(*re));

	o->on = false;
	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (!re || !n || n > IGNORE_PATTERN_MAX || text[0] == '!' || !in_alphabet(text, n) ||
	    !simple_clean(text, n) || posix_differs(text, n)) {
		free(re);
		return;
	}
	o->type = go_compile(text, n, re);
	o->pat = text;
	o->len = n;
	o->on = o->type != GO_REGEXP || regcomp(&o->rx, re->s, REG_EXTENDED | REG_NOSUB) == 0;
	free(re);
}

static void oracle_done(struct oracle *o)
{
	if (o->on && o->type == GO_REGEXP)
		regfree(&o->rx);
}

static void check_path(const struct ignore *ig, const struct oracle *o, const char *path, size_t n)
{
	char dir[IGNORE_PATH_MAX];
	bool ex = ignore_excluded(ig, path);

	if (!simple_clean(path, n))
		return;
	for (size_t k = 0; k < n; k++) {
		if (path[k] != '/')
			continue;
		memcpy(dir, path, k);
		dir[k] = '\0';
		if (ignore_prunable(ig, dir) && !ex) {
			fprintf(stderr, "prunable(%s) but %s is not excluded\n", dir, path);
			abort();
		}
	}
	if (o->on && in_alphabet(path, n) &&
	    go_match(o->type, o->pat, o->len, &o->rx, path, n) != ex) {
		fprintf(stderr, "pattern %.*s on %s: excluded=%d, Docker says %d\n", (int)o->len,
		        o->pat, path, ex, !ex);
		abort();
	}
}

static const char *const fixed_paths[] = {"a", "a/b", "b/a/b", ".a", "a.b/b", "a/b/a/b/a"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *sep = memchr(in, '\0', size);
	size_t tlen = sep ? (size_t)(sep - in) : size, npaths = 0;
	struct ignore *ig = NULL;
	struct oracle o;
	char err[256], path[IGNORE_PATH_MAX];

	if (size > INPUT_MAX || ignore_parse(in, tlen, &ig, err, sizeof(err)) < 0)
		return 0;
	oracle_init(&o, in, tlen);
	if (!sep)
		for (size_t i = 0; i < sizeof(fixed_paths) / sizeof(fixed_paths[0]); i++)
			check_path(ig, &o, fixed_paths[i], strlen(fixed_paths[i]));
	for (const char *s = sep ? sep + 1 : in + size; s < in + size && npaths < PATHS_MAX;) {
		const char *nl = memchr(s, '\n', (size_t)(in + size - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(in + size - s);

		if (n < sizeof(path) && !memchr(s, '\0', n)) {
			memcpy(path, s, n);
			path[n] = '\0';
			check_path(ig, &o, path, n);
			npaths++;
		}
		s += n + 1;
	}
	oracle_done(&o);
	ignore_free(ig);
	return 0;
}
