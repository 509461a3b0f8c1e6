/*
 * promotion — moves the environment tags that waited for their promotion
 * window.
 *
 * The pipeline pushes a build made while its environment's window is closed
 * under its stamp tag only and records it in the store (store_promo). Here a
 * timer, armed for the earliest window opening (window_next_open, rechecked
 * at least every minute for holds released and clocks changed), moves the
 * tags of what is due through the registry, without an engine: the manifest
 * IMAGE:ENV serves is put under IMAGE:ENV-previous, then the stamp tag's
 * manifest under IMAGE:ENV, byte for byte (so the digest is the one built,
 * checked and signed). Then the build row gets its ENV tag, the waiting row
 * goes, and the `promoted` webhook event fires. What waits is in the store,
 * so a restart promotes it too (at once when the window is open by then).
 * One promotion at a time; a failed one is tried again a minute later.
 */
#ifndef REFIT_PROMOTION_H
#define REFIT_PROMOTION_H

#include <uv.h>

struct promotion;
struct store;
struct registry_pool;
struct notify;
struct config;

int promotion_new(uv_loop_t *loop, struct store *store, struct notify *notify,
                  struct promotion **ret);

/* Takes cfg (a reference) and looks again at what waits: a reload re-arms the timer. */
void promotion_configure(struct promotion *p, struct config *cfg);

/* The registry pool to move tags with; a promotion in flight on the old pool is dropped
 * (and made again on the new one). Call before the old pool is freed. */
void promotion_set_registries(struct promotion *p, struct registry_pool *reg);

/* Something may have changed (a build waits, a hold was released): look now. */
void promotion_kick(struct promotion *p);

/* Cancels what is in flight (call while the pool lives); freed by the loop. */
void promotion_free(struct promotion *p);

#endif
