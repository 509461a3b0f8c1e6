/*
 * engine — a Docker Engine API endpoint (dockerd, or Podman's compatible
 * service) reached over its unix socket, TCP+TLS, or a unix socket that an ssh
 * forwarder (sshfwd) carries to the remote one, through http_client.
 *
 * The API version is negotiated from the unversioned GET /version: refit
 * speaks min(engine maximum, ENGINE_API_NEWEST) and refuses engines that
 * cannot speak ENGINE_API_OLDEST. Podman is recognised by the
 * Libpod-API-Version header on /_ping. Until it answers, an engine is
 * retried with exponential backoff (1 s doubling to 60 s).
 */
#ifndef REFIT_ENGINE_H
#define REFIT_ENGINE_H

#include <stdbool.h>

#include <uv.h>

#define ENGINE_API_OLDEST "1.40"
#define ENGINE_API_NEWEST "1.47"

struct engine;
struct http_client;
struct config_engine;

/* What a probe learnt; strings live as long as the engine or the next probe. */
struct engine_info {
	const char *host;
	/* Where a raw connection to it goes (the BuildKit session): host itself, or for
	 * ssh:// the unix:// address of the forwarder's local socket. */
	const char *dial;
	bool reachable;
	const char *api_version; /* negotiated, NULL when unreachable */
	const char *engine_version;
	const char *os, *arch;
	bool podman;
	const char *builder; /* "buildkit", "classic" or "podman" (buildah); NULL until known */
	const char *error;   /* why it is unusable, NULL when fine */
	/* A connection to it broke and a probe is finding out whether it is still there:
	 * no new work should go to it until that probe ends. */
	bool checking;
	unsigned long broken; /* connections that broke mid-request, since it was created */
};

/* Called after every probe whose outcome differs from the previous one (a probe that
 * ends a check after a broken connection always counts as different). */
typedef void (*engine_state_cb)(struct engine *e, const struct engine_info *info, void *arg);

int engine_new(uv_loop_t *loop, struct http_client *http, const struct config_engine *cfg,
               engine_state_cb cb, void *arg, struct engine **ret);

/*
 * An ssh:// engine's local socket goes in a private directory made under dir
 * (the runtime directory); its forwarder starts with engine_start. Does nothing
 * for other engines. Call before engine_start.
 */
int engine_set_runtime_dir(struct engine *e, const char *dir);

/* Starts probing (now, then on backoff while unreachable). */
void engine_start(struct engine *e);

/* How often a reachable engine is probed again (0: never), so that one that stops
 * answering while idle is noticed before work is sent to it. */
void engine_set_health_interval(struct engine *e, uint64_t ms);

/* Stops timers and requests; frees the engine once its handles are closed. */
void engine_free(struct engine *e);

struct http_response;
struct http_request;

/* One Engine API request; the path goes after the negotiated version prefix. */
struct engine_call {
	const char *method;
	const char *path; /* "/build?t=...", already URL-encoded */
	const char *const *headers;
	const void *body;
	size_t body_len;
	size_t (*read_cb)(char *buf, size_t len, void *arg); /* streamed body (build context) */
	int (*data_cb)(const char *chunk, size_t len, void *arg); /* streamed response */
	void *stream_arg;
	uint64_t timeout_ms, idle_timeout_ms;
	size_t max_body;
	/* The request may outlive its caller and the engine (a cancelled walk's container
	 * removal): a connection that breaks under it is not reported to the engine. */
	bool detached;
};

/*
 * Sends c to the engine (which must be reachable: -EAGAIN otherwise); cb runs
 * once with the response unless this fails or the request is cancelled.
 */
int engine_call(struct engine *e, const struct engine_call *c,
                void (*cb)(const struct http_response *resp, void *arg), void *arg,
                struct http_request **ret);

/* The engine's platform ("linux/amd64"), or NULL before the first answer. */
const char *engine_platform(const struct engine *e);

/* Compares dotted API versions ("1.41" < "1.100"): <0, 0, >0. */
int engine_api_cmp(const char *a, const char *b);

/* The current state (valid until the next probe). */
const struct engine_info *engine_info(const struct engine *e);

/* The TLS files of a tcp:// engine (NULL when not set), for connections of its own to the
 * engine (a BuildKit session); valid as long as the engine. */
void engine_tls(const struct engine *e, const char **ret_ca, const char **ret_cert,
                const char **ret_key);

#endif
