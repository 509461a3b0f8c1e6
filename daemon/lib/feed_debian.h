/*
 * feed_debian — the Debian security tracker's JSON
 * (https://security-tracker.debian.org/tracker/data/json, ~80 MB) reduced to
 * feed rows while it downloads, without a parse tree of the whole document.
 *
 * Shape: {"<source package>": {"<CVE-… or TEMP-…>": {"description": …,
 * "releases": {"<codename>": {"status": "resolved" | "open" | "undetermined",
 * "fixed_version": "<dpkg version>" | "0", "urgency": …}}}}}.
 *
 * A byte scanner follows strings, escapes and nesting only to cut the
 * document into packages ("package": {…}) and each package's object into its
 * entries ("CVE-…": {…}); it checks the punctuation between packages itself.
 * Each entry is validated and decoded by jansson, turned into rows and freed
 * (the package name is decoded by jansson on its own). Memory is bounded by
 * the largest entry (FEED_DEBIAN_MEMBER_MAX by default; real entries are
 * 1-2 KB) and jansson's tree of it, not by the package (linux, ~11 MB of
 * JSON, the largest) or the document.
 *
 * Rows: package = the source package (the top-level key), id = the CVE key,
 * ecosystem "Debian:N" for the codenames with a number (jessie 8 … forky 14;
 * sid and unknown codenames yield nothing), modified/aliases NULL, withdrawn
 * false, summary = the description cut to FEED_DEBIAN_SUMMARY_MAX bytes (at a
 * UTF-8 character boundary). Per release:
 *  - "resolved" with fixed_version "0": not affected, no row;
 *  - "resolved" with fixed_version V: introduced "0", fixed V;
 *  - "open" or "undetermined": introduced "0" only (no fix yet).
 * Every row's affected object also carries the tracker's urgency when there
 * is one, {"database_specific":{"urgency":"unimportant"}}, and the row is
 * emitted whatever the urgency ("unimportant", "end-of-life", "low**"): the
 * matcher decides what to ignore.
 *
 * Untrusted input: a document that is not an object, is truncated, has bytes
 * after its end, a missing ':' or ',' between packages, an entry or a package
 * name over the bound, an entry jansson rejects, or a package or CVE entry
 * that is not an object is an error, reported with its line and column
 * (jansson's column counts characters, the scanner's bytes). Oddities inside
 * an entry are skipped and counted (struct feed_debian_stats) so one odd
 * entry does not stop the whole feed: "releases": [] (real, in place of {}:
 * no rows, not counted as odd), other non-object releases, an unknown or
 * missing status, a resolved release without fixed_version, a fixed_version
 * dpkg would reject, empty ids or package names, or longer than
 * FEED_DEBIAN_NAME_MAX bytes (the entries of such a package are still
 * decoded, but not looked at).
 *
 * Rows come in document order: package, then id, then release, as the
 * tracker lists them; a repeated id gives its rows again. An entry's rows
 * are handed over as soon as the entry ends, so a document found bad later
 * has already delivered some: the caller drops them when finish() fails.
 * Pure apart from the callback: no I/O, no globals.
 */
#ifndef REFIT_FEED_DEBIAN_H
#define REFIT_FEED_DEBIAN_H

#include <stddef.h>

#include "feed.h"

/* The bound on one entry, or one package name: 1 MiB, hundreds of times the real ones. */
#define FEED_DEBIAN_MEMBER_MAX  (1u << 20)
#define FEED_DEBIAN_SUMMARY_MAX 256
#define FEED_DEBIAN_NAME_MAX    128

struct feed_debian;

/* What a parse read, emitted and skipped, for the caller's log and metrics. */
struct feed_debian_stats {
	size_t packages;       /* top-level members */
	size_t entries;        /* (package, id) entries */
	size_t rows;           /* rows handed to the callback */
	size_t not_affected;   /* resolved with fixed_version "0" */
	size_t other_release;  /* sid, unknown codenames and releases not wanted */
	size_t bad_version;    /* fixed_version that is not a dpkg version */
	size_t bad_entry;      /* odd entries skipped: see above */
	size_t largest_member; /* bytes of the largest entry or package name (jansson's input) */
};

/* A parser that hands every row to cb; NULL when out of memory. */
struct feed_debian *feed_debian_new(feed_row_cb cb, void *arg);

/*
 * Restricts the rows to the releases wanted ("bookworm"); call once per
 * release, before the first push. None called: every release with a number.
 * -EINVAL for sid and unknown codenames.
 */
int feed_debian_want(struct feed_debian *f, const char *codename);

/*
 * Lowers (or raises) the bound on one entry ("CVE-…": {…} and the blanks
 * around it, the bytes between the ',' or '{' before it and the ',' or '}'
 * after it) and on one package name ("…", quotes included) from
 * FEED_DEBIAN_MEMBER_MAX; before the first push. A package's size is not
 * bounded: its entries are decoded one at a time.
 */
void feed_debian_set_member_max(struct feed_debian *f, size_t max);

/*
 * Feeds the next len bytes, split anywhere. Returns 0, or a negative errno:
 * -EBADMSG (malformed), -EMSGSIZE (an entry over the bound), -ENOMEM, or the
 * callback's value. After an error every call returns it again; finish()
 * gives its message.
 */
int feed_debian_push(struct feed_debian *f, const char *buf, size_t len);

/*
 * Ends the document: the number of rows emitted, or a negative errno with a
 * message in err (the first error of a push, or -EBADMSG when the document is
 * empty or truncated). jansson's decoder reports some of its allocation
 * failures as syntax errors: those come back as -EBADMSG.
 */
int feed_debian_finish(struct feed_debian *f, char *err, size_t errlen);

/* Copies the counts so far. */
void feed_debian_stats(const struct feed_debian *f, struct feed_debian_stats *ret);

/* Frees f (NULL is fine), finished or not. */
void feed_debian_free(struct feed_debian *f);

#endif
