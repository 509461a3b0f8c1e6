/* window: promotion windows parsed, and opened, on a fake clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tzif.h"
#include "window.h"

/* UTC milliseconds of a date and time. */
static uint64_t at(int y, unsigned mo, unsigned d, int h, int mi)
{
	return (uint64_t)(tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static struct tz *berlin(void)
{
	struct tz *tz;

	assert_int_equal(tzif_parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", &tz), 0);
	return tz;
}

static void test_parse(void **state)
{
	struct window w;
	char err[128];

	(void)state;
	assert_int_equal(window_parse("Mon-Fri 02:00-05:00 Europe/Berlin", &w, err, sizeof(err)),
	                 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.range[0].days, 0x3e);
	assert_int_equal(w.range[0].start, 120);
	assert_int_equal(w.range[0].end, 300);
	assert_string_equal(w.zone, "Europe/Berlin");

	assert_int_equal(window_parse("Fri-Mon 22:00-02:00, sat 10:00-24:00, 12:00-12:30", &w, err,
	                              sizeof(err)),
	                 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.range[0].days, 0x63); /* Fri Sat Sun Mon */
	assert_int_equal(w.range[1].days, 0x40);
	assert_int_equal(w.range[1].end, 1440);
	assert_int_equal(w.range[2].days, 0x7f);
	assert_string_equal(w.zone, "UTC");
	assert_int_equal(window_parse("daily 00:00-01:00 America/Argentina/Buenos_Aires", &w, err,
	                              sizeof(err)),
	                 0);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
	        {"", "empty range"},
	        {"Mon-Fri", "time range"},
	        {"Mon-Fry 02:00-05:00", "not a day"},
	        {"Mon 2:00-05:00", "time range"},
	        {"Mon 02:00-24:30", "time range"},
	        {"Mon 24:00-02:00", "time range"},
	        {"Mon 02:00-02:00", "time range"},
	        {"Mon 02:00-05:00 ../../etc/passwd", "time zone"},
	        {"Mon 02:00-05:00 /etc/localtime", "time zone"},
	        {"Mon 02:00-05:00 Europe/Berlin, Tue 02:00-03:00", "expected"},
	        {"Mon 02:00-05:00,", "empty range"},
	        {"Mon 02:00-05:00 UTC extra", "too many words"},
	        {"Mon 02:60-05:00", "time range"},
	};
	struct window w;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(window_parse(bad[i].text, &w, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].err))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].text, err, bad[i].err);
	}
}

static void test_weekdays_berlin(void **state)
{
	struct tz *tz = berlin();
	struct window w;
	char err[128];

	(void)state;
	assert_int_equal(window_parse("Mon-Fri 02:00-05:00 Europe/Berlin", &w, err, sizeof(err)),
	                 0);
	/* Friday 4 December 2026, 14:00 CET: next Monday 02:00 CET = 01:00 UTC */
	assert_false(window_is_open(&w, tz, at(2026, 12, 4, 13, 0)));
	assert_int_equal(window_next_open(&w, tz, at(2026, 12, 4, 13, 0)), at(2026, 12, 7, 1, 0));
	/* Tuesday 03:00 CET: open, so now */
	assert_true(window_is_open(&w, tz, at(2026, 12, 8, 2, 0)));
	assert_int_equal(window_next_open(&w, tz, at(2026, 12, 8, 2, 0) + 1234),
	                 at(2026, 12, 8, 2, 0) + 1234);
	/* Tuesday 05:00 CET: just closed; Wednesday 02:00 */
	assert_false(window_is_open(&w, tz, at(2026, 12, 8, 4, 0)));
	assert_int_equal(window_next_open(&w, tz, at(2026, 12, 8, 4, 0)), at(2026, 12, 9, 1, 0));
	/* in summer, 02:00 CEST is 00:00 UTC */
	assert_int_equal(window_next_open(&w, tz, at(2026, 7, 3, 12, 0)), at(2026, 7, 6, 0, 0));
	tz_free(tz);
}

static void test_midnight_and_ranges(void **state)
{
	struct tz *tz;
	struct window w;
	char err[128];

	(void)state;
	assert_int_equal(tzif_parse_posix("UTC0", &tz), 0);
	assert_int_equal(window_parse("Fri 22:00-02:00, Sun 12:00-13:00", &w, err, sizeof(err)), 0);
	/* Saturday 5 December 2026, 01:00: still Friday's range */
	assert_true(window_is_open(&w, tz, at(2026, 12, 5, 1, 0)));
	assert_false(window_is_open(&w, tz, at(2026, 12, 5, 2, 0)));
	assert_int_equal(window_next_open(&w, tz, at(2026, 12, 5, 2, 0)), at(2026, 12, 6, 12, 0));
	assert_int_equal(window_next_open(&w, tz, at(2026, 12, 6, 13, 0)), at(2026, 12, 11, 22, 0));
	/* Thursday 01:00 is not open: the range belongs to Friday */
	assert_false(window_is_open(&w, tz, at(2026, 12, 10, 1, 0)));
	tz_free(tz);
}

static void test_dst_gap(void **state)
{
	struct tz *tz = berlin();
	struct window w;
	char err[128];

	(void)state;
	/* 02:30 does not exist on 29 March 2026 in Berlin: the window opens at the change */
	assert_int_equal(window_parse("daily 02:30-04:00 Europe/Berlin", &w, err, sizeof(err)), 0);
	assert_int_equal(window_next_open(&w, tz, at(2026, 3, 28, 12, 0)), at(2026, 3, 29, 1, 0));
	/* and on 25 October, when 02:30 happens twice, at the first */
	assert_int_equal(window_next_open(&w, tz, at(2026, 10, 24, 12, 0)),
	                 at(2026, 10, 25, 0, 30));
	tz_free(tz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),           cmocka_unit_test(test_parse_errors),
	        cmocka_unit_test(test_weekdays_berlin), cmocka_unit_test(test_midnight_and_ranges),
	        cmocka_unit_test(test_dst_gap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
