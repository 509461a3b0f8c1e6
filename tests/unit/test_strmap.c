/* strmap: lookups after many insertions and growth, replacement, empty keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "strmap.h"

static void test_many(void **state)
{
	enum { N = 20000 };
	static char keys[N][16];
	struct strmap m = {0};
	size_t v;

	(void)state;
	assert_false(strmap_get(&m, "x", &v));
	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "project-%zu", i);
		assert_int_equal(strmap_put(&m, keys[i], i), 0);
	}
	assert_int_equal(m.n, N);
	assert_true(m.cap >= 2 * N);
	for (size_t i = 0; i < N; i++) {
		assert_true(strmap_get(&m, keys[i], &v));
		assert_int_equal(v, i);
	}
	assert_false(strmap_get(&m, "project-", &v));
	assert_false(strmap_get(&m, "project-20000", &v));
	assert_int_equal(strmap_put(&m, keys[7], 99), 0); /* replaces */
	assert_int_equal(m.n, N);
	assert_true(strmap_get(&m, "project-7", &v));
	assert_int_equal(v, 99);
	assert_int_equal(strmap_put(&m, "", 5), 0);
	assert_true(strmap_get(&m, "", &v));
	assert_int_equal(v, 5);
	strmap_done(&m);
	assert_int_equal(m.n, 0);
	assert_false(strmap_get(&m, keys[0], &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_many)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
