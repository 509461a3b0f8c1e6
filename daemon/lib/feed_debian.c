/*
 * feed_debian — the Debian security tracker's JSON, streamed (see
 * feed_debian.h). The scanner below is not a JSON parser: it only knows
 * enough (strings, escapes, bracket depth) to cut the document at two
 * levels. Between packages (depth 1) it follows the object's punctuation
 * itself: a name, ':', '{', then ',' or '}'. Inside a package's object it
 * finds the commas and the brace that end each entry ("CVE-…": {…}), and
 * hands the entry to jansson wrapped as a one-member object, so jansson
 * validates every byte of it; the package name goes to jansson alone. What
 * jansson holds at once is one entry, a few KB, whatever the package's size.
 */
#include "feed_debian.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "version.h"

/* The releases with a number; the order is the bit in feed_debian.want. */
static const struct release {
	const char *codename;
	const char *ecosystem;
} releases[] = {
        {"jessie", "Debian:8"},    {"stretch", "Debian:9"},   {"buster", "Debian:10"},
        {"bullseye", "Debian:11"}, {"bookworm", "Debian:12"}, {"trixie", "Debian:13"},
        {"forky", "Debian:14"},
};

#define N_RELEASES (sizeof(releases) / sizeof(releases[0]))

/* Where the scanner is; only ST_NAME and ST_ENTRIES copy bytes into buf. */
enum scan_state {
	ST_START,   /* before the document's '{' */
	ST_FIRST,   /* after it: a package name or '}' */
	ST_KEY,     /* after ',' between packages: a package name */
	ST_NAME,    /* inside a package name */
	ST_COLON,   /* after the name */
	ST_VALUE,   /* after ':': the package's '{' */
	ST_ENTRIES, /* inside the package's object */
	ST_NEXT,    /* after a package: ',' or '}' */
	ST_END,     /* after the document's '}' */
};

struct feed_debian {
	feed_row_cb cb;
	void *arg;
	unsigned want; /* bit i: releases[i] wanted; 0 = all */
	size_t max;
	/*
	 * The package name being read (its quotes included), or the current
	 * entry after a '{' standing in for its delimiter; base is the number
	 * of such stand-in bytes, not counted against max.
	 */
	struct strbuf entry; /* the CVE entry being cut out, as a JSON object */
	size_t base;
	enum scan_state state;
	int depth; /* inside ST_ENTRIES: 2 in the package's object */
	bool in_str, esc, started, any_entry;
	char pkg[FEED_DEBIAN_NAME_MAX + 1]; /* the package's name, cut */
	bool pkg_ok;               /* its entries are read: a name neither empty nor long */
	unsigned long line, col;   /* position of the next byte */
	unsigned long kline, kcol; /* the package name's opening quote */
	unsigned long dline, dcol; /* the delimiter before the current entry */
	unsigned long mline, mcol; /* the current entry's first non-blank byte */
	int error;
	char msg[256];
	struct feed_debian_stats stats;
};

/* What every row of one (package, id) entry shares. */
struct entry {
	const char *pkg;
	const char *id;
	const char *summary;
};

__attribute__((format(printf, 2, 3))) static int fail(struct feed_debian *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int oom(struct feed_debian *f)
{
	snprintf(f->msg, sizeof(f->msg), "out of memory");
	return -ENOMEM;
}

struct feed_debian *feed_debian_new(feed_row_cb cb, void *arg)
{
	struct feed_debian *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cb = cb;
	f->arg = arg;
	f->max = FEED_DEBIAN_MEMBER_MAX;
	f->line = f->col = 1;
	return f;
}

void feed_debian_free(struct feed_debian *f)
{
	if (!f)
		return;
	free(f->entry.p);
	free(f);
}

static int release_index(const char *codename)
{
	for (size_t i = 0; i < N_RELEASES; i++)
		if (!strcmp(releases[i].codename, codename))
			return (int)i;
	return -1;
}

int feed_debian_want(struct feed_debian *f, const char *codename)
{
	int i = codename ? release_index(codename) : -1;

	if (i < 0)
		return -EINVAL;
	f->want |= 1u << i;
	return 0;
}

void feed_debian_set_member_max(struct feed_debian *f, size_t max)
{
	f->max = max;
}

void feed_debian_stats(const struct feed_debian *f, struct feed_debian_stats *ret)
{
	*ret = f->stats;
}

/* ---- rows ---- */

/* The OSV affected object: introduced 0, fixed when there is a fix, the urgency aside. */
static json_t *affected_new(const char *fixed, const char *urgency)
{
	json_t *aff, *ds;

	if (fixed)
		aff = json_pack("{s:[{s:s,s:[{s:s},{s:s}]}]}", "ranges", "type", "ECOSYSTEM",
		                "events", "introduced", "0", "fixed", fixed);
	else
		aff = json_pack("{s:[{s:s,s:[{s:s}]}]}", "ranges", "type", "ECOSYSTEM", "events",
		                "introduced", "0");
	if (!aff || !urgency)
		return aff;
	ds = json_pack("{s:s}", "urgency", urgency);
	if (json_object_set_new(aff, "database_specific", ds) < 0) {
		json_decref(aff);
		return NULL;
	}
	return aff;
}

static int emit(struct feed_debian *f, const struct entry *e, int rel, const char *fixed,
                const char *urgency)
{
	struct feed_row row = {.id = e->id,
	                       .ecosystem = releases[rel].ecosystem,
	                       .package = e->pkg,
	                       .summary = e->summary};
	json_t *aff = affected_new(fixed, urgency);
	int r;

	if (!aff)
		return oom(f);
	row.affected = aff;
	r = f->cb(&row, f->arg);
	json_decref(aff);
	if (r < 0) {
		snprintf(f->msg, sizeof(f->msg), "stopped by the row callback (%d)", r);
		return r;
	}
	f->stats.rows++;
	return 0;
}

/* One release of one entry: {"status":…,"fixed_version":…,"urgency":…}. */
static int on_release(struct feed_debian *f, const struct entry *e, const char *codename,
                      const json_t *rel)
{
	int i = release_index(codename);
	const char *status, *fixed, *urgency;

	if (i < 0 || (f->want && !(f->want & (1u << i)))) {
		f->stats.other_release++;
		return 0;
	}
	status = json_string_value(json_object_get(rel, "status"));
	fixed = json_string_value(json_object_get(rel, "fixed_version"));
	urgency = json_string_value(json_object_get(rel, "urgency"));
	if (!status) {
		f->stats.bad_entry++;
		return 0;
	}
	if (!strcmp(status, "open") || !strcmp(status, "undetermined"))
		return emit(f, e, i, NULL, urgency);
	if (strcmp(status, "resolved") || !fixed) {
		f->stats.bad_entry++;
		return 0;
	}
	if (!strcmp(fixed, "0")) {
		f->stats.not_affected++;
		return 0;
	}
	if (version_valid(VERSION_DEBIAN, fixed) < 0) {
		f->stats.bad_version++;
		return 0;
	}
	return emit(f, e, i, fixed, urgency);
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence (jansson checked it). */
static void summary_copy(char *dst, size_t max, const char *s)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* One "<id>": {"description":…,"releases":{…}} of the current package. */
static int on_entry(struct feed_debian *f, const char *id, json_t *v)
{
	char summary[FEED_DEBIAN_SUMMARY_MAX + 1];
	struct entry e = {f->pkg, id, NULL};
	json_t *rels = json_object_get(v, "releases"), *rel;
	const char *desc = json_string_value(json_object_get(v, "description")), *codename;
	int r = 0;

	f->stats.entries++;
	if (!json_is_object(v))
		return fail(f, "line %lu column %lu: package %.64s: %.64s is not an object",
		            f->mline, f->mcol, f->pkg, id);
	if (!*id || strlen(id) > FEED_DEBIAN_NAME_MAX ||
	    (rels && !json_is_object(rels) && !(json_is_array(rels) && !json_array_size(rels)))) {
		f->stats.bad_entry++;
		return 0;
	}
	if (desc) {
		summary_copy(summary, FEED_DEBIAN_SUMMARY_MAX, desc);
		e.summary = summary;
	}
	json_object_foreach(rels, codename, rel)
	{
		if (!json_is_object(rel))
			f->stats.bad_entry++;
		else if ((r = on_release(f, &e, codename, rel)) < 0)
			break;
	}
	return r;
}

/* ---- jansson's part: one package name, one entry ---- */

/* jansson's error, its line and column moved to where its input began in the document. */
static int decode_failed(struct feed_debian *f, const json_error_t *jerr, unsigned long line,
                         unsigned long col)
{
	if (json_error_code(jerr) == json_error_out_of_memory || !jerr->text[0])
		return oom(f);
	if (jerr->line < 1 || jerr->column < 1) /* no position: where the input began */
		return fail(f, "line %lu column %lu: %s", line, col, jerr->text);
	return fail(f, "line %lu column %lu: %s", line + (unsigned long)jerr->line - 1,
	            jerr->line == 1 ? col + (unsigned long)jerr->column - 1
	                            : (unsigned long)jerr->column,
	            jerr->text);
}

static void note_size(struct feed_debian *f, size_t n)
{
	if (n > f->stats.largest_member)
		f->stats.largest_member = n;
}

/* Decodes the package name in buf ("…", quotes included) into pkg. */
static int name_end(struct feed_debian *f)
{
	json_error_t jerr;
	json_t *s;
	size_t n;

	note_size(f, f->entry.len);
	s = json_loadb(f->entry.p, f->entry.len, JSON_DECODE_ANY, &jerr);
	if (!s)
		return decode_failed(f, &jerr, f->kline, f->kcol);
	if (!json_is_string(s)) { /* cannot happen: the scanner saw one string */
		json_decref(s);
		return fail(f, "line %lu column %lu: a package name is not a string", f->kline,
		            f->kcol);
	}
	n = json_string_length(s);
	f->pkg_ok = n > 0 && n <= FEED_DEBIAN_NAME_MAX;
	if (n > FEED_DEBIAN_NAME_MAX)
		n = FEED_DEBIAN_NAME_MAX;
	memcpy(f->pkg, json_string_value(s), n);
	f->pkg[n] = '\0';
	json_decref(s);
	f->state = ST_COLON;
	return 0;
}

/* Decodes the entry in buf (its delimiter replaced by '{') and emits its rows. */
static int entry_decode(struct feed_debian *f)
{
	json_error_t jerr;
	json_t *obj, *v;
	const char *id;
	int r = 0;

	f->any_entry = true;
	note_size(f, f->entry.len - 1);
	f->entry.p[f->entry.len] = '}'; /* append() keeps room for it */
	obj = json_loadb(f->entry.p, f->entry.len + 1, 0, &jerr);
	if (!obj)
		return decode_failed(f, &jerr, f->dline, f->dcol);
	json_object_foreach(obj, id, v) /* one member: the scanner cut at every comma */
	{
		if (f->pkg_ok && (r = on_entry(f, id, v)) < 0)
			break;
	}
	json_decref(obj);
	return r;
}

/* ---- the scanner ---- */

/* The entry's size is bounded by too_big(), not here; strbuf keeps a byte spare past len. */
static int append(struct feed_debian *f, const char *p, size_t n)
{
	return strbuf_put(&f->entry, p, n, SIZE_MAX) < 0 ? oom(f) : 0;
}

/* Starts an entry after the delimiter at the current position. */
static int entry_begin(struct feed_debian *f)
{
	f->entry.len = 0;
	f->base = 1;
	f->started = false;
	f->dline = f->line;
	f->dcol = f->col;
	return append(f, "{", 1);
}

/* A delimiter at depth 2: decode the entry it ends, then start the next one. */
static int entry_end(struct feed_debian *f, char c)
{
	int r = 0;

	if (f->started)
		r = entry_decode(f);
	else if (c == ',' || f->any_entry) /* "{}" is an empty package; ",}" and ",," are not */
		r = fail(f, "line %lu column %lu: empty member", f->line, f->col);
	if (r < 0)
		return r;
	if (c == ',')
		return entry_begin(f);
	f->state = ST_NEXT;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* One byte of a string; true when it is the closing quote. */
static bool string_byte(struct feed_debian *f, char c)
{
	if (f->esc)
		f->esc = false;
	else if (c == '\\')
		f->esc = true;
	else if (c == '"')
		f->in_str = false;
	return !f->in_str;
}

/*
 * One byte inside a package's object. Returns 1 when c ends the current
 * entry (a ',' or the package's closing '}' at depth 2), 0 to go on, or a
 * negative errno.
 */
static int body_byte(struct feed_debian *f, char c)
{
	int end = 0;

	if (f->in_str) {
		string_byte(f, c);
	} else if (c == '"') {
		f->in_str = true;
	} else if (c == '{' || c == '[') {
		if (f->depth == INT_MAX)
			return fail(f, "line %lu column %lu: nested too deep", f->line, f->col);
		f->depth++;
	} else if ((c == '}' || c == ']') && f->depth > 2) {
		f->depth--;
	} else if (c == ']') {
		return fail(f, "line %lu column %lu: unbalanced ']'", f->line, f->col);
	} else if (c == '}' || (c == ',' && f->depth == 2)) {
		end = 1;
	}
	if (!end && !f->started && !is_blank(c)) {
		f->started = true;
		f->mline = f->line;
		f->mcol = f->col;
	}
	return end;
}

/* A package name's opening quote, or what stands where one was expected. */
static int name_begin(struct feed_debian *f, char c)
{
	if (c == '"') {
		f->state = ST_NAME;
		f->in_str = true;
		f->entry.len = 0;
		f->base = 0;
		f->kline = f->line;
		f->kcol = f->col;
		return 0;
	}
	if (c == '}' && f->state == ST_FIRST) {
		f->state = ST_END; /* {} */
		return 0;
	}
	if (c == ',' || c == '}')
		return fail(f, "line %lu column %lu: empty member", f->line, f->col);
	return fail(f, "line %lu column %lu: a package name was expected", f->line, f->col);
}

/* The byte after "name": — the package's object, or an error. */
static int package_begin(struct feed_debian *f, char c)
{
	f->stats.packages++;
	if (c != '{')
		return fail(f, "line %lu column %lu: package %.64s is not an object", f->kline,
		            f->kcol, f->pkg);
	if (!f->pkg_ok)
		f->stats.bad_entry++; /* its entries are still decoded, not looked at */
	f->state = ST_ENTRIES;
	f->depth = 2;
	f->any_entry = false;
	return entry_begin(f);
}

/* The byte after a package: ',' or the document's '}'. */
static int package_next(struct feed_debian *f, char c)
{
	if (c == ',') {
		f->state = ST_KEY;
		return 0;
	}
	if (c == '}') {
		f->state = ST_END;
		return 0;
	}
	return fail(f, "line %lu column %lu: ',' or '}' expected after package %.64s", f->line,
	            f->col, f->pkg);
}

/* One byte between packages: the scanner checks this punctuation itself. */
static int outside_byte(struct feed_debian *f, char c)
{
	if (is_blank(c))
		return 0;
	if (f->state == ST_END)
		return fail(f, "line %lu column %lu: bytes after the end of the document", f->line,
		            f->col);
	if (f->state == ST_START) {
		if (c != '{')
			return fail(f, "line %lu column %lu: the document is not a JSON object",
			            f->line, f->col);
		f->state = ST_FIRST;
		return 0;
	}
	if (c == ']')
		return fail(f, "line %lu column %lu: unbalanced ']'", f->line, f->col);
	if (f->state == ST_FIRST || f->state == ST_KEY)
		return name_begin(f, c);
	if (f->state == ST_VALUE)
		return package_begin(f, c);
	if (f->state == ST_NEXT)
		return package_next(f, c);
	if (c != ':') /* ST_COLON, the one state left */
		return fail(f, "line %lu column %lu: ':' expected after package %.64s", f->line,
		            f->col, f->pkg);
	f->state = ST_VALUE;
	return 0;
}

/* Leading bytes of p that can neither end nor escape a string, nor start a line. */
static size_t string_run(const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[k] != '"' && p[k] != '\\' && p[k] != '\n')
		k++;
	return k;
}

/* Whether buf, plus pending bytes not copied yet, has grown past the bound. */
static bool over(const struct feed_debian *f, size_t pending)
{
	return f->entry.len - f->base + pending > f->max;
}

static int too_big(struct feed_debian *f)
{
	if (f->state == ST_NAME)
		snprintf(f->msg, sizeof(f->msg),
		         "line %lu column %lu: a package name over %zu bytes", f->kline, f->kcol,
		         f->max);
	else
		snprintf(f->msg, sizeof(f->msg),
		         "line %lu column %lu: package %.64s: an entry over %zu bytes",
		         f->started ? f->mline : f->dline, f->started ? f->mcol : f->dcol, f->pkg,
		         f->max);
	return -EMSGSIZE;
}

/*
 * Byte i of p, not a plain string byte. Text that jansson will read (a
 * package name, an entry) is copied into buf in spans (*start..i) rather
 * than byte by byte, the span checked against the bound before any copy.
 */
static int scan_byte(struct feed_debian *f, const char *p, size_t i, size_t *start)
{
	char c = p[i];
	int r;

	if (f->state == ST_ENTRIES) {
		if ((r = body_byte(f, c)) == 1) {
			if ((r = append(f, p + *start, i - *start)) == 0)
				r = entry_end(f, c);
			*start = i + 1;
		} else if (r == 0 && over(f, i + 1 - *start)) {
			r = too_big(f);
		}
		return r;
	}
	if (f->state == ST_NAME) {
		bool closed = string_byte(f, c);

		if (over(f, i + 1 - *start))
			return too_big(f);
		if (!closed)
			return 0;
		r = append(f, p + *start, i + 1 - *start);
		*start = i + 1;
		return r < 0 ? r : name_end(f);
	}
	r = outside_byte(f, c);
	*start = f->state == ST_NAME ? i : i + 1; /* the opening quote is the name's */
	return r;
}

/* Scans p; the text of strings, most of the document, is skipped in runs. */
static int scan(struct feed_debian *f, const char *p, size_t n)
{
	size_t start = 0;
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		if (f->in_str && !f->esc) {
			size_t k = string_run(p + i, n - i);

			f->col += k;
			i += k;
			if (over(f, i - start))
				r = too_big(f);
			if (i == n || r < 0)
				break;
		}
		r = scan_byte(f, p, i, &start);
		if (p[i] == '\n') {
			f->line++;
			f->col = 1;
		} else {
			f->col++;
		}
	}
	if (r >= 0 && (f->state == ST_NAME || f->state == ST_ENTRIES) && start < n)
		r = append(f, p + start, n - start);
	return r < 0 ? r : 0;
}

int feed_debian_push(struct feed_debian *f, const char *buf, size_t len)
{
	if (!f->error)
		f->error = scan(f, buf, len);
	return f->error;
}

int feed_debian_finish(struct feed_debian *f, char *err, size_t errlen)
{
	if (!f->error && f->state != ST_END)
		f->error = fail(f, "line %lu column %lu: %s", f->line, f->col,
		                f->state == ST_START ? "empty document" : "truncated document");
	if (f->error) {
		if (err && errlen)
			snprintf(err, errlen, "%s", f->msg);
		return f->error;
	}
	return f->stats.rows > INT_MAX ? INT_MAX : (int)f->stats.rows;
}
