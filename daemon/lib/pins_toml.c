/*
 * pins_toml — the TOML files that pin Python packages: pyproject.toml,
 * Pipfile and poetry.lock. A subset reader, enough for what these files
 * hold: [table] and [[array]] headers (dotted, quoted parts), key = value
 * with bare, quoted and dotted keys, basic and literal strings (multi-line
 * ones skipped), arrays over several lines, inline tables, and any other
 * scalar read as a word. What does not fit TOML's grammar is an error with
 * its line; a value of a shape we do not read is skipped.
 */
#include "pins_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pkgdb.h"

#define MAX_DEPTH 32
#define MAX_KEY   256
#define MAX_STR   1024

struct toml {
	const char *s;
	size_t n, i, bol; /* bol: where the current line begins */
	int line;
	enum pins_format f;
	const char *file;
	struct pins *p;
	char table[MAX_KEY];
	bool array_table;
	bool want_reqs; /* the array being read holds PEP 508 strings */
	/* poetry.lock: the [[package]] being read */
	char lk_name[MAX_STR], lk_version[MAX_STR];
	int lk_line, lk_col;
	char *err;
	size_t errlen;
};

/* A value as far as the pins care: a string, or an inline table's "version". */
struct tval {
	bool is_string, has_version;
	char str[MAX_STR], version[MAX_STR];
	int line, col;
};

static int fail(struct toml *t, const char *what)
{
	return pins_fail(t->err, t->errlen, t->line, -EINVAL, "%s", what);
}

static int peek(const struct toml *t)
{
	return t->i < t->n ? (unsigned char)t->s[t->i] : -1;
}

static void adv(struct toml *t)
{
	if (t->i < t->n && t->s[t->i++] == '\n') {
		t->line++;
		t->bol = t->i;
	}
}

static int col(const struct toml *t)
{
	return (int)(t->i - t->bol) + 1;
}

static void skip_blank(struct toml *t)
{
	while (peek(t) == ' ' || peek(t) == '\t')
		adv(t);
}

/* Blanks, newlines and comments (inside arrays and inline tables). */
static void skip_space(struct toml *t)
{
	for (;;) {
		int c = peek(t);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			adv(t);
		else if (c == '#')
			while (peek(t) >= 0 && peek(t) != '\n')
				adv(t);
		else
			return;
	}
}

static bool starts(const struct toml *t, const char *w)
{
	size_t m = strlen(w);
	return t->n - t->i >= m && !memcmp(t->s + t->i, w, m);
}

/* A multi-line string: skipped whole (no pin lives in one). */
static int skip_multiline(struct toml *t, const char *q)
{
	for (t->i += 3; t->i < t->n; adv(t))
		if (starts(t, q)) {
			t->i += 3;
			while (peek(t) == q[0]) /* up to two more quotes belong to it */
				t->i++;
			return 0;
		} else if (q[0] == '"' && peek(t) == '\\') {
			adv(t);
		}
	return fail(t, "unterminated multi-line string");
}

/* A basic or literal string into out (cut at MAX_STR - 1; escapes keep the escaped byte). */
static int string(struct toml *t, char *out)
{
	int q = peek(t);
	size_t k = 0;

	out[0] = '\0';
	if (starts(t, "\"\"\"") || starts(t, "'''"))
		return skip_multiline(t, q == '"' ? "\"\"\"" : "'''");
	for (adv(t);; adv(t)) {
		int c = peek(t);
		if (c < 0 || c == '\n')
			return fail(t, "unterminated string");
		if (c == q)
			break;
		if (c == '\\' && q == '"') {
			adv(t);
			c = peek(t);
			if (c < 0 || c == '\n')
				return fail(t, "unterminated string");
		}
		if (k < MAX_STR - 1)
			out[k++] = (char)c;
	}
	adv(t);
	out[k] = '\0';
	return 0;
}

static bool bare_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* A dotted key into out ("a.b.c", quotes dropped); *dotted when it has several parts. */
static int key(struct toml *t, char *out, bool *dotted)
{
	size_t k = 0;
	char part[MAX_STR];

	*dotted = false;
	for (;;) {
		size_t m = 0;
		skip_blank(t);
		if (peek(t) == '"' || peek(t) == '\'') {
			if (string(t, part) < 0)
				return -EINVAL;
			m = strlen(part);
		} else {
			while (bare_char(peek(t)) && m < sizeof(part) - 1) {
				part[m++] = (char)peek(t);
				adv(t);
			}
			part[m] = '\0';
			if (!m)
				return fail(t, "expected a key");
		}
		if (k + m + 2 < MAX_KEY) {
			k += (size_t)snprintf(out + k, MAX_KEY - k, "%s%s", k ? "." : "", part);
		}
		skip_blank(t);
		if (peek(t) != '.')
			return 0;
		*dotted = true;
		adv(t);
	}
}

static int value(struct toml *t, struct tval *v, int depth);

static int req_string(struct toml *t, const char *s, int line, int c)
{
	struct pins_req q;

	pins_req_spec(s, strlen(s), &q);
	if (!q.pinned)
		return 0;
	return pins_add(t->p, t->file, line, c + (int)q.name_at, PINS_PYPI, q.op, q.name,
	                q.version);
}

static int array(struct toml *t, int depth)
{
	int r = 0;

	adv(t); /* [ */
	for (;;) {
		struct tval v = {0};
		skip_space(t);
		if (peek(t) == ']')
			break;
		if ((r = value(t, &v, depth + 1)) < 0)
			return r;
		if (v.is_string && t->want_reqs &&
		    (r = req_string(t, v.str, v.line, v.col + 1)) < 0)
			return r;
		skip_space(t);
		if (peek(t) == ',')
			adv(t);
		else if (peek(t) != ']')
			return fail(t, "expected , or ] in an array");
	}
	adv(t);
	return 0;
}

static int inline_table(struct toml *t, struct tval *v, int depth)
{
	bool reqs = t->want_reqs;
	int r = 0;

	t->want_reqs = false;
	adv(t); /* { */
	for (;;) {
		char k[MAX_KEY];
		struct tval x = {0};
		bool dotted;
		skip_space(t);
		if (peek(t) == '}')
			break;
		if ((r = key(t, k, &dotted)) < 0)
			return r;
		if (peek(t) != '=')
			return fail(t, "expected = in an inline table");
		adv(t);
		skip_blank(t);
		if ((r = value(t, &x, depth + 1)) < 0)
			return r;
		if (!strcmp(k, "version") && x.is_string) {
			v->has_version = true;
			memcpy(v->version, x.str, sizeof(v->version));
		}
		skip_space(t);
		if (peek(t) == ',')
			adv(t);
		else if (peek(t) != '}')
			return fail(t, "expected , or } in an inline table");
	}
	adv(t);
	t->want_reqs = reqs;
	return 0;
}

static int value(struct toml *t, struct tval *v, int depth)
{
	int c = peek(t);

	if (depth > MAX_DEPTH)
		return fail(t, "values nested too deep");
	v->line = t->line;
	v->col = col(t);
	if (c == '"' || c == '\'') {
		v->is_string = !starts(t, "\"\"\"") && !starts(t, "'''");
		return string(t, v->str);
	}
	if (c == '[')
		return array(t, depth);
	if (c == '{')
		return inline_table(t, v, depth);
	if (c < 0 || c == '\n' || c == '#' || c == ',' || c == ']' || c == '}')
		return fail(t, "expected a value");
	while ((c = peek(t)) >= 0 && !strchr(",]}#\n", c)) /* number, bool, date */
		adv(t);
	return 0;
}

static bool in_poetry_deps(const char *tb)
{
	size_t n = strlen(tb);

	if (!strcmp(tb, "tool.poetry.dependencies") || !strcmp(tb, "tool.poetry.dev-dependencies"))
		return true;
	return !strncmp(tb, "tool.poetry.group.", 18) && n > 31 &&
	       !strcmp(tb + n - 13, ".dependencies");
}

/* Whether the array at key k of the current table lists PEP 508 requirements. */
static bool lists_reqs(const struct toml *t, const char *k)
{
	if (t->f != PINS_PYPROJECT)
		return false;
	return (!strcmp(t->table, "project") && !strcmp(k, "dependencies")) ||
	       !strcmp(t->table, "project.optional-dependencies") ||
	       !strcmp(t->table, "dependency-groups");
}

/* A "name = constraint" table: poetry's dependencies, Pipfile's packages. */
static bool name_table(const struct toml *t)
{
	if (t->f == PINS_PYPROJECT)
		return in_poetry_deps(t->table);
	return t->f == PINS_PIPFILE &&
	       (!strcmp(t->table, "packages") || !strcmp(t->table, "dev-packages"));
}

/* name = "1.2.3" (poetry: exact), "==1.2.3", "~=1.2" or { version = ... }. */
static int name_pin(struct toml *t, const char *k, const struct tval *v, int line, int c)
{
	const char *cons = v->has_version ? v->version : v->is_string ? v->str : NULL;
	char req[MAX_KEY + MAX_STR + 4];
	struct pins_req q;

	if (!cons || !strcmp(k, "python"))
		return 0;
	while (*cons == ' ')
		cons++;
	snprintf(req, sizeof(req), "%s%s%s", k,
	         t->f == PINS_PYPROJECT && *cons >= '0' && *cons <= '9' ? "==" : "", cons);
	pins_req_spec(req, strlen(req), &q);
	if (!q.pinned)
		return 0;
	return pins_add(t->p, t->file, line, c, PINS_PYPI, q.op, q.name, q.version);
}

/* poetry.lock: the [[package]] just read, when it named both. */
static int lock_flush(struct toml *t)
{
	char name[PINS_MAX_NAME];
	int r = 0;

	if (t->lk_name[0] && t->lk_version[0] && strlen(t->lk_version) < PINS_MAX_VERSION &&
	    pkgdb_pep503(t->lk_name, name, sizeof(name)))
		r = pins_add(t->p, t->file, t->lk_line, t->lk_col, PINS_PYPI, PINS_EXACT, name,
		             t->lk_version);
	t->lk_name[0] = t->lk_version[0] = '\0';
	return r;
}

static int key_value(struct toml *t)
{
	char k[MAX_KEY];
	struct tval v = {0};
	int line = t->line, c = col(t), r;
	bool dotted;

	if ((r = key(t, k, &dotted)) < 0)
		return r;
	if (peek(t) != '=')
		return fail(t, "expected =");
	adv(t);
	skip_blank(t);
	t->want_reqs = !dotted && lists_reqs(t, k);
	r = value(t, &v, 0);
	t->want_reqs = false;
	if (r < 0 || dotted)
		return r;
	if (name_table(t))
		return name_pin(t, k, &v, line, c);
	if (t->f == PINS_POETRY_LOCK && t->array_table && !strcmp(t->table, "package") &&
	    v.is_string) {
		if (!strcmp(k, "name"))
			memcpy(t->lk_name, v.str, sizeof(v.str));
		else if (!strcmp(k, "version")) {
			memcpy(t->lk_version, v.str, sizeof(v.str));
			t->lk_line = line;
			t->lk_col = c;
		}
	}
	return 0;
}

static int header(struct toml *t)
{
	bool dotted;
	int r = t->f == PINS_POETRY_LOCK ? lock_flush(t) : 0;

	if (r < 0)
		return r;
	adv(t);
	t->array_table = peek(t) == '[';
	if (t->array_table)
		adv(t);
	if ((r = key(t, t->table, &dotted)) < 0)
		return r;
	for (int k = t->array_table ? 2 : 1; k > 0; k--) {
		if (peek(t) != ']')
			return fail(t, "expected ] after a table name");
		adv(t);
	}
	return 0;
}

/* The end of a statement: blanks, a comment, then the end of the line. */
static int line_end(struct toml *t)
{
	skip_blank(t);
	if (peek(t) == '#')
		while (peek(t) >= 0 && peek(t) != '\n')
			adv(t);
	if (peek(t) == '\r')
		adv(t);
	if (peek(t) >= 0 && peek(t) != '\n')
		return fail(t, "unexpected text after a value");
	adv(t);
	return 0;
}

int pins_parse_toml(enum pins_format f, const char *file, const char *text, size_t len,
                    struct pins *p, char *err, size_t errlen)
{
	struct toml t = {.s = text,
	                 .n = len,
	                 .line = 1,
	                 .f = f,
	                 .file = file,
	                 .p = p,
	                 .err = err,
	                 .errlen = errlen};
	int r = 0;

	while (r == 0 && t.i < t.n) {
		skip_blank(&t);
		if (peek(&t) == '[')
			r = header(&t);
		else if (peek(&t) != '#' && peek(&t) != '\n' && peek(&t) != '\r' && peek(&t) >= 0)
			r = key_value(&t);
		if (r == 0)
			r = line_end(&t);
	}
	if (r == 0 && f == PINS_POETRY_LOCK)
		r = lock_flush(&t);
	return r;
}
