/*
 * api_server.h — the server half of the api module (api.c: life cycle and the
 * MHD-on-libuv glue; api_cache.c: the render cache; api_serve.c: answering requests;
 * api_conns.c: the connection slots). Only these files include microhttpd.h.
 */
#ifndef REFIT_API_SERVER_H
#define REFIT_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>
#include <uv.h>

#include "api_impl.h"
#include "looplag.h"

#define API_CACHE_SLOTS 64          /* rendered bodies kept (LRU) */
#define API_LOG_MAX     (16u << 20) /* the tail of a build log served */

/* A rendered body shared by the cache and the responses in flight. */
struct api_body {
	unsigned refs;
	int status;
	const char *content_type;
	char *data;
	size_t len;
	char etag[24]; /* "0123456789abcdef" with the quotes; "" unless status 200 */
};

struct api_cache_entry {
	char key[192];
	uint64_t store_gen, cfg_gen;
	uint64_t expires; /* loop time; 0 = until the store or config changes */
	uint64_t used;
	struct api_body *body;
	struct MHD_Response *resp, *resp304; /* shared by every request without CORS */
};

struct ratelimit;

/* The connections MHD holds, oldest first (api_conns.c). */
struct api_conn;
struct api_conns {
	struct api_conn *first, *last;
	unsigned n;
	uint64_t shed; /* closed to make room, since start */
};

struct api {
	uv_loop_t *loop;
	struct store *store;
	const struct config *cfg;
	uint64_t cfg_gen;
	struct api_ops ops;
	struct api_opts opts; /* listen and the strings not owned: see cors */
	char **cors;          /* allowed origins, NULL-terminated; NULL = none */
	char *token;          /* the bearer token; NULL = POSTs refused */
	size_t token_len;
	char token_problem[256]; /* why there is no token (never its content) */
	struct api_listener lis;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	int handles; /* open uv handles; the api is freed when the last closes */
	struct api_cache_entry cache[API_CACHE_SLOTS];
	uint64_t tick;
	uint64_t started_at_ms;
	struct ratelimit *limits; /* per client address: all requests, failed authorizations */
	struct ratelimit *auth_limits;
	struct api_conns conns;
	struct looplag lag; /* the loop's lag, for /metrics */
};

/* api_conns.c: MHD_OPTION_NOTIFY_CONNECTION's callback (cls: the api), which sheds the
 * oldest connection without a request when the slots run out; a request head came in
 * (the configured timeout applies), and its answer went (the short one again). */
void api_conns_notify_cb(void *cls, struct MHD_Connection *c, void **socket_context,
                         enum MHD_ConnectionNotificationCode code);
void api_conns_request(struct api *a, struct MHD_Connection *c);
void api_conns_idle(struct api *a, struct MHD_Connection *c);

/* What one request carries between the calls of the access handler. */
struct api_req {
	bool started;
	bool too_large;
	char *body;
	size_t body_len;
	size_t discarded; /* bytes past max_body, read and dropped */
	size_t uri_len;
	char uri[]; /* the raw request target */
};

/* Answers one complete request (api_serve.c). */
enum MHD_Result api_serve(struct api *a, struct MHD_Connection *c, struct api_req *rq,
                          const char *method);

/* Queues a JSON error {"error":{code,message}} with status. */
enum MHD_Result api_reply_error(struct api *a, struct MHD_Connection *c, int status,
                                const char *code, const char *message);

/* A fresh (or freshly rendered) cache entry for key; NULL with *ret_err on failure. */
struct api_cache_entry *api_cache_get(struct api *a, const char *key, const struct api_route *rt,
                                      const struct api_builds_query *bq, int *ret_err);

/* Drops every cached body (a reload, the end). */
void api_cache_flush(struct api *a);

/* A response for body (one more reference), with the common headers. */
struct MHD_Response *api_body_response(struct api *a, struct api_body *b, bool not_modified);

/* The request's Origin when CORS allows it, else NULL. */
const char *api_cors_origin(struct api *a, struct MHD_Connection *c);

/* Adds the CORS headers for an allowed origin. */
void api_cors_headers(struct MHD_Response *r, const char *origin);

#endif
