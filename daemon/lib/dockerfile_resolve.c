/*
 * dockerfile_resolve — build args, target and platform applied to a parsed
 * Dockerfile, the way BuildKit's dockerfile2llb does before it resolves
 * images: global ARGs, FROM substitution, stage references, the stages a
 * target needs, and each stage's ENV/ARG scope up to its USER.
 *
 * The result lives in its own arena; the scratch state (variable scopes)
 * is malloc'd and dropped before returning.
 */
#include "dockerfile.h"

#include "arena.h"
#include "array.h"
#include "dfsyntax.h"
#include "dockerfile_impl.h"
#include "shellword.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOLVE_ARENA_MAX (64u * 1024 * 1024)
#define ENV_MAX           4096 /* variables in one scope */

struct kv {
	const char *key, *value;
};

struct env {
	struct kv *v;
	size_t n, cap;
};

struct scope { /* a stage's variables: ENV wins over ARG */
	const struct env *env, *args;
};

struct resolved {
	struct dockerfile_resolved pub;
	struct arena *a;
};

struct resolver {
	const struct dockerfile *df;
	const struct dockerfile_opts *o;
	struct arena *a;
	struct env global;
	struct env *stage_env; /* per stage: its ENV at its end, for child stages */
	struct dockerfile_stage *stages;
	bool *needed;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 4, 5))) static int fail(struct resolver *r, int line, int rc,
                                                      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(r->err, r->errlen, "line %d: %s", line, msg);
	else
		snprintf(r->err, r->errlen, "%s", msg);
	return rc;
}

/* ---- variable scopes ---- */

static const char *env_get(const struct env *e, const char *key, size_t len)
{
	for (size_t i = e->n; e->v && i-- > 0;)
		if (strlen(e->v[i].key) == len && !memcmp(e->v[i].key, key, len))
			return e->v[i].value;
	return NULL;
}

static void env_del(struct env *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].key, key)) {
			memmove(&e->v[i], &e->v[i + 1], (e->n - i - 1) * sizeof(*e->v));
			e->n--;
			return;
		}
}

/* Sets key (replacing it); key and value must outlive the scope. */
static int env_set(struct env *e, const char *key, const char *value)
{
	int r;

	env_del(e, key);
	if ((r = ARRAY_GROW(e->v, e->cap, e->n, ENV_MAX)) < 0)
		return r;
	e->v[e->n++] = (struct kv){key, value};
	return 0;
}

static int env_copy(struct env *dst, const struct env *src)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < src->n; i++)
		rc = env_set(dst, src->v[i].key, src->v[i].value);
	return rc;
}

static const char *env_lookup(const char *name, size_t len, void *arg)
{
	return env_get(arg, name, len);
}

static const char *scope_lookup(const char *name, size_t len, void *arg)
{
	const struct scope *s = arg;
	const char *v = env_get(s->env, name, len);

	return v ? v : env_get(s->args, name, len);
}

/* Expands word with lookup/arg into the arena; *ret_unset counts plain
 * references ($V, ${V}) to unset variables. A failure's message is left in
 * r->err. */
static int expand(struct resolver *r, const char *word, shellword_lookup_cb lookup, void *arg,
                  const char **ret, unsigned *ret_unset)
{
	struct shellword_opts o = {.escape = r->df->syn->escape, .lookup = lookup, .arg = arg};
	struct shellword_result res;
	int rc = shellword_expand(word, strlen(word), &o, &res, r->err, r->errlen);

	if (rc)
		return rc;
	*ret = arena_strndup(r->a, res.word, strlen(res.word));
	if (ret_unset)
		*ret_unset = res.unset_bare;
	shellword_result_done(&res);
	return *ret ? 0 : -ENOMEM;
}

static const char *build_arg(const struct dockerfile_opts *o, const char *key)
{
	const char *found = NULL;
	size_t len = strlen(key);

	for (size_t i = 0; o->build_args && o->build_args[i] && i < DOCKERFILE_MAX_ARGS; i++)
		if (!strncmp(o->build_args[i], key, len) && o->build_args[i][len] == '=')
			found = o->build_args[i] + len + 1; /* the last one wins */
	return found;
}

/* ---- platform and global ARGs ---- */

/* "os/arch[/variant]" or a lone "os" or "arch"; stores the 4 values. */
static int platform_split(struct resolver *r, const char *p, const char *v[4])
{
	static const char oses[] = "linux\0windows\0darwin\0freebsd\0netbsd\0openbsd\0illumos\0"
	                           "solaris\0aix\0";
	char *s = arena_strndup(r->a, p, strlen(p)), *parts[3] = {0};
	size_t n = 0, slashes = 0;

	if (!s)
		return -ENOMEM;
	for (const char *c = p; *c; c++)
		slashes += *c == '/';
	if (slashes > 2)
		return fail(r, 0, -EINVAL, "invalid platform \"%s\"", p);
	for (char *c = s; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *tok = s, *slash; n < 3 && tok; tok = slash ? slash + 1 : NULL, n++) {
		slash = strchr(tok, '/');
		if (slash)
			*slash = '\0';
		parts[n] = tok;
		if (!*tok || strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(tok))
			return fail(r, 0, -EINVAL, "invalid platform \"%s\"", p);
	}
	bool os_only = false;
	for (const char *q = oses; n == 1 && *q; q += strlen(q) + 1)
		os_only |= !strcmp(q, parts[0]);
	v[1] = n == 1 ? (os_only ? parts[0] : "linux") : parts[0];
	v[2] = n == 1 ? (os_only ? "amd64" : parts[0]) : parts[1];
	v[3] = n == 3 ? parts[2] : "";
	char full[256];
	snprintf(full, sizeof(full), "%s/%s%s%s", v[1], v[2], *v[3] ? "/" : "", v[3]);
	return (v[0] = arena_strndup(r->a, full, strlen(full))) ? 0 : -ENOMEM;
}

static int global_args(struct resolver *r)
{
	const char *target = r->o->platform ? r->o->platform : "linux/amd64";
	const char *build = r->o->build_platform ? r->o->build_platform : target;
	const char *v[8];
	int rc;

	if ((rc = platform_split(r, target, v)) || (rc = platform_split(r, build, v + 4)))
		return rc;
	for (size_t i = 0; i < 8; i++)
		if ((rc = env_set(&r->global, df_platform_args[i], v[i])))
			return rc;
	for (size_t i = 0; i < r->df->n_meta; i++) {
		const struct df_meta *m = &r->df->meta[i];
		const char *val = build_arg(r->o, m->key);
		if (!val && m->value &&
		    (rc = expand(r, m->value, env_lookup, &r->global, &val, NULL)))
			return fail(r, m->line, rc, "%s", r->err);
		if (val && (rc = env_set(&r->global, m->key, val)))
			return rc;
	}
	return 0;
}

/* ---- stages and what the target needs ---- */

static int find_stage(const struct resolver *r, const char *name, size_t upto)
{
	int found = -1;

	for (size_t j = 0; j < upto; j++)
		if (r->stages[j].name && !strcasecmp(r->stages[j].name, name))
			found = (int)j; /* BuildKit's map: the last one wins */
	return found;
}

static int resolve_stages(struct resolver *r)
{
	int rc;

	for (size_t i = 0; i < r->df->n_stages; i++) {
		const struct df_stage *st = &r->df->stages[i];
		struct dockerfile_stage *out = &r->stages[i];
		out->name = st->name;
		out->raw_base = st->raw_base;
		out->line = st->line;
		unsigned unset = 0;
		if ((rc = expand(r, st->raw_base, env_lookup, &r->global, &out->base, &unset)))
			return fail(r, st->line, rc, "%s", r->err);
		out->base_unset = unset > 0;
		if (!*out->base)
			return fail(r, st->line, -EINVAL, "base name (%s) should not be blank",
			            st->raw_base);
		if (st->raw_platform && (rc = expand(r, st->raw_platform, env_lookup, &r->global,
		                                     &out->platform, NULL)))
			return fail(r, st->line, rc, "%s", r->err);
		if (st->raw_platform && !*out->platform)
			return fail(r, st->line, -EINVAL,
			            "failed to parse platform %s: empty platform",
			            st->raw_platform);
		out->base_stage = find_stage(r, out->base, i);
	}
	return 0;
}

/* strconv.Atoi would take it: an optional sign, then digits. */
static bool is_int(const char *s)
{
	s += *s == '+' || *s == '-';
	return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 18;
}

/* The stage a COPY --from / mount from= names: >= 0, -1 for an image, -2
 * for scratch, or an error (invalid index). */
static int dep_stage(struct resolver *r, const struct df_dep *d, int *ret)
{
	const char *s = d->from;

	if (is_int(s)) {
		long idx = strtol(s, NULL, 10);
		if (idx < 0 || (size_t)idx >= r->df->n_stages)
			return fail(r, d->line, -EINVAL, "invalid stage index %ld", idx);
		*ret = (int)idx;
		return 0;
	}
	*ret = find_stage(r, s, r->df->n_stages);
	if (*ret < 0 && !strcmp(s, "scratch"))
		*ret = -2;
	return 0;
}

static int target_stage(struct resolver *r, size_t *ret)
{
	const char *t = r->o->target;
	int found;

	if (!t || !*t) {
		*ret = r->df->n_stages - 1;
		return 0;
	}
	if ((found = find_stage(r, t, r->df->n_stages)) < 0)
		return fail(r, 0, -EINVAL, "target stage \"%s\" could not be found", t);
	*ret = (size_t)found;
	return 0;
}

/* Depth-first walk from stage i over FROM and COPY/mount edges: marks
 * needed[], and fails on a cycle (state: 0 new, 1 on the path, 2 done). */
static int visit(struct resolver *r, const int *dep_of, unsigned char *state, size_t i,
                 unsigned depth)
{
	int rc = 0;

	if (state[i] == 2)
		return 0;
	if (state[i] == 1 || depth > DOCKERFILE_MAX_STAGES)
		return fail(r, r->stages[i].line, -EINVAL,
		            "circular dependency detected on stage: %s",
		            r->stages[i].name ? r->stages[i].name : "(unnamed)");
	state[i] = 1;
	if (r->stages[i].base_stage >= 0)
		rc = visit(r, dep_of, state, (size_t)r->stages[i].base_stage, depth + 1);
	for (size_t k = 0; !rc && k < r->df->n_deps; k++)
		if (r->df->deps[k].stage == (int)i && dep_of[k] >= 0)
			rc = visit(r, dep_of, state, (size_t)dep_of[k], depth + 1);
	state[i] = 2;
	return rc;
}

static int graph(struct resolver *r, int *dep_of, size_t target)
{
	unsigned char *state = calloc(r->df->n_stages, 1);
	int rc = 0;

	if (!state)
		return -ENOMEM;
	for (size_t k = 0; !rc && k < r->df->n_deps; k++)
		rc = dep_stage(r, &r->df->deps[k], &dep_of[k]);
	for (size_t i = 0; !rc && i < r->df->n_stages; i++)
		rc = visit(r, dep_of, state, i, 0);
	bool all = !(r->o->target && *r->o->target) && !r->o->last_stage;
	memset(state, 0, r->df->n_stages);
	if (!rc)
		rc = visit(r, dep_of, state, target, 0);
	for (size_t i = 0; !rc && i < r->df->n_stages; i++)
		r->stages[i].needed = r->needed[i] = all || state[i] == 2;
	free(state);
	return rc;
}

/* ---- ENV, ARG and USER inside stages ---- */

static int arg_scope(struct resolver *r, const struct dfsyntax_node *n, struct env *args,
                     struct scope *sc)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < n->n_args; i++) {
		const char *eq = strchr(n->args[i], '='), *v;
		size_t klen = eq ? (size_t)(eq - n->args[i]) : strlen(n->args[i]);
		const char *key = arena_strndup(r->a, n->args[i], klen);
		if (!key)
			return -ENOMEM;
		v = build_arg(r->o, key);
		if (!v && eq && (rc = expand(r, eq + 1, scope_lookup, sc, &v, NULL)))
			v = NULL; /* cannot know: treat as unset */
		if (!v && !eq)
			v = env_get(&r->global, key, klen);
		rc = rc == -ENOMEM ? rc : v ? env_set(args, key, v) : (env_del(args, key), 0);
	}
	return rc;
}

/* ENV k=v...: every pair expands against the variables before the line; a
 * pair that does not expand (a ${V:?} of the base image's V) becomes unknown. */
static int env_scope(struct resolver *r, const struct dfsyntax_node *n, struct env *env,
                     struct scope *sc)
{
	size_t pairs = n->n_args / 3;
	const char **kv = calloc(2 * pairs + 1, sizeof(*kv));
	int rc = 0;

	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < pairs; i++) {
		const char **k = &kv[2 * i], **v = &kv[2 * i + 1];
		rc = expand(r, n->args[3 * i], scope_lookup, sc, k, NULL);
		if (!rc)
			rc = expand(r, n->args[3 * i + 1], scope_lookup, sc, v, NULL);
		if (rc == -ENOMEM)
			goto out;
		if (rc) {
			*v = NULL;
			if (!*k)
				*k = n->args[3 * i];
		}
	}
	rc = 0;
	for (size_t i = 0; !rc && i < pairs; i++)
		rc = kv[2 * i + 1] ? env_set(env, kv[2 * i], kv[2 * i + 1])
		                   : (env_del(env, kv[2 * i]), 0);
out:
	free(kv);
	return rc;
}

static int user_scope(struct resolver *r, const struct dfsyntax_node *n,
                      struct dockerfile_stage *out, struct scope *sc)
{
	unsigned unset = 0;
	int rc = expand(r, n->args[0], scope_lookup, sc, &out->user, &unset);

	if (rc == -ENOMEM)
		return rc;
	out->user_unresolved = rc || unset;
	if (out->user_unresolved)
		out->user = n->args[0];
	out->user_line = n->start_line;
	return 0;
}

static int stage_scope(struct resolver *r, size_t i)
{
	const struct df_stage *st = &r->df->stages[i];
	struct dockerfile_stage *out = &r->stages[i];
	struct env env = {0}, args = {0};
	struct scope sc = {&env, &args};
	int rc = 0;

	if (out->base_stage >= 0)
		rc = env_copy(&env, &r->stage_env[out->base_stage]);
	for (size_t k = st->first; !rc && k < st->end; k++) {
		const struct dfsyntax_node *n = &r->df->syn->nodes[k];
		if (!strcmp(n->keyword, "arg"))
			rc = arg_scope(r, n, &args, &sc);
		else if (!strcmp(n->keyword, "env"))
			rc = env_scope(r, n, &env, &sc);
		else if (!strcmp(n->keyword, "user"))
			rc = user_scope(r, n, out, &sc);
	}
	if (!out->user_line && out->base_stage >= 0) {
		const struct dockerfile_stage *b = &r->stages[out->base_stage];
		out->user = b->user;
		out->user_line = b->user_line;
		out->user_unresolved = b->user_unresolved;
	}
	free(args.v);
	r->stage_env[i] = env;
	return rc == -E2BIG ? fail(r, st->line, rc, "more than %d variables in a stage", ENV_MAX)
	                    : rc;
}

/* ---- the result ---- */

static bool listed(const struct dockerfile_base *v, size_t n, const char *image)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].image, image))
			return true;
	return false;
}

static int collect(struct resolver *r, const int *dep_of, struct dockerfile_resolved *out)
{
	struct dockerfile_base *bases = arena_alloc(r->a, (r->df->n_stages + 1) * sizeof(*bases));
	struct dockerfile_base *deps = arena_alloc(r->a, (r->df->n_deps + 1) * sizeof(*deps));

	if (!bases || !deps)
		return -ENOMEM;
	for (size_t i = 0; i < r->df->n_stages; i++) {
		const struct dockerfile_stage *st = &r->stages[i];
		if (!st->needed || st->base_stage >= 0 || !strcmp(st->base, "scratch") ||
		    listed(bases, out->n_bases, st->base))
			continue;
		bases[out->n_bases++] =
		        (struct dockerfile_base){st->base,      st->line,     (int)i,
		                                 st->name,      st->platform, DOCKERFILE_BASE_FROM,
		                                 st->base_unset};
	}
	for (size_t k = 0; k < r->df->n_deps; k++) {
		const struct df_dep *d = &r->df->deps[k];
		if (!r->needed[d->stage] || dep_of[k] != -1 || listed(deps, out->n_deps, d->from))
			continue;
		deps[out->n_deps++] = (struct dockerfile_base){
		        d->from, d->line, d->stage, r->stages[d->stage].name, NULL, d->kind, false};
	}
	out->bases = bases;
	out->deps = deps;
	out->stages = r->stages;
	out->n_stages = r->df->n_stages;
	return 0;
}

static int resolve(struct resolver *r, struct dockerfile_resolved *out)
{
	int *dep_of = calloc(r->df->n_deps + 1, sizeof(*dep_of));
	int rc = -ENOMEM;

	r->stages = arena_alloc(r->a, r->df->n_stages * sizeof(*r->stages));
	r->needed = calloc(r->df->n_stages, sizeof(*r->needed));
	r->stage_env = calloc(r->df->n_stages, sizeof(*r->stage_env));
	if (dep_of && r->stages && r->needed && r->stage_env && !(rc = global_args(r)) &&
	    !(rc = resolve_stages(r)) && !(rc = target_stage(r, &out->target)) &&
	    !(rc = graph(r, dep_of, out->target))) {
		for (size_t i = 0; !rc && i < r->df->n_stages; i++)
			rc = stage_scope(r, i);
		if (!rc)
			rc = collect(r, dep_of, out);
	}
	for (size_t i = 0; r->stage_env && i < r->df->n_stages; i++)
		free(r->stage_env[i].v);
	free(r->stage_env);
	free(r->needed);
	free(r->global.v);
	free(dep_of);
	return rc;
}

int dockerfile_resolve(const struct dockerfile *df, const struct dockerfile_opts *o,
                       struct dockerfile_resolved **ret, char *err, size_t errlen)
{
	static const struct dockerfile_opts none;
	char dummy[8];
	struct resolver r = {.df = df, .o = o ? o : &none, .err = err, .errlen = errlen};
	struct resolved *res = calloc(1, sizeof(*res));
	int rc = -ENOMEM;

	if (!err || !errlen) {
		r.err = dummy;
		r.errlen = sizeof(dummy);
	}
	if (res && (res->a = r.a = arena_new(RESOLVE_ARENA_MAX)))
		rc = resolve(&r, &res->pub);
	if (rc == -ENOMEM)
		snprintf(r.err, r.errlen, "out of memory");
	if (rc) {
		dockerfile_resolved_free(res ? &res->pub : NULL);
		return rc;
	}
	*ret = &res->pub;
	return 0;
}

void dockerfile_resolved_free(struct dockerfile_resolved *r)
{
	if (!r)
		return;
	struct resolved *res = (struct resolved *)((char *)r - offsetof(struct resolved, pub));
	arena_free(res->a);
	free(res);
}
