#include "advisory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "config.h"
#include "log.h"
#include "notify.h"
#include "wallclock.h"
#include "osv.h"
#include "pinload.h"
#include "pins.h"
#include "store_feed.h"
#include "version.h"

/* Bounds: an image with more matches than this is recorded up to it. */
#define MAX_HITS 20000
/* Advisory ids named in one trigger reason; the rest are counted. */
#define REASON_IDS 5

static void hit_free(struct advisory_hit *x)
{
	free(x->id);
	free(x->package);
	free(x->ecosystem);
	free(x->installed);
	free(x->fixed);
	free(x->state);
	free(x->pin_file);
	free(x->pin_version);
	free(x->pin_package);
}

void advisory_hits_done(struct advisory_hits *h)
{
	for (size_t i = 0; i < h->n; i++)
		hit_free(&h->v[i]);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int hit_cmp(const void *a, const void *b)
{
	const struct advisory_hit *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : strcmp(x->package, y->package);
}

/* Looks (id, package) up in the first n hits of h, which are sorted by hit_cmp. */
static struct advisory_hit *hit_find_n(const struct advisory_hits *h, size_t n, const char *id,
                                       const char *package)
{
	struct advisory_hit key = {.id = (char *)(uintptr_t)id,
	                           .package = (char *)(uintptr_t)package};

	return n ? bsearch(&key, h->v, n, sizeof(*h->v), hit_cmp) : NULL;
}

static struct advisory_hit *hit_find(const struct advisory_hits *h, const char *id,
                                     const char *package)
{
	return hit_find_n(h, h->n, id, package);
}

static void pin_swap(struct advisory_hit *a, struct advisory_hit *b)
{
	struct advisory_hit t = *a;

	a->pin_file = b->pin_file;
	a->pin_version = b->pin_version;
	a->pin_package = b->pin_package;
	a->pin_line = b->pin_line;
	a->pin_col = b->pin_col;
	b->pin_file = t.pin_file;
	b->pin_version = t.pin_version;
	b->pin_package = t.pin_package;
}

/* Sorts h and drops repeats (two binaries of one source meet the same advisory); a repeat
 * whose package is pinned lends its pin. */
static void hits_sort_unique(struct advisory_hits *h)
{
	size_t k = 0;

	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), hit_cmp);
	for (size_t i = 0; i < h->n; i++) {
		struct advisory_hit *kept = k ? &h->v[k - 1] : NULL, *x = &h->v[i];
		if (kept && !hit_cmp(kept, x)) {
			if (!kept->pin_file && x->pin_file) { /* one pinned binary holds them all */
				pin_swap(kept, x);
			}
			hit_free(x);
		} else {
			h->v[k++] = *x;
		}
	}
	h->n = k;
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A borrowed view of a hit, for hit_add to copy. */
struct hit_src {
	const char *id, *package, *ecosystem, *installed, *fixed, *state;
	uint64_t seen_at;
	const char *pin_file; /* NULL: not pinned */
	int pin_line, pin_col;
	const char *pin_version, *pin_package;
};

static int hit_add(struct advisory_hits *h, const struct hit_src *src)
{
	struct advisory_hit *x;
	int r = ARRAY_GROW(h->v, h->cap, h->n, MAX_HITS);

	if (r < 0)
		return r;
	x = &h->v[h->n++];
	memset(x, 0, sizeof(*x));
	x->id = strdup(src->id);
	x->package = strdup(src->package);
	x->ecosystem = strdup(src->ecosystem);
	x->installed = dup_opt(src->installed);
	x->fixed = dup_opt(src->fixed);
	x->state = dup_opt(src->state);
	x->seen_at = src->seen_at;
	x->pin_file = dup_opt(src->pin_file);
	x->pin_version = src->pin_file ? dup_opt(src->pin_version) : NULL;
	x->pin_package = src->pin_file ? dup_opt(src->pin_package) : NULL;
	x->pin_line = src->pin_line;
	x->pin_col = src->pin_col;
	if (!x->id || !x->package || !x->ecosystem || (src->installed && !x->installed) ||
	    (src->fixed && !x->fixed) || (src->state && !x->state) ||
	    (src->pin_file && (!x->pin_file || (src->pin_version && !x->pin_version) ||
	                       (src->pin_package && !x->pin_package))))
		return -ENOMEM;
	return 0;
}

struct pkg_match {
	struct store *s;
	struct advisory_hits *hits;
	enum version_eco eco;
	const char *version;
	const struct pins *pins; /* the context's, or NULL */
	const struct store_pkg *pkg;
};

/* The pins' name for an OSV ecosystem: PyPI, Debian and Ubuntu (apt), Alpine (apk). */
static bool pins_eco_of(const char *ecosystem, enum pins_eco *ret)
{
	if (!strcmp(ecosystem, "PyPI"))
		*ret = PINS_PYPI;
	else if (!strncmp(ecosystem, "Debian", 6) || !strncmp(ecosystem, "Ubuntu", 6))
		*ret = PINS_DEB;
	else if (!strncmp(ecosystem, "Alpine", 6))
		*ret = PINS_APK;
	else
		return false;
	return true;
}

/* The pin that holds the package being matched at its installed version against fixed. */
static const struct pin *pinned(const struct pkg_match *m, const char *fixed)
{
	enum pins_eco e;

	if (!m->pins || !m->pins->n || !pins_eco_of(m->pkg->ecosystem, &e))
		return NULL;
	return pins_holding(m->pins, e, m->pkg->name, m->pkg->version, fixed);
}

/* Whether version is in the '\n'-joined list (as written, or equal in eco's ordering). */
static bool listed(const char *list, enum version_eco eco, const char *version)
{
	char v[VERSION_MAX_LEN + 1];
	int cmp;

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n < sizeof(v)) {
			memcpy(v, p, n);
			v[n] = '\0';
			if (!strcmp(v, version) ||
			    (version_cmp(eco, v, version, &cmp) == 0 && cmp == 0))
				return true;
		}
		p += n + (p[n] == '\n');
	}
	return false;
}

/* One stored advisory for the package being matched. */
static int advisory_cb(const struct store_advisory *a, void *arg)
{
	struct pkg_match *m = arg;
	struct osv_verdict v = {0};
	json_t *aff = json_loads(a->affected, 0, NULL);
	int r = 0;

	if (!aff)
		return 0; /* we wrote it from a parsed record; never stop a match over it */
	if (osv_eval(aff, m->eco, m->version, &v) == 0 && !v.affected && a->versions &&
	    listed(a->versions, m->eco, m->version)) {
		/* listed but outside the ranges: ask again so that fixed comes from the ranges */
		json_object_set_new(aff, "versions", json_pack("[s]", m->version));
		osv_eval(aff, m->eco, m->version, &v);
	}
	if (v.affected) {
		const struct pin *pn = v.fixed ? pinned(m, v.fixed) : NULL;
		struct hit_src h = {.id = a->id,
		                    .package = a->package,
		                    .ecosystem = a->ecosystem,
		                    .installed = m->version,
		                    .fixed = v.fixed,
		                    .seen_at = a->seen_at};
		if (pn) {
			h.pin_file = pn->file;
			h.pin_line = pn->line;
			h.pin_col = pn->col;
			h.pin_version = pn->version;
			h.pin_package = pn->name;
		}
		r = hit_add(m->hits, &h);
	}
	json_decref(aff);
	return r;
}

static int lookup(struct pkg_match *m, const char *eco, const char *name, const char *version)
{
	m->version = version;
	return store_advisories_for(m->s, eco, name, advisory_cb, m);
}

/* One installed package: by source (and its version) first, then by binary name. */
static int pkg_cb(const struct store_pkg *p, void *arg)
{
	struct pkg_match *m = arg;
	int r;

	if (osv_ecosystem_eco(p->ecosystem, &m->eco) < 0)
		return 0;
	m->pkg = p;
	if (p->source && strcmp(p->source, p->name)) {
		r = lookup(m, p->ecosystem, p->source,
		           p->source_version ? p->source_version : p->version);
		if (r < 0)
			return r;
	}
	return lookup(m, p->ecosystem, p->name, p->version);
}

int advisory_match(struct store *s, int64_t build_id, const struct pins *pins,
                   struct advisory_hits *ret)
{
	struct advisory_hits h = {0};
	struct pkg_match m = {s, &h, VERSION_DEBIAN, NULL, pins, NULL};
	int r = store_inventory_each(s, build_id, pkg_cb, &m);

	if (r < 0 && r != -E2BIG) {
		advisory_hits_done(&h);
		return r;
	}
	if (r == -E2BIG)
		log_warn("build %lld: more than %d advisory matches; the rest is not recorded",
		         (long long)build_id, MAX_HITS);
	hits_sort_unique(&h);
	*ret = h;
	return 0;
}

static int load_row(const struct store_match *x, void *arg)
{
	struct hit_src h = {x->advisory, x->package, x->ecosystem,   x->installed,
	                    x->fixed,    x->state,   x->seen_at,     x->pin_file,
	                    x->pin_line, x->pin_col, x->pin_version, x->pin_package};
	return hit_add(arg, &h);
}

static int load_rows(struct store *s, int64_t build_id, struct advisory_hits *ret)
{
	int r = store_matches_each(s, build_id, load_row, ret);
	return r == -E2BIG ? 0 : r;
}

static int set_state(struct advisory_hit *h, const char *state)
{
	char *v = strdup(state);

	if (!v)
		return -ENOMEM;
	free(h->state);
	h->state = v;
	return 0;
}

static bool holds(const struct advisory_hit *old, const struct advisory_hit *now)
{
	return old && old->state && old->seen_at == now->seen_at &&
	       (!strcmp(old->state, "pending-upstream") || !strcmp(old->state, "triggered"));
}

/* The state of a fresh match given the environment's earlier record of it. */
static const char *decide(const struct advisory_hit *h, const struct advisory_hit *old,
                          bool nocache)
{
	if (!h->fixed)
		return "unfixed";
	if (h->pin_file)
		return "needs-change"; /* the context pins it: no rebuild changes that */
	if (nocache)
		return "pending-upstream";
	return holds(old, h) ? old->state : "open";
}

static int append_fixed(char **fixes, const char *id)
{
	size_t n = *fixes ? strlen(*fixes) : 0;
	char *v;

	if (*fixes && strstr(*fixes, id)) {
		const char *p = *fixes;
		size_t k = strlen(id);
		for (; (p = strstr(p, id)); p += k)
			if ((p == *fixes || p[-1] == ',') && (p[k] == ',' || !p[k]))
				return 0;
	}
	v = realloc(*fixes, n + strlen(id) + 2);
	if (!v)
		return -ENOMEM;
	sprintf(v + n, "%s%s", n ? "," : "", id);
	*fixes = v;
	return 0;
}

/* Adds "fixed" rows for what prev had and hits has not. */
static int add_fixed(struct advisory_hits *hits, const struct advisory_hits *prev, char **fixes)
{
	size_t n0 = hits->n; /* the sorted part; rows are appended after it */
	int r = 0;

	for (size_t i = 0; r == 0 && i < prev->n; i++) {
		const struct advisory_hit *o = &prev->v[i];
		struct hit_src h = {o->id,    o->package, o->ecosystem, o->installed,
		                    o->fixed, "fixed",    o->seen_at,   .pin_file = NULL};

		if (!strcmp(o->state, "fixed") || hit_find_n(hits, n0, o->id, o->package))
			continue;
		r = hit_add(hits, &h);
		if (r == 0)
			r = append_fixed(fixes, o->id);
	}
	return r;
}

static int put_hits(struct store *s, int64_t build_id, const struct advisory_hits *h)
{
	struct store_match *m = calloc(h->n ? h->n : 1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++)
		m[i] = (struct store_match){
		        h->v[i].id,        h->v[i].package,     h->v[i].ecosystem,
		        h->v[i].installed, h->v[i].fixed,       h->v[i].state,
		        h->v[i].seen_at,   h->v[i].pin_file,    h->v[i].pin_line,
		        h->v[i].pin_col,   h->v[i].pin_version, h->v[i].pin_package};
	r = store_matches_put(s, build_id, m, h->n);
	free(m);
	return r;
}

int advisory_record_build(struct store *s, int64_t build_id, bool nocache, const struct pins *pins,
                          char **ret_fixes)
{
	struct advisory_hits hits = {0}, prev = {0};
	char *fixes = NULL;
	int64_t prev_id;
	int r = advisory_match(s, build_id, pins, &hits);

	if (r == 0 && store_previous_inventory_build(s, build_id, &prev_id) == 0)
		r = load_rows(s, prev_id, &prev);
	for (size_t i = 0; r == 0 && i < hits.n; i++)
		r = set_state(&hits.v[i],
		              decide(&hits.v[i], hit_find(&prev, hits.v[i].id, hits.v[i].package),
		                     nocache));
	if (r == 0)
		r = add_fixed(&hits, &prev, &fixes);
	if (r == 0)
		r = put_hits(s, build_id, &hits);
	advisory_hits_done(&hits);
	advisory_hits_done(&prev);
	if (r < 0) {
		free(fixes);
		return r;
	}
	*ret_fixes = fixes;
	return 0;
}

struct current {
	char *project, *env;
	int64_t build_id;
};

struct current_list {
	struct current *v;
	size_t n, cap;
	const char *only;
	const struct config *cfg;
};

static int current_cb(const struct store_current *c, void *arg)
{
	struct current_list *l = arg;
	const struct config_project *p = config_project_find(l->cfg, c->project);

	if (!p || !p->enabled || (l->only && strcmp(l->only, c->project)))
		return 0;
	if (ARRAY_GROW(l->v, l->cap, l->n, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	l->v[l->n] = (struct current){strdup(c->project), strdup(c->env), c->build_id};
	if (!l->v[l->n].project || !l->v[l->n].env) {
		free(l->v[l->n].project);
		free(l->v[l->n].env);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static void current_done(struct current_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].project);
		free(l->v[i].env);
	}
	free(l->v);
}

/* Appends "ID PKG INSTALLED -> FIXED (ENV)" to a project's reason, up to REASON_IDS of them. */
static void reason_add(char *buf, size_t len, unsigned *count, const struct advisory_hit *h,
                       const char *env)
{
	size_t at = strlen(buf);

	if ((*count)++ < REASON_IDS)
		snprintf(buf + at, len - at, "%s%s %s %s -> %s (%s)",
		         at ? "; " : "security: ", h->id, h->package,
		         h->installed ? h->installed : "?", h->fixed, env);
}

/* Re-matches one current image; marks new fixable matches triggered. */
/*
 * The advisory webhook event: a fixable or needs-change match that is new to this image
 * and was not in the environment's previous one (a rebuild that keeps an advisory, or a
 * scan that finds it again, says nothing new).
 */
static void announce(struct store *s, struct notify *n, const struct current *c,
                     const struct advisory_hit *h, const char *st, bool first)
{
	char action[1024];
	struct notify_advisory a = {c->project, c->env, h->id, h->package,  h->installed,
	                            h->fixed,   st,     NULL,  c->build_id, wallclock_ms()};

	if (!n || !first || (strcmp(st, "triggered") && strcmp(st, "needs-change")) ||
	    store_match_seen_before(s, c->project, c->env, c->build_id, h->id, h->package) != 0)
		return;
	if (h->pin_file) {
		snprintf(action, sizeof(action),
		         "%s:%d: change the pin of %s from %s to %s or later", h->pin_file,
		         h->pin_line, h->pin_package ? h->pin_package : h->package,
		         h->pin_version ? h->pin_version : "?",
		         h->fixed ? h->fixed : "a fixed version");
		a.action = action;
	}
	notify_advisory(n, &a);
}

static int scan_one(struct store *s, const struct current *c, const struct pins *pins,
                    struct notify *n, char *reason, size_t len, unsigned *count)
{
	struct advisory_hits hits = {0}, old = {0};
	int r = advisory_match(s, c->build_id, pins, &hits);

	if (r == 0)
		r = load_rows(s, c->build_id, &old);
	for (size_t i = 0; r == 0 && i < hits.n; i++) {
		struct advisory_hit *h = &hits.v[i], *o = hit_find(&old, h->id, h->package);
		bool held = o && holds(o, h);
		const char *st = !h->fixed     ? "unfixed"
		                 : h->pin_file ? "needs-change" /* a rebuild cannot fix it */
		                 : held && o   ? o->state
		                               : "triggered";

		r = set_state(h, st);
		if (r == 0 && !strcmp(st, "triggered") && !held)
			reason_add(reason, len, count, h, c->env);
		if (r == 0)
			announce(s, n, c, h, st, o == NULL);
	}
	for (size_t i = 0; r == 0 && i < old.n; i++) /* history of this image */
		if (!strcmp(old.v[i].state, "fixed") &&
		    !hit_find(&hits, old.v[i].id, old.v[i].package)) {
			struct advisory_hit *o = &old.v[i];
			struct hit_src h = {o->id,    o->package, o->ecosystem, o->installed,
			                    o->fixed, o->state,   o->seen_at,   .pin_file = NULL};
			r = hit_add(&hits, &h);
		}
	if (r == 0)
		r = put_hits(s, c->build_id, &hits);
	advisory_hits_done(&hits);
	advisory_hits_done(&old);
	return r;
}

static const struct config_env *env_find(const struct config_project *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_envs; i++)
		if (!strcmp(p->envs[i].name, name))
			return &p->envs[i];
	return NULL;
}

/* One current image with the pins of its environment's context read now. */
static int scan_env(struct store *s, const struct config *cfg, const struct current *c,
                    struct notify *n, char *reason, size_t len, unsigned *count)
{
	const struct config_project *p = config_project_find(cfg, c->project);
	struct pins pins = {0};
	int r = p ? pinload_env(p, env_find(p, c->env), &pins) : 0;

	if (r == 0)
		r = scan_one(s, c, &pins, n, reason, len, count);
	pins_done(&pins);
	return r;
}

static int trigger(struct store *s, const char *project, char *reason, unsigned count, uint64_t now)
{
	size_t at = strlen(reason);

	if (count > REASON_IDS)
		snprintf(reason + at, 2048 - at, "; and %u more", count - REASON_IDS);
	log_info("project %s: %s", project, reason);
	return store_trigger_add(s, project, "security", reason, now, NULL);
}

int advisory_scan(struct store *s, const struct config *cfg, const char *project, uint64_t now)
{
	return advisory_scan_notify(s, cfg, project, now, NULL);
}

int advisory_scan_notify(struct store *s, const struct config *cfg, const char *project,
                         uint64_t now, struct notify *n)
{
	struct current_list l = {.only = project, .cfg = cfg};
	/* a feed change touches the images with a changed package; a build, its project's */
	int r = project ? store_current_each(s, current_cb, &l)
	                : store_current_changed_each(s, current_cb, &l),
	    triggered = 0;

	log_debug("advisories: matching %zu image(s) again%s%s", l.n, project ? " of " : "",
	          project ? project : "");

	for (size_t i = 0; r == 0 && i < l.n;) {
		char reason[2048] = "";
		unsigned count = 0;
		size_t j = i;

		for (; r == 0 && j < l.n && !strcmp(l.v[j].project, l.v[i].project); j++)
			r = scan_env(s, cfg, &l.v[j], n, reason, sizeof(reason), &count);
		if (r == 0 && count) {
			r = trigger(s, l.v[i].project, reason, count, now);
			triggered++;
		}
		i = j;
	}
	current_done(&l);
	if (r == 0 && !project)
		r = store_changes_clear(s);
	return r < 0 ? r : triggered;
}

void advisory_fixes_label(const char *fixes, char *buf, size_t max)
{
	size_t used = 0, left = 0;
	const char *p = fixes;

	buf[0] = '\0';
	while (p && *p) {
		size_t n = strcspn(p, ",");
		if (!left && used + n + 1 + 8 <= max) {
			used += (size_t)snprintf(buf + used, max - used, "%s%.*s", used ? "," : "",
			                         (int)n, p);
		} else {
			left++;
		}
		p += n + (p[n] == ',');
	}
	if (left)
		snprintf(buf + used, max - used, "%s+%zu", used ? "," : "", left);
}
