/*
 * metrics — the Prometheus text exposition (format 0.0.4) of refit's state,
 * rendered from the store and the configuration for GET /metrics.
 *
 * Everything is derived from what the store holds, so the numbers survive a
 * restart and agree with the REST API. Label values are escaped per the
 * format (backslash, double quote, newline).
 */
#ifndef REFIT_METRICS_H
#define REFIT_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_t;

struct config;
struct store;

/* Requests to one registry answered with one status (0: no answer), and its rate limit. */
struct metrics_registry_row {
	const char *host;
	long status;
	uint64_t requests;
	long rl_remaining, rl_limit; /* -1: the registry sends no RateLimit-* headers */
};

/*
 * Where registry counters come from (they live in memory, not in the
 * store): calls row(r, ctx) for each row; may be NULL.
 */
typedef void (*metrics_registry_source)(void (*row)(const struct metrics_registry_row *r,
                                                    void *ctx),
                                        void *ctx, void *arg);

struct metrics_view {
	struct store *store;
	const struct config *cfg;
	uint64_t started_at_ms; /* wall clock */
	uint64_t now_ms;
	metrics_registry_source registries;
	void *registries_arg;
	const struct json_t *projects; /* the API's projects (their states); may be NULL */
	uint64_t loop_lag_us;          /* the loop's worst lag of the last minute */
};

/* Renders the exposition into a malloc'd NUL-terminated body; negative errno on failure. */
int metrics_render(const struct metrics_view *v, char **ret_body, size_t *ret_len);

/* Writes s as a label value (without the quotes), escaped per the text format. */
void metrics_label_escape(FILE *f, const char *s);

#endif
