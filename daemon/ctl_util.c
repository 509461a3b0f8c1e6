/* ctl_util — small helpers shared by refitctl's commands. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfsyntax.h"

/* Reads a whole file (or stdin for "-"), at most DFSYNTAX_MAX_FILE bytes. */
int ctl_read_dockerfile(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = malloc(DFSYNTAX_MAX_FILE + 1);
	size_t n = 0;
	int rc = 0;

	if (!f || !buf) {
		rc = f ? -ENOMEM : -errno;
		goto out;
	}
	n = fread(buf, 1, DFSYNTAX_MAX_FILE + 1, f);
	if (ferror(f))
		rc = -EIO;
	else if (n > DFSYNTAX_MAX_FILE)
		rc = -EFBIG;
out:
	if (f && f != stdin)
		fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}
