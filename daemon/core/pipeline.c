#include "pipeline_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advisory.h"
#include "bases.h"
#include "bksession.h"
#include "engine.h"
#include "engine_ops.h"
#include "labels.h"
#include "log.h"
#include "notify.h"
#include "registry.h"
#include "store.h"
#include "store_promo.h"
#include "store_state.h"
#include "wallclock.h"
#include "window.h"

static void finish(struct pipeline *pl);

void pl_free(struct pipeline *pl)
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

__attribute__((format(printf, 2, 3))) void pl_log(struct pipeline *pl, const char *fmt, ...)
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
	                          .environment = pl_env(pl)->name,
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

	snprintf(image, sizeof(image), "%s:%s", pl->repo, pl_env(pl)->name);
	store_env_outcome_before(pl->d.store, pl->p->name, pl_env(pl)->name, pl->build_id, before,
	                         sizeof(before));
	if (!strcmp(status, "failed") && strcmp(before, "failed")) {
		nb.event = "failed";
		notify_build(pl->d.notify, &nb);
	} else if (!strcmp(status, "succeeded")) {
		nb.event = "pushed";
		notify_build(pl->d.notify, &nb);
		nb.event = "promoted";
		if (pl_env(pl)->requires && !pl->wait)
			notify_build(pl->d.notify, &nb);
		nb.event = "recovered";
		if (!strcmp(before, "failed"))
			notify_build(pl->d.notify, &nb);
	}
}

/* Webhooks: the image is built (checks and push still to come). */
void pl_notify_built(struct pipeline *pl)
{
	struct notify_build nb = {.event = "built",
	                          .project = pl->p->name,
	                          .environment = pl_env(pl)->name,
	                          .trigger = pl->trigger,
	                          .reasons = pl->reasons,
	                          .build_id = pl->build_id,
	                          .image_id = pl->image_id,
	                          .at = wallclock_ms()};

	notify_build(pl->d.notify, &nb);
}

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
	                        .env = pl_env(pl)->name,
	                        .stamp_tag = pl->stamp_tag,
	                        .digest = pl->digest,
	                        .build_id = pl->build_id,
	                        .since = wallclock_ms()};
	char when[40];

	if (!pl->wait)
		return; /* whatever waited was dropped when this one was promoted */
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
void pl_decide_promotion(struct pipeline *pl)
{
	const struct config_env *e = pl_env(pl);
	struct promote_input in = {
	        .env = e,
	        .security_fix = !strcmp(pl->trigger, "security") && pl->fixes && pl->fixes[0],
	        .held = store_hold_get(pl->d.store, pl->p->name, e->name, NULL, 0, NULL) == 0,
	        .now_ms = wallclock_ms()};
	char when[40];

	pl->verdict = promote_decide(&in, &pl->promote_at);
	pl->wait = pl->verdict != PROMOTE_NOW;
	/* promoted now: an older build waiting for the window must not move :ENV after this
	 * push (promotion.c looks again before each of its writes) */
	if (!pl->wait && store_promo_drop(pl->d.store, pl->p->name, e->name, 0) == 0)
		log_info("project %s (%s): build %lld is promoted now; the older one waiting for "
		         "the window will not be",
		         pl->p->name, e->name, (long long)pl->build_id);
	iso_time(pl->promote_at, when, sizeof(when));
	if (pl->verdict == PROMOTE_WAIT)
		pl_log(pl, "window %s is closed: pushing %s only; :%s moves at %s", e->window_text,
		       pl->stamp_tag, e->name, when);
	else if (pl->verdict == PROMOTE_HELD)
		pl_log(pl, "a hold came during the build: pushing %s only; :%s moves once released",
		       pl->stamp_tag, e->name);
	else if (e->window && e->tz && !window_is_open(e->window, e->tz, in.now_ms))
		pl_log(pl,
		       "window %s is closed, but this security rebuild fixes %s "
		       "(urgent_advisories): promoting now",
		       e->window_text, pl->fixes);
}

/* Ends the current environment's build row with status and (for failures) error. */
void pl_env_finish(struct pipeline *pl, const char *status, const char *error)
{
	struct store_build b = {.status = status, .finished_at = wallclock_ms(), .error = error};
	char tags[512], log_error[300];

	if (!strcmp(status, "succeeded")) {
		if (pl->wait)
			snprintf(tags, sizeof(tags), "%s", pl->stamp_tag);
		else
			snprintf(tags, sizeof(tags), "%s,%s", pl_env(pl)->name, pl->stamp_tag);
		b.tags = tags;
		b.digest = pl->digest;
		pl->passed[pl->env] = true;
		if (!pl->base_digest[0] &&
		    pl->base_name[0]) { /* the first build raced the first poll */
			pl_find_base(pl);
			b.base_digest = pl->base_digest[0] ? pl->base_digest : NULL;
		}
	} else if (strcmp(status, "skipped")) {
		pl->failures++;
	}
	if (error)
		pl_log(pl, "%s: %s", status, error);
	else
		pl_log(pl, "%s", status);
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
	log_info("project %s (%s): build %lld %s%s%s", pl->p->name, pl_env(pl)->name,
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

void pl_env_fail(struct pipeline *pl, const char *error)
{
	pl_env_finish(pl, "failed", error);
	pl_advance(pl);
}

/* The builder this rebuild runs with: the engine's (BuildKit, classic, Podman's own). */
const char *pl_builder(const struct engine *e)
{
	const char *b = engine_info(e)->builder;

	return b ? b : "classic";
}

/* The same, as the Dockerfile verdicts (and refitctl lint --builder) know builders. */
enum dockerfile_builder pl_dockerfile_builder(const struct engine *e)
{
	const struct engine_info *i = engine_info(e);
	const char *b = pl_builder(e);

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
	                        .env = pl_env(pl)->name,
	                        .trigger = pl->trigger,
	                        .status = "running",
	                        .queued_at = wallclock_ms(),
	                        .started_at = wallclock_ms(),
	                        .engine = engine_info(pl->d.engine)->host,
	                        .builder = pl_builder(pl->d.engine)};
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
	if (followed_of(pl->d.store, pl->p, pl_env(pl), pl->d.platform, &pl->follow) < 0 ||
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
	pl_log(pl, "rebuild of %s, environment %s (trigger %s)", pl->p->name, pl_env(pl)->name,
	       pl->trigger);
	return 0;
}

static bool requirement_met(const struct pipeline *pl)
{
	const struct config_env *e = pl_env(pl);

	if (!e->requires)
		return true;
	for (size_t i = 0; i < pl->env; i++)
		if (!strcmp(pl->p->envs[i].name, e->requires))
			return pl->passed[i];
	return false;
}

/* The final stage's base and the digest refit recorded for it. */
void pl_find_base(struct pipeline *pl)
{
	char err[256];
	struct store_base b;

	pl->base_name[0] = '\0';
	if (bases_final(pl->p, pl_env(pl), pl->d.platform, pl->base_name, sizeof(pl->base_name),
	                err, sizeof(err)) < 0)
		return;
	if (pl->follow.ref[0] && !strcmp(pl->base_name, pl->follow.own_ref))
		snprintf(pl->base_name, sizeof(pl->base_name), "%s", pl->follow.ref);
	if (store_base_get(pl->d.store, pl->base_name, pl->d.platform, &b) == 0)
		snprintf(pl->base_digest, sizeof(pl->base_digest), "%s", b.digest);
}

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

	if (store_hold_get(pl->d.store, pl->p->name, pl_env(pl)->name, why, sizeof(why), NULL) < 0)
		return false;
	snprintf(pl->error, sizeof(pl->error),
	         "held (%s): not rebuilt until `refitctl release %s %s`", why, pl->p->name,
	         pl_env(pl)->name);
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
	         pl_env(pl)->name, why ? why : strerror(-r));
	log_err("project %s: %s", pl->p->name, pl->error);
	pl->not_recorded = true;
	pl->failures++;
	pl->env = pl->p->n_envs;
	pl->step = S_DONE;
	finish(pl);
}

/* Runs steps until one is in flight (or the rebuild is over). */
void pl_advance(struct pipeline *pl)
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
				pl_env_finish(pl, "skipped", pl->error);
				continue;
			}
			if (!requirement_met(pl)) {
				snprintf(pl->error, sizeof(pl->error),
				         "not promoted: %s did not pass in this rebuild",
				         pl_env(pl)->requires);
				pl_env_finish(pl, "skipped", pl->error);
				continue;
			}
			pl->step = S_SESSION;
		}
		if (pl->step == S_ENV_DONE) {
			pl_env_finish(pl, "succeeded", NULL);
			continue;
		}
		r = pl_run_step(pl);
		if (r == 1) {
			pl->step++;
			continue;
		}
		if (r < 0) {
			snprintf(pl->error, sizeof(pl->error), "cannot talk to the engine: %s",
			         strerror(-r));
			pl_env_fail(pl, pl->error);
		}
		return;
	}
}

/* Every environment fails with the same reason (context or credentials problems). */
void pl_fail_all(struct pipeline *pl, const char *why)
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
		pl_log(pl, "%s", why);
		pl_env_finish(pl, "failed", why);
	}
	finish(pl);
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
	r = pl_prepare_start(pl);
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
	pl_prepare_cancel(pl);
	pl_build_cancel(pl);
	if (pl->ctx_job) {
		pl->cancelled = true; /* freed when the archiving thread is done */
		return;
	}
	pl_free(pl);
}
