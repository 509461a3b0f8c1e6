/*
 * fuzz_grpcmsg — libFuzzer target for the gRPC framing and the session's
 * messages (BuildKit session input from dockerd).
 *
 * The first two bytes choose how the rest is cut into DATA chunks and the
 * size limit; the chunks go through grpcmsg_in, and an assembled message
 * through both request decoders. A string they return is framed again as a
 * response and read back. The input, as a string, is percent-encoded into
 * buffers of every small size: the output must be a clean prefix of the
 * full encoding, and decode back to a prefix of the input.
 */
#include "grpcmsg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protobuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes enc (checked well-formed) into out; returns its length. */
static size_t percent_decode(const char *enc, char *out)
{
	size_t o = 0;

	for (const char *p = enc; *p; p++) {
		check(*p >= 0x20 && *p <= 0x7e);
		if (*p != '%') {
			out[o++] = *p;
			continue;
		}
		check(hexval(p[1]) >= 0 && hexval(p[2]) >= 0);
		out[o++] = (char)(hexval(p[1]) << 4 | hexval(p[2]));
		p += 2;
	}
	out[o] = '\0';
	return o;
}

static bool continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* Whether s cut at len ends inside a character begun by a UTF-8 lead byte. */
static bool cut_in_char(const char *s, size_t len)
{
	size_t i = len;

	if (!continuation(s[len]))
		return false;
	while (i > 0 && continuation(s[i - 1]))
		i--;
	return i > 0 && (unsigned char)s[i - 1] >= 0xc0;
}

static void fuzz_percent(const uint8_t *data, size_t size)
{
	char s[512], full[3 * sizeof(s) + 1], buf[64], dec[sizeof(s)];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1, flen, len;

	memcpy(s, data, n);
	s[n] = '\0';
	n = strlen(s);
	flen = grpcmsg_percent_encode(s, full, sizeof(full));
	check(flen == strlen(full) && percent_decode(full, dec) == n);
	check(!memcmp(dec, s, n));
	for (size_t cap = 0; cap <= sizeof(buf); cap++) {
		len = grpcmsg_percent_encode(s, buf, cap);
		if (cap == 0) {
			check(len == 0);
			continue;
		}
		check(len < cap && len == strlen(buf) && len <= flen);
		check(!memcmp(buf, full, len));
		len = percent_decode(buf, dec);
		check(!memcmp(dec, s, len));
		check(!cut_in_char(s, len));
	}
}

/* A decoded string, framed as a response and read back. */
static void roundtrip(const char *str)
{
	struct grpcmsg_out out = {0};
	struct pb_reader r;
	struct pb_field f;
	size_t len = strlen(str), n = 0;

	check(grpcmsg_credentials(str, str, &out) == 0);
	check(out.p[0] == 0);
	check(((size_t)out.p[1] << 24 | (size_t)out.p[2] << 16 | (size_t)out.p[3] << 8 |
	       out.p[4]) == out.len - GRPCMSG_PREFIX);
	r = pb_reader_of(out.p + GRPCMSG_PREFIX, out.len - GRPCMSG_PREFIX);
	while (pb_next(&r, &f) == 1) {
		check(f.wire == PB_LEN && f.len == len && !memcmp(f.data, str, len));
		n++;
	}
	check(n == (len ? 2 : 0));
	grpcmsg_out_free(&out);
	/* GetSecretResponse{data}: key, a one- or two-byte length, the bytes */
	check(grpcmsg_secret(str, len, &out) == 0);
	check(out.len == GRPCMSG_PREFIX + (len ? 1 + (len > 127 ? 2 : 1) + len : 0));
	grpcmsg_out_free(&out);
}

static void decode(const uint8_t *msg, size_t len)
{
	char buf[GRPCMSG_STR_MAX];
	int r;

	r = grpcmsg_credentials_host(msg, len, buf, sizeof(buf));
	check(r == 0 || r == -EBADMSG || r == -ENAMETOOLONG);
	if (r == 0)
		roundtrip(buf);
	check(grpcmsg_secret_id(msg, len, buf, sizeof(buf)) == r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct grpcmsg_in in;
	const uint8_t *msg;
	size_t step, len, off;
	int r = 0;

	fuzz_percent(data, size);
	if (size < 2)
		return 0;
	step = data[0] ? data[0] : size;
	in = (struct grpcmsg_in){.max = data[1] & 1 ? 64 : 0};
	data += 2;
	size -= 2;
	for (off = 0; off < size && r == 0; off += step) {
		r = grpcmsg_in_feed(&in, data + off, size - off < step ? size - off : step);
		check(r == 0 || r == -EMSGSIZE || r == -EPROTONOSUPPORT || r == -EBADMSG);
	}
	r = grpcmsg_in_end(&in, &msg, &len);
	check(r == 0 || r == in.error || (r == -EBADMSG && !in.error));
	if (r == 0) {
		check(msg && len == size - GRPCMSG_PREFIX);
		check(!memcmp(msg, data + GRPCMSG_PREFIX, len));
		decode(msg, len);
	}
	grpcmsg_in_done(&in);
	decode(data, size); /* the bytes as a message of their own, too */
	return 0;
}
