#include "url.h"

#include <stdio.h>
#include <string.h>

void url_redact(const char *url, bool keep_query, char *buf, size_t len)
{
	const char *host = strstr(url, "://"), *at, *end, *rest;

	host = host ? host + 3 : url;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	rest = at ? at + 1 : host;
	snprintf(buf, len, "%.*s%s%.*s", (int)(host - url), url, at ? "***@" : "",
	         (int)(keep_query ? strlen(rest) : strcspn(rest, "?#")), rest);
}
