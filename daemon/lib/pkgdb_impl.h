/*
 * pkgdb_impl.h — the line reader and small helpers shared by the files of
 * the pkgdb module only (pkgdb.c, pkgdb_os.c). Nobody else includes it.
 */
#ifndef REFIT_PKGDB_IMPL_H
#define REFIT_PKGDB_IMPL_H

#include <stdbool.h>
#include <stddef.h>

struct lines {
	const char *buf;
	size_t len, pos, no; /* no: number of the line last returned, from 1 */
};

/* Returns the next line without its "\n" or "\r\n"; false at the end. */
bool pkgdb_next_line(struct lines *it, const char **ret, size_t *ret_n);
/* Drops blanks (space, tab) at both ends of *p, *n. */
void pkgdb_trim(const char **p, size_t *n);
bool pkgdb_is_alnum(char c);
bool pkgdb_is_digit(char c);

#endif
