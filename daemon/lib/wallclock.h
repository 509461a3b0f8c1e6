/*
 * wallclock — the time refit records (store rows, log stamps): real time in
 * milliseconds since the epoch. Scheduling uses the loop's clock (uv_now)
 * instead; this is only for what people and other processes read.
 */
#ifndef REFIT_WALLCLOCK_H
#define REFIT_WALLCLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t wallclock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
