/*
 * strmap — a map from borrowed NUL-terminated strings to indices.
 *
 * Open addressing with linear probing, kept at most half full, so a lookup is
 * one or two probes at any size. Keys are not copied: they must outlive the
 * map (they are usually the names inside the configuration the map indexes).
 * There is no removal; owners rebuild the map when the set of keys changes.
 */
#ifndef REFIT_STRMAP_H
#define REFIT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_slot;

struct strmap { /* zero-initialised = empty */
	struct strmap_slot *slots;
	size_t n, cap; /* cap is 0 or a power of two */
};

/* Maps key to val, replacing an earlier value of the same key; -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, size_t val);

/* True with *ret_val set when key is in the map. */
bool strmap_get(const struct strmap *m, const char *key, size_t *ret_val);

/* Frees the slots (not the keys) and empties the map. */
void strmap_done(struct strmap *m);

#endif
