/*
 * bench_registry — digest checks per second through refit's registry client
 * (the same pool, connection reuse and concurrency the watcher uses), and the
 * same with each result recorded in a store, as the watcher does.
 *
 *   bench_registry HOST REPO N_TAGS [STATE_DB]
 *
 * Looks up HOST/REPO:t00000 .. t<N-1> (HEAD with all manifest types), keeping
 * the pool full (its default of 8 requests in flight), and prints
 * "checks N seconds S rate R/s" and the peak RSS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "http_client.h"
#include "log.h"
#include "ref.h"
#include "registry.h"
#include "store.h"

struct bench {
	uv_loop_t loop;
	struct registry_pool *pool;
	struct store *store;
	const char *host, *repo;
	int n, next, done, failed;
};

static void start_next(struct bench *b);

static void done_cb(int status, const struct registry_result *r, void *arg)
{
	struct bench *b = arg;
	char ref[256];

	b->done++;
	if (status < 0) {
		if (b->failed++ < 3)
			fprintf(stderr, "lookup failed: %s\n", r->error);
	} else if (b->store) {
		struct store_base sb = {0};
		snprintf(ref, sizeof(ref), "%s/%s:t%05d", b->host, b->repo, b->done);
		store_base_get(b->store, ref, "linux/amd64", &sb);
		snprintf(sb.digest, sizeof(sb.digest), "%s", r->digest);
		sb.checked_at = uv_now(&b->loop);
		store_base_update(b->store, ref, "linux/amd64", &sb, NULL, NULL, NULL, 0, NULL);
	}
	start_next(b);
}

static void start_next(struct bench *b)
{
	char s[256];
	struct image_ref ref;
	struct registry_lookup l = {&ref, NULL, NULL, NULL};

	if (b->next >= b->n)
		return;
	snprintf(s, sizeof(s), "%s/%s:t%05d", b->host, b->repo, b->next++);
	if (ref_parse(s, &ref, NULL) < 0 || registry_digest(b->pool, &l, done_cb, b) < 0) {
		fprintf(stderr, "cannot start a lookup of %s\n", s);
		exit(1);
	}
}

static long peak_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	struct http_client *http;
	char err[256];
	uint64_t t0, t1;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_registry HOST REPO N_TAGS [STATE_DB]\n");
		return 2;
	}
	b.host = argv[1];
	b.repo = argv[2];
	b.n = atoi(argv[3]);
	log_setup(LOG_LVL_ERR, LOG_FMT_TEXT, false);
	http_global_init();
	uv_loop_init(&b.loop);
	if (argc > 4 && store_open(argv[4], &b.store, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		return 1;
	}
	if (http_client_new(&b.loop, &http) < 0 ||
	    registry_pool_new(&b.loop, http, NULL, NULL, &b.pool) < 0)
		return 1;
	uv_update_time(&b.loop);
	t0 = uv_hrtime();
	for (int i = 0; i < 64; i++) /* more than the pool runs at once: it queues */
		start_next(&b);
	while (b.done < b.n)
		uv_run(&b.loop, UV_RUN_ONCE);
	t1 = uv_hrtime();
	printf("checks %d failed %d seconds %.3f rate %.0f/s peak_rss_kb %ld\n", b.done, b.failed,
	       (double)(t1 - t0) / 1e9, b.done / ((double)(t1 - t0) / 1e9), peak_rss_kb());
	registry_pool_free(b.pool);
	http_client_close(http);
	uv_run(&b.loop, UV_RUN_DEFAULT);
	uv_loop_close(&b.loop);
	store_close(b.store);
	http_global_cleanup();
	return b.failed ? 1 : 0;
}
