/*
 * dfsyntax — BuildKit's Dockerfile parser, re-implemented from its
 * behaviour (parser.go, line_parsers.go, split_command.go, directives.go of
 * moby/buildkit) and proven against its testfiles (see test_dockerfile.c).
 *
 * The file is read one physical line at a time. A logical line is the first
 * line plus its continuation lines; comment lines inside a continuation are
 * dropped and blank ones counted (BuildKit warns about them). The logical
 * line is split into keyword, builder flags and the rest, and the rest is
 * shaped by the instruction's line parser. Heredoc bodies follow the
 * logical line. Everything lives in one arena.
 */
#include "dfsyntax.h"

#include "arena.h"
#include "array.h"
#include "dfsyntax_impl.h"
#include "shellword.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MAX   (64u * 1024 * 1024)
#define MAX_ONBUILD 4 /* ONBUILD ONBUILD ... nesting the parser accepts */

struct parser {
	const char *text;
	size_t len, pos;
	int line_no;
	struct dfsyntax *s;
	struct arena *a;
	bool dir_done, seen[3];
	struct strbuf buf;
	struct dfs_vec vec;
	struct dfsyntax_node *nodes;
	size_t n, cap;
	char *err;
	size_t errlen;
	char msg[512]; /* a line parser's message, before its line number */
};

static const char *const directive_names[] = {"escape", "syntax", "check"};

int dfs_fail(char *err, size_t errlen, int line, int rc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!err || !errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, errlen, "line %d: %s", line, msg);
	else
		snprintf(err, errlen, "%s", msg);
	return rc;
}

#define FAIL(p, line, rc, ...) dfs_fail((p)->err, (p)->errlen, (line), (rc), __VA_ARGS__)

int dfs_buf_put(struct strbuf *b, const char *s, size_t n)
{
	return strbuf_put(b, s, n, DFSYNTAX_MAX_FILE * 2);
}

int dfs_vec_push(struct arena *a, struct dfs_vec *v, const char *s, size_t n)
{
	char *copy = arena_strndup(a, s, n);

	if (!copy)
		return -ENOMEM;
	if (v->n >= DFS_VEC_MAX)
		return -E2BIG;
	if (v->n + 1 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		const char **q = realloc(v->v, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		v->v = q;
		size_t *l = realloc(v->lens, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		v->lens = l;
		v->cap = cap;
	}
	v->lens[v->n] = n;
	v->v[v->n++] = copy;
	return 0;
}

/* Copies the vector into the arena and empties it. */
static int vec_commit(struct parser *p, const char *const **ret, const size_t **ret_lens,
                      size_t *ret_n)
{
	const char **v = NULL;
	size_t *l = NULL;

	if (p->vec.n) {
		v = arena_alloc(p->a, p->vec.n * sizeof(*v));
		l = arena_alloc(p->a, p->vec.n * sizeof(*l));
		if (!v || !l)
			return -ENOMEM;
		memcpy(v, p->vec.v, p->vec.n * sizeof(*v));
		memcpy(l, p->vec.lens, p->vec.n * sizeof(*l));
	}
	*ret = v;
	if (ret_lens)
		*ret_lens = l;
	*ret_n = p->vec.n;
	p->vec.n = 0;
	return 0;
}

/* ---- whitespace as Go sees it ---- */

bool dfs_byte_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0;
}

bool dfs_tok_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

struct dfs_span dfs_trim_left(struct dfs_span t)
{
	size_t k;

	while (t.n && (k = shellword_space_len(t.p, t.n))) {
		t.p += k;
		t.n -= k;
	}
	return t;
}

/* Length of a Unicode space ending at s[n-1], 0 if none. */
static size_t space_before(const char *s, size_t n)
{
	for (size_t k = 1; k <= 3 && k <= n; k++)
		if (shellword_space_len(s + n - k, k) == k)
			return k;
	return 0;
}

struct dfs_span dfs_trim(struct dfs_span t)
{
	size_t k;

	t = dfs_trim_left(t);
	while (t.n && (k = space_before(t.p, t.n)))
		t.n -= k;
	return t;
}

/* ---- physical lines ---- */

/* Next physical line with its '\n'; 1 read, 0 end of input, <0 error. */
static int read_line(struct parser *p, struct dfs_span *ret)
{
	if (p->pos >= p->len)
		return 0;
	const char *s = p->text + p->pos;
	const char *nl = memchr(s, '\n', p->len - p->pos);
	size_t n = nl ? (size_t)(nl - s) + 1 : p->len - p->pos;

	if (n - (nl != NULL) > DFSYNTAX_MAX_LINE)
		return FAIL(p, p->line_no + 1, -E2BIG,
		            "dockerfile line greater than max allowed size of %d",
		            DFSYNTAX_MAX_LINE);
	p->pos += n;
	ret->p = s;
	ret->n = n;
	return 1;
}

static struct dfs_span trim_newline(struct dfs_span t)
{
	while (t.n && (t.p[t.n - 1] == '\n' || t.p[t.n - 1] == '\r'))
		t.n--;
	return t;
}

static bool is_comment(struct dfs_span raw)
{
	raw = dfs_trim_left(trim_newline(raw));
	return raw.n && raw.p[0] == '#';
}

/* ---- parser directives: ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ ---- */

static bool re_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool match_directive(struct dfs_span t, struct dfs_span *name, struct dfs_span *value)
{
	size_t i = 1, k;

	if (!t.n || t.p[0] != '#')
		return false;
	while (i < t.n && re_space(t.p[i]))
		i++;
	name->p = t.p + i;
	k = i;
	while (i < t.n && (((t.p[i] | 0x20) >= 'a' && (t.p[i] | 0x20) <= 'z') ||
	                   (i > k && t.p[i] >= '0' && t.p[i] <= '9')))
		i++;
	name->n = i - k;
	while (i < t.n && re_space(t.p[i]))
		i++;
	if (!name->n || i >= t.n || t.p[i] != '=')
		return false;
	for (k = ++i; i < t.n && re_space(t.p[i]);)
		i++;
	if (k == t.n)
		return false;
	value->p = t.p + i;
	value->n = t.n - i;
	while (value->n && re_space(value->p[value->n - 1]))
		value->n--;
	if (!value->n) { /* all blanks: the lazy (.+?) takes the last one */
		value->p = t.p + t.n - 1;
		value->n = 1;
	}
	return true;
}

static int possible_directive(struct parser *p, struct dfs_span t)
{
	struct dfs_span name, value;
	size_t d;

	if (p->dir_done)
		return 0;
	if (!match_directive(t, &name, &value)) {
		p->dir_done = true;
		return 0;
	}
	for (d = 0; d < 3; d++)
		if (strlen(directive_names[d]) == name.n &&
		    !strncasecmp(directive_names[d], name.p, name.n))
			break;
	if (d == 3) {
		p->dir_done = true;
		return 0;
	}
	if (p->seen[d])
		return FAIL(p, p->line_no + 1, -EINVAL, "only one %s parser directive can be used",
		            directive_names[d]);
	p->seen[d] = true;
	if (d == 0) {
		if (value.n != 1 || (value.p[0] != '`' && value.p[0] != '\\'))
			return FAIL(p, p->line_no + 1, -EINVAL,
			            "invalid escape token '%.*s' does not match ` or \\",
			            (int)value.n, value.p);
		p->s->escape = value.p[0];
	}
	return 0;
}

/* BuildKit's processLine: newline trimmed, leading blanks too on a first
 * line, directives looked for, and a line starting with '#' emptied. */
static int process_line(struct parser *p, struct dfs_span raw, bool first, struct dfs_span *ret)
{
	struct dfs_span t = trim_newline(raw);
	int rc;

	if (first)
		t = dfs_trim_left(t);
	if ((rc = possible_directive(p, t)))
		return rc;
	if (t.n && t.p[0] == '#')
		t.n = 0;
	*ret = t;
	return 0;
}

/* Strips a trailing escape character (and the blanks after it) unless it is
 * itself escaped; returns true when the line does NOT continue. */
static bool trim_continuation(const struct parser *p, struct dfs_span *t)
{
	size_t m = t->n;

	while (m && (t->p[m - 1] == ' ' || t->p[m - 1] == '\t'))
		m--;
	if (!m || t->p[m - 1] != p->s->escape || (m >= 2 && t->p[m - 2] == p->s->escape))
		return true;
	t->n = m - 1;
	return false;
}

/* ---- instructions ---- */

static int put_byte_rune(struct strbuf *w, unsigned char ch)
{
	char two[2] = {(char)(0xC0 | (ch >> 6)), (char)(0x80 | (ch & 0x3F))};

	return ch < 0x80 ? dfs_buf_put(w, (const char *)&ch, 1) : dfs_buf_put(w, two, 2);
}

/* One "--flag" word from line.p[i]: quotes dropped, backslash escapes. Returns
 * the index of the blank that ended it; *end when the line ended instead. */
static size_t flag_word(struct dfs_span line, size_t i, struct strbuf *w, bool *blank_ok, bool *end,
                        int *rc)
{
	char quote = 0;

	for (; !*rc && i < line.n; i++) {
		unsigned char ch = (unsigned char)line.p[i];
		if (!quote && dfs_byte_space(ch))
			return i;
		if (!quote && (ch == '\'' || ch == '"')) {
			quote = (char)ch;
			*blank_ok = true;
			continue;
		}
		if (quote && ch == (unsigned char)quote) {
			quote = 0;
			continue;
		}
		if (ch == '\\') {
			if (i + 1 == line.n) {
				quote = 0;
				continue;
			}
			ch = (unsigned char)line.p[++i];
		}
		*rc = put_byte_rune(w, ch);
	}
	*end = true;
	return i;
}

/* BuildKit's extractBuilderFlags: leading --words, quotes removed; a byte
 * >= 0x80 is widened to a rune as Go's string(rune(b)) does. */
static int extract_flags(struct parser *p, struct dfs_span line, struct dfs_span *rest)
{
	struct strbuf *w = &p->buf;
	size_t save = w->len, i = 0;
	int rc = 0;

	rest->p = line.p + line.n;
	rest->n = 0;
	while (!rc) {
		while (i < line.n && dfs_byte_space((unsigned char)line.p[i]))
			i++;
		if (i >= line.n)
			break;
		if (line.p[i] != '-' || i + 1 >= line.n || line.p[i + 1] != '-') {
			rest->p = line.p + i;
			rest->n = line.n - i;
			break;
		}
		w->len = save;
		bool blank_ok = false, end = false;
		i = flag_word(line, i, w, &blank_ok, &end, &rc);
		if (rc)
			break;
		size_t wl = w->len - save;
		if (wl == 2 && !memcmp(w->p + save, "--", 2)) {
			if (!end) {
				rest->p = line.p + i;
				rest->n = line.n - i;
			}
			break;
		}
		if (blank_ok || wl)
			rc = dfs_vec_push(p->a, &p->vec, w->p + save, wl);
		if (end)
			break;
	}
	w->len = save;
	return rc;
}

static int new_node(struct parser *p, struct dfs_span line, int depth, struct dfsyntax_node *n);

static int parse_sub(struct parser *p, struct dfs_span rest, int depth, struct dfsyntax_node *n)
{
	struct dfsyntax_node *sub;
	int rc;

	if (!rest.n)
		return 0;
	if (depth >= MAX_ONBUILD)
		return -ELOOP;
	if (!(sub = arena_alloc(p->a, sizeof(*sub))))
		return -ENOMEM;
	if ((rc = new_node(p, rest, depth + 1, sub)))
		return rc;
	n->sub = sub;
	p->vec.n = 0;
	return 0;
}

static int new_node(struct parser *p, struct dfs_span line, int depth, struct dfsyntax_node *n)
{
	struct dfs_span t = dfs_trim(line), cmd = t, rest = {t.p + t.n, 0};
	char *kw;
	int rc;

	for (cmd.n = 0; cmd.n < t.n && !dfs_tok_space(t.p[cmd.n]);)
		cmd.n++;
	if (!(kw = arena_strndup(p->a, cmd.p, cmd.n)) ||
	    !(n->line = arena_strndup(p->a, line.p, line.n)))
		return -ENOMEM;
	for (char *c = kw; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	n->keyword = kw;
	p->vec.n = 0;
	if (cmd.n < t.n) {
		size_t j = cmd.n;
		while (j < t.n && dfs_tok_space(t.p[j]))
			j++;
		struct dfs_span after = {t.p + j, t.n - j};
		if ((rc = extract_flags(p, after, &rest)))
			return rc;
		rest = dfs_trim(rest);
	}
	if ((rc = vec_commit(p, &n->flags, NULL, &n->n_flags)))
		return rc;
	if (!strcmp(kw, "onbuild"))
		rc = parse_sub(p, rest, depth, n);
	else
		rc = dfs_line_parse(p->a, &p->vec, kw, rest, p->s->escape, &n->json, p->msg,
		                    sizeof(p->msg));
	if (rc)
		return rc;
	return vec_commit(p, &n->args, &n->arg_lens, &n->n_args);
}

/* ---- heredocs ---- */

static bool can_contain_heredoc(const struct dfsyntax_node *n)
{
	if (!strcmp(n->keyword, "onbuild") && n->sub)
		n = n->sub;
	return !n->json && (!strcmp(n->keyword, "run") || !strcmp(n->keyword, "copy") ||
	                    !strcmp(n->keyword, "add"));
}

static int read_heredoc(struct parser *p, struct dfsyntax_heredoc *h, int start)
{
	size_t nlen = strlen(h->name), save = p->buf.len;
	struct dfs_span raw;
	int rc;

	while ((rc = read_line(p, &raw)) > 0) {
		p->line_no++;
		struct dfs_span t = trim_newline(raw);
		if (h->chomp)
			while (t.n && t.p[0] == '\t') {
				t.p++;
				t.n--;
			}
		if (t.n == nlen && !memcmp(t.p, h->name, nlen)) {
			h->content = arena_strndup(p->a, p->buf.p ? p->buf.p + save : "",
			                           p->buf.len - save);
			p->buf.len = save;
			return h->content ? 0 : -ENOMEM;
		}
		if ((rc = dfs_buf_put(&p->buf, raw.p, raw.n)))
			return rc;
	}
	p->buf.len = save;
	return rc < 0 ? rc : FAIL(p, start, -EINVAL, "unterminated heredoc");
}

static int read_heredocs(struct parser *p, struct dfsyntax_node *n, int start)
{
	struct dfsyntax_heredoc hd[DFSYNTAX_MAX_HEREDOCS];
	size_t nh = 0;
	int rc;

	if (!can_contain_heredoc(n) || !strstr(n->line, "<<"))
		return 0;
	rc = dfs_heredocs_from_line(p->a, n->line, hd, &nh, p->msg, sizeof(p->msg));
	if (rc)
		return rc == -EINVAL ? FAIL(p, start, rc, "%s", p->msg) : rc;
	for (size_t i = 0; i < nh; i++)
		if ((rc = read_heredoc(p, &hd[i], start)))
			return rc;
	if (nh) {
		struct dfsyntax_heredoc *v = arena_alloc(p->a, nh * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, hd, nh * sizeof(*v));
		n->heredocs = v;
		n->n_heredocs = nh;
	}
	return 0;
}

static int add_node(struct parser *p, int start)
{
	struct dfsyntax_node n = {0};
	struct dfs_span line;
	int rc;

	if (p->n >= DFSYNTAX_MAX_NODES)
		return FAIL(p, start, -E2BIG, "more than %d instructions", DFSYNTAX_MAX_NODES);
	if (!(line.p = arena_strndup(p->a, p->buf.p ? p->buf.p : "", p->buf.len)))
		return -ENOMEM;
	line.n = p->buf.len;
	p->buf.len = 0;
	rc = new_node(p, line, 0, &n);
	if (rc == -ELOOP)
		return FAIL(p, start, -EINVAL, "ONBUILD nested more than %d deep", MAX_ONBUILD);
	if (rc == -EINVAL)
		return FAIL(p, start, rc, "%s", p->msg);
	if (rc || (rc = read_heredocs(p, &n, start)))
		return rc;
	n.start_line = start;
	n.end_line = p->line_no;
	if (ARRAY_GROW(p->nodes, p->cap, p->n, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	p->nodes[p->n++] = n;
	return 0;
}

/* One logical line: the first physical line and its continuations. */
static int logical_line(struct parser *p, struct dfs_span t, bool *ret_skip)
{
	bool eol = trim_continuation(p, &t), empty = false;
	struct dfs_span raw;
	int rc;

	*ret_skip = eol && !t.n;
	if (*ret_skip)
		return 0;
	p->buf.len = 0;
	if ((rc = dfs_buf_put(&p->buf, t.p, t.n)))
		return rc;
	while (!eol && (rc = read_line(p, &raw)) > 0) {
		if ((rc = process_line(p, raw, false, &t)))
			return rc;
		p->line_no++;
		if (is_comment(raw))
			continue;
		if (!dfs_trim_left(t).n) {
			empty = true;
			continue;
		}
		eol = trim_continuation(p, &t);
		if ((rc = dfs_buf_put(&p->buf, t.p, t.n)))
			return rc;
	}
	p->s->empty_continuations += empty;
	return rc < 0 ? rc : 0;
}

static int parse_all(struct parser *p)
{
	struct dfs_span raw, t;
	bool skip;
	int rc;

	while ((rc = read_line(p, &raw)) > 0) {
		if (p->line_no == 0 && raw.n >= 3 && !memcmp(raw.p, "\xEF\xBB\xBF", 3)) {
			raw.p += 3;
			raw.n -= 3;
		}
		if ((rc = process_line(p, raw, true, &t)))
			return rc;
		int start = ++p->line_no;
		if ((rc = logical_line(p, t, &skip)))
			return rc;
		if (!skip && (rc = add_node(p, start)))
			return rc;
	}
	if (rc < 0)
		return rc;
	if (!p->n)
		return FAIL(p, p->line_no, -EINVAL, "file with no instructions");
	return 0;
}

/* The image of a syntax= value: up to the first space (DetectSyntax's SplitN). */
static const char *syntax_image(struct dfsyntax *s, struct dfs_span value)
{
	size_t k = 0;

	while (k < value.n && value.p[k] != ' ')
		k++;
	return arena_strndup(s->arena, value.p, k);
}

/* DetectSyntax: "# syntax=" among the directives, after an optional BOM and
 * #! line; the value up to the first space. */
static void detect_syntax(struct dfsyntax *s, const char *text, size_t len)
{
	struct dfs_span t = {text, len}, name, value;
	int line = 1;

	if (t.n >= 3 && !memcmp(t.p, "\xEF\xBB\xBF", 3)) {
		t.p += 3;
		t.n -= 3;
	}
	for (bool first = true; t.n; first = false, line++) {
		const char *nl = memchr(t.p, '\n', t.n);
		struct dfs_span l = {t.p, nl ? (size_t)(nl - t.p) : t.n};
		t.p += l.n + (nl != NULL);
		t.n -= l.n + (nl != NULL);
		if (first && l.n >= 2 && !memcmp(l.p, "#!", 2))
			continue;
		if (!match_directive(l, &name, &value))
			return;
		bool known = false;
		for (size_t d = 0; d < 3; d++)
			known |= strlen(directive_names[d]) == name.n &&
			         !strncasecmp(directive_names[d], name.p, name.n);
		if (!known)
			return;
		if (name.n == 6 && !strncasecmp(name.p, "syntax", 6)) {
			s->syntax = syntax_image(s, value);
			s->syntax_line = line;
			return;
		}
	}
}

/* BuildKit 0.8's DetectSyntax (dockerfile2llb/directives.go, measured on dockerd 20.10.24):
 * every line from the first on that matches the directive pattern, whatever its key,
 * until one does not; the last syntax= wins. */
static void detect_syntax_v08(struct dfsyntax *s, const char *text, size_t len)
{
	struct dfs_span t = {text, len}, name, value;

	for (int line = 1; t.n; line++) {
		const char *nl = memchr(t.p, '\n', t.n);
		struct dfs_span l = {t.p, nl ? (size_t)(nl - t.p) : t.n};
		t.p += l.n + (nl != NULL);
		t.n -= l.n + (nl != NULL);
		if (l.n && l.p[l.n - 1] == '\r') /* bufio.ScanLines */
			l.n--;
		if (!match_directive(l, &name, &value))
			return;
		if (name.n == 6 && !strncasecmp(name.p, "syntax", 6)) {
			s->syntax_v08 = syntax_image(s, value);
			s->syntax_v08_line = line;
		}
	}
}

int dfsyntax_parse(const char *text, size_t len, struct dfsyntax **ret, char *err, size_t errlen)
{
	struct parser p = {.text = text, .len = len, .err = err, .errlen = errlen};
	int rc;

	if (len > DFSYNTAX_MAX_FILE)
		return dfs_fail(err, errlen, 0, -E2BIG, "Dockerfile larger than %d bytes",
		                DFSYNTAX_MAX_FILE);
	if (!(p.s = calloc(1, sizeof(*p.s))) || !(p.s->arena = p.a = arena_new(ARENA_MAX))) {
		rc = -ENOMEM;
		goto out;
	}
	p.s->escape = '\\';
	rc = parse_all(&p);
	if (!rc) {
		detect_syntax(p.s, text, len);
		detect_syntax_v08(p.s, text, len);
		struct dfsyntax_node *v = arena_alloc(p.a, p.n * sizeof(*v));
		if (v) {
			memcpy(v, p.nodes, p.n * sizeof(*v));
			p.s->nodes = v;
			p.s->n_nodes = p.n;
		} else {
			rc = -ENOMEM;
		}
	}
out:
	if (rc == -ENOMEM)
		dfs_fail(err, errlen, 0, rc, "out of memory");
	else if (rc == -E2BIG && err && !*err)
		dfs_fail(err, errlen, 0, rc, "Dockerfile too large");
	free(p.buf.p);
	free(p.vec.v);
	free(p.vec.lens);
	free(p.nodes);
	if (rc) {
		dfsyntax_free(p.s);
		return rc;
	}
	*ret = p.s;
	return 0;
}

void dfsyntax_free(struct dfsyntax *s)
{
	if (!s)
		return;
	arena_free(s->arena);
	free(s);
}
