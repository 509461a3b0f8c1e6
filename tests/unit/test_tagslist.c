/*
 * test_tagslist — tags/list pages and Link headers, as distribution and
 * Docker Hub send them (the Link form is the one distribution's
 * registry/handlers/tags.go writes: </v2/NAME/tags/list?last=X&n=N>; rel="next").
 */
#include "tagslist.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BASE "http://127.0.0.1:5000"

static int page(struct tagslist *l, const char *body)
{
	const char *err = NULL;
	int r = tagslist_page(l, body, strlen(body), &err);

	assert_true(r == 0 || (err && *err));
	return r;
}

static void test_page(void **state)
{
	struct tagslist l = {0};

	assert_int_equal(
	        page(&l, "{\"name\":\"library/python\",\"tags\":[\"3.11.4-slim\",\"latest\"]}"), 0);
	assert_int_equal(page(&l, "{\"name\":\"library/python\",\"tags\":null}"), 0);
	assert_int_equal(page(&l, "{\"name\":\"library/python\"}"), 0);
	/* invalid tags are dropped, never kept */
	assert_int_equal(page(&l, "{\"tags\":[\"ok_1\",\"-bad\",\"a b\",\"\",7,\"x\\n\",\".x\"]}"),
	                 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.tags[0], "3.11.4-slim");
	assert_string_equal(l.tags[2], "ok_1");
	assert_int_equal(l.dropped, 6);
	assert_int_equal(page(&l, "[\"a\"]"), -EPROTO);
	assert_int_equal(page(&l, "{\"tags\":\"a\"}"), -EPROTO);
	assert_int_equal(page(&l, "not json"), -EPROTO);
	assert_int_equal(page(&l, ""), -EPROTO);
	assert_int_equal(l.n, 3);
	tagslist_done(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.tags);
	tagslist_done(&l);
}

static void test_limits(void **state)
{
	struct tagslist l = {0};
	char long_tag[200], body[400];

	memset(long_tag, 'a', 129);
	long_tag[129] = '\0';
	snprintf(body, sizeof(body), "{\"tags\":[\"%s\"]}", long_tag);
	assert_int_equal(page(&l, body), 0);
	assert_int_equal(l.n, 0);
	long_tag[128] = '\0';
	snprintf(body, sizeof(body), "{\"tags\":[\"%s\"]}", long_tag);
	assert_int_equal(page(&l, body), 0);
	assert_int_equal(l.n, 1);
	for (size_t i = 1; i < TAGSLIST_MAX_TAGS; i++)
		assert_int_equal(page(&l, "{\"tags\":[\"t\"]}"), 0);
	assert_int_equal(l.n, TAGSLIST_MAX_TAGS);
	assert_int_equal(page(&l, "{\"tags\":[\"t\"]}"), -E2BIG);
	tagslist_done(&l);
}

static int next(const char *link, char *buf, size_t len)
{
	buf[0] = '\0';
	return tagslist_next_url(link, BASE, buf, len);
}

static void test_link(void **state)
{
	char u[TAGSLIST_URL_MAX];

	assert_int_equal(
	        next("</v2/library/python/tags/list?last=3.11&n=1000>; rel=\"next\"", u, sizeof(u)),
	        1);
	assert_string_equal(u, BASE "/v2/library/python/tags/list?last=3.11&n=1000");
	assert_int_equal(next("<" BASE "/v2/a/tags/list?last=b&n=2>; rel=next", u, sizeof(u)), 1);
	assert_string_equal(u, BASE "/v2/a/tags/list?last=b&n=2");
	assert_int_equal(next("</v2/a/tags/list?n=2>; rel=\"prev\", </v2/a/tags/list?last=z&n=2>; "
	                      "REL=\"first next\"",
	                      u, sizeof(u)),
	                 1);
	assert_string_equal(u, BASE "/v2/a/tags/list?last=z&n=2");
	assert_int_equal(next("</v2/a/tags/list?n=2>; rel=\"prev\"", u, sizeof(u)), 0);
	assert_int_equal(next("", u, sizeof(u)), 0);
	assert_int_equal(next("</x>; rel=\"nextpage\"", u, sizeof(u)), 0);
	assert_int_equal(next("</x>; norel=\"next\"", u, sizeof(u)), 0);
	/* never to another origin: our token would go with it */
	assert_int_equal(next("<https://evil.example/v2/a>; rel=\"next\"", u, sizeof(u)), -EPROTO);
	assert_int_equal(next("<//evil.example/v2/a>; rel=\"next\"", u, sizeof(u)), -EPROTO);
	assert_int_equal(next("<" BASE "0/v2/a>; rel=\"next\"", u, sizeof(u)), -EPROTO);
	assert_int_equal(next("<" BASE "@evil/v2/a>; rel=\"next\"", u, sizeof(u)), -EPROTO);
	assert_int_equal(next("<v2/a>; rel=\"next\"", u, sizeof(u)), -EPROTO);
	assert_int_equal(next("</v2/a b>; rel=\"next\"", u, sizeof(u)), -EPROTO);
	assert_int_equal(next("</v2/a; rel=\"next\"", u, sizeof(u)), -EPROTO);
	assert_int_equal(next("</v2/a/tags/list>; rel=\"next\"", u, 10), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_page),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
