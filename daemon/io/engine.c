#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "http_client.h"
#include "log.h"
#include "sshfwd.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000

struct engine {
	uv_loop_t *loop;
	struct http_client *http;
	char *host;     /* as configured, for messages */
	char *socket;   /* unix socket path, or NULL */
	char *base_url; /* http://localhost or https://host:port */
	char *tls_ca, *tls_cert, *tls_key;
	char *ssh_key, *ssh_known_hosts;
	char *dial;         /* unix://LOCAL for ssh:// engines */
	struct sshfwd *ssh; /* ssh:// engines: the forwarder behind socket */
	uv_timer_t retry;   /* the next probe: a retry while unreachable, a health check after */
	uint64_t backoff_ms, health_ms;
	struct http_request *req;
	bool podman_hint; /* from the last /_ping */
	int builder_cfg;  /* enum config_builder */
	engine_state_cb cb;
	void *arg;
	struct engine_info info;
	char api[16], version[64], os[32], arch[32], error[256], platform[72];
	bool reported;
};

int engine_api_cmp(const char *a, const char *b)
{
	char *ea, *eb;
	unsigned long amaj = strtoul(a, &ea, 10), bmaj = strtoul(b, &eb, 10);
	unsigned long amin = *ea == '.' ? strtoul(ea + 1, NULL, 10) : 0;
	unsigned long bmin = *eb == '.' ? strtoul(eb + 1, NULL, 10) : 0;

	if (amaj != bmaj)
		return amaj < bmaj ? -1 : 1;
	return amin < bmin ? -1 : amin > bmin;
}

static int split_host(struct engine *e, const struct config_engine *cfg)
{
	if (!strncmp(cfg->host, "unix://", 7)) {
		e->socket = strdup(cfg->host + 7);
		e->base_url = strdup("http://localhost");
		return e->socket && e->base_url ? 0 : -ENOMEM;
	}
	if (!strncmp(cfg->host, "ssh://", 6)) { /* the socket comes with engine_set_runtime_dir */
		e->base_url = strdup("http://localhost");
		return e->base_url ? 0 : -ENOMEM;
	}
	if (asprintf(&e->base_url, "%s://%s", cfg->tls_ca || cfg->tls_cert ? "https" : "http",
	             cfg->host + strlen("tcp://")) < 0) {
		e->base_url = NULL;
		return -ENOMEM;
	}
	return 0;
}

int engine_new(uv_loop_t *loop, struct http_client *http, const struct config_engine *cfg,
               engine_state_cb cb, void *arg, struct engine **ret)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->loop = loop;
	e->http = http;
	e->cb = cb;
	e->arg = arg;
	e->host = strdup(cfg->host);
	e->builder_cfg = cfg->builder;
	if (!e->host || split_host(e, cfg) < 0 ||
	    (cfg->tls_ca && !(e->tls_ca = strdup(cfg->tls_ca))) ||
	    (cfg->tls_cert && !(e->tls_cert = strdup(cfg->tls_cert))) ||
	    (cfg->tls_key && !(e->tls_key = strdup(cfg->tls_key))) ||
	    (cfg->ssh_key && !(e->ssh_key = strdup(cfg->ssh_key))) ||
	    (cfg->ssh_known_hosts && !(e->ssh_known_hosts = strdup(cfg->ssh_known_hosts)))) {
		free(e->host);
		free(e->socket);
		free(e->base_url);
		free(e->tls_ca);
		free(e->tls_cert);
		free(e->tls_key);
		free(e->ssh_key);
		free(e);
		return -ENOMEM;
	}
	uv_timer_init(loop, &e->retry);
	e->retry.data = e;
	e->info.host = e->host;
	e->info.dial = e->host;
	*ret = e;
	return 0;
}

static void report(struct engine *e, bool reachable, const char *error)
{
	bool changed = !e->reported || e->info.reachable != reachable || e->info.checking ||
	               (error && (!e->info.error || strcmp(error, e->error)));

	e->info.reachable = reachable;
	e->info.checking = false;
	if (error && error != e->error)
		snprintf(e->error, sizeof(e->error), "%s", error);
	e->info.error = error ? e->error : NULL;
	e->info.api_version = reachable ? e->api : NULL;
	e->reported = true;
	if (changed && e->cb)
		e->cb(e, &e->info, e->arg);
}

static void probe(struct engine *e);

static void retry_cb(uv_timer_t *t)
{
	probe(t->data);
}

static void schedule_retry(struct engine *e)
{
	e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (e->backoff_ms > BACKOFF_MAX_MS)
		e->backoff_ms = BACKOFF_MAX_MS;
	uv_timer_start(&e->retry, retry_cb, e->backoff_ms, 0);
}

static void fail(struct engine *e, const char *what, const char *detail)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s%s", what, detail);
	report(e, false, msg);
	schedule_retry(e);
}

/* Picks the version to speak, or explains why this engine cannot be used. */
static int negotiate(struct engine *e, const char *max, const char *min, char *why, size_t len)
{
	const char *speak = engine_api_cmp(max, ENGINE_API_NEWEST) < 0 ? max : ENGINE_API_NEWEST;

	if (engine_api_cmp(speak, ENGINE_API_OLDEST) < 0) {
		snprintf(why, len, "engine speaks API %s at most; refit needs %s or newer", max,
		         ENGINE_API_OLDEST);
		return -EPROTONOSUPPORT;
	}
	if (min && engine_api_cmp(speak, min) < 0) {
		snprintf(why, len, "engine requires API %s or newer; refit speaks up to %s", min,
		         ENGINE_API_NEWEST);
		return -EPROTONOSUPPORT;
	}
	snprintf(e->api, sizeof(e->api), "%s", speak);
	return 0;
}

static void copy_str(json_t *o, const char *key, char *buf, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));
	snprintf(buf, len, "%s", v ? v : "");
}

/* BuildKit through version=2 on dockerd (API 1.39 on; unix sockets and tcp://, TLS or not: the
 * session goes the same way as the requests) unless classic is asked for; Podman builds with
 * its own builder (buildah) whatever the query says (BUILDKIT.md G). */
static const char *builder_of(const struct engine *e)
{
	if (e->podman_hint) {
		if (e->builder_cfg == BUILDER_BUILDKIT && !e->info.builder)
			log_warn("engine %s: builder: buildkit, but Podman has no BuildKit; "
			         "its own builder is used",
			         e->host);
		return "podman";
	}
	if (e->builder_cfg == BUILDER_CLASSIC || engine_api_cmp(e->api, "1.39") < 0)
		return "classic";
	return "buildkit";
}

static void version_cb(const struct http_response *resp, void *arg)
{
	struct engine *e = arg;
	json_t *root = NULL;
	const char *max, *min;
	char why[200];

	e->req = NULL;
	if (resp->error || resp->status != 200) {
		fail(e, "GET /version failed: ", resp->error ? resp->error_msg : "bad status");
		return;
	}
	root = json_loadb(resp->body, resp->body_len, 0, NULL);
	max = json_string_value(json_object_get(root, "ApiVersion"));
	min = json_string_value(json_object_get(root, "MinAPIVersion"));
	if (!max) {
		fail(e, "GET /version: no ApiVersion in the answer", "");
	} else if (negotiate(e, max, min, why, sizeof(why)) < 0) {
		fail(e, why, "");
	} else {
		copy_str(root, "Version", e->version, sizeof(e->version));
		copy_str(root, "Os", e->os, sizeof(e->os));
		copy_str(root, "Arch", e->arch, sizeof(e->arch));
		snprintf(e->platform, sizeof(e->platform), "%s/%s", e->os, e->arch);
		e->info.engine_version = e->version;
		e->info.os = e->os;
		e->info.arch = e->arch;
		e->info.podman = e->podman_hint;
		e->info.builder = builder_of(e);
		e->backoff_ms = 0;
		report(e, true, NULL);
		if (e->health_ms)
			uv_timer_start(&e->retry, retry_cb, e->health_ms, 0);
	}
	json_decref(root);
}

static bool is_ssh(const struct engine *e)
{
	return !strncmp(e->host, "ssh://", 6);
}

static int request(struct engine *e, const char *method, const char *path, http_done_cb cb)
{
	char url[512];
	struct http_request_opts o = {0};

	snprintf(url, sizeof(url), "%s%s", e->base_url, path);
	o.method = method;
	o.url = url;
	o.unix_socket = e->socket;
	o.timeout_ms = 10000;
	o.max_body = 64 << 10;
	o.tls_ca = e->tls_ca;
	o.tls_cert = e->tls_cert;
	o.tls_key = e->tls_key;
	o.tls_detail = !e->socket && (e->tls_ca || e->tls_cert);
	return http_request_start(e->http, &o, cb, e, &e->req);
}

static void ping_cb(const struct http_response *resp, void *arg)
{
	struct engine *e = arg;
	char v[64];
	int r;

	e->req = NULL;
	if (resp->error) {
		/* curl's text names "localhost port 80" even for unix sockets and
		 * carries timings: say what failed in stable words instead. */
		char msg[240];
		snprintf(msg, sizeof(msg), "%s %s: %s",
		         resp->error == -ETIMEDOUT ? "no answer from" : "cannot connect to",
		         e->socket ? e->socket : e->base_url, strerror(-resp->error));
		/* over TCP the TLS library's own words name the cause (a certificate
		 * refused, an unknown CA): keep them, they carry no key material */
		if (!e->socket && resp->error != -ETIMEDOUT && resp->error_msg[0])
			snprintf(msg, sizeof(msg), "cannot connect to %s: %s", e->base_url,
			         resp->error_msg);
		/* through ssh: the forwarder's words (a channel the remote end refused) */
		if (e->ssh && sshfwd_ready(e->ssh) && sshfwd_last_line(e->ssh)[0])
			snprintf(msg, sizeof(msg), "no answer through the ssh forwarder: ssh: %s",
			         sshfwd_last_line(e->ssh));
		fail(e, "unreachable: ", msg);
		return;
	}
	e->podman_hint = http_response_header(resp, "Libpod-API-Version", v, sizeof(v)) != NULL;
	r = request(e, "GET", "/version", version_cb);
	if (r < 0)
		fail(e, "cannot start a request: ", strerror(-r));
}

static void probe(struct engine *e)
{
	int r;

	if (is_ssh(e) && (!e->ssh || !sshfwd_ready(e->ssh))) {
		/* the forwarder's callback probes once its socket is there */
		report(e, false, e->ssh ? sshfwd_state(e->ssh) : "ssh: no runtime directory");
		return;
	}
	r = request(e, "GET", "/_ping", ping_cb);
	if (r < 0)
		fail(e, "cannot start a request: ", strerror(-r));
}

/* The ssh forwarder is up (probe the engine through it) or gone (say why). */
static void ssh_state_cb(struct sshfwd *f, bool ready, const char *why, void *arg)
{
	struct engine *e = arg;

	(void)f;
	uv_timer_stop(&e->retry);
	e->backoff_ms = 0;
	if (ready) {
		if (!e->req)
			probe(e);
		return;
	}
	if (e->info.reachable)
		e->info.broken++; /* what ran through it was cut short */
	report(e, false, why);
}

int engine_set_runtime_dir(struct engine *e, const char *dir)
{
	struct sshfwd_opts o = {e->host, e->ssh_key, e->ssh_known_hosts, dir};
	int r;

	if (!is_ssh(e) || e->ssh)
		return 0;
	r = sshfwd_new(e->loop, &o, ssh_state_cb, e, &e->ssh);
	if (r < 0)
		return r;
	e->socket = strdup(sshfwd_socket(e->ssh));
	if (!e->socket || asprintf(&e->dial, "unix://%s", e->socket) < 0) {
		e->dial = NULL;
		return -ENOMEM;
	}
	e->info.dial = e->dial;
	return 0;
}

void engine_start(struct engine *e)
{
	if (e->ssh)
		sshfwd_start(e->ssh);
	probe(e);
}

void engine_set_health_interval(struct engine *e, uint64_t ms)
{
	e->health_ms = ms;
	if (!e->info.reachable || e->req)
		return; /* a retry or a probe is under way: the next success uses ms */
	if (ms)
		uv_timer_start(&e->retry, retry_cb, ms, 0);
	else
		uv_timer_stop(&e->retry);
}

/* A request to the engine broke, or ran out of time: is the engine still there? */
static void call_lost(bool broken, void *arg)
{
	struct engine *e = arg;

	if (!e->info.reachable || e->info.checking)
		return;
	if (broken) {
		e->info.broken++;
		e->info.checking = true; /* no new work until the probe says */
		log_warn("engine %s: a connection broke mid-request; checking the engine", e->host);
	}
	if (e->req)
		return; /* a probe is on its way already */
	uv_timer_stop(&e->retry);
	probe(e);
}

int engine_call(struct engine *e, const struct engine_call *c,
                void (*cb)(const struct http_response *resp, void *arg), void *arg,
                struct http_request **ret)
{
	char url[8192];
	struct http_request_opts o = {0};

	if (!e->info.reachable)
		return -EAGAIN;
	if (snprintf(url, sizeof(url), "%s/v%s%s", e->base_url, e->api, c->path) >=
	    (int)sizeof(url))
		return -ENAMETOOLONG;
	log_debug("engine %s: %s %s", e->host, c->method ? c->method : "GET", url);
	o.method = c->method;
	o.url = url;
	o.unix_socket = e->socket;
	o.headers = c->headers;
	o.body = c->body;
	o.body_len = c->body_len;
	o.read_cb = c->read_cb;
	o.data_cb = c->data_cb;
	o.stream_arg = c->stream_arg;
	o.timeout_ms = c->timeout_ms;
	o.idle_timeout_ms = c->idle_timeout_ms;
	o.max_body = c->max_body;
	o.tls_ca = e->tls_ca;
	o.tls_cert = e->tls_cert;
	o.tls_key = e->tls_key;
	o.lost_cb = c->detached ? NULL : call_lost;
	o.lost_arg = c->detached ? NULL : e;
	return http_request_start(e->http, &o, cb, arg, ret);
}

const char *engine_platform(const struct engine *e)
{
	return e->platform[0] ? e->platform : NULL;
}

const struct engine_info *engine_info(const struct engine *e)
{
	return &e->info;
}

void engine_tls(const struct engine *e, const char **ret_ca, const char **ret_cert,
                const char **ret_key)
{
	*ret_ca = e->tls_ca;
	*ret_cert = e->tls_cert;
	*ret_key = e->tls_key;
}

static void engine_closed(uv_handle_t *h)
{
	struct engine *e = h->data;

	free(e->host);
	free(e->socket);
	free(e->base_url);
	free(e->tls_ca);
	free(e->tls_cert);
	free(e->tls_key);
	free(e->ssh_key);
	free(e->ssh_known_hosts);
	free(e->dial);
	free(e);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	if (e->req)
		http_request_cancel(e->req);
	uv_timer_stop(&e->retry);
	sshfwd_free(e->ssh);
	uv_close((uv_handle_t *)&e->retry, engine_closed);
}
