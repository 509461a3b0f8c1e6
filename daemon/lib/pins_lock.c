/*
 * pins_lock — Pipfile.lock: JSON whose "default" and "develop" objects map
 * each package to {"version": "==V", "hashes": [...], ...}. jansson reads it;
 * the line of an entry is found again in the text (jansson keeps no
 * positions): the first "NAME": after the section's key.
 */
#include "pins_impl.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

/* A place in the text, moved forward as entries are found (jansson keeps insertion order). */
struct cursor {
	size_t at, bol;
	int line;
};

static void move_to(const char *text, struct cursor *c, size_t to)
{
	if (to < c->at)
		*c = (struct cursor){0, 0, 1};
	for (; c->at < to; c->at++)
		if (text[c->at] == '\n') {
			c->line++;
			c->bol = c->at + 1;
		}
}

/* Where "key": is, at or after from; len when it is not there. */
static size_t find_key(const char *text, size_t len, size_t from, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = from; i + k + 2 <= len; i++) {
		size_t j = i + k + 2;
		if (text[i] != '"' || memcmp(text + i + 1, key, k) || text[i + k + 1] != '"')
			continue;
		while (j < len && strchr(" \t\r\n", text[j]))
			j++;
		if (j < len && text[j] == ':')
			return i;
	}
	return len;
}

static int section(const char *file, const char *text, size_t len, json_t *root, const char *name,
                   struct pins *p)
{
	json_t *obj = json_object_get(root, name), *entry;
	struct cursor c = {0, 0, 1};
	const char *pkg;
	size_t at;
	int r = 0;

	if (!json_is_object(obj))
		return 0;
	at = find_key(text, len, 0, name);
	json_object_foreach(obj, pkg, entry)
	{
		const char *v = json_string_value(json_object_get(entry, "version"));
		char req[PINS_MAX_NAME + PINS_MAX_VERSION + 8];
		struct pins_req q;

		if (!v || strlen(pkg) >= PINS_MAX_NAME || strlen(v) >= PINS_MAX_VERSION)
			continue;
		strcpy(req, pkg);
		strcat(req, v);
		pins_req_spec(req, strlen(req), &q);
		if (!q.pinned)
			continue;
		size_t base = at < len ? at : 0,
		       k = find_key(text, len, c.at > base ? c.at : base, pkg);
		if (k >= len)
			k = find_key(text, len, base, pkg);
		bool found = k < len;
		if (found)
			move_to(text, &c, k);
		if ((r = pins_add(p, file, found ? c.line : 0, found ? (int)(k - c.bol) + 1 : 0,
		                  PINS_PYPI, q.op, q.name, q.version)) < 0)
			break;
	}
	return r;
}

int pins_parse_pipfile_lock(const char *file, const char *text, size_t len, struct pins *p,
                            char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	int r;

	if (!root)
		return pins_fail(err, errlen, je.line, -EINVAL, "%s", je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return pins_fail(err, errlen, 0, -EINVAL, "not a JSON object");
	}
	r = section(file, text, len, root, "default", p);
	if (r == 0)
		r = section(file, text, len, root, "develop", p);
	json_decref(root);
	return r;
}
