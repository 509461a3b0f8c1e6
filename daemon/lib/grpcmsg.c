#include "grpcmsg.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "protobuf.h"
#include "strbuf.h"

/* ---- requests ---- */

/* The prefix is complete: checks it. The message buffer grows as bytes come, so a length
 * announced and never sent costs nothing. */
static int take_prefix(struct grpcmsg_in *in)
{
	size_t max = in->max ? in->max : GRPCMSG_MAX;
	uint32_t len = (uint32_t)in->prefix[1] << 24 | (uint32_t)in->prefix[2] << 16 |
	               (uint32_t)in->prefix[3] << 8 | in->prefix[4];

	if (in->prefix[0] == 1)
		return -EPROTONOSUPPORT;
	if (in->prefix[0] != 0)
		return -EBADMSG;
	if (len > max)
		return -EMSGSIZE;
	in->len = len;
	return 0;
}

/* Room for n more message bytes (n <= what the prefix announced). */
static int grow(struct grpcmsg_in *in, size_t n)
{
	size_t have = in->got - GRPCMSG_PREFIX, cap = in->cap ? in->cap : 256;
	uint8_t *p;

	if (have + n <= in->cap)
		return 0;
	while (cap < have + n)
		cap *= 2;
	if (cap > in->len)
		cap = in->len;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	if (in->msg) {
		memcpy(p, in->msg, have);
		explicit_bzero(in->msg, have);
		free(in->msg);
	}
	in->msg = p;
	in->cap = cap;
	return 0;
}

int grpcmsg_in_feed(struct grpcmsg_in *in, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (in->error)
		return in->error;
	while (len > 0 && in->got < GRPCMSG_PREFIX) {
		in->prefix[in->got++] = *p++;
		len--;
		if (in->got == GRPCMSG_PREFIX && (in->error = take_prefix(in)) < 0)
			return in->error;
	}
	if (len == 0)
		return 0;
	if (len > GRPCMSG_PREFIX + in->len - in->got)
		return in->error = -EBADMSG; /* a second message on a unary call */
	if ((in->error = grow(in, len)) < 0)
		return in->error;
	memcpy(in->msg + (in->got - GRPCMSG_PREFIX), p, len);
	in->got += len;
	return 0;
}

int grpcmsg_in_end(const struct grpcmsg_in *in, const uint8_t **ret, size_t *ret_len)
{
	if (in->error)
		return in->error;
	if (in->got < GRPCMSG_PREFIX || in->got != GRPCMSG_PREFIX + in->len)
		return -EBADMSG;
	*ret = in->msg ? in->msg : (const uint8_t *)""; /* the empty message */
	*ret_len = in->len;
	return 0;
}

void grpcmsg_in_done(struct grpcmsg_in *in)
{
	if (in->msg) {
		explicit_bzero(in->msg, in->cap);
		free(in->msg);
	}
	*in = (struct grpcmsg_in){.max = in->max};
}

/* The last value of string field 1 (proto3: the last one wins), into buf. */
static int string_field1(const void *msg, size_t len, char *buf, size_t buflen)
{
	struct pb_reader r = pb_reader_of(msg, len);
	const uint8_t *s = NULL;
	struct pb_field f;
	size_t n = 0;
	int k;

	while ((k = pb_next(&r, &f)) > 0) {
		if (f.num != 1)
			continue; /* GetSecretRequest.annotations, fields of newer versions */
		if (f.wire != PB_LEN)
			return -EBADMSG;
		s = f.data;
		n = f.len;
	}
	if (k < 0 || (n && memchr(s, '\0', n)))
		return -EBADMSG;
	if (n >= buflen)
		return -ENAMETOOLONG;
	if (n)
		memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int grpcmsg_credentials_host(const void *msg, size_t len, char *buf, size_t buflen)
{
	return string_field1(msg, len, buf, buflen);
}

int grpcmsg_secret_id(const void *msg, size_t len, char *buf, size_t buflen)
{
	return string_field1(msg, len, buf, buflen);
}

/* ---- responses ---- */

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

/* The size of a length-delimited field with a one-byte key (field numbers < 16). */
static size_t bytes_field_len(size_t len)
{
	return 1 + varint_len(len) + len;
}

/* Allocates out for exactly msg_len message bytes and writes the prefix: later puts never
 * reallocate, so no copy of the message is left in freed memory. */
static int out_start(struct strbuf *b, size_t msg_len)
{
	uint8_t prefix[GRPCMSG_PREFIX] = {0, (uint8_t)(msg_len >> 24), (uint8_t)(msg_len >> 16),
	                                  (uint8_t)(msg_len >> 8), (uint8_t)msg_len};

	*b = (struct strbuf){0};
	if (msg_len > GRPCMSG_MAX)
		return -EMSGSIZE;
	b->cap = GRPCMSG_PREFIX + msg_len + 1; /* strbuf keeps a NUL after the bytes */
	b->len = 0;
	b->p = malloc(b->cap);
	if (!b->p)
		return -ENOMEM;
	return strbuf_put(b, (const char *)prefix, sizeof(prefix), b->cap);
}

/* Hands the message over when r is 0; else wipes it (it may hold a secret) and returns r. */
static int out_finish(struct strbuf *b, int r, struct grpcmsg_out *ret)
{
	if (r < 0) {
		if (b->p)
			explicit_bzero(b->p, b->cap);
		free(b->p);
		return r;
	}
	assert(b->len + 1 == b->cap);
	ret->p = (uint8_t *)b->p;
	ret->len = b->len;
	return 0;
}

void grpcmsg_out_free(struct grpcmsg_out *out)
{
	if (!out || !out->p)
		return;
	explicit_bzero(out->p, out->len + 1);
	free(out->p);
	out->p = NULL;
	out->len = 0;
}

int grpcmsg_health(struct grpcmsg_out *ret)
{
	struct strbuf b;
	int r = out_start(&b, 2);

	if (r == 0)
		r = pb_put_varint(&b, 1, 1, b.cap); /* status: SERVING */
	return out_finish(&b, r, ret);
}

int grpcmsg_credentials(const char *username, const char *secret, struct grpcmsg_out *ret)
{
	size_t ul = username ? strlen(username) : 0, sl = secret ? strlen(secret) : 0;
	size_t total = (ul ? bytes_field_len(ul) : 0) + (sl ? bytes_field_len(sl) : 0);
	struct strbuf b;
	int r;

	if (ul > GRPCMSG_MAX || sl > GRPCMSG_MAX)
		return -EMSGSIZE;
	r = out_start(&b, total);
	if (r == 0 && ul)
		r = pb_put_bytes(&b, 1, username, ul, b.cap);
	if (r == 0 && sl)
		r = pb_put_bytes(&b, 2, secret, sl, b.cap);
	return out_finish(&b, r, ret);
}

int grpcmsg_secret(const void *data, size_t len, struct grpcmsg_out *ret)
{
	struct strbuf b;
	int r;

	if (len > GRPCMSG_MAX)
		return -EMSGSIZE;
	r = out_start(&b, len ? bytes_field_len(len) : 0);
	if (r == 0 && len)
		r = pb_put_bytes(&b, 1, data, len, b.cap);
	return out_finish(&b, r, ret);
}

/* ---- grpc-message ---- */

size_t grpcmsg_percent_encode(const char *s, char *buf, size_t buflen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, char_start = 0;

	if (buflen == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = *p >= 0x20 && *p <= 0x7e && *p != '%';
		size_t need = plain ? 1 : 3;

		if ((*p & 0xc0) != 0x80)
			char_start = o; /* not a UTF-8 continuation byte: a character starts */
		if (o + need >= buflen) {
			if ((*p & 0xc0) == 0x80)
				o = char_start; /* drop the start of a character cut short */
			break;
		}
		if (plain) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
	return o;
}
