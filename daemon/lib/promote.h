/*
 * promote — whether a passed build of an environment moves IMAGE:ENV now or
 * waits for the environment's promotion window, and until when.
 *
 * Pure and given the time, so that the pipeline (deciding after the checks),
 * the promotion timer (deciding for what waits) and the unit tests (on a fake
 * clock) share one rule.
 */
#ifndef REFIT_PROMOTE_H
#define REFIT_PROMOTE_H

#include <stdbool.h>
#include <stdint.h>

struct config_env;

enum promote_verdict {
	PROMOTE_NOW,  /* no window, the window is open, or an urgent security fix */
	PROMOTE_WAIT, /* the window is closed: the tag moves at *ret_at */
	PROMOTE_HELD, /* held by hand or by a rollback: it waits until released */
};

struct promote_input {
	const struct config_env *env;
	bool security_fix; /* a security rebuild that fixed an advisory */
	bool held;
	uint64_t now_ms; /* UTC wall clock */
};

/* The verdict for in; for PROMOTE_WAIT the window's next opening in *ret_at (else now). */
enum promote_verdict promote_decide(const struct promote_input *in, uint64_t *ret_at);

/* The verdict's name for logs and the API: "now", "waiting for window", "held". */
const char *promote_verdict_name(enum promote_verdict v);

#endif
