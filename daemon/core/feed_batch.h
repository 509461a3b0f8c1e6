/*
 * feed_batch — the rows of one feed poll, owned, until the store applies
 * them in one transaction (store_feed_apply). Parsers hand their rows to
 * feed_batch_row_cb; PyPI package names are stored as PEP 503 names, which
 * is what inventories hold.
 */
#ifndef REFIT_FEED_BATCH_H
#define REFIT_FEED_BATCH_H

#include <stddef.h>

#include "feed.h"
#include "store_feed.h"

/* Rows in one batch at most: a feed past this fails its poll (-E2BIG). */
#define FEED_BATCH_MAX_ROWS 4000000

struct feed_batch {
	struct store_advisory *rows; /* strings owned */
	size_t n, cap;
	char **clear; /* ids whose older rows go (withdrawn, or updated) */
	size_t n_clear, cap_clear;
	const char *feed, *scope; /* borrowed */
};

/* A feed_row_cb: copies r into the batch (arg). */
int feed_batch_row_cb(const struct feed_row *r, void *arg);

/* Adds id to the ids whose rows not in this batch are dropped. */
int feed_batch_clear(struct feed_batch *b, const char *id);

/* Frees the rows and empties the batch (feed and scope are cleared too). */
void feed_batch_done(struct feed_batch *b);

#endif
