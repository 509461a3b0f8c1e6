/*
 * jsonstream — incremental decoding of the Engine API's progress streams.
 *
 * /build, /images/{name}/push and /images/create answer with JSON objects
 * separated by CRLF (or nothing), split arbitrarily across reads. Bytes are
 * fed as they arrive; every complete object is handed to the callback. A
 * pending object is bounded (JSONSTREAM_MAX): anything larger, or bytes that
 * are not JSON, make the stream fail instead of growing without end.
 */
#ifndef REFIT_JSONSTREAM_H
#define REFIT_JSONSTREAM_H

#include <stddef.h>

#include <jansson.h>

#define JSONSTREAM_MAX (1u << 20)

struct jsonstream;

/* Called per decoded object; a non-zero return stops the stream with that value. */
typedef int (*jsonstream_cb)(json_t *obj, void *arg);

struct jsonstream *jsonstream_new(jsonstream_cb cb, void *arg);
void jsonstream_free(struct jsonstream *js);

/* Feeds len bytes; returns 0, the callback's non-zero value, or -EBADMSG / -EMSGSIZE. */
int jsonstream_feed(struct jsonstream *js, const char *data, size_t len);

/* At the end of the stream: 0 when nothing is left over, else -EBADMSG (truncated). */
int jsonstream_finish(struct jsonstream *js);

#endif
