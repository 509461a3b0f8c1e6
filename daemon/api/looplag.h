/*
 * looplag — how late the event loop runs a 1 s timer: the worst lag of the last minute,
 * for /metrics (refit_loop_lag_seconds). A blocking call on the loop (a slow fsync, a
 * large render) shows here before clients notice; a soak run watches it stay flat.
 */
#ifndef REFIT_LOOPLAG_H
#define REFIT_LOOPLAG_H

#include <stdint.h>

#include <uv.h>

#define LOOPLAG_SLOTS 60 /* one per second: the window of the maximum */

struct looplag {
	uv_timer_t timer; /* its data belongs to the owner (for its close callback) */
	uint64_t due_ns;  /* when the next tick should run (uv_hrtime) */
	uint32_t lag_us[LOOPLAG_SLOTS];
	unsigned slot;
};

/* Starts the 1 s timer on loop; the owner closes l->timer (uv_close) when it stops. */
int looplag_start(struct looplag *l, uv_loop_t *loop, void *owner);

/* The largest lag of the last minute, in microseconds. */
uint64_t looplag_max_us(const struct looplag *l);

#endif
