/*
 * tagwatch — newer tags of version-pinned bases (see tagwatch.h).
 */
#include "tagwatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "bases.h"
#include "config.h"
#include "follow.h"
#include "log.h"
#include "ref.h"
#include "registry.h"
#include "store.h"
#include "store_follow.h"
#include "store_tags.h"
#include "tagver.h"
#include "wallclock.h"

#define FIRST_CHECK_MS 10000  /* a repository new to this run is listed within this */
#define RETRY_MS       300000 /* after a failed listing, unless the interval is shorter */

struct tw_user {
	char *project, *ref, *tag;
	enum tagver_policy policy;
	char *env;              /* follow: the environment that follows, else NULL */
	struct follow_base *fb; /* follow: the FROM and its ARG */
};

struct tw_repo {
	struct tagwatch *t;
	char *name; /* domain/path */
	struct image_ref ref;
	struct tw_user *users;
	size_t n_users, cap_users;
	char **tags; /* the last full list, for a 304 */
	size_t n_tags;
	char etag[128];
	char *last_error; /* warned once until it changes */
	uint64_t due;
	bool inflight;
	struct tw_repo *next;
};

struct tagwatch {
	uv_loop_t *loop;
	struct store *store;
	struct registry_pool *reg;
	char platform[64];
	tagwatch_cb cb;
	void *arg;
	tagwatch_follow_cb follow_cb;
	uint64_t interval_ms;
	unsigned jitter_pct;
	struct tw_repo *repos;
	size_t count;
	uv_timer_t tick;
};

static void tags_free(struct tw_repo *r)
{
	for (size_t i = 0; i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	r->tags = NULL;
	r->n_tags = 0;
	r->etag[0] = '\0';
}

static void repo_free(struct tw_repo *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_users; i++) {
		free(r->users[i].project);
		free(r->users[i].ref);
		free(r->users[i].tag);
		free(r->users[i].env);
		free(r->users[i].fb);
	}
	free(r->users);
	tags_free(r);
	free(r->last_error);
	free(r->name);
	free(r);
}

static uint64_t next_due(const struct tagwatch *t, uint64_t interval)
{
	uint64_t span = interval * t->jitter_pct / 100;

	return uv_now(t->loop) + interval - span + (span ? (uint64_t)rand() % (2 * span + 1) : 0);
}

/* Keeps a copy of the listed tags (the answer's strings live during the callback only). */
static int tags_keep(struct tw_repo *r, const struct registry_result *res)
{
	char **v = calloc(res->n_tags + 1, sizeof(char *));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_tags; i++)
		if (!(v[i] = strdup(res->tags[i]))) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return -ENOMEM;
		}
	tags_free(r);
	r->tags = v;
	r->n_tags = res->n_tags;
	snprintf(r->etag, sizeof(r->etag), "%s", res->etag ? res->etag : "");
	return 0;
}

/* follow: the newest tag of the environment's policy gives the ARG's value to build with. */
static void judge_follow(struct tw_repo *r, const struct tw_user *u)
{
	const struct follow_tpl *tp = &u->fb->tpl;
	const char *newest = NULL;
	char value[TAGVER_MAX_LEN + 1], reason[512];
	struct store_follow_row row = {
	        u->project,    u->env,    tp->arg, value,
	        NULL,          tp->value, u->ref,  tagver_policy_name(u->policy),
	        wallclock_ms()};
	bool changed = false;

	if (tagver_newest(u->tag, u->policy, (const char *const *)r->tags, r->n_tags, &newest) !=
	    1) {
		store_follow_clear(r->t->store, u->project, u->env, NULL);
		return;
	}
	if (follow_derive(tp, newest, value, sizeof(value)) < 0) {
		log_warn("project %s (%s): cannot follow %s to %s: it does not match %s${%s}%s",
		         u->project, u->env, tp->arg, newest, tp->prefix, tp->arg, tp->suffix);
		return;
	}
	row.tag = newest;
	if (store_follow_set(r->t->store, &row, &changed) < 0) {
		log_err("project %s (%s): could not record the followed value of %s", u->project,
		        u->env, tp->arg);
		return;
	}
	if (!changed)
		return;
	snprintf(reason, sizeof(reason), "follow: %s %s -> %s", tp->arg, tp->value, value);
	log_info("project %s (%s): %s (%s is out, follow %s)", u->project, u->env, reason, newest,
	         row.policy);
	if (store_trigger_add_env(r->t->store, u->project, u->env, "base", reason, wallclock_ms(),
	                          NULL) < 0)
		log_err("project %s (%s): could not record the trigger: %s", u->project, u->env,
		        reason);
	else if (r->t->follow_cb)
		r->t->follow_cb(u->project, u->env, r->t->arg);
}

static void judge(struct tw_repo *r, const struct tw_user *u, const char *error)
{
	const char *newest = NULL, *policy = tagver_policy_name(u->policy);
	struct store_tags_row row = {u->project, u->ref, u->tag,        policy,
	                             NULL,       error,  wallclock_ms()};
	bool announce = false;

	if (u->fb) {
		if (!error)
			judge_follow(r, u);
		return;
	}
	if (!error &&
	    tagver_newest(u->tag, u->policy, (const char *const *)r->tags, r->n_tags, &newest) == 1)
		row.newest = newest;
	if (store_tags_update(r->t->store, &row, &announce) < 0) {
		log_err("project %s: could not record the newest tag of %s", u->project, u->ref);
		return;
	}
	if (!announce)
		return;
	log_info("project %s: base %s is outdated: %s is out (policy %s)", u->project, u->ref,
	         newest, policy);
	if (r->t->cb)
		r->t->cb(u->project, u->ref, u->tag, newest, policy, r->t->arg);
}

static void arm(struct tagwatch *t);

static void listed_cb(int status, const struct registry_result *res, void *arg)
{
	struct tw_repo *r = arg;
	const char *error = NULL;

	r->inflight = false;
	if (status == 0 && !res->not_modified && tags_keep(r, res) < 0)
		error = "out of memory";
	else if (status < 0)
		error = res->error;
	if (!error && res->not_modified)
		log_debug("tags of %s: unchanged (ETag)", r->name);
	else if (!error)
		log_debug("tags of %s: %zu in %u page(s)", r->name, res->n_tags, res->pages);
	else if (status == -EAGAIN || (r->last_error && !strcmp(r->last_error, error)))
		log_debug("tags of %s: %s", r->name, error);
	else
		log_warn("tags of %s: %s", r->name, error);
	if (!error && r->last_error)
		log_info("tags of %s: answering again", r->name);
	free(r->last_error);
	r->last_error = error ? strdup(error) : NULL;
	for (size_t i = 0; i < r->n_users; i++)
		judge(r, &r->users[i], error);
	r->due = next_due(r->t,
	                  error && RETRY_MS < r->t->interval_ms ? RETRY_MS : r->t->interval_ms);
	arm(r->t);
}

static void list_repo(struct tw_repo *r)
{
	struct registry_tags_req q = {&r->ref, r->n_tags && r->etag[0] ? r->etag : NULL, 0};
	int e = registry_tags(r->t->reg, &q, listed_cb, r);

	if (e < 0) {
		log_err("tags of %s: cannot start a listing: %s", r->name, strerror(-e));
		r->due = next_due(r->t, r->t->interval_ms);
		return;
	}
	r->inflight = true;
}

static void tick_cb(uv_timer_t *h)
{
	struct tagwatch *t = h->data;
	uint64_t now = uv_now(t->loop);

	for (struct tw_repo *r = t->repos; r; r = r->next)
		if (!r->inflight && r->due <= now)
			list_repo(r);
	arm(t);
}

static void arm(struct tagwatch *t)
{
	uint64_t now = uv_now(t->loop), first = UINT64_MAX;

	for (struct tw_repo *r = t->repos; r; r = r->next)
		if (!r->inflight && r->due < first)
			first = r->due;
	if (first == UINT64_MAX)
		uv_timer_stop(&t->tick);
	else
		uv_timer_start(&t->tick, tick_cb, first > now ? first - now : 0, 0);
}

int tagwatch_new(uv_loop_t *loop, struct store *store, struct registry_pool *reg,
                 const char *platform, tagwatch_cb cb, void *arg, struct tagwatch **ret)
{
	struct tagwatch *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->store = store;
	t->reg = reg;
	snprintf(t->platform, sizeof(t->platform), "%s", platform ? platform : "linux/amd64");
	t->cb = cb;
	t->arg = arg;
	uv_timer_init(loop, &t->tick);
	t->tick.data = t;
	*ret = t;
	return 0;
}

static struct tw_repo *repo_get(struct tagwatch *t, struct tw_repo **list,
                                const struct image_ref *ref)
{
	struct tw_repo *r;
	char name[REF_STRING_MAX];

	snprintf(name, sizeof(name), "%s/%s", ref->domain, ref->path);
	for (r = *list; r; r = r->next)
		if (!strcmp(r->name, name))
			return r;
	if (!(r = calloc(1, sizeof(*r))) || !(r->name = strdup(name))) {
		free(r);
		return NULL;
	}
	r->t = t;
	r->ref = *ref;
	r->due = uv_now(t->loop) +
	         (uint64_t)rand() %
	                 (t->interval_ms < FIRST_CHECK_MS ? t->interval_ms : FIRST_CHECK_MS);
	r->next = *list;
	*list = r;
	return r;
}

static int user_add(struct tw_repo *r, const char *project, const struct base_use *b, int policy)
{
	struct tw_user *u;

	/* a project's users are added together: look back over this project's only */
	for (size_t i = r->n_users; i-- > 0 && !strcmp(r->users[i].project, project);)
		if (!r->users[i].fb && !strcmp(r->users[i].ref, b->ref))
			return 0;
	if (ARRAY_GROW(r->users, r->cap_users, r->n_users, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	u = &r->users[r->n_users];
	*u = (struct tw_user){strdup(project),
	                      strdup(b->ref),
	                      strdup(b->parsed.tag),
	                      (enum tagver_policy)policy,
	                      NULL,
	                      NULL};
	r->n_users++;
	return u->project && u->ref && u->tag ? 0 : -ENOMEM;
}

/* Environment e follows fb: a user of its repository under e's policy. */
static int follow_user_add(struct tw_repo *r, const char *project, const struct config_env *e,
                           const struct follow_base *fb)
{
	struct tw_user *u;

	if (ARRAY_GROW(r->users, r->cap_users, r->n_users, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	u = &r->users[r->n_users];
	*u = (struct tw_user){strdup(project), strdup(fb->ref),
	                      strdup(fb->tag), (enum tagver_policy)e->follow,
	                      strdup(e->name), malloc(sizeof(*fb))};
	r->n_users++;
	if (!u->project || !u->ref || !u->tag || !u->env || !u->fb)
		return -ENOMEM;
	*u->fb = *fb;
	return 0;
}

/* The environments of p that follow an ARG; the rows of those that do not are dropped. */
static int add_follows(struct tagwatch *t, struct tw_repo **list, const struct config_project *p)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->n_envs; i++) {
		const struct config_env *e = &p->envs[i];
		struct follow_base fb;
		struct image_ref ref;
		struct tw_repo *repo;
		char err[1024];

		if (e->follow == TAGVER_OFF ||
		    bases_follow(p, e, t->platform, &fb, err, sizeof(err)) < 0 ||
		    ref_parse(fb.ref, &ref, NULL) < 0) {
			if (e->follow != TAGVER_OFF)
				log_warn("project %s (%s): follow: nothing to follow: %s", p->name,
				         e->name, err);
			store_follow_clear(t->store, p->name, e->name, NULL);
			continue;
		}
		store_follow_clear(t->store, p->name, e->name, fb.tpl.arg);
		repo = repo_get(t, list, &ref);
		r = repo ? follow_user_add(repo, p->name, e, &fb) : -ENOMEM;
	}
	return r;
}

/* Adds the version-pinned bases of project p to list. */
static int add_project(struct tagwatch *t, struct tw_repo **list, const struct config_project *p)
{
	struct base_use *uses = NULL;
	size_t n = 0;
	char err[512];
	int r = add_follows(t, list, p);

	if (r < 0 || p->outdated == TAGVER_OFF)
		return r;
	if (bases_of_project(p, t->platform, &uses, &n, err, sizeof(err)) < 0)
		return 0; /* the watcher has said why */
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct tagver v;
		struct tw_repo *repo;

		if (!uses[i].parsed.tag[0] || tagver_parse(uses[i].parsed.tag, &v) < 0)
			continue;
		repo = repo_get(t, list, &uses[i].parsed);
		r = repo ? user_add(repo, p->name, &uses[i], p->outdated) : -ENOMEM;
	}
	free(uses);
	return r;
}

/* Moves what the old repositories knew (tags, ETag, schedule) to the new ones; frees the old. */
static void carry_over(struct tagwatch *t, struct tw_repo *fresh)
{
	struct tw_repo *old, *next;

	for (old = t->repos; old; old = next) {
		next = old->next;
		if (old->inflight)
			registry_cancel(t->reg, listed_cb, old);
		for (struct tw_repo *r = fresh; r; r = r->next) {
			if (strcmp(r->name, old->name))
				continue;
			r->tags = old->tags;
			r->n_tags = old->n_tags;
			memcpy(r->etag, old->etag, sizeof(r->etag));
			old->tags = NULL;
			old->n_tags = 0;
			if (!old->inflight)
				r->due = old->due;
		}
		repo_free(old);
	}
	t->repos = fresh;
}

int tagwatch_configure(struct tagwatch *t, const struct config *cfg)
{
	struct tw_repo *fresh = NULL;
	const char **off = calloc(cfg->n_projects + 1, sizeof(char *));
	size_t n_off = 0;
	int r = off ? 0 : -ENOMEM;

	t->interval_ms = cfg->poll.tags_ms;
	t->jitter_pct = cfg->poll.jitter_pct;
	for (size_t i = 0; r == 0 && i < cfg->n_projects; i++) {
		if (cfg->projects[i].outdated == TAGVER_OFF)
			off[n_off++] = cfg->projects[i].name;
		r = add_project(t, &fresh, &cfg->projects[i]);
	}
	carry_over(t, fresh);
	t->count = 0;
	for (struct tw_repo *repo = t->repos; repo; repo = repo->next)
		t->count++;
	if (r == 0 && store_tags_prune(t->store, off) < 0)
		log_err("tagwatch: could not drop the newer tags of bases no longer used");
	free(off);
	log_info("listing the tags of %zu repositor%s of version-pinned bases, every %llu s",
	         t->count, t->count == 1 ? "y" : "ies",
	         (unsigned long long)(t->interval_ms / 1000));
	arm(t);
	return r;
}

void tagwatch_on_follow(struct tagwatch *t, tagwatch_follow_cb cb)
{
	t->follow_cb = cb;
}

size_t tagwatch_count(const struct tagwatch *t)
{
	return t ? t->count : 0;
}

static void closed(uv_handle_t *h)
{
	free(h->data);
}

void tagwatch_free(struct tagwatch *t)
{
	struct tw_repo *r, *next;

	if (!t)
		return;
	for (r = t->repos; r; r = next) {
		next = r->next;
		repo_free(r);
	}
	uv_close((uv_handle_t *)&t->tick, closed);
}
