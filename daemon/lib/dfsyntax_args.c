/*
 * dfsyntax_args — BuildKit's per-instruction line parsers (line_parsers.go),
 * the JSON exec form, heredoc delimiters, and the AST dump with Go's
 * strconv.Quote. Quirks are kept on purpose where they change the parsed
 * arguments (invalid UTF-8 becomes U+FFFD in parseWords, JSON decoding
 * stops after the first value, overflowing numbers are not "non-strings").
 */
#include "arena.h"
#include "dfsyntax_impl.h"
#include "shellword.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 10000 /* Go's encoding/json limit */

/* Strict UTF-8 decoding as Go's utf8.DecodeRune: length, 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (!n)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	uint32_t c = s[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
	if (!len || len > n || s[0] > 0xF4)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static int put_utf8(struct strbuf *b, uint32_t c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	return dfs_buf_put(b, u, n);
}

/* One rune of s at pos as Go's range loop sees it: invalid bytes are
 * U+FFFD of width 1. Returns the width, stores the rune's UTF-8 in out. */
static size_t next_rune(struct dfs_span s, size_t pos, uint32_t *cp)
{
	size_t w = utf8_decode((const unsigned char *)s.p + pos, s.n - pos, cp);

	if (!w) {
		*cp = 0xFFFD;
		w = 1;
	}
	return w;
}

static bool rune_space(uint32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
	       c == 0x205F || c == 0x3000;
}

/* ---- parseWords: space-separated words, quotes and escapes kept ---- */

enum { IN_SPACES, IN_WORD, IN_QUOTE };

static int parse_words(struct arena *a, struct dfs_vec *v, struct dfs_span rest, char esc)
{
	struct strbuf w = {0};
	int phase = IN_SPACES, rc = 0;
	uint32_t ch = 0, quote = 0;
	bool blank_ok = false;
	size_t cw = 0;

	for (size_t pos = 0; !rc && pos <= rest.n; pos += cw) {
		if (pos != rest.n)
			cw = next_rune(rest, pos, &ch);
		if (phase == IN_SPACES && pos == rest.n)
			break;
		if (phase == IN_SPACES && rune_space(ch))
			continue;
		if (phase == IN_SPACES)
			phase = IN_WORD;
		if (pos == rest.n || (phase == IN_WORD && rune_space(ch))) { /* a word ends */
			if (blank_ok || w.len)
				rc = dfs_vec_push(a, v, w.p ? w.p : "", w.len);
			if (pos == rest.n)
				break;
			phase = IN_SPACES;
			w.len = 0;
			blank_ok = false;
			continue;
		}
		int was = phase;
		if (was == IN_WORD && (ch == '\'' || ch == '"')) {
			quote = ch;
			blank_ok = true;
			phase = IN_QUOTE;
		} else if (was == IN_QUOTE && ch == quote) {
			phase = IN_WORD;
		}
		if (ch == (unsigned char)esc && (was == IN_WORD || quote != '\'')) {
			if (pos + cw == rest.n) { /* a trailing escape is dropped */
				phase = IN_WORD;
				continue;
			}
			if ((rc = put_utf8(&w, ch)))
				break;
			pos += cw;
			cw = next_rune(rest, pos, &ch);
		}
		rc = put_utf8(&w, ch);
	}
	free(w.p);
	return rc;
}

/* ---- the line parsers ---- */

static int split_ws(struct arena *a, struct dfs_vec *v, struct dfs_span rest, int max)
{
	int rc = 0, parts = 1;

	while (!rc) {
		size_t i = 0, j;
		while (i < rest.n && !dfs_tok_space(rest.p[i]))
			i++;
		if (i == rest.n || parts == max)
			return dfs_vec_push(a, v, rest.p, rest.n);
		rc = dfs_vec_push(a, v, rest.p, i);
		for (j = i; j < rest.n && dfs_tok_space(rest.p[j]);)
			j++;
		rest.p += j;
		rest.n -= j;
		parts++;
	}
	return rc;
}

/* ENV and LABEL: "KEY value" (old) or KEY=VALUE pairs; triples key, value,
 * separator. */
static int parse_name_val(struct arena *a, struct dfs_vec *v, struct dfs_span rest, char esc,
                          const char *key, char *msg, size_t msglen)
{
	size_t start = v->n, n;
	const char **words = NULL;
	int rc;

	if ((rc = parse_words(a, v, rest, esc)) || v->n == start)
		return rc;
	if (!strchr(v->v[start], '=')) {
		v->n = start;
		if ((rc = split_ws(a, v, rest, 2)))
			return rc;
		if (v->n - start < 2)
			return dfs_fail(msg, msglen, 0, -EINVAL, "%s must have two arguments", key);
		return dfs_vec_push(a, v, "", 0);
	}
	n = v->n - start;
	if (!(words = malloc(n * sizeof(*words))))
		return -ENOMEM;
	memcpy(words, v->v + start, n * sizeof(*words));
	v->n = start;
	for (size_t i = 0; !rc && i < n; i++) {
		const char *eq = strchr(words[i], '=');
		if (!eq) {
			char q[256];
			dfsyntax_quote(words[i], strlen(words[i]), q, sizeof(q));
			rc = dfs_fail(msg, msglen, 0, -EINVAL,
			              "Syntax error - can't find = in %s. Must be of the form: "
			              "name=value",
			              q);
			break;
		}
		if (!(rc = dfs_vec_push(a, v, words[i], (size_t)(eq - words[i]))) &&
		    !(rc = dfs_vec_push(a, v, eq + 1, strlen(eq + 1))))
			rc = dfs_vec_push(a, v, "=", 1);
	}
	free(words);
	return rc;
}

static int json_string(struct dfs_span s, size_t *pos, struct strbuf *out);
static int json_skip(struct dfs_span s, size_t *pos, bool *overflow);

static size_t json_ws(struct dfs_span s, size_t i)
{
	while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '\n' || s.p[i] == '\r'))
		i++;
	return i;
}

/* parseJSON: 0 parsed (strings pushed), 1 not JSON, -EINVAL valid JSON
 * holding something other than strings. */
static int parse_json(struct arena *a, struct dfs_vec *v, struct dfs_span rest, char *msg,
                      size_t msglen)
{
	struct strbuf str = {0};
	size_t start = v->n, i;
	bool non_string = false, overflow = false;
	int rc = 1;

	rest = dfs_trim_left(rest);
	if (!rest.n || rest.p[0] != '[')
		return 1;
	i = json_ws(rest, 1);
	if (i < rest.n && rest.p[i] == ']') {
		rc = 0;
		goto out;
	}
	for (;;) {
		i = json_ws(rest, i);
		int r;
		if (i < rest.n && rest.p[i] == '"') {
			str.len = 0;
			if ((r = json_string(rest, &i, &str)) ||
			    (r = dfs_vec_push(a, v, str.p ? str.p : "", str.len))) {
				rc = r < 0 ? r : 1;
				goto out;
			}
		} else if ((r = json_skip(rest, &i, &overflow))) {
			rc = r < 0 ? r : 1;
			goto out;
		} else {
			non_string = true;
		}
		i = json_ws(rest, i);
		if (i < rest.n && rest.p[i] == ',') {
			i++;
			continue;
		}
		if (i < rest.n && rest.p[i] == ']')
			break;
		goto out;
	}
	rc = overflow ? 1 : 0;
	if (!rc && non_string)
		rc = dfs_fail(
		        msg, msglen, 0, -EINVAL,
		        "when using JSON array syntax, arrays must be comprised of strings only");
out:
	free(str.p);
	if (rc)
		v->n = start;
	return rc;
}

static int parse_maybe_json(struct arena *a, struct dfs_vec *v, struct dfs_span rest, bool *json,
                            bool to_list, char *msg, size_t msglen)
{
	int rc;

	if (!rest.n && !to_list)
		return 0;
	rc = parse_json(a, v, rest, msg, msglen);
	if (rc <= 0) {
		*json = rc == 0;
		return rc;
	}
	if (!to_list)
		return dfs_vec_push(a, v, rest.p, rest.n);
	return rest.n ? split_ws(a, v, rest, 0) : 0;
}

static int parse_health(struct arena *a, struct dfs_vec *v, struct dfs_span rest, bool *json,
                        char *msg, size_t msglen)
{
	size_t sep = 0, next;
	int rc;

	while (sep < rest.n && !dfs_byte_space((unsigned char)rest.p[sep]))
		sep++;
	for (next = sep; next < rest.n && dfs_byte_space((unsigned char)rest.p[next]);)
		next++;
	if (!sep)
		return 0;
	if ((rc = dfs_vec_push(a, v, rest.p, sep)))
		return rc;
	struct dfs_span cmd = {rest.p + next, rest.n - next};
	return parse_maybe_json(a, v, cmd, json, false, msg, msglen);
}

static bool is_kw(const char *kw, const char *list)
{
	size_t n = strlen(kw);

	for (const char *p = list; *p; p += strlen(p) + 1)
		if (strlen(p) == n && !memcmp(p, kw, n))
			return true;
	return false;
}

int dfs_line_parse(struct arena *a, struct dfs_vec *v, const char *kw, struct dfs_span rest,
                   char esc, bool *json, char *msg, size_t msglen)
{
	*json = false;
	if (!strcmp(kw, "env") || !strcmp(kw, "label"))
		return parse_name_val(a, v, rest, esc, kw[0] == 'e' ? "ENV" : "LABEL", msg, msglen);
	if (!strcmp(kw, "arg"))
		return parse_words(a, v, rest, esc);
	if (is_kw(kw, "from\0expose\0"))
		return rest.n ? split_ws(a, v, rest, 0) : 0;
	if (is_kw(kw, "add\0copy\0volume\0"))
		return parse_maybe_json(a, v, rest, json, true, msg, msglen);
	if (is_kw(kw, "run\0cmd\0entrypoint\0shell\0"))
		return parse_maybe_json(a, v, rest, json, false, msg, msglen);
	if (!strcmp(kw, "healthcheck"))
		return parse_health(a, v, rest, json, msg, msglen);
	if (is_kw(kw, "maintainer\0stopsignal\0user\0workdir\0"))
		return rest.n ? dfs_vec_push(a, v, rest.p, rest.n) : 0;
	return dfs_vec_push(a, v, "", 0); /* parseIgnore: an empty node */
}

/* ---- JSON (RFC 8259 as Go's encoding/json reads it) ---- */

static int hex4(struct dfs_span s, size_t i, uint32_t *ret)
{
	uint32_t c = 0;

	if (i + 4 > s.n)
		return 1;
	for (size_t k = i; k < i + 4; k++) {
		char h = s.p[k];
		int d = h >= '0' && h <= '9'   ? h - '0'
		        : h >= 'a' && h <= 'f' ? h - 'a' + 10
		        : h >= 'A' && h <= 'F' ? h - 'A' + 10
		                               : -1;
		if (d < 0)
			return 1;
		c = c * 16 + (uint32_t)d;
	}
	*ret = c;
	return 0;
}

/* \uXXXX (and a following low surrogate); lone surrogates become U+FFFD. */
static int json_unicode(struct dfs_span s, size_t *pos, uint32_t *ret)
{
	uint32_t c, lo;

	if (hex4(s, *pos, &c))
		return 1;
	*pos += 4;
	if (c >= 0xD800 && c < 0xDC00 && *pos + 6 <= s.n && s.p[*pos] == '\\' &&
	    s.p[*pos + 1] == 'u' && !hex4(s, *pos + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
		c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
		*pos += 6;
	} else if (c >= 0xD800 && c < 0xE000) {
		c = 0xFFFD;
	}
	*ret = c;
	return 0;
}

static int json_string(struct dfs_span s, size_t *pos, struct strbuf *out)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	size_t i = *pos + 1;
	uint32_t c;
	int rc;

	for (;;) {
		if (i >= s.n || (unsigned char)s.p[i] < 0x20)
			return 1;
		if (s.p[i] == '"')
			break;
		if (s.p[i] == '\\') {
			const char *e =
			        i + 1 < s.n && s.p[i + 1] ? strchr(esc_in, s.p[i + 1]) : NULL;
			if (i + 1 < s.n && s.p[i + 1] == 'u') {
				i += 2;
				if (json_unicode(s, &i, &c))
					return 1;
			} else if (e) {
				c = (unsigned char)esc_out[e - esc_in];
				i += 2;
			} else {
				return 1;
			}
		} else {
			size_t w = utf8_decode((const unsigned char *)s.p + i, s.n - i, &c);
			if (!w) {
				c = 0xFFFD;
				w = 1;
			}
			i += w;
		}
		if ((rc = put_utf8(out, c)))
			return rc;
	}
	*pos = i + 1;
	return 0;
}

static int json_number(struct dfs_span s, size_t *pos, bool *overflow)
{
	size_t i = *pos, start = i, k;

	if (i < s.n && s.p[i] == '-')
		i++;
	if (i < s.n && s.p[i] == '0')
		i++;
	else if (i < s.n && s.p[i] >= '1' && s.p[i] <= '9')
		while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
			i++;
	else
		return 1;
	if (i < s.n && s.p[i] == '.') {
		for (k = ++i; i < s.n && s.p[i] >= '0' && s.p[i] <= '9';)
			i++;
		if (i == k)
			return 1;
	}
	if (i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
		if (++i < s.n && (s.p[i] == '+' || s.p[i] == '-'))
			i++;
		for (k = i; i < s.n && s.p[i] >= '0' && s.p[i] <= '9';)
			i++;
		if (i == k)
			return 1;
	}
	char *num = strndup(s.p + start, i - start);
	if (!num)
		return -ENOMEM;
	if (isinf(strtod(num, NULL)))
		*overflow = true; /* Go: an UnmarshalTypeError, not "non-string" */
	free(num);
	*pos = i;
	return 0;
}

static int json_scalar(struct dfs_span s, size_t *pos, bool *overflow)
{
	static const char *const lits[] = {"true", "false", "null"};
	struct strbuf junk = {0};
	int rc;

	if (*pos >= s.n)
		return 1;
	if (s.p[*pos] == '"') {
		rc = json_string(s, pos, &junk);
		free(junk.p);
		return rc;
	}
	for (size_t k = 0; k < 3; k++) {
		size_t n = strlen(lits[k]);
		if (*pos + n <= s.n && !memcmp(s.p + *pos, lits[k], n)) {
			*pos += n;
			return 0;
		}
	}
	return json_number(s, pos, overflow);
}

/* After '{' or ',' inside an object: "key" ':' */
static int json_key(struct dfs_span s, size_t *pos)
{
	size_t i = json_ws(s, *pos);
	bool unused = false;
	int rc;

	if (i >= s.n || s.p[i] != '"')
		return 1;
	if ((rc = json_scalar(s, &i, &unused)))
		return rc;
	i = json_ws(s, i);
	if (i >= s.n || s.p[i] != ':')
		return 1;
	*pos = i + 1;
	return 0;
}

/* Skips one value of any type, iteratively (a stack of open containers). */
static int json_skip(struct dfs_span s, size_t *pos, bool *overflow)
{
	char *stack = NULL;
	size_t depth = 0, i = *pos;
	int rc = 1;

	for (;;) {
		i = json_ws(s, i);
		if (i < s.n && (s.p[i] == '[' || s.p[i] == '{')) {
			if (depth >= JSON_MAX_DEPTH)
				goto out;
			if (!stack && !(stack = malloc(JSON_MAX_DEPTH))) {
				rc = -ENOMEM;
				goto out;
			}
			stack[depth++] = s.p[i++];
			i = json_ws(s, i);
			if (i < s.n && s.p[i] == (stack[depth - 1] == '[' ? ']' : '}')) {
				i++;
				depth--;
			} else {
				if (stack[depth - 1] == '{' && (rc = json_key(s, &i)))
					goto out;
				continue;
			}
		} else if ((rc = json_scalar(s, &i, overflow))) {
			goto out;
		}
		for (rc = 1;;) { /* after a value: close containers or go on */
			if (!depth) {
				rc = 0;
				*pos = i;
				goto out;
			}
			i = json_ws(s, i);
			if (i < s.n && s.p[i] == (stack[depth - 1] == '[' ? ']' : '}')) {
				i++;
				depth--;
				continue;
			}
			if (i >= s.n || s.p[i] != ',')
				goto out;
			i++;
			if (stack[depth - 1] == '{' && (rc = json_key(s, &i)))
				goto out;
			break;
		}
	}
out:
	free(stack);
	return rc;
}

/* ---- heredocs: ^(\d*)<<(-?)([^<]*)$ among the line's shell words ---- */

static size_t count_quotes(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\'' || *s == '"';
	return n;
}

static int heredoc_from_word(struct arena *a, const char *word, struct dfsyntax_heredoc *h,
                             bool *found, char *msg, size_t msglen)
{
	struct shellword_opts o = {.escape = '\\', .skip_unset = true};
	struct shellword_result w = {0}, raw = {0};
	size_t d = strspn(word, "0123456789");
	const char *rest = word + d + 2;
	int rc;

	*found = false;
	if (strncmp(word + d, "<<", 2))
		return 0;
	h->chomp = *rest == '-';
	rest += h->chomp;
	if (!*rest || strchr(rest, '<'))
		return 0;
	if ((rc = shellword_expand(rest, strlen(rest), &o, &w, msg, msglen)) || w.n_words != 1)
		goto out;
	o.raw_quotes = true;
	if ((rc = shellword_expand(rest, strlen(rest), &o, &raw, msg, msglen)))
		goto out;
	if (raw.n_words != 1) {
		rc = dfs_fail(msg, msglen, 0, -EINVAL,
		              "internal lexing of heredoc produced inconsistent results: %s", rest);
		goto out;
	}
	h->fd = d && d < 10 ? (unsigned)strtoul(word, NULL, 10) : 0;
	h->expand = count_quotes(w.words[0]) == count_quotes(raw.words[0]);
	h->name = arena_strndup(a, w.words[0], strlen(w.words[0]));
	rc = h->name ? 0 : -ENOMEM;
	*found = !rc;
out:
	shellword_result_done(&w);
	shellword_result_done(&raw);
	return rc;
}

int dfs_heredocs_from_line(struct arena *a, const char *line, struct dfsyntax_heredoc *hd,
                           size_t *ret_n, char *msg, size_t msglen)
{
	struct shellword_opts o = {
	        .escape = '\\', .raw_quotes = true, .raw_escapes = true, .skip_unset = true};
	struct shellword_result r;
	size_t n = 0;
	int rc;

	*ret_n = 0;
	rc = shellword_expand(line, strlen(line), &o, &r, NULL, 0);
	if (rc)
		return rc == -ENOMEM ? rc : 0; /* BuildKit ignores lexing errors here */
	for (size_t i = 0; !rc && i < r.n_words; i++) {
		struct dfsyntax_heredoc h = {0};
		bool found;
		rc = heredoc_from_word(a, r.words[i], &h, &found, msg, msglen);
		if (!rc && found && n >= DFSYNTAX_MAX_HEREDOCS)
			rc = dfs_fail(msg, msglen, 0, -E2BIG,
			              "more than %d heredocs in one instruction",
			              DFSYNTAX_MAX_HEREDOCS);
		else if (!rc && found)
			hd[n++] = h;
	}
	shellword_result_done(&r);
	*ret_n = rc ? 0 : n;
	return rc;
}

/* ---- the AST dump ---- */

static bool go_is_print(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD)
		return false;
	if (c > 0x7F && rune_space(c))
		return false;
	if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
	    (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) ||
	    (c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000 || (c & 0xFFFE) == 0xFFFE)
		return false;
	return true;
}

struct qout {
	char *buf;
	size_t size, len;
};

static void qput(struct qout *q, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, q->len++)
		if (q->len + 1 < q->size)
			q->buf[q->len] = s[i];
}

size_t dfsyntax_quote(const char *s, size_t n, char *buf, size_t size)
{
	static const char ctl_in[] = "\a\b\f\n\r\t\v", ctl_out[] = "abfnrtv";
	struct qout q = {buf, size, 0};
	char tmp[16];

	qput(&q, "\"", 1);
	for (size_t i = 0, w; i < n; i += w) {
		uint32_t c;
		if (!(w = utf8_decode((const unsigned char *)s + i, n - i, &c))) {
			w = 1;
			qput(&q, tmp,
			     (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned char)s[i]));
		} else if (c == '"' || c == '\\') {
			qput(&q, "\\", 1);
			qput(&q, s + i, 1);
		} else if (go_is_print(c)) {
			qput(&q, s + i, w);
		} else if (c && strchr(ctl_in, (int)c)) {
			tmp[0] = '\\';
			tmp[1] = ctl_out[strchr(ctl_in, (int)c) - ctl_in];
			qput(&q, tmp, 2);
		} else {
			int k = c < ' ' || c == 0x7F
			                ? snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)c)
			        : c < 0x10000 ? snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c)
			                      : snprintf(tmp, sizeof(tmp), "\\U%08x", (unsigned)c);
			qput(&q, tmp, (size_t)k);
		}
	}
	qput(&q, "\"", 1);
	if (size)
		buf[q.len < size ? q.len : size - 1] = '\0';
	return q.len;
}

static int put_quoted(struct strbuf *b, const char *s, size_t n)
{
	size_t need = dfsyntax_quote(s, n, NULL, 0) + 1;
	char *tmp = malloc(need);
	int rc;

	if (!tmp)
		return -ENOMEM;
	dfsyntax_quote(s, n, tmp, need);
	rc = dfs_buf_put(b, tmp, need - 1);
	free(tmp);
	return rc;
}

static int dump_node(struct strbuf *b, const struct dfsyntax_node *n)
{
	int rc = dfs_buf_put(b, n->keyword, strlen(n->keyword));

	for (size_t i = 0; !rc && i < n->n_flags; i++)
		if (!(rc = dfs_buf_put(b, i ? " " : " [", i ? 1 : 2)))
			rc = put_quoted(b, n->flags[i], strlen(n->flags[i]));
	if (!rc && n->n_flags)
		rc = dfs_buf_put(b, "]", 1);
	for (size_t i = 0; !rc && i < n->n_args; i++)
		if (!(rc = dfs_buf_put(b, " ", 1)))
			rc = put_quoted(b, n->args[i], n->arg_lens[i]);
	if (!rc && n->sub) {
		if (!(rc = dfs_buf_put(b, " (", 2)) && !(rc = dump_node(b, n->sub)))
			rc = dfs_buf_put(b, ")", 1);
	}
	return rc;
}

int dfsyntax_dump(const struct dfsyntax *s, char **ret)
{
	struct strbuf b = {0};
	int rc = 0;

	for (size_t i = 0; !rc && i < s->n_nodes; i++)
		if (!(rc = dfs_buf_put(&b, "(", 1)) && !(rc = dump_node(&b, &s->nodes[i])))
			rc = dfs_buf_put(&b, ")\n", 2);
	if (!rc && !b.p)
		rc = dfs_buf_put(&b, "\n", 1);
	if (rc) {
		free(b.p);
		return rc;
	}
	*ret = b.p;
	return 0;
}
