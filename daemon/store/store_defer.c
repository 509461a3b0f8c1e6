/*
 * store_defer.c — writes that must not be lost to a full disk. A build's outcome and a
 * trigger's state that SQLite could not write (disk full, I/O error) are kept in memory,
 * in order, and written by store_retry once the store takes writes again; while any wait,
 * later ones queue behind them so that the rows end as the last write says. The store's
 * write health (the last failure and since when) is what /healthz and POST errors report.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "wallclock.h"

/* At most this many writes wait: a day of builds on a busy host. */
#define DEFER_MAX 4096

struct store_deferred {
	struct store_deferred *next;
	int64_t id;
	bool trigger; /* a trigger's state, else a build row update */
	struct store_build b;
	char *state;
	int64_t build_id;
	uint64_t at;
};

#define N_TEXTS 11

/* The text fields of a build update, to copy and free them as one. */
static void build_texts(struct store_build *b, const char **ret[N_TEXTS])
{
	const char **v[N_TEXTS] = {&b->status,      &b->image_id,    &b->digest,   &b->base_name,
	                           &b->base_digest, &b->tags,        &b->log_path, &b->error,
	                           &b->builder,     &b->failed_step, &b->log_error};

	memcpy(ret, v, sizeof(v));
}

static void deferred_free(struct store_deferred *w)
{
	const char **f[N_TEXTS];

	if (!w)
		return;
	build_texts(&w->b, f);
	for (size_t i = 0; i < N_TEXTS; i++)
		free((void *)(uintptr_t)*f[i]);
	free(w->state);
	free(w);
}

static bool deferrable(int r)
{
	return r == -ENOSPC || r == -EIO || r == -EROFS;
}

static int enqueue(struct store *s, struct store_deferred *w)
{
	struct store_deferred **pp = &s->deferred;

	if (s->n_deferred >= DEFER_MAX) {
		log_err("store: %zu writes wait already; this one is lost", s->n_deferred);
		deferred_free(w);
		return -ENOBUFS;
	}
	while (*pp)
		pp = &(*pp)->next;
	*pp = w;
	s->n_deferred++;
	s->health_changes++;
	return 0;
}

static int defer_build(struct store *s, int64_t id, const struct store_build *b)
{
	struct store_deferred *w = calloc(1, sizeof(*w));
	const char **f[N_TEXTS];

	if (!w)
		return -ENOMEM;
	w->id = id;
	/* only what an update writes: the other fields point into the caller's memory */
	w->b = (struct store_build){.status = b->status,
	                            .started_at = b->started_at,
	                            .finished_at = b->finished_at,
	                            .image_id = b->image_id,
	                            .digest = b->digest,
	                            .base_name = b->base_name,
	                            .base_digest = b->base_digest,
	                            .tags = b->tags,
	                            .log_path = b->log_path,
	                            .error = b->error,
	                            .builder = b->builder,
	                            .failed_step = b->failed_step,
	                            .log_error = b->log_error};
	build_texts(&w->b, f);
	for (size_t i = 0; i < N_TEXTS; i++)
		if (*f[i] && !(*f[i] = strdup(*f[i]))) {
			for (size_t j = i + 1; j < N_TEXTS; j++)
				*f[j] = NULL;
			deferred_free(w);
			return -ENOMEM;
		}
	return enqueue(s, w);
}

static int defer_trigger(struct store *s, int64_t id, const char *state, int64_t build_id,
                         uint64_t at)
{
	struct store_deferred *w = calloc(1, sizeof(*w));

	if (!w || !(w->state = strdup(state))) {
		free(w);
		return -ENOMEM;
	}
	w->id = id;
	w->trigger = true;
	w->build_id = build_id;
	w->at = at;
	return enqueue(s, w);
}

static int apply(struct store *s, const struct store_deferred *w)
{
	return w->trigger ? store_trigger_state_now(s, w->id, w->state, w->build_id, w->at)
	                  : store_build_update_now(s, w->id, &w->b);
}

/* Writes the waiting writes in order, up to the first that fails again. */
static int flush(struct store *s)
{
	while (s->deferred) {
		struct store_deferred *w = s->deferred;
		int r = apply(s, w);

		if (r < 0)
			return r;
		s->deferred = w->next;
		s->n_deferred--;
		s->health_changes++;
		deferred_free(w);
	}
	return 0;
}

int store_build_update(struct store *s, int64_t id, const struct store_build *b)
{
	int r = flush(s);

	if (r == 0)
		r = store_build_update_now(s, id, b);
	if (r < 0 && deferrable(r) && defer_build(s, id, b) == 0)
		log_warn("store: the update of build %lld waits until the store can write (%s)",
		         (long long)id, s->write_error);
	return r;
}

int store_trigger_set_state(struct store *s, int64_t id, const char *state, int64_t build_id,
                            uint64_t at)
{
	int r = flush(s);

	if (r == 0)
		r = store_trigger_state_now(s, id, state, build_id, at);
	if (r < 0 && deferrable(r))
		defer_trigger(s, id, state, build_id, at);
	return r;
}

void store_write_failed(struct store *s, int rc)
{
	int p = rc & 0xff;

	if (p != SQLITE_FULL && p != SQLITE_IOERR && p != SQLITE_READONLY && p != SQLITE_CANTOPEN)
		return;
	if (!s->write_error[0]) {
		s->write_failing_since = wallclock_ms();
		s->health_changes++;
	}
	snprintf(s->write_error, sizeof(s->write_error), "%s%s", sqlite3_errstr(rc),
	         p == SQLITE_FULL ? " (the filesystem of state_dir is full)" : "");
}

void store_write_worked(struct store *s)
{
	if (!s->write_error[0] || !sqlite3_get_autocommit(s->db))
		return;
	log_info("store: writes work again (they failed for %llu s: %s)",
	         (unsigned long long)((wallclock_ms() - s->write_failing_since) / 1000),
	         s->write_error);
	s->write_error[0] = '\0';
	s->write_failing_since = 0;
	s->health_changes++;
}

const char *store_write_error(struct store *s, uint64_t *ret_since)
{
	if (ret_since)
		*ret_since = s->write_failing_since;
	return s->write_error[0] ? s->write_error : NULL;
}

size_t store_deferred_count(struct store *s)
{
	return s->n_deferred;
}

int store_retry(struct store *s)
{
	size_t n = s->n_deferred;
	int r;

	if (!s->write_error[0] && !n)
		return 0;
	r = flush(s);
	if (r == 0 && n)
		log_info("store: %zu delayed write(s) of build outcomes and triggers recorded", n);
	/* nothing waited: a journal entry is the probe, and records the gap */
	if (r == 0 && s->write_error[0]) {
		char msg[320];
		snprintf(msg, sizeof(msg), "writes failed from %llu: %s",
		         (unsigned long long)s->write_failing_since, s->write_error);
		r = store_event_add(s, wallclock_ms(), "store", NULL, msg);
	}
	return r;
}

void store_deferred_drop(struct store *s)
{
	if (s->n_deferred)
		log_err("store: %zu write(s) of build outcomes and triggers are lost (the store "
		        "never took writes again); those builds count as interrupted at the next "
		        "start",
		        s->n_deferred);
	while (s->deferred) {
		struct store_deferred *w = s->deferred;
		s->deferred = w->next;
		deferred_free(w);
	}
	s->n_deferred = 0;
}
