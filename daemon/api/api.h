/*
 * api — the REST endpoint of refitd (JSON under /v1, /metrics, /healthz, an
 * HTML status page), served by libmicrohttpd inside the one libuv loop.
 *
 * MHD runs with MHD_USE_EPOLL and no thread of its own: its epoll fd is
 * watched by a uv_poll_t and a uv_timer_t is re-armed from MHD_get_timeout()
 * after every MHD_run(). The api only reads the store and the configuration;
 * actions (rebuild, rollback, registry pushes) go to main through api_ops.
 * GET bodies are rendered when the store or the configuration changed, not
 * per request, and served with a strong ETag (If-None-Match gives 304).
 */
#ifndef REFIT_API_H
#define REFIT_API_H

#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct api;
struct config;
struct store;

/* What the api asks of the rest of refitd; any pointer may be NULL. */
struct api_ops {
	/* The store changed what may run (a hold released): the scheduler looks for work. */
	void (*kick)(void *arg);
	/* A manual rebuild of project (env NULL: all) with reason: 0 with the trigger's id and
	 * whether it joined the pending one, or the store's negative errno (scheduler_request). */
	int (*rebuild)(const char *project, const char *env, const char *reason, int64_t *ret_id,
	               bool *ret_merged, void *arg);
	/* Rolls project's prod back to :prod-previous; -ENOSYS until the pipeline exists. */
	/* Starts rolling env (NULL: prod) back; 0 started, -ENOENT/-EBUSY/-EAGAIN + err. */
	int (*rollback)(const char *project, const char *env, char *err, size_t errlen, void *arg);
	/* A registry said "host/repository" was pushed: check the bases that use it now. */
	void (*registry_push)(const char *repository_name, void *arg);
	/* Poll the security feeds now (e.g. after a mirror was updated). */
	void (*poll_feeds)(void *arg);
	/* The registry request counters for /metrics (in memory; may be NULL). */
	metrics_registry_source registry_stats;
	void *arg;
};

/*
 * The OpenAPI document of this API (daemon/api/openapi.json), embedded into
 * refitd by the build (a generated C file); main passes it in api_opts.
 */
extern const char refit_openapi_json[];
extern const size_t refit_openapi_json_len;

/* Limits and options; zero fields take the defaults noted. */
struct api_opts {
	const char *listen;              /* "host:port", "[v6]:port", "unix:/path", "systemd" */
	const char *const *cors_origins; /* NULL-terminated; NULL = no CORS */
	unsigned max_connections;        /* 256 */
	unsigned per_ip_connections;     /* 64 */
	unsigned timeout_s;              /* idle connection timeout, 30 */
	size_t max_body;                 /* request bodies, 1 MiB */
	uint64_t engine_grace_ms;    /* an engine down this long makes /healthz "degraded", 5 min */
	unsigned rate_limit;         /* requests/s per client address (429 past it); 0 = none */
	unsigned auth_failure_limit; /* failed POST authorizations/s per address (bursts of 10x) */
	const char *openapi;         /* the OpenAPI document served at /v1/openapi.json */
	size_t openapi_len;
};

/*
 * Binds where opts->listen says (or the socket systemd passed), starts MHD on
 * loop and logs "REST API listening on ADDRESS". The config and opts are
 * copied or referenced only until api_set_config replaces them; cfg must
 * outlive the api or the next api_set_config call.
 */
int api_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
            const struct api_opts *opts, const struct api_ops *ops, struct api **ret);

/*
 * A reloaded configuration: projects, the token file (re-read), CORS origins
 * and engine grace take effect; listen and connection limits need a restart.
 */
void api_set_config(struct api *a, const struct config *cfg, const struct api_opts *opts);

/* The bound address ("127.0.0.1:8787", "[::1]:8787", "unix:/path"). */
const char *api_address(const struct api *a);

/* Stops serving and closes the handles; freed from the last close callback. */
void api_free(struct api *a);

#endif
