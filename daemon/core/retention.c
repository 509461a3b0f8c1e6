#include "retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "wallclock.h"

#define FIRST_ROUND_MS (5 * 1000)
#define ROUND_EVERY_MS (6ULL * 3600 * 1000)
/* A batch is sized so that it holds the loop about TARGET_NS: halved when one took
 * twice that, doubled when one took half (a store of 300-package inventories: about
 * 20 builds in 10 ms on this project's test machine) */
#define BATCH_MIN 4
#define BATCH_MAX 512
#define TARGET_NS (10ULL * 1000 * 1000)

struct retention {
	uv_timer_t timer;
	struct store *store;
	char *logs_dir; /* "state_dir/logs/" */
	uint64_t keep_ms;
	size_t round;                  /* builds pruned in the round under way */
	uint64_t round_ns, longest_ns; /* its time on the loop, and its longest batch */
	size_t n, batch;               /* builds in this batch, and the size a batch has now */
	int64_t ids[BATCH_MAX];
	char *paths[BATCH_MAX];
};

static int collect(int64_t id, const char *log_path, void *arg)
{
	struct retention *r = arg;

	r->ids[r->n] = id;
	r->paths[r->n] = log_path ? strdup(log_path) : NULL;
	if (log_path && !r->paths[r->n])
		return -ENOMEM;
	r->n++;
	return 0;
}

/* Only a log that refitd wrote: state_dir/logs/NAME, nothing below or beside it. */
static void remove_log(struct retention *r, const char *path)
{
	size_t n = strlen(r->logs_dir);

	if (!path || strncmp(path, r->logs_dir, n) || !path[n] || strchr(path + n, '/'))
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("retention: cannot remove %s: %s", path, strerror(errno));
}

static void round_cb(uv_timer_t *t);

/* The logs go first: a crash in between leaves rows to prune again, never a file behind. */
static int prune_batch(struct retention *r, uint64_t now)
{
	int e;

	r->n = 0;
	e = store_prune_each(r->store, now - r->keep_ms, (int)r->batch, collect, r);
	for (size_t i = 0; i < r->n; i++) {
		if (e == 0)
			remove_log(r, r->paths[i]);
		free(r->paths[i]);
	}
	if (e == 0)
		e = store_prune_builds(r->store, r->ids, r->n, now);
	if (e == 0)
		r->round += r->n;
	return e < 0 ? e : (int)r->n;
}

static void round_cb(uv_timer_t *t)
{
	struct retention *r = t->data;
	uint64_t now = wallclock_ms(), t0 = uv_hrtime(), ns;
	int n = 0;

	if (r->keep_ms && now > r->keep_ms)
		n = prune_batch(r, now);
	ns = uv_hrtime() - t0;
	r->round_ns += ns;
	if (ns > r->longest_ns)
		r->longest_ns = ns;
	if (n > 0 && (size_t)n == r->batch) {
		if (ns > 2 * TARGET_NS && r->batch > BATCH_MIN)
			r->batch /= 2;
		else if (ns < TARGET_NS / 2 && r->batch < BATCH_MAX)
			r->batch *= 2;
		uv_timer_start(t, round_cb, 0, 0); /* the next batch, on the next loop turn */
		return;
	}
	if (n < 0)
		log_warn("retention: a round stopped early: %s", strerror(-n));
	if (r->round)
		log_info("retention: removed the logs and package inventories of %zu build(s) "
		         "finished more than %llu h ago (%.1f ms on the loop, at most %.1f ms at "
		         "once)",
		         r->round, (unsigned long long)(r->keep_ms / 3600000),
		         (double)r->round_ns / 1e6, (double)r->longest_ns / 1e6);
	r->round = 0;
	r->round_ns = r->longest_ns = 0;
	uv_timer_start(t, round_cb, ROUND_EVERY_MS, 0);
}

int retention_new(uv_loop_t *loop, struct store *store, struct retention **ret)
{
	struct retention *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->store = store;
	r->batch = 64;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	uv_timer_start(&r->timer, round_cb, FIRST_ROUND_MS, 0);
	*ret = r;
	return 0;
}

int retention_configure(struct retention *r, const char *state_dir, uint64_t keep_ms)
{
	char *dir;

	if (asprintf(&dir, "%s/logs/", state_dir) < 0)
		return -ENOMEM;
	free(r->logs_dir);
	r->logs_dir = dir;
	r->keep_ms = keep_ms;
	return 0;
}

void retention_run(struct retention *r)
{
	uv_timer_start(&r->timer, round_cb, 0, 0);
}

static void closed(uv_handle_t *h)
{
	struct retention *r = h->data;

	free(r->logs_dir);
	free(r);
}

void retention_free(struct retention *r)
{
	if (!r)
		return;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, closed);
}
