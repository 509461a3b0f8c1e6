/*
 * window — promotion windows: when an environment's tag may move.
 *
 * A window is one or more ranges of weekdays and times of day in one named
 * time zone: "Mon-Fri 02:00-05:00 Europe/Berlin",
 * "Mon-Fri 22:00-02:00, Sat-Sun 10:00-16:00 UTC". A range without days is
 * every day; one whose end is before its start runs past midnight (into the
 * next day); "24:00" ends a range at midnight; without a zone it is UTC.
 * The zone's rules (tzif.h) are the caller's: this module reads no file.
 *
 * Pure, and given the time, so that tests use a fake clock. Times are UTC
 * milliseconds.
 */
#ifndef REFIT_WINDOW_H
#define REFIT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_MAX_RANGES 16
#define WINDOW_ZONE_MAX   64

struct tz;

struct window_range {
	uint8_t days;        /* bit d: weekday d, 0 = Sunday */
	uint16_t start, end; /* minutes after midnight; end 1440 = 24:00 */
};

struct window {
	struct window_range range[WINDOW_MAX_RANGES];
	size_t n;
	char zone[WINDOW_ZONE_MAX]; /* "Europe/Berlin"; "UTC" when none was given */
};

/*
 * Parses text into *ret; on a syntax error returns -EINVAL with the reason
 * in err. The zone name is checked to be a safe relative path (letters,
 * digits, "/_+-", no ".."), not that the zone exists.
 */
int window_parse(const char *text, struct window *ret, char *err, size_t errlen);

/* Whether the window is open at UTC time now_ms under the zone's rules tz. */
bool window_is_open(const struct window *w, const struct tz *tz, uint64_t now_ms);

/* now_ms when the window is open then, else the start of its next opening. */
uint64_t window_next_open(const struct window *w, const struct tz *tz, uint64_t now_ms);

#endif
