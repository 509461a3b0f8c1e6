/*
 * retention — keeps state_dir from growing without bound. The log file and the package
 * inventory of every build that finished more than `retention` ago are removed, except
 * those of the builds each environment still needs (see store_prune_each); build rows,
 * their advisories and the events stay. A round runs 5 s after start, after each reload
 * and every six hours, one batch per loop turn so the loop never waits on it.
 */
#ifndef REFIT_RETENTION_H
#define REFIT_RETENTION_H

#include <stdint.h>

#include <uv.h>

struct retention;
struct store;

int retention_new(uv_loop_t *loop, struct store *store, struct retention **ret);

/* Log files are only removed under state_dir/logs; keep_ms 0 keeps everything. */
int retention_configure(struct retention *r, const char *state_dir, uint64_t keep_ms);

/* Runs a round now (tests, and after a configuration change that shortens it). */
void retention_run(struct retention *r);

void retention_free(struct retention *r);

#endif
