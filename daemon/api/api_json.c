/*
 * api_json — the JSON pieces every renderer uses (strings that may not be UTF-8,
 * times, error bodies, a document as a body), below api_render and its siblings.
 */
#include "api_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

json_t *api_jstr(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j || !(copy = strdup(s)))
		return j;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

void api_time_format(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

json_t *api_jtime(uint64_t ms)
{
	char buf[40];

	if (ms == 0)
		return json_null();
	api_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

/* Serialises o (stolen) into ret with the status given. */
int api_render_json(json_t *o, int status, struct api_render *ret)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	size_t n = s ? strlen(s) : 0;

	json_decref(o);
	if (!s)
		return -ENOMEM;
	s[n] = '\0';
	ret->status = status;
	ret->content_type = "application/json";
	ret->body = s;
	ret->len = n;
	return 0;
}

char *api_error_json(const char *code, const char *message, size_t *ret_len)
{
	json_t *o = json_pack("{s:{s:s,s:o}}", "error", "code", code, "message", api_jstr(message));
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	if (s && ret_len)
		*ret_len = strlen(s);
	return s;
}

int api_render_error(int status, const char *code, const char *message, struct api_render *ret)
{
	size_t n = 0;
	char *s = api_error_json(code, message, &n);

	if (!s)
		return -ENOMEM;
	ret->status = status;
	ret->content_type = "application/json";
	ret->body = s;
	ret->len = n;
	return 0;
}
