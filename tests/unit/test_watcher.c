/* watcher: the settle-window state machine (base_observe), without a loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "watcher.h"

#define A "sha256:aaaa"
#define B "sha256:bbbb"
#define C "sha256:cccc"

static void test_first_and_same(void **state)
{
	struct store_base s = {0};

	(void)state;
	assert_int_equal(base_observe(&s, A, NULL, 1000, 600000), BASE_FIRST);
	assert_string_equal(s.digest, A);
	assert_int_equal(s.first_seen, 1000);
	assert_int_equal(base_observe(&s, A, NULL, 2000, 600000), BASE_SAME);
	assert_int_equal(s.checked_at, 2000);
	assert_int_equal(s.changed_at, 1000);
}

static void test_settle_then_move(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, NULL, 0, 600000);
	assert_int_equal(base_observe(&s, B, NULL, 1000, 600000), BASE_CANDIDATE);
	assert_string_equal(s.digest, A); /* not yet */
	assert_string_equal(s.candidate, B);
	assert_int_equal(base_observe(&s, B, NULL, 300000, 600000), BASE_SETTLING);
	assert_int_equal(base_observe(&s, B, NULL, 601000, 600000), BASE_MOVED);
	assert_string_equal(s.digest, B);
	assert_string_equal(s.candidate, "");
	assert_int_equal(s.changed_at, 601000);
	assert_int_equal(base_observe(&s, B, NULL, 700000, 600000), BASE_SAME);
}

static void test_flip_back(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, NULL, 0, 600000);
	assert_int_equal(base_observe(&s, B, NULL, 1000, 600000), BASE_CANDIDATE);
	assert_int_equal(base_observe(&s, A, NULL, 2000, 600000), BASE_FLIPPED_BACK);
	assert_string_equal(s.candidate, "");
	assert_string_equal(s.digest, A);
	/* the same new digest again restarts its window from scratch */
	assert_int_equal(base_observe(&s, B, NULL, 3000, 600000), BASE_CANDIDATE);
	assert_int_equal(s.candidate_since, 3000);
}

static void test_candidate_replaced(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, NULL, 0, 600000);
	base_observe(&s, B, NULL, 1000, 600000);
	/* a third digest within the window: it starts its own window */
	assert_int_equal(base_observe(&s, C, NULL, 500000, 600000), BASE_CANDIDATE);
	assert_string_equal(s.candidate, C);
	assert_int_equal(base_observe(&s, C, NULL, 700000, 600000), BASE_SETTLING);
	assert_int_equal(base_observe(&s, C, NULL, 1100000, 600000), BASE_MOVED);
	assert_string_equal(s.digest, C);
}

static void test_settle_zero(void **state)
{
	struct store_base s = {0};

	(void)state;
	base_observe(&s, A, "sha256:index1", 0, 0);
	assert_string_equal(s.index_digest, "sha256:index1");
	assert_int_equal(base_observe(&s, B, "sha256:index2", 10, 0), BASE_MOVED);
	assert_string_equal(s.index_digest, "sha256:index2");
	/* the index moves (another platform) but our digest does not */
	assert_int_equal(base_observe(&s, B, "sha256:index3", 20, 0), BASE_SAME);
	assert_string_equal(s.index_digest, "sha256:index3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_first_and_same), cmocka_unit_test(test_settle_then_move),
	        cmocka_unit_test(test_flip_back),      cmocka_unit_test(test_candidate_replaced),
	        cmocka_unit_test(test_settle_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
