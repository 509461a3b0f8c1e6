#include "jsonstream.h"

#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

struct jsonstream {
	jsonstream_cb cb;
	void *arg;
	char *buf;
	size_t len, cap;
	/* scanner state over buf[0..scan): where the current object ends */
	size_t scan;
	int depth;
	bool in_string, escaped;
};

struct jsonstream *jsonstream_new(jsonstream_cb cb, void *arg)
{
	struct jsonstream *js = calloc(1, sizeof(*js));

	if (js) {
		js->cb = cb;
		js->arg = arg;
	}
	return js;
}

void jsonstream_free(struct jsonstream *js)
{
	if (!js)
		return;
	free(js->buf);
	free(js);
}

static int append(struct jsonstream *js, const char *data, size_t len)
{
	size_t cap;
	char *grown;

	if (js->len + len > JSONSTREAM_MAX)
		return -EMSGSIZE;
	if (js->len + len + 1 <= js->cap) {
		memcpy(js->buf + js->len, data, len);
		js->len += len;
		return 0;
	}
	cap = js->cap ? js->cap : 4096;
	while (cap < js->len + len + 1)
		cap *= 2;
	grown = realloc(js->buf, cap);
	if (!grown)
		return -ENOMEM;
	js->buf = grown;
	js->cap = cap;
	memcpy(js->buf + js->len, data, len);
	js->len += len;
	return 0;
}

static size_t skip_space(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\r' || p[i] == '\n' || p[i] == '\t'))
		i++;
	return i;
}

/*
 * Advances the scanner; returns the length of the complete object at the
 * front of the buffer (leading whitespace included), or 0 when it is not
 * complete yet. Strings and escapes are tracked so braces inside them do not
 * count; the object itself is then validated by jansson.
 */
static size_t scan_object(struct jsonstream *js)
{
	for (; js->scan < js->len; js->scan++) {
		char c = js->buf[js->scan];

		if (js->in_string) {
			if (js->escaped)
				js->escaped = false;
			else if (c == '\\')
				js->escaped = true;
			else if (c == '"')
				js->in_string = false;
		} else if (c == '"') {
			js->in_string = true;
		} else if (c == '{' || c == '[') {
			js->depth++;
		} else if ((c == '}' || c == ']') && --js->depth == 0) {
			return ++js->scan;
		}
	}
	return 0;
}

/* Decodes every complete object at the front of the buffer. */
static int drain(struct jsonstream *js)
{
	int r = 0;

	for (;;) {
		size_t lead = skip_space(js->buf, js->len), end;
		json_t *obj;

		if (lead == js->len) {
			js->len = js->scan = 0;
			break;
		}
		if (js->buf[lead] != '{')
			return -EBADMSG;
		if (js->scan < lead)
			js->scan = lead;
		end = scan_object(js);
		if (!end)
			break;
		obj = json_loadb(js->buf + lead, end - lead, 0, NULL);
		if (!obj)
			return -EBADMSG;
		r = js->cb(obj, js->arg);
		json_decref(obj);
		memmove(js->buf, js->buf + end, js->len - end);
		js->len -= end;
		js->scan = 0;
		if (r)
			break;
	}
	return r;
}

int jsonstream_feed(struct jsonstream *js, const char *data, size_t len)
{
	int r = append(js, data, len);

	return r ? r : drain(js);
}

int jsonstream_finish(struct jsonstream *js)
{
	return skip_space(js->buf, js->len) == js->len ? 0 : -EBADMSG;
}
