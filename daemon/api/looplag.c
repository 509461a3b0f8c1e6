/*
 * looplag — a 1 s timer measuring how late the loop runs it (see looplag.h). The lag of
 * each tick is its start against the time it was due; the ring keeps the last minute.
 */
#include "looplag.h"

#include <stddef.h>
#include <string.h>

#define TICK_MS 1000u

static void tick_cb(uv_timer_t *t)
{
	struct looplag *l = (struct looplag *)((char *)t - offsetof(struct looplag, timer));
	uint64_t now = uv_hrtime(), lag = now > l->due_ns ? (now - l->due_ns) / 1000 : 0;

	l->slot = (l->slot + 1) % LOOPLAG_SLOTS;
	l->lag_us[l->slot] = lag > UINT32_MAX ? UINT32_MAX : (uint32_t)lag;
	l->due_ns = now + (uint64_t)TICK_MS * 1000000u;
}

int looplag_start(struct looplag *l, uv_loop_t *loop, void *owner)
{
	int r;

	memset(l, 0, sizeof(*l));
	r = uv_timer_init(loop, &l->timer);
	if (r < 0)
		return r;
	l->timer.data = owner;
	l->due_ns = uv_hrtime() + (uint64_t)TICK_MS * 1000000u;
	return uv_timer_start(&l->timer, tick_cb, TICK_MS, TICK_MS);
}

uint64_t looplag_max_us(const struct looplag *l)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < LOOPLAG_SLOTS; i++)
		if (l->lag_us[i] > m)
			m = l->lag_us[i];
	return m;
}
