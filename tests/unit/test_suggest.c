/* suggest: the closest command or key to a mistyped one, or none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "suggest.h"

static const char *const words[] = {"status", "scan", "projects", "builds", "rebuild"};

static const char *word_at(size_t i, const void *arg)
{
	(void)arg;
	return words[i];
}

static void test_suggest(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("statsu", "status"), 2);
	assert_int_equal(suggest_distance("", "abc"), 3);
	assert_string_equal(suggest_closest("statsu", 5, word_at, NULL), "status");
	assert_string_equal(suggest_closest("stat", 5, word_at, NULL),
	                    "status"); /* a prefix wins */
	assert_string_equal(suggest_closest("rebuidl", 5, word_at, NULL), "rebuild");
	assert_string_equal(suggest_closest("project", 5, word_at, NULL), "projects");
	assert_null(suggest_closest("zzzzzz", 5, word_at, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_suggest)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
