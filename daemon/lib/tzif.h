/*
 * tzif — a time zone's rules from its TZif file (RFC 8536, the files of
 * /usr/share/zoneinfo), for converting between UTC and local time without
 * the C library's process-wide TZ (localtime_r after setenv("TZ") changes
 * every caller's zone at once).
 *
 * Pure: the caller reads the file and hands over its bytes. Untrusted input:
 * counts are bounded, every index checked, transitions must ascend; a
 * malformed file yields -EINVAL. Version 2+ files are read from their 64-bit
 * block; times after the last transition follow the footer's POSIX TZ string
 * ("CET-1CEST,M3.5.0,M10.5.0/3"), which tzif_parse_posix also reads alone.
 * Leap-second corrections ("right/" zones) are ignored.
 */
#ifndef REFIT_TZIF_H
#define REFIT_TZIF_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/* Parses a TZif file into *ret (free with tz_free); -EINVAL or -ENOMEM. */
int tzif_parse(const void *data, size_t len, struct tz **ret);

/* Parses a POSIX TZ string ("UTC0", "EST5EDT,M3.2.0,M11.1.0") into *ret. */
int tzif_parse_posix(const char *s, struct tz **ret);

void tz_free(struct tz *tz);

/* The offset from UTC, in seconds east, in force at UTC time t (seconds). */
int32_t tz_offset(const struct tz *tz, int64_t t);

/*
 * The UTC time (seconds) of local wall-clock time local (seconds since the
 * epoch as if the zone were UTC). A time skipped by a change to summer time
 * gives the instant the change happens; a repeated one, its first occurrence.
 */
int64_t tz_to_utc(const struct tz *tz, int64_t local);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), and back. */
int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d);
void tz_civil_from_days(int64_t days, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d);

#endif
