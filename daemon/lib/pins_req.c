/*
 * pins_req — pip's requirements and constraints files, read as pip's
 * req_file.py does: backslash continuations joined first (a comment line
 * ends a continuation), then comments cut ("#" at the start or after a
 * blank), then one requirement or option per logical line.
 */
#include "pins_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOGICAL (64 * 1024) /* bytes of one joined line */
#define MAX_SEGS    256         /* physical lines of one joined line with known starts */

struct logical {
	char buf[MAX_LOGICAL];
	size_t len;
	size_t seg_at[MAX_SEGS]; /* where each physical line starts in buf */
	int seg_line[MAX_SEGS];
	size_t n_seg;
};

/* The physical line and column of offset at in the joined line. */
static void place(const struct logical *l, size_t at, int *line, int *col)
{
	size_t k = 0;

	while (k + 1 < l->n_seg && l->seg_at[k + 1] <= at)
		k++;
	*line = l->seg_line[k];
	*col = (int)(at - l->seg_at[k]) + 1;
}

static bool is_comment_line(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	return n && *s == '#';
}

/* Cuts a comment: "#" at the start or after a blank. */
static size_t cut_comment(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
			return i;
	return n;
}

/* "-r F", "-rF", "--requirement F", "--requirement=F" (and -c/--constraint). */
static int option(struct pins *p, const char *s, size_t n, int line)
{
	static const struct {
		const char *name;
		bool constraint;
	} opts[] = {{"--requirement", false}, {"--constraint", true}, {"-r", false}, {"-c", true}};

	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		size_t m = strlen(opts[k].name), i;
		if (n < m || memcmp(s, opts[k].name, m))
			continue;
		i = m;
		if (m > 2 && i < n && s[i] != '=' && s[i] != ' ' && s[i] != '\t')
			continue; /* --requirementsfoo */
		while (i < n && (s[i] == ' ' || s[i] == '\t' || (m > 2 && s[i] == '=' && i == m)))
			i++;
		size_t start = i;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\0')
			i++;
		return i > start
		               ? pins_add_include(p, s + start, i - start, line, opts[k].constraint)
		               : 0;
	}
	return 0; /* -e, -i, --hash, --index-url...: nothing pinned */
}

static int logical_line(const char *file, struct logical *l, struct pins *p)
{
	size_t n = cut_comment(l->buf, l->len), i = 0;
	struct pins_req q;
	int line, col;

	while (i < n && (l->buf[i] == ' ' || l->buf[i] == '\t'))
		i++;
	if (i >= n)
		return 0;
	place(l, i, &line, &col);
	if (l->buf[i] == '-')
		return option(p, l->buf + i, n - i, line);
	pins_req_spec(l->buf + i, n - i, &q);
	if (!q.pinned)
		return 0;
	place(l, i + q.name_at, &line, &col);
	return pins_add(p, file, line, col, PINS_PYPI, q.op, q.name, q.version);
}

/* Appends physical line no (text s[0..n), newline cut) to l; false when it continues. */
static bool append(struct logical *l, const char *s, size_t n, int no, bool *cont)
{
	bool comment = is_comment_line(s, n);

	*cont = !comment && n && s[n - 1] == '\\';
	if (*cont)
		n--;
	if (l->n_seg < MAX_SEGS) {
		l->seg_at[l->n_seg] = l->len;
		l->seg_line[l->n_seg++] = no;
	}
	if (l->len + n >= sizeof(l->buf))
		return false;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

int pins_parse_requirements(const char *file, const char *text, size_t len, struct pins *p,
                            char *err, size_t errlen)
{
	struct logical *l = calloc(1, sizeof(*l));
	size_t at = 0;
	int no = 0, r = 0;

	if (!l)
		return -ENOMEM;
	while (r == 0 && at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t raw = nl ? (size_t)(nl - (text + at)) : len - at, n = raw;
		bool cont;

		no++;
		if (n && text[at + n - 1] == '\r')
			n--;
		if (!append(l, text + at, n, no, &cont))
			r = pins_fail(err, errlen, no, -E2BIG, "a line continued past %d bytes",
			              MAX_LOGICAL);
		at += raw + (nl != NULL);
		if (r == 0 && (!cont || at >= len)) {
			r = logical_line(file, l, p);
			l->len = l->n_seg = 0;
		}
	}
	free(l);
	return r;
}
