/* ctl_util — small helpers shared by refitctl's commands. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfsyntax.h"

/* Grows buf to hold at least need + 1 bytes (never more than max + 1). */
static int grow(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t cap2 = *cap ? *cap * 2 : 65536;
	char *v;

	if (need <= *cap)
		return 0;
	if (cap2 > max)
		cap2 = max;
	v = realloc(*buf, cap2 + 1);
	if (!v)
		return -ENOMEM;
	*buf = v;
	*cap = cap2;
	return 0;
}

int ctl_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL;
	size_t n = 0, cap = 0, got = 1;
	int rc = f ? 0 : -errno;

	while (rc == 0 && got > 0 && n <= max) {
		rc = grow(&buf, &cap, n + 1 > max ? max : n + 1, max);
		got = rc == 0 ? fread(buf + n, 1, cap + 1 - n, f) : 0;
		n += got;
	}
	if (rc == 0 && f && ferror(f))
		rc = -EIO;
	else if (rc == 0 && n > max)
		rc = -EFBIG;
	if (f && f != stdin)
		fclose(f);
	if (rc == 0 && !buf && !(buf = malloc(1)))
		rc = -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

int ctl_read_dockerfile(const char *path, char **ret, size_t *ret_len)
{
	return ctl_read_file(path, DFSYNTAX_MAX_FILE, ret, ret_len);
}
