#include "protobuf.h"

#include <errno.h>

static int varint(struct pb_reader *r, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p == r->end)
			return -EBADMSG;
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG; /* more than 10 bytes */
}

static int fixed(struct pb_reader *r, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < n)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	*ret = v;
	return 0;
}

int pb_next(struct pb_reader *r, struct pb_field *f)
{
	uint64_t key, len;

	if (r->p == r->end)
		return 0;
	if (varint(r, &key) < 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX)
		return -EBADMSG;
	*f = (struct pb_field){.num = (uint32_t)(key >> 3), .wire = (enum pb_wire)(key & 7)};
	switch (f->wire) {
	case PB_VARINT:
		return varint(r, &f->u64) < 0 ? -EBADMSG : 1;
	case PB_I64:
		return fixed(r, 8, &f->u64) < 0 ? -EBADMSG : 1;
	case PB_I32:
		return fixed(r, 4, &f->u64) < 0 ? -EBADMSG : 1;
	case PB_LEN:
		if (varint(r, &len) < 0 || len > (uint64_t)(r->end - r->p))
			return -EBADMSG;
		f->data = r->p;
		f->len = (size_t)len;
		r->p += len;
		return 1;
	}
	return -EBADMSG; /* groups (3, 4) and reserved types */
}

static int put_raw_varint(struct strbuf *b, uint64_t v, size_t max)
{
	char buf[10];
	size_t n = 0;

	do {
		buf[n] = (char)(v & 0x7f);
		v >>= 7;
		if (v)
			buf[n] |= (char)0x80;
		n++;
	} while (v);
	return strbuf_put(b, buf, n, max);
}

int pb_put_varint(struct strbuf *b, uint32_t num, uint64_t v, size_t max)
{
	int r = put_raw_varint(b, (uint64_t)num << 3 | PB_VARINT, max);

	return r < 0 ? r : put_raw_varint(b, v, max);
}

int pb_put_bytes(struct strbuf *b, uint32_t num, const void *data, size_t len, size_t max)
{
	int r = put_raw_varint(b, (uint64_t)num << 3 | PB_LEN, max);

	if (r == 0)
		r = put_raw_varint(b, len, max);
	return r < 0 || !len ? r : strbuf_put(b, (const char *)data, len, max);
}
