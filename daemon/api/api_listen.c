/*
 * api_listen — the listening socket of the REST API, opened by refitd itself
 * and handed to libmicrohttpd (MHD_OPTION_LISTEN_SOCKET): TCP on any address
 * (port 0 picks a free one, which tests use), a unix socket (mode 0660, a
 * stale one replaced, a live one refused), or the socket systemd passed.
 */
#include "api_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

/* A flood of connects queues (up to somaxconn) instead of losing SYNs to a full queue. */
#define LISTEN_BACKLOG 1024

/* Formats the address a socket is bound to: "1.2.3.4:80", "[::1]:80" or "unix:/path". */
static void sock_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	snprintf(buf, len, "fd %d", fd);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		snprintf(buf, len, "unix:%.*s", (int)sizeof(un->sun_path), un->sun_path);
	}
}

/* Splits "host:port" or "[v6]:port" into its parts. */
static int split_host_port(const char *spec, char *host, size_t hostlen, const char **ret_port)
{
	const char *colon;
	size_t n;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - spec - 1);
		colon = end + 1;
		spec++;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - spec);
	}
	if (n == 0 || n >= hostlen || !colon[1])
		return -EINVAL;
	memcpy(host, spec, n);
	host[n] = '\0';
	*ret_port = colon + 1;
	return 0;
}

static int bind_one(const struct addrinfo *ai)
{
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int listen_tcp(const char *spec, int *ret_fd, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char host[256];
	const char *port;
	int fd = -EADDRNOTAVAIL, rc;

	if (split_host_port(spec, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "listen: '%s' is not host:port or [ipv6]:port", spec);
		return -EINVAL;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "listen: %s: %s", spec, gai_strerror(rc));
		return -EADDRNOTAVAIL;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = bind_one(ai);
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "listen: cannot bind %s: %s", spec, strerror(-fd));
		return fd;
	}
	*ret_fd = fd;
	return 0;
}

/* Removes a socket file nobody listens on; refuses a live one or a non-socket. */
static int clear_stale(const char *path, const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "listen: %s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "listen: another process is listening on %s", path);
		return -EADDRINUSE;
	}
	return unlink(path) < 0 ? -errno : 0;
}

static int listen_unix(const char *path, int *ret_fd, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "listen: unix socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	r = clear_stale(path, &sun, err, errlen);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "listen: %s: %s", path, strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0117); /* the socket is created 0660: owner and group may connect */
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		snprintf(err, errlen, "listen: cannot bind %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static int listen_systemd(int *ret_fd, char *err, size_t errlen)
{
	int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START;

	if (n <= 0) {
		snprintf(err, errlen, "listen: systemd passed no socket (LISTEN_FDS)");
		return n < 0 ? n : -EBADF;
	}
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
		snprintf(err, errlen,
		         "listen: the socket systemd passed is not a listening stream");
		return -ENOTSOCK;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	*ret_fd = fd;
	return 0;
}

int api_listen_open(const char *spec, struct api_listener *ret, char *err, size_t errlen)
{
	int fd = -1, r;

	memset(ret, 0, sizeof(*ret));
	err[0] = '\0';
	if (!strcmp(spec, "systemd") || sd_listen_fds(0) > 0) {
		r = listen_systemd(&fd, err, errlen);
		ret->systemd = true;
	} else if (!strncmp(spec, "unix:", 5)) {
		r = listen_unix(spec + 5, &fd, err, errlen);
		if (r == 0)
			snprintf(ret->unix_path, sizeof(ret->unix_path), "%s", spec + 5);
	} else {
		r = listen_tcp(spec, &fd, err, errlen);
	}
	if (r < 0)
		return r;
	ret->fd = fd;
	sock_name(fd, ret->address, sizeof(ret->address));
	return 0;
}
