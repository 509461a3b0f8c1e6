/*
 * api_html: the pure pieces of the HTML pages (escaping, times, reasons,
 * counts, digests) and the routes of the pages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_html.h"

/* Runs a writer into a memstream; the text (malloc'd). */
#define CAPTURE(out, call)                               \
	do {                                             \
		size_t len_;                             \
		FILE *f = open_memstream(&(out), &len_); \
		assert_non_null(f);                      \
		call;                                    \
		assert_int_equal(fclose(f), 0);          \
	} while (0)

static void test_esc(void **state)
{
	char *s = NULL;

	(void)state;
	CAPTURE(s, html_esc(f, "<script>alert('x')</script> & \"q\""));
	assert_string_equal(s,
	                    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
	free(s);
	CAPTURE(s, html_esc_line(f, "first <b>\nsecond"));
	assert_string_equal(s, "first &lt;b&gt; \xe2\x80\xa6");
	free(s);
	CAPTURE(s, html_esc_line(f, "one line\n"));
	assert_string_equal(s, "one line");
	free(s);
	CAPTURE(s, html_esc(f, NULL));
	assert_string_equal(s, "");
	free(s);
}

static void test_reason_count(void **state)
{
	char *s = NULL;

	(void)state;
	CAPTURE(s, html_reason(f, "manual", "manual: requested through the API"));
	assert_string_equal(s, "requested through the API");
	free(s);
	CAPTURE(s, html_reason(f, "security", "security: PYSEC-1 requests"));
	assert_string_equal(s, "PYSEC-1 requests");
	free(s);
	CAPTURE(s, html_reason(f, "base", "basement: <moved>"));
	assert_string_equal(s, "basement: &lt;moved&gt;");
	free(s);
	CAPTURE(s, html_count(f, 1, "project"));
	assert_string_equal(s, "1 project");
	free(s);
	CAPTURE(s, html_count(f, 0, "project"));
	assert_string_equal(s, "0 projects");
	free(s);
}

static void test_time(void **state)
{
	uint64_t t = html_time_ms("2026-12-08T01:02:03.456Z");
	char *s = NULL;

	(void)state;
	assert_int_equal(t, 1796691723456ull);
	assert_int_equal(html_time_ms("2026-12-08T01:02:03Z"), 0);
	assert_int_equal(html_time_ms("2026-12-08T01:02:03.456Zx"), 0);
	assert_int_equal(html_time_ms(NULL), 0);
	CAPTURE(s, html_time(f, t + 180000, "2026-12-08T01:02:03.456Z"));
	assert_string_equal(s, "<time datetime=\"2026-12-08T01:02:03.456Z\" "
	                       "title=\"2026-12-08 01:02:03 UTC\">3 min ago</time>");
	free(s);
	CAPTURE(s, html_time(f, t - 7200000, "2026-12-08T01:02:03.456Z"));
	assert_non_null(strstr(s, ">in 2 h</time>"));
	free(s);
	CAPTURE(s, html_time(f, t + 2000, "2026-12-08T01:02:03.456Z"));
	assert_non_null(strstr(s, ">just now</time>"));
	free(s);
	CAPTURE(s, html_time(f, t + 3 * 86400000ull, "2026-12-08T01:02:03.456Z"));
	assert_non_null(strstr(s, ">3 d ago</time>"));
	free(s);
	CAPTURE(s, html_time(f, t, "<script>"));
	assert_null(strstr(s, "<script"));
	free(s);
}

static void test_digest(void **state)
{
	char *s = NULL;

	(void)state;
	CAPTURE(s, html_digest(f, "sha256:0123456789abcdef0123456789abcdef"));
	assert_string_equal(
	        s, "<code class=\"digest\" title=\"sha256:0123456789abcdef0123456789abcdef\">"
	           "sha256:0123456789ab\xe2\x80\xa6</code>");
	free(s);
	CAPTURE(s, html_digest(f, "sha256:<b>"));
	assert_non_null(strstr(s, ">sha256:&lt;b&gt;</code>"));
	free(s);
}

static void test_page_routes(void **state)
{
	struct api_route rt;

	(void)state;
	assert_int_equal(api_route_match("GET", "/projects/churn-model", &rt), 0);
	assert_int_equal(rt.id, R_PAGE_PROJECT);
	assert_string_equal(rt.name, "churn-model");
	assert_int_equal(api_route_match("GET", "/builds/7", &rt), 0);
	assert_int_equal(rt.id, R_PAGE_BUILD);
	assert_int_equal(rt.build_id, 7);
	assert_int_equal(api_route_match("GET", "/projects/Bad!", &rt), -ENOENT);
	assert_int_equal(api_route_match("GET", "/builds/x", &rt), -ENOENT);
	assert_int_equal(api_route_match("POST", "/projects/a", &rt), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_esc),         cmocka_unit_test(test_reason_count),
	        cmocka_unit_test(test_time),        cmocka_unit_test(test_digest),
	        cmocka_unit_test(test_page_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
