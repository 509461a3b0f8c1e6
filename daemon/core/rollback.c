#include "rollback.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "creds.h"
#include "engine_ops.h"
#include "log.h"
#include "ref.h"
#include "registry.h"
#include "store.h"
#include "store_state.h"
#include "wallclock.h"

/*
 * A rollback moves ENV to what ENV-previous holds, then points ENV-previous at the
 * image it rolled away from (so that rolling back again rolls forward), and holds ENV:
 * no rebuild promotes to it again until it is released. Each image is tagged from the
 * engine's copy, pulled first when the engine lacks it.
 */
enum rb_step {
	RB_CREDS,
	RB_WANT, /* the registry's digest of ENV-previous */
	RB_HAVE, /* ... and of ENV */
	RB_TAG,
	RB_PULL,
	RB_RETAG,
	RB_PUSH,
	RB_KEEP, /* ENV-previous := the image rolled away from */
	RB_KEEP_PULL,
	RB_KEEP_RETAG,
	RB_KEEP_PUSH,
	RB_DONE
};

struct rollback {
	struct pipeline_deps d;
	struct config *cfg;
	const struct config_project *p;
	char env[64], prev_tag[80];
	struct image_ref image;
	char repo[REF_STRING_MAX];
	char *auth;
	enum rb_step step;
	char want[80]; /* the registry's digest of ENV-previous */
	char have[80]; /* ... and of ENV before the rollback ("" when it has none) */
	int64_t build_id;
	struct engine_op *op;
	bool lookup_pending;
	rollback_cb cb;
	void *arg;
	char msg[2048];
};

static void rb_free(struct rollback *rb)
{
	creds_secret_free(rb->auth);
	config_free(rb->cfg);
	free(rb);
}

static void finish(struct rollback *rb, int status)
{
	struct store_build b = {.status = status ? "failed" : "succeeded",
	                        .finished_at = wallclock_ms(),
	                        .error = status ? rb->msg : NULL,
	                        .digest = status ? NULL : rb->want,
	                        .tags = status ? NULL : rb->env};

	if (status == 0)
		snprintf(rb->msg, sizeof(rb->msg),
		         "%s:%s now serves %s (was :%s), and :%s the image rolled away from; %s "
		         "is held until released",
		         rb->repo, rb->env, rb->want, rb->prev_tag, rb->prev_tag, rb->env);
	if (status == 0 &&
	    store_hold_set(rb->d.store, rb->p->name, rb->env, "rolled back", wallclock_ms()) < 0)
		log_err("project %s: rollback of %s: the hold could not be recorded: a rebuild may "
		        "promote again",
		        rb->p->name, rb->env);
	if (rb->build_id)
		store_build_update(rb->d.store, rb->build_id, &b);
	log_info("project %s: rollback of %s %s: %s", rb->p->name, rb->env,
	         status ? "failed" : "done", rb->msg);
	rb->cb(status, rb->msg, rb->arg);
	rb_free(rb);
}

static void next(struct rollback *rb);

/* The push of step put digest into the registry: the one it had to. */
static bool pushed_right(struct rollback *rb, const struct engine_outcome *o, const char *want)
{
	if (o->digest && !strcmp(o->digest, want))
		return true;
	snprintf(rb->msg, sizeof(rb->msg), "pushed %s, expected %s",
	         o->digest ? o->digest : "nothing", want);
	finish(rb, -EPROTO);
	return false;
}

static void op_cb(const struct engine_outcome *o, void *arg)
{
	struct rollback *rb = arg;

	rb->op = NULL;
	if (o->status == -ENOENT && (rb->step == RB_TAG || rb->step == RB_KEEP)) {
		rb->step++; /* not on this engine: fetch it first */
		next(rb);
		return;
	}
	if (o->status < 0) {
		if (rb->step >= RB_KEEP)
			snprintf(rb->msg, sizeof(rb->msg),
			         "%s now serves %s, but :%s could not be pointed at %s: %s",
			         rb->env, rb->want, rb->prev_tag, rb->have, o->error);
		else
			snprintf(rb->msg, sizeof(rb->msg), "%s", o->error);
		finish(rb, o->status);
		return;
	}
	if (rb->step == RB_PUSH && !pushed_right(rb, o, rb->want))
		return;
	if (rb->step == RB_KEEP_PUSH) {
		if (pushed_right(rb, o, rb->have))
			finish(rb, 0);
		return;
	}
	if (rb->step == RB_PUSH && !rb->have[0]) {
		finish(rb, 0); /* ENV had no image: nothing to keep */
		return;
	}
	rb->step = rb->step == RB_TAG ? RB_PUSH : rb->step == RB_KEEP ? RB_KEEP_PUSH : rb->step + 1;
	next(rb);
}

static void have_cb(int status, const struct registry_result *r, void *arg)
{
	struct rollback *rb = arg;

	rb->lookup_pending = false;
	if (status == 0)
		snprintf(rb->have, sizeof(rb->have), "%s", r->digest);
	if (status == 0 && !strcmp(rb->have, rb->want)) {
		snprintf(rb->msg, sizeof(rb->msg),
		         "nothing older to roll back to: %s:%s and :%s hold the same image (%s)",
		         rb->repo, rb->env, rb->prev_tag, rb->want);
		finish(rb, -EEXIST);
		return;
	}
	rb->step = RB_TAG;
	next(rb);
}

static void want_cb(int status, const struct registry_result *r, void *arg)
{
	struct rollback *rb = arg;

	rb->lookup_pending = false;
	if (status < 0) {
		snprintf(rb->msg, sizeof(rb->msg), "no %s:%s to roll back to: %s", rb->repo,
		         rb->prev_tag, r->error);
		finish(rb, status);
		return;
	}
	snprintf(rb->want, sizeof(rb->want), "%s", r->digest);
	rb->step = RB_HAVE;
	next(rb);
}

/* Looks up tag's digest in the registry; cb continues. */
static int lookup(struct rollback *rb, const char *tag, registry_cb cb)
{
	struct image_ref r = rb->image;
	struct registry_lookup l = {&r, NULL, NULL, NULL};
	int e;

	ref_with_tag(&r, tag);
	e = registry_digest(rb->d.registries, &l, cb, rb);
	rb->lookup_pending = e == 0;
	return e;
}

static void next(struct rollback *rb)
{
	char src[REF_STRING_MAX + 100], keep[REF_STRING_MAX + 100];
	int e = 0;

	snprintf(src, sizeof(src), "%s:%s", rb->repo, rb->prev_tag);
	snprintf(keep, sizeof(keep), "%s@%s", rb->repo, rb->have);
	switch (rb->step) {
	case RB_WANT:
		e = lookup(rb, rb->prev_tag, want_cb);
		break;
	case RB_HAVE:
		e = lookup(rb, rb->env, have_cb);
		break;
	case RB_TAG:
	case RB_RETAG:
		e = engine_tag(rb->d.engine, src, rb->repo, rb->env, op_cb, rb, &rb->op);
		break;
	case RB_PULL:
		e = engine_pull(rb->d.engine, rb->repo, rb->prev_tag, rb->auth, NULL, op_cb, rb,
		                &rb->op);
		break;
	case RB_PUSH:
		e = engine_push(rb->d.engine, rb->repo, rb->env, rb->auth, NULL, op_cb, rb,
		                &rb->op);
		break;
	case RB_KEEP:
	case RB_KEEP_RETAG:
		e = engine_tag(rb->d.engine, keep, rb->repo, rb->prev_tag, op_cb, rb, &rb->op);
		break;
	case RB_KEEP_PULL:
		e = engine_pull(rb->d.engine, rb->repo, rb->have, rb->auth, NULL, op_cb, rb,
		                &rb->op);
		break;
	case RB_KEEP_PUSH:
		e = engine_push(rb->d.engine, rb->repo, rb->prev_tag, rb->auth, NULL, op_cb, rb,
		                &rb->op);
		break;
	default:
		e = -EINVAL;
	}
	if (e < 0) {
		snprintf(rb->msg, sizeof(rb->msg), "cannot talk to the engine or registry: %s",
		         strerror(-e));
		finish(rb, e);
	}
}

static void creds_done_cb(int status, const struct creds_entry *e, void *arg)
{
	struct rollback *rb = arg;

	if (creds_x_registry_auth(status < 0 ? NULL : e, rb->image.domain, &rb->auth) < 0) {
		snprintf(rb->msg, sizeof(rb->msg), "out of memory");
		finish(rb, -ENOMEM);
		return;
	}
	rb->step = RB_WANT;
	next(rb);
}

static const struct config_env *find_env(const struct config_project *p, const char *name)
{
	for (size_t i = 0; i < p->n_envs; i++)
		if (!strcmp(p->envs[i].name, name))
			return &p->envs[i];
	return NULL;
}

int rollback_start(const struct pipeline_deps *d, struct config *cfg,
                   const struct config_project *p, const char *env, rollback_cb cb, void *arg,
                   struct rollback **ret)
{
	struct rollback *rb;
	struct store_build b = {.project = p->name,
	                        .trigger = "rollback",
	                        .status = "running",
	                        .reasons = "rollback by hand"};
	int r;

	if (!find_env(p, env ? env : "prod"))
		return -ENOENT;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	rb->d = *d;
	rb->cfg = config_ref(cfg);
	rb->p = p;
	rb->cb = cb;
	rb->arg = arg;
	snprintf(rb->env, sizeof(rb->env), "%s", env ? env : "prod");
	snprintf(rb->prev_tag, sizeof(rb->prev_tag), "%s-previous", rb->env);
	if (ref_parse(p->image, &rb->image, NULL) < 0) {
		rb_free(rb);
		return -EINVAL;
	}
	ref_name(&rb->image, rb->repo, sizeof(rb->repo));
	b.env = rb->env;
	b.queued_at = b.started_at = wallclock_ms();
	if (store_build_insert(d->store, &b, &rb->build_id) < 0 ||
	    (r = creds_lookup(d->creds, rb->image.domain, creds_done_cb, rb)) < 0) {
		rb_free(rb);
		return -EIO;
	}
	*ret = rb;
	return 0;
}

void rollback_cancel(struct rollback *rb)
{
	if (!rb)
		return;
	creds_lookup_cancel(rb->d.creds, creds_done_cb, rb);
	if (rb->lookup_pending) {
		registry_cancel(rb->d.registries, want_cb, rb);
		registry_cancel(rb->d.registries, have_cb, rb);
	}
	engine_op_cancel(rb->op);
	rb_free(rb);
}
