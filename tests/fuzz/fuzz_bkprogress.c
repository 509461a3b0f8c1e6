/*
 * fuzz_bkprogress — libFuzzer target for the BuildKit progress decoder (the
 * Engine API's build output: untrusted).
 *
 * Input: one flags byte, then StatusResponse messages, each after a 2-byte
 * little-endian length (the last one takes what is left when it claims
 * more). The corpus holds the recordings of tests/fixtures/buildkit/ so.
 * Each message is fed twice: raw into one decoder, as base64 into another
 * (the aux path); both must say and print the same. Checked each time: a
 * refused message prints nothing, the output is whole lines of clean text
 * within its bound, and the stats and the failure agree.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "bkprogress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

/* out[from..) is what one call printed: whole lines, each "#..." or blank, no control bytes. */
static void check_lines(const struct strbuf *out, size_t from)
{
	bool line_start = true;

	check(out->len == from || out->p[out->len - 1] == '\n');
	for (size_t i = from; i < out->len; i++) {
		unsigned char c = (unsigned char)out->p[i];

		check(!line_start || c == '#' || c == '\n');
		check(c >= 0x20 || c == '\n' || c == '\t');
		check(c != 0x7f);
		line_start = c == '\n';
	}
}

static void check_state(const struct bkprogress *p)
{
	struct bkprogress_stats st;
	const char *name = NULL, *error = NULL;
	int r = bkprogress_failure(p, &name, &error);

	bkprogress_stats(p, &st);
	check(st.vertices <= BKPROGRESS_MAX_VERTICES);
	check(st.shown <= st.vertices && st.cached <= st.shown);
	check(st.cached_steps <= st.cached && st.failed <= st.vertices);
	check((r == 0) == (st.failed > 0));
	check(r == 0 || r == -ENOENT);
	if (r == 0) {
		check(!strchr(name, '\n') && strlen(name) <= BKPROGRESS_NAME_MAX);
		check(*error && !strchr(error, '\n') && strlen(error) <= BKPROGRESS_ERROR_MAX);
	}
}

/* Feeds one message both ways and compares. */
static void feed(struct bkprogress *raw, struct bkprogress *aux, struct strbuf *o1,
                 struct strbuf *o2, const uint8_t *msg, size_t len, size_t max)
{
	size_t from1 = o1->len, from2 = o2->len;
	char *b64 = base64_encode(msg, len, false);
	int r1 = bkprogress_feed(raw, msg, len, o1, max), r2;

	check(r1 == 0 || r1 == -EBADMSG || r1 == -E2BIG || r1 == -ENOMEM);
	check(r1 != -EBADMSG || o1->len == from1);
	check(o1->len <= max || o1->len == from1);
	check_lines(o1, from1);
	check_state(raw);
	if (!b64)
		abort();
	r2 = bkprogress_feed_aux(aux, b64, strlen(b64), o2, max);
	free(b64);
	check(r1 == r2);
	check(o1->len - from1 == o2->len - from2);
	check(o1->len == from1 || !memcmp(o1->p + from1, o2->p + from2, o1->len - from1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bkprogress *raw = NULL, *aux = NULL;
	struct strbuf o1 = {0}, o2 = {0};
	size_t max, from;

	if (size < 1)
		return 0;
	max = data[0] & 1 ? 300 : 1u << 20; /* a small bound: -E2BIG paths */
	if (bkprogress_new(&raw) < 0 || bkprogress_new(&aux) < 0)
		abort();
	for (size_t i = 1; i < size;) {
		size_t len = i + 2 <= size ? (size_t)data[i] | (size_t)data[i + 1] << 8 : 0;

		i += 2;
		if (i > size || len > size - i)
			len = i > size ? 0 : size - i;
		feed(raw, aux, &o1, &o2, data + (i > size ? size : i), len, max);
		i += len;
	}
	from = o1.len;
	check(bkprogress_finish(raw, &o1, max) == bkprogress_finish(aux, &o2, max));
	check_lines(&o1, from);
	check(o1.len == o2.len && (!o1.len || !memcmp(o1.p, o2.p, o1.len)));
	bkprogress_free(raw);
	bkprogress_free(aux);
	free(o1.p);
	free(o2.p);
	return 0;
}
