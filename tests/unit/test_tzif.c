/*
 * tzif: TZif files of tzdata (tests/fixtures/tzif) and POSIX TZ strings; the
 * offsets agree with glibc's localtime_r for every zone of this machine's
 * /usr/share/zoneinfo that the test reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tzif.h"

/* UTC seconds of a date and time. */
static int64_t utc(int y, unsigned mo, unsigned d, int h, int mi)
{
	return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 16);

	assert_non_null(buf);
	if (!f) {
		free(buf);
		return NULL;
	}
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static struct tz *load(const char *name)
{
	char path[256];
	size_t len;
	struct tz *tz = NULL;
	void *buf;

	snprintf(path, sizeof(path), "tests/fixtures/tzif/%s", name);
	buf = slurp(path, &len);
	assert_non_null(buf);
	assert_int_equal(tzif_parse(buf, len, &tz), 0);
	free(buf);
	return tz;
}

static void test_civil(void **state)
{
	int64_t y;
	unsigned m, d;

	(void)state;
	assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(tz_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(tz_days_from_civil(1969, 12, 31), -1);
	for (int64_t z = -800000; z < 800000; z += 997) {
		tz_civil_from_days(z, &y, &m, &d);
		assert_int_equal(tz_days_from_civil(y, m, d), z);
	}
}

static void test_posix_berlin(void **state)
{
	struct tz *tz;

	(void)state;
	assert_int_equal(tzif_parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", &tz), 0);
	/* 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC */
	assert_int_equal(tz_offset(tz, utc(2026, 3, 29, 0, 59) + 59), 3600);
	assert_int_equal(tz_offset(tz, utc(2026, 3, 29, 1, 0)), 7200);
	assert_int_equal(tz_offset(tz, utc(2026, 10, 25, 0, 59)), 7200);
	assert_int_equal(tz_offset(tz, utc(2026, 10, 25, 1, 0)), 3600);
	assert_int_equal(tz_offset(tz, utc(2027, 1, 1, 0, 0)), 3600);
	tz_free(tz);
}

static void test_posix_southern(void **state)
{
	struct tz *tz;

	(void)state;
	assert_int_equal(tzif_parse_posix("AEST-10AEDT,M10.1.0,M4.1.0/3", &tz), 0);
	assert_int_equal(tz_offset(tz, utc(2026, 1, 15, 0, 0)), 39600);
	assert_int_equal(tz_offset(tz, utc(2026, 6, 15, 0, 0)), 36000);
	assert_int_equal(tz_offset(tz, utc(2026, 12, 31, 20, 0)), 39600);
	/* ends Sunday 5 April 2026 03:00 local summer time = 16:00 UTC on the 4th */
	assert_int_equal(tz_offset(tz, utc(2026, 4, 4, 15, 59)), 39600);
	assert_int_equal(tz_offset(tz, utc(2026, 4, 4, 16, 0)), 36000);
	tz_free(tz);
}

static void test_posix_forms(void **state)
{
	static const char *const good[] = {
	        "UTC0",
	        "<+0530>-5:30",
	        "EST5EDT,M3.2.0,M11.1.0",
	        "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
	        "XXX3EDT4,0/0,J365/25",
	        "IST-1GMT0,M10.5.0,M3.5.0/1",
	        "ABC+12:30:15DEF,J60/1,300/23:59:59",
	};
	static const char *const bad[] = {
	        "",
	        "AB1",
	        "CET",
	        "CET-1CEST",
	        "CET-1CEST,M13.1.0,M1.1.0",
	        "CET-25",
	        "CET-1CEST,M3.5",
	        "CET-1CEST,M3.5.0,M10.5.0/168",
	        "<AB>1",
	        "CET-1 ",
	        "CET-1CEST,J0,J1",
	        "CET-1CEST,M3.6.0,J1",
	};
	struct tz *tz;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(tzif_parse_posix(good[i], &tz), 0);
		tz_free(tz);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tzif_parse_posix(bad[i], &tz), -EINVAL);
	assert_int_equal(tzif_parse_posix("<+0530>-5:30", &tz), 0);
	assert_int_equal(tz_offset(tz, 0), 19800);
	tz_free(tz);
}

static void test_files(void **state)
{
	struct tz *b = load("Europe_Berlin"), *ny = load("America_New_York"),
	          *syd = load("Australia_Sydney"), *kol = load("Asia_Kolkata");

	(void)state;
	assert_int_equal(tz_offset(b, utc(1979, 7, 1, 0, 0)), 3600); /* no summer time in 1979 */
	assert_int_equal(tz_offset(b, utc(1980, 7, 1, 0, 0)), 7200);
	assert_int_equal(tz_offset(b, utc(2026, 3, 29, 1, 0)), 7200);
	assert_int_equal(tz_offset(b, utc(2026, 3, 29, 0, 59)), 3600);
	assert_int_equal(tz_offset(b, utc(2045, 7, 1, 0, 0)), 7200); /* past 2037: the footer */
	assert_int_equal(tz_offset(b, utc(2045, 12, 1, 0, 0)), 3600);
	assert_int_equal(tz_offset(ny, utc(2026, 3, 8, 6, 59)), -18000);
	assert_int_equal(tz_offset(ny, utc(2026, 3, 8, 7, 0)), -14400);
	assert_int_equal(tz_offset(syd, utc(2026, 1, 1, 0, 0)), 39600);
	assert_int_equal(tz_offset(kol, utc(2026, 1, 1, 0, 0)), 19800);
	assert_int_equal(tz_offset(kol, utc(2100, 1, 1, 0, 0)), 19800);
	tz_free(b);
	tz_free(ny);
	tz_free(syd);
	tz_free(kol);
}

static void test_to_utc(void **state)
{
	struct tz *b = load("Europe_Berlin");

	(void)state;
	/* as if UTC: local wall-clock seconds */
	assert_int_equal(tz_to_utc(b, utc(2026, 7, 1, 12, 0)), utc(2026, 7, 1, 10, 0));
	assert_int_equal(tz_to_utc(b, utc(2026, 12, 1, 12, 0)), utc(2026, 12, 1, 11, 0));
	/* 02:30 on 29 March 2026 does not exist: the change itself, 01:00 UTC */
	assert_int_equal(tz_to_utc(b, utc(2026, 3, 29, 2, 30)), utc(2026, 3, 29, 1, 0));
	/* 02:30 on 25 October 2026 happens twice: the first, still in summer time */
	assert_int_equal(tz_to_utc(b, utc(2026, 10, 25, 2, 30)), utc(2026, 10, 25, 0, 30));
	tz_free(b);
}

/* Every offset from 1970 to 2045, every 7 h 13 min, as glibc computes it. */
static void agree(const char *zone)
{
	char path[256];
	size_t len;
	void *buf;
	struct tz *tz;

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	if (!(buf = slurp(path, &len)))
		return; /* no tzdata here */
	assert_int_equal(tzif_parse(buf, len, &tz), 0);
	setenv("TZ", zone, 1);
	tzset();
	for (time_t t = 0; t < (time_t)utc(2045, 1, 1, 0, 0); t += 7 * 3600 + 13 * 60) {
		struct tm tm;
		localtime_r(&t, &tm);
		if (tz_offset(tz, t) != tm.tm_gmtoff)
			fail_msg("%s at %lld: %d, glibc %ld", zone, (long long)t, tz_offset(tz, t),
			         tm.tm_gmtoff);
		assert_int_equal(tz_to_utc(tz, t + tm.tm_gmtoff) <= t, 1);
	}
	tz_free(tz);
	free(buf);
}

static void test_glibc_agrees(void **state)
{
	static const char *const zones[] = {
	        "Europe/Berlin",       "America/New_York",
	        "Australia/Sydney",    "Asia/Kolkata",
	        "Europe/London",       "America/Santiago",
	        "Pacific/Auckland",    "Africa/Casablanca",
	        "Asia/Tehran",         "America/St_Johns",
	        "Australia/Lord_Howe", "Europe/Dublin",
	        "Pacific/Chatham",     "UTC",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		agree(zones[i]);
	unsetenv("TZ");
}

static void test_malformed(void **state)
{
	size_t len;
	unsigned char *buf = slurp("tests/fixtures/tzif/Europe_Berlin", &len);
	struct tz *tz;

	(void)state;
	for (size_t n = 0; n < len; n++) /* every truncation */
		assert_int_equal(tzif_parse(buf, n, &tz), -EINVAL);
	buf[0] = 'X';
	assert_int_equal(tzif_parse(buf, len, &tz), -EINVAL);
	buf[0] = 'T';
	buf[4] = '1'; /* an unknown version */
	assert_int_equal(tzif_parse(buf, len, &tz), -EINVAL);
	buf[4] = '2';
	buf[39] = 0; /* no local time types */
	assert_int_equal(tzif_parse(buf, len, &tz), -EINVAL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_civil),          cmocka_unit_test(test_posix_berlin),
	        cmocka_unit_test(test_posix_southern), cmocka_unit_test(test_posix_forms),
	        cmocka_unit_test(test_files),          cmocka_unit_test(test_to_utc),
	        cmocka_unit_test(test_glibc_agrees),   cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
