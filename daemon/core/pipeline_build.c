/* pipeline_build — one environment's engine steps (see pipeline_impl.h). */
#include "pipeline_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "advisory.h"
#include "bksession.h"
#include "context.h"
#include "engine.h"
#include "engine_ops.h"
#include "evidence.h"
#include "inventory.h"
#include "labels.h"
#include "log.h"
#include "pinload.h"
#include "registry.h"
#include "store.h"

static void op_cb(const struct engine_outcome *o, void *arg);

static int start_build(struct pipeline *pl)
{
	const struct config_env *e = pl_env(pl);
	struct label_set labels;
	struct label_input li = {.created = time(NULL),
	                         .environment = e->name,
	                         .trigger = pl->trigger,
	                         .reasons = pl->env_reasons,
	                         .follow = pl->follow.label[0] ? pl->follow.label : NULL};
	char tag[REF_STRING_MAX + 200], rev[80], src[1024], cache[REF_STRING_MAX + 80];
	const char *cache_from[] = {cache, NULL};
	struct engine_build_opts o = {0};

	pl_find_base(pl);
	li.revision = labels_git_revision(pl->p->context, rev, sizeof(rev)) == 0 ? rev : NULL;
	li.source = labels_git_source(pl->p->context, src, sizeof(src)) == 0 ? src : NULL;
	li.base_name = pl->base_name[0] ? pl->base_name : NULL;
	li.base_digest = pl->base_digest[0] ? pl->base_digest : NULL;
	labels_build(&labels, &li);
	labels_timestamp_tag(e->name, pl->started, pl->stamp_tag, sizeof(pl->stamp_tag));
	snprintf(tag, sizeof(tag), "%s:%s", pl->repo, pl->stamp_tag);
	o.context_tar = pl->tar;
	o.dockerfile = pl->p->dockerfile[0] == '/' ? NULL : pl->p->dockerfile;
	o.tag = tag;
	o.target = e->target;
	o.build_args = pl->follow.args ? pl->follow.args : e->build_args;
	o.n_build_args = pl->follow.args ? pl->follow.n_args : e->n_build_args;
	if (pl->follow.label[0])
		pl_log(pl, "follow: building with %s (the Dockerfile says %s)", pl->follow.label,
		       pl->follow.own);
	o.labels = labels.kv;
	o.n_labels = labels.n;
	o.pull = true;                                /* the moved base must be used */
	o.nocache = !strcmp(pl->trigger, "security"); /* package layers must refresh */
	o.registry_config = pl->reg_cfg;
	o.network = pl->p->network == NETWORK_HOST   ? "host"
	            : pl->p->network == NETWORK_NONE ? "none"
	                                             : NULL;
	o.podman_secrets = pl->podman_secrets;
	if (o.podman_secrets && strcmp(pl_builder(pl->d.engine), "podman")) {
		pl_log(pl, "the engine is no longer Podman: the context carries the secrets");
		return -ENOTSUP; /* for Podman only (BUILDKIT.md G 34) */
	}
	if (pl->session) {
		o.session = bksession_id(pl->session);
		o.platform = pl->d.platform;
		/* the environment's current image: a cold engine reuses its unchanged layers */
		snprintf(cache, sizeof(cache), "%s:%s", pl->repo, e->name);
		o.cache_from = o.nocache ? NULL : cache_from;
	}
	o.log = pl->log;
	pl_log(pl, "building %s (target %s, base %s %s)", tag, e->target ? e->target : "last",
	       pl->base_name[0] ? pl->base_name : "-", pl->base_digest);
	{
		struct store_build b = {.base_name = li.base_name, .base_digest = li.base_digest};
		store_build_update(pl->d.store, pl->build_id, &b);
	}
	return engine_build(pl->d.engine, &o, op_cb, pl, &pl->op);
}

/* root, 0, root:x, 0:x or nothing at all: the image runs as root. */
static bool runs_as_root(const char *user)
{
	size_t n = strcspn(user, ":");

	return !*user || (n == 4 && !strncmp(user, "root", 4)) || (n == 1 && user[0] == '0');
}

/* The final USER policy: fail for prod by default, warn elsewhere. */
static int user_policy(struct pipeline *pl, const struct engine_outcome *o)
{
	json_t *doc = json_loadb(o->body, o->body_len, 0, NULL);
	const char *u = json_string_value(json_object_get(json_object_get(doc, "Config"), "User"));
	int policy = pl_env(pl)->user_policy;
	int r = 0;

	snprintf(pl->user, sizeof(pl->user), "%s", u ? u : "");
	json_decref(doc);
	if (policy < 0)
		policy = strcmp(pl_env(pl)->name, "prod") ? POLICY_WARN : POLICY_FAIL;
	if (!runs_as_root(pl->user) || policy == POLICY_OFF)
		return 0;
	snprintf(pl->error, sizeof(pl->error),
	         "policy: the image runs as root (USER %s); add a USER instruction to the final "
	         "stage",
	         pl->user[0] ? pl->user : "not set");
	pl_log(pl, "%s%s", policy == POLICY_FAIL ? "" : "warning: ", pl->error);
	if (policy == POLICY_FAIL)
		r = -EPERM;
	return r;
}

static int start_check(struct pipeline *pl)
{
	const struct config_env *e = pl_env(pl);
	char image[REF_STRING_MAX + 200];
	struct engine_check_opts o = {.image = image,
	                              .argv = (const char *const *)e->check,
	                              .timeout_ms = e->check_timeout_ms,
	                              .log = pl->log};

	snprintf(image, sizeof(image), "%s:%s", pl->repo, pl->stamp_tag);
	/* never root: the image's own user when it has one, else nobody */
	o.user = runs_as_root(pl->user) ? "65534:65534" : pl->user;
	pl_log(pl, "check: running the check command as %s", o.user);
	return engine_check(pl->d.engine, &o, op_cb, pl, &pl->op);
}

static int start_push(struct pipeline *pl, const char *tag)
{
	pl_log(pl, "pushing %s:%s", pl->repo, tag);
	pl->push_started = uv_now(pl->d.loop);
	return engine_push(pl->d.engine, pl->repo, tag, pl->auth, pl->log, op_cb, pl, &pl->op);
}

/* The evidence is out (or not): a required one failing stops the promotion. */
static void evidence_cb(int status, const struct evidence_result *r, void *arg)
{
	struct pipeline *pl = arg;

	pl->evidence = NULL;
	if (status < 0 && pl_env(pl)->requires_evidence) {
		snprintf(pl->error, sizeof(pl->error), "not promoted: evidence not pushed: %s",
		         r->error);
		pl_env_fail(pl, pl->error);
		return;
	}
	if (status < 0) {
		pl_log(pl, "warning: evidence not pushed: %s", r->error);
		log_warn("project %s (%s): evidence not pushed: %s", pl->p->name, pl_env(pl)->name,
		         r->error);
	} else {
		pl_log(pl,
		       "evidence: signature %s, attestations %s, referrers %s; %u requests in "
		       "%llu ms",
		       r->sig_digest, r->att_digest[0] ? r->att_digest : "none",
		       r->referrers_api ? "kept by the registry" : "in the fallback tag",
		       r->requests, (unsigned long long)r->elapsed_ms);
	}
	pl->step++;
	pl_advance(pl);
}

/* With signing configured: the signature and attestations of the image just pushed. */
static int start_evidence(struct pipeline *pl)
{
	struct evidence_build b = {.store = pl->d.store,
	                           .build_id = pl->build_id,
	                           .project = pl->p->name,
	                           .env = pl_env(pl)->name,
	                           .trigger = pl->trigger,
	                           .reasons = pl->env_reasons,
	                           .fixes = pl->fixes,
	                           .domain = pl->image.domain,
	                           .path = pl->image.path,
	                           .digest = pl->digest};
	char err[512];

	if (!evidence_enabled(pl->cfg))
		return 1;
	pl_log(pl, "evidence: signing %s and pushing its attestations", pl->digest);
	if (evidence_step_start(pl->d.loop, pl->d.registries, pl->cfg, &b, pl->log, evidence_cb, pl,
	                        &pl->evidence, err, sizeof(err)) == 0)
		return 0;
	evidence_cb(-EIO, &(struct evidence_result){.error = err}, pl);
	return 0;
}

static void verify_cb(int status, const struct registry_result *r, void *arg)
{
	struct pipeline *pl = arg;

	if (pl->cancelled) {
		pl_free(pl);
		return;
	}
	if (status < 0) {
		pl_env_fail(pl, r->error);
		return;
	}
	if (strcmp(r->digest, pl->digest)) {
		snprintf(pl->error, sizeof(pl->error),
		         "the registry serves %s for :%s but the engine pushed %s", r->digest,
		         pl->wait ? pl->stamp_tag : pl_env(pl)->name, pl->digest);
		pl_env_fail(pl, pl->error);
		return;
	}
	pl_log(pl, "verified: the registry serves %s for :%s", r->digest,
	       pl->wait ? pl->stamp_tag : pl_env(pl)->name);
	pl->step = S_ENV_DONE;
	pl_advance(pl);
}

static int start_verify(struct pipeline *pl)
{
	struct image_ref r = pl->image;
	struct registry_lookup l = {&r, NULL, NULL, NULL};

	if (ref_with_tag(&r, pl->wait ? pl->stamp_tag : pl_env(pl)->name) < 0)
		return -EINVAL;
	return registry_digest(pl->d.registries, &l, verify_cb, pl);
}

/* Matches the new image with the pins of its context (needs-change, never a rebuild). */
static int record_advisories(struct pipeline *pl)
{
	struct pins pins = {0};
	int r = pinload_env(pl->p, pl_env(pl), &pins);

	if (r == 0)
		r = advisory_record_build(pl->d.store, pl->build_id,
		                          !strcmp(pl->trigger, "security"), &pins, &pl->fixes);
	pins_done(&pins);
	return r;
}

/* The image's packages are in: store them, match them, note what this build fixed. */
static void inventory_done_cb(const struct store_inventory *inv, const char *error, void *arg)
{
	struct pipeline *pl = arg;
	int r;

	pl->inv = NULL;
	if (!inv) {
		pl_log(pl, "inventory not read: %s", error);
		log_warn("project %s (%s): inventory not read: %s", pl->p->name, pl_env(pl)->name,
		         error);
	} else {
		if (error)
			pl_log(pl, "inventory: %s", error);
		r = store_inventory_put(pl->d.store, pl->build_id, inv);
		if (r == 0)
			r = record_advisories(pl);
		pl_log(pl, "inventory: %s, %zu packages%s%s%s",
		       inv->ecosystem ? inv->ecosystem : "no known OS", inv->n_pkgs,
		       r < 0 ? " (not recorded)" : "", pl->fixes ? "; fixes " : "",
		       pl->fixes ? pl->fixes : "");
	}
	pl->step++;
	pl_advance(pl);
}

/* Adds io.refit.fixes to the image just built: a build FROM its id with only a label. */
static int start_relabel(struct pipeline *pl)
{
	char df[128], tar[sizeof(pl->tar) + 16], tag[REF_STRING_MAX + 200], value[1024];
	char key[] = "io.refit.fixes";
	struct config_kv label = {key, value};
	struct engine_build_opts o = {0};
	int r;

	advisory_fixes_label(pl->fixes, value, sizeof(value));
	snprintf(df, sizeof(df), "FROM %s\n", pl->image_id);
	snprintf(tar, sizeof(tar), "%s.relabel", pl->tar);
	r = context_tar_single(tar, "Dockerfile", df, strlen(df));
	if (r < 0)
		return r;
	snprintf(tag, sizeof(tag), "%s:%s", pl->repo, pl->stamp_tag);
	o.context_tar = tar;
	o.tag = tag;
	o.labels = &label;
	o.n_labels = 1;
	o.log = pl->log;
	pl_log(pl, "labelling io.refit.fixes=%s", value);
	return engine_build(pl->d.engine, &o, op_cb, pl, &pl->op);
}

static void session_ready(struct bksession *s, int status, const char *error, void *arg)
{
	struct pipeline *pl = arg;

	(void)s;
	if (status < 0) {
		bksession_close(pl->session);
		pl->session = NULL;
		snprintf(pl->error, sizeof(pl->error),
		         "cannot open a BuildKit session on engine %s: %s; the build will be "
		         "retried",
		         engine_info(pl->d.engine)->host, error ? error : strerror(-status));
		pl_env_fail(pl, pl->error);
		return;
	}
	pl_log(pl, "BuildKit session %s open", bksession_id(pl->session));
	pl->step++;
	pl_advance(pl);
}

/* The engine dropped the session: the build that needs it fails within seconds (BuildKit
 * waits 5 s for it to come back); its error then says why. */
static void session_closed(struct bksession *s, int status, const char *reason, void *arg)
{
	struct pipeline *pl = arg;

	(void)s;
	snprintf(pl->session_error, sizeof(pl->session_error), "%s",
	         reason ? reason : strerror(-status));
	pl_log(pl, "the BuildKit session closed: %s", pl->session_error);
}

/* Credentials for every registry the build touches, and the project's secrets. */
static int start_session(struct pipeline *pl)
{
	struct bksession_secret sec[64];
	struct bksession_opts o = {.engine_host = engine_info(pl->d.engine)->dial,
	                           .api_version = engine_info(pl->d.engine)->api_version,
	                           .creds = pl->d.creds,
	                           .secrets = sec,
	                           .name = pl->p->name};

	if (pl->p->n_secrets > sizeof(sec) / sizeof(sec[0]))
		return -E2BIG;
	for (size_t i = 0; i < pl->p->n_secrets; i++)
		sec[i] = (struct bksession_secret){pl->p->secrets[i].key, pl->p->secrets[i].value};
	o.n_secrets = pl->p->n_secrets;
	engine_tls(pl->d.engine, &o.tls_ca, &o.tls_cert, &o.tls_key);
	pl->session_error[0] = '\0';
	return bksession_open(pl->d.loop, &o, session_ready, session_closed, pl, &pl->session);
}

static void session_end(struct pipeline *pl)
{
	const struct bksession_stats *st;

	if (!pl->session)
		return;
	st = bksession_stats(pl->session);
	pl_log(pl,
	       "BuildKit session closed: %u health checks, %u credential and %u secret "
	       "requests answered",
	       st->health, st->credentials, st->secrets);
	bksession_close(pl->session);
	pl->session = NULL;
}

/* Starts the operation of the current step; returns 1 when the step has nothing to do. */
int pl_run_step(struct pipeline *pl)
{
	char image[REF_STRING_MAX + 200], prev[200];

	snprintf(image, sizeof(image), "%s:%s", pl->repo, pl_env(pl)->name);
	snprintf(prev, sizeof(prev), "%s-previous", pl_env(pl)->name);
	switch (pl->step) {
	case S_SESSION:
		return strcmp(pl_builder(pl->d.engine), "buildkit") ? 1 : start_session(pl);
	case S_BUILD:
		return start_build(pl);
	case S_INSPECT:
		return engine_inspect(pl->d.engine, pl->image_id, op_cb, pl, &pl->op);
	case S_INVENTORY:
		return inventory_read(pl->d.loop, pl->d.engine, pl->image_id, inventory_done_cb, pl,
		                      &pl->inv);
	case S_RELABEL:
		return pl->fixes ? start_relabel(pl) : 1;
	case S_CHECK:
		return pl_env(pl)->check ? start_check(pl) : 1;
	case S_PREV_TAG:
		pl_decide_promotion(pl);
		if (pl->wait) { /* rollbacks then fetch ENV-previous from the registry */
			snprintf(image, sizeof(image), "%s:%s", pl->repo, prev);
			return engine_remove_image(pl->d.engine, image, op_cb, pl, &pl->op);
		}
		return engine_tag(pl->d.engine, image, pl->repo, prev, op_cb, pl, &pl->op);
	case S_TAG:
		return engine_tag(pl->d.engine, pl->image_id, pl->repo, pl_env(pl)->name, op_cb, pl,
		                  &pl->op);
	case S_PUSH_PREV:
		return pl->have_prev ? start_push(pl, prev) : 1;
	case S_PUSH_STAMP:
		return start_push(pl, pl->stamp_tag);
	case S_EVIDENCE:
		return start_evidence(pl);
	case S_PUSH:
		return pl->wait ? 1 : start_push(pl, pl_env(pl)->name);
	case S_VERIFY:
		return start_verify(pl);
	default:
		return -EINVAL;
	}
}

/* The session goes with the build; the failing step is recorded with the build. */
static void build_ended(struct pipeline *pl, const struct engine_outcome *o)
{
	struct store_build b = {.failed_step = o->failed_step};

	session_end(pl);
	snprintf(pl->failed_step, sizeof(pl->failed_step), "%s",
	         o->failed_step ? o->failed_step : "");
	if (o->failed_step) {
		pl_log(pl, "failed at step %s", o->failed_step);
		store_build_update(pl->d.store, pl->build_id, &b);
	}
	if (o->status == 0 && !strcmp(pl->trigger, "security") && o->cached_steps)
		pl_log(pl,
		       "warning: %zu step(s) of a no-cache security rebuild came from the "
		       "cache",
		       o->cached_steps);
}

/* The outcome of the current step's engine operation. */
static void op_cb(const struct engine_outcome *o, void *arg)
{
	struct pipeline *pl = arg;

	pl->op = NULL;
	if (pl->step == S_BUILD)
		build_ended(pl, o);
	if (o->status < 0 && pl->step == S_BUILD && pl->session_error[0]) {
		snprintf(pl->error, sizeof(pl->error), "%s (the BuildKit session closed: %s)",
		         o->error, pl->session_error);
		pl_env_fail(pl, pl->error);
		return;
	}
	if (o->status < 0 && pl->step == S_BUILD && strstr(o->error, "network bridge not found")) {
		/* BuildKit runs a # syntax= frontend (gateway.v0) on it whatever the network */
		bool fe = strstr(o->error, "frontend gateway.v0") != NULL;
		snprintf(
		        pl->error, sizeof(pl->error),
		        "%s: engine %s has no default bridge network (dockerd --bridge=none); %s%s",
		        o->error, engine_info(pl->d.engine)->host,
		        fe ? "a Dockerfile frontend (# syntax=, BUILDKIT_SYNTAX) runs on it "
		             "whatever "
		             "the project's network: drop it or give the engine a bridge"
		           : "set network: host or none on project ",
		        fe ? "" : pl->p->name);
		pl_env_fail(pl, pl->error);
		return;
	}
	if (pl->step == S_PREV_TAG && pl->wait) {
		if (o->status < 0 && o->status != -ENOENT)
			pl_log(pl, "keeping the local %s-previous: %s", pl_env(pl)->name, o->error);
		pl->step++;
		pl_advance(pl);
		return;
	}
	if (o->status < 0 && pl->step == S_PREV_TAG && o->status == -ENOENT) {
		pl->step++; /* nothing pushed before: no -previous to keep */
		pl_advance(pl);
		return;
	}
	if (o->status < 0) {
		pl_env_fail(pl, o->error);
		return;
	}
	if (pl->step == S_BUILD || pl->step == S_RELABEL)
		snprintf(pl->image_id, sizeof(pl->image_id), "%s", o->image_id);
	if (pl->step == S_BUILD)
		pl_notify_built(pl);
	else if (pl->step == S_INSPECT && user_policy(pl, o) < 0) {
		pl_env_fail(pl, pl->error);
		return;
	} else if (pl->step == S_CHECK && o->exit_code != 0) {
		snprintf(pl->error, sizeof(pl->error), "check: %s exited with %d",
		         pl_env(pl)->check[0], o->exit_code);
		pl_env_fail(pl, pl->error);
		return;
	} else if (pl->step == S_PREV_TAG) {
		pl->have_prev = true;
	} else if (pl->step == S_PUSH || pl->step == S_PUSH_STAMP) {
		snprintf(pl->digest, sizeof(pl->digest), "%s", o->digest);
		pl_log(pl, "pushed %s in %llu ms", o->digest,
		       (unsigned long long)(uv_now(pl->d.loop) - pl->push_started));
		if (pl->step ==
		    S_PUSH_STAMP) /* recorded now: a stop before the end still says so */
			store_build_update(
			        pl->d.store, pl->build_id,
			        &(struct store_build){.digest = pl->digest, .tags = pl->stamp_tag});
	}
	pl->step++;
	pl_advance(pl);
}

void pl_build_cancel(struct pipeline *pl)
{
	inventory_cancel(pl->inv);
	pl->inv = NULL;
	evidence_step_cancel(pl->evidence);
	pl->evidence = NULL;
	engine_op_cancel(pl->op);
	pl->op = NULL;
	bksession_close(pl->session);
	pl->session = NULL;
	if (pl->step == S_VERIFY)
		registry_cancel(pl->d.registries, verify_cb, pl);
}
