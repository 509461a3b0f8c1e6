/*
 * tzif — TZif files and POSIX TZ strings (RFC 8536). See tzif.h.
 */
#include "tzif.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TZ_MAX_TIMES 4096 /* Debian's largest zone has about 300 */
#define TZ_MAX_TYPES 256
#define TZ_MAX_CHARS 1024
#define TZ_MAX_LEAPS 1024
#define TZ_MAX_OFF   93599 /* RFC 8536: |utoff| < 26 h */
#define TZ_MAX_RULE  (167 * 3600)
#define TZ_T_LIMIT   (INT64_C(1) << 40) /* 35,000 years: no overflow below */
#define DAY          86400

enum rule_kind { RULE_JULIAN, RULE_ZERO, RULE_MONTH };

struct rule {
	enum rule_kind kind;
	int day, week, month; /* Jn / n: day; Mm.w.d: month, week, day of week */
	int32_t time;         /* seconds after local midnight, may be <0 or >24h */
};

struct posix {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct rule start, end;
};

struct tz {
	size_t n;       /* transitions */
	int64_t *at;    /* UTC seconds, ascending */
	uint8_t *idx;   /* type of each transition */
	size_t ntypes;  /* >= 1 */
	int32_t *utoff; /* per type */
	bool has_footer;
	struct posix footer;
};

/* ---- civil dates (H. Hinnant's algorithms) ---- */

int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	int64_t era, doe, yoe, doy, mp, y;
	unsigned m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*ret_d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = m;
	*ret_y = y + (m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- POSIX TZ strings ---- */

static int parse_name(const char **s)
{
	const char *p = *s;
	size_t n = 0;

	if (*p == '<') {
		for (p++; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		          (*p >= '0' && *p <= '9') || *p == '+' || *p == '-';
		     p++)
			n++;
		if (*p != '>')
			return -EINVAL;
		p++;
	} else {
		for (; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++)
			n++;
	}
	if (n < 3 || n > 32)
		return -EINVAL;
	*s = p;
	return 0;
}

static int parse_num(const char **s, int lo, int hi, int *ret)
{
	const char *p = *s;
	int v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > hi)
			return -EINVAL;
	}
	if (v < lo)
		return -EINVAL;
	*s = p;
	*ret = v;
	return 0;
}

/* [+-]hh[:mm[:ss]], hours at most max_h: seconds (positive unless '-'). */
static int parse_hms(const char **s, int max_h, int32_t *ret)
{
	int sign = 1, h, m = 0, sec = 0;

	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if (parse_num(s, 0, max_h, &h))
		return -EINVAL;
	if (**s == ':') {
		(*s)++;
		if (parse_num(s, 0, 59, &m))
			return -EINVAL;
		if (**s == ':') {
			(*s)++;
			if (parse_num(s, 0, 59, &sec))
				return -EINVAL;
		}
	}
	*ret = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

static int parse_rule(const char **s, struct rule *r)
{
	r->time = 7200;
	if (**s == 'J') {
		(*s)++;
		r->kind = RULE_JULIAN;
		if (parse_num(s, 1, 365, &r->day))
			return -EINVAL;
	} else if (**s == 'M') {
		(*s)++;
		r->kind = RULE_MONTH;
		if (parse_num(s, 1, 12, &r->month) || *(*s)++ != '.' ||
		    parse_num(s, 1, 5, &r->week) || *(*s)++ != '.' || parse_num(s, 0, 6, &r->day))
			return -EINVAL;
	} else {
		r->kind = RULE_ZERO;
		if (parse_num(s, 0, 365, &r->day))
			return -EINVAL;
	}
	if (**s == '/') {
		(*s)++;
		return parse_hms(s, 167, &r->time);
	}
	return 0;
}

static int parse_posix(const char *s, struct posix *p)
{
	int32_t off;

	memset(p, 0, sizeof(*p));
	if (parse_name(&s) || parse_hms(&s, 24, &off))
		return -EINVAL;
	p->std_off = -off;
	if (!*s)
		return 0;
	if (parse_name(&s))
		return -EINVAL;
	p->has_dst = true;
	p->dst_off = p->std_off + 3600;
	if (*s && *s != ',') {
		if (parse_hms(&s, 24, &off))
			return -EINVAL;
		p->dst_off = -off;
	}
	/* tzdata footers always name the rules; POSIX's implementation-defined default is not
	 * guessed. */
	if (*s++ != ',' || parse_rule(&s, &p->start) || *s++ != ',' || parse_rule(&s, &p->end))
		return -EINVAL;
	return *s ? -EINVAL : 0;
}

/* Days since the epoch of the local date a rule names in year y. */
static int64_t rule_day(const struct rule *r, int64_t y)
{
	int64_t jan1 = tz_days_from_civil(y, 1, 1), first, len, d;

	if (r->kind == RULE_JULIAN)
		return jan1 + r->day - 1 + (leap_year(y) && r->day >= 60);
	if (r->kind == RULE_ZERO)
		return jan1 + r->day;
	first = tz_days_from_civil(y, (unsigned)r->month, 1);
	len = (r->month == 12 ? tz_days_from_civil(y + 1, 1, 1)
	                      : tz_days_from_civil(y, (unsigned)r->month + 1, 1)) -
	      first;
	d = first + ((r->day - (first + 4) % 7 + 14) % 7) + 7 * (r->week - 1);
	while (d >= first + len)
		d -= 7;
	return d;
}

static int32_t posix_offset(const struct posix *p, int64_t t)
{
	int64_t y, start, end;
	unsigned m, d;
	bool dst;

	if (!p->has_dst)
		return p->std_off;
	tz_civil_from_days(floor_div(t + p->std_off, DAY), &y, &m, &d);
	start = rule_day(&p->start, y) * DAY + p->start.time - p->std_off;
	end = rule_day(&p->end, y) * DAY + p->end.time - p->dst_off;
	if (start < end)
		dst = t >= start && t < end;
	else
		dst = !(t >= end && t < start);
	return dst ? p->dst_off : p->std_off;
}

/* ---- TZif ---- */

struct rd {
	const uint8_t *p;
	size_t len, pos;
};

struct hdr {
	uint8_t version;
	uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(struct rd *r, struct hdr *h)
{
	const uint8_t *p = r->p + r->pos;

	if (r->len - r->pos < 44 || memcmp(p, "TZif", 4))
		return -EINVAL;
	h->version = p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	r->pos += 44;
	if (h->type < 1 || h->type > TZ_MAX_TYPES || h->time > TZ_MAX_TIMES ||
	    h->chars > TZ_MAX_CHARS || h->leap > TZ_MAX_LEAPS || (h->isut && h->isut != h->type) ||
	    (h->isstd && h->isstd != h->type))
		return -EINVAL;
	return 0;
}

static size_t block_len(const struct hdr *h, size_t tsize)
{
	return h->time * (tsize + 1) + h->type * 6 + h->chars + h->leap * (tsize + 4) + h->isstd +
	       h->isut;
}

/* The data block after header h: transitions and types into tz. */
static int read_block(struct rd *r, const struct hdr *h, size_t tsize, struct tz *tz)
{
	const uint8_t *p = r->p + r->pos;

	if (r->len - r->pos < block_len(h, tsize))
		return -EINVAL;
	tz->n = h->time;
	tz->ntypes = h->type;
	tz->at = calloc(h->time + 1, sizeof(*tz->at));
	tz->idx = calloc(h->time + 1, 1);
	tz->utoff = calloc(h->type, sizeof(*tz->utoff));
	if (!tz->at || !tz->idx || !tz->utoff)
		return -ENOMEM;
	for (size_t i = 0; i < h->time; i++) {
		tz->at[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		tz->idx[i] = p[h->time * tsize + i];
		if (tz->idx[i] >= h->type || (i && tz->at[i] <= tz->at[i - 1]))
			return -EINVAL;
	}
	p += h->time * (tsize + 1);
	for (size_t i = 0; i < h->type; i++, p += 6) {
		tz->utoff[i] = (int32_t)be32(p);
		if (tz->utoff[i] < -TZ_MAX_OFF || tz->utoff[i] > TZ_MAX_OFF || p[4] > 1)
			return -EINVAL;
	}
	r->pos += block_len(h, tsize);
	return 0;
}

/* "\nTZ\n" after the version 2+ block; an empty TZ means none. */
static int read_footer(struct rd *r, struct tz *tz)
{
	const char *s = (const char *)r->p + r->pos;
	size_t left = r->len - r->pos;
	const char *nl;
	char buf[128];

	if (left < 2 || s[0] != '\n' || !(nl = memchr(s + 1, '\n', left - 1)))
		return -EINVAL;
	if ((size_t)(nl - s - 1) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s + 1, (size_t)(nl - s - 1));
	buf[nl - s - 1] = '\0';
	if (!buf[0])
		return 0;
	if (memchr(buf, '\0', (size_t)(nl - s - 1)) || parse_posix(buf, &tz->footer))
		return -EINVAL;
	tz->has_footer = true;
	return 0;
}

int tzif_parse(const void *data, size_t len, struct tz **ret)
{
	struct rd r = {data, len, 0};
	struct hdr h;
	struct tz *tz = calloc(1, sizeof(*tz));
	int err = -ENOMEM;

	if (!tz)
		return -ENOMEM;
	if ((err = read_header(&r, &h)))
		goto out;
	if (h.version >= '2') { /* skip the 32-bit block: the 64-bit one follows */
		if (r.len - r.pos < block_len(&h, 4)) {
			err = -EINVAL;
			goto out;
		}
		r.pos += block_len(&h, 4);
		if ((err = read_header(&r, &h)) || (err = read_block(&r, &h, 8, tz)) ||
		    (err = read_footer(&r, tz)))
			goto out;
	} else if (h.version == 0) {
		if ((err = read_block(&r, &h, 4, tz)))
			goto out;
	} else {
		err = -EINVAL;
		goto out;
	}
	*ret = tz;
	tz = NULL;
out:
	tz_free(tz);
	return err;
}

int tzif_parse_posix(const char *s, struct tz **ret)
{
	struct tz *tz = calloc(1, sizeof(*tz));

	if (!tz)
		return -ENOMEM;
	if (strlen(s) >= 128 || parse_posix(s, &tz->footer)) {
		free(tz);
		return -EINVAL;
	}
	tz->has_footer = true;
	*ret = tz;
	return 0;
}

void tz_free(struct tz *tz)
{
	if (!tz)
		return;
	free(tz->at);
	free(tz->idx);
	free(tz->utoff);
	free(tz);
}

int32_t tz_offset(const struct tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n;

	t = t < -TZ_T_LIMIT ? -TZ_T_LIMIT : t > TZ_T_LIMIT ? TZ_T_LIMIT : t;
	if (tz->n == 0 || t >= tz->at[tz->n - 1]) {
		if (tz->has_footer)
			return posix_offset(&tz->footer, t);
		/* a file's tz has at least one type; a POSIX-only one has the footer */
		return tz->utoff ? tz->utoff[tz->n ? tz->idx[tz->n - 1] : 0] : 0;
	}
	if (t < tz->at[0])
		return tz->utoff[0];
	while (hi - lo > 1) { /* at[lo] <= t < at[hi] */
		size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->utoff[tz->idx[lo]];
}

static bool maps_to(const struct tz *tz, int64_t u, int64_t local)
{
	return u + tz_offset(tz, u) == local;
}

int64_t tz_to_utc(const struct tz *tz, int64_t local)
{
	int64_t ua, ub, lo, hi;
	int32_t oa, ob;

	local = local < -TZ_T_LIMIT ? -TZ_T_LIMIT : local > TZ_T_LIMIT ? TZ_T_LIMIT : local;
	oa = tz_offset(tz, local - DAY); /* the offsets on either side of a change */
	ob = tz_offset(tz, local + DAY);
	ua = local - oa;
	ub = local - ob;
	if (maps_to(tz, ua, local) && maps_to(tz, ub, local))
		return ua < ub ? ua : ub;
	if (maps_to(tz, ua, local))
		return ua;
	if (maps_to(tz, ub, local) || oa == ob)
		return ub;
	/* Skipped: the change lies between ub and ua; find its instant. */
	lo = ua < ub ? ua : ub;
	hi = ua < ub ? ub : ua;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (tz_offset(tz, mid) == oa)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}
