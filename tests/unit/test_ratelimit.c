/* ratelimit: token buckets per key, refill, burst, bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ratelimit.h"

static void test_burst_and_refill(void **state)
{
	struct ratelimit *l = calloc(1, sizeof(*l));

	(void)state;
	for (int i = 0; i < 4; i++) /* a new key starts with a full bucket */
		assert_int_equal(ratelimit_take(l, "10.0.0.1", 2.0, 4.0, 1000), 0);
	assert_int_equal(ratelimit_take(l, "10.0.0.1", 2.0, 4.0, 1000), 501); /* 1 token at 2/s */
	assert_int_equal(ratelimit_take(l, "10.0.0.2", 2.0, 4.0, 1000), 0);   /* its own bucket */
	assert_int_equal(ratelimit_take(l, "10.0.0.1", 2.0, 4.0, 1500), 0);
	assert_true(ratelimit_take(l, "10.0.0.1", 2.0, 4.0, 1500) > 0);
	/* a long pause refills up to the burst, not beyond */
	for (int i = 0; i < 4; i++)
		assert_int_equal(ratelimit_take(l, "10.0.0.1", 2.0, 4.0, 100000), 0);
	assert_true(ratelimit_take(l, "10.0.0.1", 2.0, 4.0, 100000) > 0);
	/* wait looks without taking */
	assert_int_equal(ratelimit_wait(l, "10.0.0.3", 2.0, 1.0, 100000), 0);
	assert_int_equal(ratelimit_wait(l, "10.0.0.3", 2.0, 1.0, 100000), 0);
	assert_int_equal(ratelimit_take(l, "10.0.0.3", 2.0, 1.0, 100000), 0);
	assert_int_equal(ratelimit_wait(l, "10.0.0.3", 2.0, 1.0, 100000), 501);
	free(l);
}

/* Many more clients than slots: nothing grows, old buckets are forgotten (full again). */
static void test_bounded(void **state)
{
	struct ratelimit *l = calloc(1, sizeof(*l));
	char key[32];

	(void)state;
	assert_int_equal(ratelimit_take(l, "first", 1.0, 1.0, 0), 0);
	assert_true(ratelimit_take(l, "first", 1.0, 1.0, 0) > 0);
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "192.0.2.%d/%d", i % 256, i);
		assert_int_equal(ratelimit_take(l, key, 1.0, 1.0, (uint64_t)i + 1), 0);
	}
	assert_int_equal(ratelimit_take(l, "first", 1.0, 1.0, 100001), 0);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_burst_and_refill),
	        cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
