/*
 * challenge — parsing of WWW-Authenticate headers (RFC 7235 / RFC 6750).
 *
 * One header value may carry several challenges ("Basic realm=x, Bearer
 * realm=y,service=z"); parameters are token or quoted-string values with
 * backslash escapes. Pure: no I/O. Untrusted input: every length is bounded
 * and a malformed header yields -EINVAL, never a partial guess.
 */
#ifndef REFIT_CHALLENGE_H
#define REFIT_CHALLENGE_H

#include <stddef.h>

#define CHALLENGE_MAX       4
#define CHALLENGE_VALUE_MAX 512

enum challenge_scheme { CHALLENGE_OTHER, CHALLENGE_BASIC, CHALLENGE_BEARER };

struct challenge {
	enum challenge_scheme scheme;
	char realm[CHALLENGE_VALUE_MAX];
	char service[CHALLENGE_VALUE_MAX];
	char scope[CHALLENGE_VALUE_MAX];
	char error[64]; /* e.g. insufficient_scope, invalid_token */
};

/*
 * Parses header into at most max challenges; returns how many were found, or
 * -EINVAL when the header is malformed.
 */
int challenge_parse(const char *header, struct challenge *ret, int max);

/* The first challenge of scheme s in list, or NULL. */
const struct challenge *challenge_find(const struct challenge *list, int n,
                                       enum challenge_scheme s);

#endif
