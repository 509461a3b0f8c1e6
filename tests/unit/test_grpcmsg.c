/* grpcmsg: requests assembled from DATA chunks cut anywhere, the responses byte for byte as
 * dockerd received them (../shared/BUILDKIT.md B.11, B.12), malformed and compressed
 * messages refused, grpc-message percent-encoded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grpcmsg.h"

/* DATA of GetSecret on stream 1 (B.11): GetSecretRequest{ID: "pipconf"}. */
static const uint8_t get_secret_req[] = {0x00, 0x00, 0x00, 0x00, 0x09, 0x0a, 0x07,
                                         'p',  'i',  'p',  'c',  'o',  'n',  'f'};
/* DATA of Credentials (B.11): CredentialsRequest{Host: "127.0.0.1:52175"}. */
static const uint8_t credentials_req[] = {0x00, 0x00, 0x00, 0x00, 0x11, 0x0a, 0x0f, '1',
                                          '2',  '7',  '.',  '0',  '.',  '0',  '.',  '1',
                                          ':',  '5',  '2',  '1',  '7',  '5'};

/* Feeds bytes in chunks of step (the last one shorter), then ends the stream. */
static int assemble(const uint8_t *bytes, size_t len, size_t step, size_t max,
                    struct grpcmsg_in *in, const uint8_t **msg, size_t *msg_len)
{
	*in = (struct grpcmsg_in){.max = max};
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		int r = grpcmsg_in_feed(in, bytes + off, n);
		if (r < 0)
			return r;
	}
	return grpcmsg_in_end(in, msg, msg_len);
}

static void test_assemble_any_split(void **state)
{
	struct grpcmsg_in in;
	const uint8_t *msg;
	char id[GRPCMSG_STR_MAX], host[GRPCMSG_STR_MAX];
	size_t len;

	(void)state;
	for (size_t step = 1; step <= sizeof(get_secret_req); step++) {
		assert_int_equal(
		        assemble(get_secret_req, sizeof(get_secret_req), step, 0, &in, &msg, &len),
		        0);
		assert_int_equal(len, 9);
		assert_int_equal(grpcmsg_secret_id(msg, len, id, sizeof(id)), 0);
		assert_string_equal(id, "pipconf");
		grpcmsg_in_done(&in);
	}
	assert_int_equal(assemble(credentials_req, sizeof(credentials_req), 3, 64, &in, &msg, &len),
	                 0);
	assert_int_equal(grpcmsg_credentials_host(msg, len, host, sizeof(host)), 0);
	assert_string_equal(host, "127.0.0.1:52175");
	grpcmsg_in_done(&in);
	/* HealthCheckRequest{} is the empty message: a message, not NULL */
	assert_int_equal(assemble((const uint8_t *)"\0\0\0\0\0", 5, 5, 0, &in, &msg, &len), 0);
	assert_non_null(msg);
	assert_int_equal(len, 0);
	grpcmsg_in_done(&in);
	/* an empty DATA chunk changes nothing */
	in = (struct grpcmsg_in){0};
	assert_int_equal(grpcmsg_in_feed(&in, "", 0), 0);
	assert_int_equal(grpcmsg_in_feed(&in, get_secret_req, sizeof(get_secret_req)), 0);
	assert_int_equal(grpcmsg_in_feed(&in, "", 0), 0);
	assert_int_equal(grpcmsg_in_end(&in, &msg, &len), 0);
	grpcmsg_in_done(&in);
}

/* A message far larger than the first buffer: grown as the chunks come, bytes intact. */
static void test_assemble_large(void **state)
{
	size_t n = 300000, frame = GRPCMSG_PREFIX + n;
	uint8_t *bytes = malloc(frame);
	struct grpcmsg_in in;
	const uint8_t *msg;
	size_t len;

	(void)state;
	assert_non_null(bytes);
	bytes[0] = 0;
	bytes[1] = (uint8_t)(n >> 24);
	bytes[2] = (uint8_t)(n >> 16);
	bytes[3] = (uint8_t)(n >> 8);
	bytes[4] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		bytes[GRPCMSG_PREFIX + i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(assemble(bytes, frame, 16384 + 3, 0, &in, &msg, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(msg, bytes + GRPCMSG_PREFIX, n);
	grpcmsg_in_done(&in);
	assert_int_equal(assemble(bytes, frame, 1000, n - 1, &in, &msg, &len), -EMSGSIZE);
	grpcmsg_in_done(&in);
	free(bytes);
}

static void test_assemble_refused(void **state)
{
	static const uint8_t compressed[] = {0x01, 0, 0, 0, 2, 0x1f, 0x8b};
	static const uint8_t bad_flag[] = {0x02, 0, 0, 0, 0};
	static const uint8_t huge[] = {0x00, 0x00, 0x40, 0x00, 0x01}; /* 4 MiB + 1 */
	static const uint8_t two[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct grpcmsg_in in;
	const uint8_t *msg;
	size_t len;

	(void)state;
	assert_int_equal(assemble(compressed, sizeof(compressed), 1, 0, &in, &msg, &len),
	                 -EPROTONOSUPPORT);
	assert_int_equal(grpcmsg_in_end(&in, &msg, &len), -EPROTONOSUPPORT); /* kept */
	assert_int_equal(grpcmsg_in_feed(&in, "x", 1), -EPROTONOSUPPORT);
	grpcmsg_in_done(&in);
	assert_int_equal(assemble(bad_flag, sizeof(bad_flag), 5, 0, &in, &msg, &len), -EBADMSG);
	grpcmsg_in_done(&in);
	assert_int_equal(assemble(huge, sizeof(huge), 5, 0, &in, &msg, &len), -EMSGSIZE);
	grpcmsg_in_done(&in);
	assert_int_equal(assemble(get_secret_req, sizeof(get_secret_req), 4, 8, &in, &msg, &len),
	                 -EMSGSIZE);
	grpcmsg_in_done(&in);
	assert_int_equal(assemble(two, sizeof(two), 7, 0, &in, &msg, &len), -EBADMSG);
	grpcmsg_in_done(&in);
	/* cut short: in the prefix, in the message, or nothing at all */
	assert_int_equal(assemble(get_secret_req, 3, 1, 0, &in, &msg, &len), -EBADMSG);
	grpcmsg_in_done(&in);
	assert_int_equal(
	        assemble(get_secret_req, sizeof(get_secret_req) - 1, 2, 0, &in, &msg, &len),
	        -EBADMSG);
	grpcmsg_in_done(&in);
	assert_int_equal(assemble(get_secret_req, 0, 1, 0, &in, &msg, &len), -EBADMSG);
	grpcmsg_in_done(&in);
}

static void test_request_fields(void **state)
{
	/* GetSecretRequest{ID: "pipconf", annotations: {"k": "val"}} */
	static const uint8_t annotated[] = {0x0a, 0x07, 'p',  'i', 'p',  'c',  'o', 'n', 'f', 0x12,
	                                    0x08, 0x0a, 0x01, 'k', 0x12, 0x03, 'v', 'a', 'l'};
	static const uint8_t twice[] = {0x0a, 0x01, 'a', 0x0a, 0x01, 'b'};
	static const uint8_t varint1[] = {0x08, 0x01};
	static const uint8_t nul[] = {0x0a, 0x02, 'a', 0x00};
	static const uint8_t cut[] = {0x0a, 0x05, 'a'};
	static const uint8_t other[] = {0x18, 0x05, 0x25, 1, 2, 3, 4};
	char buf[8];

	(void)state;
	assert_int_equal(grpcmsg_secret_id(annotated, sizeof(annotated), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "pipconf");
	assert_int_equal(grpcmsg_secret_id(twice, sizeof(twice), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "b"); /* proto3: the last one wins */
	assert_int_equal(grpcmsg_secret_id(other, sizeof(other), buf, sizeof(buf)), 0);
	assert_string_equal(buf, ""); /* unknown fields skipped, the ID absent */
	assert_int_equal(grpcmsg_credentials_host("", 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(grpcmsg_secret_id(varint1, sizeof(varint1), buf, sizeof(buf)), -EBADMSG);
	assert_int_equal(grpcmsg_secret_id(nul, sizeof(nul), buf, sizeof(buf)), -EBADMSG);
	assert_int_equal(grpcmsg_secret_id(cut, sizeof(cut), buf, sizeof(buf)), -EBADMSG);
	assert_int_equal(grpcmsg_secret_id(annotated, sizeof(annotated), buf, 7), -ENAMETOOLONG);
	assert_int_equal(grpcmsg_credentials_host(credentials_req + 5, sizeof(credentials_req) - 5,
	                                          buf, sizeof(buf)),
	                 -ENAMETOOLONG);
}

/* The response bytes dockerd accepted (B.12). */
static void test_responses(void **state)
{
	static const uint8_t health[] = {0, 0, 0, 0, 2, 0x08, 0x01};
	static const uint8_t creds[] = {0,   0,    0,    0,   0x11, 0x0a, 0x05, 's', 'p', 'i', 'k',
	                                'e', 0x12, 0x08, 's', '3',  'c',  'r',  'e', 't', 'p', 'w'};
	static const uint8_t token[] = {0, 0, 0, 0, 4, 0x12, 0x02, 't', 'k'};
	uint8_t secret[62], want[5 + 2 + 62] = {0, 0, 0, 0, 0x40, 0x0a, 0x3e};
	struct grpcmsg_out out = {0};

	(void)state;
	assert_int_equal(grpcmsg_health(&out), 0);
	assert_int_equal(out.len, sizeof(health));
	assert_memory_equal(out.p, health, sizeof(health));
	grpcmsg_out_free(&out);
	assert_null(out.p);
	assert_int_equal(grpcmsg_credentials("spike", "s3cretpw", &out), 0);
	assert_int_equal(out.len, sizeof(creds));
	assert_memory_equal(out.p, creds, sizeof(creds));
	grpcmsg_out_free(&out);
	/* an identity token: the Secret alone, as the docker CLI sends it */
	assert_int_equal(grpcmsg_credentials(NULL, "tk", &out), 0);
	assert_int_equal(out.len, sizeof(token));
	assert_memory_equal(out.p, token, sizeof(token));
	grpcmsg_out_free(&out);
	/* anonymous: the empty message */
	assert_int_equal(grpcmsg_credentials("", NULL, &out), 0);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.p, "\0\0\0\0\0", 5);
	grpcmsg_out_free(&out);
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	memcpy(want + 7, secret, sizeof(secret));
	assert_int_equal(grpcmsg_secret(secret, sizeof(secret), &out), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.p, want, sizeof(want));
	grpcmsg_out_free(&out);
	assert_int_equal(grpcmsg_secret(NULL, 0, &out), 0); /* an empty secret file */
	assert_int_equal(out.len, 5);
	grpcmsg_out_free(&out);
	grpcmsg_out_free(NULL);
}

/* A 500 KiB secret: a three-byte length varint, the prefix in big endian. */
static void test_large_secret(void **state)
{
	size_t n = 500 * 1024;
	uint8_t *data = malloc(n);
	struct grpcmsg_out out = {0};
	size_t msg = 1 + 3 + n;

	(void)state;
	assert_non_null(data);
	memset(data, 'x', n);
	assert_int_equal(grpcmsg_secret(data, n, &out), 0);
	assert_int_equal(out.len, 5 + msg);
	assert_int_equal(out.p[0], 0);
	assert_int_equal((size_t)out.p[1] << 24 | (size_t)out.p[2] << 16 | (size_t)out.p[3] << 8 |
	                         out.p[4],
	                 msg);
	assert_int_equal(out.p[5], 0x0a);
	assert_memory_equal(out.p + 9, data, n);
	grpcmsg_out_free(&out);
	assert_int_equal(grpcmsg_secret(data, GRPCMSG_MAX + 1, &out), -EMSGSIZE);
	assert_null(out.p);
	free(data);
}

static void test_percent_encode(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(grpcmsg_percent_encode("refit: no credentials", buf, sizeof(buf)), 21);
	assert_string_equal(buf, "refit: no credentials");
	grpcmsg_percent_encode("100% sure\nnext", buf, sizeof(buf));
	assert_string_equal(buf, "100%25 sure%0Anext");
	grpcmsg_percent_encode("caf\xc3\xa9 \x7f", buf, sizeof(buf));
	assert_string_equal(buf, "caf%C3%A9 %7F");
	/* cut short: never inside an escape nor inside a character */
	assert_int_equal(grpcmsg_percent_encode("ab%cd", buf, 5), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(grpcmsg_percent_encode("ab\xc3\xa9", buf, 7), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(grpcmsg_percent_encode("ab\xc3\xa9", buf, 9), 8);
	assert_string_equal(buf, "ab%C3%A9");
	assert_int_equal(grpcmsg_percent_encode("\xe2\x82\xac!", buf, 10), 9);
	assert_string_equal(buf, "%E2%82%AC");
	assert_int_equal(grpcmsg_percent_encode("abc", buf, 1), 0);
	assert_string_equal(buf, "");
	assert_int_equal(grpcmsg_percent_encode("abc", buf, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_assemble_any_split), cmocka_unit_test(test_assemble_large),
	        cmocka_unit_test(test_assemble_refused),   cmocka_unit_test(test_request_fields),
	        cmocka_unit_test(test_responses),          cmocka_unit_test(test_large_secret),
	        cmocka_unit_test(test_percent_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
