/*
 * strbuf — a growable, NUL-terminated byte buffer with a hard maximum, for
 * the pure parsers that build strings (dfsyntax, shellword).
 */
#ifndef REFIT_STRBUF_H
#define REFIT_STRBUF_H

#include <stddef.h>

struct strbuf { /* zero-initialised = empty; p is malloc'd (free it) */
	char *p;
	size_t len, cap;
};

/* Appends s[0..n); -E2BIG past max bytes in all, -ENOMEM. */
int strbuf_put(struct strbuf *b, const char *s, size_t n, size_t max);

#endif
