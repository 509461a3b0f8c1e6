/*
 * ignore — .dockerignore parsing, matching and the context walk.
 *
 * A pattern goes through the steps of the Docker CLI: ignorefile.ReadAll
 * (comments, BOM, TrimSpace, Clean, leading '/'), patternmatcher.New (TrimSpace,
 * Clean, '!', filepath.Match syntax check) and Pattern.compile, which sorts it
 * into an exact, prefix ("dir/" then "**"), suffix ("**" then a literal) or
 * regexp match.
 * The regexp kind becomes a token list run as an NFA over the path: '*' is
 * [^/]*, '?' is [^/], '**' is (.*\/)? or a final .*, where '.' stops at a
 * newline as in Go's regexp; runes are decoded as Go does (a bad byte is
 * U+FFFD). One pass over the path also answers for each parent directory,
 * because the parents are the path's prefixes ending before a '/'.
 */
#include "ignore.h"
#include "array.h"
#include "ignore_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUNE_ERROR  0xFFFDu
#define STATE_WORDS ((IGNORE_PATTERN_MAX + 1 + 63) / 64)

enum pat_type { PAT_EXACT, PAT_PREFIX, PAT_SUFFIX, PAT_REGEXP };

enum tok_kind {
	TOK_LIT,        /* one rune */
	TOK_ONE,        /* '?': one rune but '/' */
	TOK_CLASS,      /* [...] */
	TOK_STAR,       /* '*': [^/]* */
	TOK_DSTAR_DIR,  /* '**' before more pattern: (.*\/)?, entering or skipping... */
	TOK_DSTAR_BODY, /* ...the group's body .*\/ */
	TOK_DSTAR_ALL,  /* final '**' after a wildcard: .* */
	TOK_BOL,        /* a bare '^', which Go's regexp takes as start of text */
};

struct tok {
	uint8_t kind;
	bool neg;
	uint32_t rune;
	uint32_t first, count; /* TOK_CLASS: ranges[first, first + count) */
};

struct range {
	uint32_t lo, hi;
};

struct pattern {
	char *text; /* cleaned, without the '!' */
	size_t len;
	bool exception;
	enum pat_type type;
	struct tok *toks;
	size_t ntoks;
	struct range *ranges;
};

struct ignore {
	struct pattern *pats;
	size_t npats, cap;
	bool exceptions;
};

/* ---- UTF-8 and Go string helpers ---- */

static bool is_ascii_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Decodes one rune as Go's utf8.DecodeRune: invalid input is U+FFFD, width 1. */
static uint32_t utf8_decode(const unsigned char *s, size_t n, size_t *width)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;
	uint32_t r;

	*width = 1;
	if (c < 0x80)
		return c;
	if (c < 0xC2 || c > 0xF4)
		return RUNE_ERROR;
	need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (n < need)
		return RUNE_ERROR;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return RUNE_ERROR;
	r = c & (0x7Fu >> need);
	for (size_t i = 1; i < need; i++) {
		if (i > 1 && (s[i] & 0xC0) != 0x80)
			return RUNE_ERROR;
		r = r << 6 | (s[i] & 0x3Fu);
	}
	*width = need;
	return r;
}

/* The last rune of s as Go's utf8.DecodeLastRune sees it. */
static uint32_t utf8_decode_last(const unsigned char *s, size_t n, size_t *width)
{
	*width = 1;
	if (s[n - 1] < 0x80)
		return s[n - 1];
	for (size_t back = 2; back <= 4 && back <= n; back++) {
		size_t w;
		uint32_t r;

		if ((s[n - back] & 0xC0) == 0x80)
			continue;
		r = utf8_decode(s + n - back, back, &w);
		if (w != back)
			return RUNE_ERROR;
		*width = w;
		return r;
	}
	return RUNE_ERROR;
}

/* Go's unicode.IsSpace. */
static bool is_go_space(uint32_t r)
{
	switch (r) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xA0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
		return true;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

/* Go's strings.TrimSpace on the span (*s, *n). */
static void trim_space(const char **s, size_t *n)
{
	size_t w;

	while (*n > 0 && is_go_space(utf8_decode((const unsigned char *)*s, *n, &w))) {
		*s += w;
		*n -= w;
	}
	while (*n > 0 && is_go_space(utf8_decode_last((const unsigned char *)*s, *n, &w)))
		*n -= w;
}

/* Go's filepath.Clean on Unix; out holds n + 2 bytes. Returns the length. */
size_t ignore_clean_path(const char *p, size_t n, char *out)
{
	size_t r = 0, w = 0, dotdot = 0;
	bool rooted = n > 0 && p[0] == '/';

	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				for (w--; w > dotdot && out[w] != '/';)
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if (w != (rooted ? 1u : 0u))
				out[w++] = '/';
			for (; r < n && p[r] != '/'; r++)
				out[w++] = p[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return w;
}

/* Copies at most QUOTE_MAX bytes of s for a message, control bytes as '?'. */
static const char *quote(const char *s, size_t n, char *buf)
{
	size_t i;

	for (i = 0; i < n && i < QUOTE_MAX; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
	if (n > QUOTE_MAX)
		memcpy(buf + i - 3, "...", 3);
	buf[i] = '\0';
	return buf;
}

/* ---- syntax check: Go's filepath.Match rules ---- */

static const char *glob_class_char(const unsigned char *p, size_t n, size_t *i)
{
	size_t w;

	if (*i >= n)
		return "unterminated character class";
	if (p[*i] == '-' || p[*i] == ']')
		return "'-' or ']' out of place in character class";
	if (p[*i] == '\\' && ++*i >= n)
		return "unterminated character class";
	if (utf8_decode(p + *i, n - *i, &w) == RUNE_ERROR && w == 1)
		return "invalid UTF-8 in character class";
	*i += w;
	return *i < n ? NULL : "unterminated character class";
}

static const char *glob_class_check(const unsigned char *p, size_t n, size_t *i)
{
	size_t nrange = 0;
	const char *why;

	(*i)++;
	if (*i < n && p[*i] == '^')
		(*i)++;
	for (;; nrange++) {
		if (*i < n && p[*i] == ']' && nrange > 0) {
			(*i)++;
			return NULL;
		}
		if ((why = glob_class_char(p, n, i)))
			return why;
		if (p[*i] == '-') {
			(*i)++;
			if ((why = glob_class_char(p, n, i)))
				return why;
		}
	}
}

/* NULL when filepath.Match accepts the pattern, else why not. */
static const char *glob_check(const unsigned char *p, size_t n)
{
	const char *why;

	for (size_t i = 0; i < n;) {
		if (p[i] == '\\') {
			if (i + 1 >= n)
				return "trailing backslash";
			i += 2;
		} else if (p[i] == '[') {
			if ((why = glob_class_check(p, n, &i)))
				return why;
		} else {
			i++;
		}
	}
	return NULL;
}

/* ---- compile: Pattern.compile's classification, tokens for the regexp kind ---- */

struct compiler {
	struct tok toks[IGNORE_PATTERN_MAX + 1];
	struct range ranges[IGNORE_PATTERN_MAX];
	size_t ntoks, nranges;
	enum pat_type type;
	char why[REASON_MAX - 96]; /* room for "bad pattern \"...\": " around it */
};

static void emit(struct compiler *c, enum tok_kind kind, uint32_t rune)
{
	c->toks[c->ntoks++] = (struct tok){.kind = (uint8_t)kind, .rune = rune};
}

/* '*' or '**' (pos is past the first '*'); iter is Go's loop counter. */
static void compile_star(struct compiler *c, const unsigned char *p, size_t n, size_t *pos,
                         unsigned iter)
{
	if (*pos >= n || p[*pos] != '*') {
		emit(c, TOK_STAR, 0);
		c->type = PAT_REGEXP;
		return;
	}
	(*pos)++;
	if (*pos < n && p[*pos] == '/')
		(*pos)++;
	if (*pos < n) {
		emit(c, TOK_DSTAR_DIR, 0);
		emit(c, TOK_DSTAR_BODY, 0);
		c->type = PAT_REGEXP;
	} else if (c->type == PAT_EXACT) {
		c->type = PAT_PREFIX;
	} else {
		emit(c, TOK_DSTAR_ALL, 0);
		c->type = PAT_REGEXP;
	}
	if (iter == 0)
		c->type = PAT_SUFFIX;
}

/* The rune after a '\': Go's regexp takes only ASCII punctuation literally. */
static int escaped_rune(struct compiler *c, const unsigned char *p, size_t n, size_t *pos,
                        uint32_t *ret)
{
	size_t w;
	uint32_t r = utf8_decode(p + *pos, n - *pos, &w);
	char q[QUOTE_MAX + 1];

	if (r >= 0x80 || is_ascii_alnum(r)) {
		snprintf(c->why, sizeof(c->why),
		         "unsupported escape \"\\%s\" (Docker reads it as a regexp escape)",
		         quote((const char *)p + *pos, w, q));
		return -EINVAL;
	}
	*pos += w;
	*ret = r;
	return 0;
}

/* One class member; '*' and '?' would be rewritten by Docker into something
 * else than they look, so they are refused. */
static int class_char(struct compiler *c, const unsigned char *p, size_t n, size_t *pos,
                      uint32_t *ret)
{
	size_t w;

	if (p[*pos] == '*' || p[*pos] == '?') {
		snprintf(c->why, sizeof(c->why), "'%c' inside [...] is not supported", p[*pos]);
		return -EINVAL;
	}
	if (p[*pos] == '\\') {
		(*pos)++;
		return escaped_rune(c, p, n, pos, ret);
	}
	*ret = utf8_decode(p + *pos, n - *pos, &w);
	*pos += w;
	return 0;
}

/* Go's regexp POSIX classes, as sorted lo-hi pairs. */
static const struct {
	const char *name;
	uint8_t n;
	uint8_t r[8];
} posix_classes[] = {
        {"alnum", 3, {'0', '9', 'A', 'Z', 'a', 'z'}},
        {"alpha", 2, {'A', 'Z', 'a', 'z'}},
        {"ascii", 1, {0x00, 0x7F}},
        {"blank", 2, {'\t', '\t', ' ', ' '}},
        {"cntrl", 2, {0x00, 0x1F, 0x7F, 0x7F}},
        {"digit", 1, {'0', '9'}},
        {"graph", 1, {'!', '~'}},
        {"lower", 1, {'a', 'z'}},
        {"print", 1, {' ', '~'}},
        {"punct", 4, {'!', '/', ':', '@', '[', '`', '{', '~'}},
        {"space", 2, {'\t', '\r', ' ', ' '}},
        {"upper", 1, {'A', 'Z'}},
        {"word", 4, {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}},
        {"xdigit", 3, {'0', '9', 'A', 'F', 'a', 'f'}},
};

/* Whether a POSIX class "[:name:]" starts at p[pos], as Go's regexp sees it:
 * "[:" followed, anywhere later, by ":]". */
static bool is_posix_class(const unsigned char *p, size_t n, size_t pos)
{
	return p[pos] == '[' && pos + 1 < n && p[pos + 1] == ':' &&
	       memmem(p + pos + 2, n - pos - 2, ":]", 2);
}

/* Adds the ranges of "[:name:]" or "[:^name:]" (Docker hands brackets to Go's
 * regexp, which knows them, and so does every glob user). */
static int posix_class(struct compiler *c, const unsigned char *p, size_t n, size_t *pos)
{
	const unsigned char *name = p + *pos + 2, *end = memmem(name, n - *pos - 2, ":]", 2);
	size_t len = (size_t)(end - name);
	bool neg = len > 0 && name[0] == '^';
	uint32_t next = 0;

	for (size_t i = 0; i < sizeof(posix_classes) / sizeof(posix_classes[0]); i++) {
		if (strlen(posix_classes[i].name) != len - neg ||
		    memcmp(posix_classes[i].name, name + neg, len - neg))
			continue;
		for (size_t k = 0; k < posix_classes[i].n; k++) {
			uint32_t lo = posix_classes[i].r[2 * k], hi = posix_classes[i].r[2 * k + 1];

			if (!neg)
				c->ranges[c->nranges++] = (struct range){lo, hi};
			else if (lo > next)
				c->ranges[c->nranges++] = (struct range){next, lo - 1};
			next = hi + 1;
		}
		if (neg)
			c->ranges[c->nranges++] = (struct range){next, 0x10FFFF};
		*pos = (size_t)(end - p) + 2;
		return 0;
	}
	snprintf(c->why, sizeof(c->why), "unknown POSIX class \"[:%.*s:]\"",
	         len > QUOTE_MAX ? QUOTE_MAX : (int)len, (const char *)name);
	return -EINVAL;
}

/* A [...] class (pos is past the '['), already checked by glob_check. */
static int compile_class(struct compiler *c, const unsigned char *p, size_t n, size_t *pos)
{
	struct tok t = {.kind = TOK_CLASS, .first = (uint32_t)c->nranges};
	uint32_t lo, hi;

	if (*pos < n && p[*pos] == '^') {
		t.neg = true;
		(*pos)++;
	}
	while (*pos < n && (p[*pos] != ']' || c->nranges == t.first)) {
		if (is_posix_class(p, n, *pos)) {
			if (posix_class(c, p, n, pos) < 0)
				return -EINVAL;
			continue;
		}
		if (class_char(c, p, n, pos, &lo) < 0)
			return -EINVAL;
		hi = lo;
		if (*pos < n && p[*pos] == '-') {
			if (++*pos >= n)
				break;
			if (class_char(c, p, n, pos, &hi) < 0)
				return -EINVAL;
		}
		if (hi < lo) {
			snprintf(c->why, sizeof(c->why), "character class range is reversed");
			return -EINVAL;
		}
		c->ranges[c->nranges++] = (struct range){lo, hi};
	}
	if (*pos >= n) {
		snprintf(c->why, sizeof(c->why), "unterminated character class");
		return -EINVAL;
	}
	(*pos)++;
	t.count = (uint32_t)(c->nranges - t.first);
	c->toks[c->ntoks++] = t;
	return 0;
}

static int compile(struct compiler *c, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t pos = 0, w;
	uint32_t r;

	c->ntoks = c->nranges = 0;
	c->type = PAT_EXACT;
	c->why[0] = '\0';
	if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		pos = 3; /* Go's text/scanner skips a leading BOM */
	for (unsigned iter = 0; pos < n; iter++) {
		r = utf8_decode(p + pos, n - pos, &w);
		pos += w;
		if (r == '*') {
			compile_star(c, p, n, &pos, iter);
		} else if (r == '?') {
			emit(c, TOK_ONE, 0);
			c->type = PAT_REGEXP;
		} else if (r == '\\' && pos < n) {
			if (escaped_rune(c, p, n, &pos, &r) < 0)
				return -EINVAL;
			emit(c, TOK_LIT, r);
			c->type = PAT_REGEXP;
		} else if (r == '[') {
			if (compile_class(c, p, n, &pos) < 0)
				return -EINVAL;
			c->type = PAT_REGEXP;
		} else {
			emit(c, r == '^' ? TOK_BOL : TOK_LIT, r);
			if (r == ']')
				c->type = PAT_REGEXP;
		}
	}
	return 0;
}

/* ---- matching ---- */

static void bit_set(uint64_t *set, size_t i)
{
	set[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool bit_test(const uint64_t *set, size_t i)
{
	return set[i / 64] >> (i % 64) & 1;
}

static bool tok_skippable(const struct tok *t, bool at_start)
{
	return t->kind == TOK_STAR || t->kind == TOK_DSTAR_ALL || (t->kind == TOK_BOL && at_start);
}

/* Adds state j, and to bits when it is in the word being scanned. */
static void state_add(uint64_t *set, size_t j, size_t w, uint64_t *bits)
{
	if (bit_test(set, j))
		return;
	bit_set(set, j);
	if (j / 64 == w)
		*bits |= (uint64_t)1 << (j % 64);
}

/* Adds the states reachable without input: empty stars, the entry into and
 * the skip over a (.*\/)? group and, at the start, '^'. Targets lie ahead,
 * so one ascending scan suffices. */
static void nfa_close(const struct pattern *p, uint64_t *set, bool at_start)
{
	size_t words = p->ntoks / 64 + 1;

	for (size_t w = 0; w < words; w++) {
		for (uint64_t bits = set[w]; bits; bits &= bits - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);

			if (i >= p->ntoks)
				continue;
			if (p->toks[i].kind == TOK_DSTAR_DIR) {
				state_add(set, i + 1, w, &bits);
				state_add(set, i + 2, w, &bits);
			} else if (tok_skippable(&p->toks[i], at_start)) {
				state_add(set, i + 1, w, &bits);
			}
		}
	}
}

static bool class_match(const struct pattern *p, const struct tok *t, uint32_t r)
{
	bool in = false;

	for (size_t k = 0; k < t->count && !in; k++)
		in = r >= p->ranges[t->first + k].lo && r <= p->ranges[t->first + k].hi;
	return in != t->neg;
}

static void tok_step(const struct pattern *p, size_t i, uint32_t r, uint64_t *next)
{
	const struct tok *t = &p->toks[i];

	switch (t->kind) {
	case TOK_LIT:
		if (r == t->rune)
			bit_set(next, i + 1);
		break;
	case TOK_ONE:
		if (r != '/')
			bit_set(next, i + 1);
		break;
	case TOK_CLASS:
		if (class_match(p, t, r))
			bit_set(next, i + 1);
		break;
	case TOK_STAR:
		if (r != '/')
			bit_set(next, i);
		break;
	case TOK_DSTAR_BODY:
		if (r == '/')
			bit_set(next, i + 1);
		if (r != '\n')
			bit_set(next, i);
		break;
	case TOK_DSTAR_ALL:
		if (r != '\n')
			bit_set(next, i);
		break;
	default:
		break;
	}
}

/* Consumes rune r; false when no state survives. */
static bool nfa_step(const struct pattern *p, const uint64_t *cur, uint64_t *next, uint32_t r)
{
	size_t words = p->ntoks / 64 + 1;
	uint64_t any = 0;

	memset(next, 0, words * sizeof(*next));
	for (size_t w = 0; w < words; w++)
		for (uint64_t bits = cur[w]; bits; bits &= bits - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);

			if (i < p->ntoks)
				tok_step(p, i, r, next);
		}
	nfa_close(p, next, false);
	for (size_t w = 0; w < words; w++)
		any |= next[w];
	return any != 0;
}

/* Runs the NFA over s; with accept_at_slash, stops early (true) when it
 * accepts a prefix ending before a '/' or the root "/" parent of "/x". */
static bool nfa_run(const struct pattern *p, const char *s, size_t n, bool accept_at_slash,
                    bool *ret_alive)
{
	uint64_t a[STATE_WORDS] = {0}, b[STATE_WORDS], *cur = a, *next = b, *tmp;
	bool root_parent = n > 1 && s[0] == '/' && !memchr(s + 1, '/', n - 1);
	size_t pos = 0, w;

	*ret_alive = true;
	bit_set(cur, 0);
	nfa_close(p, cur, true);
	while (pos < n) {
		if (accept_at_slash && s[pos] == '/' && bit_test(cur, p->ntoks))
			return true;
		if (!nfa_step(p, cur, next,
		              utf8_decode((const unsigned char *)s + pos, n - pos, &w))) {
			*ret_alive = false;
			return false;
		}
		pos += w;
		tmp = cur, cur = next, next = tmp;
		if (accept_at_slash && pos == 1 && root_parent && bit_test(cur, p->ntoks))
			return true;
	}
	return bit_test(cur, p->ntoks);
}

/* Whether path[:k] is the path or one of Go's parent candidates for it. */
static bool is_candidate(const char *path, size_t n, size_t k, bool root_parent)
{
	return k == n || (k < n && path[k] == '/') || (k == 1 && root_parent);
}

/* Pattern.match's suffixMatch over the path and its parents. */
static bool suffix_match(const struct pattern *p, const char *path, size_t n)
{
	const char *sfx = p->text + 2;
	size_t sl = p->len - 2;
	bool root_parent = n > 1 && path[0] == '/' && !memchr(path + 1, '/', n - 1);

	for (size_t k = 0; k <= n; k++) {
		if (!is_candidate(path, n, k, root_parent))
			continue;
		if (k >= sl && !memcmp(path + k - sl, sfx, sl))
			return true;
		if (sl > 0 && sfx[0] == '/' && k == sl - 1 && !memcmp(path, sfx + 1, k))
			return true;
	}
	return false;
}

/* Go's Pattern.match for path or any of its parent directories. */
static bool pattern_match(const struct pattern *p, const char *path, size_t n)
{
	bool root_parent, alive;

	switch (p->type) {
	case PAT_EXACT:
		root_parent = n > 1 && path[0] == '/' && !memchr(path + 1, '/', n - 1);
		return p->len <= n && !memcmp(path, p->text, p->len) &&
		       is_candidate(path, n, p->len, root_parent);
	case PAT_PREFIX:
		return n >= p->len - 2 && !memcmp(path, p->text, p->len - 2);
	case PAT_SUFFIX:
		return suffix_match(p, path, n);
	default:
		return nfa_run(p, path, n, true, &alive);
	}
}

/* MatchesOrParentMatches over a clean path; *last is the index of the pattern
 * that set the verdict last (SIZE_MAX: none). */
static bool match_clean(const struct ignore *ig, const char *path, size_t n, size_t *last)
{
	bool matched = false;

	*last = SIZE_MAX;
	if (n == 1 && path[0] == '.')
		return false; /* Docker: "don't let them exclude everything" */
	for (size_t i = 0; i < ig->npats; i++) {
		const struct pattern *p = &ig->pats[i];

		if (p->exception != matched) /* could not change the verdict */
			continue;
		if (pattern_match(p, path, n)) {
			matched = !p->exception;
			*last = i;
		}
	}
	return matched;
}

bool ignore_excluded(const struct ignore *ig, const char *relpath)
{
	char buf[IGNORE_PATH_MAX + 2];
	size_t n = strlen(relpath), last;

	if (!ig || !ig->npats)
		return false;
	if (n < IGNORE_PATH_MAX) {
		n = ignore_clean_path(relpath, n, buf);
		relpath = buf;
	}
	return match_clean(ig, relpath, n, &last);
}

/* Whether pattern p can match some string that starts with dirslash ("dir/"). */
static bool may_match_under(const struct pattern *p, const char *dirslash, size_t n)
{
	size_t m = p->len - 2;
	bool alive;

	switch (p->type) {
	case PAT_EXACT:
		return p->len > n && !memcmp(p->text, dirslash, n);
	case PAT_PREFIX:
		return !memcmp(p->text, dirslash, m < n ? m : n);
	case PAT_SUFFIX:
		return true;
	default:
		nfa_run(p, dirslash, n, false, &alive);
		return alive;
	}
}

bool ignore_prunable(const struct ignore *ig, const char *reldir)
{
	char buf[IGNORE_PATH_MAX + 2];
	size_t n = strlen(reldir), last;

	if (!ig || !ig->npats || n >= IGNORE_PATH_MAX)
		return false;
	n = ignore_clean_path(reldir, n, buf);
	if (!match_clean(ig, buf, n, &last))
		return false;
	if (!ig->exceptions)
		return true;
	buf[n++] = '/';
	/* Only exceptions after the deciding pattern can undo it beneath dir. */
	for (size_t i = last + 1; i < ig->npats; i++)
		if (ig->pats[i].exception && may_match_under(&ig->pats[i], buf, n))
			return false;
	return true;
}

/* ---- parsing: ignorefile.ReadAll, then patternmatcher.New ---- */

struct parser {
	struct compiler comp;
	char a[IGNORE_LINE_MAX + 4], b[IGNORE_LINE_MAX + 4];
	unsigned line;
	char *why; /* REASON_MAX bytes */
};

void ignore_free(struct ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->npats; i++) {
		free(ig->pats[i].text);
		free(ig->pats[i].toks);
		free(ig->pats[i].ranges);
	}
	free(ig->pats);
	free(ig);
}

static int add_pattern(struct ignore *ig, const struct compiler *c, const char *text, size_t n,
                       bool exception)
{
	struct pattern *p;

	if (ARRAY_GROW(ig->pats, ig->cap, ig->npats, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	p = &ig->pats[ig->npats];
	*p = (struct pattern){.len = n, .exception = exception, .type = c->type};
	p->text = strndup(text, n);
	p->ntoks = c->ntoks;
	p->toks = malloc((c->ntoks + 1) * sizeof(*p->toks));
	p->ranges = malloc((c->nranges + 1) * sizeof(*p->ranges));
	ig->npats++; /* counted now so that ignore_free releases a half-built one */
	if (!p->text || !p->toks || !p->ranges)
		return -ENOMEM;
	memcpy(p->toks, c->toks, c->ntoks * sizeof(*p->toks));
	memcpy(p->ranges, c->ranges, c->nranges * sizeof(*p->ranges));
	ig->exceptions |= exception;
	return 0;
}

/* patternmatcher.New for one pattern: TrimSpace, Clean, '!', syntax, compile. */
static int new_pattern(struct parser *ps, struct ignore *ig, const char *s, size_t n)
{
	char q[QUOTE_MAX + 1];
	const char *why;
	bool exception = false;
	char *t = ps->b;

	trim_space(&s, &n);
	if (n == 0)
		return 0;
	n = ignore_clean_path(s, n, t);
	if (t[0] == '!') {
		if (n == 1) {
			snprintf(ps->why, REASON_MAX, "illegal exclusion pattern: \"!\"");
			return -EINVAL;
		}
		exception = true;
		t++;
		n--;
	}
	if (n > IGNORE_PATTERN_MAX) {
		snprintf(ps->why, REASON_MAX, "pattern longer than %d bytes", IGNORE_PATTERN_MAX);
		return -EINVAL;
	}
	why = glob_check((const unsigned char *)t, n);
	if (!why && compile(&ps->comp, t, n) < 0)
		why = ps->comp.why;
	if (why) {
		snprintf(ps->why, REASON_MAX, "bad pattern \"%s\": %s", quote(t, n, q), why);
		return -EINVAL;
	}
	if (add_pattern(ig, &ps->comp, t, n, exception) < 0) {
		snprintf(ps->why, REASON_MAX, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ignorefile.ReadAll for one line (after the BOM and '\r'): the pattern. */
static int read_line(struct parser *ps, struct ignore *ig, const char *s, size_t n)
{
	size_t len = 0, cl;
	bool invert;

	if (n > 0 && s[0] == '#')
		return 0;
	if (memchr(s, '\0', n)) {
		snprintf(ps->why, REASON_MAX, "NUL byte in pattern");
		return -EINVAL;
	}
	trim_space(&s, &n);
	if (n == 0)
		return 0;
	invert = s[0] == '!';
	if (invert) {
		ps->a[len++] = '!';
		s++;
		n--;
		trim_space(&s, &n);
	}
	if (n > 0) {
		cl = ignore_clean_path(s, n, ps->a + len);
		if (cl > 1 && ps->a[len] == '/')
			memmove(ps->a + len, ps->a + len + 1, cl--);
		len += cl;
	}
	return new_pattern(ps, ig, ps->a, len);
}

static int parse_lines(struct parser *ps, struct ignore *ig, const char *text, size_t len)
{
	size_t pos = 0;
	int r;

	while (pos < len) {
		const char *s = text + pos, *eol = memchr(s, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - s) : len - pos;

		pos += n + (eol != NULL);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (ps->line == 0 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
			s += 3;
			n -= 3;
		}
		ps->line++;
		if (n > IGNORE_LINE_MAX) {
			snprintf(ps->why, REASON_MAX, "line longer than %d bytes", IGNORE_LINE_MAX);
			return -EINVAL;
		}
		if ((r = read_line(ps, ig, s, n)) < 0)
			return r;
	}
	return 0;
}

/* Parses text; on failure *ret_line is the line (0: none) and why the reason. */
int ignore_parse_text(const char *text, size_t len, struct ignore **ret, unsigned *ret_line,
                      char *why)
{
	struct parser *ps = NULL;
	struct ignore *ig = NULL;
	int r = -ENOMEM;

	*ret_line = 0;
	snprintf(why, REASON_MAX, "out of memory");
	if (len > IGNORE_FILE_MAX) {
		snprintf(why, REASON_MAX, "larger than %d bytes", IGNORE_FILE_MAX);
		return -EFBIG;
	}
	ps = malloc(sizeof(*ps));
	ig = calloc(1, sizeof(*ig));
	if (!ps || !ig)
		goto out;
	ps->line = 0;
	ps->why = why;
	r = parse_lines(ps, ig, text, len);
	*ret_line = ps->line;
	if (r == 0) {
		*ret = ig;
		ig = NULL;
	}
out:
	free(ps);
	ignore_free(ig);
	return r;
}

int ignore_parse(const char *text, size_t len, struct ignore **ret, char *err, size_t errlen)
{
	char why[REASON_MAX];
	unsigned line;
	int r = ignore_parse_text(text, len, ret, &line, why);

	if (r < 0 && err && errlen) {
		if (line)
			snprintf(err, errlen, "line %u: %s", line, why);
		else
			snprintf(err, errlen, "%s", why);
	}
	return r;
}
