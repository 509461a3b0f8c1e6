/*
 * errf — the tree's one way to say why into a caller's error buffer: the
 * parsers take `char *err, size_t errlen` and write a sentence there when
 * they fail (either may be NULL/0: nothing is written).
 */
#ifndef REFIT_ERRF_H
#define REFIT_ERRF_H

#include <stddef.h>

/* Formats into err (truncated to len) and returns rc, so that `return errf(...)` fails. */
__attribute__((format(printf, 4, 5))) int errf(char *err, size_t len, int rc, const char *fmt, ...);

#endif
