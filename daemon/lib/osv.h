/*
 * osv — OSV records (https://ossf.github.io/osv-schema/) reduced to feed
 * rows, the evaluation of an OSV "affected" object against an installed
 * version, and the two files of osv.dev's bulk export: <ECOSYSTEM>/all.zip
 * (one <ID>.json per record) and <ECOSYSTEM>/modified_id.csv (what changed
 * since a watermark, newest first).
 *
 * Parsing is strict about what we use (a wrong type is an error, never a
 * guess) and ignores what we do not (details, references, severity, purl,
 * *_specific). GIT ranges are dropped: commit ranges cannot be evaluated
 * against package versions. Evaluation follows the schema's "Evaluation"
 * pseudocode; the header of osv_eval says where it has to choose.
 *
 * Pure: no I/O, no globals. Every input is bounded by the limits below;
 * violations are -E2BIG, malformed input -EINVAL, each with a message in the
 * caller's err buffer (JSON errors with line and column, CSV errors with the
 * line, zip errors with the entry name).
 */
#ifndef REFIT_OSV_H
#define REFIT_OSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "feed.h"
#include "version.h"

#define OSV_MAX_RECORD      (4u << 20) /* bytes of one JSON record (and of one zip entry) */
#define OSV_MAX_AFFECTED    1000       /* affected[] entries per record */
#define OSV_MAX_EVENTS      10000      /* ECOSYSTEM/SEMVER ranges + events per record */
#define OSV_MAX_VERSIONS    100000     /* versions[] strings per record */
#define OSV_MAX_ALIASES     1000       /* aliases[] + upstream[] strings per record */
#define OSV_MAX_NAME        512        /* bytes of an ecosystem or package name */
#define OSV_MAX_STR         1024       /* bytes of an event or versions[] string, or an alias */
#define OSV_ID_MAX          128        /* bytes of an id: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ */
#define OSV_TIME_MAX        40         /* bytes of an RFC 3339 time, plus the NUL */
#define OSV_ZIP_MAX_ENTRIES 2000000    /* entries of all.zip, whatever their name */
#define OSV_CSV_MAX_LINE    512        /* bytes of one modified_id.csv line */
#define OSV_CSV_MAX_LINES   50000000   /* lines of one modified_id.csv */

/*
 * Parses one OSV JSON record (at most OSV_MAX_RECORD bytes) and calls cb once
 * per affected[] entry that names a package {ecosystem, name} and has an
 * ECOSYSTEM or SEMVER range or a non-empty versions[] list, in record order.
 * Row fields: id, ecosystem and package as written; modified as written
 * (validated RFC 3339); summary or NULL; aliases = aliases[] then upstream[]
 * without duplicates, NULL when both are empty; withdrawn = the record has a
 * "withdrawn" time; affected = a new object {"ranges":[{"type","events"}],
 * "versions":[...]} (both keys always present, GIT ranges and every other key
 * dropped, each event reduced to its one introduced/fixed/last_affected/limit
 * key).
 *
 * A withdrawn record without any such entry still yields exactly one row,
 * with ecosystem, package and affected NULL, so that the caller can close
 * the advisory by id. A record that is not withdrawn and has no such entry
 * yields no row.
 *
 * Returns the number of rows, the callback's negative value (err then says
 * "callback: ..."), or -EINVAL / -E2BIG / -ENOMEM with a message.
 */
int osv_parse(const char *buf, size_t len, feed_row_cb cb, void *arg, char *err, size_t errlen);

/* The verdict of osv_eval. fixed is borrowed from the affected JSON. */
struct osv_verdict {
	bool affected;
	const char *fixed; /* the version to upgrade to; NULL = no fix known */
};

/*
 * Decides whether version (valid for eco) is affected per an OSV affected
 * object (as osv_parse builds it, or as OSV writes it: unknown keys and GIT
 * ranges are ignored). Affected means listed in versions[] (same string, or
 * version_cmp() == 0), or inside an ECOSYSTEM or SEMVER range (SEMVER is
 * evaluated with eco's ordering too; our ecosystems publish none). Per range,
 * as the schema's pseudocode: inside when below one of its limit events (or
 * it has none; a limit containing '*' is infinity), and the last event at or
 * below version, in version order, is an introduced (introduced "0" sorts
 * first; fixed v and last_affected v' end the range at v exclusive and v'
 * inclusive). Events of the same version sort introduced, last_affected,
 * fixed, so "introduced X, fixed X" affects nothing.
 *
 * fixed: for a range that holds version, the lowest fixed event above it,
 * NULL when the next ending event is a last_affected or there is none (an
 * unfixed range). When several ranges hold version, the highest of their
 * fixes (only it leaves all of them), NULL if one of them is unfixed. When
 * only versions[] holds it, the lowest fixed event above version in any
 * range, NULL when there is none.
 *
 * An event whose version is not valid for eco is skipped (the others still
 * count), as are versions[] strings that are not valid (they still match by
 * equal string). Returns 0 and fills *ret; -EINVAL when version is not valid
 * for eco or the object is malformed; -E2BIG past OSV_MAX_EVENTS events or
 * OSV_MAX_VERSIONS versions. *ret is untouched on failure.
 */
int osv_eval(const json_t *affected, enum version_eco eco, const char *version,
             struct osv_verdict *ret);

/*
 * Maps an OSV ecosystem to the version ordering it uses: "Debian",
 * "Debian:12" -> DEBIAN; "Ubuntu:22.04:LTS", "Ubuntu:Pro:FIPS:16.04:LTS" ->
 * UBUNTU; "Alpine:v3.18" -> ALPINE; "PyPI" -> PYPI. Names are case-sensitive
 * as in the schema. -ENOTSUP for any other ecosystem (or NULL, or an empty
 * suffix such as "Debian:").
 */
int osv_ecosystem_eco(const char *ecosystem, enum version_eco *ret);

/*
 * The bucket directory of an ecosystem in osv.dev's export: the part before
 * the first ':' ("Debian:12" -> "Debian", "PyPI" -> "PyPI"). Returns buf, or
 * NULL when it is empty, does not fit in n bytes, or holds '/', a control
 * character, or is "." or "..".
 */
const char *osv_ecosystem_dir(const char *ecosystem, char *buf, size_t n);

/*
 * Reads an all.zip held in memory and runs osv_parse on every regular
 * *.json entry (others are skipped). The central directory must be there:
 * a truncated or corrupt zip, a CRC mismatch, an entry larger than
 * OSV_MAX_RECORD, more than OSV_ZIP_MAX_ENTRIES entries, or any record
 * osv_parse rejects is an error naming the entry, and the caller should keep
 * its last good state (rows already passed to cb are not taken back).
 * A zip without entries gives 0. Returns the number of rows, the
 * callback's value, or a negative errno.
 */
int osv_zip_each(const void *buf, size_t len, feed_row_cb cb, void *arg, char *err, size_t errlen);

/* The same for a zip file on disk (an all.zip downloaded to a temporary file). */
int osv_zip_each_file(const char *path, feed_row_cb cb, void *arg, char *err, size_t errlen);

/* Called per modified_id.csv line; when and id are NUL-terminated copies. */
typedef int (*osv_modified_cb)(const char *when, const char *id, void *arg);

/*
 * Walks a modified_id.csv ("<RFC 3339>,<ID>" lines, newest first, no
 * header; a top-level file's ids are "<ecosystem dir>/<ID>"), calling cb
 * for each line strictly newer than since (NULL = every line) and stopping
 * at the first line at or before it. Times compare as instants, so
 * "...:05Z" is older than "...:05.3Z". A line that is malformed, or newer
 * than the line above it (the order the early stop relies on), is -EINVAL
 * with "line N: ..."; a final line without its newline is accepted, CRLF
 * too. Returns the number of callbacks, or the callback's negative value.
 */
int osv_modified_each(const char *buf, size_t len, const char *since, osv_modified_cb cb, void *arg,
                      char *err, size_t errlen);

/*
 * Parses an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS, 0-9 fraction digits,
 * 'Z' or +hh:mm / -hh:mm; 't' and 'z' allowed, a leap second :60 counts as
 * the next second) into seconds since the epoch (UTC) and nanoseconds.
 * -EINVAL for anything else, including dates that do not exist.
 */
int osv_time_parse(const char *s, int64_t *ret_sec, int32_t *ret_nsec);

/* Compares two RFC 3339 times as instants: *ret is -1, 0 or 1. -EINVAL if either is invalid. */
int osv_time_cmp(const char *a, const char *b, int *ret);

#endif
