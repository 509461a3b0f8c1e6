/*
 * version_impl — the per-ecosystem back ends behind version.h, and the
 * helpers they share. Private to version*.c: other modules include version.h.
 *
 * Each back end takes NUL-terminated strings already checked against
 * VERSION_MAX_LEN, returns 0 or -EINVAL, and writes *ret_cmp (-1, 0, 1) only
 * on success.
 */
#ifndef REFIT_VERSION_IMPL_H
#define REFIT_VERSION_IMPL_H

#include <stdbool.h>
#include <stddef.h>

/* ASCII classes: the rules are byte rules, never the locale's. */
static inline bool ver_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool ver_islower(int c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool ver_isalpha(int c)
{
	return ver_islower(c) || (c >= 'A' && c <= 'Z');
}

static inline int ver_sign(long v)
{
	return (v > 0) - (v < 0);
}

/* Numeric order of two runs of decimal digits of any length (leading zeros ignored). */
int version_digits_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Byte order of two strings, a proper prefix first; -1, 0 or 1. */
int version_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen);

int version_dpkg_valid(const char *v);
int version_dpkg_cmp(const char *a, const char *b, int *ret_cmp);
int version_apk_valid(const char *v);
int version_apk_cmp(const char *a, const char *b, int *ret_cmp);
int version_pep440_valid(const char *v);
int version_pep440_cmp(const char *a, const char *b, int *ret_cmp);

#endif
