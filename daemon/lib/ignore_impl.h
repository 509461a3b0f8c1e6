/*
 * ignore_impl — what ignore.c (patterns) and ignore_walk.c (the walk) share.
 * Internal to the ignore module.
 */
#ifndef REFIT_IGNORE_IMPL_H
#define REFIT_IGNORE_IMPL_H

#include <stddef.h>

#include "ignore.h"

#define DIR_ENTRIES_MAX (1 << 20)
#define REASON_MAX      256
#define QUOTE_MAX       64

/* filepath.Clean of p[0..n) into out (at least n + 2 bytes); returns the length. */
size_t ignore_clean_path(const char *p, size_t n, char *out);

/* Parses .dockerignore text; on failure *ret_line and why (REASON_MAX) say where and why. */
int ignore_parse_text(const char *text, size_t len, struct ignore **ret, unsigned *ret_line,
                      char *why);

#endif
