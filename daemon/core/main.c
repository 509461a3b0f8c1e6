/*
 * refitd — start-up, the loop, signals and shutdown.
 *
 * main wires the modules together: configuration, store, HTTP client and
 * engines. Everything runs on one libuv loop; SIGTERM/SIGINT stop it
 * gracefully (no new rebuild starts, running ones get stop_timeout to
 * finish, then are interrupted and run again after the restart; a second
 * signal does not wait), SIGHUP reloads the configuration when the new one
 * validates. The service manager hears of each step through service.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "advisory.h"
#include "api.h"
#include "config.h"
#include "creds.h"
#include "engine.h"
#include "engine_archive.h"
#include "feeds.h"
#include "http_client.h"
#include "log.h"
#include "notify.h"
#include "registry.h"
#include "retention.h"
#include "scheduler.h"
#include "service.h"
#include "store.h"
#include "tagwatch.h"
#include "promotion.h"
#include "watcher.h"
#include "wallclock.h"

#define DEFAULT_CONFIG SYSCONFDIR_REFIT "/refit.yaml"
#ifndef SYSCONFDIR_REFIT
#define SYSCONFDIR_REFIT "/etc/refit"
#endif
#define STORE_RETRY_MS 5000 /* how often writes held back by a full disk are retried */

struct sweep_slot {
	struct engine_archive_sweep *op; /* while one runs */
};

/* Credentials, the registry pool and the watcher: made from one configuration, replaced as one. */
struct clients {
	struct creds *creds;
	struct registry_pool *registries;
	struct watcher *watcher;
	struct tagwatch *tags; /* newer tags of pinned bases */
};

/* The tags of pinned bases follow the bases the watcher records for each project. */
static void watchers_configure(struct clients *c, const struct config *cfg)
{
	watcher_configure(c->watcher, cfg);
	if (c->tags)
		tagwatch_configure(c->tags, cfg);
}

struct daemon {
	uv_loop_t loop;
	const char *config_path;
	struct config *cfg;
	struct store *store;
	struct http_client *http;
	struct engine **engines;
	struct sweep_slot *sweeps; /* per engine */
	size_t n_engines;
	struct clients cl;
	struct scheduler *scheduler;
	struct feeds *feeds;
	struct notify *notify;
	struct retention *retention;
	struct promotion *promo; /* tags that wait for their environment's window */
	struct api *api;
	struct service *svc;
	char platform[64];
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t store_retry; /* writes that waited for a full disk */
	bool verbose, foreground, stopping;
	int exit_code;
};

static void print_errors(const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->lines[i]);
	for (size_t i = 0; i < errs->n_problems; i++)
		fprintf(stderr, "%s\n", errs->problems[i]);
	for (size_t i = 0; i < errs->n_warnings; i++)
		fprintf(stderr, "%s\n", errs->warnings[i]);
}

/* What a loaded configuration's files look like: its projects run, and those with a
 * problem fail their builds with the same reason until it is fixed. */
static void log_problems(const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n_problems; i++)
		log_err("%s", errs->problems[i]);
	for (size_t i = 0; i < errs->n_warnings; i++)
		log_warn("%s", errs->warnings[i]);
}

static void apply_logging(struct daemon *d)
{
	static const enum log_level levels[] = {LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO,
	                                        LOG_LVL_DEBUG};
	bool journal = !d->foreground && getenv("JOURNAL_STREAM") != NULL;
	enum log_level lvl = levels[d->cfg->log_level >= 0 ? d->cfg->log_level : 2];

	log_setup(d->verbose ? LOG_LVL_DEBUG : lvl,
	          d->cfg->log_format == 1 ? LOG_FMT_JSON : LOG_FMT_TEXT, journal);
}

static void sweep_cb(int status, unsigned removed, void *arg)
{
	struct sweep_slot *slot = arg;

	slot->op = NULL;
	if (status < 0)
		log_debug("engine: could not remove leftover inventory containers: %s",
		          strerror(-status));
	else if (removed)
		log_info("engine: removed %u leftover inventory container(s)", removed);
}

/*
 * Containers of inventory reads that a crash, a stop or a cancel left
 * behind: removed when the engine comes up (those older than any read).
 */
static void sweep_start(struct daemon *d, struct engine *e)
{
	size_t i = 0;

	while (i < d->n_engines && d->engines[i] != e)
		i++;
	if (i < d->n_engines && !d->sweeps[i].op)
		engine_archive_sweep(e, 600, sweep_cb, &d->sweeps[i], &d->sweeps[i].op);
}

static void on_engine_state(struct engine *e, const struct engine_info *info, void *arg)
{
	struct daemon *d = arg;
	struct store_engine rec = {
	        .host = info->host,
	        .api_version = info->api_version,
	        .engine_version = info->engine_version,
	        .os = info->os,
	        .arch = info->arch,
	        .podman = info->podman,
	        .builder = info->builder,
	        .reachable = info->reachable,
	        .error = info->error,
	        .checked_at = wallclock_ms(),
	};

	if (info->reachable && info->os[0] && info->arch[0]) {
		char plat[64];
		snprintf(plat, sizeof(plat), "%s/%s", info->os, info->arch);
		if (strcmp(plat, d->platform) &&
		    d->cl.watcher) { /* bases are resolved for the engines' platform */
			snprintf(d->platform, sizeof(d->platform), "%s", plat);
			watcher_set_platform(d->cl.watcher, plat);
			watchers_configure(&d->cl, d->cfg);
		}
	}
	if (info->reachable)
		log_info("engine %s: %s %s (%s/%s), speaking API %s", info->host,
		         info->podman ? "podman" : "docker", info->engine_version, info->os,
		         info->arch, info->api_version);
	else
		log_warn("engine %s: %s; retrying in the background", info->host, info->error);
	if (store_engine_update(d->store, &rec) < 0)
		log_err("engine %s: could not record its state", info->host);
	if (info->reachable)
		sweep_start(d, e);
	if (info->reachable && d->scheduler)
		scheduler_kick(d->scheduler); /* builds may have waited for it */
}

/* Where ssh:// engines' local sockets go: systemd's RuntimeDirectory= (its first
 * entry), else the state directory. */
static void runtime_dir(const struct daemon *d, char *buf, size_t len)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");

	if (rt && rt[0] == '/')
		snprintf(buf, len, "%.*s", (int)strcspn(rt, ":"), rt);
	else
		snprintf(buf, len, "%s", d->cfg->state_dir);
}

static int engines_start(struct daemon *d)
{
	char dir[4096];

	runtime_dir(d, dir, sizeof(dir));
	d->engines = calloc(d->cfg->n_engines, sizeof(*d->engines));
	d->sweeps = calloc(d->cfg->n_engines, sizeof(*d->sweeps));
	if (!d->engines || !d->sweeps)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg->n_engines; i++) {
		int r = engine_new(&d->loop, d->http, &d->cfg->engines[i], on_engine_state, d,
		                   &d->engines[i]);
		if (r < 0)
			return r;
		d->n_engines++;
		r = engine_set_runtime_dir(d->engines[i], dir);
		if (r < 0) {
			log_err("engine %s: no private socket directory under %s: %s",
			        d->cfg->engines[i].host, dir, strerror(-r));
			return r;
		}
		engine_start(d->engines[i]);
	}
	return 0;
}

/* Gives the scheduler the engines and their build slots. */
static void engines_to_scheduler(struct daemon *d)
{
	int slots[64];

	for (size_t i = 0; i < d->n_engines && i < 64; i++) {
		slots[i] = d->cfg->engines[i].max_builds;
		engine_set_health_interval(d->engines[i], d->cfg->poll.engines_ms);
	}
	scheduler_set_engines(d->scheduler, d->engines, slots,
	                      d->n_engines < 64 ? d->n_engines : 64);
}

static void engines_stop(struct daemon *d)
{
	if (d->scheduler) { /* running builds use these engines */
		scheduler_interrupt(d->scheduler);
		scheduler_set_engines(d->scheduler, NULL, NULL, 0);
	}
	for (size_t i = 0; i < d->n_engines; i++) {
		engine_archive_sweep_cancel(d->sweeps[i].op);
		engine_free(d->engines[i]);
	}
	free(d->engines);
	free(d->sweeps);
	d->engines = NULL;
	d->sweeps = NULL;
	d->n_engines = 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* True when the engine lists are identical: a reload then keeps the live engines. */
static bool same_engines(const struct config *a, const struct config *b)
{
	if (a->n_engines != b->n_engines)
		return false;
	for (size_t i = 0; i < a->n_engines; i++) {
		const struct config_engine *x = &a->engines[i], *y = &b->engines[i];
		if (!same_str(x->host, y->host) || x->max_builds != y->max_builds ||
		    x->builder != y->builder || !same_str(x->tls_ca, y->tls_ca) ||
		    !same_str(x->tls_cert, y->tls_cert) || !same_str(x->tls_key, y->tls_key) ||
		    !same_str(x->ssh_key, y->ssh_key) ||
		    !same_str(x->ssh_known_hosts, y->ssh_known_hosts))
			return false;
	}
	return true;
}

static void on_base_trigger(const char *project, int64_t trigger_id, void *arg)
{
	struct daemon *d = arg;

	(void)project;
	(void)trigger_id;
	scheduler_kick(d->scheduler);
}

/* A newer tag of a pinned base, found for the first time: the outdated event. */
static void on_outdated(const char *project, const char *ref, const char *tag, const char *newest,
                        const char *policy, void *arg)
{
	struct daemon *d = arg;
	struct notify_outdated o = {project, ref, tag, newest, policy, wallclock_ms()};

	notify_outdated(d->notify, &o);
}

/* An environment follows a newer value of its FROM's ARG: the trigger is stored. */
static void on_follow(const char *project, const char *env, void *arg)
{
	struct daemon *d = arg;

	(void)project;
	(void)env;
	if (d->scheduler)
		scheduler_kick(d->scheduler);
}

/* The pool goes first: its pending callbacks then never reach the watcher. */
static void clients_free(struct clients *c)
{
	registry_pool_free(c->registries);
	watcher_free(c->watcher);
	tagwatch_free(c->tags);
	creds_free(c->creds);
	*c = (struct clients){0};
}

/* The clients of cfg, all or none (-ENOMEM). */
static int clients_new(struct daemon *d, const struct config *cfg, struct clients *ret)
{
	struct creds_opts co = {.registries = cfg->registries, .n_registries = cfg->n_registries};
	const char **insecure = calloc(cfg->n_registries + 1, sizeof(char *));
	struct registry_opts ro = {.insecure_hosts = insecure};
	struct watcher_opts wo = {.platform = d->platform, .cb = on_base_trigger, .arg = d};
	struct clients c = {0};
	int r = insecure ? 0 : -ENOMEM;

	for (size_t i = 0, n = 0; r == 0 && i < cfg->n_registries; i++)
		if (cfg->registries[i].insecure)
			insecure[n++] = cfg->registries[i].host;
	if (r == 0)
		r = creds_new(&d->loop, &co, &c.creds);
	if (r == 0)
		r = registry_pool_new(&d->loop, d->http, c.creds, &ro, &c.registries);
	free(insecure);
	if (r == 0)
		r = watcher_new(&d->loop, d->store, c.registries, &wo, &c.watcher);
	if (r == 0)
		r = watcher_configure(c.watcher, cfg);
	if (r == 0)
		r = tagwatch_new(&d->loop, d->store, c.registries, d->platform, on_outdated, d,
		                 &c.tags);
	if (r == 0)
		tagwatch_on_follow(c.tags, on_follow);
	if (r == 0)
		r = tagwatch_configure(c.tags, cfg);
	if (r < 0)
		clients_free(&c);
	else
		*ret = c;
	return r;
}

static bool same_registries(const struct config *a, const struct config *b)
{
	if (a->n_registries != b->n_registries)
		return false;
	for (size_t i = 0; i < a->n_registries; i++) {
		const struct config_registry *x = &a->registries[i], *y = &b->registries[i];
		if (!same_str(x->host, y->host) || !same_str(x->username_file, y->username_file) ||
		    !same_str(x->password_file, y->password_file) || x->insecure != y->insecure)
			return false;
	}
	return true;
}

/* Running rebuilds and rollbacks use the clients: interrupted before they go. */
static void clients_stop(struct daemon *d)
{
	if (d->scheduler)
		scheduler_interrupt(d->scheduler);
	clients_free(&d->cl);
}

/*
 * Registries changed: the new clients are made before the old ones go, so
 * that the scheduler never holds freed ones (were they made after, a failure
 * would leave it the pointers clients_stop freed). Without memory for them,
 * the old clients stay.
 */
static void clients_replace(struct daemon *d)
{
	struct clients next;

	if (clients_new(d, d->cfg, &next) < 0) {
		log_err("reload: out of memory: the registry clients stay as they were");
		if (d->cl.watcher)
			watchers_configure(&d->cl, d->cfg);
		return;
	}
	if (d->promo) /* off the old pool before it goes */
		promotion_set_registries(d->promo, next.registries);
	clients_stop(d);
	d->cl = next;
	if (d->scheduler)
		scheduler_set_clients(d->scheduler, d->cl.creds, d->cl.registries);
}

/* The api stored a manual trigger or released a hold: the scheduler looks for work. */
static void api_kick_cb(void *arg)
{
	struct daemon *d = arg;

	if (d->scheduler)
		scheduler_kick(d->scheduler);
	promotion_kick(d->promo); /* a released hold lets a waiting promotion go */
}

/* A manual rebuild is the scheduler's trigger. */
static int api_rebuild_cb(const char *project, const char *env, const char *reason, int64_t *ret_id,
                          bool *ret_merged, void *arg)
{
	struct daemon *d = arg;

	return d->scheduler
	               ? scheduler_request(d->scheduler, project, env, reason, ret_id, ret_merged)
	               : -EAGAIN;
}

/* Rollback runs on an engine through the scheduler; its outcome is a build row. */
static int api_rollback_cb(const char *project, const char *env, char *err, size_t errlen,
                           void *arg)
{
	struct daemon *d = arg;

	return scheduler_rollback(d->scheduler, project, env, err, errlen);
}

/* A registry notification: poll the bases of that repository now. */
static void api_push_cb(const char *repository_name, void *arg)
{
	struct daemon *d = arg;

	if (d->cl.watcher)
		watcher_check_now(d->cl.watcher, repository_name);
}

static void api_opts_from(const struct config *c, struct api_opts *o)
{
	*o = (struct api_opts){
	        .listen = c->listen,
	        .cors_origins = (const char *const *)c->api.cors_origins,
	        .max_connections = (unsigned)c->api.max_connections,
	        .per_ip_connections = (unsigned)c->api.per_ip_connections,
	        .timeout_s = (unsigned)(c->api.timeout_ms / 1000),
	        .max_body = (size_t)c->api.max_body,
	        .engine_grace_ms = c->api.engine_grace_ms,
	        .rate_limit = (unsigned)c->api.rate_limit,
	        .auth_failure_limit = (unsigned)c->api.auth_failure_limit,
	        .openapi = refit_openapi_json,
	        .openapi_len = refit_openapi_json_len,
	};
}

struct reg_stats_ctx {
	void (*row)(const struct metrics_registry_row *r, void *ctx);
	void *ctx;
};

static void reg_stats_cb(const char *host, const struct registry_status_count *counts, size_t n,
                         long rl_remaining, long rl_limit, void *arg)
{
	struct reg_stats_ctx *c = arg;

	for (size_t i = 0; i < n; i++) {
		struct metrics_registry_row r = {host, counts[i].status, counts[i].requests,
		                                 rl_remaining, rl_limit};
		c->row(&r, c->ctx);
	}
}

static void api_registry_stats(void (*row)(const struct metrics_registry_row *r, void *ctx),
                               void *ctx, void *arg)
{
	struct daemon *d = arg;
	struct reg_stats_ctx c = {row, ctx};

	registry_pool_stats(d->cl.registries, reg_stats_cb, &c);
}

static void api_poll_feeds_cb(void *arg)
{
	struct daemon *d = arg;

	if (d->feeds)
		feeds_poll_now(d->feeds);
}

static int api_start(struct daemon *d)
{
	struct api_ops ops = {.kick = api_kick_cb,
	                      .rebuild = api_rebuild_cb,
	                      .rollback = api_rollback_cb,
	                      .registry_push = api_push_cb,
	                      .poll_feeds = api_poll_feeds_cb,
	                      .registry_stats = api_registry_stats,
	                      .arg = d};
	struct api_opts o;

	api_opts_from(d->cfg, &o);
	return api_new(&d->loop, d->store, d->cfg, &o, &ops, &d->api);
}

/*
 * Hands the new configuration to every module. The old one is freed last: whatever still
 * borrows it (the api until api_set_config) never points at freed memory meanwhile.
 */
static void reconfigure(struct daemon *d, struct config *next)
{
	bool restart = !same_engines(d->cfg, next), reclient = !same_registries(d->cfg, next);
	struct config *old = d->cfg;
	struct api_opts ao;

	if (restart)
		engines_stop(d);
	d->cfg = next;
	apply_logging(d);
	api_opts_from(d->cfg, &ao);
	api_set_config(d->api, d->cfg, &ao);
	if (restart && engines_start(d) < 0)
		log_err("reload: could not start the engines");
	if (reclient) {
		clients_replace(d);
	} else {
		/* the same files may hold new secrets: read them again */
		creds_invalidate_all(d->cl.creds);
		registry_pool_forget_tokens(d->cl.registries);
		if (d->cl.watcher)
			watchers_configure(&d->cl, d->cfg);
	}
	engines_to_scheduler(d);
	scheduler_configure(d->scheduler, d->cfg);
	promotion_configure(d->promo, d->cfg); /* windows may have changed: re-armed */
	feeds_configure(d->feeds, d->cfg);
	if (notify_configure(d->notify, d->cfg) < 0)
		log_err("reload: out of memory: webhooks unchanged");
	if (retention_configure(d->retention, d->cfg->state_dir, d->cfg->retention_ms) < 0)
		log_err("reload: out of memory: retention unchanged");
	else
		retention_run(d->retention); /* a shorter retention applies now */
	config_free(old);
}

static void reload(struct daemon *d)
{
	struct config_errors errs = {0};
	struct config *next = NULL;

	service_reloading(d->svc);
	log_info("reloading %s", d->config_path);
	if (config_load_checked(d->config_path, &next, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_err("%s", errs.lines[i]);
		log_err("reload failed: keeping the running configuration");
		store_event_add(d->store, wallclock_ms(), "reload-failed", NULL,
		                errs.n ? errs.lines[0] : "");
		config_errors_done(&errs);
		service_ready(d->svc);
		return;
	}
	log_problems(&errs);
	config_errors_done(&errs);
	reconfigure(d, next);
	store_event_add(d->store, wallclock_ms(), "reload", NULL, "configuration reloaded");
	log_info("configuration reloaded");
	service_ready(d->svc);
}

/* Closes every handle: uv_run returns once the last close callback ran. */
static void shut_down(struct daemon *d)
{
	uv_signal_stop(&d->sig_term);
	uv_signal_stop(&d->sig_int);
	uv_signal_stop(&d->sig_hup);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->store_retry, NULL);
	api_free(d->api); /* no new requests while the rest goes down */
	d->api = NULL;
	scheduler_free(d->scheduler);
	d->scheduler = NULL;
	feeds_free(d->feeds); /* before the HTTP client its requests use */
	d->feeds = NULL;
	notify_free(d->notify);
	d->notify = NULL;
	retention_free(d->retention);
	d->retention = NULL;
	promotion_free(d->promo); /* while the registry pool it uses lives */
	d->promo = NULL;
	engines_stop(d);
	clients_stop(d);
	http_client_close(d->http);
	d->http = NULL;
	service_free(d->svc);
	d->svc = NULL;
}

static size_t rebuilds_running(void *arg)
{
	struct daemon *d = arg;

	return d->scheduler ? scheduler_running(d->scheduler) : 0;
}

static void drained(bool timed_out, size_t still_running, void *arg)
{
	struct daemon *d = arg;

	if (timed_out)
		log_warn("stop_timeout reached: interrupting %zu running rebuild%s (they run "
		         "again after the restart)",
		         still_running, still_running == 1 ? "" : "s");
	shut_down(d);
}

/*
 * The graceful stop: no rebuild starts any more (the scheduler loses its
 * engine slots; new triggers stay pending in the store for the next start),
 * running ones get stop_timeout to finish while the API keeps answering. A
 * second SIGTERM/SIGINT does not wait.
 */
static void stop(struct daemon *d)
{
	size_t n = rebuilds_running(d);

	if (d->stopping) {
		log_info("second stop signal: not waiting for running rebuilds");
		shut_down(d);
		return;
	}
	d->stopping = true;
	service_stopping(d->svc);
	uv_signal_stop(&d->sig_hup); /* no reload while stopping */
	if (d->scheduler)
		scheduler_set_engines(d->scheduler, NULL, NULL, 0);
	if (n == 0 || d->cfg->stop_timeout_ms == 0) {
		log_info("stopping");
		shut_down(d);
		return;
	}
	log_info("stopping: waiting up to %llu s for %zu running rebuild%s",
	         (unsigned long long)(d->cfg->stop_timeout_ms / 1000), n, n == 1 ? "" : "s");
	if (service_drain(d->svc, d->cfg->stop_timeout_ms, rebuilds_running, drained, d) < 0)
		shut_down(d);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP)
		reload(d);
	else
		stop(d);
}

static int make_state_dir(const char *dir)
{
	char logs[4096];

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(logs, sizeof(logs), "%s/logs", dir);
	if (mkdir(logs, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int open_store(struct daemon *d)
{
	char path[4096], err[512];
	int r = make_state_dir(d->cfg->state_dir);

	if (r < 0) {
		log_err("state_dir %s: %s", d->cfg->state_dir, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/state.db", d->cfg->state_dir);
	r = store_open(path, &d->store, err, sizeof(err));
	if (r < 0)
		log_err("store: %s", err);
	return r;
}

static void on_rebuilt(const char *project, void *arg)
{
	struct daemon *d = arg;

	(void)project;
	if (d->feeds)
		feeds_inventory_changed(d->feeds);
	promotion_kick(d->promo); /* a build may wait for its window now */
}

/* Advisories changed: images with a fixable one get a security rebuild. */
static void on_feeds_changed(size_t changed, void *arg)
{
	struct daemon *d = arg;
	int n = advisory_scan_notify(d->store, d->cfg, NULL, wallclock_ms(), d->notify);

	if (n < 0)
		log_err("feeds: matching the images failed: %s", strerror(-n));
	else
		log_info("feeds: %zu advisory rows changed; %d project(s) to rebuild", changed, n);
	if (n > 0)
		scheduler_kick(d->scheduler);
}

static int feeds_start(struct daemon *d)
{
	int r = feeds_new(&d->loop, d->store, d->http, on_feeds_changed, d, &d->feeds);

	if (r == 0)
		feeds_configure(d->feeds, d->cfg);
	return r;
}

/* What waited for a window before a stop is promoted (at once when the window is open). */
static int promotion_start(struct daemon *d)
{
	int r = promotion_new(&d->loop, d->store, d->notify, &d->promo);

	if (r < 0)
		return r;
	promotion_configure(d->promo, d->cfg);
	promotion_set_registries(d->promo, d->cl.registries);
	return 0;
}

static int scheduler_start(struct daemon *d)
{
	struct scheduler_deps sd = {&d->loop,   d->store, d->cl.creds, d->cl.registries, d->notify,
	                            on_rebuilt, d};
	char tmp[4096];
	int r;

	snprintf(tmp, sizeof(tmp), "%s/tmp", d->cfg->state_dir);
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	r = scheduler_new(&sd, &d->scheduler);
	if (r < 0)
		return r;
	engines_to_scheduler(d);
	scheduler_configure(d->scheduler, d->cfg);
	return 0;
}

/* The one line `systemctl status refitd` shows (STATUS=). */
static void status_line(char *buf, size_t len, void *arg)
{
	struct daemon *d = arg;
	size_t running = rebuilds_running(d), up = 0;
	int queued = store_trigger_pending_count(d->store);

	for (size_t i = 0; i < d->n_engines; i++)
		up += engine_info(d->engines[i])->reachable;
	snprintf(buf, len, "%zu rebuild%s running, %d queued; %zu of %zu engine%s up", running,
	         running == 1 ? "" : "s", queued < 0 ? 0 : queued, up, d->n_engines,
	         d->n_engines == 1 ? "" : "s");
}

static void signals_start(struct daemon *d)
{
	uv_signal_t *sigs[] = {&d->sig_term, &d->sig_int, &d->sig_hup};
	int nums[] = {SIGTERM, SIGINT, SIGHUP};

	for (int i = 0; i < 3; i++) {
		uv_signal_init(&d->loop, sigs[i]);
		sigs[i]->data = d;
		uv_signal_start(sigs[i], signal_cb, nums[i]);
	}
}

/* Build outcomes a full disk held back are written as soon as it has room. */
static void store_retry_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	bool failing = store_write_error(d->store, NULL) != NULL;

	if (store_retry(d->store) == 0 && failing && d->scheduler)
		scheduler_kick(d->scheduler); /* what waited for room starts now */
}

static int run(struct daemon *d)
{
	int r;

	/* First: a SIGTERM that comes while refitd starts waits in the loop for uv_run, and the
	 * stop is then the graceful one rather than the default action's. */
	signals_start(d);
	if (open_store(d) < 0)
		return 1;
	store_event_add(d->store, wallclock_ms(), "start", NULL,
	                "refitd " REFIT_VERSION " started");
	uv_timer_init(&d->loop, &d->store_retry);
	d->store_retry.data = d;
	uv_timer_start(&d->store_retry, store_retry_cb, STORE_RETRY_MS, STORE_RETRY_MS);
	r = http_client_new(&d->loop, &d->http);
	if (r == 0)
		r = notify_new(&d->loop, d->http, d->store, &d->notify);
	if (r == 0)
		r = notify_configure(d->notify, d->cfg);
	if (r == 0)
		r = retention_new(&d->loop, d->store, &d->retention);
	if (r == 0)
		r = retention_configure(d->retention, d->cfg->state_dir, d->cfg->retention_ms);
	if (r == 0)
		r = service_new(&d->loop, status_line, d, &d->svc);
	if (r < 0 || clients_new(d, d->cfg, &d->cl) < 0 || engines_start(d) < 0 ||
	    scheduler_start(d) < 0 || feeds_start(d) < 0 || promotion_start(d) < 0) {
		log_err("start-up failed: out of memory");
		return 1;
	}
	if (api_start(d) < 0) { /* the reason is logged */
		log_err("start-up failed: the REST API could not start");
		return 1;
	}
	log_info("refitd %s started (config %s, state %s)", REFIT_VERSION, d->config_path,
	         d->cfg->state_dir);
	service_ready(d->svc); /* after the store, the configuration and the listener */
	uv_run(&d->loop, UV_RUN_DEFAULT);
	r = uv_loop_close(&d->loop);
	if (r != 0) {
		log_err("loop did not close cleanly: %s", uv_strerror(r));
		uv_print_all_handles(&d->loop, stderr);
		return 1;
	}
	log_info("stopped");
	return d->exit_code;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: refitd [-d] [-v] [-c FILE]\n"
	        "       refitd --check-config FILE\n"
	        "       refitd --help-config | --version\n"
	        "  -c FILE   configuration (default %s)\n"
	        "  -d        debug: plain stderr logs, no journald prefixes\n"
	        "  -v        verbose: log at debug level\n",
	        DEFAULT_CONFIG);
}

/*
 * --check-config: 0 when the file loads and everything it names is there, 1 when
 * it does not load, 3 when it loads but names files that are missing or broken
 * (refitd would start, and the projects concerned would fail their builds).
 */
static int check_config(const char *path)
{
	struct config_errors errs = {0};
	struct config *c = NULL;
	int r = config_load_checked(path, &c, &errs);
	size_t problems = errs.n_problems;

	print_errors(&errs);
	config_errors_done(&errs);
	config_free(c);
	if (r < 0)
		return 1;
	if (problems) {
		fprintf(stderr, "%s: %zu problem%s: refitd would start, and what %s would fail\n",
		        path, problems, problems == 1 ? "" : "s",
		        problems == 1 ? "it concerns" : "they concern");
		return 3;
	}
	printf("%s: configuration OK\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"check-config", required_argument, NULL, 'n'},
	        {"help-config", no_argument, NULL, 'H'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct daemon d = {.config_path = DEFAULT_CONFIG, .platform = "linux/amd64"};
	struct config_errors errs = {0};
	int c, r;

	while ((c = getopt_long(argc, argv, "c:dvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'd':
			d.foreground = true;
			break;
		case 'v':
			d.verbose = true;
			break;
		case 'n':
			return check_config(optarg);
		case 'H':
			config_print_schema();
			return 0;
		case 'V':
			printf("refitd %s\n", REFIT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config_load_checked(d.config_path, &d.cfg, &errs) < 0) {
		print_errors(&errs);
		config_errors_done(&errs);
		return 1;
	}
	apply_logging(&d);
	log_problems(&errs);
	config_errors_done(&errs);
	http_global_init();
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	uv_loop_init(&d.loop);
	r = run(&d);
	store_close(d.store);
	config_free(d.cfg);
	http_global_cleanup();
	return r;
}
