/*
 * feed — the one shape every security feed is reduced to.
 *
 * OSV records, Alpine secdb entries and Debian tracker entries all become
 * rows of (advisory id, ecosystem, package) with an OSV-style "affected"
 * object that holds the ranges. The store keeps the rows; matching
 * evaluates the affected object against an installed version (osv.h), so a
 * secdb fix "1.2.3-r4" and an OSV range answer the same way.
 *
 * Pure types only: the parsers (osv.c, feed_secdb.c, feed_debian.c) call a
 * feed_row_cb per row; nothing here does I/O.
 */
#ifndef REFIT_FEED_H
#define REFIT_FEED_H

#include <stdbool.h>

#include <jansson.h>

/*
 * One (advisory, ecosystem, package). Strings and affected are borrowed for
 * the duration of the callback; copy what you keep.
 *
 * - id: "PYSEC-2021-98", "DLA-3008-1", "CVE-2022-1234" (secdb, tracker).
 * - ecosystem: OSV ecosystem with its release: "PyPI", "Debian:12",
 *   "Alpine:v3.18", "Ubuntu:22.04:LTS".
 * - package: as the ecosystem names it (Debian/Ubuntu: the source package;
 *   PyPI: the name as written in the record, matching normalises it).
 * - modified: RFC 3339, or NULL when the feed has no per-record time.
 * - summary, aliases: may be NULL; aliases is a JSON array of strings.
 * - withdrawn: the advisory no longer holds; it closes what it opened.
 * - affected: an OSV affected object, at least {"ranges":[{"type":
 *   "ECOSYSTEM","events":[...]}]} and/or {"versions":[...]}.
 *
 * A withdrawn OSV record with nothing usable left yields one closing row:
 * ecosystem, package and affected NULL; its id's stored rows are dropped.
 */
struct feed_row {
	const char *id;
	const char *ecosystem;
	const char *package;
	const char *modified;
	const char *summary;
	const json_t *aliases;
	bool withdrawn;
	const json_t *affected;
};

/* Returns 0 to go on, a negative errno to stop the parse (which returns it). */
typedef int (*feed_row_cb)(const struct feed_row *row, void *arg);

#endif
