#include "dep5.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spdx.h"

#define SYNOPSIS_MAX 256

struct paragraph {
	bool header, files;
	char license[SYNOPSIS_MAX]; /* the first line of License:, spaces collapsed */
	bool format;                /* Format: names the copyright format */
};

struct licences {
	char raw[DEP5_MAX_SYNOPSES][SYNOPSIS_MAX];
	char spdx[DEP5_MAX_SYNOPSES][SYNOPSIS_MAX]; /* "" when a name has no SPDX id */
	size_t n;
	bool machine_readable, too_many;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Copies a field's first line with runs of blanks made one space, trimmed. */
static void collapse(const char *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		if (is_space(p[i]) && (o == 0 || out[o - 1] == ' '))
			continue;
		out[o++] = is_space(p[i]) ? ' ' : p[i];
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* Appends s to out at *o; false when it does not fit. */
static bool put(char *out, size_t outlen, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n >= outlen)
		return false;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return true;
}

/* "with NAME exception": the SPDX exception id, or NULL. */
static const char *exception_of(const char *name, size_t n)
{
	static const char *const versioned[][2] = {{"Bison", "Bison-exception-2.2"},
	                                           {"Font", "Font-exception-2.0"},
	                                           {"Classpath", "Classpath-exception-2.0"},
	                                           {NULL, NULL}};
	char buf[96];
	const char *id;

	for (size_t i = 0; versioned[i][0]; i++)
		if (strlen(versioned[i][0]) == n && !strncasecmp(versioned[i][0], name, n))
			return versioned[i][1];
	if (n + sizeof("-exception") > sizeof(buf))
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s-exception", (int)n, name);
	return (id = spdx_exception(buf, strlen(buf))) ? id : spdx_exception(name, n);
}

/* One synopsis as an SPDX expression; false when a name has no id. */
static bool to_spdx(const char *syn, char *out, size_t outlen)
{
	const char *p = syn;
	size_t o = 0;
	bool want_name = true;

	out[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, " ,");
		const char *id;

		if (!n) {
			p++;
			continue;
		}
		if (!want_name && n == 2 && !strncasecmp(p, "or", 2))
			id = " OR ";
		else if (!want_name && n == 3 && !strncasecmp(p, "and", 3))
			id = " AND ";
		else if (!want_name && n == 4 && !strncasecmp(p, "with", 4)) {
			const char *name = p + n + strspn(p + n, " ");
			size_t k = strcspn(name, " ,");
			const char *word = name + k + strspn(name + k, " ");
			if (strncasecmp(word, "exception", 9) || !(id = exception_of(name, k)))
				return false;
			if (!put(out, outlen, &o, " WITH ") || !put(out, outlen, &o, id))
				return false;
			p = word + 9;
			continue;
		} else if (want_name && (id = spdx_from_debian(p, n)))
			;
		else
			return false;
		if (!put(out, outlen, &o, id))
			return false;
		want_name = !want_name;
		p += n;
	}
	return !want_name;
}

static void add(struct licences *l, const char *syn)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->raw[i], syn))
			return;
	if (l->n == DEP5_MAX_SYNOPSES) {
		l->too_many = true;
		return;
	}
	snprintf(l->raw[l->n], SYNOPSIS_MAX, "%s", syn);
	if (!to_spdx(syn, l->spdx[l->n], SYNOPSIS_MAX))
		l->spdx[l->n][0] = '\0';
	l->n++;
}

static void paragraph_end(struct licences *l, struct paragraph *p)
{
	if (p->header)
		l->machine_readable = p->format;
	if (l->machine_readable && (p->header || p->files) && p->license[0])
		add(l, p->license);
	*p = (struct paragraph){0};
}

/* One "Name: value" line of paragraph p. */
static void field(struct paragraph *p, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t k = colon ? (size_t)(colon - line) : 0;
	const char *v = colon ? colon + 1 : NULL;
	size_t vn = colon ? n - k - 1 : 0;

	if (!colon)
		return;
	if (k == 6 && !strncasecmp(line, "Format", 6)) {
		char f[SYNOPSIS_MAX];
		collapse(v, vn, f, sizeof(f));
		p->format = strstr(f, "copyright-format") || strcasestr(f, "dep5") ||
		            strcasestr(f, "dep-5");
	} else if (k == 5 && !strncasecmp(line, "Files", 5)) {
		p->files = true;
	} else if (k == 7 && !strncasecmp(line, "License", 7)) {
		collapse(v, vn, p->license, sizeof(p->license));
	}
}

/* The synopses of every paragraph into l. */
static void scan(const char *data, size_t len, struct licences *l)
{
	struct paragraph p = {.header = true};
	bool started = false, first = true;

	for (size_t at = 0; at < len;) {
		const char *line = data + at, *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at, blank = 0;

		at += n + (nl != NULL);
		while (blank < n && is_space(line[blank]))
			blank++;
		if (blank == n) {
			if (started) {
				paragraph_end(l, &p);
				first = started = false;
				if (!l->machine_readable)
					return;
			}
			continue;
		}
		p.header = first;
		started = true;
		if (!blank && line[0] != '#')
			field(&p, line, n);
	}
	if (started)
		paragraph_end(l, &p);
}

/* The SPDX expressions joined by AND; false when one is missing or it does not fit. */
static bool join_spdx(const struct licences *l, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->spdx[i];
		bool paren = l->n > 1 && strstr(s, " OR ");
		if (!s[0] || (i && !put(out, outlen, &o, " AND ")) ||
		    (paren && !put(out, outlen, &o, "(")) || !put(out, outlen, &o, s) ||
		    (paren && !put(out, outlen, &o, ")")))
			return false;
	}
	return true;
}

/* Debian's words joined by "; ", cut after the last one that fits (then "; ..."). */
static void join_raw(const struct licences *l, char *out, size_t outlen)
{
	static const char more[] = "; ...";
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		size_t keep = o;
		if ((i && !put(out, outlen, &o, "; ")) || !put(out, outlen, &o, l->raw[i])) {
			o = keep;
			out[o] = '\0';
			if (o + sizeof(more) > outlen)
				o = outlen > sizeof(more) ? outlen - sizeof(more) : 0;
			out[o] = '\0';
			put(out, outlen, &o, o ? more : "...");
			return;
		}
	}
}

int dep5_license(const char *data, size_t len, char *out, size_t outlen)
{
	static struct licences zero;
	struct licences l = zero;

	if (outlen < 2)
		return -EINVAL;
	out[0] = '\0';
	scan(data, len, &l);
	if (l.too_many)
		return -E2BIG;
	if (!l.machine_readable || !l.n)
		return -ENOENT;
	if (!join_spdx(&l, out, outlen))
		join_raw(&l, out, outlen);
	return 0;
}
