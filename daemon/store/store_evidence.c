/*
 * store_evidence — the store's side of the evidence documents (see
 * store_evdoc.h). Every string is copied into one arena owned by the
 * loaded struct, so a document renders from it after the statements are
 * gone.
 */
#include "store_evidence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "arena.h"
#include "array.h"
#include "pkgdiff.h"
#include "store_feed.h"
#include "store_impl.h"

#define ARENA_MAX (1u << 30) /* a 200,000-package inventory is far below */

struct store_evidence {
	struct evdoc_build b;
	struct arena *a;
	bool pruned;
	struct evdoc_pkg *pkgs, *prev_pkgs;
	struct evdoc_advisory *adv;
	struct evdoc_kv *args;
	const char **secret;
	struct evdoc_base *bases;
	size_t cap_pkgs, cap_prev, cap_adv;
};

/* A copy of a text column in the arena; NULL for SQL NULL. *oom set on failure. */
static const char *col(struct store_evidence *e, sqlite3_stmt *st, int i, bool *oom)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	char *c;

	if (!v)
		return NULL;
	c = arena_strndup(e->a, v, (size_t)sqlite3_column_bytes(st, i));
	if (!c)
		*oom = true;
	return c;
}

static const char *dup(struct store_evidence *e, const char *v, bool *oom)
{
	char *c;

	if (!v)
		return NULL;
	c = arena_strndup(e->a, v, strlen(v));
	if (!c)
		*oom = true;
	return c;
}

static uint64_t u64(sqlite3_stmt *st, int i)
{
	return (uint64_t)sqlite3_column_int64(st, i);
}

/* Prepares sql with build_id as ?1 (and text as ?2 when given). */
static int prep(struct store *s, const char *sql, int64_t id, const char *text, sqlite3_stmt **st)
{
	int r = store_prepare(s, sql, st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(*st, 1, id);
	if (text)
		sqlite3_bind_text(*st, 2, text, -1, SQLITE_TRANSIENT);
	return 0;
}

static int build_row(sqlite3_stmt *st, void *arg)
{
	struct store_evidence *e = arg;
	struct evdoc_build *b = &e->b;
	bool oom = false;

	b->project = col(e, st, 0, &oom);
	b->env = col(e, st, 1, &oom);
	b->trigger = col(e, st, 2, &oom);
	b->reasons = col(e, st, 3, &oom);
	b->status = col(e, st, 4, &oom);
	b->queued_at = u64(st, 5);
	b->started_at = u64(st, 6);
	b->finished_at = u64(st, 7);
	b->engine = col(e, st, 8, &oom);
	b->image_id = col(e, st, 9, &oom);
	b->digest = col(e, st, 10, &oom);
	b->base_name = col(e, st, 11, &oom);
	b->base_digest = col(e, st, 12, &oom);
	b->tags = col(e, st, 13, &oom);
	e->pruned = sqlite3_column_type(st, 14) != SQLITE_NULL;
	b->builder = col(e, st, 15, &oom);
	return oom ? -ENOMEM : 1;
}

static int load_build(struct store *s, struct store_evidence *e, int64_t id)
{
	sqlite3_stmt *st;
	int r = prep(s,
	             "SELECT project, env, trigger, reasons, status, queued_at, started_at,"
	             " finished_at, engine, image_id, digest, base_name, base_digest, tags,"
	             " pruned_at, builder FROM builds WHERE id = ?1",
	             id, NULL, &st);

	if (r < 0)
		return r;
	r = store_walk(s, st, build_row, e);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

struct pkg_list {
	struct store_evidence *e;
	struct evdoc_pkg **v;
	size_t *n, *cap;
};

static int pkg_row(sqlite3_stmt *st, void *arg)
{
	struct pkg_list *l = arg;
	struct evdoc_pkg *p;
	bool oom = false;

	if (array_grow(l->v, l->cap, *l->n, sizeof(**l->v), ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	p = &(*l->v)[(*l->n)++];
	p->ecosystem = col(l->e, st, 0, &oom);
	p->name = col(l->e, st, 1, &oom);
	p->version = col(l->e, st, 2, &oom);
	p->source = col(l->e, st, 3, &oom);
	p->source_version = col(l->e, st, 4, &oom);
	p->arch = col(l->e, st, 5, &oom);
	p->license = col(l->e, st, 6, &oom);
	return oom || !p->name || !p->version ? (oom ? -ENOMEM : -EIO) : 0;
}

static int load_pkgs(struct store *s, struct store_evidence *e, int64_t id, struct pkg_list *l)
{
	sqlite3_stmt *st;
	int r = prep(s,
	             "SELECT ecosystem, name, version, source, source_version, arch, license"
	             " FROM inventory_pkgs WHERE build_id = ?1 ORDER BY rowid",
	             id, NULL, &st);

	(void)e;
	return r < 0 ? r : store_walk(s, st, pkg_row, l);
}

static int inventory_row(sqlite3_stmt *st, void *arg)
{
	struct store_evidence *e = arg;
	bool oom = false;

	e->b.have_inventory = true;
	e->b.os_id = col(e, st, 0, &oom);
	e->b.os_version = col(e, st, 1, &oom);
	e->b.ecosystem = col(e, st, 2, &oom);
	e->b.inventory_at = u64(st, 3);
	e->b.inventory_error = col(e, st, 4, &oom);
	return oom ? -ENOMEM : 0;
}

static int load_inventory(struct store *s, struct store_evidence *e, int64_t id, bool pkgs)
{
	struct pkg_list l = {e, &e->pkgs, &e->b.n_pkgs, &e->cap_pkgs};
	sqlite3_stmt *st;
	int r = prep(s,
	             "SELECT os_id, os_version, ecosystem, read_at, error FROM inventories"
	             " WHERE build_id = ?1",
	             id, NULL, &st);

	if (r == 0)
		r = store_walk(s, st, inventory_row, e);
	if (r == 0 && e->b.have_inventory && pkgs)
		r = load_pkgs(s, e, id, &l);
	e->b.pkgs = e->pkgs;
	return r;
}

static int adv_row(sqlite3_stmt *st, void *arg)
{
	struct store_evidence *e = arg;
	struct evdoc_advisory *a;
	bool oom = false;

	if (ARRAY_GROW(e->adv, e->cap_adv, e->b.n_advisories, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	a = &e->adv[e->b.n_advisories++];
	a->id = col(e, st, 0, &oom);
	a->package = col(e, st, 1, &oom);
	a->ecosystem = col(e, st, 2, &oom);
	a->installed = col(e, st, 3, &oom);
	a->fixed = col(e, st, 4, &oom);
	a->state = col(e, st, 5, &oom);
	return oom ? -ENOMEM : 0;
}

static int load_advisories(struct store *s, struct store_evidence *e, int64_t id)
{
	sqlite3_stmt *st;
	int r = prep(s,
	             "SELECT advisory, package, ecosystem, installed, fixed, state"
	             " FROM build_advisories WHERE build_id = ?1 ORDER BY advisory, state, package",
	             id, NULL, &st);

	if (r == 0)
		r = store_walk(s, st, adv_row, e);
	e->b.advisories = e->adv;
	return r;
}

/* One text value of the first row of sql(?1 = id, ?2 = text); NULL when none. */
static int one_text(struct store *s, struct store_evidence *e, const char *sql, int64_t id,
                    const char *text, const char **ret)
{
	sqlite3_stmt *st;
	bool oom = false;
	int rc, r = prep(s, sql, id, text, &st);

	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = col(e, st, 0, &oom);
	else if (rc != SQLITE_DONE)
		r = store_sql_err(s, rc, "evidence");
	sqlite3_finalize(st);
	return oom ? -ENOMEM : r;
}

static int load_previous(struct store *s, struct store_evidence *e, int64_t id, bool pkgs)
{
	struct pkg_list l = {e, &e->prev_pkgs, &e->b.n_prev_pkgs, &e->cap_prev};
	int r = store_previous_inventory_build(s, id, &e->b.prev_id);

	if (r == -ENOENT) {
		e->b.prev_id = 0;
		r = 0;
	} else if (r == 0 && pkgs) {
		r = load_pkgs(s, e, e->b.prev_id, &l);
	}
	e->b.prev_pkgs = e->prev_pkgs;
	if (r == 0)
		r = one_text(
		        s, e,
		        "SELECT p.base_digest FROM builds b JOIN builds p ON p.project = b.project"
		        " AND p.env = b.env AND p.id < b.id AND p.status = 'succeeded'"
		        " WHERE b.id = ?1 ORDER BY p.id DESC LIMIT 1",
		        id, NULL, &e->b.prev_base_digest);
	return r;
}

/* The environment's part of the captured envs JSON: target, build args, bases. */
static int inputs_env(struct store_evidence *e, const char *envs_json)
{
	json_t *all = json_loads(envs_json, 0, NULL), *env = json_object_get(all, e->b.env), *v;
	const char *k;
	size_t i, n = json_object_size(json_object_get(env, "build_args"));
	bool oom = false;

	e->args = calloc(n ? n : 1, sizeof(*e->args));
	e->secret = calloc(json_array_size(json_object_get(env, "secret_args")) + 1,
	                   sizeof(*e->secret));
	e->bases = calloc(json_array_size(json_object_get(env, "bases")) + 1, sizeof(*e->bases));
	if (!e->args || !e->secret || !e->bases) {
		json_decref(all);
		return -ENOMEM;
	}
	e->b.target = dup(e, json_string_value(json_object_get(env, "target")), &oom);
	json_object_foreach(json_object_get(env, "build_args"), k, v)
	{
		e->args[e->b.n_build_args++] =
		        (struct evdoc_kv){dup(e, k, &oom), dup(e, json_string_value(v), &oom)};
	}
	json_array_foreach(json_object_get(env, "secret_args"), i, v)
	{
		if (json_is_string(v))
			e->secret[e->b.n_secret_args++] = dup(e, json_string_value(v), &oom);
	}
	json_array_foreach(json_object_get(env, "bases"), i, v)
	{
		const char *ref = json_string_value(json_object_get(v, "ref"));
		const char *digest = json_string_value(json_object_get(v, "digest"));
		/* captured before the base's first poll: the digest the build recorded */
		if (ref && (!digest || !*digest) && e->b.base_name && !strcmp(ref, e->b.base_name))
			digest = e->b.base_digest;
		if (ref)
			e->bases[e->b.n_bases++] =
			        (struct evdoc_base){dup(e, ref, &oom), dup(e, digest, &oom)};
	}
	e->b.build_args = e->args;
	e->b.secret_args = e->secret;
	e->b.bases = e->bases;
	json_decref(all);
	return oom ? -ENOMEM : 0;
}

static int inputs_row(sqlite3_stmt *st, void *arg)
{
	struct store_evidence *e = arg;
	struct evdoc_build *b = &e->b;
	bool oom = false;

	b->have_inputs = true;
	b->repository = col(e, st, 0, &oom);
	b->refit_version = col(e, st, 1, &oom);
	b->engine_version = col(e, st, 2, &oom);
	b->platform = col(e, st, 3, &oom);
	b->dockerfile = col(e, st, 4, &oom);
	b->dockerfile_digest = col(e, st, 5, &oom);
	b->git_commit = col(e, st, 6, &oom);
	b->git_source = col(e, st, 7, &oom);
	if (oom)
		return -ENOMEM;
	return inputs_env(e, (const char *)sqlite3_column_text(st, 8));
}

static int load_inputs(struct store *s, struct store_evidence *e, int64_t id)
{
	sqlite3_stmt *st;
	int r = prep(s,
	             "SELECT image, refit_version, engine_version, platform, dockerfile,"
	             " dockerfile_digest, git_commit, git_source, envs FROM build_inputs"
	             " WHERE project = ?2 AND after_build < ?1 ORDER BY after_build DESC LIMIT 1",
	             id, e->b.project, &st);

	if (r == 0)
		r = store_walk(s, st, inputs_row, e);
	if (r == 0 && !e->b.engine_version) /* not captured: the engine as it is now */
		r = one_text(s, e, "SELECT engine_version FROM engines WHERE host = ?2", id,
		             e->b.engine ? e->b.engine : "", &e->b.engine_version);
	return r;
}

int store_evidence_load(struct store *s, int64_t build_id, unsigned what,
                        struct store_evidence **ret)
{
	struct store_evidence *e = calloc(1, sizeof(*e));
	int r = -ENOMEM;

	if (!e || !(e->a = arena_new(ARENA_MAX)))
		goto out;
	e->b.id = build_id;
	r = load_build(s, e, build_id);
	if (r == 0)
		r = load_inventory(s, e, build_id, what & STORE_EVIDENCE_PKGS);
	if (r == 0)
		r = load_advisories(s, e, build_id);
	if (r == 0)
		r = load_previous(s, e, build_id, what & STORE_EVIDENCE_PREV);
	if (r == 0)
		r = load_inputs(s, e, build_id);
	if (r == 0) {
		*ret = e;
		e = NULL;
	}
out:
	store_evidence_free(e);
	return r;
}

struct evdoc_build *store_evidence_build(struct store_evidence *e)
{
	return &e->b;
}

bool store_evidence_pruned(const struct store_evidence *e)
{
	return e->pruned;
}

void store_evidence_free(struct store_evidence *e)
{
	if (!e)
		return;
	free(e->pkgs);
	free(e->prev_pkgs);
	free(e->adv);
	free(e->args);
	free(e->secret);
	free(e->bases);
	arena_free(e->a);
	free(e);
}

int store_evidence_changes_json(struct store *s, int64_t build_id, json_t **ret)
{
	struct store_evidence *e;
	json_t *o;
	int r = store_evidence_load(s, build_id, STORE_EVIDENCE_ALL, &e);

	if (r < 0)
		return r;
	if (!e->b.have_inventory || !e->b.prev_id) {
		store_evidence_free(e);
		return -ENODATA;
	}
	o = pkgdiff_json(&e->b);
	store_evidence_free(e);
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

int store_build_inputs_put(struct store *s, const struct store_build_inputs *in)
{
	sqlite3_stmt *st;
	int r = store_prepare(s,
	                      "INSERT OR REPLACE INTO build_inputs(project, after_build, at, image,"
	                      " refit_version, engine, engine_version, platform, dockerfile,"
	                      " dockerfile_digest, git_commit, git_source, envs)"
	                      " VALUES(?1, (SELECT coalesce(max(id), 0) FROM builds),"
	                      " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	                      &st);

	if (r < 0)
		return r;
	store_bind_text(st, 1, in->project);
	store_bind_u64(st, 2, in->at);
	store_bind_text(st, 3, in->image);
	store_bind_text(st, 4, in->refit_version);
	store_bind_text(st, 5, in->engine);
	store_bind_text(st, 6, in->engine_version);
	store_bind_text(st, 7, in->platform);
	store_bind_text(st, 8, in->dockerfile);
	store_bind_text(st, 9, in->dockerfile_digest);
	store_bind_text(st, 10, in->git_commit);
	store_bind_text(st, 11, in->git_source);
	store_bind_text(st, 12, in->envs_json ? in->envs_json : "{}");
	return store_run(s, st);
}
