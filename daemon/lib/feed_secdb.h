/*
 * feed_secdb — Alpine's secdb (secdb.alpinelinux.org/vX.Y/{main,community}.json)
 * reduced to feed rows.
 *
 * A secdb document lists, per origin package, the apk versions that fixed
 * advisories: {"distroversion":"v3.18","packages":[{"pkg":{"name":"openssl",
 * "secfixes":{"3.1.4-r1":["CVE-2023-5678"],"0":["CVE-2022-1234"]}}}]}. Each
 * (package, advisory id) becomes one row, ecosystem "Alpine:v3.18", affected
 * {"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":V}]}]}
 * with V the lowest apk version that lists the id (an id listed under several
 * fixes was fixed by the first). The version "0" means "never affected": such
 * an id yields no row, and wins over any other version listing it.
 *
 * Real data is messy; the parser keeps what is an advisory id and counts the
 * rest (struct feed_secdb_stats) instead of failing the whole release:
 *  - an id string may hold several ids ("CVE-2016-10013 XSA-204");
 *  - text from the first '(' on is a comment ("CVE-2018-14467 (BGP)");
 *  - tokens that are not ids are dropped ("XPTI", "CVE-????-?????", "-");
 *  - "CVE_2019-2426" and "CVE 2018-16859" are read as CVE-2019-2426 and
 *    CVE-2018-16859;
 *  - a version key apk would reject ("4.10-1-r1") is skipped with its ids;
 *  - an id list that is null (one real entry) is an empty list.
 * A document whose shape is wrong (not an object, no "packages", a package
 * without a name, "distroversion" not v3.N) is an error: a format change
 * must not pass as "no advisories". "packages": null is an empty document.
 *
 * Pure: no I/O, no globals. Limits: documents up to FEED_SECDB_MAX_LEN bytes,
 * FEED_SECDB_MAX_IDS (package, id, version) listings per document, id strings
 * up to FEED_SECDB_MAX_IDSTR bytes (longer ones count as junk), single ids
 * up to FEED_SECDB_MAX_ID bytes. Rows carry modified NULL, summary NULL,
 * aliases NULL and withdrawn false: secdb has none of these.
 */
#ifndef REFIT_FEED_SECDB_H
#define REFIT_FEED_SECDB_H

#include <stddef.h>

#include "feed.h"

#define FEED_SECDB_MAX_LEN   (64u << 20)
#define FEED_SECDB_MAX_IDS   (1 << 18)
#define FEED_SECDB_MAX_IDSTR 1024
#define FEED_SECDB_MAX_ID    63

/* What a parse skipped or repaired, for the caller's log and metrics. */
struct feed_secdb_stats {
	size_t packages;     /* package entries read */
	size_t rows;         /* rows handed to the callback */
	size_t not_affected; /* (package, id) pairs whose lowest version is "0": no row */
	size_t bad_versions; /* secfixes keys that are not apk versions, skipped with their ids */
	size_t merged;       /* extra listings of a (package, id) already listed */
	size_t junk;         /* tokens dropped as not being advisory ids */
	size_t repaired;     /* ids read from "CVE_YYYY-N" or "CVE YYYY-N" */
	size_t empty;        /* secfixes entries whose id list is null */
};

/*
 * Parses one secdb JSON document and calls cb once per (package, id), sorted
 * by package name then id (byte order); a package listed twice is merged.
 * Returns the number of rows, or a negative errno with a message in err:
 * -EINVAL (malformed JSON, with line and column, or a wrong shape),
 * -EMSGSIZE (a limit), -ENOMEM, or the callback's value. jansson's decoder
 * reports some of its allocation failures as syntax errors: those come back
 * as -EINVAL.
 */
int feed_secdb_parse(const char *buf, size_t len, feed_row_cb cb, void *arg, char *err,
                     size_t errlen);

/* As feed_secdb_parse, and fills *ret_stats (may be NULL) when it succeeds. */
int feed_secdb_parse_stats(const char *buf, size_t len, feed_row_cb cb, void *arg,
                           struct feed_secdb_stats *ret_stats, char *err, size_t errlen);

#endif
