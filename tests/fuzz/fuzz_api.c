/*
 * fuzz_api — libFuzzer target for every parser of client input in the REST
 * API: request targets and query strings (with routing and the /v1/builds
 * parameters), If-None-Match, Authorization, Content-Type, the registry
 * notification envelope and the rebuild body.
 *
 * The first byte picks the parser, the rest is its input. Beyond not
 * crashing, what a parser accepts must be what the API relies on: routed
 * names are valid project names, limits are within bounds, tokens are
 * token68, pushed names are host/repository.
 */
#include "api_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_INPUT_MAX 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void fuzz_uri(const char *s)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE", "OPTIONS"};
	char path[API_URI_MAX + 1], err[256];
	struct api_query q;
	struct api_route rt;
	struct api_builds_query bq;
	const char *perr = NULL;

	if (api_uri_parse(s, path, sizeof(path), &q, &perr) < 0) {
		check(perr && *perr);
		return;
	}
	check(path[0] == '/' && q.n <= API_QUERY_MAX);
	for (size_t i = 0; i < q.n; i++)
		check(q.p[i].key[0] && api_query_get(&q, q.p[i].key) == q.p[i].value);
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		int r = api_route_match(methods[m], path, &rt);
		check(r == 0 || r == -ENOENT || r == -EPERM);
		if (r == 0 && (rt.id == R_PROJECT || rt.id == R_REBUILD || rt.id == R_ROLLBACK))
			check(api_name_valid(rt.name));
		if (r == 0 && (rt.id == R_BUILD || rt.id == R_BUILD_LOG))
			check(rt.build_id > 0);
		if (r != -ENOENT)
			check(rt.allow != NULL);
	}
	if (api_builds_query_parse(&q, &bq, err, sizeof(err)) == 0) {
		check(bq.limit >= 1 && bq.limit <= API_BUILDS_MAX && bq.before >= 0);
		check(!bq.project[0] || api_name_valid(bq.project));
	} else {
		check(err[0] != '\0');
	}
}

static void fuzz_bearer(const char *s)
{
	const char *tok;
	size_t n;

	if (api_bearer_parse(s, &tok, &n) < 0)
		return;
	check(n > 0 && tok >= s && tok + n <= s + strlen(s));
	for (size_t i = 0; i < n; i++)
		check(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
		             "=",
		             tok[i]) != NULL);
	check(api_token_equal(tok, n, tok, n));
	check(!api_token_equal(tok, n - 1, tok, n));
}

static void push_cb(const char *name, void *arg)
{
	const char *slash = strchr(name, '/');

	(void)arg;
	check(slash && slash > name && slash[1] != '\0');
}

static void fuzz_bodies(const char *s, size_t n, bool hook)
{
	char err[256] = "", reason[API_REASON_MAX + 1] = "x";

	if (hook) {
		int r = api_hook_parse(s, n, push_cb, NULL, err, sizeof(err));
		check(r >= 0 || err[0]);
		check(r <= API_HOOK_EVENTS);
	} else if (api_rebuild_parse(s, n, reason, sizeof(reason), err, sizeof(err)) == 0) {
		check(strlen(reason) >= 1 && strlen(reason) <= API_REASON_MAX);
	} else {
		check(err[0] != '\0');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl;

	if (size < 1 || size > FUZZ_INPUT_MAX)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		fuzz_uri(s);
		break;
	case 1: /* If-None-Match, a newline, then the entity tag */
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		(void)api_etag_match(s, nl ? nl + 1 : "\"0123456789abcdef\"");
		break;
	case 2:
		fuzz_bearer(s);
		break;
	case 3:
		(void)api_content_type_json(s);
		break;
	case 4:
		fuzz_bodies((const char *)data + 1, size - 1, true);
		break;
	default:
		fuzz_bodies((const char *)data + 1, size - 1, false);
	}
	free(s);
	return 0;
}
