/*
 * api_status — GET /v1/status (what refitd is doing) and GET /healthz (is it
 * able to do it). Both depend on the clock, so api.c keeps them for a second.
 *
 * /healthz answers 503 only when refitd itself cannot work: the state
 * database does not take writes (its lock). A full disk is "degraded": writes are retried. Engines
 * that have not answered for longer than the grace time make it "degraded" with 200: restarting
 * refitd would not bring an engine back, so a liveness probe must not kill it for that.
 */
#include "api_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "store_feed.h"
#include "store_query.h"

#ifndef REFIT_VERSION
#define REFIT_VERSION "unknown"
#endif

static json_t *jtime(uint64_t ms)
{
	char buf[40];

	if (ms == 0)
		return json_null();
	api_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int engine_row_cb(const struct store_engine *e, void *arg)
{
	json_t *o = json_pack("{s:b,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o}", "reachable", e->reachable,
	                      "api_version", jstr(e->api_version), "engine_version",
	                      jstr(e->engine_version), "os", jstr(e->os), "arch", jstr(e->arch),
	                      "error", jstr(e->error), "podman", e->podman, "builder",
	                      jstr(e->builder), "checked_at", jtime(e->checked_at));

	return o && json_object_set_new(arg, e->host, o) == 0 ? 0 : -ENOMEM;
}

static int running_cb(int64_t id, const struct store_build *b, void *arg)
{
	json_t *n;

	(void)id;
	if (!b->engine)
		return 0;
	n = json_object_get(arg, b->engine);
	return json_object_set_new(arg, b->engine, json_integer(json_integer_value(n) + 1));
}

/* The configured engines with what the store knows of them. */
static json_t *engines_json(const struct api_view *v)
{
	struct store_build_filter running = {NULL, NULL, "running", 0, 1000};
	json_t *rows = json_object(), *busy = json_object(), *list = json_array();
	int r = rows && busy && list ? 0 : -ENOMEM;

	if (r == 0)
		r = store_engines_each(v->store, engine_row_cb, rows);
	if (r == 0)
		r = store_builds_each(v->store, &running, running_cb, busy);
	for (size_t i = 0; r == 0 && i < v->cfg->n_engines; i++) {
		const char *host = v->cfg->engines[i].host;
		json_t *e = json_deep_copy(json_object_get(rows, host));
		if (!e)
			e = json_pack("{s:b,s:n,s:n,s:n,s:n,s:s,s:b,s:n,s:n}", "reachable", 0,
			              "api_version", "engine_version", "os", "arch", "error",
			              "not contacted yet", "podman", 0, "builder", "checked_at");
		if (!e || json_object_set_new(e, "host", json_string(host)) < 0 ||
		    json_object_set_new(e, "max_builds",
		                        json_integer(v->cfg->engines[i].max_builds)) < 0 ||
		    json_object_set_new(
		            e, "running_builds",
		            json_integer(json_integer_value(json_object_get(busy, host)))) < 0 ||
		    json_array_append_new(list, e) < 0)
			r = -ENOMEM;
	}
	json_decref(rows);
	json_decref(busy);
	if (r < 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}

struct poll_info {
	int64_t bases;
	uint64_t last_checked;
};

static int base_cb(const struct store_base_row *b, void *arg)
{
	struct poll_info *p = arg;

	p->bases++;
	if (b->checked_at > p->last_checked)
		p->last_checked = b->checked_at;
	return 0;
}

struct queue_info {
	int64_t pending;
	uint64_t oldest;
};

static int pending_cb(const struct store_trigger *t, void *arg)
{
	struct queue_info *q = arg;

	if (!q->pending++ || t->created_at < q->oldest)
		q->oldest = t->created_at;
	return 0;
}

/* Counts of projects by state, every state present (zero included). */
static json_t *states_json(const struct api_view *v)
{
	json_t *list = api_projects_json(v, NULL), *o, *p;
	size_t i;

	if (!list)
		return NULL;
	o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "failing", 0, "held", 0, "building", 0,
	              "pending", 0, "ok", 0, "new", 0);
	json_array_foreach(list, i, p)
	{
		const char *st = json_string_value(json_object_get(p, "state"));
		if (o && st)
			json_object_set_new(
			        o, st,
			        json_integer(json_integer_value(json_object_get(o, st)) + 1));
	}
	json_decref(list);
	return o;
}

struct feeds_info {
	uint64_t last;
	json_t *failing; /* {feed, scope, error, since} of the scopes whose last poll failed */
};

static int feed_poll_cb(const char *feed, const char *scope, const struct store_feed_state *st,
                        void *arg)
{
	struct feeds_info *fi = arg;

	if (st->polled_at > fi->last)
		fi->last = st->polled_at;
	if (st->error[0] && fi->failing)
		json_array_append_new(fi->failing,
		                      json_pack("{s:o,s:o,s:o,s:o}", "feed", api_jstr(feed),
		                                "scope", api_jstr(scope), "error",
		                                api_jstr(st->error), "last_ok", jtime(st->ok_at)));
	return 0;
}

int api_render_status(const struct api_view *v, struct api_render *ret)
{
	struct feeds_info fi = {0, json_array()};
	struct poll_info pi = {0, 0};
	struct queue_info qi = {0, 0};
	json_t *engines, *states;
	int r = store_bases_each(v->store, base_cb, &pi);

	if (r == 0)
		r = store_triggers_pending(v->store, pending_cb, &qi);
	if (r >= 0) /* store_triggers_pending returns how many it walked */
		r = store_feeds_each(v->store, feed_poll_cb, &fi);
	if (r < 0 || !fi.failing) {
		json_decref(fi.failing);
		return r < 0 ? r : -ENOMEM;
	}
	r = 0;
	engines = engines_json(v);
	states = states_json(v);
	return api_render_json(
	        json_pack("{s:s,s:o,s:o,s:{s:I,s:o},s:{s:I,s:o,s:o,s:I},s:{s:I,s:o,s:o,s:I,s:o},"
	                  "s:{s:I,s:o}}",
	                  "version", REFIT_VERSION, "started_at", jtime(v->started_at_ms),
	                  "engines", engines ? engines : json_null(), "queue", "pending",
	                  (json_int_t)qi.pending, "oldest", jtime(qi.oldest), "bases", "count",
	                  (json_int_t)pi.bases, "last_poll", jtime(pi.last_checked), "next_poll",
	                  jtime(pi.last_checked ? pi.last_checked + v->cfg->poll.bases_ms : 0),
	                  "interval_seconds", (json_int_t)(v->cfg->poll.bases_ms / 1000), "feeds",
	                  "count", (json_int_t)v->cfg->n_feeds, "last_poll", jtime(fi.last),
	                  "next_poll", jtime(fi.last ? fi.last + v->cfg->poll.feeds_ms : 0),
	                  "interval_seconds", (json_int_t)(v->cfg->poll.feeds_ms / 1000), "failing",
	                  fi.failing, "projects", "total", (json_int_t)v->cfg->n_projects,
	                  "by_state", states ? states : json_null()),
	        200, ret);
}

int api_render_uptime(const struct api_view *v, struct api_render *ret)
{
	char tail[64];
	int n;

	if (!v->status_base || v->status_base_len < 2 || v->status_base[0] != '{')
		return -EINVAL;
	n = snprintf(tail, sizeof(tail), ",\"uptime_seconds\":%llu}",
	             (unsigned long long)((v->now_ms - v->started_at_ms) / 1000));
	ret->body = malloc(v->status_base_len + (size_t)n);
	if (!ret->body)
		return -ENOMEM;
	memcpy(ret->body, v->status_base, v->status_base_len - 1); /* without its '}' */
	memcpy(ret->body + v->status_base_len - 1, tail, (size_t)n + 1);
	ret->len = v->status_base_len - 1 + (size_t)n;
	ret->status = 200;
	ret->content_type = "application/json";
	return 0;
}

struct health {
	const struct api_view *v;
	json_t *reasons;
	json_t *seen; /* hosts with a row */
};

static bool configured(const struct config *c, const char *host)
{
	for (size_t i = 0; i < c->n_engines; i++)
		if (!strcmp(c->engines[i].host, host))
			return true;
	return false;
}

static int health_engine_cb(const struct store_engine *e, void *arg)
{
	struct health *h = arg;
	char msg[512];

	json_object_set_new(h->seen, e->host, json_true());
	if (e->reachable || h->v->now_ms < e->checked_at + h->v->engine_grace_ms)
		return 0;
	if (!configured(h->v->cfg, e->host))
		return 0; /* a row left from an engine no longer configured */
	snprintf(msg, sizeof(msg), "engine %s unreachable for %llu s: %s", e->host,
	         (unsigned long long)((h->v->now_ms - e->checked_at) / 1000),
	         e->error ? e->error : "no answer");
	return json_array_append_new(h->reasons, json_string(msg)) < 0 ? -ENOMEM : 0;
}

/* Engines never heard of once the grace time has passed since start. */
static void health_silent(struct health *h)
{
	char msg[512];

	if (h->v->now_ms < h->v->started_at_ms + h->v->engine_grace_ms)
		return;
	for (size_t i = 0; i < h->v->cfg->n_engines; i++) {
		const char *host = h->v->cfg->engines[i].host;
		if (json_object_get(h->seen, host))
			continue;
		snprintf(msg, sizeof(msg), "engine %s has not answered since refitd started", host);
		json_array_append_new(h->reasons, json_string(msg));
	}
}

/* Writes failing (a full disk): degraded, not 503, since a restart would not make room and
 * would lose the build outcomes that wait in memory to be written. */
static int health_store(struct health *h)
{
	uint64_t since;
	const char *why = store_write_error(h->v->store, &since);
	char msg[512];

	if (!why)
		return 0;
	snprintf(msg, sizeof(msg),
	         "the state database cannot be written for %llu s: %s; %zu build outcome(s) and "
	         "trigger state(s) wait to be recorded",
	         (unsigned long long)(h->v->now_ms > since ? (h->v->now_ms - since) / 1000 : 0),
	         why, store_deferred_count(h->v->store));
	return json_array_append_new(h->reasons, json_string(msg)) < 0 ? -ENOMEM : 0;
}

int api_render_healthz(const struct api_view *v, struct api_render *ret)
{
	struct health h = {v, json_array(), json_object()};
	char err[512];
	int r = h.reasons && h.seen ? 0 : -ENOMEM;

	if (r == 0 && store_probe_writable(v->store, err, sizeof(err)) < 0) {
		json_decref(h.seen);
		return api_render_json(
		        json_pack("{s:s,s:[s]}", "status", "unavailable", "reasons", err), 503,
		        ret);
	}
	if (r == 0)
		r = health_store(&h);
	if (r == 0)
		r = store_engines_each(v->store, health_engine_cb, &h);
	if (r == 0)
		health_silent(&h);
	json_decref(h.seen);
	if (r < 0) {
		json_decref(h.reasons);
		return r;
	}
	if (json_array_size(h.reasons) == 0) {
		json_decref(h.reasons);
		return api_render_json(json_pack("{s:s}", "status", "ok"), 200, ret);
	}
	return api_render_json(json_pack("{s:s,s:o}", "status", "degraded", "reasons", h.reasons),
	                       200, ret);
}
