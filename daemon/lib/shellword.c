/*
 * shellword — BuildKit's word expansion, re-implemented from its behaviour
 * (vectors: buildkit frontend/dockerfile/shell/envVarTest and wordsTest).
 *
 * The lexer walks the input once; ${...} recurses (bounded). Results go into
 * growable buffers with a hard cap. The pattern modifiers (#, %, /) compile
 * their glob (only * and ?, as BuildKit) into tokens run as a small NFA, so
 * even hostile patterns cost O(value * pattern).
 */
#include "shellword.h"
#include "array.h"
#include "strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define END (-1)

struct words {
	struct strbuf word;
	bool in_word;
	char **v;
	size_t n, cap;
	int rc;
};

struct lexer {
	const char *s;
	size_t len, pos;
	const struct shellword_opts *o;
	bool raw_escapes;
	unsigned depth;
	unsigned unset, unset_bare;
	char *err;
	size_t errlen;
	const char *src; /* the whole input, for messages */
	size_t srclen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct lexer *lx, int rc, const char *fmt,
                                                      ...)
{
	char msg[256];
	va_list ap;

	if (!lx->err || !lx->errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(lx->err, lx->errlen, "failed to process \"%.*s\": %s",
	         (int)(lx->srclen > 120 ? 120 : lx->srclen), lx->src, msg);
	return rc;
}

static int sbuf_put(struct strbuf *b, const char *s, size_t n)
{
	return strbuf_put(b, s, n, SHELLWORD_MAX_OUT);
}

/* Length of the UTF-8 character at s[pos], 1 for a byte that starts none. */
static size_t char_len(const char *s, size_t len, size_t pos)
{
	unsigned char c = (unsigned char)s[pos];
	size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;

	if (pos + n > len)
		return 1;
	for (size_t i = 1; i < n; i++)
		if (((unsigned char)s[pos + i] & 0xC0) != 0x80)
			return 1;
	return n;
}

size_t shellword_space_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (!len)
		return 0;
	if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
		return 1;
	if (len >= 2 && u[0] == 0xC2 && (u[1] == 0x85 || u[1] == 0xA0))
		return 2;
	if (len < 3)
		return 0;
	if ((u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80) ||
	    (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) ||
	    (u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F))
		return 3;
	if (u[0] == 0xE2 && u[1] == 0x80 &&
	    (u[2] <= 0x8A || u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF))
		return 3;
	return 0;
}

/* ---- word splitting (BuildKit's wordsStruct) ---- */

static void words_push(struct words *w)
{
	/* room for the word and the NULL after it */
	if (w->rc || (w->rc = ARRAY_GROW(w->v, w->cap, w->n + 1, SHELLWORD_MAX_WORDS + 1)) < 0)
		return;
	w->v[w->n] = strndup(w->word.p ? w->word.p : "", w->word.len);
	if (!w->v[w->n]) {
		w->rc = -ENOMEM;
		return;
	}
	w->v[++w->n] = NULL;
	w->word.len = 0;
	w->in_word = false;
}

static void words_add_raw(struct words *w, const char *s, size_t n)
{
	if (!w || w->rc)
		return;
	int rc = sbuf_put(&w->word, s, n);
	if (rc)
		w->rc = rc;
	w->in_word = true;
}

static void words_add_char(struct words *w, const char *s, size_t n)
{
	if (!w)
		return;
	if (shellword_space_len(s, n) == n) {
		if (w->in_word && w->word.len)
			words_push(w);
	} else {
		words_add_raw(w, s, n);
	}
}

static void words_add_string(struct words *w, const char *s, size_t n)
{
	for (size_t i = 0; w && i < n;) {
		size_t k = char_len(s, n, i);
		words_add_char(w, s + i, k);
		i += k;
	}
}

/* ---- glob patterns of ${V#p} ${V%p} ${V/p/r} ---- */

enum tok_kind { TOK_LIT, TOK_ANY, TOK_STAR };

struct tok {
	enum tok_kind kind;
	unsigned char n;
	char c[4];
};

struct pattern {
	struct tok *t;
	size_t n;
};

static int pattern_compile(struct lexer *lx, const char *p, size_t len, struct pattern *ret)
{
	struct tok *t = calloc(len + 1, sizeof(*t));
	size_t n = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		struct tok k = {TOK_LIT, 1, {p[i]}};
		if (p[i] == '*' || p[i] == '?') {
			k.kind = p[i] == '*' ? TOK_STAR : TOK_ANY;
			i++;
		} else if (p[i] == '\\' && i + 1 < len && (p[i + 1] == '}' || p[i + 1] == '/')) {
			i++;
			continue;
		} else if (p[i] == '\\') {
			if (i + 1 >= len || !strchr("*?\\", p[i + 1])) {
				free(t);
				return fail(lx, -EINVAL, "invalid pattern (%.*s) in substitution",
				            (int)len, p);
			}
			k.c[0] = p[i + 1];
			i += 2;
		} else {
			k.n = (unsigned char)char_len(p, len, i);
			memcpy(k.c, p + i, k.n);
			i += k.n;
		}
		t[n++] = k;
	}
	ret->t = t;
	ret->n = n;
	return 0;
}

static bool tok_eats(const struct tok *t, const char *c, size_t n)
{
	if (t->kind != TOK_LIT)
		return !(n == 1 && c[0] == '\n');
	return t->n == n && !memcmp(t->c, c, n);
}

/* st[i] is the earliest start of a thread waiting at token i, or -1. */
static void nfa_close(const struct pattern *pt, long *st)
{
	for (size_t i = 0; i < pt->n; i++)
		if (pt->t[i].kind == TOK_STAR && st[i] >= 0 && (st[i + 1] < 0 || st[i] < st[i + 1]))
			st[i + 1] = st[i];
}

static bool nfa_step(const struct pattern *pt, const long *st, long *nx, const char *c, size_t n)
{
	bool alive = false;

	for (size_t i = 0; i <= pt->n; i++)
		nx[i] = -1;
	for (size_t i = 0; i < pt->n; i++) {
		if (st[i] < 0 || !tok_eats(&pt->t[i], c, n))
			continue;
		size_t to = pt->t[i].kind == TOK_STAR ? i : i + 1;
		if (nx[to] < 0 || st[i] < nx[to])
			nx[to] = st[i];
	}
	nfa_close(pt, nx);
	for (size_t i = 0; i <= pt->n; i++)
		alive |= nx[i] >= 0;
	return alive;
}

static size_t prev_char_len(const char *v, size_t len, size_t pos)
{
	size_t k = 1;

	while (k < 4 && k < pos && ((unsigned char)v[pos - k] & 0xC0) == 0x80)
		k++;
	return char_len(v, len, pos - k) == k ? k : 1;
}

static long *nfa_new(const struct pattern *pt, long start)
{
	long *st = malloc(2 * (pt->n + 1) * sizeof(long));

	if (!st)
		return NULL;
	for (size_t i = 0; i <= pt->n; i++)
		st[i] = -1;
	st[0] = start;
	nfa_close(pt, st);
	return st;
}

/* Shortest or longest k such that the pattern matches the first k bytes of v,
 * or with from_end the last k (the caller reversed the pattern). -1: none,
 * -2: out of memory. */
static long pattern_anchored(const struct pattern *pt, const char *v, size_t len, bool from_end,
                             bool longest)
{
	long *buf = nfa_new(pt, 0), *st = buf, *nx, *tmp, found = -1;

	if (!buf)
		return -2;
	nx = buf + pt->n + 1;
	for (size_t k = 0;;) {
		if (st[pt->n] >= 0) {
			found = (long)k;
			if (!longest)
				break;
		}
		if (k >= len)
			break;
		size_t cl = from_end ? prev_char_len(v, len, len - k) : char_len(v, len, k);
		bool alive = nfa_step(pt, st, nx, from_end ? v + len - k - cl : v + k, cl);
		tmp = st;
		st = nx;
		nx = tmp;
		k += cl;
		if (!alive)
			break;
	}
	free(buf);
	return found;
}

static bool nfa_useful(const struct pattern *pt, const long *st, long best_s)
{
	for (size_t j = 0; j <= pt->n; j++)
		if (st[j] >= 0 && (best_s < 0 || st[j] <= best_s))
			return true;
	return false;
}

/* Leftmost-longest match at or after from: 1 found, 0 none, -ENOMEM. */
static int pattern_search(const struct pattern *pt, const char *v, size_t len, size_t from,
                          size_t *ret_s, size_t *ret_e)
{
	long *buf = nfa_new(pt, (long)from), *st = buf, *nx, *tmp, best_s = -1;
	size_t best_e = 0;

	if (!buf)
		return -ENOMEM;
	nx = buf + pt->n + 1;
	for (size_t i = from;;) {
		if (st[pt->n] >= 0 &&
		    (best_s < 0 || st[pt->n] < best_s || (st[pt->n] == best_s && i > best_e))) {
			best_s = st[pt->n];
			best_e = i;
		}
		if (i >= len)
			break;
		size_t cl = char_len(v, len, i);
		bool alive = nfa_step(pt, st, nx, v + i, cl);
		i += cl;
		if (best_s < 0) { /* no match yet: a new thread may start here */
			if (nx[0] < 0)
				nx[0] = (long)i;
			nfa_close(pt, nx);
			alive = true;
		}
		tmp = st;
		st = nx;
		nx = tmp;
		if (!alive || !nfa_useful(pt, st, best_s))
			break;
	}
	free(buf);
	if (best_s < 0)
		return 0;
	*ret_s = (size_t)best_s;
	*ret_e = best_e;
	return 1;
}

static void pattern_reverse(struct pattern *pt)
{
	for (size_t i = 0; i < pt->n / 2; i++) {
		struct tok t = pt->t[i];
		pt->t[i] = pt->t[pt->n - 1 - i];
		pt->t[pt->n - 1 - i] = t;
	}
}

/* ---- the lexer (BuildKit's shellWord) ---- */

static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct strbuf *res,
                           struct words *w);
static int process_dollar(struct lexer *lx, struct strbuf *res);

static int out(struct lexer *lx, struct strbuf *res, const char *s, size_t n)
{
	int rc = sbuf_put(res, s, n);

	if (rc == -E2BIG)
		return fail(lx, rc, "expansion longer than %d bytes", SHELLWORD_MAX_OUT);
	if (rc)
		return fail(lx, rc, "out of memory");
	return 0;
}

static int peek(const struct lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos] : END;
}

static int next(struct lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos++] : END;
}

static const char *lookup(struct lexer *lx, size_t start, size_t n)
{
	const char *v = lx->o->lookup ? lx->o->lookup(lx->s + start, n, lx->o->arg) : NULL;

	if (!v)
		lx->unset++;
	return v;
}

static int single_quote(struct lexer *lx, struct strbuf *res)
{
	const char q = '\'';
	int rc;

	lx->pos++;
	if (lx->o->raw_quotes && (rc = out(lx, res, &q, 1)))
		return rc;
	for (;;) {
		int c = next(lx);
		if (c == END)
			return fail(lx, -EINVAL,
			            "unexpected end of statement while looking for "
			            "matching single-quote");
		if (c == '\'')
			return lx->o->raw_quotes ? out(lx, res, &q, 1) : 0;
		char ch = (char)c;
		if ((rc = out(lx, res, &ch, 1)))
			return rc;
	}
}

static int double_quote(struct lexer *lx, struct strbuf *res)
{
	const char q = '"', esc = lx->o->escape;
	int rc;

	lx->pos++;
	if (lx->o->raw_quotes && (rc = out(lx, res, &q, 1)))
		return rc;
	for (;;) {
		int c = peek(lx);
		if (c == END)
			return fail(lx, -EINVAL,
			            "unexpected end of statement while looking for "
			            "matching double-quote");
		if (c == '"') {
			lx->pos++;
			return lx->o->raw_quotes ? out(lx, res, &q, 1) : 0;
		}
		if (c == '$') {
			if ((rc = process_dollar(lx, res)))
				return rc;
			continue;
		}
		char ch = (char)next(lx);
		if (ch == esc) {
			if (lx->raw_escapes && (rc = out(lx, res, &ch, 1)))
				return rc;
			int nc = peek(lx);
			if (nc == END)
				continue;
			if (nc == '"' || nc == '$' || nc == (unsigned char)esc)
				ch = (char)next(lx);
		}
		if ((rc = out(lx, res, &ch, 1)))
			return rc;
	}
}

static bool is_special_param(int c)
{
	return c != END && strchr("@*#?-$!0", c);
}

static bool is_name_char(int c)
{
	return c != END && (c >= 0x80 || c == '_' || (c >= '0' && c <= '9') ||
	                    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/* A name: a run of digits, one special parameter, or letters/digits/_. */
static size_t process_name(struct lexer *lx)
{
	size_t start = lx->pos;
	int c = peek(lx);

	if (c >= '0' && c <= '9') {
		while ((c = peek(lx)) >= '0' && c <= '9')
			lx->pos++;
	} else if (is_special_param(c)) {
		lx->pos++;
	} else {
		while (is_name_char(peek(lx)))
			lx->pos++;
	}
	return lx->pos - start;
}

static int dollar_plain(struct lexer *lx, struct strbuf *res)
{
	size_t start = lx->pos, n = process_name(lx);

	if (!n)
		return out(lx, res, "$", 1);
	const char *v = lookup(lx, start, n);
	lx->unset_bare += !v;
	if (!v && lx->o->skip_unset)
		return out(lx, res, lx->s + start - 1, n + 1);
	return v ? out(lx, res, v, strlen(v)) : 0;
}

static int dollar_trim(struct lexer *lx, struct strbuf *res, const char *v,
                       const struct strbuf *word, int ch)
{
	const char *p = word->p ? word->p : "";
	size_t plen = word->len, vlen = strlen(v);
	bool greedy = plen && p[0] == ch;
	struct pattern pt;
	int rc;

	if (greedy) {
		p++;
		plen--;
	}
	if ((rc = pattern_compile(lx, p, plen, &pt)))
		return rc == -ENOMEM ? fail(lx, rc, "out of memory") : rc;
	if ((vlen + 1) * (pt.n + 1) > ((size_t)1 << 24)) {
		free(pt.t);
		return fail(lx, -E2BIG, "pattern substitution too large");
	}
	if (ch == '%')
		pattern_reverse(&pt);
	long k = pattern_anchored(&pt, v, vlen, ch == '%', greedy);
	free(pt.t);
	if (k == -2)
		return fail(lx, -ENOMEM, "out of memory");
	if (k < 0)
		return out(lx, res, v, vlen);
	return ch == '#' ? out(lx, res, v + k, vlen - (size_t)k)
	                 : out(lx, res, v, vlen - (size_t)k);
}

static int dollar_apply(struct lexer *lx, struct strbuf *res, size_t ns, size_t nl, const char *v,
                        const struct strbuf *word, int ch, bool null_unset)
{
	bool empty = !v || (null_unset && !*v);
	const char *w = word->p ? word->p : "";

	switch (ch) {
	case '-':
		return empty ? out(lx, res, w, word->len) : out(lx, res, v, strlen(v));
	case '+':
		return empty ? 0 : out(lx, res, w, word->len);
	case '?':
		if (empty)
			return fail(lx, -EINVAL, "%.*s: %s", (int)nl, lx->s + ns,
			            word->len ? w
			            : v       ? "is not allowed to be empty"
			                      : "is not allowed to be unset");
		return out(lx, res, v, strlen(v));
	case '#':
	case '%':
		return dollar_trim(lx, res, v ? v : "", word, ch);
	default:
		return fail(lx, -EINVAL, "unsupported modifier (%s%c) in substitution",
		            null_unset ? ":" : "", ch == END ? '?' : ch);
	}
}

/* ${NAME op WORD} for op in :- - :+ + :? ? # ## % %% (and bad ones). */
static int dollar_modifier(struct lexer *lx, struct strbuf *res, size_t ns, size_t nl, int ch)
{
	bool null_unset = ch == ':';
	struct strbuf word = {0};
	int rc;

	if (null_unset)
		ch = next(lx);
	rc = process_stop_on(lx, '}', ch == '#' || ch == '%', &word, NULL);
	if (rc) {
		if (rc == -EINVAL && peek(lx) == END)
			rc = fail(lx, rc, "syntax error: missing '}'");
		goto out;
	}
	const char *v = lookup(lx, ns, nl);
	if (!v && lx->o->skip_unset) {
		if (!(rc = out(lx, res, lx->s + ns - 2, nl + 2 + null_unset)) && ch != END) {
			char c = (char)ch;
			rc = out(lx, res, &c, 1);
		}
		if (!rc && !(rc = out(lx, res, word.p ? word.p : "", word.len)))
			rc = out(lx, res, "}", 1);
		goto out;
	}
	rc = dollar_apply(lx, res, ns, nl, v, &word, ch, null_unset);
out:
	free(word.p);
	return rc;
}

/* Go's regexp template expansion, which ${V//p/r} runs on r: $$ is $, $0 and
 * ${0} the match, any other $name or ${name} nothing. */
static int put_template(struct lexer *lx, struct strbuf *res, const struct strbuf *rep,
                        const char *m, size_t mlen)
{
	const char *r = rep->p ? rep->p : "";
	int rc = 0;

	for (size_t i = 0; !rc && i < rep->len;) {
		size_t j = i + 1, ns, ne;
		if (r[i] != '$' || j >= rep->len) {
			rc = out(lx, res, r + i++, 1);
			continue;
		}
		if (r[j] == '$') {
			rc = out(lx, res, "$", 1);
			i = j + 1;
			continue;
		}
		bool brace = r[j] == '{';
		ns = ne = brace ? j + 1 : j;
		while (ne < rep->len && (r[ne] == '_' || (r[ne] >= '0' && r[ne] <= '9') ||
		                         ((r[ne] | 0x20) >= 'a' && (r[ne] | 0x20) <= 'z')))
			ne++;
		if (ne == ns || (brace && (ne >= rep->len || r[ne] != '}'))) {
			rc = out(lx, res, r + i++, 1); /* malformed: a literal $ */
			continue;
		}
		if (strspn(r + ns, "0") == ne - ns)
			rc = out(lx, res, m, mlen);
		i = brace ? ne + 1 : ne;
	}
	return rc;
}

static int replace_all(struct lexer *lx, struct strbuf *res, const struct pattern *pt,
                       const char *v, size_t vlen, const struct strbuf *rep)
{
	size_t p = 0, s, e;
	long last = -1;
	int rc = 0, found;

	while (!rc && p <= vlen && (found = pattern_search(pt, v, vlen, p, &s, &e)) > 0) {
		if (s == e && (long)s == last) { /* an empty match right after a match */
			if (s >= vlen)
				break;
			size_t cl = char_len(v, vlen, s);
			rc = out(lx, res, v + p, s + cl - p);
			p = s + cl;
			continue;
		}
		if (!(rc = out(lx, res, v + p, s - p)))
			rc = put_template(lx, res, rep, v + s, e - s);
		last = (long)e;
		p = e;
		if (!rc && e == s && s < vlen) {
			size_t cl = char_len(v, vlen, s);
			rc = out(lx, res, v + s, cl);
			p = s + cl;
		} else if (e == s) {
			p = vlen + 1;
		}
	}
	if (!rc && found < 0)
		return fail(lx, found, "out of memory");
	return rc || p >= vlen ? rc : out(lx, res, v + p, vlen - p);
}

static int replace(struct lexer *lx, struct strbuf *res, const char *v, const struct strbuf *pat,
                   const struct strbuf *rep, bool all)
{
	struct pattern pt;
	size_t vlen = strlen(v), s, e;
	int rc = pattern_compile(lx, pat->p ? pat->p : "", pat->len, &pt);

	if (rc)
		return rc == -ENOMEM ? fail(lx, rc, "out of memory") : rc;
	if ((vlen + 1) * (pt.n + 1) > ((size_t)1 << 24)) {
		rc = fail(lx, -E2BIG, "pattern substitution too large");
	} else if (all) {
		rc = replace_all(lx, res, &pt, v, vlen, rep);
	} else if ((rc = pattern_search(&pt, v, vlen, 0, &s, &e)) > 0) {
		if (!(rc = out(lx, res, v, s)) &&
		    !(rc = out(lx, res, rep->p ? rep->p : "", rep->len)))
			rc = out(lx, res, v + e, vlen - e);
	} else {
		rc = rc < 0 ? fail(lx, rc, "out of memory") : out(lx, res, v, vlen);
	}
	free(pt.t);
	return rc;
}

/* ${NAME/pattern/replacement} and ${NAME//pattern/replacement}. */
static int dollar_replace(struct lexer *lx, struct strbuf *res, size_t ns, size_t nl)
{
	bool all = peek(lx) == '/';
	struct strbuf pat = {0}, rep = {0};
	int rc;

	if (all)
		lx->pos++;
	if ((rc = process_stop_on(lx, '/', true, &pat, NULL))) {
		if (rc == -EINVAL && peek(lx) == END)
			rc = fail(lx, rc, "syntax error: missing '/' in ${}");
		goto out;
	}
	if ((rc = process_stop_on(lx, '}', true, &rep, NULL))) {
		if (rc == -EINVAL && peek(lx) == END)
			rc = fail(lx, rc, "syntax error: missing '}'");
		goto out;
	}
	const char *v = lookup(lx, ns, nl);
	if (!v && lx->o->skip_unset) {
		if (!(rc = out(lx, res, lx->s + ns - 2, nl + 3)) &&
		    !(rc = out(lx, res, pat.p ? pat.p : "", pat.len)) &&
		    !(rc = out(lx, res, "/", 1)) &&
		    !(rc = out(lx, res, rep.p ? rep.p : "", rep.len)))
			rc = out(lx, res, "}", 1);
		goto out;
	}
	rc = replace(lx, res, v ? v : "", &pat, &rep, all);
out:
	free(pat.p);
	free(rep.p);
	return rc;
}

static int process_dollar(struct lexer *lx, struct strbuf *res)
{
	lx->pos++;
	if (peek(lx) != '{')
		return dollar_plain(lx, res);
	lx->pos++;
	int c = peek(lx);
	if (c == END)
		return fail(lx, -EINVAL, "syntax error: missing '}'");
	if (c == '{' || c == '}' || c == ':')
		return fail(lx, -EINVAL, "syntax error: bad substitution");
	size_t ns = lx->pos, nl = process_name(lx);
	int ch = next(lx);
	switch (ch) {
	case '}': {
		const char *v = lookup(lx, ns, nl);
		lx->unset_bare += !v;
		if (!v && lx->o->skip_unset)
			return out(lx, res, lx->s + ns - 2, nl + 3);
		return v ? out(lx, res, v, strlen(v)) : 0;
	}
	case '/':
		return dollar_replace(lx, res, ns, nl);
	case END:
		return fail(lx, -EINVAL, "syntax error: missing '}'");
	default:
		return dollar_modifier(lx, res, ns, nl, ch);
	}
}

/* One ordinary character, or the escape character and what it escapes.
 * Returns 1 when the input ends right after an escape character. */
static int plain_char(struct lexer *lx, struct strbuf *res, struct words *w)
{
	char esc = lx->o->escape;
	size_t n;
	int rc;

	if (lx->s[lx->pos] == esc) {
		lx->pos++;
		if (lx->raw_escapes) {
			words_add_raw(w, &esc, 1);
			if ((rc = out(lx, res, &esc, 1)))
				return rc;
		}
		if (lx->pos >= lx->len)
			return 1;
		n = char_len(lx->s, lx->len, lx->pos);
		words_add_raw(w, lx->s + lx->pos, n);
	} else {
		n = char_len(lx->s, lx->len, lx->pos);
		words_add_char(w, lx->s + lx->pos, n);
	}
	rc = out(lx, res, lx->s + lx->pos, n);
	lx->pos += n;
	return rc;
}

static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct strbuf *res,
                           struct words *w)
{
	bool saved = lx->raw_escapes;
	int rc = 0;

	if (++lx->depth > SHELLWORD_MAX_DEPTH) {
		rc = fail(lx, -E2BIG, "more than %d nested ${...}", SHELLWORD_MAX_DEPTH);
		goto out;
	}
	lx->raw_escapes = raw_escapes;
	while (lx->pos < lx->len) {
		int c = (unsigned char)lx->s[lx->pos];
		if (stop != END && c == stop) {
			lx->pos++;
			goto out;
		}
		if (c != '$' && c != '\'' && c != '"') {
			if ((rc = plain_char(lx, res, w)) == 1)
				break;
			if (rc)
				goto out;
			continue;
		}
		size_t before = res->len;
		rc = c == '$'    ? process_dollar(lx, res)
		     : c == '\'' ? single_quote(lx, res)
		                 : double_quote(lx, res);
		if (rc)
			goto out;
		const char *added = res->p ? res->p + before : "";
		if (c == '$')
			words_add_string(w, added, res->len - before);
		else
			words_add_raw(w, added, res->len - before);
	}
	rc = stop == END ? 0
	                 : fail(lx, -EINVAL,
	                        "unexpected end of statement while looking for matching %c", stop);
out:
	lx->depth--;
	lx->raw_escapes = saved;
	return rc;
}

static void words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	free(w->word.p);
	memset(w, 0, sizeof(*w));
}

int shellword_expand(const char *in, size_t len, const struct shellword_opts *o,
                     struct shellword_result *ret, char *err, size_t errlen)
{
	struct shellword_opts def = *o;
	struct lexer lx = {.s = in,
	                   .len = len,
	                   .o = &def,
	                   .err = err,
	                   .errlen = errlen,
	                   .src = in,
	                   .srclen = len};
	struct strbuf res = {0};
	struct words w = {0};
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (def.escape != '`')
		def.escape = '\\';
	if (len > SHELLWORD_MAX_OUT)
		return fail(&lx, -E2BIG, "input longer than %d bytes", SHELLWORD_MAX_OUT);
	rc = process_stop_on(&lx, END, def.raw_escapes, &res, &w);
	if (!rc && w.word.len)
		words_push(&w);
	if (!rc && w.rc)
		rc = fail(&lx, w.rc, w.rc == -E2BIG ? "too many words" : "out of memory");
	if (!rc && !w.v && !(w.v = calloc(1, sizeof(*w.v))))
		rc = fail(&lx, -ENOMEM, "out of memory");
	if (!rc && !res.p && (rc = out(&lx, &res, "", 0)))
		rc = fail(&lx, -ENOMEM, "out of memory");
	if (rc) {
		words_free(&w);
		free(res.p);
		return rc;
	}
	ret->word = res.p;
	ret->words = w.v;
	ret->n_words = w.n;
	ret->unset = lx.unset;
	ret->unset_bare = lx.unset_bare;
	free(w.word.p);
	return 0;
}

void shellword_result_done(struct shellword_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_words; i++)
		free(r->words[i]);
	free(r->words);
	free(r->word);
	memset(r, 0, sizeof(*r));
}
