/*
 * tagslist — tags/list pages and their Link headers (see tagslist.h).
 */
#include "tagslist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "array.h"

#define TAG_MAX 128

/* distribution's tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127} */
static bool valid_tag(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];
		bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || c == '_';

		if (i >= TAG_MAX || !(word || (i > 0 && (c == '.' || c == '-'))))
			return false;
	}
	return i > 0;
}

static int push(struct tagslist *l, const char *tag)
{
	int r = ARRAY_GROW(l->tags, l->cap, l->n, TAGSLIST_MAX_TAGS);

	if (r < 0)
		return r;
	if (!(l->tags[l->n] = strdup(tag)))
		return -ENOMEM;
	l->n++;
	return 0;
}

int tagslist_page(struct tagslist *l, const char *body, size_t len, const char **ret_err)
{
	json_t *root = json_loadb(body, len, 0, NULL), *tags, *t;
	size_t i;
	int r = 0;

	tags = json_object_get(root, "tags");
	if (!json_is_object(root) || (tags && !json_is_array(tags) && !json_is_null(tags))) {
		*ret_err = "not a tags/list answer (no JSON object with a tags array)";
		r = -EPROTO;
		goto out;
	}
	json_array_foreach(tags, i, t)
	{
		const char *s = json_string_value(t);

		if (!s || !valid_tag(s)) {
			l->dropped++;
			continue;
		}
		r = push(l, s);
		if (r < 0) {
			*ret_err = r == -E2BIG ? "more tags than refit reads (100000)"
			                       : "out of memory";
			goto out;
		}
	}
out:
	json_decref(root);
	return r;
}

void tagslist_done(struct tagslist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->tags[i]);
	free(l->tags);
	*l = (struct tagslist){0};
}

/* True when the space-separated relation types v[0..n) include "next". */
static bool has_next(const char *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = i;

		while (k < n && v[k] != ' ')
			k++;
		if (k - i == 4 && !strncasecmp(v + i, "next", 4))
			return true;
		i = k + 1;
	}
	return false;
}

/* True when the parameters p[0..n) (after '>', up to the next link) say rel="next". */
static bool rel_next(const char *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		size_t j, k;
		bool quoted;

		if (strncasecmp(p + i, "rel=", 4) || (i > 0 && p[i - 1] != ';' && p[i - 1] != ' '))
			continue;
		j = i + 4;
		quoted = j < n && p[j] == '"';
		j += quoted;
		for (k = j; k < n && (quoted ? p[k] != '"' : !strchr(";, ", p[k])); k++)
			;
		if (has_next(p + j, k - j))
			return true;
	}
	return false;
}

/* Resolves url[0..n) against base into ret; -EPROTO for another origin or bad bytes. */
static int resolve(const char *url, size_t n, const char *base, char *ret, size_t len)
{
	size_t blen = strlen(base);

	for (size_t i = 0; i < n; i++)
		if (url[i] <= ' ' || url[i] > '~')
			return -EPROTO;
	if (n > 0 && url[0] == '/' && (n == 1 || url[1] != '/')) {
		if (blen + n >= len)
			return -ENOSPC;
		memcpy(ret, base, blen);
		memcpy(ret + blen, url, n);
		ret[blen + n] = '\0';
		return 1;
	}
	if (n > blen && !strncmp(url, base, blen) && url[blen] == '/') {
		if (n >= len)
			return -ENOSPC;
		memcpy(ret, url, n);
		ret[n] = '\0';
		return 1;
	}
	return -EPROTO;
}

int tagslist_next_url(const char *link, const char *base_url, char *ret, size_t len)
{
	const char *p = link;

	while (p && (p = strchr(p, '<'))) {
		const char *end = strchr(p, '>'), *params, *next;

		if (!end)
			return -EPROTO;
		params = end + 1;
		next = strchr(params, '<');
		if (rel_next(params, next ? (size_t)(next - params) : strlen(params)))
			return resolve(p + 1, (size_t)(end - p - 1), base_url, ret, len);
		p = next;
	}
	return 0;
}
