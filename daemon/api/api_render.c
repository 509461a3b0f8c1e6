/*
 * api_render — the JSON bodies of the REST API, built from the configuration
 * and the store. They run only when the store or the configuration changed
 * (api.c caches the result), so clarity beats speed here.
 */
#include "api_impl.h"
#include "api_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "metrics.h"
#include "store_query.h"
#include "promote.h"
#include "store_promo.h"
#include "store_state.h"
#include "wallclock.h"

/* A render in progress: the first allocation failure is remembered, not checked per call. */
struct rctx {
	const struct api_view *v;
	bool oom;
};

static void put(struct rctx *x, json_t *o, const char *key, json_t *val)
{
	if (!val || !o || json_object_set_new(o, key, val) < 0)
		x->oom = true;
}

static void append(struct rctx *x, json_t *a, json_t *val)
{
	if (!val || !a || json_array_append_new(a, val) < 0)
		x->oom = true;
}

#define jstr  api_jstr
#define jtime api_jtime

/* The non-empty items of s split at sep, as a JSON array of strings. */
static json_t *jlist(struct rctx *x, const char *s, char sep)
{
	json_t *a = json_array();

	while (a && s && *s) {
		const char *end = strchr(s, sep);
		size_t n = end ? (size_t)(end - s) : strlen(s);
		char *item = n ? strndup(s, n) : NULL;
		if (n)
			append(x, a, item ? jstr(item) : NULL);
		free(item);
		s += n + (end != NULL);
	}
	if (!a)
		x->oom = true;
	return a;
}

static json_t *build_json(struct rctx *x, int64_t id, const struct store_build *b)
{
	json_t *o = json_object(), *base = json_object();
	char log[64];

	snprintf(log, sizeof(log), "/v1/builds/%lld/log", (long long)id);
	put(x, o, "id", json_integer(id));
	put(x, o, "project", jstr(b->project));
	put(x, o, "env", jstr(b->env));
	put(x, o, "status", jstr(b->status));
	put(x, o, "trigger", jstr(b->trigger));
	put(x, o, "reasons", jlist(x, b->reasons, '\n'));
	put(x, o, "queued_at", jtime(b->queued_at));
	put(x, o, "started_at", jtime(b->started_at));
	put(x, o, "finished_at", jtime(b->finished_at));
	put(x, o, "duration_seconds",
	    b->started_at && b->finished_at >= b->started_at
	            ? json_real((double)(b->finished_at - b->started_at) / 1000.0)
	            : json_null());
	put(x, o, "engine", jstr(b->engine));
	put(x, o, "builder", jstr(b->builder));
	put(x, o, "image_id", jstr(b->image_id));
	put(x, o, "digest", jstr(b->digest));
	put(x, base, "name", jstr(b->base_name));
	put(x, base, "digest", jstr(b->base_digest));
	put(x, o, "base", base);
	put(x, o, "tags", jlist(x, b->tags, ','));
	put(x, o, "error", jstr(b->error));
	put(x, o, "failed_step", jstr(b->failed_step));
	put(x, o, "log_error", jstr(b->log_error));
	put(x, o, "log_url", b->log_path && !b->pruned_at ? json_string(log) : json_null());
	put(x, o, "pruned_at", jtime(b->pruned_at));
	return o;
}

/* The tag that names this build for good: IMAGE:ENV-<timestamp> when present, else the first. */
static const char *pick_tag(const struct store_build *b, char *buf, size_t len)
{
	const char *pick = NULL;
	size_t pick_n = 0, envlen = b->env ? strlen(b->env) : 0;

	for (const char *s = b->tags; s && *s; s += strcspn(s, ","), s += *s == ',') {
		size_t n = strcspn(s, ",");
		const char *colon = memrchr(s, ':', n);
		bool stamped = colon && envlen && (size_t)(s + n - colon) > envlen + 1 &&
		               !strncmp(colon + 1, b->env, envlen) && colon[1 + envlen] == '-';
		if (!pick || stamped) {
			pick = s;
			pick_n = n;
		}
		if (stamped)
			break;
	}
	if (!pick || pick_n >= len)
		return NULL;
	memcpy(buf, pick, pick_n);
	buf[pick_n] = '\0';
	return buf;
}

static json_t *current_json(struct rctx *x, int64_t id, const struct store_build *b)
{
	json_t *o = json_object();
	char tag[512];

	put(x, o, "build_id", json_integer(id));
	put(x, o, "tag", jstr(pick_tag(b, tag, sizeof(tag))));
	put(x, o, "tags", jlist(x, b->tags, ','));
	put(x, o, "digest", jstr(b->digest));
	put(x, o, "image_id", jstr(b->image_id));
	put(x, o, "built_at", jtime(b->finished_at));
	put(x, o, "trigger", jstr(b->trigger));
	put(x, o, "reasons", jlist(x, b->reasons, '\n'));
	put(x, o, "base",
	    json_pack("{s:o,s:o}", "name", jstr(b->base_name), "digest", jstr(b->base_digest)));
	return o;
}

/* Collected store state, keyed by project name, for joining with the configuration. */
struct joined {
	struct rctx *x;
	json_t *builds;     /* project -> env -> {"last": build, "current": build} */
	json_t *bases;      /* project -> [base] */
	json_t *triggers;   /* project -> trigger */
	json_t *advisories; /* project -> [advisory] */
	json_t *holds;      /* project -> env or "*" -> {reason, since} */
	json_t *promos;     /* project -> env -> the build waiting for its window */
};

static json_t *child(struct rctx *x, json_t *o, const char *key)
{
	json_t *c = json_object_get(o, key);

	if (!c && o) {
		c = json_object();
		put(x, o, key, c);
	}
	return c;
}

/*
 * IMAGE:ENV served the build: one of its tags is ENV (or REPO:ENV), unlike a build
 * pushed under its stamp tag only that waits for its window.
 */
static bool served(const struct store_build *b)
{
	size_t envlen = strlen(b->env);

	for (const char *s = b->tags; s && *s; s += strcspn(s, ","), s += *s == ',') {
		size_t n = strcspn(s, ",");
		if (n >= envlen && !strncmp(s + n - envlen, b->env, envlen) &&
		    (n == envlen || s[n - envlen - 1] == ':'))
			return true;
	}
	return !b->tags;
}

static int latest_cb(int64_t id, const struct store_build *b, void *arg)
{
	struct joined *j = arg;
	json_t *env;

	if (!b->project || !b->env)
		return 0;
	env = child(j->x, child(j->x, j->builds, b->project), b->env);
	put(j->x, env, "last", build_json(j->x, id, b));
	if (b->status && !strcmp(b->status, "succeeded") && served(b))
		put(j->x, env, "current", current_json(j->x, id, b));
	return 0;
}

static json_t *base_json(struct rctx *x, const struct store_base_row *b)
{
	json_t *o = json_object();

	put(x, o, "ref", jstr(b->ref));
	put(x, o, "platform", jstr(b->platform));
	put(x, o, "digest", jstr(b->digest));
	put(x, o, "index_digest", jstr(b->index_digest));
	put(x, o, "first_seen", jtime(b->first_seen));
	put(x, o, "checked_at", jtime(b->checked_at));
	put(x, o, "changed_at", jtime(b->changed_at));
	put(x, o, "candidate",
	    b->candidate ? json_pack("{s:o,s:o}", "digest", jstr(b->candidate), "since",
	                             jtime(b->candidate_since))
	                 : json_null());
	put(x, o, "error", jstr(b->error));
	return o;
}

static int project_base_cb(const struct store_base_row *b, void *arg)
{
	struct joined *j = arg;
	json_t *list = json_object_get(j->bases, b->project), *o = base_json(j->x, b);

	if (!list) {
		list = json_array();
		put(j->x, j->bases, b->project, list);
	}
	put(j->x, o, "envs", jlist(j->x, b->envs, ','));
	append(j->x, list, o);
	return 0;
}

static int trigger_cb(const struct store_trigger *t, void *arg)
{
	struct joined *j = arg;
	json_t *o = json_object();

	put(j->x, o, "id", json_integer(t->id));
	put(j->x, o, "kind", jstr(t->kind));
	put(j->x, o, "reasons", jlist(j->x, t->reasons, '\n'));
	put(j->x, o, "created_at", jtime(t->created_at));
	put(j->x, o, "not_before", t->not_before ? jtime(t->not_before) : json_null());
	put(j->x, j->triggers, t->project, o);
	return 0;
}

static int hold_cb(const struct store_hold *h, void *arg)
{
	struct joined *j = arg;

	put(j->x, child(j->x, j->holds, h->project), h->env,
	    json_pack("{s:o,s:o}", "reason", jstr(h->reason), "since", jtime(h->since)));
	return 0;
}

static int promo_cb(const struct store_promo *w, void *arg)
{
	struct joined *j = arg;

	put(j->x, child(j->x, j->promos, w->project), w->env,
	    json_pack("{s:I,s:o,s:o,s:o}", "build_id", (json_int_t)w->build_id, "stamp_tag",
	              jstr(w->stamp_tag), "digest", jstr(w->digest), "since", jtime(w->since)));
	return 0;
}

static int join_collect(struct joined *j, const char *only)
{
	struct store *s = j->x->v->store;
	int r;

	j->builds = json_object();
	j->bases = json_object();
	j->triggers = json_object();
	j->holds = json_object();
	j->promos = json_object();
	if (!j->builds || !j->bases || !j->triggers || !j->holds || !j->promos)
		return -ENOMEM;
	r = store_builds_latest_each(s, only, latest_cb, j);
	if (r == 0)
		r = store_project_bases_each(s, only, project_base_cb, j);
	if (r == 0)
		r = api_outdated_attach(s, only, j->bases);
	if (r == 0)
		r = store_triggers_pending(s, trigger_cb, j);
	if (r >= 0)
		r = store_holds_each(s, only, hold_cb, j);
	if (r >= 0)
		r = store_promo_each(s, only, promo_cb, j);
	if (r == 0 && !(j->advisories = api_advisories_json(s, only)))
		r = -ENOMEM;
	return r < 0 ? r : 0;
}

static void join_done(struct joined *j)
{
	json_decref(j->builds);
	json_decref(j->bases);
	json_decref(j->triggers);
	json_decref(j->advisories);
	json_decref(j->holds);
	json_decref(j->promos);
}

/*
 * States, one vocabulary for the API, the page, metrics, refitctl and webhooks.
 * An environment is: building (its build is queued or running), held (not rebuilt
 * until released), failing (its last build failed; the error, the attempts since
 * its last success and the next retry come with it), ok (its last build succeeded,
 * or was skipped with a current image in place), pending (a trigger waits, nothing
 * built yet) or new. A project takes the first of failing, held, building, pending
 * (a trigger waits), ok (every environment ok) and new that one of its
 * environments (or its trigger) has.
 */
static const char *const project_states[] = {"failing", "held", "building", "pending", "ok", "new"};

static size_t state_rank(const char *st)
{
	size_t i = 0;

	while (i < 5 && strcmp(project_states[i], st))
		i++;
	return i;
}

static const char *env_state(json_t *built, bool held, bool pending)
{
	const char *st =
	        json_string_value(json_object_get(json_object_get(built, "last"), "status"));

	if (st && (!strcmp(st, "queued") || !strcmp(st, "running")))
		return "building";
	if (held)
		return "held";
	if (st && (!strcmp(st, "failed") || !strcmp(st, "interrupted")))
		return "failing";
	if (json_object_get(built, "current"))
		return "ok";
	return pending ? "pending" : "new";
}

/* What a failing environment needs to say: its error, attempts, since when, next retry. */
static void put_failing(struct rctx *x, json_t *o, const char *project, const char *env,
                        json_t *last, json_t *trig)
{
	unsigned attempts = 0;
	uint64_t since = 0;
	json_t *retry = json_object_get(trig, "not_before");

	if (!retry || json_is_null(retry))
		retry = json_object_get(trig, "created_at");
	store_env_failures(x->v->store, project, env, &attempts, &since);
	put(x, o, "error", json_incref(json_object_get(last, "error")));
	put(x, o, "failed_step", json_incref(json_object_get(last, "failed_step")));
	put(x, o, "attempts", json_integer(attempts));
	put(x, o, "failing_since", jtime(since));
	put(x, o, "next_retry", trig ? json_incref(retry) : json_null());
}

/*
 * The build waiting for the environment's window, with when IMAGE:ENV moves
 * (next_promotion: null while held; now when due and the timer is at it).
 */
static void put_promotion(struct rctx *x, json_t *o, const struct config_env *e, json_t *waiting,
                          bool held)
{
	struct promote_input in = {.env = e, .held = held, .now_ms = wallclock_ms()};
	uint64_t at;
	enum promote_verdict v = promote_decide(&in, &at);

	put(x, o, "window", jstr(e->window_text));
	put(x, o, "urgent_advisories", json_boolean(e->urgent_advisories));
	if (!waiting) {
		put(x, o, "pending_promotion", json_null());
		put(x, o, "next_promotion", json_null());
		return;
	}
	waiting = json_deep_copy(waiting);
	put(x, waiting, "state", jstr(v == PROMOTE_NOW ? "due" : promote_verdict_name(v)));
	put(x, o, "pending_promotion", waiting);
	put(x, o, "next_promotion", v == PROMOTE_HELD ? json_null() : jtime(at));
}

static json_t *env_json(struct joined *j, const struct config_project *p,
                        const struct config_env *e, json_t *trig)
{
	struct rctx *x = j->x;
	json_t *o = json_object(),
	       *built = json_object_get(json_object_get(j->builds, p->name), e->name);
	json_t *cur = json_object_get(built, "current"), *last = json_object_get(built, "last");
	json_t *holds = json_object_get(j->holds, p->name);
	json_t *hold = json_object_get(holds, e->name) ? json_object_get(holds, e->name)
	                                               : json_object_get(holds, "*");
	const char *st = env_state(built, hold != NULL, trig != NULL);

	put(x, o, "name", jstr(e->name));
	put(x, o, "target", jstr(e->target));
	put(x, o, "requires", jstr(e->requires));
	put(x, o, "requires_evidence", json_boolean(e->requires_evidence));
	put(x, o, "follow", api_follow_json(x->v->store, p->name, e));
	put(x, o, "state", jstr(st));
	put(x, o, "hold", hold ? json_incref(hold) : json_null());
	if (!strcmp(st, "failing"))
		put_failing(x, o, p->name, e->name, last, trig);
	put(x, o, "current", cur ? json_incref(cur) : json_null());
	put(x, o, "last_build", last ? json_incref(last) : json_null());
	put_promotion(x, o, e, json_object_get(json_object_get(j->promos, p->name), e->name),
	              hold != NULL);
	return o;
}

/*
 * When the project is due: its pending trigger's time (as soon as an engine
 * is free), else its last success + max_age; null when only a base or a feed
 * can trigger it. A failing project's retry time lives in the scheduler and
 * shows as its pending trigger.
 */
static json_t *next_rebuild(struct rctx *x, const struct config_project *p, json_t *trig)
{
	uint64_t last;

	if (trig && !json_is_null(json_object_get(trig, "not_before")))
		return json_incref(json_object_get(trig, "not_before")); /* a retry's backoff */
	if (trig)
		return json_incref(json_object_get(trig, "created_at"));
	if (!p->enabled || !p->max_age_ms)
		return json_null();
	if (store_last_success(x->v->store, p->name, &last) < 0)
		return json_null(); /* never built: the initial trigger comes at start */
	return jtime(last + p->max_age_ms);
}

static json_t *project_json(struct joined *j, const struct config_project *p)
{
	struct rctx *x = j->x;
	json_t *o = json_object(), *envs = json_array();
	json_t *bases = json_object_get(j->bases, p->name);
	json_t *trig = json_object_get(j->triggers, p->name);
	json_t *adv = json_object_get(j->advisories, p->name);
	size_t rank = trig ? state_rank("pending") : state_rank("new"), ok = 0;

	put(x, o, "name", jstr(p->name));
	put(x, o, "image", jstr(p->image));
	put(x, o, "context", jstr(p->context));
	put(x, o, "dockerfile", jstr(p->dockerfile));
	put(x, o, "max_age_seconds", json_integer((json_int_t)(p->max_age_ms / 1000)));
	for (size_t i = 0; i < p->n_envs; i++) {
		json_t *e = env_json(j, p, &p->envs[i], trig);
		const char *st = json_string_value(json_object_get(e, "state"));
		if (st && !strcmp(st, "ok"))
			ok++;
		else if (st && state_rank(st) < rank)
			rank = state_rank(st);
		append(x, envs, e);
	}
	if (rank == state_rank("new") && ok && ok == p->n_envs)
		rank = state_rank("ok");
	put(x, o, "state", jstr(project_states[rank]));
	put(x, o, "environments", envs);
	put(x, o, "bases", bases ? json_incref(bases) : json_array());
	put(x, o, "pending_trigger", trig ? json_incref(trig) : json_null());
	put(x, o, "next_rebuild", next_rebuild(x, p, trig));
	put(x, o, "advisories", adv ? json_incref(adv) : json_array());
	put(x, o, "advisory_counts", api_advisory_counts(adv));
	return o;
}

json_t *api_projects_json(const struct api_view *v, const char *only)
{
	struct rctx x = {v, false};
	struct joined j = {&x, NULL, NULL, NULL, NULL, NULL, NULL};
	json_t *list = json_array();
	int r = join_collect(&j, only);

	for (size_t i = 0; r == 0 && i < v->cfg->n_projects; i++) {
		const struct config_project *p = &v->cfg->projects[i];
		if (!only || !strcmp(only, p->name))
			append(&x, list, project_json(&j, p));
	}
	join_done(&j);
	if (r < 0 || x.oom) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static int render_projects(const struct api_view *v, const char *only, struct api_render *ret)
{
	json_t *list = api_projects_json(v, only), *o;

	if (!list)
		return -EIO;
	if (only) {
		o = json_incref(json_array_get(list, 0));
		json_decref(list);
		if (!o)
			return api_render_error(404, "not_found",
			                        "no such project in the configuration", ret);
		return api_render_json(o, 200, ret);
	}
	return api_render_json(json_pack("{s:o}", "projects", list), 200, ret);
}

struct builds_walk {
	struct rctx *x;
	json_t *list;
	int64_t last_id;
};

static int builds_cb(int64_t id, const struct store_build *b, void *arg)
{
	struct builds_walk *w = arg;

	append(w->x, w->list, build_json(w->x, id, b));
	w->last_id = id;
	return 0;
}

static int render_builds(const struct api_view *v, const struct api_builds_query *q,
                         struct api_render *ret)
{
	struct rctx x = {v, false};
	struct builds_walk w = {&x, json_array(), 0};
	struct store_build_filter f = {q->project[0] ? q->project : NULL, q->env[0] ? q->env : NULL,
	                               q->status[0] ? q->status : NULL, q->before, q->limit};
	int r = store_builds_each(v->store, &f, builds_cb, &w);

	if (r < 0 || x.oom) {
		json_decref(w.list);
		return r < 0 ? r : -ENOMEM;
	}
	return api_render_json(json_pack("{s:o,s:o}", "builds", w.list, "next_before",
	                                 json_array_size(w.list) == q->limit
	                                         ? json_integer(w.last_id)
	                                         : json_null()),
	                       200, ret);
}

static int render_build(const struct api_view *v, int64_t id, struct api_render *ret)
{
	struct rctx x = {v, false};
	struct builds_walk w = {&x, json_array(), 0};
	int r = store_build_get(v->store, id, builds_cb, &w);
	json_t *b = json_incref(json_array_get(w.list, 0));

	json_decref(w.list);
	if (b) {
		put(&x, b, "advisories", api_build_advisories_json(v->store, id));
		put(&x, b, "package_changes", api_build_changes_json(v->store, id));
	}
	if (r == -ENOENT)
		return api_render_error(404, "not_found", "no such build", ret);
	if (r < 0 || x.oom) {
		json_decref(b);
		return r < 0 ? r : -ENOMEM;
	}
	return api_render_json(b, 200, ret);
}

struct bases_walk {
	struct rctx *x;
	json_t *list, *users; /* users: "ref platform" -> [{project, envs}] */
};

static int users_cb(const struct store_base_row *b, void *arg)
{
	struct bases_walk *w = arg;
	char key[1024];
	json_t *list;

	snprintf(key, sizeof(key), "%s %s", b->ref, b->platform);
	list = json_object_get(w->users, key);
	if (!list) {
		list = json_array();
		put(w->x, w->users, key, list);
	}
	append(w->x, list,
	       json_pack("{s:o,s:o}", "project", jstr(b->project), "envs",
	                 jlist(w->x, b->envs, ',')));
	return 0;
}

static int bases_cb(const struct store_base_row *b, void *arg)
{
	struct bases_walk *w = arg;
	json_t *o = base_json(w->x, b), *users;
	char key[1024];

	snprintf(key, sizeof(key), "%s %s", b->ref, b->platform);
	users = json_object_get(w->users, key);
	put(w->x, o, "used_by", users ? json_incref(users) : json_array());
	append(w->x, w->list, o);
	return 0;
}

static int render_bases(const struct api_view *v, struct api_render *ret)
{
	struct rctx x = {v, false};
	struct bases_walk w = {&x, json_array(), json_object()};
	int r = store_project_bases_each(v->store, NULL, users_cb, &w);

	if (r == 0)
		r = store_bases_each(v->store, bases_cb, &w);
	json_decref(w.users);
	if (r < 0 || x.oom) {
		json_decref(w.list);
		return r < 0 ? r : -ENOMEM;
	}
	return api_render_json(json_pack("{s:o}", "bases", w.list), 200, ret);
}

static int render_text(const char *type, char *body, size_t len, struct api_render *ret)
{
	ret->status = 200;
	ret->content_type = type;
	ret->body = body;
	ret->len = len;
	return 0;
}

static int render_openapi(const struct api_view *v, struct api_render *ret)
{
	char *copy;

	if (!v->openapi || !v->openapi_len)
		return api_render_error(404, "not_found", "this build carries no OpenAPI document",
		                        ret);
	copy = malloc(v->openapi_len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v->openapi, v->openapi_len);
	copy[v->openapi_len] = '\0';
	return render_text("application/json", copy, v->openapi_len, ret);
}

static int render_metrics(const struct api_view *v, struct api_render *ret)
{
	struct metrics_view mv = {v->store,  v->cfg,        v->started_at_ms,
	                          v->now_ms, v->registries, v->registries_arg,
	                          NULL,      v->loop_lag_us};
	char *body;
	size_t len;
	json_t *projects = api_projects_json(v, NULL);
	int r;

	if (!projects)
		return -EIO;
	mv.projects = projects;
	r = metrics_render(&mv, &body, &len);
	json_decref(projects);

	if (r < 0)
		return r;
	r = render_text("text/plain; version=0.0.4; charset=utf-8", body, len, ret);
	ret->ttl_ms = 1000; /* registry counters move without the store */
	return r;
}

int api_render_route(const struct api_view *v, const struct api_route *rt,
                     const struct api_builds_query *bq, struct api_render *ret)
{
	memset(ret, 0, sizeof(*ret));
	switch (rt->id) {
	case R_INDEX:
		return api_render_html(v, ret);
	case R_PAGE_PROJECT:
		return api_render_project_page(v, rt->name, ret);
	case R_PAGE_BUILD:
		return api_render_build_page(v, rt->build_id, ret);
	case R_HEALTHZ:
		ret->ttl_ms = 1000;
		return api_render_healthz(v, ret);
	case R_METRICS:
		return render_metrics(v, ret);
	case R_OPENAPI:
		return render_openapi(v, ret);
	case R_STATUS:
		ret->ttl_ms = 1000;
		return api_render_uptime(v, ret);
	case R_STATUS_BASE:
		return api_render_status(v, ret);
	case R_PROJECTS:
		return render_projects(v, NULL, ret);
	case R_PROJECT:
		return render_projects(v, rt->name, ret);
	case R_BUILDS:
		return render_builds(v, bq, ret);
	case R_BUILD:
		return render_build(v, rt->build_id, ret);
	case R_BASES:
		return render_bases(v, ret);
	case R_FEEDS:
		return api_render_feeds(v, ret);
	case R_BUILD_SBOM:
	case R_BUILD_SBOM_CDX:
	case R_BUILD_PROVENANCE:
	case R_BUILD_VEX:
		return api_render_evidence(v, rt, ret);
	default:
		return -EINVAL;
	}
}
