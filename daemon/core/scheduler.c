#include "scheduler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "bases.h"
#include "config.h"
#include "engine.h"
#include "inputs.h"
#include "log.h"
#include "pipeline.h"
#include "rollback.h"
#include "ref.h"
#include "store.h"
#include "store_query.h"
#include "strmap.h"
#include "wallclock.h"

#define MAX_ENGINES     64
#define AGE_CHECK_MS    60000
#define BACKOFF_BASE_MS 60000ULL
#define BACKOFF_MAX_MS  (6ULL * 3600 * 1000)
/* Rebuilds cut short by a lost engine go back to the queue at once, this many times in a
 * row; after that the failure counts as any other (a build that itself kills its engine). */
#define LOST_REQUEUES_MAX 3

/*
 * One per configured project, allocated on its own: a running pipeline holds a pointer
 * to it, so a reload moves these pointers into its new array and never the states.
 */
struct proj_state {
	char *name;
	size_t k; /* index in cfg->projects, while configured */
	bool running, cyclic, gone;
	unsigned failures, lost_requeues; /* failures: in a row, for the backoff */
	size_t engine;
	unsigned long broken_at_start; /* the engine's count of broken connections */
	char kind[16];                 /* of the trigger running */
	struct pipeline *pl;
	struct scheduler *s;
	struct proj_state *next_gone;
};

struct rb_ctx;

struct scheduler {
	struct scheduler_deps d;
	struct config *cfg;
	struct proj_state **ps; /* per cfg->projects[i] */
	size_t n;
	struct strmap by_name;        /* project name -> index in ps */
	struct scheduler_graph deps;  /* whose images project i builds on */
	struct scheduler_graph users; /* who builds on project i's image */
	struct proj_state *gone;      /* left the configuration while their rebuild runs */
	struct engine *engines[MAX_ENGINES];
	int max_builds[MAX_ENGINES], running_on[MAX_ENGINES];
	size_t n_engines, running;
	uv_timer_t timer;    /* retries and max_age */
	uint64_t next_retry; /* the earliest deferred trigger (wall clock ms; 0: none) */
	uv_idle_t kick;      /* a kick runs from the loop, never inside the caller */
	int closing;
	struct rb_ctx *rollbacks; /* in flight */
};

uint64_t scheduler_backoff_ms(unsigned failures)
{
	uint64_t ms = BACKOFF_BASE_MS;

	for (unsigned i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* Tarjan's strongly connected components with explicit stacks (a 100,000-deep chain of
 * bases must not overflow the C stack). Components come out dependencies first. */
struct tarjan {
	size_t *idx, *low, *pos, *stk, *call; /* idx 0: not visited yet */
	bool *on;
	size_t counter, sp, csp, k;
};

static void tarjan_push(const struct scheduler_graph *g, struct tarjan *t, size_t v)
{
	t->idx[v] = t->low[v] = ++t->counter;
	t->pos[v] = g->start[v];
	t->stk[t->sp++] = v;
	t->on[v] = true;
	t->call[t->csp++] = v;
}

/* Pops the component rooted at v into the order; true when it is a cycle. */
static bool tarjan_pop(struct tarjan *t, size_t v, size_t *order, bool *cyclic)
{
	size_t first = t->k, w;

	do {
		w = t->stk[--t->sp];
		t->on[w] = false;
		order[t->k++] = w;
	} while (w != v);
	for (size_t i = first; t->k - first > 1 && i < t->k; i++)
		cyclic[order[i]] = true;
	return t->k - first > 1;
}

static int tarjan_from(const struct scheduler_graph *g, struct tarjan *t, size_t root,
                       size_t *order, bool *cyclic)
{
	int r = 0;

	tarjan_push(g, t, root);
	while (t->csp) {
		size_t v = t->call[t->csp - 1];
		if (t->pos[v] < g->start[v + 1]) {
			size_t w = g->out[t->pos[v]++];
			if (!t->idx[w])
				tarjan_push(g, t, w);
			else if (t->on[w] && t->idx[w] < t->low[v])
				t->low[v] = t->idx[w];
			continue;
		}
		t->csp--;
		if (t->csp && t->low[v] < t->low[t->call[t->csp - 1]])
			t->low[t->call[t->csp - 1]] = t->low[v];
		if (t->low[v] == t->idx[v] && tarjan_pop(t, v, order, cyclic))
			r = -ELOOP;
	}
	return r;
}

int scheduler_order(const struct scheduler_graph *g, size_t *ret_order, bool *ret_cyclic)
{
	size_t n = g->n ? g->n : 1;
	struct tarjan t = {.idx = calloc(n, sizeof(size_t)),
	                   .low = calloc(n, sizeof(size_t)),
	                   .pos = calloc(n, sizeof(size_t)),
	                   .stk = calloc(n, sizeof(size_t)),
	                   .call = calloc(n, sizeof(size_t)),
	                   .on = calloc(n, sizeof(bool))};
	int r = -ENOMEM;

	if (!t.idx || !t.low || !t.pos || !t.stk || !t.call || !t.on)
		goto out;
	r = 0;
	memset(ret_cyclic, 0, g->n * sizeof(bool));
	for (size_t i = 0; i < g->n; i++)
		if (!t.idx[i] && tarjan_from(g, &t, i, ret_order, ret_cyclic) < 0)
			r = -ELOOP;
out:
	free(t.idx);
	free(t.low);
	free(t.pos);
	free(t.stk);
	free(t.call);
	free(t.on);
	return r;
}

/* The platform builds run for: the first engine that told us, else linux/amd64. */
static const char *build_platform(const struct scheduler *s)
{
	for (size_t e = 0; e < s->n_engines; e++)
		if (engine_platform(s->engines[e]))
			return engine_platform(s->engines[e]);
	return "linux/amd64";
}

static ssize_t project_index(const struct scheduler *s, const char *name)
{
	size_t k;

	return strmap_get(&s->by_name, name, &k) ? (ssize_t)k : -1;
}

void scheduler_graph_done(struct scheduler_graph *g)
{
	free(g->start);
	free(g->out);
	*g = (struct scheduler_graph){0};
}

struct edges {
	size_t *from, *to; /* from builds on to */
	size_t n, cap;
};

static int edge_add(struct edges *e, size_t from, size_t to)
{
	for (size_t i = e->n; i > 0 && e->from[i - 1] == from; i--)
		if (e->to[i - 1] == to)
			return 0; /* the same base in two stages */
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		size_t *f = realloc(e->from, cap * sizeof(size_t)), *t;
		if (!f)
			return -ENOMEM;
		e->from = f;
		t = realloc(e->to, cap * sizeof(size_t));
		if (!t)
			return -ENOMEM;
		e->to = t;
		e->cap = cap;
	}
	e->from[e->n] = from;
	e->to[e->n++] = to;
	return 0;
}

/* Adjacency lists of n nodes from m edges keys[i] -> vals[i] (a counting sort by key). */
static int graph_from(size_t n, const size_t *keys, const size_t *vals, size_t m,
                      struct scheduler_graph *ret)
{
	size_t *start = calloc(n + 2, sizeof(size_t)), *out = calloc(m ? m : 1, sizeof(size_t));

	if (!start || !out) {
		free(start);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m; i++)
		start[keys[i] + 2]++;
	for (size_t i = 2; i < n + 2; i++)
		start[i] += start[i - 1];
	for (size_t i = 0; i < m; i++)
		out[start[keys[i] + 1]++] = vals[i];
	*ret = (struct scheduler_graph){n, start, out}; /* start[i] .. start[i + 1]: i's */
	return 0;
}

/* Every project's image repository, by name, for matching the bases against. */
static int image_names(const struct config *cfg, char (**ret_names)[REF_STRING_MAX],
                       struct strmap *ret_map)
{
	char(*names)[REF_STRING_MAX] = calloc(cfg->n_projects + 1, sizeof(*names));

	if (!names)
		return -ENOMEM;
	for (size_t j = 0; j < cfg->n_projects; j++) {
		struct image_ref r;
		if (ref_parse(cfg->projects[j].image, &r, NULL) == 0 &&
		    ref_name(&r, names[j], sizeof(names[j])) > 0 &&
		    strmap_put(ret_map, names[j], j) < 0) {
			free(names);
			return -ENOMEM;
		}
	}
	*ret_names = names;
	return 0;
}

/* The edges i -> j where one of i's bases is j's image repository. */
static int collect_edges(const struct config *cfg, const char *platform,
                         const struct strmap *images, struct edges *e)
{
	for (size_t i = 0; i < cfg->n_projects; i++) {
		struct base_use *uses = NULL;
		size_t nu = 0, j;
		char err[256], name[REF_STRING_MAX];

		if (bases_of_project(&cfg->projects[i], platform, &uses, &nu, err, sizeof(err)) < 0)
			continue;
		for (size_t u = 0; u < nu; u++)
			if (ref_name(&uses[u].parsed, name, sizeof(name)) > 0 &&
			    strmap_get(images, name, &j) && j != i && edge_add(e, i, j) < 0) {
				free(uses);
				return -ENOMEM;
			}
		free(uses);
	}
	return 0;
}

int scheduler_graph_of(const struct config *cfg, const char *platform, struct scheduler_graph *ret)
{
	char(*names)[REF_STRING_MAX] = NULL;
	struct strmap images = {0};
	struct edges e = {0};
	int r = image_names(cfg, &names, &images);

	if (r == 0)
		r = collect_edges(cfg, platform, &images, &e);
	if (r == 0)
		r = graph_from(cfg->n_projects, e.from, e.to, e.n, ret);
	strmap_done(&images);
	free(names);
	free(e.from);
	free(e.to);
	return r;
}

/* Both directions of the graph of s's projects. */
static int build_graph(struct scheduler *s)
{
	int r = scheduler_graph_of(s->cfg, build_platform(s), &s->deps);
	struct scheduler_graph *d = &s->deps;
	size_t *from = NULL;

	if (r == 0 && !(from = calloc(d->start[d->n] + 1, sizeof(size_t))))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < d->n; i++)
		for (size_t e = d->start[i]; e < d->start[i + 1]; e++)
			from[e] = i;
	if (r == 0)
		r = graph_from(d->n, d->out, from, d->start[d->n], &s->users);
	free(from);
	return r;
}

static int check_cycles(struct scheduler *s)
{
	size_t *order = calloc(s->n ? s->n : 1, sizeof(size_t));
	bool *cyclic = calloc(s->n ? s->n : 1, sizeof(bool));
	int r = order && cyclic ? scheduler_order(&s->deps, order, cyclic) : -ENOMEM;

	for (size_t i = 0; r == -ELOOP && i < s->n; i++)
		if (cyclic[i]) {
			s->ps[i]->cyclic = true;
			log_err("project %s: its image and its bases form a cycle with other "
			        "projects; it is not scheduled until the configuration is fixed",
			        s->ps[i]->name);
		}
	free(order);
	free(cyclic);
	return r == -ELOOP ? 0 : r;
}

static void kick_cb(uv_idle_t *h);
static void timer_cb(uv_timer_t *t);

int scheduler_new(const struct scheduler_deps *d, struct scheduler **ret)
{
	struct scheduler *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->d = *d;
	uv_timer_init(d->loop, &s->timer);
	uv_idle_init(d->loop, &s->kick);
	s->timer.data = s->kick.data = s;
	if (store_recover(d->store, wallclock_ms()) < 0)
		log_err("scheduler: could not recover interrupted rebuilds");
	uv_timer_start(&s->timer, timer_cb, 0, 0);
	*ret = s;
	return 0;
}

static void state_free(struct proj_state *ps)
{
	if (ps)
		free(ps->name);
	free(ps);
}

static void states_free(struct proj_state **ps, size_t n)
{
	for (size_t i = 0; ps && i < n; i++)
		state_free(ps[i]);
	free(ps);
}

static void gone_unlink(struct scheduler *s, struct proj_state *ps)
{
	for (struct proj_state **pp = &s->gone; *pp; pp = &(*pp)->next_gone)
		if (*pp == ps) {
			*pp = ps->next_gone;
			break;
		}
	ps->gone = false;
	ps->next_gone = NULL;
}

/*
 * The state project name has: kept with its running rebuild, failures and backoff, from
 * the current array or from the gone list (it left and came back while its rebuild ran).
 */
static struct proj_state *state_of(const struct scheduler *s, const char *name)
{
	ssize_t k = project_index(s, name);

	if (k >= 0)
		return s->ps[k];
	for (struct proj_state *g = s->gone; g; g = g->next_gone)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

static struct proj_state *state_new(const char *name)
{
	struct proj_state *ps = calloc(1, sizeof(*ps));

	if (ps && !(ps->name = strdup(name))) {
		free(ps);
		ps = NULL;
	}
	return ps;
}

/* The states of cfg's projects, in its order; nothing of s changes (-ENOMEM). */
static int new_states(const struct scheduler *s, const struct config *cfg,
                      struct proj_state ***ret_ps, struct strmap *ret_map)
{
	size_t n = cfg->n_projects;
	struct proj_state **ps = calloc(n ? n : 1, sizeof(*ps));
	bool *fresh = calloc(n ? n : 1, sizeof(bool));
	int r = ps && fresh ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		ps[i] = state_of(s, cfg->projects[i].name);
		if (!ps[i])
			fresh[i] = (ps[i] = state_new(cfg->projects[i].name)) != NULL;
		if (!ps[i] || strmap_put(ret_map, ps[i]->name, i) < 0)
			r = -ENOMEM;
	}
	if (r < 0) {
		for (size_t i = 0; ps && i < n; i++)
			if (fresh[i])
				state_free(ps[i]);
		free(ps);
		strmap_done(ret_map);
	} else
		*ret_ps = ps;
	free(fresh);
	return r;
}

static bool taken(const struct proj_state *ps, struct proj_state *const *new_ps,
                  const struct strmap *map)
{
	size_t k;

	return strmap_get(map, ps->name, &k) && new_ps[k] == ps;
}

/* The states no project took are freed, or kept on the gone list while they run. */
static void drop_states(struct scheduler *s, struct proj_state *const *new_ps,
                        const struct strmap *map)
{
	for (struct proj_state *g = s->gone, *next; g; g = next) {
		next = g->next_gone;
		if (taken(g, new_ps, map))
			gone_unlink(s, g);
	}
	for (size_t i = 0; i < s->n; i++) {
		struct proj_state *ps = s->ps[i];
		if (taken(ps, new_ps, map))
			continue;
		if (!ps->pl) {
			state_free(ps);
			continue;
		}
		log_info("project %s left the configuration; its rebuild finishes", ps->name);
		ps->gone = true;
		ps->next_gone = s->gone;
		s->gone = ps;
	}
}

void scheduler_configure(struct scheduler *s, struct config *cfg)
{
	struct proj_state **ps = NULL;
	struct strmap map = {0};

	if (new_states(s, cfg, &ps, &map) < 0) {
		log_err("scheduler: out of memory; the projects stay as they were");
		return;
	}
	drop_states(s, ps, &map);
	free(s->ps);
	strmap_done(&s->by_name);
	s->ps = ps;
	s->by_name = map;
	s->n = cfg->n_projects;
	for (size_t i = 0; i < s->n; i++) {
		s->ps[i]->k = i;
		s->ps[i]->cyclic = false;
		s->ps[i]->s = s;
	}
	config_free(s->cfg);
	s->cfg = config_ref(cfg);
	scheduler_graph_done(&s->deps);
	scheduler_graph_done(&s->users);
	if (build_graph(s) < 0 || check_cycles(s) < 0)
		log_err("scheduler: out of memory building the dependency graph; "
		        "projects are built without regard to each other's images");
	scheduler_kick(s);
}

void scheduler_set_engines(struct scheduler *s, struct engine *const *engines,
                           const int *max_builds, size_t n)
{
	s->n_engines = n < MAX_ENGINES ? n : MAX_ENGINES;
	for (size_t i = 0; i < s->n_engines; i++) {
		s->engines[i] = engines[i];
		s->max_builds[i] = max_builds[i];
	}
}

void scheduler_set_clients(struct scheduler *s, struct creds *creds, struct registry_pool *reg)
{
	s->d.creds = creds;
	s->d.registries = reg;
}

size_t scheduler_running(const struct scheduler *s)
{
	return s->running;
}

void scheduler_kick(struct scheduler *s)
{
	uv_idle_start(&s->kick, kick_cb);
}

struct pending {
	int64_t id;
	char project[128], kind[16];
	char *reasons;
	char *envs;          /* NULL: every environment */
	uint64_t not_before; /* wall clock ms */
	bool held;           /* the project is held whole */
};

struct pending_list {
	struct pending *v;
	size_t n, cap;
};

static int collect(const struct store_trigger *t, void *arg)
{
	struct pending_list *l = arg;

	if (ARRAY_GROW(l->v, l->cap, l->n, ARRAY_NO_MAX) < 0)
		return 1;
	l->v[l->n].id = t->id;
	snprintf(l->v[l->n].project, sizeof(l->v[l->n].project), "%s", t->project);
	snprintf(l->v[l->n].kind, sizeof(l->v[l->n].kind), "%s", t->kind);
	l->v[l->n].reasons = strdup(t->reasons ? t->reasons : "");
	l->v[l->n].not_before = t->not_before;
	l->v[l->n].held = t->held;
	l->v[l->n].envs = t->envs ? strdup(t->envs) : NULL;
	l->n++;
	return 0;
}

/* A project waits while a project whose image it builds on is running or pending. */
static bool waits_for_dependency(const struct scheduler *s, size_t i, const bool *pending)
{
	if (!s->deps.start) /* no graph (out of memory) */
		return false;
	for (size_t e = s->deps.start[i]; e < s->deps.start[i + 1]; e++) {
		size_t j = s->deps.out[e];
		if (s->ps[j]->running || pending[j])
			return true;
	}
	return false;
}

static bool has_free_slot(const struct scheduler *s, size_t e)
{
	const struct engine_info *i = engine_info(s->engines[e]);

	return i->reachable && !i->checking && s->running_on[e] < s->max_builds[e];
}

/*
 * Where a project builds: on the engine that last built its image, whose layer cache is
 * warm, when that one has a free slot; else on the least busy engine with one (*warm
 * false). -1 when no engine has a free slot.
 */
static ssize_t pick_engine(const struct scheduler *s, const char *project, bool *warm)
{
	char last[1024];
	ssize_t best = -1;

	*warm = false;
	if (store_last_engine(s->d.store, project, last, sizeof(last)) == 0)
		for (size_t e = 0; e < s->n_engines; e++)
			if (!strcmp(engine_info(s->engines[e])->host, last) &&
			    has_free_slot(s, e)) {
				*warm = true;
				return (ssize_t)e;
			}
	for (size_t e = 0; e < s->n_engines; e++) {
		size_t b = (size_t)best;
		if (has_free_slot(s, e) &&
		    (best < 0 || (long)s->running_on[e] * s->max_builds[b] <
		                         (long)s->running_on[b] * s->max_builds[e]))
			best = (ssize_t)e;
	}
	return best;
}

static void trigger_dependants(struct scheduler *s, size_t k)
{
	char reason[512];

	if (!s->users.start) /* no graph (out of memory) */
		return;
	snprintf(reason, sizeof(reason), "base %s was rebuilt by refit", s->cfg->projects[k].image);
	for (size_t e = s->users.start[k]; e < s->users.start[k + 1]; e++) {
		const char *name = s->ps[s->users.out[e]]->name;
		if (store_trigger_add(s->d.store, name, "base", reason, wallclock_ms(), NULL) == 0)
			log_info("project %s: triggered, its base %s was rebuilt", name,
			         s->cfg->projects[k].image);
	}
}

/*
 * A rebuild failed while a connection to its engine broke: the engine went away (or
 * restarted) under it. The rebuild goes back to the queue at once, with its trigger's
 * kind, for whichever engine is there; it is not the project's failure. True when so.
 */
static bool engine_lost(struct scheduler *s, struct proj_state *ps)
{
	char reason[512];
	const char *host;

	if (ps->engine >= s->n_engines || ps->lost_requeues >= LOST_REQUEUES_MAX ||
	    engine_info(s->engines[ps->engine])->broken == ps->broken_at_start)
		return false;
	host = engine_info(s->engines[ps->engine])->host;
	ps->lost_requeues++;
	snprintf(reason, sizeof(reason), "requeued: engine %s was lost mid-rebuild", host);
	log_warn("project %s: rebuild cut short, engine %s was lost; back in the queue", ps->name,
	         host);
	store_trigger_add(s->d.store, ps->name, ps->kind, reason, wallclock_ms(), NULL);
	return true;
}

static void succeeded(struct scheduler *s, struct proj_state *ps, const char *summary)
{
	ps->lost_requeues = 0;
	ps->failures = 0;
	log_info("project %s: rebuild done (%s)", ps->name, summary);
	trigger_dependants(s, ps->k);
	if (s->d.rebuilt)
		s->d.rebuilt(ps->name, s->d.rebuilt_arg);
}

/*
 * The failed trigger comes back as pending, deferred by the backoff: the deferral is
 * in the store, so that a restart keeps it and a manual rebuild cuts it short.
 */
static void failed(struct scheduler *s, struct proj_state *ps, const char *summary)
{
	uint64_t delay, now = wallclock_ms();
	int64_t id;

	ps->lost_requeues = 0;
	ps->failures++;
	delay = scheduler_backoff_ms(ps->failures);
	log_warn("project %s: rebuild failed (%s); retry in %llu s", ps->name, summary,
	         (unsigned long long)(delay / 1000));
	if (store_trigger_add(s->d.store, ps->name, "retry", "retry after a failed rebuild", now,
	                      &id) == 0)
		store_trigger_defer(s->d.store, id, now + delay);
}

static void pipeline_done_cb(int status, const char *summary, void *arg)
{
	struct proj_state *ps = arg;
	struct scheduler *s = ps->s;

	ps->running = false;
	ps->pl = NULL;
	s->running--;
	s->running_on[ps->engine]--;
	if (ps->gone) {
		log_info("project %s (no longer configured): rebuild %s (%s)", ps->name,
		         status == 0 ? "done" : "failed", summary);
		gone_unlink(s, ps);
		state_free(ps);
	} else if (status == 0)
		succeeded(s, ps, summary);
	else if (!engine_lost(s, ps))
		failed(s, ps, summary);
	scheduler_kick(s);
}

static bool start_one(struct scheduler *s, size_t k, const struct pending *t)
{
	struct proj_state *ps = s->ps[k];
	bool warm;
	ssize_t e = pick_engine(s, ps->name, &warm);
	struct pipeline_deps d = {s->d.loop,       s->d.store,        NULL, s->d.creds,
	                          s->d.registries, s->cfg->state_dir, NULL, s->d.notify};
	struct pipeline_request req = {s->cfg, &s->cfg->projects[k], t->kind, t->reasons, t->id,
	                               t->envs};
	int r;

	if (e < 0)
		return false;
	d.engine = s->engines[e];
	d.platform = engine_platform(d.engine) ? engine_platform(d.engine) : "linux/amd64";
	inputs_capture(s->d.store, req.project, d.platform,
	               &(struct inputs_engine){engine_info(d.engine)->host,
	                                       engine_info(d.engine)->engine_version,
	                                       engine_info(d.engine)->podman});
	r = pipeline_start(&d, &req, pipeline_done_cb, ps, &ps->pl);
	if (r < 0) {
		log_err("project %s: cannot start a rebuild: %s", ps->name, strerror(-r));
		return true;
	}
	store_trigger_set_state(s->d.store, t->id, "running", 0, wallclock_ms());
	log_info("project %s: rebuild started on %s (trigger %s, %s cache)", ps->name,
	         engine_info(d.engine)->host, t->kind, warm ? "warm" : "cold");
	ps->running = true;
	ps->engine = (size_t)e;
	ps->broken_at_start = engine_info(d.engine)->broken;
	snprintf(ps->kind, sizeof(ps->kind), "%s", t->kind);
	s->running++;
	s->running_on[e]++;
	return true;
}

static void arm_timer(struct scheduler *s);

static void kick_cb(uv_idle_t *h)
{
	struct scheduler *s = h->data;
	struct pending_list l = {0};
	uint64_t now = wallclock_ms();
	bool *pending = NULL;
	ssize_t k;

	uv_idle_stop(h);
	s->next_retry = 0;
	if (!s->cfg)
		return;
	/* While the store cannot write (a full disk) no build could be recorded, nor the backoff
	 * of a failed one: nothing starts until main's store retry finds room and kicks. */
	if (store_write_error(s->d.store, NULL)) {
		arm_timer(s);
		return;
	}
	pending = calloc(s->n ? s->n : 1, sizeof(bool));
	if (!pending || store_triggers_pending(s->d.store, collect, &l) < 0) {
		log_err("scheduler: cannot read the pending triggers; trying again later");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++)
		if ((k = project_index(s, l.v[i].project)) >= 0)
			pending[k] = true;
	for (size_t i = 0; i < l.n; i++) {
		struct proj_state *ps =
		        (k = project_index(s, l.v[i].project)) >= 0 ? s->ps[k] : NULL;

		if (ps && l.v[i].not_before > now &&
		    (!s->next_retry || l.v[i].not_before < s->next_retry))
			s->next_retry = l.v[i].not_before;
		if (!ps || !s->cfg->projects[k].enabled || ps->running || ps->cyclic ||
		    l.v[i].not_before > now || l.v[i].held ||
		    waits_for_dependency(s, (size_t)k, pending))
			continue;
		if (!start_one(s, (size_t)k, &l.v[i]))
			break; /* no engine slot free */
	}
out:
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].reasons);
		free(l.v[i].envs);
	}
	free(l.v);
	free(pending);
	arm_timer(s);
}

/* Age and first-build triggers for every configured project, in one commit. */
struct success {
	char *project;
	uint64_t at;
};

/* Every project's last success, read in one query (store_last_success_each). */
struct successes {
	struct success *v;
	size_t n, cap;
	struct strmap by_project;
	struct scheduler *s;
};

static int success_cb(const char *project, uint64_t at, void *arg)
{
	struct successes *l = arg;
	char *name;

	if (ARRAY_GROW(l->v, l->cap, l->n, ARRAY_NO_MAX) < 0 || !(name = strdup(project)))
		return -ENOMEM;
	l->v[l->n] = (struct success){name, at};
	if (strmap_put(&l->by_project, name, l->n) < 0) {
		free(name);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static void successes_done(struct successes *l)
{
	strmap_done(&l->by_project);
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].project);
	free(l->v);
}

/* 0 with *ret_at, -ENOENT when the project never succeeded, -EPERM when it is disabled. */
static int last_success_of(const struct successes *l, const struct config_project *p,
                           uint64_t *ret_at)
{
	size_t i;

	if (!p->enabled)
		return -EPERM;
	if (!strmap_get(&l->by_project, p->name, &i))
		return -ENOENT;
	*ret_at = l->v[i].at;
	return 0;
}

static int age_triggers_tx(struct store *st, void *arg)
{
	struct successes *l = arg;
	struct scheduler *s = l->s;
	uint64_t now = wallclock_ms(), last = 0;
	char reason[128];

	(void)st;
	for (size_t i = 0; i < s->n; i++) {
		const struct config_project *p = &s->cfg->projects[i];
		int r = last_success_of(l, p, &last);

		if (r == -ENOENT && !store_project_attempted(s->d.store, p->name))
			store_trigger_add(s->d.store, p->name, "initial", "no build recorded yet",
			                  now, NULL);
		else if (r == 0 && now - last >= p->max_age_ms) {
			snprintf(reason, sizeof(reason), "last build older than max_age (%llu h)",
			         (unsigned long long)(p->max_age_ms / 3600000));
			store_trigger_add(s->d.store, p->name, "age", reason, now, NULL);
		}
	}
	return 0;
}

static void age_triggers(struct scheduler *s)
{
	struct successes l = {.s = s};

	if (store_last_success_each(s->d.store, success_cb, &l) < 0)
		log_warn("scheduler: the last successes cannot be read; no age trigger this time");
	else
		store_transaction(s->d.store, age_triggers_tx, &l);
	successes_done(&l);
}

static void timer_cb(uv_timer_t *t)
{
	struct scheduler *s = t->data;

	if (s->cfg)
		age_triggers(s);
	scheduler_kick(s);
}

/* Wakes up for the earliest retry, and at least every minute for max_age. */
static void arm_timer(struct scheduler *s)
{
	uint64_t now = wallclock_ms(), delay = AGE_CHECK_MS;

	if (s->next_retry > now && s->next_retry - now < delay)
		delay = s->next_retry - now;
	uv_timer_start(&s->timer, timer_cb, delay, 0);
}

struct rb_ctx {
	struct scheduler *s;
	size_t engine;
	struct rollback *rb;
	struct rb_ctx *next;
};

static void rb_unlink(struct scheduler *s, struct rb_ctx *c)
{
	for (struct rb_ctx **pp = &s->rollbacks; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	s->running_on[c->engine]--;
	free(c);
}

static void rollback_done_cb(int status, const char *message, void *arg)
{
	struct rb_ctx *c = arg;
	struct scheduler *s = c->s;

	(void)status;
	(void)message;
	rb_unlink(s, c);
	scheduler_kick(s);
}

int scheduler_request(struct scheduler *s, const char *project, const char *env, const char *reason,
                      int64_t *ret_id, bool *ret_merged)
{
	int64_t id = 0;
	bool merged = store_trigger_pending_id(s->d.store, project, &id) == 0;
	int r = store_trigger_add_env(s->d.store, project, env, "manual", reason, wallclock_ms(),
	                              &id);

	if (r < 0)
		return r;
	scheduler_kick(s);
	*ret_id = id;
	*ret_merged = merged;
	return 0;
}

int scheduler_rollback(struct scheduler *s, const char *project, const char *env, char *err,
                       size_t errlen)
{
	bool warm;
	ssize_t k = project_index(s, project), e = pick_engine(s, project, &warm);
	struct pipeline_deps d = {s->d.loop,
	                          s->d.store,
	                          NULL,
	                          s->d.creds,
	                          s->d.registries,
	                          s->cfg ? s->cfg->state_dir : NULL,
	                          NULL,
	                          NULL};
	struct rb_ctx *c;
	int r;

	if (k < 0) {
		snprintf(err, errlen, "no project named %s", project);
		return -ENOENT;
	}
	if (s->ps[k]->running) {
		snprintf(err, errlen, "project %s is being rebuilt; roll back when it is done",
		         project);
		return -EBUSY;
	}
	if (e < 0) {
		snprintf(err, errlen, "no engine is reachable with a free build slot");
		return -EAGAIN;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->engine = (size_t)e;
	d.engine = s->engines[e];
	r = rollback_start(&d, s->cfg, &s->cfg->projects[k], env, rollback_done_cb, c, &c->rb);
	if (r < 0) {
		snprintf(err, errlen,
		         r == -ENOENT ? "project %s has no environment %s"
		                      : "cannot start the rollback of %s %s",
		         project, env ? env : "prod");
		free(c);
		return r;
	}
	s->running_on[e]++;
	c->next = s->rollbacks;
	s->rollbacks = c;
	return 0;
}

static void interrupt(struct scheduler *s, struct proj_state *ps)
{
	pipeline_cancel(ps->pl);
	ps->pl = NULL;
	ps->running = false;
	s->running_on[ps->engine]--;
	s->running--;
	log_info("project %s: rebuild interrupted; it runs again later", ps->name);
}

void scheduler_interrupt(struct scheduler *s)
{
	while (s->rollbacks) {
		rollback_cancel(s->rollbacks->rb);
		rb_unlink(s, s->rollbacks);
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->ps[i]->pl)
			interrupt(s, s->ps[i]);
	while (s->gone) {
		struct proj_state *ps = s->gone;
		interrupt(s, ps);
		gone_unlink(s, ps);
		state_free(ps);
	}
}

/* libuv runs close callbacks in no promised order: free with the last one. */
static void closed(uv_handle_t *h)
{
	struct scheduler *s = h->data;

	if (--s->closing == 0)
		free(s);
}

void scheduler_free(struct scheduler *s)
{
	if (!s)
		return;
	scheduler_interrupt(s);
	states_free(s->ps, s->n);
	strmap_done(&s->by_name);
	scheduler_graph_done(&s->deps);
	scheduler_graph_done(&s->users);
	config_free(s->cfg);
	s->closing = 2;
	uv_close((uv_handle_t *)&s->timer, closed);
	uv_close((uv_handle_t *)&s->kick, closed);
}
