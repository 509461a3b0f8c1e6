/* array: growth by doubling, the hard maximum, overflow of the byte size, failure leaves it whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "array.h"

struct pair {
	int a;
	char b[12];
};

static void test_push_many(void **state)
{
	struct pair *v = NULL;
	size_t n = 0, cap = 0, reallocs = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		size_t before = cap;
		assert_int_equal(ARRAY_GROW(v, cap, n, ARRAY_NO_MAX), 0);
		reallocs += cap != before;
		assert_true(cap > n);
		v[n++] = (struct pair){.a = i};
	}
	for (int i = 0; i < 100000; i++)
		assert_int_equal(v[i].a, i);
	assert_true(reallocs <= 14); /* 16 doubled up to 131072: linear cost, not one per push */
	free(v);
}

static void test_max(void **state)
{
	int *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (; n < 20; n++)
		assert_int_equal(ARRAY_GROW(v, cap, n, 20), 0);
	assert_int_equal(cap, 20); /* 16, then 32 clipped to the maximum */
	assert_int_equal(ARRAY_GROW(v, cap, n, 20), -E2BIG);
	assert_int_equal(cap, 20);
	free(v);
}

static void test_overflow(void **state)
{
	struct pair *v = NULL;
	size_t cap = 0;

	(void)state;
	/* a count whose byte size does not fit size_t fails without touching the array */
	assert_int_equal(ARRAY_GROW(v, cap, SIZE_MAX / 4, ARRAY_NO_MAX), -ENOMEM);
	assert_null(v);
	assert_int_equal(cap, 0);
}

static void test_room_already(void **state)
{
	long *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(ARRAY_GROW(v, cap, 0, ARRAY_NO_MAX), 0);
	long *first = v;
	for (size_t n = 1; n < 16; n++)
		assert_int_equal(ARRAY_GROW(v, cap, n, ARRAY_NO_MAX), 0);
	assert_ptr_equal(v, first); /* no realloc while there is room */
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_push_many),
	        cmocka_unit_test(test_max),
	        cmocka_unit_test(test_overflow),
	        cmocka_unit_test(test_room_already),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
