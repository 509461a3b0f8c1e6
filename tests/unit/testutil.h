/*
 * testutil.h — what several unit tests need, included by each (every unit test is
 * built from its one .c file, so these are static inline).
 */
#ifndef REFIT_TESTUTIL_H
#define REFIT_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

/* A fixture file, whole and NUL-terminated (free it); fails the test when it cannot be
 * read. Paths are relative to the repository root, where the tests run. */
static inline char *test_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*ret_len = 0;
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*ret_len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	if (!buf)
		fail_msg("cannot read %s", path);
	return buf;
}

#endif
