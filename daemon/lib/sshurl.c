#include "sshurl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool word_ok(const char *s, size_t n, const char *extra)
{
	if (!n || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(extra, c)))
			return false;
	}
	return true;
}

static bool path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == ':' || *p == '%' || *p == '"' || *p == 0x7f)
			return false;
	return true;
}

/* host[:port] or [v6][:port] in s..end */
static int parse_hostport(const char *s, const char *end, struct sshurl *u, char *err, size_t len)
{
	const char *h = s, *he, *colon;

	if (*s == '[') {
		h = s + 1;
		he = memchr(h, ']', end - h);
		if (!he || !word_ok(h, he - h, ":."))
			return bad(err, len, "ssh://: a bad [IPv6] address");
		colon = he + 1 < end ? he + 1 : NULL;
		if (colon && *colon != ':')
			return bad(err, len, "ssh://: junk after the ] of the address");
	} else {
		colon = memchr(s, ':', end - s);
		he = colon ? colon : end;
		if (!word_ok(h, he - h, ".-_"))
			return bad(err, len, "ssh://: a bad host name");
	}
	if ((size_t)(he - h) >= sizeof(u->host))
		return bad(err, len, "ssh://: the host name is too long");
	memcpy(u->host, h, he - h);
	u->host[he - h] = '\0';
	u->port = 22;
	if (colon) {
		char *pe;
		unsigned long p = strtoul(colon + 1, &pe, 10);
		if (colon + 1 == end || pe != end || p < 1 || p > 65535 || colon[1] == '+' ||
		    colon[1] == '-' || colon[1] == ' ')
			return bad(err, len, "ssh://: the port must be 1-65535");
		u->port = (unsigned)p;
	}
	return 0;
}

int sshurl_parse(const char *s, struct sshurl *ret, char *err, size_t len)
{
	struct sshurl u;
	const char *at, *slash, *end;

	memset(&u, 0, sizeof(u));
	if (strncmp(s, "ssh://", 6))
		return bad(err, len, "ssh:// expected");
	s += 6;
	slash = strchr(s, '/');
	end = slash ? slash : s + strlen(s);
	at = memchr(s, '@', end - s);
	if (!at)
		return bad(err, len, "ssh:// needs user@host");
	if (!word_ok(s, at - s, "._-") || (size_t)(at - s) >= sizeof(u.user))
		return bad(err, len, "ssh://: a bad user name");
	memcpy(u.user, s, at - s);
	if (parse_hostport(at + 1, end, &u, err, len) < 0)
		return -EINVAL;
	if (!slash || !slash[1])
		snprintf(u.socket, sizeof(u.socket), "%s", SSHURL_DEFAULT_SOCKET);
	else if (!path_ok(slash) || strlen(slash) >= sizeof(u.socket))
		return bad(err, len,
		           "ssh://: the remote socket path must be absolute, shorter than %zu "
		           "bytes, without spaces, ':' or '%%'",
		           sizeof(u.socket));
	else
		snprintf(u.socket, sizeof(u.socket), "%s", slash);
	*ret = u;
	return 0;
}

int sshurl_check_file(const char *path)
{
	if (!*path || path[0] == '-' || path[0] == '~')
		return -EINVAL;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '%' || *p == '"' || *p == '\'' || *p == 0x7f)
			return -EINVAL;
	return 0;
}
