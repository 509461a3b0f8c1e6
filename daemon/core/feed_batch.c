#include "feed_batch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "pkgdb.h"

void feed_batch_done(struct feed_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct store_advisory *a = &b->rows[i];
		free((char *)(uintptr_t)a->id);
		free((char *)(uintptr_t)a->ecosystem);
		free((char *)(uintptr_t)a->package);
		free((char *)(uintptr_t)a->modified);
		free((char *)(uintptr_t)a->summary);
		free((char *)(uintptr_t)a->aliases);
		free((char *)(uintptr_t)a->affected);
		free((char *)(uintptr_t)a->versions);
	}
	for (size_t i = 0; i < b->n_clear; i++)
		free(b->clear[i]);
	free(b->rows);
	free(b->clear);
	memset(b, 0, sizeof(*b));
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

int feed_batch_clear(struct feed_batch *b, const char *id)
{
	if (ARRAY_GROW(b->clear, b->cap_clear, b->n_clear, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	b->clear[b->n_clear] = strdup(id);
	return b->clear[b->n_clear++] ? 0 : -ENOMEM;
}

/* PyPI names are stored as PEP 503 names, which is what inventories hold. */
static char *package_name(const char *ecosystem, const char *name)
{
	char buf[512];

	if (strcmp(ecosystem, "PyPI"))
		return strdup(name);
	if (pkgdb_pep503(name, buf, sizeof(buf)) >= sizeof(buf))
		return NULL;
	return strdup(buf);
}

/* The versions list as '\n'-joined text; NULL when there is none. */
static int join_versions(const json_t *list, char **ret)
{
	size_t len = 0, i;
	const json_t *v;
	char *out, *p;

	json_array_foreach(list, i, v) len += json_string_length(v) + 1;
	if (len == 0) {
		*ret = NULL;
		return 0;
	}
	p = out = malloc(len);
	if (!out)
		return -ENOMEM;
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v) || memchr(json_string_value(v), '\n', json_string_length(v)))
			continue;
		memcpy(p, json_string_value(v), json_string_length(v));
		p += json_string_length(v);
		*p++ = '\n';
	}
	if (p == out) {
		free(out);
		out = NULL;
	} else {
		p[-1] = '\0';
	}
	*ret = out;
	return 0;
}

/* Stores affected without "versions" (kept apart: see store_feed.h). */
static int split_versions(const json_t *affected, struct store_advisory *a)
{
	json_t *copy = json_copy((json_t *)(uintptr_t)affected);
	char *versions = NULL;
	int r = copy ? join_versions(json_object_get(copy, "versions"), &versions) : -ENOMEM;

	if (r == 0) {
		json_object_del(copy, "versions");
		a->affected = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
		a->versions = versions;
		r = a->affected ? 0 : -ENOMEM;
	}
	json_decref(copy);
	return r;
}

int feed_batch_row_cb(const struct feed_row *r, void *arg)
{
	struct feed_batch *b = arg;
	struct store_advisory *a;
	int rc;

	if (!r->ecosystem || !r->package) /* a withdrawn record with nothing left */
		return feed_batch_clear(b, r->id);
	if ((rc = ARRAY_GROW(b->rows, b->cap, b->n, FEED_BATCH_MAX_ROWS)) < 0)
		return rc;
	a = &b->rows[b->n];
	memset(a, 0, sizeof(*a));
	b->n++;
	a->id = strdup(r->id);
	a->ecosystem = strdup(r->ecosystem);
	a->package = package_name(r->ecosystem, r->package);
	a->modified = dup_opt(r->modified);
	a->summary = dup_opt(r->summary);
	a->aliases = r->aliases ? json_dumps(r->aliases, JSON_COMPACT) : NULL;
	a->withdrawn = r->withdrawn;
	if (!a->id || !a->ecosystem || !a->package || (r->modified && !a->modified))
		return -ENOMEM;
	return split_versions(r->affected, a);
}
