/* jsonstream: Engine API progress streams split at every byte, errors, garbage, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonstream.h"

/* A real classic-builder stream shape (dockerd 20.10), with a non-ASCII byte sequence. */
static const char stream[] = "{\"stream\":\"Step 1/2 : FROM scratch\"}\r\n"
                             "{\"stream\":\"\\n\"}\r\n"
                             "{\"stream\":\" ---> caf\xc3\xa9 \xe2\x9c\x93\"}\r\n"
                             "{\"aux\":{\"ID\":\"sha256:0123\"}}\r\n"
                             "{\"stream\":\"Successfully built 0123\\n\"}\r\n";

struct seen {
	int n;
	char last[128];
	int stop_at;
};

static int on_obj(json_t *obj, void *arg)
{
	struct seen *s = arg;
	char *dump = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", dump ? dump : "");
	free(dump);
	return s->stop_at && s->n == s->stop_at ? 42 : 0;
}

static void test_split_everywhere(void **state)
{
	size_t len = strlen(stream);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct seen s = {0};
		struct jsonstream *js = jsonstream_new(on_obj, &s);
		assert_int_equal(jsonstream_feed(js, stream, cut), 0);
		assert_int_equal(jsonstream_feed(js, stream + cut, len - cut), 0);
		assert_int_equal(jsonstream_finish(js), 0);
		assert_int_equal(s.n, 5);
		assert_string_equal(s.last, "{\"stream\":\"Successfully built 0123\\n\"}");
		jsonstream_free(js);
	}
}

static void test_byte_by_byte(void **state)
{
	struct seen s = {0};
	struct jsonstream *js = jsonstream_new(on_obj, &s);

	(void)state;
	for (size_t i = 0; i < strlen(stream); i++)
		assert_int_equal(jsonstream_feed(js, stream + i, 1), 0);
	assert_int_equal(s.n, 5);
	jsonstream_free(js);
}

static void test_error_object_and_stop(void **state)
{
	const char *err =
	        "{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}\n{\"stream\":\"x\"}";
	struct seen s = {.stop_at = 1};
	struct jsonstream *js = jsonstream_new(on_obj, &s);

	(void)state;
	assert_int_equal(jsonstream_feed(js, err, strlen(err)), 42);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(s.last, "boom"));
	jsonstream_free(js);
}

static void test_garbage_and_truncation(void **state)
{
	struct seen s = {0};
	struct jsonstream *js = jsonstream_new(on_obj, &s);

	(void)state;
	assert_int_equal(jsonstream_feed(js, "<html>502</html>", 16), -EBADMSG);
	jsonstream_free(js);
	js = jsonstream_new(on_obj, &s);
	assert_int_equal(jsonstream_feed(js, "{\"a\":1}{\"a\":tru", 15), 0);
	assert_int_equal(jsonstream_finish(js), -EBADMSG); /* cut off at the end */
	jsonstream_free(js);
	js = jsonstream_new(on_obj, &s);
	assert_int_equal(jsonstream_feed(js, "{\"a\":nope}\r\n{\"b\":1}", 19), -EBADMSG);
	jsonstream_free(js);
}

static void test_bounded(void **state)
{
	struct seen s = {0};
	struct jsonstream *js = jsonstream_new(on_obj, &s);
	char *big = malloc(JSONSTREAM_MAX);
	int r = 0;

	(void)state;
	memset(big, 'x', JSONSTREAM_MAX);
	memcpy(big, "{\"stream\":\"", 11);
	r = jsonstream_feed(js, big, JSONSTREAM_MAX);
	if (r == 0)
		r = jsonstream_feed(js, "xx", 2);
	assert_int_equal(r, -EMSGSIZE);
	free(big);
	jsonstream_free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_split_everywhere),
	        cmocka_unit_test(test_byte_by_byte),
	        cmocka_unit_test(test_error_object_and_stop),
	        cmocka_unit_test(test_garbage_and_truncation),
	        cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
