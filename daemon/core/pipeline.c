#include "pipeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "advisory.h"
#include "bases.h"
#include "config.h"
#include "context.h"
#include "creds.h"
#include "engine.h"
#include "engine_ops.h"
#include "evidence.h"
#include "followed.h"
#include "frontend.h"
#include "bksession.h"
#include "labels.h"
#include "inventory.h"
#include "log.h"
#include "notify.h"
#include "pinload.h"
#include "promote.h"
#include "ref.h"
#include "registry.h"
#include "store.h"
#include "store_promo.h"
#include "store_state.h"
#include "wallclock.h"
#include "window.h"

#define MAX_HOSTS   8
#define MAX_SECRETS 64

enum step {
	S_CREDS,
	S_CONTEXT,
	S_ENV,     /* start the next environment */
	S_SESSION, /* BuildKit: a session serving credentials and secrets, one per build */
	S_BUILD,
	S_INSPECT,
	S_INVENTORY, /* packages in the image, matched against advisories */
	S_RELABEL,   /* io.refit.fixes, known only now */
	S_CHECK,
	S_PREV_TAG, /* keep the old IMAGE:ENV as IMAGE:ENV-previous */
	S_TAG,
	S_PUSH_PREV,
	S_PUSH_STAMP,
	S_EVIDENCE, /* signature and attestations, before IMAGE:ENV moves (evidence.c) */
	S_PUSH,
	S_VERIFY,
	S_ENV_DONE,
	S_DONE,
};

struct pipeline {
	struct pipeline_deps d;
	struct config *cfg;
	const struct config_project *p;
	char trigger[16], *reasons;
	int64_t trigger_id;
	struct followed follow; /* the environment in progress: a followed ARG value */
	char *env_reasons;      /* reasons, and the followed value */
	pipeline_cb cb;
	void *arg;
	enum step step;
	struct engine_op *op;
	struct bksession *session;
	char session_error[256]; /* why the session closed under the build */
	char failed_step[512];   /* of the environment's failed build, for the webhook */
	struct context_job *ctx_job;
	struct inventory_job *inv;
	struct evidence_step *evidence;
	char *fixes;           /* advisories this image fixed, "ID,ID" */
	uint64_t push_started; /* loop time of the push in flight */
	bool cancelled;
	bool not_recorded;      /* a build row could not be written: stopped before it started */
	struct image_ref image; /* the project's repository */
	char repo[REF_STRING_MAX], registry_host[REF_DOMAIN_MAX + 1];
	char *auth;    /* X-Registry-Auth (secret) */
	char *reg_cfg; /* X-Registry-Config (secret) */
	char tar[4096];
	char *podman_secrets; /* Podman's secrets query: where in the tar each secret is */
	time_t started;
	/* the environment in progress */
	size_t env;
	bool *passed; /* per environment, this round */
	bool *wanted; /* per environment: this rebuild builds it */
	int64_t build_id;
	FILE *log;
	char stamp_tag[160], image_id[80], digest[80], base_name[REF_STRING_MAX];
	char base_digest[80], user[128];
	bool have_prev, env_failed;
	/* the promotion window is closed (or a hold came): pushed under the stamp tag only,
	 * IMAGE:ENV moves at promote_at (promotion.c) */
	bool wait;
	enum promote_verdict verdict;
	uint64_t promote_at;
	int failures;
	char error[1024];
	char **prune; /* stamp tags to remove locally, NULL-terminated */
	size_t prune_at;
	/* registries the build touches: [0] the project's own, then the bases' */
	char hosts[MAX_HOSTS][REF_DOMAIN_MAX + 1];
	struct creds_entry found[MAX_HOSTS];
	size_t n_hosts, host_at;
	/* the frontend images checked before the build: the one in flight, where it is named,
	 * the next environment to look at, the last image checked */
	struct frontend_check *frontend;
	char frontend_at[512];
	size_t frontend_env;
	char frontend_last[REF_STRING_MAX];
};

static void advance(struct pipeline *pl);

static const struct config_env *cur(const struct pipeline *pl)
{
	return &pl->p->envs[pl->env];
}

static void pl_free(struct pipeline *pl)
{
	bksession_close(pl->session);
	for (size_t i = 0; pl->prune && pl->prune[i]; i++)
		free(pl->prune[i]);
	free(pl->prune);
	if (pl->log)
		fclose(pl->log);
	if (pl->tar[0]) {
		char relabel[sizeof(pl->tar) + 16];
		snprintf(relabel, sizeof(relabel), "%s.relabel", pl->tar);
		unlink(pl->tar);
		unlink(relabel);
	}
	free(pl->fixes);
	free(pl->podman_secrets);
	creds_secret_free(pl->auth);
	creds_secret_free(pl->reg_cfg);
	for (size_t i = 0; i < MAX_HOSTS; i++)
		creds_entry_done(&pl->found[i]);
	free(pl->reasons);
	free(pl->env_reasons);
	followed_done(&pl->follow);
	free(pl->passed);
	free(pl->wanted);
	config_free(pl->cfg);
	free(pl);
}

__attribute__((format(printf, 2, 3))) static void logf_build(struct pipeline *pl, const char *fmt,
                                                             ...)
{
	va_list ap;

	if (!pl->log)
		return;
	va_start(ap, fmt);
	fputs("refit: ", pl->log);
	vfprintf(pl->log, fmt, ap);
	fputc('\n', pl->log);
	va_end(ap);
	fflush(pl->log);
}

/*
 * Webhooks: pushed (and promoted, for an environment that requires another), and
 * the changes of state: failed when the environment starts failing (not again on
 * each retry), recovered when it succeeds after failing.
 */
static void notify_env(struct pipeline *pl, const char *status, const char *error)
{
	char image[REF_STRING_MAX + 80], before[16] = "";
	struct notify_build nb = {.project = pl->p->name,
	                          .environment = cur(pl)->name,
	                          .trigger = pl->trigger,
	                          .reasons = pl->reasons,
	                          .build_id = pl->build_id,
	                          .image = image,
	                          .image_id = pl->image_id[0] ? pl->image_id : NULL,
	                          .digest = pl->digest[0] ? pl->digest : NULL,
	                          .fixes = pl->fixes,
	                          .error = error,
	                          .failed_step = pl->failed_step[0] ? pl->failed_step : NULL,
	                          .at = wallclock_ms()};

	snprintf(image, sizeof(image), "%s:%s", pl->repo, cur(pl)->name);
	store_env_outcome_before(pl->d.store, pl->p->name, cur(pl)->name, pl->build_id, before,
	                         sizeof(before));
	if (!strcmp(status, "failed") && strcmp(before, "failed")) {
		nb.event = "failed";
		notify_build(pl->d.notify, &nb);
	} else if (!strcmp(status, "succeeded")) {
		nb.event = "pushed";
		notify_build(pl->d.notify, &nb);
		nb.event = "promoted";
		if (cur(pl)->requires && !pl->wait)
			notify_build(pl->d.notify, &nb);
		nb.event = "recovered";
		if (!strcmp(before, "failed"))
			notify_build(pl->d.notify, &nb);
	}
}

/* Webhooks: the image is built (checks and push still to come). */
static void notify_built(struct pipeline *pl)
{
	struct notify_build nb = {.event = "built",
	                          .project = pl->p->name,
	                          .environment = cur(pl)->name,
	                          .trigger = pl->trigger,
	                          .reasons = pl->reasons,
	                          .build_id = pl->build_id,
	                          .image_id = pl->image_id,
	                          .at = wallclock_ms()};

	notify_build(pl->d.notify, &nb);
}

/* Ends the current environment's build row with status and (for failures) error. */
static void find_base(struct pipeline *pl);

static void iso_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

/*
 * A promotion that waits is recorded for promotion.c (replacing an older one of the
 * environment); one made now supersedes whatever waited.
 */
static void record_promotion(struct pipeline *pl)
{
	struct store_promo p = {.project = pl->p->name,
	                        .env = cur(pl)->name,
	                        .stamp_tag = pl->stamp_tag,
	                        .digest = pl->digest,
	                        .build_id = pl->build_id,
	                        .since = wallclock_ms()};
	char when[40];

	if (!pl->wait) {
		if (store_promo_drop(pl->d.store, p.project, p.env, 0) == 0)
			log_info("project %s (%s): build %lld promoted; the older one waiting for "
			         "the window will not be",
			         p.project, p.env, (long long)pl->build_id);
		return;
	}
	if (store_promo_set(pl->d.store, &p) < 0) {
		log_err("project %s (%s): build %lld: the waiting promotion cannot be recorded; "
		        "%s:%s stays where it is",
		        p.project, p.env, (long long)pl->build_id, pl->repo, p.env);
		return;
	}
	iso_time(pl->promote_at, when, sizeof(when));
	if (pl->verdict == PROMOTE_HELD)
		log_info(
		        "project %s (%s): build %lld pushed as %s; held: %s:%s moves once released",
		        p.project, p.env, (long long)pl->build_id, pl->stamp_tag, pl->repo, p.env);
	else
		log_info(
		        "project %s (%s): build %lld pushed as %s; waiting for window, promotes at "
		        "%s",
		        p.project, p.env, (long long)pl->build_id, pl->stamp_tag, when);
}

/* After the checks: does IMAGE:ENV move now, or wait for the window (or a release)? */
static void decide_promotion(struct pipeline *pl)
{
	const struct config_env *e = cur(pl);
	struct promote_input in = {
	        .env = e,
	        .security_fix = !strcmp(pl->trigger, "security") && pl->fixes && pl->fixes[0],
	        .held = store_hold_get(pl->d.store, pl->p->name, e->name, NULL, 0, NULL) == 0,
	        .now_ms = wallclock_ms()};
	char when[40];

	pl->verdict = promote_decide(&in, &pl->promote_at);
	pl->wait = pl->verdict != PROMOTE_NOW;
	iso_time(pl->promote_at, when, sizeof(when));
	if (pl->verdict == PROMOTE_WAIT)
		logf_build(pl, "window %s is closed: pushing %s only; :%s moves at %s",
		           e->window_text, pl->stamp_tag, e->name, when);
	else if (pl->verdict == PROMOTE_HELD)
		logf_build(pl,
		           "a hold came during the build: pushing %s only; :%s moves once released",
		           pl->stamp_tag, e->name);
	else if (e->window && e->tz && !window_is_open(e->window, e->tz, in.now_ms))
		logf_build(pl,
		           "window %s is closed, but this security rebuild fixes %s "
		           "(urgent_advisories): promoting now",
		           e->window_text, pl->fixes);
}

static void env_finish(struct pipeline *pl, const char *status, const char *error)
{
	struct store_build b = {.status = status, .finished_at = wallclock_ms(), .error = error};
	char tags[512], log_error[300];

	if (!strcmp(status, "succeeded")) {
		if (pl->wait)
			snprintf(tags, sizeof(tags), "%s", pl->stamp_tag);
		else
			snprintf(tags, sizeof(tags), "%s,%s", cur(pl)->name, pl->stamp_tag);
		b.tags = tags;
		b.digest = pl->digest;
		pl->passed[pl->env] = true;
		if (!pl->base_digest[0] &&
		    pl->base_name[0]) { /* the first build raced the first poll */
			find_base(pl);
			b.base_digest = pl->base_digest[0] ? pl->base_digest : NULL;
		}
	} else if (strcmp(status, "skipped")) {
		pl->failures++;
	}
	if (error)
		logf_build(pl, "%s: %s", status, error);
	else
		logf_build(pl, "%s", status);
	b.image_id = pl->image_id[0] ? pl->image_id : NULL;
	errno = 0;
	if (pl->log && (fflush(pl->log) != 0 || ferror(pl->log))) {
		snprintf(log_error, sizeof(log_error), "writing the log failed: %s",
		         errno ? strerror(errno) : "I/O error");
		log_warn("project %s: build %lld: %s; the log is incomplete", pl->p->name,
		         (long long)pl->build_id, log_error);
		b.log_error = log_error;
	}
	if (pl->build_id && store_build_update(pl->d.store, pl->build_id, &b) < 0)
		log_err("project %s: build %lld %s, but the store cannot write it now (%s): kept "
		        "and written once it can",
		        pl->p->name, (long long)pl->build_id, status,
		        store_write_error(pl->d.store, NULL) ? store_write_error(pl->d.store, NULL)
		                                             : "see above");
	log_info("project %s (%s): build %lld %s%s%s", pl->p->name, cur(pl)->name,
	         (long long)pl->build_id, status, error ? ": " : "", error ? error : "");
	if (!strcmp(status, "succeeded"))
		record_promotion(pl);
	notify_env(pl, status, error);
	if (pl->log)
		fclose(pl->log);
	pl->log = NULL;
	pl->env++;
	pl->step = S_ENV;
}

static void env_fail(struct pipeline *pl, const char *error)
{
	env_finish(pl, "failed", error);
	advance(pl);
}

/* The builder this rebuild runs with: the engine's (BuildKit, classic, Podman's own). */
static const char *builder_used(const struct engine *e)
{
	const char *b = engine_info(e)->builder;

	return b ? b : "classic";
}

/* The same, as the Dockerfile verdicts (and refitctl lint --builder) know builders. */
static enum dockerfile_builder dockerfile_builder(const struct engine *e)
{
	const struct engine_info *i = engine_info(e);
	const char *b = builder_used(e);

	if (!strcmp(b, "classic"))
		return DOCKERFILE_CLASSIC;
	if (!strcmp(b, "podman"))
		return DOCKERFILE_PODMAN;
	/* dockerd 23 moved to BuildKit 0.10 and Dockerfile 1.4+ (heredocs, COPY --link) */
	return i->engine_version && atoi(i->engine_version) >= 23 ? DOCKERFILE_BUILDKIT
	                                                          : DOCKERFILE_BUILDKIT_0_8;
}

/* Opens the build row and log of environment pl->env. */
static int env_begin(struct pipeline *pl)
{
	char path[4096], log_error[4200];
	struct store_build b = {.project = pl->p->name,
	                        .env = cur(pl)->name,
	                        .trigger = pl->trigger,
	                        .status = "running",
	                        .queued_at = wallclock_ms(),
	                        .started_at = wallclock_ms(),
	                        .engine = engine_info(pl->d.engine)->host,
	                        .builder = builder_used(pl->d.engine)};
	int r;

	pl->image_id[0] = pl->digest[0] = pl->user[0] = pl->base_digest[0] = pl->failed_step[0] =
	        '\0';
	free(pl->fixes);
	pl->fixes = NULL;
	pl->have_prev = false;
	pl->wait = false;
	pl->build_id = 0;
	followed_done(&pl->follow);
	free(pl->env_reasons);
	pl->env_reasons = NULL;
	if (followed_of(pl->d.store, pl->p, cur(pl), pl->d.platform, &pl->follow) < 0 ||
	    !(pl->env_reasons = followed_reasons(&pl->follow, pl->reasons)))
		return -ENOMEM;
	b.reasons = pl->env_reasons;
	r = store_build_insert(pl->d.store, &b, &pl->build_id);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/logs/%lld.log", pl->d.state_dir, (long long)pl->build_id);
	pl->log = fopen(path, "we");
	b = (struct store_build){.log_path = path};
	if (!pl->log) { /* a build is worth more than its log: it goes on, and says so */
		snprintf(log_error, sizeof(log_error), "%s: %s", path, strerror(errno));
		log_warn("project %s: build %lld: its log cannot be written (%s); the build goes "
		         "on without one",
		         pl->p->name, (long long)pl->build_id, log_error);
		b = (struct store_build){.log_error = log_error};
	}
	store_build_update(pl->d.store, pl->build_id, &b);
	if (pl->build_id && pl->trigger_id)
		store_trigger_set_state(pl->d.store, pl->trigger_id, "running", pl->build_id,
		                        wallclock_ms());
	logf_build(pl, "rebuild of %s, environment %s (trigger %s)", pl->p->name, cur(pl)->name,
	           pl->trigger);
	return 0;
}

static bool requirement_met(const struct pipeline *pl)
{
	const struct config_env *e = cur(pl);

	if (!e->requires)
		return true;
	for (size_t i = 0; i < pl->env; i++)
		if (!strcmp(pl->p->envs[i].name, e->requires))
			return pl->passed[i];
	return false;
}

static void op_done(const struct engine_outcome *o, void *arg);

/* The final stage's base and the digest refit recorded for it. */
static void find_base(struct pipeline *pl)
{
	char err[256];
	struct store_base b;

	pl->base_name[0] = '\0';
	if (bases_final(pl->p, cur(pl), pl->d.platform, pl->base_name, sizeof(pl->base_name), err,
	                sizeof(err)) < 0)
		return;
	if (pl->follow.ref[0] && !strcmp(pl->base_name, pl->follow.own_ref))
		snprintf(pl->base_name, sizeof(pl->base_name), "%s", pl->follow.ref);
	if (store_base_get(pl->d.store, pl->base_name, pl->d.platform, &b) == 0)
		snprintf(pl->base_digest, sizeof(pl->base_digest), "%s", b.digest);
}

static int start_build(struct pipeline *pl)
{
	const struct config_env *e = cur(pl);
	struct label_set labels;
	struct label_input li = {.created = time(NULL),
	                         .environment = e->name,
	                         .trigger = pl->trigger,
	                         .reasons = pl->env_reasons,
	                         .follow = pl->follow.label[0] ? pl->follow.label : NULL};
	char tag[REF_STRING_MAX + 200], rev[80], src[1024], cache[REF_STRING_MAX + 80];
	const char *cache_from[] = {cache, NULL};
	struct engine_build_opts o = {0};

	find_base(pl);
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
		logf_build(pl, "follow: building with %s (the Dockerfile says %s)",
		           pl->follow.label, pl->follow.own);
	o.labels = labels.kv;
	o.n_labels = labels.n;
	o.pull = true;                                /* the moved base must be used */
	o.nocache = !strcmp(pl->trigger, "security"); /* package layers must refresh */
	o.registry_config = pl->reg_cfg;
	o.network = pl->p->network == NETWORK_HOST   ? "host"
	            : pl->p->network == NETWORK_NONE ? "none"
	                                             : NULL;
	o.podman_secrets = pl->podman_secrets;
	if (o.podman_secrets && strcmp(builder_used(pl->d.engine), "podman")) {
		logf_build(pl, "the engine is no longer Podman: the context carries the secrets");
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
	logf_build(pl, "building %s (target %s, base %s %s)", tag, e->target ? e->target : "last",
	           pl->base_name[0] ? pl->base_name : "-", pl->base_digest);
	{
		struct store_build b = {.base_name = li.base_name, .base_digest = li.base_digest};
		store_build_update(pl->d.store, pl->build_id, &b);
	}
	return engine_build(pl->d.engine, &o, op_done, pl, &pl->op);
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
	int policy = cur(pl)->user_policy;
	int r = 0;

	snprintf(pl->user, sizeof(pl->user), "%s", u ? u : "");
	json_decref(doc);
	if (policy < 0)
		policy = strcmp(cur(pl)->name, "prod") ? POLICY_WARN : POLICY_FAIL;
	if (!runs_as_root(pl->user) || policy == POLICY_OFF)
		return 0;
	snprintf(pl->error, sizeof(pl->error),
	         "policy: the image runs as root (USER %s); add a USER instruction to the final "
	         "stage",
	         pl->user[0] ? pl->user : "not set");
	logf_build(pl, "%s%s", policy == POLICY_FAIL ? "" : "warning: ", pl->error);
	if (policy == POLICY_FAIL)
		r = -EPERM;
	return r;
}

static int start_check(struct pipeline *pl)
{
	const struct config_env *e = cur(pl);
	char image[REF_STRING_MAX + 200];
	struct engine_check_opts o = {.image = image,
	                              .argv = (const char *const *)e->check,
	                              .timeout_ms = e->check_timeout_ms,
	                              .log = pl->log};

	snprintf(image, sizeof(image), "%s:%s", pl->repo, pl->stamp_tag);
	/* never root: the image's own user when it has one, else nobody */
	o.user = runs_as_root(pl->user) ? "65534:65534" : pl->user;
	logf_build(pl, "check: running the check command as %s", o.user);
	return engine_check(pl->d.engine, &o, op_done, pl, &pl->op);
}

static int start_push(struct pipeline *pl, const char *tag)
{
	logf_build(pl, "pushing %s:%s", pl->repo, tag);
	pl->push_started = uv_now(pl->d.loop);
	return engine_push(pl->d.engine, pl->repo, tag, pl->auth, pl->log, op_done, pl, &pl->op);
}

/* The evidence is out (or not): a required one failing stops the promotion. */
static void evidence_done(int status, const struct evidence_result *r, void *arg)
{
	struct pipeline *pl = arg;

	pl->evidence = NULL;
	if (status < 0 && cur(pl)->requires_evidence) {
		snprintf(pl->error, sizeof(pl->error), "not promoted: evidence not pushed: %s",
		         r->error);
		env_fail(pl, pl->error);
		return;
	}
	if (status < 0) {
		logf_build(pl, "warning: evidence not pushed: %s", r->error);
		log_warn("project %s (%s): evidence not pushed: %s", pl->p->name, cur(pl)->name,
		         r->error);
	} else {
		logf_build(pl,
		           "evidence: signature %s, attestations %s, referrers %s; %u requests in "
		           "%llu ms",
		           r->sig_digest, r->att_digest[0] ? r->att_digest : "none",
		           r->referrers_api ? "kept by the registry" : "in the fallback tag",
		           r->requests, (unsigned long long)r->elapsed_ms);
	}
	pl->step++;
	advance(pl);
}

/* With signing configured: the signature and attestations of the image just pushed. */
static int start_evidence(struct pipeline *pl)
{
	struct evidence_build b = {.store = pl->d.store,
	                           .build_id = pl->build_id,
	                           .project = pl->p->name,
	                           .env = cur(pl)->name,
	                           .trigger = pl->trigger,
	                           .reasons = pl->env_reasons,
	                           .fixes = pl->fixes,
	                           .domain = pl->image.domain,
	                           .path = pl->image.path,
	                           .digest = pl->digest};
	char err[512];

	if (!evidence_enabled(pl->cfg))
		return 1;
	logf_build(pl, "evidence: signing %s and pushing its attestations", pl->digest);
	if (evidence_step_start(pl->d.loop, pl->d.registries, pl->cfg, &b, pl->log, evidence_done,
	                        pl, &pl->evidence, err, sizeof(err)) == 0)
		return 0;
	evidence_done(-EIO, &(struct evidence_result){.error = err}, pl);
	return 0;
}

static void verify_done(int status, const struct registry_result *r, void *arg)
{
	struct pipeline *pl = arg;

	if (pl->cancelled) {
		pl_free(pl);
		return;
	}
	if (status < 0) {
		env_fail(pl, r->error);
		return;
	}
	if (strcmp(r->digest, pl->digest)) {
		snprintf(pl->error, sizeof(pl->error),
		         "the registry serves %s for :%s but the engine pushed %s", r->digest,
		         pl->wait ? pl->stamp_tag : cur(pl)->name, pl->digest);
		env_fail(pl, pl->error);
		return;
	}
	logf_build(pl, "verified: the registry serves %s for :%s", r->digest,
	           pl->wait ? pl->stamp_tag : cur(pl)->name);
	pl->step = S_ENV_DONE;
	advance(pl);
}

static int start_verify(struct pipeline *pl)
{
	struct image_ref r = pl->image;
	struct registry_lookup l = {&r, NULL, NULL, NULL};

	if (ref_with_tag(&r, pl->wait ? pl->stamp_tag : cur(pl)->name) < 0)
		return -EINVAL;
	return registry_digest(pl->d.registries, &l, verify_done, pl);
}

/* Matches the new image with the pins of its context (needs-change, never a rebuild). */
static int record_advisories(struct pipeline *pl)
{
	struct pins pins = {0};
	int r = pinload_env(pl->p, cur(pl), &pins);

	if (r == 0)
		r = advisory_record_build(pl->d.store, pl->build_id,
		                          !strcmp(pl->trigger, "security"), &pins, &pl->fixes);
	pins_done(&pins);
	return r;
}

/* The image's packages are in: store them, match them, note what this build fixed. */
static void inventory_done(const struct store_inventory *inv, const char *error, void *arg)
{
	struct pipeline *pl = arg;
	int r;

	pl->inv = NULL;
	if (!inv) {
		logf_build(pl, "inventory not read: %s", error);
		log_warn("project %s (%s): inventory not read: %s", pl->p->name, cur(pl)->name,
		         error);
	} else {
		if (error)
			logf_build(pl, "inventory: %s", error);
		r = store_inventory_put(pl->d.store, pl->build_id, inv);
		if (r == 0)
			r = record_advisories(pl);
		logf_build(pl, "inventory: %s, %zu packages%s%s%s",
		           inv->ecosystem ? inv->ecosystem : "no known OS", inv->n_pkgs,
		           r < 0 ? " (not recorded)" : "", pl->fixes ? "; fixes " : "",
		           pl->fixes ? pl->fixes : "");
	}
	pl->step++;
	advance(pl);
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
	logf_build(pl, "labelling io.refit.fixes=%s", value);
	return engine_build(pl->d.engine, &o, op_done, pl, &pl->op);
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
		env_fail(pl, pl->error);
		return;
	}
	logf_build(pl, "BuildKit session %s open", bksession_id(pl->session));
	pl->step++;
	advance(pl);
}

/* The engine dropped the session: the build that needs it fails within seconds (BuildKit
 * waits 5 s for it to come back); its error then says why. */
static void session_closed(struct bksession *s, int status, const char *reason, void *arg)
{
	struct pipeline *pl = arg;

	(void)s;
	snprintf(pl->session_error, sizeof(pl->session_error), "%s",
	         reason ? reason : strerror(-status));
	logf_build(pl, "the BuildKit session closed: %s", pl->session_error);
}

/* Credentials for every registry the build touches, and the project's secrets. */
static int start_session(struct pipeline *pl)
{
	struct bksession_secret sec[64];
	struct bksession_opts o = {.engine_host = engine_info(pl->d.engine)->host,
	                           .api_version = engine_info(pl->d.engine)->api_version,
	                           .creds = pl->d.creds,
	                           .secrets = sec,
	                           .name = pl->p->name};

	if (pl->p->n_secrets > sizeof(sec) / sizeof(sec[0]))
		return -E2BIG;
	for (size_t i = 0; i < pl->p->n_secrets; i++)
		sec[i] = (struct bksession_secret){pl->p->secrets[i].key, pl->p->secrets[i].value};
	o.n_secrets = pl->p->n_secrets;
	pl->session_error[0] = '\0';
	return bksession_open(pl->d.loop, &o, session_ready, session_closed, pl, &pl->session);
}

static void session_end(struct pipeline *pl)
{
	const struct bksession_stats *st;

	if (!pl->session)
		return;
	st = bksession_stats(pl->session);
	logf_build(pl,
	           "BuildKit session closed: %u health checks, %u credential and %u secret "
	           "requests answered",
	           st->health, st->credentials, st->secrets);
	bksession_close(pl->session);
	pl->session = NULL;
}

/* Starts the operation of the current step; returns 1 when the step has nothing to do. */
static int run_step(struct pipeline *pl)
{
	char image[REF_STRING_MAX + 200], prev[200];

	snprintf(image, sizeof(image), "%s:%s", pl->repo, cur(pl)->name);
	snprintf(prev, sizeof(prev), "%s-previous", cur(pl)->name);
	switch (pl->step) {
	case S_SESSION:
		return strcmp(builder_used(pl->d.engine), "buildkit") ? 1 : start_session(pl);
	case S_BUILD:
		return start_build(pl);
	case S_INSPECT:
		return engine_inspect(pl->d.engine, pl->image_id, op_done, pl, &pl->op);
	case S_INVENTORY:
		return inventory_read(pl->d.loop, pl->d.engine, pl->image_id, inventory_done, pl,
		                      &pl->inv);
	case S_RELABEL:
		return pl->fixes ? start_relabel(pl) : 1;
	case S_CHECK:
		return cur(pl)->check ? start_check(pl) : 1;
	case S_PREV_TAG:
		decide_promotion(pl);
		if (pl->wait) { /* rollbacks then fetch ENV-previous from the registry */
			snprintf(image, sizeof(image), "%s:%s", pl->repo, prev);
			return engine_remove_image(pl->d.engine, image, op_done, pl, &pl->op);
		}
		return engine_tag(pl->d.engine, image, pl->repo, prev, op_done, pl, &pl->op);
	case S_TAG:
		return engine_tag(pl->d.engine, pl->image_id, pl->repo, cur(pl)->name, op_done, pl,
		                  &pl->op);
	case S_PUSH_PREV:
		return pl->have_prev ? start_push(pl, prev) : 1;
	case S_PUSH_STAMP:
		return start_push(pl, pl->stamp_tag);
	case S_EVIDENCE:
		return start_evidence(pl);
	case S_PUSH:
		return pl->wait ? 1 : start_push(pl, cur(pl)->name);
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
		logf_build(pl, "failed at step %s", o->failed_step);
		store_build_update(pl->d.store, pl->build_id, &b);
	}
	if (o->status == 0 && !strcmp(pl->trigger, "security") && o->cached_steps)
		logf_build(pl,
		           "warning: %zu step(s) of a no-cache security rebuild came from the "
		           "cache",
		           o->cached_steps);
}

/* The outcome of the current step's engine operation. */
static void op_done(const struct engine_outcome *o, void *arg)
{
	struct pipeline *pl = arg;

	pl->op = NULL;
	if (pl->step == S_BUILD)
		build_ended(pl, o);
	if (o->status < 0 && pl->step == S_BUILD && pl->session_error[0]) {
		snprintf(pl->error, sizeof(pl->error), "%s (the BuildKit session closed: %s)",
		         o->error, pl->session_error);
		env_fail(pl, pl->error);
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
		env_fail(pl, pl->error);
		return;
	}
	if (pl->step == S_PREV_TAG && pl->wait) {
		if (o->status < 0 && o->status != -ENOENT)
			logf_build(pl, "keeping the local %s-previous: %s", cur(pl)->name,
			           o->error);
		pl->step++;
		advance(pl);
		return;
	}
	if (o->status < 0 && pl->step == S_PREV_TAG && o->status == -ENOENT) {
		pl->step++; /* nothing pushed before: no -previous to keep */
		advance(pl);
		return;
	}
	if (o->status < 0) {
		env_fail(pl, o->error);
		return;
	}
	if (pl->step == S_BUILD || pl->step == S_RELABEL)
		snprintf(pl->image_id, sizeof(pl->image_id), "%s", o->image_id);
	if (pl->step == S_BUILD)
		notify_built(pl);
	else if (pl->step == S_INSPECT && user_policy(pl, o) < 0) {
		env_fail(pl, pl->error);
		return;
	} else if (pl->step == S_CHECK && o->exit_code != 0) {
		snprintf(pl->error, sizeof(pl->error), "check: %s exited with %d",
		         cur(pl)->check[0], o->exit_code);
		env_fail(pl, pl->error);
		return;
	} else if (pl->step == S_PREV_TAG) {
		pl->have_prev = true;
	} else if (pl->step == S_PUSH || pl->step == S_PUSH_STAMP) {
		snprintf(pl->digest, sizeof(pl->digest), "%s", o->digest);
		logf_build(pl, "pushed %s in %llu ms", o->digest,
		           (unsigned long long)(uv_now(pl->d.loop) - pl->push_started));
	}
	pl->step++;
	advance(pl);
}

static void finish(struct pipeline *pl);

/* Removes the next superseded local image; then the rebuild is over. */
static void prune_next(const struct engine_outcome *o, void *arg)
{
	struct pipeline *pl = arg;

	pl->op = NULL;
	if (o && o->status < 0 && o->status != -ENOENT)
		log_debug("project %s: keeping %s: %s", pl->p->name, pl->prune[pl->prune_at - 1],
		          o->error);
	while (pl->prune && pl->prune[pl->prune_at]) {
		const char *tag = pl->prune[pl->prune_at++];
		if (engine_remove_image(pl->d.engine, tag, prune_next, pl, &pl->op) == 0)
			return;
	}
	finish(pl);
}

/* Lists the project's local images and picks the stamp tags beyond keep_images. */
static void prune_listed(const struct engine_outcome *o, void *arg)
{
	struct pipeline *pl = arg;
	const char *envs[65] = {NULL};
	int n;

	pl->op = NULL;
	for (size_t i = 0; i < pl->p->n_envs && i < 64; i++)
		envs[i] = pl->p->envs[i].name;
	n = o->status < 0 ? -1
	                  : labels_prune(o->body, o->body_len, pl->repo, envs, pl->p->keep_images,
	                                 &pl->prune);
	if (n > 0)
		log_info("project %s: removing %d superseded local image tag(s)", pl->p->name, n);
	prune_next(NULL, pl);
}

/* After a rebuild with something new: retention of local images, then finish. */
static void prune_start(struct pipeline *pl)
{
	if (pl->failures == (int)pl->p->n_envs ||
	    engine_list_images(pl->d.engine, pl->repo, prune_listed, pl, &pl->op) < 0)
		finish(pl);
}

static void finish(struct pipeline *pl)
{
	char summary[1100];
	int status = pl->failures ? -EIO : 0;
	size_t built = 0;

	for (size_t i = 0; i < pl->p->n_envs; i++)
		built += pl->wanted[i];
	if (pl->not_recorded)
		snprintf(summary, sizeof(summary), "%s", pl->error);
	else
		snprintf(summary, sizeof(summary), "%zu environment(s), %d failed", built,
		         pl->failures);
	/* a rebuild stopped for the store runs again: its trigger waits as pending */
	if (pl->trigger_id)
		store_trigger_set_state(pl->d.store, pl->trigger_id,
		                        pl->not_recorded ? "pending"
		                        : pl->failures   ? "failed"
		                                         : "done",
		                        0, wallclock_ms());
	if (pl->failures < (int)built) /* new images: fixable advisories ask for more */
		advisory_scan_notify(pl->d.store, pl->cfg, pl->p->name, wallclock_ms(),
		                     pl->d.notify);
	pl->cb(status, summary, pl->arg);
	pl_free(pl);
}

/* An environment held by hand or by a rollback is not rebuilt until released. */
static bool held(struct pipeline *pl)
{
	char why[256];

	if (store_hold_get(pl->d.store, pl->p->name, cur(pl)->name, why, sizeof(why), NULL) < 0)
		return false;
	snprintf(pl->error, sizeof(pl->error),
	         "held (%s): not rebuilt until `refitctl release %s %s`", why, pl->p->name,
	         cur(pl)->name);
	return true;
}

/*
 * A build whose row cannot be written is not started (it would run and push unrecorded):
 * the rebuild ends here, said as such, and runs again once the store takes writes.
 */
static void not_recorded(struct pipeline *pl, int r)
{
	const char *why = store_write_error(pl->d.store, NULL);

	snprintf(pl->error, sizeof(pl->error),
	         "not started: the store could not record a new build of environment %s: %s",
	         cur(pl)->name, why ? why : strerror(-r));
	log_err("project %s: %s", pl->p->name, pl->error);
	pl->not_recorded = true;
	pl->failures++;
	pl->env = pl->p->n_envs;
	pl->step = S_DONE;
	finish(pl);
}

/* Runs steps until one is in flight (or the rebuild is over). */
static void advance(struct pipeline *pl)
{
	for (;;) {
		int r;

		if (pl->step == S_ENV) {
			while (pl->env < pl->p->n_envs && !pl->wanted[pl->env])
				pl->env++; /* not asked for: no build, no row */
			if (pl->env >= pl->p->n_envs) {
				pl->step = S_DONE;
				prune_start(pl);
				return;
			}
			if ((r = env_begin(pl)) < 0) {
				not_recorded(pl, r);
				return;
			}
			if (held(pl)) {
				env_finish(pl, "skipped", pl->error);
				continue;
			}
			if (!requirement_met(pl)) {
				snprintf(pl->error, sizeof(pl->error),
				         "not promoted: %s did not pass in this rebuild",
				         cur(pl)->requires);
				env_finish(pl, "skipped", pl->error);
				continue;
			}
			pl->step = S_SESSION;
		}
		if (pl->step == S_ENV_DONE) {
			env_finish(pl, "succeeded", NULL);
			continue;
		}
		r = run_step(pl);
		if (r == 1) {
			pl->step++;
			continue;
		}
		if (r < 0) {
			snprintf(pl->error, sizeof(pl->error), "cannot talk to the engine: %s",
			         strerror(-r));
			env_fail(pl, pl->error);
		}
		return;
	}
}

/* Every environment fails with the same reason (context or credentials problems). */
static void fail_all(struct pipeline *pl, const char *why)
{
	/* a partial archive goes first: a full disk (the context did not fit) has room again
	 * for the build rows that say why */
	if (pl->tar[0])
		unlink(pl->tar);
	while (pl->env < pl->p->n_envs) {
		if (!pl->wanted[pl->env]) {
			pl->env++;
			continue;
		}
		int r = env_begin(pl);
		if (r < 0) {
			log_err("project %s: %s", pl->p->name, why);
			not_recorded(pl, r);
			return;
		}
		logf_build(pl, "%s", why);
		env_finish(pl, "failed", why);
	}
	finish(pl);
}

static void context_done(const struct context_result *r, void *arg)
{
	struct pipeline *pl = arg;

	pl->ctx_job = NULL;
	if (pl->cancelled) {
		pl_free(pl);
		return;
	}
	if (r->status < 0) {
		snprintf(pl->error, sizeof(pl->error), "build context: %s", r->error);
		fail_all(pl, pl->error);
		return;
	}
	if (r->policy->secrets) {
		snprintf(pl->error, sizeof(pl->error),
		         "policy: the build context holds secret-looking files that .dockerignore "
		         "does not exclude:\n%.900s",
		         r->policy->text);
		fail_all(pl, pl->error);
		return;
	}
	if (r->policy->data)
		log_warn("project %s: the build context holds data-looking files: %s", pl->p->name,
		         r->policy->text);
	pl->step = S_ENV;
	advance(pl);
}

struct secret_file {
	char name[48];  /* .refit-secret- and 32 hex digits */
	char what[160]; /* "secret ID" for errors */
};

/*
 * Podman has no session: a secret travels in the context under a name nobody can guess,
 * and the query tells Podman to move it out of the context and mount it (BUILDKIT.md G 34).
 */
static int podman_secrets(struct pipeline *pl, struct secret_file *f, struct context_extra *x)
{
	json_t *a = json_array();
	char src[256];
	int r = a ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < pl->p->n_secrets; i++) {
		const struct config_kv *s = &pl->p->secrets[i];
		unsigned char rnd[16];

		if ((r = uv_random(NULL, NULL, rnd, sizeof(rnd), 0, NULL)) < 0)
			break;
		memcpy(f[i].name, ".refit-secret-", 15);
		for (size_t k = 0; k < sizeof(rnd); k++)
			snprintf(f[i].name + 14 + 2 * k, 3, "%02x", rnd[k]);
		snprintf(f[i].what, sizeof(f[i].what), "secret %.128s", s->key);
		x[i] = (struct context_extra){f[i].name, s->value, f[i].what};
		snprintf(src, sizeof(src), "id=%.128s,src=%.47s", s->key, f[i].name);
		if (json_array_append_new(a, json_string(src)) < 0)
			r = -ENOMEM;
	}
	if (r == 0 && !(pl->podman_secrets = json_dumps(a, JSON_COMPACT)))
		r = -ENOMEM;
	json_decref(a);
	return r;
}

/* The build context, once per rebuild; on Podman it carries the project's secrets. */
static void start_context(struct pipeline *pl)
{
	struct secret_file f[MAX_SECRETS];
	struct context_extra x[MAX_SECRETS];
	size_t n = 0;
	int r;

	if (!strcmp(builder_used(pl->d.engine), "podman") && pl->p->n_secrets) {
		n = pl->p->n_secrets;
		r = n > MAX_SECRETS ? -E2BIG : podman_secrets(pl, f, x);
		if (r < 0) {
			snprintf(pl->error, sizeof(pl->error),
			         "cannot pass the secrets to Podman: %s",
			         r == -E2BIG ? "more than 64" : strerror(-r));
			fail_all(pl, pl->error);
			return;
		}
	}
	snprintf(pl->tar, sizeof(pl->tar), "%s/tmp/%s-%lld.tar", pl->d.state_dir, pl->p->name,
	         (long long)pl->started);
	r = context_tar_start(pl->d.loop, pl->p->context,
	                      pl->p->dockerfile[0] == '/' ? NULL : pl->p->dockerfile, x, n, pl->tar,
	                      context_done, pl, &pl->ctx_job);
	if (r < 0) {
		pl->tar[0] = '\0';
		fail_all(pl, "cannot start archiving the build context");
	}
}

/* X-Registry-Auth for the push, X-Registry-Config for the bases; then the context. */
static void build_headers(struct pipeline *pl)
{
	struct creds_host_entry he[MAX_HOSTS];

	for (size_t i = 0; i < pl->n_hosts; i++)
		he[i] = (struct creds_host_entry){pl->hosts[i], &pl->found[i]};
	if (creds_x_registry_auth(&pl->found[0], pl->registry_host, &pl->auth) < 0 ||
	    creds_x_registry_config(he, pl->n_hosts, &pl->reg_cfg) < 0) {
		fail_all(pl, "out of memory");
		return;
	}
	start_context(pl);
}

static void frontend_refused(struct pipeline *pl, const char *why)
{
	enum dockerfile_builder b = dockerfile_builder(pl->d.engine);

	snprintf(pl->error, sizeof(pl->error),
	         "the %s builder of engine %s cannot build this Dockerfile: %s: %s",
	         dockerfile_builder_name(b), engine_info(pl->d.engine)->host, pl->frontend_at, why);
	fail_all(pl, pl->error);
}

static void check_frontend(struct pipeline *pl);

static void frontend_done(int status, const char *why, void *arg)
{
	struct pipeline *pl = arg;

	pl->frontend = NULL;
	if (status < 0) {
		frontend_refused(pl, why);
		return;
	}
	log_info("project %s: %s", pl->p->name, why);
	check_frontend(pl);
}

/* The frontend image BuildKit would pull for each environment built (its BUILDKIT_SYNTAX
 * build arg, else the # syntax= directive): can the engine have it? (frontend.h) */
static void check_frontend(struct pipeline *pl)
{
	enum dockerfile_builder b = dockerfile_builder(pl->d.engine);
	char image[REF_STRING_MAX], at[512], why[REF_STRING_MAX + 100];
	int r;

	while (pl->frontend_env < pl->p->n_envs) {
		const struct config_env *e = &pl->p->envs[pl->frontend_env++];
		if (!pl->wanted[pl->frontend_env - 1] ||
		    bases_frontend(pl->p, e, b, image, sizeof(image), at, sizeof(at)) <= 0 ||
		    !strcmp(image, pl->frontend_last))
			continue;
		snprintf(pl->frontend_last, sizeof(pl->frontend_last), "%s", image);
		snprintf(pl->frontend_at, sizeof(pl->frontend_at), "%s", at);
		r = frontend_check(pl->d.engine, pl->d.registries, image, frontend_done, pl,
		                   &pl->frontend);
		if (r < 0) {
			snprintf(why, sizeof(why), "the frontend image \"%s\" %s", image,
			         r == -EINVAL ? "is not a valid image reference" : strerror(-r));
			frontend_refused(pl, why);
		}
		return;
	}
	build_headers(pl);
}

/* With credentials in hand: what the builder cannot build is refused before anything is sent
 * (the builder would fail late, or not say why), then the frontend check, then the headers. */
static void credentials_ready(struct pipeline *pl)
{
	enum dockerfile_builder b = dockerfile_builder(pl->d.engine);
	char why[512];
	int r = bases_refusal(pl->p, b, why, sizeof(why));

	if (r > 0)
		snprintf(pl->error, sizeof(pl->error),
		         "the %s builder of engine %s cannot build this Dockerfile: %s",
		         dockerfile_builder_name(b), engine_info(pl->d.engine)->host, why);
	else if (r < 0)
		snprintf(pl->error, sizeof(pl->error), "the Dockerfile cannot be used: %s", why);
	if (r != 0) {
		fail_all(pl, pl->error);
		return;
	}
	check_frontend(pl);
}

/* One registry's credentials; the next lookup, or on to the build. */
static void creds_done(int status, const struct creds_entry *e, void *arg)
{
	struct pipeline *pl = arg;
	const char *host = pl->hosts[pl->host_at];

	if (status < 0)
		log_warn("project %s: credentials for %s: %s; going on anonymously", pl->p->name,
		         host, e->error);
	else if (creds_entry_copy(&pl->found[pl->host_at], e) < 0) {
		fail_all(pl, "out of memory");
		return;
	}
	while (++pl->host_at < pl->n_hosts)
		if (creds_lookup(pl->d.creds, pl->hosts[pl->host_at], creds_done, pl) == 0)
			return;
	credentials_ready(pl);
}

/* The project's registry first, then each other registry its bases come from. */
static void collect_hosts(struct pipeline *pl)
{
	struct base_use *uses = NULL;
	size_t n = 0;
	char err[256];

	snprintf(pl->hosts[0], sizeof(pl->hosts[0]), "%s", pl->image.domain);
	pl->n_hosts = 1;
	if (bases_of_project(pl->p, pl->d.platform, &uses, &n, err, sizeof(err)) < 0)
		return;
	for (size_t i = 0; i < n && pl->n_hosts < MAX_HOSTS; i++) {
		bool seen = false;
		for (size_t j = 0; j < pl->n_hosts; j++)
			seen |= !strcmp(pl->hosts[j], uses[i].parsed.domain);
		if (!seen)
			snprintf(pl->hosts[pl->n_hosts++], sizeof(pl->hosts[0]), "%s",
			         uses[i].parsed.domain);
	}
	free(uses);
}

/* The environments named in envs (NULL: all), and transitively those they require. */
static void want_envs(struct pipeline *pl, const char *envs)
{
	const struct config_project *p = pl->p;

	for (size_t i = 0; i < p->n_envs; i++) {
		size_t n = strlen(p->envs[i].name);
		const char *at = envs;
		while (at && *at && !(!strncmp(at, p->envs[i].name, n) && (at[n] == ',' || !at[n])))
			at = strchr(at, ',') ? strchr(at, ',') + 1 : NULL;
		pl->wanted[i] = !envs || (at && *at);
	}
	for (size_t i = p->n_envs; i-- > 0;)
		for (size_t j = 0; pl->wanted[i] && p->envs[i].requires && j < i; j++)
			if (!strcmp(p->envs[j].name, p->envs[i].requires))
				pl->wanted[j] = true;
}

int pipeline_start(const struct pipeline_deps *d, const struct pipeline_request *req,
                   pipeline_cb cb, void *arg, struct pipeline **ret)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	const char *why = NULL;
	int r;

	if (!pl)
		return -ENOMEM;
	pl->d = *d;
	pl->cfg = config_ref(req->cfg);
	pl->p = req->project;
	snprintf(pl->trigger, sizeof(pl->trigger), "%s", req->trigger);
	pl->reasons = strdup(req->reasons ? req->reasons : "");
	pl->passed = calloc(pl->p->n_envs + 1, sizeof(bool));
	pl->wanted = calloc(pl->p->n_envs + 1, sizeof(bool));
	if (pl->wanted)
		want_envs(pl, req->envs);
	pl->trigger_id = req->trigger_id;
	pl->cb = cb;
	pl->arg = arg;
	pl->started = time(NULL);
	if (!pl->reasons || !pl->passed || !pl->wanted ||
	    ref_parse(pl->p->image, &pl->image, &why) < 0) {
		pl_free(pl);
		return why ? -EINVAL : -ENOMEM;
	}
	ref_name(&pl->image, pl->repo, sizeof(pl->repo));
	snprintf(pl->registry_host, sizeof(pl->registry_host), "%s", pl->image.domain);
	collect_hosts(pl);
	r = creds_lookup(d->creds, pl->hosts[0], creds_done, pl);
	if (r < 0) {
		pl_free(pl);
		return r;
	}
	*ret = pl;
	return 0;
}

void pipeline_cancel(struct pipeline *pl)
{
	struct store_build b = {.status = "interrupted",
	                        .finished_at = wallclock_ms(),
	                        .error = "refitd stopped during the build"};

	if (!pl)
		return;
	if (pl->build_id && pl->log)
		store_build_update(pl->d.store, pl->build_id, &b);
	if (pl->trigger_id)
		store_trigger_set_state(pl->d.store, pl->trigger_id, "pending", 0, wallclock_ms());
	creds_lookup_cancel(pl->d.creds, creds_done, pl);
	frontend_check_cancel(pl->frontend);
	pl->frontend = NULL;
	inventory_cancel(pl->inv);
	evidence_step_cancel(pl->evidence);
	pl->evidence = NULL;
	engine_op_cancel(pl->op);
	pl->op = NULL;
	bksession_close(pl->session);
	pl->session = NULL;
	if (pl->step == S_VERIFY)
		registry_cancel(pl->d.registries, verify_done, pl);
	if (pl->ctx_job) {
		pl->cancelled = true; /* freed when the archiving thread is done */
		return;
	}
	pl_free(pl);
}
