/*
 * inputs — the inputs of a rebuild captured before it runs (see
 * inputs.h).
 */
#include "inputs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bases.h"
#include "config.h"
#include "dfsyntax.h"
#include "digest.h"
#include "fileread.h"
#include "followed.h"
#include "labels.h"
#include "lint.h"
#include "log.h"
#include "store.h"
#include "store_evidence.h"
#include "wallclock.h"

#ifndef REFIT_VERSION
#define REFIT_VERSION "0"
#endif

static void dockerfile_digest(const struct config_project *p, char out[DIGEST_STR_MAX])
{
	char path[4096], *buf = NULL;
	size_t n;

	out[0] = '\0';
	if (p->dockerfile[0] == '/')
		snprintf(path, sizeof(path), "%s", p->dockerfile);
	else
		snprintf(path, sizeof(path), "%s/%s", p->context, p->dockerfile);
	if (fileread_small(path, DFSYNTAX_MAX_FILE, &buf, &n, NULL) < 0)
		return;
	if (digest_sha256(buf, n, out) < 0)
		out[0] = '\0';
	free(buf);
}

/* Build arguments (with a followed ARG's value, followed.h): values kept, except those
 * whose names look like secrets. */
static int env_args(struct store *s, const struct config_project *p, const struct config_env *e,
                    const char *platform, json_t *env)
{
	json_t *args = json_object(), *secret = json_array();
	struct followed f;
	int r = followed_of(s, p, e, platform, &f);
	const struct config_kv *all = f.args ? f.args : e->build_args;
	size_t n = f.args ? f.n_args : e->n_build_args;

	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct config_kv *kv = &all[i];
		if (lint_secret_name(kv->key))
			r = json_array_append_new(secret, json_string(kv->key));
		else
			r = json_object_set_new(args, kv->key, json_string(kv->value));
	}
	followed_done(&f);
	r |= json_object_set_new(env, "build_args", args);
	r |= json_object_set_new(env, "secret_args", secret);
	return r ? -ENOMEM : 0;
}

/* The bases env uses, with the digests refit recorded for them. */
static int env_bases(struct store *s, const char *env, const struct base_use *u, size_t n,
                     json_t *o)
{
	json_t *list = json_array();
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		char envs[300], key[80];
		struct store_base b;
		json_t *x;

		snprintf(envs, sizeof(envs), ",%s,", u[i].envs);
		snprintf(key, sizeof(key), ",%s,", env);
		if (!strstr(envs, key))
			continue;
		x = json_pack("{s:s}", "ref", u[i].ref);
		if (x && store_base_get(s, u[i].ref, u[i].platform, &b) == 0 && b.digest[0])
			json_object_set_new(x, "digest", json_string(b.digest));
		r = json_array_append_new(list, x);
	}
	r |= json_object_set_new(o, "bases", list);
	return r ? -ENOMEM : 0;
}

static json_t *envs_json(struct store *s, const struct config_project *p, const char *platform)
{
	struct base_use *uses = NULL;
	size_t n = 0;
	char err[256];
	json_t *all = json_object();
	int r = 0;

	if (bases_of_project(p, platform, &uses, &n, err, sizeof(err)) < 0)
		log_debug("project %s: evidence: bases not known: %s", p->name, err);
	for (size_t i = 0; all && r == 0 && i < p->n_envs; i++) {
		const struct config_env *e = &p->envs[i];
		json_t *o = json_object();

		if (e->target)
			json_object_set_new(o, "target", json_string(e->target));
		r = env_args(s, p, e, platform, o);
		if (r == 0)
			r = env_bases(s, e->name, uses, n, o);
		if (r == 0)
			r = json_object_set_new(all, e->name, o) ? -ENOMEM : 0;
	}
	free(uses);
	if (r < 0) {
		json_decref(all);
		return NULL;
	}
	return all;
}

int inputs_capture(struct store *s, const struct config_project *p, const char *platform,
                   const struct inputs_engine *engine)
{
	char df[DIGEST_STR_MAX], rev[80], src[1024], ver[160];
	json_t *envs = envs_json(s, p, platform);
	char *text = envs ? json_dumps(envs, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct store_build_inputs in = {.project = p->name,
	                                .image = p->image,
	                                .refit_version = REFIT_VERSION,
	                                .engine = engine ? engine->host : NULL,
	                                .platform = platform,
	                                .dockerfile = p->dockerfile,
	                                .envs_json = text,
	                                .at = wallclock_ms()};
	int r;

	json_decref(envs);
	if (!text) {
		log_warn("project %s: evidence: out of memory capturing the inputs", p->name);
		return -ENOMEM;
	}
	dockerfile_digest(p, df);
	in.dockerfile_digest = df[0] ? df : NULL;
	in.git_commit = labels_git_revision(p->context, rev, sizeof(rev)) == 0 ? rev : NULL;
	in.git_source = labels_git_source(p->context, src, sizeof(src)) == 0 ? src : NULL;
	if (engine && engine->version) {
		snprintf(ver, sizeof(ver), "%s %s", engine->podman ? "podman" : "docker",
		         engine->version);
		in.engine_version = ver;
	}
	r = store_build_inputs_put(s, &in);
	free(text);
	if (r < 0)
		log_warn("project %s: evidence: inputs not recorded: %s", p->name, strerror(-r));
	return r;
}
