#include "fileread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fileread_small(const char *path, size_t max, char **ret, size_t *ret_len, mode_t *ret_mode)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf = NULL;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EBADFD : 0;
	if (r == 0 && (uint64_t)st.st_size > max)
		r = -EFBIG;
	cap = r == 0 ? (size_t)st.st_size + 2 : 0;
	if (r == 0 && !(buf = malloc(cap)))
		r = -ENOMEM;
	while (r == 0 && len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n == 0)
			break;
		else if (n > 0)
			len += (size_t)n;
	}
	close(fd);
	if (r == 0 && len > (size_t)st.st_size)
		r = -EFBIG; /* it grew while we read it */
	if (r < 0) {
		if (buf)
			explicit_bzero(buf, cap);
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	if (ret_mode)
		*ret_mode = st.st_mode;
	return 0;
}

const char *fileread_error(int r, char *buf, size_t len, size_t max)
{
	if (r == -EFBIG)
		snprintf(buf, len, "larger than %zu bytes", max);
	else if (r == -EBADFD)
		snprintf(buf, len, "not a regular file");
	else
		snprintf(buf, len, "%s", strerror(-r));
	return buf;
}
