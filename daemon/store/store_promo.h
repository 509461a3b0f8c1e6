/*
 * store_promo — promotions waiting for their environment's window (table
 * promotions): per project and environment, the build that was pushed under
 * its stamp tag and whose IMAGE:ENV moves when the window opens. One per
 * environment: a newer build replaces the older one. In the store so that a
 * restart still promotes.
 */
#ifndef REFIT_STORE_PROMO_H
#define REFIT_STORE_PROMO_H

#include <stdint.h>

#include "store.h"

struct store_promo {
	const char *project, *env, *stamp_tag, *digest;
	int64_t build_id;
	uint64_t since; /* when it began waiting (wall clock ms) */
};

/* Records (or replaces) the pending promotion of p->project / p->env. */
int store_promo_set(struct store *s, const struct store_promo *p);

/*
 * Drops the pending promotion of project/env when it is build_id's (0: whichever
 * it is); -ENOENT when there was none.
 */
int store_promo_drop(struct store *s, const char *project, const char *env, int64_t build_id);

/* Walks the pending promotions (one project's when project is not NULL), oldest first. */
int store_promo_each(struct store *s, const char *project,
                     int (*cb)(const struct store_promo *p, void *arg), void *arg);

#endif
