#include "challenge.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* RFC 7230 tchar. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~/=:", c) != NULL);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a token into buf (truncation is an error); returns the end or NULL. */
static const char *read_token(const char *p, char *buf, size_t len, bool allow_eq)
{
	size_t n = 0;

	while (is_tchar(*p) && (allow_eq || *p != '=')) {
		if (n + 1 >= len)
			return NULL;
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	return n ? p : NULL;
}

static const char *read_quoted(const char *p, char *buf, size_t len)
{
	size_t n = 0;

	for (p++; *p != '"'; p++) {
		if (!*p)
			return NULL;
		if (*p == '\\' && p[1])
			p++;
		if (n + 1 >= len)
			return NULL;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return p + 1;
}

static void store_param(struct challenge *c, const char *key, const char *val)
{
	char *dst = NULL;
	size_t len = 0;

	if (!strcasecmp(key, "realm"))
		dst = c->realm, len = sizeof(c->realm);
	else if (!strcasecmp(key, "service"))
		dst = c->service, len = sizeof(c->service);
	else if (!strcasecmp(key, "scope"))
		dst = c->scope, len = sizeof(c->scope);
	else if (!strcasecmp(key, "error"))
		dst = c->error, len = sizeof(c->error);
	if (dst && strlen(val) < len)
		strcpy(dst, val);
}

/*
 * Reads "key=value" at p; returns the end, or NULL when p does not start a
 * parameter (then it may be the next challenge's scheme).
 */
static const char *read_param(const char *p, struct challenge *c, bool *ret_param)
{
	char key[64], val[CHALLENGE_VALUE_MAX];
	const char *q = read_token(p, key, sizeof(key), false);

	*ret_param = false;
	if (!q)
		return NULL;
	q = skip_ws(q);
	if (*q != '=')
		return p; /* not a parameter: a new scheme */
	q = skip_ws(q + 1);
	q = *q == '"' ? read_quoted(q, val, sizeof(val)) : read_token(q, val, sizeof(val), true);
	if (!q)
		return NULL;
	store_param(c, key, val);
	*ret_param = true;
	return q;
}

static enum challenge_scheme scheme_of(const char *s)
{
	if (!strcasecmp(s, "basic"))
		return CHALLENGE_BASIC;
	if (!strcasecmp(s, "bearer"))
		return CHALLENGE_BEARER;
	return CHALLENGE_OTHER;
}

/* Parses the parameters of one challenge; returns the position after them. */
static const char *read_params(const char *p, struct challenge *c)
{
	bool is_param;

	for (;;) {
		const char *q;

		p = skip_ws(p);
		if (!*p || *p == ',')
			return p;
		q = read_param(p, c, &is_param);
		if (!q)
			return NULL;
		if (!is_param)
			return p; /* the next scheme starts here */
		p = skip_ws(q);
		if (*p == ',')
			p++;
		else if (*p)
			return NULL;
	}
}

int challenge_parse(const char *header, struct challenge *ret, int max)
{
	const char *p = header;
	int n = 0;

	if (!header || strlen(header) > 8192)
		return -EINVAL;
	for (p = skip_ws(p); *p; p = skip_ws(p)) {
		char scheme[32];
		struct challenge c;

		memset(&c, 0, sizeof(c));
		p = read_token(p, scheme, sizeof(scheme), false);
		if (!p || (*p && *p != ' ' && *p != '\t' && *p != ','))
			return -EINVAL;
		c.scheme = scheme_of(scheme);
		p = read_params(p, &c);
		if (!p)
			return -EINVAL;
		if (n < max)
			ret[n++] = c;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return n ? n : -EINVAL;
}

const struct challenge *challenge_find(const struct challenge *list, int n, enum challenge_scheme s)
{
	for (int i = 0; i < n; i++)
		if (list[i].scheme == s)
			return &list[i];
	return NULL;
}
