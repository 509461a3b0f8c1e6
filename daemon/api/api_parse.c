/*
 * api_parse — everything the api reads from a client: the request target,
 * query parameters, If-None-Match, Authorization, Content-Type, and the JSON
 * bodies of POSTs. Pure functions over untrusted bytes, fuzzed by
 * tests/fuzz/fuzz_api.c; none of them allocates beyond jansson's parse.
 */
#include "api_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes src[0..len) into dst (NUL-terminated); plus: '+' means space. */
static int decode(const char *src, size_t len, char *dst, size_t dstlen, bool plus)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)src[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -EINVAL; /* "%" or "%X" at the end */
			hi = hexval(src[i + 1]);
			lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return -EINVAL; /* NUL and control characters never mean anything here */
		if (o + 1 >= dstlen)
			return -E2BIG;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int add_param(struct api_query *q, const char *s, size_t len, const char **ret_err)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	struct api_param *p;

	if (q->n >= API_QUERY_MAX) {
		*ret_err = "too many query parameters";
		return -EINVAL;
	}
	p = &q->p[q->n];
	if (decode(s, klen, p->key, sizeof(p->key), true) < 0 || !p->key[0]) {
		*ret_err = "malformed or over-long query parameter name";
		return -EINVAL;
	}
	if (decode(eq ? eq + 1 : "", eq ? len - klen - 1 : 0, p->value, sizeof(p->value), true) <
	    0) {
		*ret_err = "malformed or over-long query parameter value";
		return -EINVAL;
	}
	if (api_query_get(q, p->key)) {
		*ret_err = "a query parameter is given twice";
		return -EINVAL;
	}
	q->n++;
	return 0;
}

int api_uri_parse(const char *raw, char *path, size_t pathlen, struct api_query *q,
                  const char **ret_err)
{
	const char *qm = strchr(raw, '?');
	size_t plen = qm ? (size_t)(qm - raw) : strlen(raw);

	q->n = 0;
	if (raw[0] != '/') {
		*ret_err = "the request target must be an absolute path";
		return -EINVAL;
	}
	if (decode(raw, plen, path, pathlen, false) < 0) {
		*ret_err = "malformed or over-long path";
		return -EINVAL;
	}
	for (const char *s = qm ? qm + 1 : NULL; s && *s;) {
		size_t len = strcspn(s, "&");
		if (len > 0 && add_param(q, s, len, ret_err) < 0)
			return -EINVAL;
		s += len;
		if (*s == '&')
			s++;
	}
	return 0;
}

const char *api_query_get(const struct api_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->p[i].key, key))
			return q->p[i].value;
	return NULL;
}

bool api_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > API_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* A decimal id 1..INT64_MAX without sign, leading zeros or trailing bytes. */
static int parse_id(const char *s, size_t len, int64_t *ret)
{
	int64_t v = 0;

	if (len == 0 || len > 19 || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

struct route_def {
	const char *pattern; /* segments; {name} and {id} are parameters */
	enum api_route_id id;
	bool post;
};

static const struct route_def routes[] = {
        {"/", R_INDEX, false},
        {"/healthz", R_HEALTHZ, false},
        {"/metrics", R_METRICS, false},
        {"/v1/openapi.json", R_OPENAPI, false},
        {"/v1/status", R_STATUS, false},
        {"/v1/projects", R_PROJECTS, false},
        {"/v1/projects/{name}", R_PROJECT, false},
        {"/v1/projects/{name}/rebuild", R_REBUILD, true},
        {"/v1/projects/{name}/rollback", R_ROLLBACK, true},
        {"/v1/projects/{name}/hold", R_HOLD, true},
        {"/v1/projects/{name}/release", R_RELEASE, true},
        {"/v1/builds", R_BUILDS, false},
        {"/v1/builds/{id}", R_BUILD, false},
        {"/v1/builds/{id}/log", R_BUILD_LOG, false},
        {"/v1/builds/{id}/sbom", R_BUILD_SBOM, false},
        {"/v1/builds/{id}/provenance", R_BUILD_PROVENANCE, false},
        {"/v1/builds/{id}/vex", R_BUILD_VEX, false},
        {"/v1/bases", R_BASES, false},
        {"/v1/feeds", R_FEEDS, false},
        {"/v1/feeds/poll", R_FEEDS_POLL, true},
        {"/v1/hooks/registry", R_HOOK_REGISTRY, true},
        {"/projects/{name}", R_PAGE_PROJECT, false},
        {"/builds/{id}", R_PAGE_BUILD, false},
};

/* Matches path against one pattern, filling the parameters into ret. */
static bool match(const char *pattern, const char *path, struct api_route *ret)
{
	while (*pattern && *path) {
		size_t pl = strcspn(pattern + 1, "/") + 1, sl = strcspn(path + 1, "/") + 1;
		if (*pattern != '/' || *path != '/')
			return false;
		if (pl == 7 && !strncmp(pattern, "/{name}", pl)) {
			if (sl - 1 > API_NAME_MAX)
				return false;
			memcpy(ret->name, path + 1, sl - 1);
			ret->name[sl - 1] = '\0';
			if (!api_name_valid(ret->name))
				return false;
		} else if (pl == 5 && !strncmp(pattern, "/{id}", pl)) {
			if (parse_id(path + 1, sl - 1, &ret->build_id) < 0)
				return false;
		} else if (pl != sl || strncmp(pattern, path, pl)) {
			return false;
		}
		pattern += pl;
		path += sl;
	}
	return !*pattern && !*path;
}

int api_route_match(const char *method, const char *path, struct api_route *ret)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool post = !strcmp(method, "POST");

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, path, ret))
			continue;
		ret->id = routes[i].id;
		ret->post = routes[i].post;
		ret->allow = routes[i].post ? "POST, OPTIONS" : "GET, HEAD, OPTIONS";
		return (routes[i].post ? post : get) ? 0 : -EPERM;
	}
	return -ENOENT;
}

static const char *const build_statuses[] = {"queued", "running", "succeeded",
                                             "failed", "skipped", "interrupted"};

static int parse_limit(const char *v, unsigned *ret)
{
	int64_t n;

	if (parse_id(v, strlen(v), &n) < 0 || n > API_BUILDS_MAX)
		return -EINVAL;
	*ret = (unsigned)n;
	return 0;
}

static bool status_valid(const char *s)
{
	for (size_t i = 0; i < sizeof(build_statuses) / sizeof(build_statuses[0]); i++)
		if (!strcmp(s, build_statuses[i]))
			return true;
	return false;
}

/* Copies what fits of src (already checked to fit). */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Checks one parameter of GET /v1/builds into ret; false with err set. */
static bool builds_param(const struct api_param *p, struct api_builds_query *ret, char *err,
                         size_t errlen)
{
	if (!strcmp(p->key, "project") || !strcmp(p->key, "env")) {
		if (!api_name_valid(p->value)) {
			snprintf(err, errlen, "%s: not a valid name", p->key);
			return false;
		}
		copy(!strcmp(p->key, "env") ? ret->env : ret->project, sizeof(ret->env), p->value);
	} else if (!strcmp(p->key, "status")) {
		if (!status_valid(p->value)) {
			snprintf(err, errlen,
			         "status: one of queued, running, succeeded, failed, "
			         "skipped, interrupted");
			return false;
		}
		copy(ret->status, sizeof(ret->status), p->value);
	} else if (!strcmp(p->key, "limit")) {
		if (parse_limit(p->value, &ret->limit) < 0) {
			snprintf(err, errlen, "limit: an integer from 1 to %d", API_BUILDS_MAX);
			return false;
		}
	} else if (!strcmp(p->key, "before")) {
		if (parse_id(p->value, strlen(p->value), &ret->before) < 0) {
			snprintf(err, errlen, "before: a build id (a positive integer)");
			return false;
		}
	} else {
		snprintf(err, errlen,
		         "unknown parameter (known: project, env, status, limit, before)");
		return false;
	}
	return true;
}

int api_builds_query_parse(const struct api_query *q, struct api_builds_query *ret, char *err,
                           size_t errlen)
{
	memset(ret, 0, sizeof(*ret));
	ret->limit = API_BUILDS_LIMIT;
	for (size_t i = 0; i < q->n; i++)
		if (!builds_param(&q->p[i], ret, err, errlen))
			return -EINVAL;
	return 0;
}

bool api_etag_match(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);

	while (*inm) {
		const char *end;
		inm += strspn(inm, " \t,");
		if (*inm == '*')
			return true;
		if (!strncmp(inm, "W/", 2))
			inm += 2;
		if (*inm != '"')
			return false; /* not a list of entity tags: no match */
		end = strchr(inm + 1, '"');
		if (!end)
			return false;
		if ((size_t)(end + 1 - inm) == elen && !memcmp(inm, etag, elen))
			return true;
		inm = end + 1;
	}
	return false;
}

int api_bearer_parse(const char *h, const char **ret_token, size_t *ret_len)
{
	size_t n, eq;

	h += strspn(h, " \t");
	if (strncasecmp(h, "Bearer", 6) || (h[6] != ' ' && h[6] != '\t'))
		return -EINVAL;
	h += 6;
	h += strspn(h, " \t");
	n = strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
	eq = strspn(h + n, "=");
	if (n == 0 || h[n + eq + strspn(h + n + eq, " \t")] != '\0')
		return -EINVAL;
	*ret_token = h;
	*ret_len = n + eq;
	return 0;
}

bool api_token_equal(const char *given, size_t given_len, const char *want, size_t want_len)
{
	volatile unsigned char diff = given_len != want_len;

	/* The loop runs over the secret's length whatever was presented. */
	for (size_t i = 0; i < want_len; i++)
		diff |= (unsigned char)(want[i] ^ (i < given_len ? given[i] : 0));
	return diff == 0 && want_len > 0;
}

bool api_content_type_json(const char *ct)
{
	size_t n;

	if (!ct)
		return false;
	ct += strspn(ct, " \t");
	n = strcspn(ct, " \t;");
	if (n == 16 && !strncasecmp(ct, "application/json", 16))
		return true;
	return n > 17 && !strncasecmp(ct, "application/", 12) &&
	       !strncasecmp(ct + n - 5, "+json", 5);
}

/* Registry host as a client names it: host[:port], IPv6 in brackets. */
static bool host_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 261 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
	               n &&
	       s[0] != '-' && s[0] != '.' && s[0] != ':';
}

/* Repository path components as distribution allows them (lower case). */
static bool repository_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 255 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._/-") == n &&
	       s[0] != '/' && s[n - 1] != '/' && !strstr(s, "//");
}

/* Blob pushes also arrive as events; only manifests (and indexes) move a tag. */
static bool manifest_type(const char *mt)
{
	return !mt || strstr(mt, "manifest") || strstr(mt, "image.index");
}

/* The "host/repository" of a push event into name; false when it is not one. */
static bool push_name(json_t *ev, char *name, size_t namelen)
{
	json_t *target = json_object_get(ev, "target"), *req = json_object_get(ev, "request");
	const char *action = json_string_value(json_object_get(ev, "action"));
	const char *repo = json_string_value(json_object_get(target, "repository"));
	const char *host = json_string_value(json_object_get(req, "host"));
	json_t *mt = json_object_get(target, "mediaType");

	if (!action || strcmp(action, "push") || !repo || !host)
		return false;
	if ((mt && !json_is_string(mt)) || !manifest_type(json_string_value(mt)))
		return false;
	if (!repository_valid(repo) || !host_valid(host))
		return false;
	return snprintf(name, namelen, "%s/%s", host, repo) < (int)namelen;
}

int api_hook_parse(const char *body, size_t len, api_push_cb cb, void *arg, char *err,
                   size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *seen = NULL, *events;
	int n = -EINVAL;

	events = json_object_get(doc, "events");
	if (!doc) {
		snprintf(err, errlen, "invalid JSON at byte %d: %s", jerr.position, jerr.text);
		goto out;
	}
	if (!json_is_array(events) || json_array_size(events) > API_HOOK_EVENTS) {
		snprintf(err, errlen, "expected {\"events\": [...]} with at most %d events",
		         API_HOOK_EVENTS);
		goto out;
	}
	seen = json_object();
	if (!seen) {
		snprintf(err, errlen, "out of memory");
		n = -ENOMEM;
		goto out;
	}
	n = 0;
	for (size_t i = 0; i < json_array_size(events); i++) {
		char name[600];
		if (!push_name(json_array_get(events, i), name, sizeof(name)) ||
		    json_object_get(seen, name))
			continue;
		if (json_object_set_new(seen, name, json_true()) < 0)
			continue;
		cb(name, arg);
		n++;
	}
out:
	json_decref(seen);
	json_decref(doc);
	return n;
}

/* Checks the reason string of a rebuild request into reason. */
static int reason_copy(json_t *v, char *reason, size_t reasonlen, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;

	if (!s || n == 0 || n > API_REASON_MAX || n != json_string_length(v)) {
		snprintf(err, errlen, "reason: a string of 1 to %d characters", API_REASON_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(err, errlen, "reason: control characters are not allowed");
			return -EINVAL;
		}
	snprintf(reason, reasonlen, "%s", s);
	return 0;
}

int api_rebuild_parse(const char *body, size_t len, char *reason, size_t reasonlen, char *err,
                      size_t errlen)
{
	json_error_t jerr;
	json_t *doc, *v;
	const char *key;
	int r = 0;

	if (len == 0)
		return 0;
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		if (doc)
			snprintf(err, errlen, "expected a JSON object");
		else
			snprintf(err, errlen, "invalid JSON at byte %d: %s", jerr.position,
			         jerr.text);
		json_decref(doc);
		return -EINVAL;
	}
	json_object_foreach(doc, key, v)
	{
		if (strcmp(key, "reason")) {
			snprintf(err, errlen, "unknown field (known: reason)");
			r = -EINVAL;
			break;
		}
		r = reason_copy(v, reason, reasonlen, err, errlen);
	}
	json_decref(doc);
	return r;
}
