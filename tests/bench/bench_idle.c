/* The floor of an idle daemon's CPU: one libuv loop that only waits, with the
 * repeating timers an idle refitd keeps (service status 5 s, engine health 30 s,
 * age triggers 60 s, the watcher's next poll 24 h). bench_fleet.sh reads its
 * utime+stime over the same minute as refitd's. Runs until killed. */
#include <uv.h>

static void tick(uv_timer_t *t)
{
	(void)t;
}

int main(void)
{
	static const uint64_t every_ms[] = {5000, 30000, 60000, 86400000};
	uv_timer_t timers[4];

	for (int i = 0; i < 4; i++) {
		uv_timer_init(uv_default_loop(), &timers[i]);
		uv_timer_start(&timers[i], tick, every_ms[i], every_ms[i]);
	}
	return uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}
