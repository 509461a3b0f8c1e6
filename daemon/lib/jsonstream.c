#include "jsonstream.h"

#include "strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

struct jsonstream {
	jsonstream_cb cb;
	void *arg;
	struct strbuf b; /* what came and is not an object yet */
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
	free(js->b.p);
	free(js);
}

static int append(struct jsonstream *js, const char *data, size_t len)
{
	int r = strbuf_put(&js->b, data, len, JSONSTREAM_MAX);

	return r == -E2BIG ? -EMSGSIZE : r;
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
	for (; js->scan < js->b.len; js->scan++) {
		char c = js->b.p[js->scan];

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
		size_t lead = skip_space(js->b.p, js->b.len), end;
		json_t *obj;

		if (lead == js->b.len) {
			js->b.len = js->scan = 0;
			break;
		}
		if (js->b.p[lead] != '{')
			return -EBADMSG;
		if (js->scan < lead)
			js->scan = lead;
		end = scan_object(js);
		if (!end)
			break;
		obj = json_loadb(js->b.p + lead, end - lead, 0, NULL);
		if (!obj)
			return -EBADMSG;
		r = js->cb(obj, js->arg);
		json_decref(obj);
		memmove(js->b.p, js->b.p + end, js->b.len - end);
		js->b.len -= end;
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
	return skip_space(js->b.p, js->b.len) == js->b.len ? 0 : -EBADMSG;
}
