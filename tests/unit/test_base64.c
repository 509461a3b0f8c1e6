/* base64: the RFC 4648 test vectors both ways, both alphabets, optional padding, every
 * byte value, garbage refused, and the output bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static void check(const char *plain, const char *enc, bool url)
{
	unsigned char out[64];
	size_t n = 99, len = strlen(plain);
	char *e = base64_encode(plain, len, url), unpadded[64];

	assert_non_null(e);
	assert_string_equal(e, enc);
	assert_int_equal(strlen(e), BASE64_ENCODED_LEN(len));
	free(e);
	assert_int_equal(base64_decode(enc, strlen(enc), url, out, sizeof(out), &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(out, plain, n);
	assert_true(BASE64_DECODED_MAX(strlen(enc)) >= n);
	/* padding is optional, as Go's RawStdEncoding writes it */
	strcpy(unpadded, enc);
	unpadded[strcspn(unpadded, "=")] = '\0';
	n = 99;
	assert_int_equal(base64_decode(unpadded, strlen(unpadded), url, out, sizeof(out), &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(out, plain, n);
}

/* RFC 4648 §10. */
static void test_rfc4648_vectors(void **state)
{
	static const char *const v[][2] = {
	        {"", ""},
	        {"f", "Zg=="},
	        {"fo", "Zm8="},
	        {"foo", "Zm9v"},
	        {"foob", "Zm9vYg=="},
	        {"fooba", "Zm9vYmE="},
	        {"foobar", "Zm9vYmFy"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		check(v[i][0], v[i][1], false);
		check(v[i][0], v[i][1], true); /* no + or / in these */
	}
}

/* The two alphabets differ in 62 and 63 only, and do not mix. */
static void test_alphabets(void **state)
{
	static const unsigned char odd[] = {0xfb, 0xff, 0xbf, 0xfb, 0xef};
	unsigned char out[16];
	size_t n;
	char *s;

	(void)state;
	s = base64_encode(odd, sizeof(odd), false);
	assert_string_equal(s, "+/+/++8=");
	free(s);
	s = base64_encode(odd, sizeof(odd), true);
	assert_string_equal(s, "-_-_--8=");
	free(s);
	assert_int_equal(base64_decode("-_-_--8=", 8, true, out, sizeof(out), &n), 0);
	assert_int_equal(n, sizeof(odd));
	assert_memory_equal(out, odd, n);
	assert_int_equal(base64_decode("-_-_--8=", 8, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("+/+/++8=", 8, true, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("+/-_", 4, false, out, sizeof(out), &n), -EINVAL);
}

/* All 256 byte values, at every alignment, through both alphabets. */
static void test_every_byte(void **state)
{
	unsigned char all[258], out[400];

	(void)state;
	for (int i = 0; i < 258; i++)
		all[i] = (unsigned char)(i * 7 + 3);
	for (int url = 0; url < 2; url++)
		for (size_t len = 255; len <= 258; len++) {
			char *e = base64_encode(all, len, url);
			size_t n;

			assert_non_null(e);
			assert_int_equal(strlen(e), BASE64_ENCODED_LEN(len));
			assert_int_equal(base64_decode(e, strlen(e), url, out, sizeof(out), &n), 0);
			assert_int_equal(n, len);
			assert_memory_equal(out, all, len);
			free(e);
		}
}

static void test_garbage(void **state)
{
	static const char *const bad[] = {
	        "Z",        /* 6 bits: no byte */
	        "Zm9vY",    /* the same after a group */
	        "Zg=",      /* padding short of a group of 4 */
	        "Z===",     /* three '=' */
	        "====",     /* padding alone */
	        "Zg==Zg==", /* padding inside */
	        "Zm=v",     /* padding in the middle */
	        "Zm9v!A==", /* outside the alphabet */
	        "Zm 9v",    /* whitespace */
	        "Zm9v\n",   /* a newline */
	        "Zm9v\r\n", /* a CRLF */
	        "Zm\x80v",  /* a high byte */
	};
	unsigned char out[16];
	size_t n = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(base64_decode(bad[i], strlen(bad[i]), false, out, sizeof(out), &n),
		                 -EINVAL);
	assert_int_equal(base64_decode("Zm\0v", 4, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(n, 42); /* untouched on failure */
}

/* The result must fit the caller's buffer, exactly is fine. */
static void test_bound(void **state)
{
	unsigned char out[6] = {0};
	size_t n = 0;

	(void)state;
	assert_int_equal(base64_decode("Zm9vYmFy", 8, false, out, 5, &n), -E2BIG);
	assert_int_equal(out[0], 0); /* nothing written */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, false, out, 6, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(base64_decode("Zm9vYmE=", 8, false, out, 5, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(base64_decode("Zm9vYmE", 7, false, out, 4, &n), -E2BIG);
	assert_int_equal(base64_decode("", 0, false, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rfc4648_vectors), cmocka_unit_test(test_alphabets),
	        cmocka_unit_test(test_every_byte),      cmocka_unit_test(test_garbage),
	        cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
