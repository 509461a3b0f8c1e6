/*
 * api_cache — the render cache. Bodies are rendered when the store's
 * generation or the configuration moved (or, for the clock-dependent ones,
 * after their ttl), and the same MHD_Response is queued for every request
 * until then: serving is a lookup.
 */
#include "api_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "wallclock.h"

static void body_unref(void *arg)
{
	struct api_body *b = arg;

	if (b && --b->refs == 0) {
		free(b->data);
		free(b);
	}
}

static void entry_clear(struct api_cache_entry *e)
{
	if (e->resp)
		MHD_destroy_response(e->resp);
	if (e->resp304)
		MHD_destroy_response(e->resp304);
	body_unref(e->body);
	memset(e, 0, sizeof(*e));
}

/* FNV-1a: the ETag names the bytes, so it stays valid across restarts. */
static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct MHD_Response *api_body_response(struct api *a, struct api_body *b, bool not_modified)
{
	struct MHD_Response *r;

	if (not_modified)
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data,
		                                                           body_unref, b);
	if (!r)
		return NULL;
	if (!not_modified)
		b->refs++;
	if (!not_modified)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, b->content_type);
	if (b->etag[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, b->etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (a->cors)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	if (!strncmp(b->content_type, "text/html", 9))
		MHD_add_response_header(r, "Content-Security-Policy",
		                        "default-src 'none'; style-src 'unsafe-inline'; "
		                        "script-src 'unsafe-inline'; connect-src 'self'");
	return r;
}

static struct api_cache_entry *slot_for(struct api *a, const char *key)
{
	struct api_cache_entry *lru = &a->cache[0];

	for (size_t i = 0; i < API_CACHE_SLOTS; i++) {
		struct api_cache_entry *e = &a->cache[i];
		if (e->body && !strcmp(e->key, key))
			return e;
		if (!e->body || (lru->body && e->used < lru->used))
			lru = e;
	}
	return lru;
}

static bool fresh(struct api *a, const struct api_cache_entry *e)
{
	return e->body && e->store_gen == store_generation(a->store) && e->cfg_gen == a->cfg_gen &&
	       (e->expires == 0 || uv_now(a->loop) < e->expires);
}

static struct api_body *body_new(struct api_render *r)
{
	struct api_body *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->refs = 1;
	b->status = r->status;
	b->content_type = r->content_type;
	b->data = r->body;
	b->len = r->len;
	r->body = NULL;
	if (b->status == 200)
		snprintf(b->etag, sizeof(b->etag), "\"%016llx\"",
		         (unsigned long long)fnv1a(b->data, b->len));
	return b;
}

static void view_init(struct api *a, struct api_view *v)
{
	v->store = a->store;
	v->cfg = a->cfg;
	v->started_at_ms = a->started_at_ms;
	v->now_ms = wallclock_ms();
	v->engine_grace_ms = a->opts.engine_grace_ms;
	v->openapi = a->opts.openapi;
	v->openapi_len = a->opts.openapi_len;
	v->registries = a->ops.registry_stats;
	v->registries_arg = a->ops.arg;
	v->loop_lag_us = a->handles >= 3 ? looplag_max_us(&a->lag) : 0;
}

struct api_cache_entry *api_cache_get(struct api *a, const char *key, const struct api_route *rt,
                                      const struct api_builds_query *bq, int *ret_err)
{
	struct api_cache_entry *e = slot_for(a, key);
	struct api_render r;
	struct api_view v;
	uint64_t gen = store_generation(a->store);
	int err;

	e->used = ++a->tick;
	if (!strcmp(e->key, key) && fresh(a, e))
		return e;
	view_init(a, &v);
	if (rt->id == R_STATUS) { /* the state part only changes with the store */
		struct api_route base = {.id = R_STATUS_BASE};
		struct api_cache_entry *b = api_cache_get(a, "status-base", &base, bq, ret_err);
		if (!b)
			return NULL;
		v.status_base = b->body->data;
		v.status_base_len = b->body->len;
	}
	err = api_render_route(&v, rt, bq, &r);
	if (err < 0) {
		free(r.body);
		*ret_err = err;
		return NULL;
	}
	entry_clear(e);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->body = body_new(&r);
	e->resp = e->body ? api_body_response(a, e->body, false) : NULL;
	e->resp304 = e->body && e->body->etag[0] ? api_body_response(a, e->body, true) : NULL;
	if (!e->body || !e->resp || (e->body->etag[0] && !e->resp304)) {
		free(r.body);
		entry_clear(e);
		*ret_err = -ENOMEM;
		return NULL;
	}
	e->store_gen = gen; /* as before the render: a write during it re-renders next time */
	e->cfg_gen = a->cfg_gen;
	e->expires = r.ttl_ms ? uv_now(a->loop) + r.ttl_ms : 0;
	e->used = ++a->tick;
	return e;
}

void api_cache_flush(struct api *a)
{
	for (size_t i = 0; i < API_CACHE_SLOTS; i++)
		entry_clear(&a->cache[i]);
}
