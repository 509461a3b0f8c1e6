#include "watcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "bases.h"
#include "config.h"
#include "log.h"
#include "ref.h"
#include "registry.h"
#include "store.h"
#include "strmap.h"
#include "wallclock.h"

/* Kept small: a host may watch tens of thousands of references. */
#define MAX_INFLIGHT 32 /* lookups handed to the registry pool at once */

struct watch_entry {
	struct watcher *w;
	char *ref; /* normalised, with tag or digest */
	char platform[64];
	char **users; /* projects using it, NULL-terminated */
	size_t n_users, cap_users;
	uint64_t due;   /* loop time */
	size_t heap_at; /* in w->heap, or NOT_QUEUED (in flight, or dead) */
	char *key;      /* "platform ref", for the map of entries */
	bool inflight, dead, seen_this_round;
	char *last_error; /* logged once until it changes */
	struct watch_entry *next;
};

struct watcher {
	uv_loop_t *loop;
	struct store *store;
	struct registry_pool *reg;
	char platform[64];
	watcher_trigger_cb cb;
	void *arg;
	uint64_t interval_ms, settle_ms;
	unsigned jitter_pct;
	struct watch_entry *entries;
	struct watch_entry *dead; /* dropped by a reconfigure while their lookup runs */
	/* The entries waiting for their turn, a binary min-heap on due: the next check and
	 * each answer cost O(log n), not a walk of every watched reference. */
	struct watch_entry **heap;
	size_t n_heap, cap_heap;
	size_t count, inflight;
	uv_timer_t tick;
	/* Unchanged digests: their checked_at goes to the store in batches (one fsync per
	 * CHECKED_FLUSH_MS or CHECKED_BATCH of them), not one transaction per answer. */
	struct checked *checked;
	size_t n_checked, cap_checked;
	uint64_t checked_since; /* loop time of the oldest */
};

struct checked {
	char *ref;
	char platform[64];
	uint64_t at;
};

#define CHECKED_FLUSH_MS 5000
#define CHECKED_BATCH    512

#define NOT_QUEUED SIZE_MAX

static void heap_set(struct watcher *w, size_t i, struct watch_entry *e)
{
	w->heap[i] = e;
	e->heap_at = i;
}

static void sift_up(struct watcher *w, size_t i)
{
	struct watch_entry *e = w->heap[i];

	while (i > 0 && w->heap[(i - 1) / 2]->due > e->due) {
		heap_set(w, i, w->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(w, i, e);
}

static void sift_down(struct watcher *w, size_t i)
{
	struct watch_entry *e = w->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= w->n_heap)
			break;
		if (c + 1 < w->n_heap && w->heap[c + 1]->due < w->heap[c]->due)
			c++;
		if (w->heap[c]->due >= e->due)
			break;
		heap_set(w, i, w->heap[c]);
		i = c;
	}
	heap_set(w, i, e);
}

/* Queues e for its due time; -ENOMEM leaves it out (logged: it is not polled). */
static int heap_push(struct watcher *w, struct watch_entry *e)
{
	if (ARRAY_GROW(w->heap, w->cap_heap, w->n_heap, ARRAY_NO_MAX) < 0) {
		log_err("base %s: out of memory; it is not polled", e->ref);
		return -ENOMEM;
	}
	heap_set(w, w->n_heap++, e);
	sift_up(w, e->heap_at);
	return 0;
}

static void heap_remove(struct watcher *w, struct watch_entry *e)
{
	struct watch_entry *moved;
	size_t i = e->heap_at;

	if (i == NOT_QUEUED)
		return;
	e->heap_at = NOT_QUEUED;
	if (i == --w->n_heap)
		return;
	moved = w->heap[w->n_heap];
	heap_set(w, i, moved);
	sift_up(w, i);
	sift_down(w, moved->heap_at);
}

static void copy_digest(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

enum base_event base_observe(struct store_base *s, const char *digest, const char *index_digest,
                             uint64_t now, uint64_t settle_ms)
{
	s->checked_at = now;
	if (!s->digest[0]) {
		copy_digest(s->digest, sizeof(s->digest), digest);
		copy_digest(s->index_digest, sizeof(s->index_digest), index_digest);
		s->first_seen = s->changed_at = now;
		return BASE_FIRST;
	}
	if (!strcmp(s->digest, digest)) {
		copy_digest(s->index_digest, sizeof(s->index_digest), index_digest);
		if (!s->candidate[0])
			return BASE_SAME;
		s->candidate[0] = '\0';
		s->candidate_since = 0;
		return BASE_FLIPPED_BACK;
	}
	if (strcmp(s->candidate, digest)) { /* a new candidate (or another one) */
		copy_digest(s->candidate, sizeof(s->candidate), digest);
		s->candidate_since = now;
		if (settle_ms > 0)
			return BASE_CANDIDATE;
	} else if (now - s->candidate_since < settle_ms) {
		return BASE_SETTLING;
	}
	copy_digest(s->digest, sizeof(s->digest), digest);
	copy_digest(s->index_digest, sizeof(s->index_digest), index_digest);
	s->candidate[0] = '\0';
	s->candidate_since = 0;
	s->changed_at = now;
	return BASE_MOVED;
}

static void entry_free(struct watch_entry *e)
{
	for (size_t i = 0; i < e->n_users; i++)
		free(e->users[i]);
	free(e->users);
	free(e->key);
	free(e->ref);
	free(e->last_error);
	free(e);
}

/* The next due time: the interval, shortened or stretched by up to jitter_pct. */
static uint64_t next_due(const struct watcher *w, uint64_t now)
{
	uint64_t span = w->interval_ms * w->jitter_pct / 100;
	uint64_t base = w->interval_ms - span;

	return now + base + (span ? (uint64_t)rand() % (2 * span + 1) : 0);
}

static void arm(struct watcher *w);

static void schedule_settle(struct watch_entry *e, const struct store_base *b, uint64_t wall)
{
	struct watcher *w = e->w;
	uint64_t left = b->candidate_since + w->settle_ms > wall
	                        ? b->candidate_since + w->settle_ms - wall
	                        : 0;
	uint64_t at = uv_now(w->loop) + left + 200;

	if (at < e->due)
		e->due = at; /* look again as soon as the window closes */
}

static void fire_triggers(struct watch_entry *e, const int64_t *ids)
{
	for (size_t i = 0; i < e->n_users; i++)
		if (e->w->cb)
			e->w->cb(e->users[i], ids[i], e->w->arg);
}

static void flush_checked(struct watcher *w)
{
	struct store_base_checked *v = calloc(w->n_checked ? w->n_checked : 1, sizeof(*v));

	for (size_t i = 0; v && i < w->n_checked; i++)
		v[i] = (struct store_base_checked){w->checked[i].ref, w->checked[i].platform,
		                                   w->checked[i].at};
	if (!v || store_bases_checked(w->store, v, w->n_checked) < 0)
		log_warn("watcher: the check times of %zu base(s) could not be recorded",
		         w->n_checked);
	free(v);
	for (size_t i = 0; i < w->n_checked; i++)
		free(w->checked[i].ref);
	w->n_checked = 0;
}

/* Queues an unchanged poll's time; false when it must be written now (no memory). */
static bool batch_checked(struct watch_entry *e, uint64_t at)
{
	struct watcher *w = e->w;

	if (ARRAY_GROW(w->checked, w->cap_checked, w->n_checked, ARRAY_NO_MAX) < 0)
		return false;
	if (!(w->checked[w->n_checked].ref = strdup(e->ref)))
		return false;
	snprintf(w->checked[w->n_checked].platform, sizeof(w->checked[0].platform), "%s",
	         e->platform);
	w->checked[w->n_checked].at = at;
	if (!w->n_checked++)
		w->checked_since = uv_now(w->loop);
	if (w->n_checked >= CHECKED_BATCH)
		flush_checked(w);
	return true;
}

static void record(struct watch_entry *e, const struct registry_result *r)
{
	struct watcher *w = e->w;
	struct store_base b = {0};
	uint64_t now = wallclock_ms();
	char old[80], reason[REF_STRING_MAX + 200];
	int64_t *ids = calloc(e->n_users + 1, sizeof(int64_t));
	enum base_event ev;
	bool trig, same_index;

	if (store_base_get(w->store, e->ref, e->platform, &b) < 0)
		memset(&b, 0, sizeof(b));
	snprintf(old, sizeof(old), "%s", b.digest);
	same_index = !strcmp(b.index_digest, r->index_digest ? r->index_digest : "");
	ev = base_observe(&b, r->digest, r->index_digest, now, w->settle_ms);
	trig = ev == BASE_MOVED;
	if (ev == BASE_SAME && same_index && !b.candidate[0] && !e->last_error &&
	    batch_checked(e, now)) {
		free(ids);
		return;
	}
	snprintf(reason, sizeof(reason), "base %s moved: %.19s -> %.19s", e->ref, old, r->digest);
	if (!ids ||
	    store_base_update(w->store, e->ref, e->platform, &b, NULL,
	                      trig ? (const char *const *)e->users : NULL, reason, now, ids) < 0) {
		const char *why = store_write_error(w->store, NULL);

		/* Nothing of it was written: the next poll sees the same change again. */
		log_err("watcher: could not record %s%s%s; it is checked again at the next poll",
		        e->ref, why ? ": " : "", why ? why : "");
		free(ids);
		return;
	}
	if (ev == BASE_FIRST)
		log_info("base %s (%s): %s", e->ref, e->platform, r->digest);
	else if (ev == BASE_CANDIDATE)
		log_info("base %s: new digest %s, settling for %llu s", e->ref, r->digest,
		         (unsigned long long)(w->settle_ms / 1000));
	else if (ev == BASE_FLIPPED_BACK)
		log_info("base %s: back to %s within the settle window; no rebuild", e->ref,
		         b.digest);
	else if (trig)
		log_info("%s; rebuild of %zu project(s) triggered", reason, e->n_users);
	if (b.candidate[0])
		schedule_settle(e, &b, now);
	if (trig)
		fire_triggers(e, ids);
	free(ids);
	free(e->last_error); /* the error, if any, is over: recorded as such */
	e->last_error = NULL;
}

static void record_error(struct watch_entry *e, int status, const char *error)
{
	struct watcher *w = e->w;
	struct store_base b = {0};

	if (store_base_get(w->store, e->ref, e->platform, &b) < 0)
		memset(&b, 0, sizeof(b));
	b.checked_at = wallclock_ms();
	store_base_update(w->store, e->ref, e->platform, &b, error, NULL, NULL, 0, NULL);
	if (status == -EAGAIN || (e->last_error && !strcmp(e->last_error, error)))
		log_debug("base %s: %s", e->ref, error);
	else
		log_warn("base %s: %s", e->ref, error);
	free(e->last_error);
	e->last_error = strdup(error);
}

static void dead_unlink(struct watcher *w, struct watch_entry *e)
{
	for (struct watch_entry **pp = &w->dead; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			return;
		}
}

static void lookup_cb(int status, const struct registry_result *r, void *arg)
{
	struct watch_entry *e = arg;

	e->inflight = false;
	e->w->inflight--;
	if (e->dead) {
		dead_unlink(e->w, e);
		entry_free(e);
		return;
	}
	if (status == 0) {
		if (e->last_error)
			log_info("base %s: answering again", e->ref);
		free(e->last_error);
		e->last_error = NULL;
		record(e, r);
	} else
		record_error(e, status, r->error);
	heap_push(e->w, e);
	arm(e->w);
}

static void poll_entry(struct watch_entry *e)
{
	struct watcher *w = e->w;
	struct store_base b = {0};
	struct image_ref parsed;
	struct registry_lookup l = {&parsed, e->platform, NULL, NULL};
	int r;

	if (ref_parse(e->ref, &parsed, NULL) < 0) { /* it parsed when it was added */
		e->due = next_due(w, uv_now(w->loop));
		heap_push(w, e);
		return;
	}
	if (store_base_get(w->store, e->ref, e->platform, &b) == 0 && b.index_digest[0]) {
		l.known_index = b.index_digest;
		l.known_digest = b.digest; /* an unchanged index costs one HEAD */
	}
	e->due = next_due(w, uv_now(w->loop));
	r = registry_digest(w->reg, &l, lookup_cb, e);
	if (r < 0) {
		log_err("base %s: cannot start a lookup: %s", e->ref, strerror(-r));
		heap_push(w, e);
	} else {
		e->inflight = true;
		w->inflight++;
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct watcher *w = t->data;
	uint64_t now = uv_now(w->loop);

	if (w->n_checked && now - w->checked_since >= CHECKED_FLUSH_MS)
		flush_checked(w);
	/* A bounded number in flight: the rest stay due and go out as answers come. */
	while (w->n_heap && w->inflight < MAX_INFLIGHT && w->heap[0]->due <= now) {
		struct watch_entry *e = w->heap[0];
		heap_remove(w, e);
		poll_entry(e);
	}
	arm(w);
}

/* Sleeps until the earliest due entry (none while MAX_INFLIGHT lookups run: the next
 * answer re-arms), or until the batch of check times is due for the store. */
static void arm(struct watcher *w)
{
	uint64_t now = uv_now(w->loop), first = UINT64_MAX;

	if (w->n_heap && w->inflight < MAX_INFLIGHT)
		first = w->heap[0]->due;
	if (w->n_checked && w->checked_since + CHECKED_FLUSH_MS < first)
		first = w->checked_since + CHECKED_FLUSH_MS;
	if (first == UINT64_MAX)
		uv_timer_stop(&w->tick);
	else
		uv_timer_start(&w->tick, tick_cb, first > now ? first - now : 0, 0);
}

int watcher_new(uv_loop_t *loop, struct store *store, struct registry_pool *reg,
                const struct watcher_opts *o, struct watcher **ret)
{
	struct watcher *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->loop = loop;
	w->store = store;
	w->reg = reg;
	snprintf(w->platform, sizeof(w->platform), "%s",
	         o && o->platform ? o->platform : "linux/amd64");
	w->cb = o ? o->cb : NULL;
	w->arg = o ? o->arg : NULL;
	uv_timer_init(loop, &w->tick);
	w->tick.data = w;
	*ret = w;
	return 0;
}

/* The entries a configuration watches, found by "platform ref" as they are added. */
struct fresh {
	struct watch_entry **v;
	size_t n, cap;
	struct strmap by_key;
};

static struct watch_entry *entry_new(struct watcher *w, const struct base_use *b)
{
	struct watch_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->w = w;
	e->heap_at = NOT_QUEUED;
	e->ref = strdup(b->ref);
	snprintf(e->platform, sizeof(e->platform), "%s", b->platform);
	if (!e->ref || asprintf(&e->key, "%s %s", b->platform, b->ref) < 0) {
		e->key = NULL;
		entry_free(e);
		return NULL;
	}
	return e;
}

static int fresh_add(struct fresh *f, struct watch_entry *e)
{
	if (ARRAY_GROW(f->v, f->cap, f->n, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	if (strmap_put(&f->by_key, e->key, f->n) < 0)
		return -ENOMEM;
	f->v[f->n++] = e;
	return 0;
}

/* Adds project as a user of the base b, creating the entry when new. */
static int watch(struct watcher *w, struct fresh *f, const struct base_use *b, const char *project)
{
	struct watch_entry *e = NULL;
	struct store_base st;
	char key[sizeof(e->platform) + REF_STRING_MAX + 2];
	size_t k;

	snprintf(key, sizeof(key), "%s %s", b->platform, b->ref);
	if (strmap_get(&f->by_key, key, &k))
		e = f->v[k];
	if (!e) {
		if (!(e = entry_new(w, b)))
			return -ENOMEM;
		if (fresh_add(f, e) < 0) {
			entry_free(e);
			return -ENOMEM;
		}
		/* never seen: look soon; known: anywhere in the first interval */
		e->due = uv_now(w->loop) +
		         (uint64_t)rand() %
		                 (store_base_get(w->store, b->ref, b->platform, &st) == 0
		                          ? w->interval_ms
		                          : (w->interval_ms < 5000 ? w->interval_ms : 5000));
	}
	/* configure adds a project's bases together: only the last user can be this one (a
	 * walk of every user was quadratic with thousands of projects on one base) */
	if (e->n_users && !strcmp(e->users[e->n_users - 1], project))
		return 0;
	if (ARRAY_GROW(e->users, e->cap_users, e->n_users + 1, ARRAY_NO_MAX) < 0)
		return -ENOMEM; /* room for the user and the NULL after it */
	e->users[e->n_users + 1] = NULL;
	e->users[e->n_users] = strdup(project);
	if (!e->users[e->n_users])
		return -ENOMEM;
	e->n_users++;
	return 0;
}

static void record_usage(struct watcher *w, const char *project, const struct base_use *uses,
                         size_t n)
{
	struct store_base_use *su = calloc(n ? n : 1, sizeof(*su));

	if (!su)
		return;
	for (size_t i = 0; i < n; i++)
		su[i] = (struct store_base_use){uses[i].ref, uses[i].platform, uses[i].envs};
	if (store_project_bases_set(w->store, project, su, n) < 0)
		log_err("project %s: could not record its bases", project);
	free(su);
}

/* Keeps the schedule of entries that stay; drops the rest (in flight: later). */
static void replace_entries(struct watcher *w, struct fresh *f)
{
	struct watch_entry *e, *next;
	size_t k;

	for (e = w->entries; e; e = e->next)
		if (!e->inflight && strmap_get(&f->by_key, e->key, &k))
			f->v[k]->due = e->due;
	w->n_heap = 0; /* the old entries go (or wait for their lookup, dead) */
	for (e = w->entries; e; e = next) {
		next = e->next;
		if (!e->inflight) {
			entry_free(e);
			continue;
		}
		e->dead = true; /* freed by its lookup callback, or by watcher_free */
		e->next = w->dead;
		w->dead = e;
	}
	w->entries = NULL;
	for (size_t i = f->n; i-- > 0;) {
		f->v[i]->next = w->entries;
		w->entries = f->v[i];
		heap_push(w, f->v[i]);
	}
	w->count = f->n;
}

struct configure {
	struct watcher *w;
	const struct config *cfg;
	struct fresh fresh;
};

/* Every project's bases: watched, and what changed recorded, in one commit. */
static int configure_tx(struct store *s, void *arg)
{
	struct configure *c = arg;
	struct watcher *w = c->w;
	const struct config *cfg = c->cfg;
	struct fresh *fresh = &c->fresh;
	int r = 0;

	(void)s;
	for (size_t i = 0; r == 0 && i < cfg->n_projects; i++) {
		const struct config_project *p = &cfg->projects[i];
		struct base_use *uses = NULL;
		size_t n = 0;
		char err[512];

		if (bases_of_project(p, w->platform, &uses, &n, err, sizeof(err)) < 0) {
			log_err("project %s: %s; its bases are not watched", p->name, err);
			continue;
		}
		for (size_t j = 0; r == 0 && j < n; j++)
			r = watch(w, fresh, &uses[j], p->name);
		record_usage(w, p->name, uses, n);
		free(uses);
	}
	return r;
}

int watcher_configure(struct watcher *w, const struct config *cfg)
{
	struct configure c = {w, cfg, {0}};
	int r;

	w->interval_ms = cfg->poll.bases_ms;
	w->settle_ms = cfg->poll.settle_ms;
	w->jitter_pct = cfg->poll.jitter_pct;
	/* a failed commit loses only the usage rows: they are written again next time */
	r = store_transaction(w->store, configure_tx, &c);
	replace_entries(w, &c.fresh);
	strmap_done(&c.fresh.by_key);
	free(c.fresh.v);
	log_info("watching %zu base image reference(s), every %llu s", w->count,
	         (unsigned long long)(w->interval_ms / 1000));
	arm(w);
	return r;
}

void watcher_check_now(struct watcher *w, const char *name)
{
	char full[REF_STRING_MAX];

	for (struct watch_entry *e = w->entries; e; e = e->next) {
		struct image_ref parsed;
		if (ref_parse(e->ref, &parsed, NULL) == 0 &&
		    ref_name(&parsed, full, sizeof(full)) >= 0 && !strcmp(full, name)) {
			e->due = 0;
			if (e->heap_at != NOT_QUEUED)
				sift_up(w, e->heap_at);
		}
	}
	arm(w);
}

void watcher_set_platform(struct watcher *w, const char *platform)
{
	snprintf(w->platform, sizeof(w->platform), "%s", platform);
}

size_t watcher_count(const struct watcher *w)
{
	return w->count;
}

static void watcher_closed(uv_handle_t *h)
{
	free(h->data);
}

void watcher_free(struct watcher *w)
{
	struct watch_entry *e, *next;

	if (!w)
		return;
	flush_checked(w);
	free(w->checked);
	/* The registry pool is freed first: no callback can come, not even for the dead. */
	for (e = w->entries; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	for (e = w->dead; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	free(w->heap);
	uv_close((uv_handle_t *)&w->tick, watcher_closed);
}
