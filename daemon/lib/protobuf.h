/*
 * protobuf — the wire format of Protocol Buffers, as much as BuildKit's
 * session and progress messages need: a reader that walks the fields of one
 * message (varints, 64/32-bit fixed values, length-delimited bytes; unknown
 * fields are the caller's to skip) and writers of varint and bytes fields.
 * Input is untrusted: every length is checked against the end of the buffer.
 */
#ifndef REFIT_PROTOBUF_H
#define REFIT_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum pb_wire { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

struct pb_reader { /* the bytes of one message still to read */
	const uint8_t *p, *end;
};

struct pb_field {
	uint32_t num;
	enum pb_wire wire;
	uint64_t u64;        /* PB_VARINT, PB_I64, PB_I32 */
	const uint8_t *data; /* PB_LEN: into the reader's buffer */
	size_t len;
};

static inline struct pb_reader pb_reader_of(const void *data, size_t len)
{
	return (struct pb_reader){(const uint8_t *)data, (const uint8_t *)data + len};
}

/* The next field into *f: 1, or 0 at the end; -EBADMSG when malformed (groups included). */
int pb_next(struct pb_reader *r, struct pb_field *f);

/* Appends field num as a varint / as length-delimited bytes; -E2BIG past max, -ENOMEM. */
int pb_put_varint(struct strbuf *b, uint32_t num, uint64_t v, size_t max);
int pb_put_bytes(struct strbuf *b, uint32_t num, const void *data, size_t len, size_t max);

#endif
