#include "evidence.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "config.h"
#include "cosign.h"
#include "provenance.h"
#include "sbom.h"
#include "sign.h"
#include "store_evidence.h"
#include "vex.h"
#include "wallclock.h"

struct evidence_step {
	struct sign_key *key;
	struct evidence_push *push;
	evidence_step_cb cb;
	void *arg;
};

int evidence_docs_add(struct evidence_docs *d, const char *predicate_type, const char *json,
                      size_t len)
{
	char *t, *j;

	if (ARRAY_GROW(d->atts, d->cap, d->n, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	t = strdup(predicate_type);
	j = malloc(len + 1);
	if (!t || !j) {
		free(t);
		free(j);
		return -ENOMEM;
	}
	memcpy(j, json, len);
	j[len] = '\0';
	d->atts[d->n].predicate_type = t;
	d->atts[d->n].json = j;
	d->atts[d->n++].len = len;
	return 0;
}

void evidence_docs_done(struct evidence_docs *d)
{
	for (size_t i = 0; d && i < d->n; i++) {
		free((void *)(uintptr_t)d->atts[i].predicate_type);
		free((void *)(uintptr_t)d->atts[i].json);
	}
	if (d) {
		free(d->atts);
		*d = (struct evidence_docs){0};
	}
}

/* refit's own record of why and from what the image was rebuilt. */
static int rebuild_record(const struct evidence_build *b, struct evidence_docs *d)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:I}", "project", b->project, "environment",
	                      b->env, "trigger", b->trigger, "reasons", b->reasons, "fixes",
	                      b->fixes, "build_id", (json_int_t)b->build_id);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int r = s ? evidence_docs_add(d, EVIDENCE_REBUILD_TYPE, s, strlen(s)) : -ENOMEM;

	free(s);
	json_decref(o);
	return r;
}

/* Adds document o (stolen; NULL is out of memory) as an attestation of type. */
static int add_doc(struct evidence_docs *d, const char *type, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int r = s ? evidence_docs_add(d, type, s, strlen(s)) : -ENOMEM;

	free(s);
	json_decref(o);
	return r;
}

/*
 * The SBOM (SPDX, CycloneDX), provenance and VEX of the build, from the store
 * (store_evidence.h) as GET /v1/builds/ID/... serves them, about the image just
 * pushed: the build row has no digest and no end yet at this step.
 */
static int documents(const struct evidence_build *b, struct evidence_docs *d)
{
	struct store_evidence *e = NULL;
	struct evdoc_build *eb;
	char repo[1024];
	json_t *vex = NULL;
	int r = store_evidence_load(b->store, b->build_id, STORE_EVIDENCE_PKGS, &e);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	eb = store_evidence_build(e);
	snprintf(repo, sizeof(repo), "%s/%s", b->domain, b->path);
	eb->repository = repo;
	eb->digest = b->digest;
	if (!eb->finished_at)
		eb->finished_at = wallclock_ms();
	if (eb->have_inventory)
		r = add_doc(d, "https://spdx.dev/Document", sbom_spdx(eb));
	if (r == 0 && eb->have_inventory)
		r = add_doc(d, "https://cyclonedx.org/bom", sbom_cyclonedx(eb));
	if (r == 0)
		r = add_doc(d, PROVENANCE_PREDICATE_TYPE, provenance_statement(eb));
	if (r == 0 && vex_document(eb, &vex) == 0)
		r = add_doc(d, "https://openvex.dev/ns", vex);
	store_evidence_free(e);
	return r;
}

int evidence_docs_collect(const struct evidence_build *b, struct evidence_docs *d)
{
	int r = rebuild_record(b, d);

	return r < 0 || !b->store ? r : documents(b, d);
}

bool evidence_enabled(const struct config *cfg)
{
	return cfg->signing.key_file != NULL;
}

static void step_free(struct evidence_step *s)
{
	sign_key_free(s->key);
	free(s);
}

static void pushed(int status, const struct evidence_result *r, void *arg)
{
	struct evidence_step *s = arg;

	s->push = NULL;
	s->cb(status, r, s->arg);
	step_free(s);
}

int evidence_step_start(uv_loop_t *loop, struct registry_pool *registries, const struct config *cfg,
                        const struct evidence_build *b, FILE *log, evidence_step_cb cb, void *arg,
                        struct evidence_step **ret, char *err, size_t errlen)
{
	struct evidence_step *s = calloc(1, sizeof(*s));
	struct evidence_docs docs = {0};
	char path[4096];
	int r;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cb = cb;
	s->arg = arg;
	r = config_resolve_path(cfg->signing.key_file, path, sizeof(path));
	if (r < 0)
		snprintf(err, errlen, "signing key_file: path too long");
	else
		r = sign_key_load(path, &s->key, err, errlen);
	if (r == 0 && (r = evidence_docs_collect(b, &docs)) < 0)
		snprintf(err, errlen, "cannot collect the attestations: %s", strerror(-r));
	if (r == 0) {
		struct evidence_push_opts o = {.registries = registries,
		                               .key = s->key,
		                               .domain = b->domain,
		                               .name = b->path,
		                               .digest = b->digest,
		                               .atts = docs.atts,
		                               .n_atts = docs.n,
		                               .log = log};
		r = evidence_push_start(loop, &o, pushed, s, &s->push);
		if (r < 0)
			snprintf(err, errlen, "cannot start the push: %s", strerror(-r));
	}
	evidence_docs_done(&docs);
	if (r < 0) {
		step_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void evidence_step_cancel(struct evidence_step *s)
{
	if (!s)
		return;
	evidence_push_cancel(s->push);
	step_free(s);
}
