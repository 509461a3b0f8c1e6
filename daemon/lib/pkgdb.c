/*
 * pkgdb — parsers of the package databases read out of an image (see
 * pkgdb.h). Every parser walks (buf, len) line by line with one iterator and
 * keeps spans into the buffer; values are copied, checked, into
 * NUL-terminated stack buffers only when a package is reported.
 */
#include "pkgdb.h"
#include "errf.h"
#include "pkgdb_impl.h"
#include "version.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define DIRNAME_MAX (PKGDB_NAME_MAX + VERSION_MAX_LEN + 64)

/* ---- lines, spans, tokens ---- */

/* A value inside the buffer; p == NULL when the field was absent. */
struct span {
	const char *p;
	size_t n, line;
};

/* Returns the next line without its "\n" or "\r\n"; false at the end. */
bool pkgdb_next_line(struct lines *it, const char **ret, size_t *ret_n)
{
	const char *p, *nl;
	size_t n;

	if (!it->buf || it->pos >= it->len)
		return false;
	p = it->buf + it->pos;
	nl = memchr(p, '\n', it->len - it->pos);
	n = nl ? (size_t)(nl - p) : it->len - it->pos;
	it->pos += n + (nl != NULL);
	it->no++;
	if (n && p[n - 1] == '\r')
		n--;
	*ret = p;
	*ret_n = n;
	return true;
}

static bool is_blank_char(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_blank_char(p[i]))
			return false;
	return true;
}

void pkgdb_trim(const char **p, size_t *n)
{
	while (*n && is_blank_char(**p))
		(*p)++, (*n)--;
	while (*n && is_blank_char((*p)[*n - 1]))
		(*n)--;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool pkgdb_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool pkgdb_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Case-insensitive comparison of the span (p, n) with the string key. */
static bool key_eq(const char *p, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n && key[i]; i++)
		if (lower((unsigned char)p[i]) != lower((unsigned char)key[i]))
			return false;
	return i == n && !key[i];
}

/* Why (p, n) cannot be a name or version of at most max bytes, or NULL. */
static const char *token_problem(const char *p, size_t n, size_t max)
{
	if (!n)
		return "is empty";
	if (n > max)
		return "is too long";
	/* names and versions are ASCII in every ecosystem; this keeps them fit for JSON */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return "has a byte that is not printable ASCII";
	return NULL;
}

/* Copies a token checked by token_problem() into dst (max + 1 bytes). */
static void copy_token(char *dst, const char *p, size_t n)
{
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* Reports one package, enforcing PKGDB_MAX_PKGS. */
static int emit(pkgdb_cb cb, void *arg, const struct pkgdb_pkg *p, int *count, size_t line,
                char *err, size_t errlen)
{
	int r;

	if (*count >= PKGDB_MAX_PKGS) {
		errf(err, errlen, 0, "line %zu: more than %d packages", line, PKGDB_MAX_PKGS);
		return -E2BIG;
	}
	r = cb(p, arg);
	if (r < 0)
		return r;
	(*count)++;
	return 0;
}

/*
 * dpkg and apk share the shape: stanzas of field lines, a blank line (or
 * the end) closing each. line() takes a non-blank line, end() reports the
 * stanza's package, if any, and resets the state.
 */
struct stanza_ops {
	void *state;
	int (*line)(void *state, const char *l, size_t n, size_t no, char *err, size_t errlen);
	int (*end)(void *state, pkgdb_cb cb, void *arg, int *count, char *err, size_t errlen);
};

static int stanzas_each(const char *buf, size_t len, const struct stanza_ops *ops, pkgdb_cb cb,
                        void *arg, char *err, size_t errlen)
{
	struct lines it = {buf, len, 0, 0};
	const char *l;
	size_t n;
	int r, count = 0;

	if ((!buf && len) || !cb)
		return -EINVAL;
	while (pkgdb_next_line(&it, &l, &n)) {
		if (is_blank(l, n))
			r = ops->end(ops->state, cb, arg, &count, err, errlen);
		else
			r = ops->line(ops->state, l, n, it.no, err, errlen);
		if (r < 0)
			return r;
	}
	r = ops->end(ops->state, cb, arg, &count, err, errlen);
	return r < 0 ? r : count;
}

/* ---- PEP 503 ---- */

/*
 * Normalises the PEP 508 name (p, n) into out (cap bytes with the NUL).
 * Returns the length, 0 when invalid or too long for PKGDB_NAME_MAX or cap.
 */
static size_t pep503n(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (!n || n > PKGDB_NAME_MAX || !pkgdb_is_alnum(p[0]) || !pkgdb_is_alnum(p[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		bool sep = p[i] == '-' || p[i] == '_' || p[i] == '.';

		if (!sep && !pkgdb_is_alnum(p[i]))
			return 0;
		if (sep && o && out[o - 1] == '-')
			continue; /* a run of separators is one '-' */
		if (o + 1 >= cap)
			return 0;
		out[o++] = sep ? '-' : (char)lower((unsigned char)p[i]);
	}
	out[o] = '\0';
	return o;
}

size_t pkgdb_pep503(const char *name, char *out, size_t n)
{
	if (!name || !out)
		return 0;
	return pep503n(name, strnlen(name, PKGDB_NAME_MAX + 1), out, n);
}

/* ---- dpkg ---- */

struct dpkg_stanza {
	struct span pkg, ver, status, src, arch;
	size_t first;      /* line of the first field, 0 before it */
	struct span *last; /* the field a continuation line would extend */
};

static struct span *dpkg_field(struct dpkg_stanza *s, const char *p, size_t n)
{
	if (key_eq(p, n, "Package"))
		return &s->pkg;
	if (key_eq(p, n, "Version"))
		return &s->ver;
	if (key_eq(p, n, "Status"))
		return &s->status;
	if (key_eq(p, n, "Source"))
		return &s->src;
	if (key_eq(p, n, "Architecture"))
		return &s->arch;
	return NULL;
}

/* One non-blank line of a stanza: "Field: value" or a continuation. */
static int dpkg_line(void *state, const char *l, size_t n, size_t no, char *err, size_t errlen)
{
	struct dpkg_stanza *s = state;
	const char *colon;
	struct span *f;

	if (is_blank_char(l[0])) {
		if (!s->first || s->last) {
			errf(err, errlen, 0, "line %zu: unexpected continuation line", no);
			return -EINVAL;
		}
		return 0; /* Description, Conffiles...: not ours */
	}
	colon = memchr(l, ':', n);
	if (!colon || colon == l || memchr(l, ' ', (size_t)(colon - l)) ||
	    memchr(l, '\t', (size_t)(colon - l))) {
		errf(err, errlen, 0, "line %zu: expected 'Field: value'", no);
		return -EINVAL;
	}
	f = dpkg_field(s, l, (size_t)(colon - l));
	if (!s->first)
		s->first = no;
	s->last = f;
	if (!f)
		return 0;
	if (f->p) {
		errf(err, errlen, 0, "line %zu:1: duplicate field %.*s", no, (int)(colon - l), l);
		return -EINVAL;
	}
	f->p = colon + 1;
	f->n = n - (size_t)(colon + 1 - l);
	f->line = no;
	pkgdb_trim(&f->p, &f->n);
	return 0;
}

/* 1 when the Status value says the package's files are installed, 0 not, <0 malformed. */
static int dpkg_installed(const struct span *st, char *err, size_t errlen)
{
	static const char *const no[] = {"not-installed", "config-files", "half-installed",
	                                 "unpacked", "half-configured"};
	static const char *const yes[] = {"installed", "triggers-awaited", "triggers-pending"};
	const char *p = st->p, *w = NULL;
	size_t n = st->n, words = 0, wn = 0;

	for (size_t i = 0; i < n; i++) {
		if (is_blank_char(p[i]))
			continue;
		if (++words == 3)
			w = p + i;
		while (i + 1 < n && !is_blank_char(p[i + 1]))
			i++;
		if (words == 3)
			wn = (size_t)(p + i + 1 - w);
	}
	if (words != 3) {
		errf(err, errlen, 0, "line %zu: Status needs three words", st->line);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (key_eq(w, wn, yes[i]))
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (key_eq(w, wn, no[i]))
			return 0;
	errf(err, errlen, 0, "line %zu: unknown package state in Status", st->line);
	return -EINVAL;
}

/* Splits Source "name" or "name (version)"; *ret_ver is left alone without one. */
static int dpkg_source(const struct span *src, struct span *ret_name, struct span *ret_ver,
                       char *err, size_t errlen)
{
	const char *p = src->p, *end = src->p + src->n, *q = p;

	while (q < end && !is_blank_char(*q) && *q != '(')
		q++;
	*ret_name = (struct span){p, (size_t)(q - p), src->line};
	while (q < end && is_blank_char(*q))
		q++;
	if (q == end)
		return 0;
	if (*q != '(' || end[-1] != ')') {
		errf(err, errlen, 0, "line %zu: Source is not 'name' or 'name (version)'",
		     src->line);
		return -EINVAL;
	}
	*ret_ver = (struct span){q + 1, (size_t)(end - 1 - (q + 1)), src->line};
	pkgdb_trim(&ret_ver->p, &ret_ver->n);
	if (memchr(ret_ver->p, '(', ret_ver->n) || memchr(ret_ver->p, ')', ret_ver->n)) {
		errf(err, errlen, 0, "line %zu: Source version holds a parenthesis", src->line);
		return -EINVAL;
	}
	return 0;
}

/* Checks one token of a package and copies it; what names the field in errors. */
static int take(char *dst, const struct span *s, size_t max, const char *what, char *err,
                size_t errlen)
{
	const char *why = token_problem(s->p, s->n, max);

	if (why) {
		errf(err, errlen, 0, "line %zu: %s %s", s->line, what, why);
		return -EINVAL;
	}
	copy_token(dst, s->p, s->n);
	return 0;
}

/*
 * A free-text value (a licence) copied into dst (PKGDB_LICENSE_MAX + 1 bytes)
 * when it is printable ASCII that fits; NULL otherwise: a licence is not
 * worth failing a package over.
 */
static const char *text_value(char *dst, const struct span *s)
{
	if (!s->p || !s->n || s->n > PKGDB_LICENSE_MAX)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if ((unsigned char)s->p[i] < ' ' || (unsigned char)s->p[i] >= 0x7f)
			return NULL;
	memcpy(dst, s->p, s->n);
	dst[s->n] = '\0';
	return dst;
}

/* The end of a stanza: report its package if installed, then forget it. */
static int dpkg_end(void *state, pkgdb_cb cb, void *arg, int *count, char *err, size_t errlen)
{
	struct dpkg_stanza *s = state;
	char name[PKGDB_NAME_MAX + 1], ver[VERSION_MAX_LEN + 1];
	char src[PKGDB_NAME_MAX + 1], sver[VERSION_MAX_LEN + 1], arch[PKGDB_ARCH_MAX + 1];
	struct dpkg_stanza st = *s;
	struct span sn, sv;
	int r = 1;

	*s = (struct dpkg_stanza){0};
	if (!st.first)
		return 0;
	if (st.status.p && (r = dpkg_installed(&st.status, err, errlen)) <= 0)
		return r;
	if (!st.pkg.p || !st.ver.p) {
		errf(err, errlen, 0, "line %zu: stanza without %s", st.first,
		     st.pkg.p ? "Version" : "Package");
		return -EINVAL;
	}
	sn = st.src.p ? st.src : st.pkg;
	sv = st.ver;
	if (st.src.p && (r = dpkg_source(&st.src, &sn, &sv, err, errlen)) < 0)
		return r;
	if ((r = take(name, &st.pkg, PKGDB_NAME_MAX, "Package", err, errlen)) < 0 ||
	    (r = take(ver, &st.ver, VERSION_MAX_LEN, "Version", err, errlen)) < 0 ||
	    (r = take(src, &sn, PKGDB_NAME_MAX, "Source name", err, errlen)) < 0 ||
	    (r = take(sver, &sv, VERSION_MAX_LEN, "Source version", err, errlen)) < 0 ||
	    (st.arch.p &&
	     (r = take(arch, &st.arch, PKGDB_ARCH_MAX, "Architecture", err, errlen)) < 0))
		return r;
	return emit(cb, arg,
	            &(struct pkgdb_pkg){name, ver, src, sver, st.arch.p ? arch : NULL, NULL}, count,
	            st.first, err, errlen);
}

int pkgdb_dpkg_each(const char *buf, size_t len, pkgdb_cb cb, void *arg, char *err, size_t errlen)
{
	struct dpkg_stanza s = {0};
	struct stanza_ops ops = {&s, dpkg_line, dpkg_end};

	return stanzas_each(buf, len, &ops, cb, arg, err, errlen);
}

/* ---- apk ---- */

struct apk_stanza {
	struct span name, ver, origin, arch, license;
	size_t first;
};

static int apk_line(void *state, const char *l, size_t n, size_t no, char *err, size_t errlen)
{
	struct apk_stanza *s = state;
	struct span *f = NULL;

	if (n < 2 || l[1] != ':') {
		errf(err, errlen, 0, "line %zu: expected 'X:value'", no);
		return -EINVAL;
	}
	if (!s->first)
		s->first = no;
	if (l[0] == 'P')
		f = &s->name;
	else if (l[0] == 'V')
		f = &s->ver;
	else if (l[0] == 'o')
		f = &s->origin;
	else if (l[0] == 'A')
		f = &s->arch;
	else if (l[0] == 'L')
		f = &s->license;
	if (!f)
		return 0;
	if (f->p) {
		errf(err, errlen, 0, "line %zu:1: duplicate %c: in one package", no, l[0]);
		return -EINVAL;
	}
	*f = (struct span){l + 2, n - 2, no};
	return 0;
}

static int apk_end(void *state, pkgdb_cb cb, void *arg, int *count, char *err, size_t errlen)
{
	struct apk_stanza *s = state;
	char name[PKGDB_NAME_MAX + 1], ver[VERSION_MAX_LEN + 1], src[PKGDB_NAME_MAX + 1];
	char arch[PKGDB_ARCH_MAX + 1], lic[PKGDB_LICENSE_MAX + 1];
	struct apk_stanza st = *s;
	int r;

	*s = (struct apk_stanza){0};
	if (!st.first)
		return 0;
	if (!st.name.p || !st.ver.p) {
		errf(err, errlen, 0, "line %zu: package without %s", st.first,
		     st.name.p ? "V:" : "P:");
		return -EINVAL;
	}
	if ((r = take(name, &st.name, PKGDB_NAME_MAX, "P:", err, errlen)) < 0 ||
	    (r = take(ver, &st.ver, VERSION_MAX_LEN, "V:", err, errlen)) < 0 ||
	    (r = take(src, st.origin.p ? &st.origin : &st.name, PKGDB_NAME_MAX, "o:", err,
	              errlen)) < 0 ||
	    (st.arch.p && (r = take(arch, &st.arch, PKGDB_ARCH_MAX, "A:", err, errlen)) < 0))
		return r;
	return emit(cb, arg,
	            &(struct pkgdb_pkg){name, ver, src, ver, st.arch.p ? arch : NULL,
	                                text_value(lic, &st.license)},
	            count, st.first, err, errlen);
}

int pkgdb_apk_each(const char *buf, size_t len, pkgdb_cb cb, void *arg, char *err, size_t errlen)
{
	struct apk_stanza s = {0};
	struct stanza_ops ops = {&s, apk_line, apk_end};

	return stanzas_each(buf, len, &ops, cb, arg, err, errlen);
}

/* ---- pip freeze ---- */

/* Length of the line before a " # comment" ('#' at the start or after a blank, as pip). */
static size_t cut_comment(const char *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == '#' && (i == 0 || is_blank_char(l[i - 1])))
			return i;
	return n;
}

/* The pinned version after "==" or "===": its span, or an error; *skip for "1.*". */
static int freeze_version(const char *line, const char *v, const char *end, size_t no,
                          struct span *ret, bool *skip, char *err, size_t errlen)
{
	const char *q;
	size_t rest;

	if (v < end && *v == '=')
		v++; /* "===": arbitrary equality, the string as it is */
	while (v < end && is_blank_char(*v))
		v++;
	for (q = v; q < end && !is_blank_char(*q); q++)
		if (strchr("=<>!~,;@[]()'\"\\", *q)) {
			errf(err, errlen, 0, "line %zu:%zu: %s", no, (size_t)(q - line) + 1,
			     *q == ',' ? "more than one version specifier" : "malformed version");
			return -EINVAL;
		}
	*ret = (struct span){v, (size_t)(q - v), no};
	while (q < end && is_blank_char(*q))
		q++;
	rest = (size_t)(end - q);
	/* pip-compile writes "name==1.0 \" then "--hash=..." lines */
	if (rest && !(rest == 1 && *q == '\\') && !(rest >= 2 && q[0] == '-' && q[1] == '-')) {
		errf(err, errlen, 0, "line %zu: unexpected text after the version", no);
		return -EINVAL;
	}
	*skip = ret->n >= 2 && v[ret->n - 2] == '.' && v[ret->n - 1] == '*';
	return 0;
}

/* The name before "==", extras "[...]" dropped; normalised into out. */
static int freeze_name(const char *line, const char *p, size_t n, size_t no, char *out, char *err,
                       size_t errlen)
{
	const char *br;

	pkgdb_trim(&p, &n);
	br = memchr(p, '[', n);
	if (br) {
		if (p[n - 1] != ']') {
			errf(err, errlen, 0, "line %zu:%zu: unclosed extras", no,
			     (size_t)(br - line) + 1);
			return -EINVAL;
		}
		n = (size_t)(br - p);
		pkgdb_trim(&p, &n);
	}
	if (!pep503n(p, n, out, PKGDB_NAME_MAX + 1)) {
		errf(err, errlen, 0, "line %zu: invalid project name", no);
		return -EINVAL;
	}
	return 0;
}

/* One line: 1 and name/version filled for a pinned package, 0 to skip, <0 on error. */
static int freeze_line(const char *l, size_t n, size_t no, char *name, char *ver, char *err,
                       size_t errlen)
{
	const char *eq, *semi, *why, *line = l;
	struct span v;
	bool skip;
	int r;

	pkgdb_trim(&l, &n);
	if (!n || l[0] == '#' || l[0] == '-')
		return 0;
	n = cut_comment(l, n);
	if ((semi = memchr(l, ';', n)))
		n = (size_t)(semi - l);
	pkgdb_trim(&l, &n);
	eq = n >= 2 ? memmem(l, n, "==", 2) : NULL;
	if (!eq || memchr(l, '@', (size_t)(eq - l)))
		return 0; /* not pinned, or a direct reference */
	if ((r = freeze_version(line, eq + 2, l + n, no, &v, &skip, err, errlen)) < 0 ||
	    (r = freeze_name(line, l, (size_t)(eq - l), no, name, err, errlen)) < 0)
		return r;
	if (skip)
		return 0;
	if ((why = token_problem(v.p, v.n, VERSION_MAX_LEN))) {
		errf(err, errlen, 0, "line %zu: version %s", no, why);
		return -EINVAL;
	}
	copy_token(ver, v.p, v.n);
	return 1;
}

int pkgdb_freeze_each(const char *buf, size_t len, pkgdb_cb cb, void *arg, char *err, size_t errlen)
{
	char name[PKGDB_NAME_MAX + 1], ver[VERSION_MAX_LEN + 1];
	struct lines it = {buf, len, 0, 0};
	const char *l;
	size_t n;
	int r, count = 0;

	if ((!buf && len) || !cb)
		return -EINVAL;
	while (pkgdb_next_line(&it, &l, &n)) {
		if (memchr(l, '\0', n)) {
			errf(err, errlen, 0, "line %zu: NUL byte", it.no);
			return -EINVAL;
		}
		r = freeze_line(l, n, it.no, name, ver, err, errlen);
		if (r > 0)
			r = emit(cb, arg, &(struct pkgdb_pkg){name, ver, name, ver, NULL, NULL},
			         &count, it.no, err, errlen);
		if (r < 0)
			return r;
	}
	return count;
}

/* ---- Python metadata ---- */

/* Finds the first Name: and Version: of the header block. */
static void metadata_scan(const char *buf, size_t len, struct span *name, struct span *ver)
{
	struct lines it = {buf, len, 0, 0};
	const char *l, *colon;
	struct span *f;
	size_t n, k;

	while (pkgdb_next_line(&it, &l, &n) && n) {
		if (is_blank_char(l[0]))
			continue; /* continuation of a multi-line header */
		colon = memchr(l, ':', n);
		k = colon ? (size_t)(colon - l) : 0;
		if (!k || memchr(l, ' ', k) || memchr(l, '\t', k))
			break; /* not a header: the body starts, as for email.parser */
		f = key_eq(l, k, "Name") ? name : key_eq(l, k, "Version") ? ver : NULL;
		if (!f || f->p)
			continue;
		*f = (struct span){colon + 1, n - (size_t)(colon + 1 - l), it.no};
		pkgdb_trim(&f->p, &f->n);
	}
}

int pkgdb_python_metadata(const char *buf, size_t len, char *name, size_t name_n, char *version,
                          size_t version_n, char *err, size_t errlen)
{
	char norm[PKGDB_NAME_MAX + 1];
	struct span sn = {0}, sv = {0};
	const char *why;
	size_t nlen;

	if ((!buf && len) || !name || !version)
		return -EINVAL;
	metadata_scan(buf, len, &sn, &sv);
	if (!sn.p || !sv.p) {
		errf(err, errlen, 0, "no %s: field in the header", sn.p ? "Version" : "Name");
		return -EINVAL;
	}
	nlen = pep503n(sn.p, sn.n, norm, sizeof(norm));
	if (!nlen) {
		errf(err, errlen, 0, "line %zu: invalid project name in Name:", sn.line);
		return -EINVAL;
	}
	if ((why = token_problem(sv.p, sv.n, VERSION_MAX_LEN))) {
		errf(err, errlen, 0, "line %zu: Version %s", sv.line, why);
		return -EINVAL;
	}
	if (nlen >= name_n || sv.n >= version_n) {
		errf(err, errlen, 0, "%s buffer too small", nlen >= name_n ? "name" : "version");
		return -ENOSPC;
	}
	memcpy(name, norm, nlen + 1);
	copy_token(version, sv.p, sv.n);
	return 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix, size_t *ret_stem)
{
	size_t k = strlen(suffix);

	if (n < k || memcmp(s + n - k, suffix, k))
		return false;
	*ret_stem = n - k;
	return true;
}

int pkgdb_dist_dirname(const char *dirname, char *name, size_t nn, char *version, size_t vn)
{
	char norm[PKGDB_NAME_MAX + 1];
	size_t n, stem, vlen, nlen;
	const char *dash, *v, *vend;
	bool egg = false;

	if (!dirname || !name || !version)
		return -EINVAL;
	n = strnlen(dirname, DIRNAME_MAX + 1);
	if (n > DIRNAME_MAX || memchr(dirname, '/', n) ||
	    (!ends_with(dirname, n, ".dist-info", &stem) &&
	     !(egg = ends_with(dirname, n, ".egg-info", &stem))))
		return -EINVAL;
	dash = memchr(dirname, '-', stem);
	if (!dash)
		return -EINVAL; /* "cryptography.egg-info": no version in the name */
	v = dash + 1;
	vend = memchr(v, '-', (size_t)(dirname + stem - v));
	if (vend && !egg)
		return -EINVAL; /* a wheel's name and version never hold '-' */
	vlen = (size_t)((vend ? vend : dirname + stem) - v); /* egg: "-pyX.Y[-plat]" follows */
	nlen = pep503n(dirname, (size_t)(dash - dirname), norm, sizeof(norm));
	if (!nlen || token_problem(v, vlen, VERSION_MAX_LEN))
		return -EINVAL;
	if (nlen >= nn || vlen >= vn)
		return -ENOSPC;
	memcpy(name, norm, nlen + 1);
	copy_token(version, v, vlen);
	return 0;
}

/* ---- detection ---- */

/* True when the stanza starting at it holds a "Package:" field line. */
static bool stanza_has_package(struct lines *it, const char *l, size_t n)
{
	do {
		if (is_blank(l, n))
			return false;
		if (n >= 8 && key_eq(l, 8, "Package:"))
			return true;
	} while (pkgdb_next_line(it, &l, &n));
	return false;
}

int pkgdb_detect(const char *buf, size_t len)
{
	struct lines it = {buf, len, 0, 0};
	const char *l = NULL;
	size_t n = 0, k = 0;

	while (pkgdb_next_line(&it, &l, &n) && is_blank(l, n))
		;
	if (!it.no || is_blank(l, n))
		return -EINVAL;
	if (n >= 2 && pkgdb_is_alnum(l[0]) && !pkgdb_is_digit(l[0]) && l[1] == ':')
		return PKGDB_APK;
	if (l[0] == '#' || l[0] == '-')
		return PKGDB_FREEZE;
	while (k < n && (pkgdb_is_alnum(l[k]) || l[k] == '-'))
		k++;
	if (k && k < n && l[k] == ':')
		return stanza_has_package(&it, l, n) ? PKGDB_DPKG : -EINVAL;
	if (memmem(l, n, "==", 2) || memmem(l, n, " @ ", 3))
		return PKGDB_FREEZE;
	return -EINVAL;
}
