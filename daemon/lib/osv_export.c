/*
 * osv_export — osv.dev's bulk export: all.zip (read from memory with
 * libarchive, each record through osv_parse) and modified_id.csv (newest
 * first, read down to a watermark). Part of the osv module (osv.h).
 */
#include "osv.h"
#include "errf.h"
#include "osv_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

/* ---- all.zip ---- */

static const char *aerr(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s ? s : "unknown error";
}

/* An entry name fit for a message: printable ASCII, shortened. */
static void name_copy(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

static bool json_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 5 && !strcmp(name + n - 5, ".json");
}

/* Reads the current entry into *buf (grown as needed, up to OSV_MAX_RECORD + 1 bytes). */
static int entry_read(struct archive *a, char **buf, size_t *cap, size_t *ret_len, char *err,
                      size_t errlen)
{
	size_t len = 0;

	for (;;) {
		la_ssize_t n;

		if (len == *cap) {
			size_t ncap = *cap ? *cap * 2 : 65536;
			char *nbuf;

			if (*cap > OSV_MAX_RECORD)
				return errf(err, errlen, -E2BIG, "more than %u bytes",
				            OSV_MAX_RECORD);
			ncap = ncap > OSV_MAX_RECORD + 1 ? OSV_MAX_RECORD + 1 : ncap;
			if (!(nbuf = realloc(*buf, ncap)))
				return errf(err, errlen, -ENOMEM, "out of memory");
			*buf = nbuf;
			*cap = ncap;
		}
		n = archive_read_data(a, *buf + len, *cap - len);
		if (n < 0)
			return errf(err, errlen, -EINVAL, "%s", aerr(a));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_len = len;
	return 0;
}

/*
 * A zip of no entry is only its end-of-central-directory record (22 bytes
 * and a comment), which libarchive does not recognise as a zip.
 */
static bool zip_is_empty(const unsigned char *p, size_t len)
{
	return len >= 22 && !memcmp(p, "PK\5\6", 4) && !p[8] && !p[9] && !p[10] && !p[11] &&
	       (size_t)(p[20] | p[21] << 8) == len - 22;
}

struct zip_walk {
	struct archive *a;
	char *buf;
	size_t cap;
	int64_t rows;
};

/* One regular *.json entry through osv_parse; the message names the entry. */
static int zip_entry(struct zip_walk *w, struct archive_entry *e, feed_row_cb cb, void *arg,
                     char *err, size_t errlen)
{
	char name[128], msg[384];
	size_t len = 0;
	int r;

	name_copy(name, sizeof(name), archive_entry_pathname(e));
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > (int64_t)OSV_MAX_RECORD)
		return errf(err, errlen, -E2BIG, "%s: %" PRId64 " bytes, more than %u", name,
		            (int64_t)archive_entry_size(e), OSV_MAX_RECORD);
	if ((r = entry_read(w->a, &w->buf, &w->cap, &len, msg, sizeof(msg))) < 0 ||
	    (r = osv_parse(w->buf, len, cb, arg, msg, sizeof(msg))) < 0)
		return errf(err, errlen, r, "%s: %s", name, msg);
	w->rows += r;
	if (w->rows > INT_MAX)
		return errf(err, errlen, -E2BIG, "more than %d rows", INT_MAX);
	return 0;
}

/* Every *.json entry of an opened zip through osv_parse; the rows, or -errno. */
static int zip_walk_all(struct zip_walk *w, feed_row_cb cb, void *arg, char *err, size_t errlen)
{
	struct archive_entry *e;
	size_t entries = 0;
	int r;

	while ((r = archive_read_next_header(w->a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			return errf(err, errlen, -EINVAL, "zip: after %zu entries: %s", entries,
			            aerr(w->a));
		if (++entries > OSV_ZIP_MAX_ENTRIES)
			return errf(err, errlen, -E2BIG, "zip: more than %d entries",
			            OSV_ZIP_MAX_ENTRIES);
		if (archive_entry_filetype(e) != AE_IFREG || !json_name(archive_entry_pathname(e)))
			continue;
		if ((r = zip_entry(w, e, cb, arg, err, errlen)) < 0)
			return r;
	}
	return (int)w->rows;
}

/* Opens buf (len bytes) or, when buf is NULL, the file at path, and walks it. */
static int zip_walk_source(const void *buf, size_t len, const char *path, feed_row_cb cb, void *arg,
                           char *err, size_t errlen)
{
	struct zip_walk w = {0};
	int r;

	if (!(w.a = archive_read_new()))
		return errf(err, errlen, -ENOMEM, "out of memory");
	/* Seekable: the central directory at the end is read, so a truncated file fails. */
	if (archive_read_support_format_zip_seekable(w.a) != ARCHIVE_OK ||
	    (buf ? archive_read_open_memory(w.a, buf, len)
	         : archive_read_open_filename(w.a, path, 1 << 16)) != ARCHIVE_OK)
		r = errf(err, errlen, -EINVAL, "zip: %s", aerr(w.a));
	else
		r = zip_walk_all(&w, cb, arg, err, errlen);
	archive_read_free(w.a);
	free(w.buf);
	return r;
}

int osv_zip_each(const void *buf, size_t len, feed_row_cb cb, void *arg, char *err, size_t errlen)
{
	if (!buf || !len)
		return errf(err, errlen, -EINVAL, "zip: empty");
	if (zip_is_empty(buf, len))
		return 0;
	return zip_walk_source(buf, len, NULL, cb, arg, err, errlen);
}

int osv_zip_each_file(const char *path, feed_row_cb cb, void *arg, char *err, size_t errlen)
{
	unsigned char head[64];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (n < sizeof(head)) /* an empty zip is 22 bytes, which libarchive refuses */
		return osv_zip_each(n ? head : NULL, n, cb, arg, err, errlen);
	return zip_walk_source(NULL, 0, path, cb, arg, err, errlen);
}

/* ---- modified_id.csv ---- */

struct csv_line {
	char when[OSV_TIME_MAX];
	char id[OSV_CSV_MAX_LINE];
	int64_t sec;
	int32_t nsec;
};

/* "<ID>" or "<ecosystem dir>/<ID>" (the top-level file). */
static bool csv_id_ok(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);

	if (memchr(s, ',', n))
		return false;
	if (slash) {
		size_t d = (size_t)(slash - s);

		if (!osv_dir_ok(s, d))
			return false;
		n -= d + 1;
		s = slash + 1;
	}
	return osv_id_ok(s, n);
}

/* Splits and checks one line (without its newline). */
static int csv_line(const char *s, size_t n, size_t lineno, struct csv_line *ret, char *err,
                    size_t errlen)
{
	const char *comma;
	size_t tl;

	if (n == 0)
		return errf(err, errlen, -EINVAL, "line %zu: empty", lineno);
	if (n > OSV_CSV_MAX_LINE)
		return errf(err, errlen, -EINVAL, "line %zu: longer than %d bytes", lineno,
		            OSV_CSV_MAX_LINE);
	if (memchr(s, '\0', n))
		return errf(err, errlen, -EINVAL, "line %zu: NUL byte", lineno);
	if (!(comma = memchr(s, ',', n)))
		return errf(err, errlen, -EINVAL, "line %zu: no comma", lineno);
	tl = (size_t)(comma - s);
	if (tl >= OSV_TIME_MAX)
		return errf(err, errlen, -EINVAL, "line %zu: time too long", lineno);
	memcpy(ret->when, s, tl);
	ret->when[tl] = '\0';
	if (osv_time_parse(ret->when, &ret->sec, &ret->nsec) < 0)
		return errf(err, errlen, -EINVAL, "line %zu: \"%s\" is not an RFC 3339 time",
		            lineno, ret->when);
	if (!csv_id_ok(comma + 1, n - tl - 1))
		return errf(err, errlen, -EINVAL, "line %zu: not an OSV id", lineno);
	memcpy(ret->id, comma + 1, n - tl - 1);
	ret->id[n - tl - 1] = '\0';
	return 0;
}

int osv_modified_each(const char *buf, size_t len, const char *since, osv_modified_cb cb, void *arg,
                      char *err, size_t errlen)
{
	int64_t ssec = 0, psec = INT64_MAX;
	int32_t snsec = 0, pnsec = INT32_MAX;
	size_t off = 0, lineno = 0;
	struct csv_line l;
	int r, count = 0;

	if (!buf && len)
		return errf(err, errlen, -EINVAL, "no buffer");
	if (since && osv_time_parse(since, &ssec, &snsec) < 0)
		return errf(err, errlen, -EINVAL, "since: not an RFC 3339 time");
	while (off < len) {
		const char *s = buf + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		off += n + (nl != NULL);
		if (++lineno > OSV_CSV_MAX_LINES)
			return errf(err, errlen, -E2BIG, "more than %d lines", OSV_CSV_MAX_LINES);
		if (n && s[n - 1] == '\r')
			n--;
		if ((r = csv_line(s, n, lineno, &l, err, errlen)) < 0)
			return r;
		if (osv_instant_cmp(l.sec, l.nsec, psec, pnsec) > 0)
			return errf(err, errlen, -EINVAL,
			            "line %zu: %s is newer than the line above (not newest first)",
			            lineno, l.when);
		psec = l.sec;
		pnsec = l.nsec;
		if (since && osv_instant_cmp(l.sec, l.nsec, ssec, snsec) <= 0)
			break;
		if ((r = cb(l.when, l.id, arg)) < 0)
			return errf(err, errlen, r, "line %zu: callback: %s", lineno,
			            osv_errstr(r));
		count++;
	}
	return count;
}
