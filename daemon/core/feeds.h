/*
 * feeds — polls the configured security feeds into the store.
 *
 * Only what the images contain is polled: the ecosystems of the current
 * images' inventories decide which OSV directories ({url}/{Ecosystem}/),
 * which Alpine branches ({url}/v3.18/main.json, community.json) and whether
 * the Debian tracker document is fetched. Every fetch is conditional
 * (If-None-Match / If-Modified-Since); OSV is incremental: all.zip once,
 * then modified_id.csv read down to the stored watermark and only the
 * records modified since fetched. A poll that fails or meets bad data
 * leaves the scope's last good state and records the error.
 *
 * One scope is polled at a time; a whole round runs every poll.feeds
 * (jittered), at start, and when an inventory brings a new ecosystem.
 */
#ifndef REFIT_FEEDS_H
#define REFIT_FEEDS_H

#include <stddef.h>

#include <uv.h>

struct feeds;
struct store;
struct http_client;
struct config;

/* After a round that changed advisories (changed = rows added, changed or dropped). */
typedef void (*feeds_changed_cb)(size_t changed, void *arg);

int feeds_new(uv_loop_t *loop, struct store *store, struct http_client *http, feeds_changed_cb cb,
              void *arg, struct feeds **ret);

/* Takes the feeds and poll interval of cfg (a reference is kept); arms the first round. */
void feeds_configure(struct feeds *f, struct config *cfg);

/* Starts a round now unless one is running (then another follows it). */
void feeds_poll_now(struct feeds *f);

/* A rebuild recorded inventories: polls now if they bring an ecosystem not polled yet. */
void feeds_inventory_changed(struct feeds *f);

/* When the last round ended (ms since the epoch, 0: none yet) and the next is due. */
void feeds_times(const struct feeds *f, uint64_t *ret_last, uint64_t *ret_next);

/* Cancels what is in flight and closes the timer; the object is freed by the loop. */
void feeds_free(struct feeds *f);

#endif
