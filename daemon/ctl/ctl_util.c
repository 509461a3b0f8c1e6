/* ctl_util — small helpers shared by refitctl's commands. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfsyntax.h"
#include "strbuf.h"

int ctl_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct strbuf b = {0};
	char chunk[65536];
	size_t got;
	int rc = f ? 0 : -errno;

	while (rc == 0 && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = strbuf_put(&b, chunk, got, max);
	if (rc == -E2BIG)
		rc = -EFBIG;
	else if (rc == 0 && ferror(f))
		rc = -EIO;
	if (f && f != stdin)
		fclose(f);
	if (rc == 0 && !b.p) /* empty: still a buffer, "" */
		rc = strbuf_put(&b, "", 0, max);
	if (rc) {
		free(b.p);
		return rc;
	}
	*ret = b.p;
	*ret_len = b.len;
	return 0;
}

int ctl_read_dockerfile(const char *path, char **ret, size_t *ret_len)
{
	return ctl_read_file(path, DFSYNTAX_MAX_FILE, ret, ret_len);
}
