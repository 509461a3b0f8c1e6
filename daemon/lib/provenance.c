/*
 * provenance — the in-toto Statement v1 with a SLSA Provenance v1 predicate
 * of one build (see provenance.h).
 */
#include "provenance.h"

#include <stdio.h>
#include <string.h>

#include "evdoc_impl.h"

#ifndef REFIT_VERSION
#define REFIT_VERSION "0"
#endif

int provenance_reason_advisories(const char *reasons,
                                 void (*cb)(const char *id, size_t n, void *arg), void *arg)
{
	static const char tag[] = "security: ";
	int count = 0;

	for (const char *l = reasons; l && *l;) {
		size_t len = strcspn(l, "\n");
		const char *p = l + sizeof(tag) - 1, *end = l + len;

		if (len > sizeof(tag) - 1 && !strncmp(l, tag, sizeof(tag) - 1)) {
			while (p < end) { /* "ID PKG A -> B (ENV); ID ..." and "; and N more" */
				size_t n = strcspn(p, " ;\n");
				if (n && p + n <= end && strncmp(p, "and", n)) {
					cb(p, n, arg);
					count++;
				}
				p += strcspn(p, ";\n");
				while (p < end && (*p == ';' || *p == ' '))
					p++;
			}
		}
		l += len + (l[len] == '\n');
	}
	return count;
}

struct id_list {
	struct jb *j;
	json_t *a;
};

/* Adds an id once to the list. */
static void add_id(const char *id, size_t n, void *arg)
{
	struct id_list *l = arg;
	size_t i;
	json_t *x;

	json_array_foreach(l->a, i, x)
	{
		if (json_string_length(x) == n && !memcmp(json_string_value(x), id, n))
			return;
	}
	char copy[256]; /* an id named in a reason: user text may be there, UTF-8 or not */

	snprintf(copy, sizeof(copy), "%.*s", (int)n, id);
	jb_push(l->j, l->a, jb_str(copy));
}

/* The reasons as a list, one entry per line. */
static json_t *reason_list(struct jb *j, const char *reasons)
{
	json_t *a = json_array();

	for (const char *l = reasons; l && *l;) {
		size_t n = strcspn(l, "\n");
		char line[2048];

		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if (n)
			jb_push(j, a, jb_str(line));
		l += n + (l[n] == '\n');
	}
	return a;
}

static json_t *trigger_json(struct jb *j, const struct evdoc_build *b)
{
	json_t *t = json_object(), *named = json_array(), *fixed = json_array();

	jb_set_str(j, t, "kind", b->trigger);
	jb_set(j, t, "reasons", reason_list(j, b->reasons));
	if (b->base_name && (!strcmp(b->trigger ? b->trigger : "", "base") ||
	                     (b->prev_base_digest && b->base_digest &&
	                      strcmp(b->prev_base_digest, b->base_digest)))) {
		json_t *base = json_object();
		jb_set_str(j, base, "ref", b->base_name);
		jb_set(j, base, "from",
		       b->prev_base_digest ? jb_str(b->prev_base_digest) : json_null());
		jb_set(j, base, "to", b->base_digest ? jb_str(b->base_digest) : json_null());
		jb_set(j, t, "base", base);
	}
	provenance_reason_advisories(b->reasons, add_id, &(struct id_list){j, named});
	jb_set(j, t, "advisories", named);
	for (size_t i = 0; i < b->n_advisories; i++)
		if (!strcmp(b->advisories[i].state, "fixed"))
			add_id(b->advisories[i].id, strlen(b->advisories[i].id),
			       &(struct id_list){j, fixed});
	jb_set(j, t, "fixed", fixed);
	return t;
}

static json_t *external(struct jb *j, const struct evdoc_build *b)
{
	json_t *o = json_object(), *args = json_object();

	jb_set_str(j, o, "project", b->project);
	jb_set_str(j, o, "environment", b->env);
	jb_set_str(j, o, "target", b->target);
	jb_set_str(j, o, "dockerfile", b->dockerfile);
	jb_set_str(j, o, "source", b->git_source);
	for (size_t i = 0; i < b->n_build_args; i++)
		jb_set(j, args, b->build_args[i].key, jb_str(b->build_args[i].value));
	jb_set(j, o, "buildArgs", args);
	if (b->n_secret_args) {
		json_t *names = json_array();
		for (size_t i = 0; i < b->n_secret_args; i++)
			jb_push(j, names, jb_str(b->secret_args[i]));
		jb_set(j, o, "secretBuildArgs", names);
	}
	jb_set(j, o, "trigger", trigger_json(j, b));
	return o;
}

static void dep_image(struct jb *j, json_t *deps, const char *ref, const char *digest)
{
	const char *hex = evdoc_sha256_hex(digest);
	char uri[1200];
	json_t *o;

	snprintf(uri, sizeof(uri), "docker-image://%s", ref);
	o = json_pack("{s:o,s:o}", "name", jb_str(ref), "uri", jb_str(uri));
	if (hex)
		jb_set(j, o, "digest", json_pack("{s:s}", "sha256", hex));
	jb_push(j, deps, o);
}

static json_t *resolved(struct jb *j, const struct evdoc_build *b)
{
	json_t *deps = json_array();
	const char *hex = evdoc_sha256_hex(b->dockerfile_digest);

	for (size_t i = 0; i < b->n_bases; i++)
		dep_image(j, deps, b->bases[i].ref, b->bases[i].digest);
	if (!b->n_bases && b->base_name)
		dep_image(j, deps, b->base_name, b->base_digest);
	if (hex)
		jb_push(j, deps,
		        json_pack("{s:o,s:{s:s}}", "name",
		                  jb_str(b->dockerfile ? b->dockerfile : "Dockerfile"), "digest",
		                  "sha256", hex));
	if (b->git_commit) {
		json_t *o = json_pack("{s:s,s:{s:o}}", "name", "context", "digest", "gitCommit",
		                      jb_str(b->git_commit));
		if (b->git_source) {
			char uri[1200];
			snprintf(uri, sizeof(uri), "git+%s@%s", b->git_source, b->git_commit);
			jb_set_str(j, o, "uri", uri);
		}
		jb_push(j, deps, o);
	}
	return deps;
}

static json_t *run_details(struct jb *j, const struct evdoc_build *b)
{
	const char *rv = b->refit_version ? b->refit_version : REFIT_VERSION;
	const char *kind = b->builder ? b->builder : "unknown";
	char id[256];
	json_t *ver = json_object(), *meta = json_object();

	snprintf(id, sizeof(id), "urn:refit:builder:refit@%s:%s", rv, kind);
	jb_set_str(j, ver, "refit", rv);
	jb_set_str(j, ver, "builder", kind);
	jb_set_str(j, ver, "engine", b->engine_version);
	jb_set(j, meta, "invocationId",
	       json_sprintf("refit-build-%lld-%s-%s", (long long)b->id, b->project, b->env));
	if (b->started_at)
		jb_set(j, meta, "startedOn", jb_time(b->started_at));
	if (b->finished_at)
		jb_set(j, meta, "finishedOn", jb_time(b->finished_at));
	return json_pack("{s:{s:o,s:o},s:o}", "builder", "id", jb_str(id), "version", ver,
	                 "metadata", meta);
}

static json_t *internal(struct jb *j, const struct evdoc_build *b)
{
	json_t *o = json_object();

	jb_set_str(j, o, "platform", b->platform);
	jb_set_str(j, o, "engine", b->engine);
	jb_set(j, o, "noCache", json_boolean(b->trigger && !strcmp(b->trigger, "security")));
	jb_set(j, o, "buildId", json_integer(b->id));
	if (!b->have_inputs)
		jb_set_str(j, o, "note",
		           "refit captured no inputs for this build: target, build arguments, "
		           "Dockerfile digest and git commit are not known");
	return o;
}

json_t *provenance_statement(const struct evdoc_build *b)
{
	struct jb j = {false};
	const char *hex = evdoc_sha256_hex(b->digest);
	json_t *doc;

	if (!hex)
		hex = evdoc_sha256_hex(b->image_id);
	if (!hex)
		return NULL;
	doc = json_pack("{s:s,s:[{s:o,s:{s:s}}],s:s,s:{s:{s:s,s:o,s:o,s:o},s:o}}", "_type",
	                "https://in-toto.io/Statement/v1", "subject", "name",
	                jb_str(b->repository ? b->repository : b->project), "digest", "sha256", hex,
	                "predicateType", PROVENANCE_PREDICATE_TYPE, "predicate", "buildDefinition",
	                "buildType", PROVENANCE_BUILD_TYPE, "externalParameters", external(&j, b),
	                "internalParameters", internal(&j, b), "resolvedDependencies",
	                resolved(&j, b), "runDetails", run_details(&j, b));
	return jb_done(&j, doc);
}
