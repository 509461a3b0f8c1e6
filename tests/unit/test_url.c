/* url_redact: no user information or (on request) query in what is shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "url.h"

static void test_redact(void **state)
{
	char b[128];

	(void)state;
	url_redact("https://u:p@mirror.example/osv?token=t#x", true, b, sizeof(b));
	assert_string_equal(b, "https://***@mirror.example/osv?token=t#x");
	url_redact("https://u:p@hooks.example/refit?token=t#x", false, b, sizeof(b));
	assert_string_equal(b, "https://***@hooks.example/refit");
	url_redact("http://127.0.0.1:8080/_t/record/all?token=s3cret", false, b, sizeof(b));
	assert_string_equal(b, "http://127.0.0.1:8080/_t/record/all");
	url_redact("file:///srv/osv", true, b, sizeof(b));
	assert_string_equal(b, "file:///srv/osv");
	url_redact("http://h/a@b", true, b, sizeof(b)); /* an @ after the host is no user */
	assert_string_equal(b, "http://h/a@b");
	url_redact("https://u@h", false, b, 12); /* truncated, still terminated */
	assert_string_equal(b, "https://***");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_redact)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
