/*
 * base64 — RFC 4648 base64 with the standard (§4) or the URL-safe (§5)
 * alphabet: X-Registry-Auth, docker config.json "auth" values, the
 * X-Docker-Container-Path-Stat header and BuildKit's progress messages.
 *
 * Decoding is strict about the alphabet (no whitespace, no mixing of the
 * two alphabets, '=' only as the final padding of a multiple of 4 chars)
 * and lenient about padding, which may be left out, as Go's RawEncoding
 * does. The output is bounded by the caller's buffer.
 */
#ifndef REFIT_BASE64_H
#define REFIT_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes base64_decode may need for n input chars (never less than the result). */
#define BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 3)

/* Chars base64_encode writes for n bytes, without the NUL. */
#define BASE64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)

/* Encodes with padding (url: the RFC 4648 §5 alphabet); malloc'd, NULL when out of memory. */
char *base64_encode(const void *data, size_t len, bool url);

/*
 * Decodes in[0..len) into out (outlen bytes at most) and sets *ret_len.
 * -EINVAL on a character outside the alphabet, misplaced padding or a
 * length no encoder makes; -E2BIG when the result does not fit outlen.
 */
int base64_decode(const char *in, size_t len, bool url, void *out, size_t outlen, size_t *ret_len);

#endif
