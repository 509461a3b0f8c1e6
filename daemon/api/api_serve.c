/*
 * api_serve — answering one request: the target parsed by api_parse, GETs
 * from the render cache (304 on a matching If-None-Match), build logs
 * streamed from their file, POSTs checked for the bearer token and handed
 * to main through api_ops. Every error is {"error":{"code","message"}}.
 */
#include "api_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "log.h"
#include "ratelimit.h"
#include "store.h"
#include "store_state.h"
#include "store_query.h"
#include "wallclock.h"

#define TOKEN_HINT                                                                       \
	"POST requests are disabled: set api_token_file in the configuration to a file " \
	"holding a bearer token, then send Authorization: Bearer <token>"

static enum MHD_Result queue(struct MHD_Connection *c, int status, struct MHD_Response *r,
                             const char *origin)
{
	enum MHD_Result res;

	if (!r)
		return MHD_NO; /* out of memory: MHD closes the connection */
	if (origin)
		api_cors_headers(r, origin);
	res = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return res;
}

/* A per-request response owning buf (malloc'd). */
static struct MHD_Response *owned(char *buf, size_t len, const char *type)
{
	struct MHD_Response *r;

	if (!buf)
		return NULL;
	r = MHD_create_response_from_buffer_with_free_callback(len, buf, free);
	if (!r) {
		free(buf);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	return r;
}

const char *api_cors_origin(struct api *a, struct MHD_Connection *c)
{
	const char *o;

	if (!a->cors)
		return NULL;
	o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	for (size_t i = 0; o && a->cors[i]; i++)
		if (!strcmp(a->cors[i], "*") || !strcmp(a->cors[i], o))
			return o;
	return NULL;
}

void api_cors_headers(struct MHD_Response *r, const char *origin)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
	MHD_add_response_header(r, "Access-Control-Expose-Headers", "ETag");
}

static enum MHD_Result reply_json(struct api *a, struct MHD_Connection *c, int status, json_t *o,
                                  const char *origin_override)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	const char *origin = origin_override ? origin_override : api_cors_origin(a, c);

	json_decref(o);
	return queue(c, status, owned(s, s ? strlen(s) : 0, "application/json"), origin);
}

enum MHD_Result api_reply_error(struct api *a, struct MHD_Connection *c, int status,
                                const char *code, const char *message)
{
	size_t n = 0;
	char *s = api_error_json(code, message, &n);
	struct MHD_Response *r = owned(s, n, "application/json");

	if (r && status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"refit\"");
	return queue(c, status, r, api_cors_origin(a, c));
}

static enum MHD_Result reply_405(struct api *a, struct MHD_Connection *c, const char *allow)
{
	char msg[96];
	size_t n = 0;
	char *s;
	struct MHD_Response *r;

	snprintf(msg, sizeof(msg), "method not allowed here (allowed: %s)", allow);
	s = api_error_json("method_not_allowed", msg, &n);
	r = owned(s, n, "application/json");
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, r, api_cors_origin(a, c));
}

/* CORS preflight, or a plain OPTIONS: the Allow header of the path. */
static enum MHD_Result reply_options(struct api *a, struct MHD_Connection *c, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	const char *origin = api_cors_origin(a, c);

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (origin) {
		MHD_add_response_header(r, "Access-Control-Allow-Methods", allow);
		MHD_add_response_header(r, "Access-Control-Allow-Headers",
		                        "Authorization, Content-Type, If-None-Match");
		MHD_add_response_header(r, "Access-Control-Max-Age", "600");
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	}
	return queue(c, MHD_HTTP_NO_CONTENT, r, origin);
}

/* ---- GET ---- */

static void cache_key(const struct api_route *rt, const struct api_builds_query *bq, char *key,
                      size_t len)
{
	if (rt->id == R_BUILDS)
		snprintf(key, len, "%d|%s|%s|%s|%u|%lld", rt->id, bq->project, bq->env, bq->status,
		         bq->limit, (long long)bq->before);
	else
		snprintf(key, len, "%d|%s|%lld", rt->id, rt->name, (long long)rt->build_id);
}

static enum MHD_Result serve_cached(struct api *a, struct MHD_Connection *c,
                                    const struct api_route *rt, const struct api_builds_query *bq)
{
	char key[192];
	int err = 0;
	struct api_cache_entry *e;
	const char *inm, *origin = api_cors_origin(a, c);
	bool match;

	cache_key(rt, bq, key, sizeof(key));
	e = api_cache_get(a, key, rt, bq, &err);
	if (!e) {
		log_err("REST API: cannot render %s: %s", key, strerror(-err));
		return api_reply_error(a, c, err == -ENOMEM ? 503 : 500, "internal",
		                       "the state could not be read; see refitd's log");
	}
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	match = e->body->etag[0] && inm && api_etag_match(inm, e->body->etag);
	if (origin) /* headers differ per origin: a response of its own */
		return queue(c, match ? MHD_HTTP_NOT_MODIFIED : e->body->status,
		             api_body_response(a, e->body, match), origin);
	if (match)
		return MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, e->resp304);
	return MHD_queue_response(c, (unsigned)e->body->status, e->resp);
}

struct log_lookup {
	char path[PATH_MAX];
	bool has_log, pruned;
};

static int log_cb(int64_t id, const struct store_build *b, void *arg)
{
	struct log_lookup *l = arg;

	(void)id;
	l->pruned = b->pruned_at != 0;
	l->has_log = b->log_path &&
	             snprintf(l->path, sizeof(l->path), "%s", b->log_path) < (int)sizeof(l->path);
	return 0;
}

int api_log_open(const char *state_dir, const char *path, struct stat *st)
{
	char logs[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
	int fd;
	size_t n;

	snprintf(logs, sizeof(logs), "%s/logs", state_dir);
	if (!realpath(logs, dir) || !realpath(path, real))
		return -ENOENT;
	n = strlen(dir);
	if (strncmp(real, dir, n) || real[n] != '/')
		return -EPERM;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static enum MHD_Result serve_log(struct api *a, struct MHD_Connection *c, int64_t id)
{
	struct log_lookup l = {.has_log = false};
	struct MHD_Response *r;
	struct stat st;
	uint64_t size, off = 0, offset, *from = NULL;
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset");
	char *end, total[32];
	int fd, err;

	if (q) {
		errno = 0;
		offset = strtoull(q, &end, 10);
		if (!*q || *end || errno || *q == '-')
			return api_reply_error(a, c, 400, "bad_request",
			                       "offset: a byte count, 0 or more");
		from = &offset;
	}
	err = store_build_get(a->store, id, log_cb, &l);

	if (err == -ENOENT)
		return api_reply_error(a, c, 404, "not_found", "no such build");
	if (err < 0)
		return api_reply_error(a, c, 500, "internal", "the state could not be read");
	if (l.pruned)
		return api_reply_error(a, c, 410, "gone",
		                       "the log of this build was removed by the retention policy");
	if (!l.has_log)
		return api_reply_error(a, c, 404, "not_found", "this build has no log");
	fd = api_log_open(a->cfg->state_dir, l.path, &st);
	if (fd < 0)
		return api_reply_error(a, c, 404, "not_found", "the log of this build is gone");
	size = (uint64_t)st.st_size;
	if (size > API_LOG_MAX) /* the end of a huge log is what explains it */
		off = size - API_LOG_MAX;
	if (from) /* ?offset=N: what came after the N bytes a follower has (refitctl logs -f) */
		off = *from < size ? *from : size;
	r = MHD_create_response_from_fd_at_offset64(size - off, fd, off);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	snprintf(total, sizeof(total), "%llu", (unsigned long long)size);
	MHD_add_response_header(r, "X-Refit-Log-Size", total);
	if (off && !from) {
		char skipped[32];
		snprintf(skipped, sizeof(skipped), "%llu", (unsigned long long)off);
		MHD_add_response_header(r, "X-Refit-Log-Skipped-Bytes", skipped);
	}
	return queue(c, 200, r, api_cors_origin(a, c));
}

/* ---- POST ---- */

/* 0 when the request carries the token; otherwise the error is queued into *res. */
static int authorize(struct api *a, struct MHD_Connection *c, enum MHD_Result *res)
{
	const char *h, *tok;
	size_t n;

	if (!a->token) {
		*res = api_reply_error(a, c, 403, "forbidden", TOKEN_HINT);
		return -EPERM;
	}
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || api_bearer_parse(h, &tok, &n) < 0 ||
	    !api_token_equal(tok, n, a->token, a->token_len)) {
		*res = api_reply_error(a, c, 401, "unauthorized",
		                       h ? "wrong bearer token" : "missing Authorization: Bearer");
		return -EACCES;
	}
	return 0;
}

/* A body, when there is one, must be JSON; 0 or the error queued into *res. */
static int want_json(struct api *a, struct MHD_Connection *c, const struct api_req *rq,
                     bool required, enum MHD_Result *res)
{
	const char *ct =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if (rq->body_len == 0 && !required)
		return 0;
	if (!api_content_type_json(ct)) {
		*res = api_reply_error(a, c, 415, "unsupported_media_type",
		                       "the request body must be application/json");
		return -EINVAL;
	}
	if (rq->body_len == 0) {
		*res = api_reply_error(a, c, 400, "bad_request", "a JSON body is required");
		return -EINVAL;
	}
	return 0;
}

static const char *env_param(struct api *a, struct MHD_Connection *c, const char *name,
                             enum MHD_Result *res);
/* A write the store refused: 503 (retrying later helps: a full disk gets room again) with
 * SQLite's reason. */
static enum MHD_Result store_failed(struct api *a, struct MHD_Connection *c, int err,
                                    const char *what)
{
	char msg[512];
	const char *why = store_write_error(a->store, NULL);

	snprintf(msg, sizeof(msg), "%s: store write failed: %s", what, why ? why : strerror(-err));
	return api_reply_error(a, c, 503, "store_unavailable", msg);
}

static enum MHD_Result post_rebuild(struct api *a, struct MHD_Connection *c,
                                    const struct api_req *rq, const char *name)
{
	char reason[API_REASON_MAX + 1] = "requested through the API", full[API_REASON_MAX + 16];
	char err[256];
	int64_t id = 0;
	bool pending;
	enum MHD_Result res;
	const char *env = env_param(a, c, name, &res);
	int r;

	if (!env)
		return res;
	if (want_json(a, c, rq, false, &res) < 0)
		return res;
	if (api_rebuild_parse(rq->body, rq->body_len, reason, sizeof(reason), err, sizeof(err)) < 0)
		return api_reply_error(a, c, 400, "bad_request", err);
	snprintf(full, sizeof(full), "manual: %s", reason);
	if (!a->ops.rebuild)
		return api_reply_error(a, c, 503, "unavailable", "this refitd does not rebuild");
	/* A pending trigger absorbs this one: its reasons are merged, a retry's backoff ends. */
	r = a->ops.rebuild(name, strcmp(env, "*") ? env : NULL, full, &id, &pending, a->ops.arg);
	if (r < 0)
		return store_failed(a, c, r, "the trigger could not be recorded");
	log_info("REST API: manual rebuild of %s requested (trigger %lld%s)", name, (long long)id,
	         pending ? ", merged into the pending one" : "");
	return reply_json(a, c, 202,
	                  json_pack("{s:I,s:s,s:s,s:b}", "trigger_id", (json_int_t)id, "project",
	                            name, "state", "pending", "merged", pending),
	                  NULL);
}

/* ?env=NAME, or "*" (the whole project) when absent; NULL after a 400/404 reply. */
static const char *env_param(struct api *a, struct MHD_Connection *c, const char *name,
                             enum MHD_Result *res)
{
	const struct config_project *p = config_project_find(a->cfg, name);
	const char *env = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "env");

	if (!p) {
		*res = api_reply_error(a, c, 404, "not_found",
		                       "no such project in the configuration");
		return NULL;
	}
	if (!env)
		return "*";
	for (size_t i = 0; i < p->n_envs; i++)
		if (!strcmp(p->envs[i].name, env))
			return env;
	*res = api_reply_error(a, c, 404, "not_found", "no such environment in the project");
	return NULL;
}

/* POST /v1/projects/NAME/hold[?env=E]: not rebuilt until released. */
static enum MHD_Result post_hold(struct api *a, struct MHD_Connection *c, const struct api_req *rq,
                                 const char *name)
{
	char reason[API_REASON_MAX + 1] = "held through the API", err[256];
	enum MHD_Result res;
	const char *env = env_param(a, c, name, &res);

	if (!env)
		return res;
	if (want_json(a, c, rq, false, &res) < 0)
		return res;
	if (api_rebuild_parse(rq->body, rq->body_len, reason, sizeof(reason), err, sizeof(err)) < 0)
		return api_reply_error(a, c, 400, "bad_request", err);
	if (store_hold_set(a->store, name, env, reason, wallclock_ms()) < 0)
		return api_reply_error(a, c, 503, "store_unavailable",
		                       "the hold could not be recorded; see refitd's log");
	log_info("REST API: %s %s held: %s", name, env, reason);
	return reply_json(a, c, 200,
	                  json_pack("{s:s,s:s,s:s,s:s}", "project", name, "env", env, "state",
	                            "held", "reason", reason),
	                  NULL);
}

/* POST /v1/projects/NAME/release[?env=E]: rebuilt again (a pending trigger runs now). */
static enum MHD_Result post_release(struct api *a, struct MHD_Connection *c, const char *name)
{
	enum MHD_Result res;
	const char *env = env_param(a, c, name, &res);
	int r;

	if (!env)
		return res;
	r = store_hold_release(a->store, name, env);
	if (r == -ENOENT)
		return api_reply_error(a, c, 409, "not_held",
		                       strcmp(env, "*") ? "this environment is not held"
		                                        : "this project holds nothing");
	if (r < 0)
		return api_reply_error(a, c, 503, "store_unavailable",
		                       "the release could not be recorded; see refitd's log");
	if (a->ops.kick)
		a->ops.kick(a->ops.arg);
	log_info("REST API: %s %s released", name, env);
	return reply_json(
	        a, c, 200,
	        json_pack("{s:s,s:s,s:s}", "project", name, "env", env, "state", "released"), NULL);
}

static enum MHD_Result post_rollback(struct api *a, struct MHD_Connection *c, const char *name)
{
	char err[256] = "";
	const char *env = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "env");
	int r = -ENOSYS;

	if (!config_project_find(a->cfg, name))
		return api_reply_error(a, c, 404, "not_found",
		                       "no such project in the configuration");
	if (env && (!*env || strlen(env) > 32 ||
	            strspn(env, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(env)))
		return api_reply_error(a, c, 400, "bad_request", "env: not an environment name");
	if (a->ops.rollback)
		r = a->ops.rollback(name, env, err, sizeof(err), a->ops.arg);
	if (r == -ENOSYS)
		return api_reply_error(a, c, 501, "not_implemented", "rollback is not available");
	if (r < 0)
		return api_reply_error(a, c,
		                       r == -ENOENT  ? 404
		                       : r == -EBUSY ? 409
		                                     : 503,
		                       r == -ENOENT  ? "not_found"
		                       : r == -EBUSY ? "busy"
		                                     : "unavailable",
		                       err[0] ? err : strerror(-r));
	log_info("REST API: rollback of %s %s started", name, env ? env : "prod");
	return reply_json(a, c, 202,
	                  json_pack("{s:s,s:s,s:s,s:s}", "project", name, "env", env ? env : "prod",
	                            "state", "started", "message",
	                            "the outcome is recorded as a build (trigger rollback)"),
	                  NULL);
}

struct push_ctx {
	struct api *a;
};

static void push_cb(const char *name, void *arg)
{
	struct push_ctx *p = arg;

	log_info("REST API: registry notification: %s was pushed", name);
	if (p->a->ops.registry_push)
		p->a->ops.registry_push(name, p->a->ops.arg);
}

static enum MHD_Result post_hook(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	struct push_ctx p = {a};
	char err[256];
	enum MHD_Result res;
	int n;

	if (want_json(a, c, rq, true, &res) < 0)
		return res;
	n = api_hook_parse(rq->body, rq->body_len, push_cb, &p, err, sizeof(err));
	if (n < 0)
		return api_reply_error(a, c, n == -ENOMEM ? 503 : 400,
		                       n == -ENOMEM ? "unavailable" : "bad_request", err);
	return reply_json(a, c, 202, json_pack("{s:i}", "pushes", n), NULL);
}

/* ---- rate limits ---- */

/* The client's address ("unix" for a unix socket), the key of its buckets. */
static void client_key(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, len, "unix");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		          (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          buf, (socklen_t)len);
}

/* 0 when the request may go on, else the milliseconds until it could. */
static uint64_t limited(struct api *a, struct MHD_Connection *c)
{
	char key[RATELIMIT_KEY_MAX];

	if (!a->opts.rate_limit)
		return 0;
	client_key(c, key, sizeof(key));
	return ratelimit_take(a->limits, key, a->opts.rate_limit, 2.0 * a->opts.rate_limit,
	                      uv_now(a->loop));
}

/*
 * Failed authorizations (token guessing) spend a bucket per address; once it
 * is empty every POST from there gets 429 until it refills. A client with
 * the right token is never slowed down by its own traffic.
 */
static uint64_t auth_wait(struct api *a, struct MHD_Connection *c, bool failed)
{
	char key[RATELIMIT_KEY_MAX];
	double rate = a->opts.auth_failure_limit;

	if (!a->opts.auth_failure_limit)
		return 0;
	client_key(c, key, sizeof(key));
	if (failed)
		return ratelimit_take(a->auth_limits, key, rate, 10.0 * rate, uv_now(a->loop));
	return ratelimit_wait(a->auth_limits, key, rate, 10.0 * rate, uv_now(a->loop));
}

static enum MHD_Result reply_429(struct api *a, struct MHD_Connection *c, uint64_t wait_ms)
{
	char secs[24];
	size_t n = 0;
	char *s = api_error_json("too_many_requests",
	                         "request rate limit of this client address reached", &n);
	struct MHD_Response *r = owned(s, n, "application/json");

	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)((wait_ms + 999) / 1000));
	if (r)
		MHD_add_response_header(r, "Retry-After", secs);
	return queue(c, 429, r, api_cors_origin(a, c));
}

/* ---- dispatch ---- */

static enum MHD_Result serve_post(struct api *a, struct MHD_Connection *c, const struct api_req *rq,
                                  const struct api_route *rt)
{
	enum MHD_Result res;
	uint64_t wait = auth_wait(a, c, false);

	if (wait)
		return reply_429(a, c, wait);
	if (authorize(a, c, &res) < 0) {
		auth_wait(a, c, true);
		return res;
	}
	switch (rt->id) {
	case R_REBUILD:
		return post_rebuild(a, c, rq, rt->name);
	case R_ROLLBACK:
		return post_rollback(a, c, rt->name);
	case R_HOLD:
		return post_hold(a, c, rq, rt->name);
	case R_RELEASE:
		return post_release(a, c, rt->name);
	case R_HOOK_REGISTRY:
		return post_hook(a, c, rq);
	case R_FEEDS_POLL:
		if (!a->ops.poll_feeds)
			return api_reply_error(a, c, 501, "not_implemented", "no feed poller");
		a->ops.poll_feeds(a->ops.arg);
		log_info("REST API: feed poll requested");
		return reply_json(a, c, 202, json_pack("{s:s}", "state", "polling"), NULL);
	default:
		return api_reply_error(a, c, 500, "internal", "unrouted POST");
	}
}

enum MHD_Result api_serve(struct api *a, struct MHD_Connection *c, struct api_req *rq,
                          const char *method)
{
	char path[API_URI_MAX + 1], err[160];
	struct api_query q;
	struct api_route rt;
	struct api_builds_query bq = {.limit = API_BUILDS_LIMIT};
	const char *perr = "";
	uint64_t wait;
	int r;

	if (rq->uri_len > API_URI_MAX)
		return api_reply_error(a, c, 414, "uri_too_long", "request target too long");
	if (api_uri_parse(rq->uri, path, sizeof(path), &q, &perr) < 0)
		return api_reply_error(a, c, 400, "bad_request", perr);
	r = api_route_match(method, path, &rt);
	if ((wait = limited(a, c)) > 0)
		return reply_429(a, c, wait);
	if (r == -ENOENT)
		return api_reply_error(a, c, 404, "not_found", "no such resource");
	if (r == -EPERM && !strcmp(method, "OPTIONS"))
		return reply_options(a, c, rt.allow);
	if (r == -EPERM)
		return reply_405(a, c, rt.allow);
	if (rt.post)
		return serve_post(a, c, rq, &rt);
	if (rt.id == R_BUILD_LOG)
		return serve_log(a, c, rt.build_id);
	if (rt.id == R_BUILDS && api_builds_query_parse(&q, &bq, err, sizeof(err)) < 0)
		return api_reply_error(a, c, 400, "bad_request", err);
	if (rt.id == R_BUILD_SBOM && api_sbom_format(&q, &rt) < 0)
		return api_reply_error(a, c, 400, "bad_request", "format: spdx or cyclonedx");
	return serve_cached(a, c, &rt, &bq);
}
