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

struct config;
struct store;

struct metrics_view {
	struct store *store;
	const struct config *cfg;
	uint64_t started_at_ms; /* wall clock */
	uint64_t now_ms;
};

/* Renders the exposition into a malloc'd NUL-terminated body; negative errno on failure. */
int metrics_render(const struct metrics_view *v, char **ret_body, size_t *ret_len);

/* Writes s as a label value (without the quotes), escaped per the text format. */
void metrics_label_escape(FILE *f, const char *s);

#endif
