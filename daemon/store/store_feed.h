/*
 * store_feed — the security side of the store: feed poll state, advisories,
 * image inventories and what each build's inventory matched.
 *
 * Advisories are stored one row per (feed, id, ecosystem, package) with the
 * OSV "affected" object as JSON text; seen_at moves only when a row's
 * content changes, so "the feed changed this advisory" is a number compare.
 * A feed scope (an OSV ecosystem directory, an Alpine branch/repository, a
 * tracker release) is replaced or updated in one transaction: a poll that
 * fails half-way leaves the last good state.
 */
#ifndef REFIT_STORE_FEED_H
#define REFIT_STORE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Poll state of one feed scope. Strings are "" when unknown. */
struct store_feed_state {
	char watermark[64];     /* newest record time ingested (OSV) */
	char etag[256];         /* validator of the last 200 answer */
	char last_modified[64]; /* its Last-Modified */
	uint64_t polled_at, ok_at, changed_at;
	int64_t records;
	char error[512];
};

/* Reads a scope's state; -ENOENT when never polled. */
int store_feed_get(struct store *s, const char *feed, const char *scope,
                   struct store_feed_state *ret);

/* Records a poll's outcome (error NULL on success) without touching advisories. */
int store_feed_polled(struct store *s, const char *feed, const char *scope,
                      const struct store_feed_state *st, const char *error);

/*
 * One advisory row as stored: affected is the OSV affected object as JSON
 * text without its "versions" list, which is kept apart as '\n'-joined text
 * (NULL when empty): PyPI records enumerate hundreds of versions that
 * matching needs only when the ranges say "not affected".
 */
struct store_advisory {
	const char *feed, *scope, *id, *ecosystem, *package;
	const char *modified, *summary, *aliases, *affected, *versions;
	bool withdrawn;
	uint64_t seen_at;
};

/*
 * A batch of advisory rows for one feed scope, applied in one transaction
 * with the scope's new poll state: replace drops the scope's rows first
 * (a full load); otherwise rows are upserted and every id listed in
 * clear_ids loses its old rows first (an updated record may name fewer
 * packages). Returns the number of rows whose content changed.
 */
struct store_feed_batch {
	const char *feed, *scope;
	bool replace;
	const struct store_advisory *rows;
	size_t n_rows;
	const char *const *clear_ids;
	size_t n_clear;
	const struct store_feed_state *state;
	uint64_t now;
};

int store_feed_apply(struct store *s, const struct store_feed_batch *b);

typedef int (*store_advisory_cb)(const struct store_advisory *a, void *arg);

/* Walks the live (not withdrawn) advisories of (ecosystem, package). */
int store_advisories_for(struct store *s, const char *ecosystem, const char *package,
                         store_advisory_cb cb, void *arg);

/* Walks feed scopes (for the API): name, scope and state. */
int store_feeds_each(struct store *s,
                     int (*cb)(const char *feed, const char *scope,
                               const struct store_feed_state *st, void *arg),
                     void *arg);

/* Forgets a feed that is no longer configured: its scopes and advisories. */
int store_feed_drop(struct store *s, const char *feed);

/* Number of advisories stored for feed (all scopes). */
int64_t store_feed_count(struct store *s, const char *feed);

/* One installed package of an image. ecosystem: "Debian:12", "PyPI"...; arch, license NULL
 * when unknown. */
struct store_pkg {
	const char *ecosystem, *name, *version, *source, *source_version;
	const char *arch, *license;
};

struct store_inventory {
	const char *os_id, *os_version, *ecosystem; /* NULL when unknown */
	const char *error;                          /* what could not be read, or NULL */
	const struct store_pkg *pkgs;
	size_t n_pkgs;
	uint64_t read_at;
};

/* Stores a build's inventory (replacing an earlier one of the same build). */
int store_inventory_put(struct store *s, int64_t build_id, const struct store_inventory *inv);

/* Walks a build's packages; -ENOENT when the build has no inventory. */
int store_inventory_each(struct store *s, int64_t build_id,
                         int (*cb)(const struct store_pkg *p, void *arg), void *arg);

/* The distinct ecosystems of the inventories of the current images. */
int store_inventory_ecosystems(struct store *s, int (*cb)(const char *ecosystem, void *arg),
                               void *arg);

/*
 * An advisory as matched against one build's inventory. state: "open"
 * (fixable, not yet acted on), "triggered" (a rebuild was asked for),
 * "pending-upstream" (a no-cache rebuild still has it), "needs-change" (the
 * build context pins the installed version: pin_* say where; no rebuild can
 * fix it), "unfixed" (no fix known), "fixed" (a previous image of the
 * environment had it, this one not).
 */
struct store_match {
	const char *advisory, *package, *ecosystem, *installed, *fixed, *state;
	uint64_t seen_at;
	const char *pin_file; /* NULL: not pinned in the context */
	int pin_line, pin_col;
	const char *pin_version, *pin_package;
};

/* Replaces a build's match rows. */
int store_matches_put(struct store *s, int64_t build_id, const struct store_match *m, size_t n);

/* Sets one match's state (e.g. open -> triggered) with the advisory version it saw. */
int store_match_state(struct store *s, int64_t build_id, const char *advisory, const char *package,
                      const char *state, uint64_t seen_at);

/*
 * Whether the image before build_id in its environment (the previous succeeded build of
 * project/env) matched advisory in package already: 1 yes, 0 no, negative errno.
 */
int store_match_seen_before(struct store *s, const char *project, const char *env, int64_t build_id,
                            const char *advisory, const char *package);

/* Walks a build's match rows, by advisory. */
int store_matches_each(struct store *s, int64_t build_id,
                       int (*cb)(const struct store_match *m, void *arg), void *arg);

/*
 * The current image of every environment: the latest succeeded build of each
 * (project, env) that has an inventory, with whether it was built without
 * cache (trigger "security").
 */
struct store_current {
	const char *project, *env, *trigger;
	int64_t build_id;
};

int store_current_each(struct store *s, int (*cb)(const struct store_current *c, void *arg),
                       void *arg);

/*
 * The same, only for the images with a package whose advisories changed
 * since store_changes_clear() (rows added, changed or dropped by the feeds).
 */
int store_current_changed_each(struct store *s, int (*cb)(const struct store_current *c, void *arg),
                               void *arg);
int store_changes_clear(struct store *s);

/* The build before build_id of the same project and env that has an inventory; -ENOENT. */
int store_previous_inventory_build(struct store *s, int64_t build_id, int64_t *ret);

#endif
