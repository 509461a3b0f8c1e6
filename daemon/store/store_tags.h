/*
 * store_tags — newer tags of version-pinned bases (table base_tags): per
 * project and base reference, the pinned tag, the project's policy, the
 * newest tag it may move to (NULL: none) and the newest tag an `outdated`
 * event was sent for, so each new tag is announced once, across restarts.
 */
#ifndef REFIT_STORE_TAGS_H
#define REFIT_STORE_TAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct store_tags_row {
	const char *project, *ref, *tag, *policy;
	const char *newest; /* NULL: the pin is the newest of its flavour */
	const char *error;  /* the listing failed: newest keeps its last value */
	uint64_t checked_at;
};

/*
 * Records what a listing found. *ret_announce becomes true when newest is a
 * tag not announced before for this project and base (it is marked
 * announced in the same transaction).
 */
int store_tags_update(struct store *s, const struct store_tags_row *r, bool *ret_announce);

/* Walks the rows of one project (all when NULL), by project and ref. */
int store_tags_each(struct store *s, const char *project,
                    int (*cb)(const struct store_tags_row *r, void *arg), void *arg);

/* Drops the rows whose project no longer uses the base (see project_bases) or is off. */
int store_tags_prune(struct store *s, const char *const *off_projects);

#endif
