#include "ratelimit.h"

#include <stdio.h>
#include <string.h>

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The key's slot in its set, or the set's least recently used one, reset. */
static struct ratelimit_slot *slot_of(struct ratelimit *l, const char *key, double burst,
                                      uint64_t now_ms)
{
	struct ratelimit_slot *set = l->slots[fnv1a(key) % RATELIMIT_SETS], *lru = &set[0];

	for (int i = 0; i < RATELIMIT_WAYS; i++) {
		if (set[i].key[0] && !strcmp(set[i].key, key))
			return &set[i];
		if (!set[i].key[0] || set[i].at_ms < lru->at_ms)
			lru = &set[i];
	}
	snprintf(lru->key, sizeof(lru->key), "%s", key);
	lru->tokens = burst;
	lru->at_ms = now_ms;
	return lru;
}

/* Key's bucket, refilled up to now. */
static struct ratelimit_slot *refilled(struct ratelimit *l, const char *key, double rate,
                                       double burst, uint64_t now_ms)
{
	struct ratelimit_slot *s = slot_of(l, key, burst, now_ms);

	if (now_ms > s->at_ms) {
		s->tokens += (double)(now_ms - s->at_ms) * rate / 1000.0;
		if (s->tokens > burst)
			s->tokens = burst;
		s->at_ms = now_ms;
	}
	return s;
}

static uint64_t wait_for(const struct ratelimit_slot *s, double rate)
{
	double need = (1.0 - s->tokens) * 1000.0 / rate;

	return need < 1.0 ? 1 : (uint64_t)need + 1;
}

uint64_t ratelimit_take(struct ratelimit *l, const char *key, double rate, double burst,
                        uint64_t now_ms)
{
	struct ratelimit_slot *s = refilled(l, key, rate, burst, now_ms);

	if (s->tokens < 1.0)
		return wait_for(s, rate);
	s->tokens -= 1.0;
	return 0;
}

uint64_t ratelimit_wait(struct ratelimit *l, const char *key, double rate, double burst,
                        uint64_t now_ms)
{
	struct ratelimit_slot *s = refilled(l, key, rate, burst, now_ms);

	return s->tokens >= 1.0 ? 0 : wait_for(s, rate);
}
