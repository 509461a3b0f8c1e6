/* pipeline_prepare — before the first environment: credentials, refusals, frontends, the
 * registry headers and the build context (see pipeline_impl.h). */
#include "pipeline_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bases.h"
#include "context.h"
#include "engine.h"
#include "frontend.h"
#include "log.h"

static void check_frontend(struct pipeline *pl);

static void context_done_cb(const struct context_result *r, void *arg)
{
	struct pipeline *pl = arg;

	pl->ctx_job = NULL;
	if (pl->cancelled) {
		pl_free(pl);
		return;
	}
	if (r->status < 0) {
		snprintf(pl->error, sizeof(pl->error), "build context: %s", r->error);
		pl_fail_all(pl, pl->error);
		return;
	}
	if (r->policy->secrets) {
		snprintf(pl->error, sizeof(pl->error),
		         "policy: the build context holds secret-looking files that .dockerignore "
		         "does not exclude:\n%.900s",
		         r->policy->text);
		pl_fail_all(pl, pl->error);
		return;
	}
	if (r->policy->data)
		log_warn("project %s: the build context holds data-looking files: %s", pl->p->name,
		         r->policy->text);
	pl->step = S_ENV;
	pl_advance(pl);
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

	if (!strcmp(pl_builder(pl->d.engine), "podman") && pl->p->n_secrets) {
		n = pl->p->n_secrets;
		r = n > MAX_SECRETS ? -E2BIG : podman_secrets(pl, f, x);
		if (r < 0) {
			snprintf(pl->error, sizeof(pl->error),
			         "cannot pass the secrets to Podman: %s",
			         r == -E2BIG ? "more than 64" : strerror(-r));
			pl_fail_all(pl, pl->error);
			return;
		}
	}
	snprintf(pl->tar, sizeof(pl->tar), "%s/tmp/%s-%lld.tar", pl->d.state_dir, pl->p->name,
	         (long long)pl->started);
	r = context_tar_start(pl->d.loop, pl->p->context,
	                      pl->p->dockerfile[0] == '/' ? NULL : pl->p->dockerfile, x, n, pl->tar,
	                      context_done_cb, pl, &pl->ctx_job);
	if (r < 0) {
		pl->tar[0] = '\0';
		pl_fail_all(pl, "cannot start archiving the build context");
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
		pl_fail_all(pl, "out of memory");
		return;
	}
	start_context(pl);
}

static void frontend_refused(struct pipeline *pl, const char *why)
{
	enum dockerfile_builder b = pl_dockerfile_builder(pl->d.engine);

	snprintf(pl->error, sizeof(pl->error),
	         "the %s builder of engine %s cannot build this Dockerfile: %s: %s",
	         dockerfile_builder_name(b), engine_info(pl->d.engine)->host, pl->frontend_at, why);
	pl_fail_all(pl, pl->error);
}

static void frontend_cb(int status, const char *why, void *arg)
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
	enum dockerfile_builder b = pl_dockerfile_builder(pl->d.engine);
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
		r = frontend_check(pl->d.engine, pl->d.registries, image, frontend_cb, pl,
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
	enum dockerfile_builder b = pl_dockerfile_builder(pl->d.engine);
	char why[512];
	int r = bases_refusal(pl->p, b, why, sizeof(why));

	if (r > 0)
		snprintf(pl->error, sizeof(pl->error),
		         "the %s builder of engine %s cannot build this Dockerfile: %s",
		         dockerfile_builder_name(b), engine_info(pl->d.engine)->host, why);
	else if (r < 0)
		snprintf(pl->error, sizeof(pl->error), "the Dockerfile cannot be used: %s", why);
	if (r != 0) {
		pl_fail_all(pl, pl->error);
		return;
	}
	check_frontend(pl);
}

/* One registry's credentials; the next lookup, or on to the build. */
static void creds_done_cb(int status, const struct creds_entry *e, void *arg)
{
	struct pipeline *pl = arg;
	const char *host = pl->hosts[pl->host_at];

	if (status < 0)
		log_warn("project %s: credentials for %s: %s; going on anonymously", pl->p->name,
		         host, e->error);
	else if (creds_entry_copy(&pl->found[pl->host_at], e) < 0) {
		pl_fail_all(pl, "out of memory");
		return;
	}
	while (++pl->host_at < pl->n_hosts)
		if (creds_lookup(pl->d.creds, pl->hosts[pl->host_at], creds_done_cb, pl) == 0)
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

int pl_prepare_start(struct pipeline *pl)
{
	collect_hosts(pl);
	return creds_lookup(pl->d.creds, pl->hosts[0], creds_done_cb, pl);
}

void pl_prepare_cancel(struct pipeline *pl)
{
	creds_lookup_cancel(pl->d.creds, creds_done_cb, pl);
	frontend_check_cancel(pl->frontend);
	pl->frontend = NULL;
}
