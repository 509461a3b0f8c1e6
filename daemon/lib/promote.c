/*
 * promote — the promotion rule (see promote.h).
 */
#include "promote.h"

#include <stddef.h>

#include "config.h"
#include "window.h"

enum promote_verdict promote_decide(const struct promote_input *in, uint64_t *ret_at)
{
	const struct config_env *e = in->env;
	uint64_t at = in->now_ms;
	enum promote_verdict v = PROMOTE_NOW;

	if (in->held)
		v = PROMOTE_HELD;
	else if (!e->window || !e->tz) /* no window (or its zone unread: as before windows) */
		v = PROMOTE_NOW;
	else if (e->urgent_advisories && in->security_fix)
		v = PROMOTE_NOW;
	else if (!window_is_open(e->window, e->tz, in->now_ms)) {
		v = PROMOTE_WAIT;
		at = window_next_open(e->window, e->tz, in->now_ms);
	}
	if (ret_at)
		*ret_at = at;
	return v;
}

const char *promote_verdict_name(enum promote_verdict v)
{
	switch (v) {
	case PROMOTE_NOW:
		return "now";
	case PROMOTE_WAIT:
		return "waiting for window";
	case PROMOTE_HELD:
		return "held";
	}
	return "?";
}
