/* protobuf: fields written and read back, the wire bytes of a known message, and
 * malformed input refused without reading past the end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protobuf.h"

static void test_roundtrip(void **state)
{
	struct strbuf b = {0};
	struct pb_reader r;
	struct pb_field f;

	(void)state;
	assert_int_equal(pb_put_varint(&b, 1, 1, 64), 0);
	assert_int_equal(pb_put_bytes(&b, 2, "s3cret", 6, 64), 0);
	assert_int_equal(pb_put_varint(&b, 300, UINT64_MAX, 64), 0);
	assert_int_equal(pb_put_bytes(&b, 4, NULL, 0, 64), 0);
	r = pb_reader_of(b.p, b.len);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.wire, PB_VARINT);
	assert_int_equal(f.u64, 1);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 2);
	assert_int_equal(f.wire, PB_LEN);
	assert_int_equal(f.len, 6);
	assert_memory_equal(f.data, "s3cret", 6);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 300);
	assert_true(f.u64 == UINT64_MAX);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 4);
	assert_int_equal(f.len, 0);
	assert_int_equal(pb_next(&r, &f), 0);
	assert_int_equal(pb_put_bytes(&b, 5, "x", 1, b.len + 2), -E2BIG);
	free(b.p);
}

/* CredentialsResponse{Username:"spike", Secret:"s3cretpw"} as dockerd received it
 * (BUILDKIT.md 12), and HealthCheckResponse{SERVING}. */
static void test_known_bytes(void **state)
{
	static const unsigned char want[] = {0x0a, 0x05, 's', 'p', 'i', 'k', 'e', 0x12, 0x08,
	                                     's',  '3',  'c', 'r', 'e', 't', 'p', 'w'};
	struct strbuf b = {0};

	(void)state;
	assert_int_equal(pb_put_bytes(&b, 1, "spike", 5, 64), 0);
	assert_int_equal(pb_put_bytes(&b, 2, "s3cretpw", 8, 64), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));
	b.len = 0;
	assert_int_equal(pb_put_varint(&b, 1, 1, 64), 0);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.p, "\x08\x01", 2);
	free(b.p);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
	        {"\x0a\x05spi", 5},                                       /* length past the end */
	        {"\x08", 1},                                              /* varint missing */
	        {"\x08\xff\xff", 3},                                      /* varint cut */
	        {"\x00\x01", 2},                                          /* field number 0 */
	        {"\x0b", 1},                                              /* group start */
	        {"\x09\x01\x02", 3},                                      /* fixed64 cut */
	        {"\x0f\x01", 2},                                          /* wire type 7 */
	        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12}, /* 11-byte varint */
	};
	struct pb_field f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pb_reader r = pb_reader_of(bad[i].bytes, bad[i].len);
		assert_int_equal(pb_next(&r, &f), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_known_bytes),
	        cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
