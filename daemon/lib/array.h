/*
 * array — the tree's one growable array. An array is three fields of its
 * owner: `T *v` (malloc'd), `size_t n` (elements used) and `size_t cap`
 * (elements allocated); zero-initialised is empty. Before storing element n,
 * ARRAY_GROW makes room for it: capacity doubles (from 16), so pushing n
 * elements costs O(n), and never grows past a hard maximum of elements.
 */
#ifndef REFIT_ARRAY_H
#define REFIT_ARRAY_H

#include <stddef.h>
#include <stdint.h>

/* No maximum but what size_t can count. */
#define ARRAY_NO_MAX SIZE_MAX

/*
 * Makes room for element n of the array whose pointer is at pv (a `T **`),
 * of elements of size bytes: 0, or -E2BIG when n reaches max, or -ENOMEM.
 * On failure the array is untouched.
 */
int array_grow(void *pv, size_t *cap, size_t n, size_t size, size_t max);

#define ARRAY_GROW(v, cap, n, max) array_grow(&(v), &(cap), (n), sizeof(*(v)), (max))

#endif
