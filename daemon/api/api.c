/*
 * api — life cycle of the REST endpoint and libmicrohttpd driven by the libuv
 * loop (the render cache: api_cache.c).
 *
 * MHD runs with MHD_USE_EPOLL and no thread: its epoll fd sits in a
 * uv_poll_t, MHD_run() runs on its events, and a uv_timer_t re-armed from
 * MHD_get_timeout() after every run catches work that edge-triggered epoll
 * holds without a new event (and the connection timeouts).
 * */
#include "api_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "ratelimit.h"
#include "store.h"
#include "wallclock.h"

#define DEF_MAX_CONNECTIONS 256
#define DEF_PER_IP          64
#define DEF_TIMEOUT_S       30
#define DEF_MAX_BODY        (1u << 20)
#define DEF_ENGINE_GRACE_MS (5 * 60 * 1000)
#define DISCARD_FACTOR      8 /* bytes read and dropped past max_body before closing */
/*
 * Bounds request line and headers. libmicrohttpd answers a head that does not fit with its
 * own HTML page (431 or 414; the application cannot supply that body), so the pool is
 * kept well above the limits refit enforces itself with JSON errors (API_HEAD_MAX here,
 * API_URI_MAX in api_serve): only heads beyond the pool get MHD's page.
 */
#define CONN_MEMORY_LIMIT ((size_t)64 * 1024)
#define API_HEAD_MAX      ((size_t)8 * 1024) /* header fields; more is a 431 */

/* ---- MHD callbacks ---- */

/* Runs before the headers are parsed: the raw target is kept for our own parser. */
static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	size_t n = strnlen(uri, API_URI_MAX + 1);
	struct api_req *rq = calloc(1, sizeof(*rq) + n + 1);

	(void)cls;
	(void)c;
	if (!rq)
		return NULL;
	memcpy(rq->uri, uri, n);
	rq->uri[n] = '\0';
	rq->uri_len = n;
	return rq;
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct api_req *rq = *con_cls;

	(void)toe;
	api_conns_idle(cls, c);
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

static enum MHD_Result head_size_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
	return MHD_YES;
}

/* Header fields larger than refit accepts (smaller than what MHD could hold). */
static bool head_too_large(struct MHD_Connection *c)
{
	size_t n = 0;

	MHD_get_connection_values(c, MHD_HEADER_KIND, head_size_cb, &n);
	return n > API_HEAD_MAX;
}

/* A Content-Length too large to even read and drop. */
static bool declared_too_large(struct api *a, struct MHD_Connection *c)
{
	const char *cl =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno || *end || n > DISCARD_FACTOR * (unsigned long long)a->opts.max_body;
}

/* Keeps the upload up to max_body; beyond it the request is answered with 413. */
static void body_feed(struct api *a, struct api_req *rq, const char *data, size_t n)
{
	char *grown;

	if (rq->too_large || rq->body_len + n > a->opts.max_body) {
		rq->too_large = true;
		rq->discarded += n;
		return;
	}
	grown = realloc(rq->body, rq->body_len + n + 1);
	if (!grown) {
		rq->too_large = true; /* answered 413 rather than half a body */
		return;
	}
	memcpy(grown + rq->body_len, data, n);
	rq->body = grown;
	rq->body_len += n;
	rq->body[rq->body_len] = '\0';
}

/*
 * The first call only registers the request: answering then makes MHD
 * 0.9.75 close every connection. Uploads are collected, and the answer is
 * queued on the last call.
 */
static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *rq = *con_cls;

	(void)url;
	(void)version;
	if (!rq)
		return api_reply_error(a, c, 503, "unavailable", "out of memory");
	if (!rq->started) {
		rq->started = true;
		api_conns_request(a, c);
		/* Absurd sizes are refused at once (the connection closes); others
		 * are read, past max_body dropped, and answered 413 at the end. */
		if (head_too_large(c))
			return api_reply_error(a, c, 431, "header_too_large",
			                       "request header fields too large (at most 8 KiB)");
		if (declared_too_large(a, c))
			return api_reply_error(a, c, 413, "too_large", "request body too large");
		return MHD_YES;
	}
	if (*upload_size) {
		body_feed(a, rq, upload_data, *upload_size);
		*upload_size = 0;
		/* MHD answers only after the upload: what is past the limit is read and
		 * dropped, up to a bound, then the connection is closed. */
		return rq->discarded > DISCARD_FACTOR * a->opts.max_body ? MHD_NO : MHD_YES;
	}
	if (rq->too_large)
		return api_reply_error(a, c, 413, "too_large", "request body too large");
	return api_serve(a, c, rq, method);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* Mostly client misbehaviour: kept out of the normal log so clients cannot flood it. */
	log_vmsg(LOG_LVL_DEBUG, fmt, ap);
}

/* ---- MHD on the libuv loop ---- */

static void timer_cb(uv_timer_t *t);

static void run_mhd(struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(a->mhd);
	if (MHD_get_timeout(a->mhd, &ms) == MHD_YES)
		uv_timer_start(&a->timer, timer_cb, ms, 0);
	else
		uv_timer_stop(&a->timer);
}

static void timer_cb(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run_mhd(p->data);
}

static int mhd_start(struct api *a)
{
	const union MHD_DaemonInfo *info;

	a->mhd = MHD_start_daemon(
	        MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0, NULL, NULL, access_cb, a,
	        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)a->lis.fd, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned int)a->opts.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        (unsigned int)a->opts.per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned int)a->opts.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        CONN_MEMORY_LIMIT, MHD_OPTION_URI_LOG_CALLBACK, uri_cb, a,
	        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, a, MHD_OPTION_NOTIFY_CONNECTION,
	        api_conns_notify_cb, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a, MHD_OPTION_END);
	if (!a->mhd)
		return -EIO;
	a->lis.fd = -1; /* MHD owns and closes it now */
	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || uv_poll_init(a->loop, &a->poll, info->epoll_fd) < 0)
		return -EIO;
	a->handles++;
	a->poll.data = a;
	uv_timer_init(a->loop, &a->timer);
	a->handles++;
	a->timer.data = a;
	if (looplag_start(&a->lag, a->loop, a) == 0)
		a->handles++;
	uv_poll_start(&a->poll, UV_READABLE, poll_cb);
	run_mhd(a);
	return 0;
}

/* ---- configuration ---- */

static void cors_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

static char **cors_copy(const char *const *src)
{
	size_t n = 0;
	char **list;

	while (src && src[n])
		n++;
	if (n == 0)
		return NULL;
	list = calloc(n + 1, sizeof(*list));
	for (size_t i = 0; list && i < n; i++)
		if (!(list[i] = strdup(src[i]))) {
			cors_free(list);
			return NULL;
		}
	return list;
}

/* Reads the token file: the token with its trailing newline and spaces stripped. */
static void token_load(struct api *a)
{
	const char *path = a->cfg ? a->cfg->api_token_file : NULL;
	char buf[API_TOKEN_MAX + 2], full[4096];
	size_t n = 0;
	FILE *f;

	free(a->token);
	a->token = NULL;
	a->token_len = 0;
	a->token_problem[0] = '\0';
	if (!path)
		return;
	f = NULL;
	if (config_resolve_path(path, full, sizeof(full)) < 0) /* relative: LoadCredential= */
		errno = ENAMETOOLONG;
	else
		f = fopen(full, "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (!f)
		snprintf(a->token_problem, sizeof(a->token_problem), "api_token_file %s: %s", path,
		         strerror(errno));
	else if (n == 0 || n > API_TOKEN_MAX || strlen(buf) != n)
		snprintf(a->token_problem, sizeof(a->token_problem),
		         "api_token_file %s: empty, binary or larger than %d bytes", path,
		         API_TOKEN_MAX);
	else if (!(a->token = malloc(n + 1)))
		snprintf(a->token_problem, sizeof(a->token_problem), "out of memory");
	else {
		memcpy(a->token, buf, n + 1);
		a->token_len = n;
	}
	explicit_bzero(buf, sizeof(buf));
	if (a->token_problem[0])
		log_warn("REST API: %s; POST requests are refused", a->token_problem);
}

static void opts_apply(struct api *a, const struct api_opts *o)
{
	struct api_opts def = {0};

	if (!o)
		o = &def;
	a->opts.cors_origins = NULL;
	a->opts.engine_grace_ms = o->engine_grace_ms ? o->engine_grace_ms : DEF_ENGINE_GRACE_MS;
	a->opts.openapi = o->openapi;
	a->opts.openapi_len = o->openapi_len;
	a->opts.rate_limit = o->rate_limit;
	a->opts.auth_failure_limit = o->auth_failure_limit;
	cors_free(a->cors);
	a->cors = cors_copy(o->cors_origins);
	if (o->cors_origins && o->cors_origins[0] && !a->cors)
		log_err("REST API: out of memory: CORS disabled");
}

void api_set_config(struct api *a, const struct config *cfg, const struct api_opts *opts)
{
	a->cfg = cfg;
	a->cfg_gen++;
	opts_apply(a, opts);
	token_load(a);
	api_cache_flush(a);
}

int api_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
            const struct api_opts *opts, const struct api_ops *ops, struct api **ret)
{
	struct api *a = calloc(1, sizeof(*a));
	char err[512];
	int r;

	if (!a)
		return -ENOMEM;
	a->limits = calloc(1, sizeof(*a->limits));
	a->auth_limits = calloc(1, sizeof(*a->auth_limits));
	if (!a->limits || !a->auth_limits) {
		free(a->limits);
		free(a->auth_limits);
		free(a);
		return -ENOMEM;
	}
	a->loop = loop;
	a->store = store;
	a->started_at_ms = wallclock_ms();
	a->lis.fd = -1;
	if (ops)
		a->ops = *ops;
	a->opts.max_connections =
	        opts && opts->max_connections ? opts->max_connections : DEF_MAX_CONNECTIONS;
	a->opts.per_ip_connections =
	        opts && opts->per_ip_connections ? opts->per_ip_connections : DEF_PER_IP;
	a->opts.timeout_s = opts && opts->timeout_s ? opts->timeout_s : DEF_TIMEOUT_S;
	a->opts.max_body = opts && opts->max_body ? opts->max_body : DEF_MAX_BODY;
	api_set_config(a, cfg, opts);
	r = api_listen_open(opts && opts->listen ? opts->listen : "127.0.0.1:8787", &a->lis, err,
	                    sizeof(err));
	if (r < 0)
		log_err("REST API: %s", err);
	else if ((r = mhd_start(a)) < 0)
		log_err("REST API: libmicrohttpd did not start on %s", a->lis.address);
	if (r < 0) {
		api_free(a);
		return r;
	}
	log_info("REST API listening on %s%s", a->lis.address,
	         a->lis.systemd ? " (socket from systemd)" : "");
	*ret = a;
	return 0;
}

const char *api_address(const struct api *a)
{
	return a->lis.address;
}

static void release(struct api *a)
{
	api_cache_flush(a);
	if (a->lis.fd >= 0)
		close(a->lis.fd);
	if (a->lis.unix_path[0])
		unlink(a->lis.unix_path);
	cors_free(a->cors);
	if (a->token)
		explicit_bzero(a->token, a->token_len);
	free(a->token);
	free(a->limits);
	free(a->auth_limits);
	free(a);
}

static void close_cb(uv_handle_t *h)
{
	struct api *a = h->data;

	if (--a->handles == 0)
		release(a);
}

void api_free(struct api *a)
{
	int handles;

	if (!a)
		return;
	handles = a->handles;
	/* libuv lets go of the epoll fd before MHD closes it. */
	if (handles >= 1)
		uv_close((uv_handle_t *)&a->poll, close_cb);
	if (handles >= 2)
		uv_close((uv_handle_t *)&a->timer, close_cb);
	if (handles >= 3)
		uv_close((uv_handle_t *)&a->lag.timer, close_cb);
	if (a->mhd)
		MHD_stop_daemon(a->mhd);
	a->mhd = NULL;
	api_cache_flush(a);
	if (handles == 0)
		release(a);
}
