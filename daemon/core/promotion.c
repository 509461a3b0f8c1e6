/*
 * promotion — the waiting promotions' timer and tag moves (see promotion.h).
 */
#include "promotion.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "digest.h"
#include "log.h"
#include "notify.h"
#include "promote.h"
#include "ref.h"
#include "registry.h"
#include "store.h"
#include "store_promo.h"
#include "store_query.h"
#include "store_state.h"
#include "wallclock.h"

#define RECHECK_MS   60000u /* holds released, clocks changed, builds that waited meanwhile */
#define RETRY_MS     60000u /* after a failed move */
#define MAX_DUE      64     /* moved per round; the rest in the next (at once) */
#define MANIFEST_MAX (4u << 20)

enum pstep { P_GET_CUR, P_PUT_PREV, P_GET_NEW, P_PUT_ENV };

struct due {
	char *project, *env, *stamp, *digest;
	int64_t build_id;
};

struct promotion {
	uv_loop_t *loop;
	struct store *store;
	struct notify *notify;
	struct registry_pool *reg;
	struct config *cfg;
	uv_timer_t timer;
	struct due due[MAX_DUE];
	size_t n_due, at;
	bool busy, failed, more;
	uint64_t next_at; /* wall clock ms of the earliest window opening; 0: none */
	/* the move in flight */
	enum pstep step;
	struct image_ref image;
	char *manifest;
	size_t manifest_len;
	char ctype[128];
};

static void scan(struct promotion *p);
static void next_due(struct promotion *p);

static void due_done(struct due *d)
{
	free(d->project);
	free(d->env);
	free(d->stamp);
	free(d->digest);
	*d = (struct due){0};
}

static void round_clear(struct promotion *p)
{
	for (size_t i = 0; i < p->n_due; i++)
		due_done(&p->due[i]);
	p->n_due = p->at = 0;
	free(p->manifest);
	p->manifest = NULL;
	p->busy = false;
}

static const struct config_env *find_env(const struct config *c, const char *project,
                                         const char *env)
{
	const struct config_project *pr = c ? config_project_find(c, project) : NULL;

	for (size_t i = 0; pr && pr->enabled && i < pr->n_envs; i++)
		if (!strcmp(pr->envs[i].name, env))
			return &pr->envs[i];
	return NULL;
}

/* One waiting row: due now, or when its window opens (a hold: at the next look). */
static int collect_cb(const struct store_promo *w, void *arg)
{
	struct promotion *p = arg;
	const struct config_env *e = find_env(p->cfg, w->project, w->env);
	struct promote_input in = {.env = e, .now_ms = wallclock_ms()};
	struct due *d;
	uint64_t at;

	if (!e)
		return 0; /* the environment went from the configuration: it stays recorded */
	in.held = store_hold_get(p->store, w->project, w->env, NULL, 0, NULL) == 0;
	switch (promote_decide(&in, &at)) {
	case PROMOTE_WAIT:
		if (!p->next_at || at < p->next_at)
			p->next_at = at;
		return 0;
	case PROMOTE_HELD:
		return 0;
	case PROMOTE_NOW:
		break;
	}
	if (p->n_due == MAX_DUE) {
		p->more = true;
		return 0;
	}
	d = &p->due[p->n_due];
	d->project = strdup(w->project);
	d->env = strdup(w->env);
	d->stamp = strdup(w->stamp_tag);
	d->digest = strdup(w->digest);
	d->build_id = w->build_id;
	if (!d->project || !d->env || !d->stamp || !d->digest) {
		due_done(d);
		return -ENOMEM;
	}
	p->n_due++;
	return 0;
}

static void timer_cb(uv_timer_t *t)
{
	scan(t->data);
}

/* The next look: at the earliest window opening, within RECHECK_MS. */
static void arm(struct promotion *p, uint64_t max_ms)
{
	uint64_t now = wallclock_ms(), delay = max_ms;

	if (p->next_at && p->next_at <= now)
		delay = 0;
	else if (p->next_at && p->next_at - now + 10 < delay)
		delay = p->next_at - now + 10; /* a little after: the window is open by then */
	uv_update_time(p->loop);
	uv_timer_start(&p->timer, timer_cb, delay, 0);
}

static void scan(struct promotion *p)
{
	int r;

	if (p->busy || !p->cfg || !p->reg)
		return;
	uv_timer_stop(&p->timer);
	p->next_at = 0;
	p->failed = p->more = false;
	r = store_promo_each(p->store, NULL, collect_cb, p);
	if (r < 0)
		log_err("promotions: the waiting promotions cannot be read: %s", strerror(-r));
	if (p->n_due == 0) {
		arm(p, r < 0 ? RETRY_MS : RECHECK_MS);
		return;
	}
	p->busy = true;
	next_due(p);
}

/* The round is over: look again (at once when rows were left for the next round). */
static void round_end(struct promotion *p)
{
	bool more = p->more;

	round_clear(p);
	if (more) {
		scan(p);
		return;
	}
	arm(p, p->failed ? RETRY_MS : RECHECK_MS);
}

static void move_failed(struct promotion *p, const char *why)
{
	struct due *d = &p->due[p->at];

	log_warn("project %s (%s): build %lld could not be promoted (tried again in a minute): "
	         "%s",
	         d->project, d->env, (long long)d->build_id, why);
	p->failed = true;
	p->at++;
	next_due(p);
}

struct notify_ctx {
	struct promotion *p;
	const struct due *d;
};

/* The promoted event, with what the build row says about the image. */
static int notify_cb(int64_t id, const struct store_build *b, void *arg)
{
	struct notify_ctx *c = arg;
	char image[REF_STRING_MAX + 80];
	struct notify_build nb = {.event = "promoted",
	                          .project = c->d->project,
	                          .environment = c->d->env,
	                          .trigger = b->trigger,
	                          .reasons = b->reasons,
	                          .build_id = id,
	                          .image = image,
	                          .image_id = b->image_id,
	                          .digest = c->d->digest,
	                          .at = wallclock_ms()};
	const struct config_project *pr = config_project_find(c->p->cfg, c->d->project);

	snprintf(image, sizeof(image), "%s:%s", pr && pr->image ? pr->image : c->d->project,
	         c->d->env);
	notify_build(c->p->notify, &nb);
	return 0;
}

/* IMAGE:ENV serves the build now: its row, the waiting row, the event, the webhook. */
static void moved(struct promotion *p)
{
	struct due *d = &p->due[p->at];
	struct notify_ctx c = {p, d};
	char tags[512], msg[700];

	snprintf(tags, sizeof(tags), "%s,%s", d->env, d->stamp);
	if (store_build_update(p->store, d->build_id, &(struct store_build){.tags = tags}) < 0)
		log_err("project %s (%s): build %lld promoted, but its row cannot say so now",
		        d->project, d->env, (long long)d->build_id);
	store_promo_drop(p->store, d->project, d->env, d->build_id);
	snprintf(msg, sizeof(msg), "%s: build %lld (%s, %s) promoted at its window", d->env,
	         (long long)d->build_id, d->stamp, d->digest);
	store_event_add(p->store, wallclock_ms(), "promoted", d->project, msg);
	log_info("project %s (%s): build %lld promoted: :%s now serves %s (%s)", d->project, d->env,
	         (long long)d->build_id, d->env, d->stamp, d->digest);
	store_build_get(p->store, d->build_id, notify_cb, &c);
	p->at++;
	next_due(p);
}

static int start_step(struct promotion *p);

/* The digest of what the registry answered: its header, else the body's own. */
static void answer_digest(const struct registry_response *r, char *buf)
{
	if (r->digest && r->digest[0])
		snprintf(buf, DIGEST_STR_MAX, "%s", r->digest);
	else if (digest_sha256(r->body, r->body_len, buf) < 0)
		buf[0] = '\0';
}

static int keep_manifest(struct promotion *p, const struct registry_response *r)
{
	free(p->manifest);
	p->manifest = malloc(r->body_len ? r->body_len : 1);
	if (!p->manifest)
		return -ENOMEM;
	memcpy(p->manifest, r->body, r->body_len);
	p->manifest_len = r->body_len;
	snprintf(p->ctype, sizeof(p->ctype), "%s", r->content_type ? r->content_type : "");
	return 0;
}

static void request_cb(int status, const struct registry_response *r, void *arg)
{
	struct promotion *p = arg;
	struct due *d = &p->due[p->at];
	char dig[DIGEST_STR_MAX], why[300];
	bool here;

	if (status == -ENOENT && p->step == P_GET_CUR) {
		p->step = P_GET_NEW; /* IMAGE:ENV never served anything: no -previous */
	} else if (status < 0) {
		move_failed(p, r->error ? r->error : "the registry failed");
		return;
	} else if (p->step == P_GET_CUR || p->step == P_GET_NEW) {
		answer_digest(r, dig);
		here = !strcmp(dig, d->digest);
		if (p->step == P_GET_NEW && !here) {
			snprintf(why, sizeof(why),
			         "its stamp tag no longer serves the build's digest (%s)", dig);
			move_failed(p, why);
			return;
		}
		if (p->step == P_GET_CUR && here) {
			moved(p); /* IMAGE:ENV serves it already (a move cut short by a stop) */
			return;
		}
		if (keep_manifest(p, r) < 0) {
			move_failed(p, "out of memory");
			return;
		}
		p->step++;
	} else if (p->step == P_PUT_ENV) {
		if (r->digest && r->digest[0] && strcmp(r->digest, d->digest)) {
			snprintf(why, sizeof(why), "the registry stored another digest (%s)",
			         r->digest);
			move_failed(p, why);
			return;
		}
		moved(p);
		return;
	} else {
		p->step++;
	}
	if (start_step(p) < 0)
		move_failed(p, "cannot talk to the registry");
}

struct waiting_ctx {
	const struct due *d;
	bool found;
};

static int waiting_cb(const struct store_promo *w, void *arg)
{
	struct waiting_ctx *c = arg;

	if (!strcmp(w->env, c->d->env) && w->build_id == c->d->build_id)
		c->found = true;
	return 0;
}

/* Whether d still waits: a newer build promoted directly drops it before its own push. */
static bool still_waiting(struct promotion *p, const struct due *d)
{
	struct waiting_ctx c = {d, false};

	return store_promo_each(p->store, d->project, waiting_cb, &c) >= 0 && c.found;
}

static int start_step(struct promotion *p)
{
	struct due *d = &p->due[p->at];
	char path[300];

	if ((p->step == P_PUT_PREV || p->step == P_PUT_ENV) && !still_waiting(p, d)) {
		log_info("project %s (%s): build %lld is no longer waiting (a newer build was "
		         "promoted): its move stops before writing :%s",
		         d->project, d->env, (long long)d->build_id, d->env);
		p->at++;
		next_due(p);
		return 0;
	}
	struct registry_request rq = {.domain = p->image.domain,
	                              .name = p->image.path,
	                              .path = path,
	                              .max_body = MANIFEST_MAX};

	switch (p->step) {
	case P_GET_CUR:
		rq.method = "GET";
		snprintf(path, sizeof(path), "manifests/%s", d->env);
		break;
	case P_PUT_PREV:
	case P_PUT_ENV:
		rq.method = "PUT";
		rq.push = true;
		rq.body = p->manifest;
		rq.body_len = p->manifest_len;
		rq.content_type = p->ctype[0] ? p->ctype : NULL;
		snprintf(path, sizeof(path), "manifests/%s%s", d->env,
		         p->step == P_PUT_PREV ? "-previous" : "");
		break;
	case P_GET_NEW:
		rq.method = "GET";
		snprintf(path, sizeof(path), "manifests/%s", d->stamp);
		break;
	}
	return registry_request(p->reg, &rq, request_cb, p);
}

/* Starts moving the next due promotion (or ends the round). */
static void next_due(struct promotion *p)
{
	for (; p->at < p->n_due; p->at++) {
		struct due *d = &p->due[p->at];
		const struct config_project *pr = config_project_find(p->cfg, d->project);
		const char *why = NULL;

		if (!pr || ref_parse(pr->image, &p->image, &why) < 0) {
			log_warn("project %s: image %s: %s", d->project, pr ? pr->image : "?",
			         why ? why : "no such project");
			continue;
		}
		p->step = P_GET_CUR;
		log_info("project %s (%s): window open: promoting build %lld (%s)", d->project,
		         d->env, (long long)d->build_id, d->stamp);
		if (start_step(p) == 0)
			return;
		log_warn("project %s (%s): cannot talk to the registry: tried again in a minute",
		         d->project, d->env);
		p->failed = true;
	}
	round_end(p);
}

int promotion_new(uv_loop_t *loop, struct store *store, struct notify *notify,
                  struct promotion **ret)
{
	struct promotion *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->store = store;
	p->notify = notify;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	*ret = p;
	return 0;
}

void promotion_configure(struct promotion *p, struct config *cfg)
{
	struct config *old = p->cfg;

	p->cfg = config_ref(cfg);
	config_free(old); /* the round in flight copied what it needs */
	promotion_kick(p);
}

/* Drops the move in flight (its rows still wait in the store). */
static void cancel_round(struct promotion *p)
{
	if (p->busy && p->reg)
		registry_request_cancel(p->reg, request_cb, p);
	if (p->busy)
		round_clear(p);
}

void promotion_set_registries(struct promotion *p, struct registry_pool *reg)
{
	cancel_round(p);
	p->reg = reg;
	promotion_kick(p);
}

void promotion_kick(struct promotion *p)
{
	if (p && !p->busy)
		scan(p);
}

static void closed(uv_handle_t *h)
{
	free(h->data);
}

void promotion_free(struct promotion *p)
{
	if (!p)
		return;
	cancel_round(p);
	config_free(p->cfg);
	p->cfg = NULL;
	uv_close((uv_handle_t *)&p->timer, closed);
}
