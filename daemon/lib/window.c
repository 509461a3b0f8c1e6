/*
 * window — promotion windows. See window.h.
 */
#include "window.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tzif.h"

#define DAY_S    86400
#define TEXT_MAX 512
#define TOKENS   4

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int fail(char *err, size_t len, const char *what, const char *tok)
{
	snprintf(err, len, "%s: '%.40s'", what, tok);
	return -EINVAL;
}

static int day_of(const char *s, size_t n)
{
	for (int d = 0; d < 7; d++)
		if (n == 3 && !strncasecmp(s, day_names[d], 3))
			return d;
	return -1;
}

/* "Mon", "Mon-Fri", "Fri-Mon" (wrapping), "daily": a mask of weekdays, or -1. */
static int parse_days(const char *s)
{
	const char *dash = strchr(s, '-');
	int a, b, mask = 0;

	if (!strcasecmp(s, "daily"))
		return 0x7f;
	a = day_of(s, dash ? (size_t)(dash - s) : strlen(s));
	b = dash ? day_of(dash + 1, strlen(dash + 1)) : a;
	if (a < 0 || b < 0)
		return -1;
	for (int d = a;; d = (d + 1) % 7) {
		mask |= 1 << d;
		if (d == b)
			break;
	}
	return mask;
}

/* "HH:MM" into minutes; 24:00 only where end is allowed. */
static int parse_hhmm(const char *s, size_t n, bool end)
{
	int h, m;

	if (n != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || (h == 24 && (m || !end)))
		return -1;
	return h * 60 + m;
}

static int parse_times(const char *s, struct window_range *r)
{
	const char *dash = strchr(s, '-');
	int a, b;

	if (!dash)
		return -1;
	a = parse_hhmm(s, (size_t)(dash - s), false);
	b = parse_hhmm(dash + 1, strlen(dash + 1), true);
	if (a < 0 || b < 0 || a == b || (a == 0 && b == 0))
		return -1;
	r->start = (uint16_t)a;
	r->end = (uint16_t)b;
	return 0;
}

static bool zone_ok(const char *z)
{
	size_t n = strlen(z);

	if (!n || n >= WINDOW_ZONE_MAX || z[0] == '/' || z[0] == '.' || strstr(z, "..") ||
	    strstr(z, "//"))
		return false;
	return strspn(z, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == n;
}

static size_t split(char *s, char **tok)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (n <= TOKENS)
			tok[n++] = t;
	return n;
}

/* One comma-separated part: [DAYS] HH:MM-HH:MM, and in the last part, [ZONE]. */
static int parse_part(char *part, bool last, struct window *w, char *err, size_t len)
{
	char *tok[TOKENS + 1];
	size_t n = split(part, tok);
	struct window_range *r = &w->range[w->n];
	int days = 0x7f;

	if (n > 3)
		return fail(err, len, "too many words in", tok[3]);
	if (last && n >= 2 && !strchr(tok[n - 1], ':')) {
		if (!zone_ok(tok[n - 1]))
			return fail(err, len, "not a time zone name", tok[n - 1]);
		snprintf(w->zone, sizeof(w->zone), "%s", tok[--n]);
	}
	if (n == 0)
		return fail(err, len, "expected [DAYS] HH:MM-HH:MM", part);
	if (n == 2 && (days = parse_days(tok[0])) < 0)
		return fail(err, len, "not a day or day range (Mon, Mon-Fri, daily)", tok[0]);
	if (n == 3)
		return fail(err, len, "expected [DAYS] HH:MM-HH:MM [ZONE], got", tok[2]);
	if (parse_times(tok[n - 1], r))
		return fail(err, len, "not a time range (HH:MM-HH:MM)", tok[n - 1]);
	r->days = (uint8_t)days;
	w->n++;
	return 0;
}

int window_parse(const char *text, struct window *ret, char *err, size_t errlen)
{
	struct window w = {.zone = "UTC"};
	char buf[TEXT_MAX], *save = NULL;
	size_t parts = 1;
	int rc;

	if (strlen(text) >= sizeof(buf))
		return fail(err, errlen, "window too long", text);
	snprintf(buf, sizeof(buf), "%s", text);
	for (const char *c = text; *c; c++)
		parts += *c == ',';
	if (parts > WINDOW_MAX_RANGES)
		return fail(err, errlen, "too many ranges in", text);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if ((rc = parse_part(p, w.n + 1 == parts, &w, err, errlen)))
			return rc;
	}
	if (w.n != parts)
		return fail(err, errlen, "an empty range in", text);
	*ret = w;
	return 0;
}

/* Local time of UTC seconds t: its day number (since 1970-01-01) and minute of the day. */
static void local_of(const struct tz *tz, int64_t t, int64_t *ret_day, int *ret_min)
{
	int64_t local = t + tz_offset(tz, t);
	int64_t day = local / DAY_S - (local % DAY_S < 0);

	*ret_day = day;
	*ret_min = (int)((local - day * DAY_S) / 60);
}

static int weekday(int64_t day)
{
	return (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
}

bool window_is_open(const struct window *w, const struct tz *tz, uint64_t now_ms)
{
	int64_t day;
	int min;

	local_of(tz, (int64_t)(now_ms / 1000), &day, &min);
	for (size_t i = 0; i < w->n; i++) {
		const struct window_range *r = &w->range[i];
		bool today = r->days >> weekday(day) & 1,
		     yesterday = r->days >> weekday(day - 1) & 1;

		if (r->start < r->end ? today && min >= r->start && min < r->end
		                      : (today && min >= r->start) || (yesterday && min < r->end))
			return true;
	}
	return false;
}

uint64_t window_next_open(const struct window *w, const struct tz *tz, uint64_t now_ms)
{
	int64_t t = (int64_t)(now_ms / 1000), day, best = -1;
	int min;

	if (window_is_open(w, tz, now_ms))
		return now_ms;
	local_of(tz, t, &day, &min);
	for (int64_t d = day - 1; d <= day + 8; d++) /* every weekday, and a DST change, in reach */
		for (size_t i = 0; i < w->n; i++) {
			int64_t u;
			if (!(w->range[i].days >> weekday(d) & 1))
				continue;
			u = tz_to_utc(tz, d * DAY_S + w->range[i].start * 60);
			if (u > t && (best < 0 || u < best))
				best = u;
		}
	return best < 0 ? UINT64_MAX : (uint64_t)best * 1000;
}
