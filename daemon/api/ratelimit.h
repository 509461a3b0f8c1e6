/*
 * ratelimit — token buckets per client, for the REST API's 429s.
 *
 * A fixed table (no allocation, bounded memory whatever the number of
 * clients): keys hash into sets of a few slots and the least recently used
 * slot of a set is reused, so a flood of new addresses can only forget old
 * buckets (which then start full again), never grow the table. Pure: the
 * caller passes the time.
 */
#ifndef REFIT_RATELIMIT_H
#define REFIT_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_SETS    256
#define RATELIMIT_WAYS    4
#define RATELIMIT_KEY_MAX 64

struct ratelimit_slot {
	char key[RATELIMIT_KEY_MAX];
	double tokens;
	uint64_t at_ms; /* last refill */
};

struct ratelimit {
	struct ratelimit_slot slots[RATELIMIT_SETS][RATELIMIT_WAYS];
};

/*
 * Takes one token from key's bucket (rate tokens per second, at most burst
 * held; a new key starts full). Returns 0 when granted, else the number of
 * milliseconds until a token will be there (at least 1).
 */
uint64_t ratelimit_take(struct ratelimit *l, const char *key, double rate, double burst,
                        uint64_t now_ms);

/* How long until key's bucket holds a token (0: now), without taking it. */
uint64_t ratelimit_wait(struct ratelimit *l, const char *key, double rate, double burst,
                        uint64_t now_ms);

#endif
