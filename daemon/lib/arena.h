/*
 * arena — a bump allocator for parse trees that live and die together.
 *
 * A parser allocates every node and string of one document from one arena
 * and frees it all at once, so no half-built tree can leak. The arena has a
 * hard size limit: allocation fails (NULL) past it, like any other failure.
 */
#ifndef REFIT_ARENA_H
#define REFIT_ARENA_H

#include <stddef.h>

struct arena;

/* Returns an empty arena that will hand out at most max_bytes, or NULL. */
struct arena *arena_new(size_t max_bytes);

/* Returns size zeroed bytes aligned for any type, or NULL. */
void *arena_alloc(struct arena *a, size_t size);

/* Returns a NUL-terminated copy of s[0..n), or NULL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Frees the arena and everything allocated from it; a may be NULL. */
void arena_free(struct arena *a);

#endif
