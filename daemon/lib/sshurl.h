/*
 * sshurl — the ssh:// engine address, `ssh://user@host[:port][/remote.sock]`.
 *
 * Its parts become separate arguments of the OpenSSH client (sshfwd), so each
 * is checked to be what it says: a user and a host that cannot be read as an
 * option, a port in range, an absolute socket path with no colon (ssh -L splits
 * on it), no space and no `%` (ssh would expand it). The remote socket
 * defaults to the Docker socket.
 */
#ifndef REFIT_SSHURL_H
#define REFIT_SSHURL_H

#include <stddef.h>

#define SSHURL_DEFAULT_SOCKET "/var/run/docker.sock"

struct sshurl {
	char user[64];
	char host[256]; /* a name, an IPv4 address or an IPv6 address without brackets */
	unsigned port;  /* 22 when not given */
	char socket[108];
};

/* Parses s; on failure fills err with the reason and returns -EINVAL. */
int sshurl_parse(const char *s, struct sshurl *ret, char *err, size_t errlen);

/* A file name ssh takes verbatim in an -o option (no space, quote, `%` or leading `~` or `-`). */
int sshurl_check_file(const char *path);

#endif
