#include "scheduler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bases.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "pipeline.h"
#include "rollback.h"
#include "ref.h"
#include "store.h"
#include "wallclock.h"

#define MAX_ENGINES     64
#define AGE_CHECK_MS    60000
#define BACKOFF_BASE_MS 60000ULL
#define BACKOFF_MAX_MS  (6ULL * 3600 * 1000)
/* Rebuilds cut short by a lost engine go back to the queue at once, this many times in a
 * row; after that the failure counts as any other (a build that itself kills its engine). */
#define LOST_REQUEUES_MAX 3

struct proj_state {
	char *name;
	bool running, cyclic, blocked_by_dep;
	unsigned failures, lost_requeues;
	uint64_t retry_at; /* loop time; 0 = now */
	size_t engine;
	unsigned long broken_at_start; /* the engine's count of broken connections */
	char kind[16];                 /* of the trigger running */
	struct pipeline *pl;
	struct scheduler *s;
};

struct rb_ctx;

struct scheduler {
	struct scheduler_deps d;
	struct config *cfg;
	struct proj_state *ps; /* per cfg->projects[i] */
	size_t n;
	bool *dep; /* n x n: dep[i*n+j]: i builds on j's image */
	struct engine *engines[MAX_ENGINES];
	int max_builds[MAX_ENGINES], running_on[MAX_ENGINES];
	size_t n_engines, running;
	uv_timer_t timer; /* retries and max_age */
	uv_idle_t kick;   /* a kick runs from the loop, never inside the caller */
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

/* Depth-first visit; colour 0 new, 1 on the stack, 2 done. */
static int visit(const bool *dep, size_t n, size_t i, unsigned char *colour, size_t *order,
                 size_t *k, bool *cyclic)
{
	int r = 0;

	if (colour[i] == 2)
		return 0;
	if (colour[i] == 1) {
		cyclic[i] = true;
		return -ELOOP;
	}
	colour[i] = 1;
	for (size_t j = 0; j < n; j++)
		if (dep[i * n + j] && visit(dep, n, j, colour, order, k, cyclic) < 0) {
			cyclic[i] = true;
			r = -ELOOP;
		}
	colour[i] = 2;
	order[(*k)++] = i;
	return r;
}

int scheduler_order(const bool *dep, size_t n, size_t *ret_order, bool *ret_cyclic)
{
	unsigned char *colour = calloc(n ? n : 1, 1);
	size_t k = 0;
	int r = 0;

	if (!colour)
		return -ENOMEM;
	memset(ret_cyclic, 0, n * sizeof(bool));
	for (size_t i = 0; i < n; i++)
		if (visit(dep, n, i, colour, ret_order, &k, ret_cyclic) < 0)
			r = -ELOOP;
	free(colour);
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
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->ps[i].name, name))
			return (ssize_t)i;
	return -1;
}

/* i depends on j when one of i's bases is j's image repository. */
static void build_graph(struct scheduler *s)
{
	char names[256][REF_STRING_MAX];
	size_t n = s->n < 256 ? s->n : 256;

	for (size_t j = 0; j < n; j++) {
		struct image_ref r;
		names[j][0] = '\0';
		if (ref_parse(s->cfg->projects[j].image, &r, NULL) == 0)
			ref_name(&r, names[j], sizeof(names[j]));
	}
	for (size_t i = 0; i < n; i++) {
		struct base_use *uses = NULL;
		size_t nu = 0;
		char err[256], name[REF_STRING_MAX];

		if (bases_of_project(&s->cfg->projects[i], build_platform(s), &uses, &nu, err,
		                     sizeof(err)) < 0)
			continue;
		for (size_t u = 0; u < nu; u++) {
			ref_name(&uses[u].parsed, name, sizeof(name));
			for (size_t j = 0; j < n; j++)
				if (j != i && names[j][0] && !strcmp(name, names[j]))
					s->dep[i * s->n + j] = true;
		}
		free(uses);
	}
}

static void check_cycles(struct scheduler *s)
{
	size_t *order = calloc(s->n ? s->n : 1, sizeof(size_t));
	bool *cyclic = calloc(s->n ? s->n : 1, sizeof(bool));

	if (order && cyclic && scheduler_order(s->dep, s->n, order, cyclic) == -ELOOP)
		for (size_t i = 0; i < s->n; i++)
			if (cyclic[i]) {
				s->ps[i].cyclic = true;
				log_err("project %s: its image and its bases form a cycle with "
				        "other "
				        "projects; it is not scheduled until the configuration is "
				        "fixed",
				        s->ps[i].name);
			}
	free(order);
	free(cyclic);
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

static void free_states(struct proj_state *ps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ps[i].name);
	free(ps);
}

/* Keeps running rebuilds and failure counts of projects that stay. */
static void carry_over(struct scheduler *s, struct proj_state *old, size_t n_old)
{
	for (size_t i = 0; i < n_old; i++) {
		ssize_t k = project_index(s, old[i].name);
		if (k < 0) {
			if (old[i].pl)
				log_info("project %s left the configuration; its rebuild finishes",
				         old[i].name);
			continue;
		}
		s->ps[k].failures = old[i].failures;
		s->ps[k].retry_at = old[i].retry_at;
		s->ps[k].running = old[i].running;
		s->ps[k].pl = old[i].pl;
		s->ps[k].engine = old[i].engine;
		s->ps[k].broken_at_start = old[i].broken_at_start;
		s->ps[k].lost_requeues = old[i].lost_requeues;
		memcpy(s->ps[k].kind, old[i].kind, sizeof(s->ps[k].kind));
	}
}

void scheduler_configure(struct scheduler *s, struct config *cfg)
{
	struct proj_state *old = s->ps;
	size_t n_old = s->n;

	s->ps = calloc(cfg->n_projects ? cfg->n_projects : 1, sizeof(*s->ps));
	free(s->dep);
	s->dep = calloc(cfg->n_projects * cfg->n_projects + 1, sizeof(bool));
	if (!s->ps || !s->dep) {
		log_err("scheduler: out of memory");
		free(s->ps);
		s->ps = old;
		return;
	}
	config_free(s->cfg);
	s->cfg = config_ref(cfg);
	s->n = cfg->n_projects;
	for (size_t i = 0; i < s->n; i++) {
		s->ps[i].name = strdup(cfg->projects[i].name);
		s->ps[i].s = s;
	}
	carry_over(s, old, n_old);
	free_states(old, n_old);
	build_graph(s);
	check_cycles(s);
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
};

struct pending_list {
	struct pending *v;
	size_t n, cap;
};

static int collect(const struct store_trigger *t, void *arg)
{
	struct pending_list *l = arg;
	struct pending *grown;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		grown = realloc(l->v, l->cap * sizeof(*grown));
		if (!grown)
			return 1;
		l->v = grown;
	}
	l->v[l->n].id = t->id;
	snprintf(l->v[l->n].project, sizeof(l->v[l->n].project), "%s", t->project);
	snprintf(l->v[l->n].kind, sizeof(l->v[l->n].kind), "%s", t->kind);
	l->v[l->n].reasons = strdup(t->reasons ? t->reasons : "");
	l->n++;
	return 0;
}

static bool has_pending(const struct pending_list *l, const char *project)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].project, project))
			return true;
	return false;
}

/* A project waits while a project whose image it builds on is running or pending. */
static bool waits_for_dependency(const struct scheduler *s, size_t i, const struct pending_list *l)
{
	for (size_t j = 0; j < s->n; j++)
		if (s->dep[i * s->n + j] && (s->ps[j].running || has_pending(l, s->ps[j].name)))
			return true;
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

	snprintf(reason, sizeof(reason), "base %s was rebuilt by refit", s->cfg->projects[k].image);
	for (size_t i = 0; i < s->n; i++)
		if (s->dep[i * s->n + k] && store_trigger_add(s->d.store, s->ps[i].name, "base",
		                                              reason, wallclock_ms(), NULL) == 0)
			log_info("project %s: triggered, its base %s was rebuilt", s->ps[i].name,
			         s->cfg->projects[k].image);
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

static void pipeline_done(int status, const char *summary, void *arg)
{
	struct proj_state *ps = arg;
	struct scheduler *s = ps->s;
	ssize_t k = project_index(s, ps->name);

	ps->running = false;
	ps->pl = NULL;
	s->running--;
	s->running_on[ps->engine]--;
	if (status != 0 && engine_lost(s, ps)) {
		scheduler_kick(s);
		return;
	}
	ps->lost_requeues = 0;
	if (status == 0) {
		ps->failures = 0;
		ps->retry_at = 0;
		log_info("project %s: rebuild done (%s)", ps->name, summary);
		if (k >= 0)
			trigger_dependants(s, (size_t)k);
		if (s->d.rebuilt)
			s->d.rebuilt(ps->name, s->d.rebuilt_arg);
	} else {
		ps->failures++;
		ps->retry_at = uv_now(s->d.loop) + scheduler_backoff_ms(ps->failures);
		log_warn("project %s: rebuild failed (%s); retry in %llu s", ps->name, summary,
		         (unsigned long long)(scheduler_backoff_ms(ps->failures) / 1000));
		/* the failed trigger comes back as pending so that the retry happens */
		store_trigger_add(s->d.store, ps->name, "retry", "retry after a failed rebuild",
		                  wallclock_ms(), NULL);
	}
	scheduler_kick(s);
}

static bool start_one(struct scheduler *s, size_t k, const struct pending *t)
{
	struct proj_state *ps = &s->ps[k];
	bool warm;
	ssize_t e = pick_engine(s, ps->name, &warm);
	struct pipeline_deps d = {s->d.loop,       s->d.store,        NULL, s->d.creds,
	                          s->d.registries, s->cfg->state_dir, NULL, s->d.notify};
	struct pipeline_request req = {s->cfg, &s->cfg->projects[k], t->kind, t->reasons, t->id};
	int r;

	if (e < 0)
		return false;
	d.engine = s->engines[e];
	d.platform = engine_platform(d.engine) ? engine_platform(d.engine) : "linux/amd64";
	r = pipeline_start(&d, &req, pipeline_done, ps, &ps->pl);
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
	uint64_t now = uv_now(s->d.loop);

	uv_idle_stop(h);
	if (!s->cfg)
		return;
	store_triggers_pending(s->d.store, collect, &l);
	for (size_t i = 0; i < l.n; i++) {
		ssize_t k = project_index(s, l.v[i].project);
		struct proj_state *ps = k >= 0 ? &s->ps[k] : NULL;

		if (!ps || !s->cfg->projects[k].enabled || ps->running || ps->cyclic ||
		    ps->retry_at > now || waits_for_dependency(s, (size_t)k, &l))
			continue;
		if (!start_one(s, (size_t)k, &l.v[i]))
			break; /* no engine slot free */
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].reasons);
	free(l.v);
	arm_timer(s);
}

/* Age and first-build triggers for every configured project. */
static void age_triggers(struct scheduler *s)
{
	uint64_t now = wallclock_ms(), last;
	char reason[128];

	for (size_t i = 0; i < s->n; i++) {
		const struct config_project *p = &s->cfg->projects[i];
		int r = p->enabled ? store_last_success(s->d.store, p->name, &last) : -EPERM;

		if (r == -ENOENT && !store_project_attempted(s->d.store, p->name))
			store_trigger_add(s->d.store, p->name, "initial", "no build recorded yet",
			                  now, NULL);
		else if (r == 0 && now - last >= p->max_age_ms) {
			snprintf(reason, sizeof(reason), "last build older than max_age (%llu h)",
			         (unsigned long long)(p->max_age_ms / 3600000));
			store_trigger_add(s->d.store, p->name, "age", reason, now, NULL);
		}
	}
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
	uint64_t now = uv_now(s->d.loop), next = now + AGE_CHECK_MS;

	for (size_t i = 0; i < s->n; i++)
		if (s->ps[i].retry_at > now && s->ps[i].retry_at < next)
			next = s->ps[i].retry_at;
	uv_timer_start(&s->timer, timer_cb, next - now, 0);
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

static void rollback_done(int status, const char *message, void *arg)
{
	struct rb_ctx *c = arg;
	struct scheduler *s = c->s;

	(void)status;
	(void)message;
	rb_unlink(s, c);
	scheduler_kick(s);
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
	if (s->ps[k].running) {
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
	r = rollback_start(&d, s->cfg, &s->cfg->projects[k], env, rollback_done, c, &c->rb);
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

void scheduler_interrupt(struct scheduler *s)
{
	while (s->rollbacks) {
		rollback_cancel(s->rollbacks->rb);
		rb_unlink(s, s->rollbacks);
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->ps[i].pl) {
			pipeline_cancel(s->ps[i].pl);
			s->ps[i].pl = NULL;
			s->ps[i].running = false;
			s->running_on[s->ps[i].engine]--;
			s->running--;
			log_info("project %s: rebuild interrupted; it runs again later",
			         s->ps[i].name);
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
	free_states(s->ps, s->n);
	free(s->dep);
	config_free(s->cfg);
	s->closing = 2;
	uv_close((uv_handle_t *)&s->timer, closed);
	uv_close((uv_handle_t *)&s->kick, closed);
}
