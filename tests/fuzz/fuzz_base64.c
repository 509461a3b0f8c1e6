/*
 * fuzz_base64 — libFuzzer target for base64 (X-Registry-Auth, config.json
 * "auth", X-Docker-Container-Path-Stat, BuildKit's progress: all outside
 * input).
 *
 * The input is decoded with both alphabets and a buffer of exactly the
 * announced bound, one byte short of the result, and without its padding;
 * whatever decodes must encode back to a text that decodes to the same
 * bytes, and agree with the other alphabet once 62 and 63 are swapped. The
 * input is also taken as bytes to encode and decode back.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

/* Decodes text; when it decodes, checks the round trip and the bound; returns the result. */
static int decode_checked(const char *text, size_t len, bool url, unsigned char *out, size_t *ret_n)
{
	size_t n = 0, m = 0;
	int r = base64_decode(text, len, url, out, BASE64_DECODED_MAX(len), &n);
	char *enc;
	unsigned char *again;

	check(r == 0 || r == -EINVAL);
	if (r < 0)
		return r;
	check(n <= BASE64_DECODED_MAX(len) && n <= len / 4 * 3 + 2);
	if (n)
		check(base64_decode(text, len, url, out, n - 1, &m) == -E2BIG);
	enc = base64_encode(out, n, url);
	again = malloc(n + 1);
	check(enc && again);
	check(strlen(enc) == BASE64_ENCODED_LEN(n));
	check(base64_decode(enc, strlen(enc), url, again, n, &m) == 0 && m == n);
	check(!n || !memcmp(again, out, n));
	free(enc);
	free(again);
	*ret_n = n;
	return 0;
}

static void swap_alphabet(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		s[i] = s[i] == '+'   ? '-'
		       : s[i] == '/' ? '_'
		       : s[i] == '-' ? '+'
		       : s[i] == '_' ? '/'
		                     : s[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	unsigned char *a = malloc(BASE64_DECODED_MAX(size)), *b = malloc(BASE64_DECODED_MAX(size));
	char *swapped = malloc(size + 1), *enc;
	size_t na = 0, nb = 0, len = size;
	int ra, rb;

	check(a && b && swapped);
	ra = decode_checked(text, size, false, a, &na);
	if (size)
		memcpy(swapped, text, size);
	swap_alphabet(swapped, size);
	rb = decode_checked(swapped, size, true, b, &nb);
	check(ra == rb && na == nb && (!na || !memcmp(a, b, na)));
	/* without its padding it decodes the same */
	while (len > 0 && text[len - 1] == '=')
		len--;
	if (ra == 0 && len != size) {
		check(decode_checked(text, len, false, b, &nb) == 0);
		check(nb == na && (!na || !memcmp(a, b, na)));
	}
	/* the input as bytes */
	enc = base64_encode(data, size, size & 1);
	check(enc);
	free(a);
	a = malloc(size + 1);
	check(a && base64_decode(enc, strlen(enc), size & 1, a, size, &na) == 0 && na == size);
	check(!size || !memcmp(a, data, size));
	free(enc);
	free(a);
	free(b);
	free(swapped);
	return 0;
}
