#include "strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strmap_slot {
	const char *key; /* NULL: empty */
	size_t val;
	uint64_t hash;
};

static uint64_t hash_of(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static struct strmap_slot *find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && !strcmp(s->key, key)))
			return s;
	}
}

static int grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct strmap bigger = {calloc(cap, sizeof(struct strmap_slot)), m->n, cap};

	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*find(&bigger, m->slots[i].key, m->slots[i].hash) = m->slots[i];
	free(m->slots);
	*m = bigger;
	return 0;
}

int strmap_put(struct strmap *m, const char *key, size_t val)
{
	uint64_t h = hash_of(key);
	struct strmap_slot *s;

	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return -ENOMEM;
	s = find(m, key, h);
	if (!s->key)
		m->n++;
	*s = (struct strmap_slot){key, val, h};
	return 0;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *ret_val)
{
	const struct strmap_slot *s;

	if (!m->cap)
		return false;
	s = find(m, key, hash_of(key));
	if (!s->key)
		return false;
	*ret_val = s->val;
	return true;
}

void strmap_done(struct strmap *m)
{
	free(m->slots);
	*m = (struct strmap){0};
}
