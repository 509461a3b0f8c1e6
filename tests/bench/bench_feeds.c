/*
 * bench_feeds — the feed ingest and matching refitd does, timed.
 *
 *   bench_feeds DIR STATE_DB [N_PACKAGES]
 *
 * Ingest: reads every DIR/ *.json (an OSV mirror's ecosystem directory),
 * parses each record (osv_parse), and stores the rows in one transaction as
 * a full load (store_feed_apply), as feeds.c does after all.zip. Matching:
 * an inventory of N_PACKAGES (default 1000) packages, the advisories'
 * package names first (at version 0.0.1, inside most ranges) and invented
 * names after, matched by advisory_match() as after a build. Prints the
 * times and the peak RSS.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "advisory.h"
#include "feed_batch.h"
#include "osv.h"
#include "store_feed.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_file(const char *path, struct feed_batch *b)
{
	FILE *f = fopen(path, "rb");
	char buf[1 << 20], err[512];
	size_t n;
	int r;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	r = osv_parse(buf, n, feed_batch_row_cb, b, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "%s: %s\n", path, err);
	return r < 0 ? r : 0;
}

static int ingest(const char *dir, struct store *s, struct feed_batch *b, size_t *ret_files)
{
	struct store_feed_state fs = {0};
	struct store_feed_batch sb = {
	        .feed = "osv", .scope = "PyPI", .replace = true, .state = &fs};
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		r = parse_file(path, b);
		(*ret_files)++;
	}
	closedir(d);
	sb.rows = b->rows;
	sb.n_rows = b->n;
	sb.now = (uint64_t)time(NULL) * 1000;
	return r < 0 ? r : store_feed_apply(s, &sb);
}

/* One build of project "bench" with n packages: advisory names first. */
static int64_t inventory(struct store *s, const struct feed_batch *b, size_t n)
{
	struct store_build bd = {
	        .project = "bench", .env = "prod", .trigger = "initial", .status = "succeeded"};
	struct store_pkg *pkgs = calloc(n, sizeof(*pkgs));
	char(*names)[64] = calloc(n, 64);
	struct store_inventory inv = {.ecosystem = "PyPI", .pkgs = pkgs, .read_at = 1};
	size_t k = 0;
	int64_t id = -1;

	for (size_t i = 0; pkgs && names && i < b->n && k < n; i++) {
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = !strcmp(names[j], b->rows[i].package);
		if (!dup)
			snprintf(names[k++], 64, "%s", b->rows[i].package);
	}
	for (; pkgs && names && k < n; k++)
		snprintf(names[k], 64, "unrelated-package-%zu", k);
	for (size_t i = 0; pkgs && names && i < n; i++)
		pkgs[i] = (struct store_pkg){"PyPI",  names[i], "0.0.1", names[i],
		                             "0.0.1", NULL,     NULL};
	inv.n_pkgs = n;
	if (pkgs && names && store_build_insert(s, &bd, &id) == 0)
		store_inventory_put(s, id, &inv);
	free(pkgs);
	free(names);
	return id;
}

int main(int argc, char **argv)
{
	struct feed_batch b = {0};
	struct advisory_hits h = {0};
	struct store *s = NULL;
	struct rusage ru;
	char err[256];
	size_t files = 0, n = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
	double t0, t1, t2, t3;
	int64_t build;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_feeds DIR STATE_DB [N_PACKAGES]\n");
		return 2;
	}
	if (store_open(argv[2], &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now_s();
	r = ingest(argv[1], s, &b, &files);
	t1 = now_s();
	build = inventory(s, &b, n);
	t2 = now_s();
	if (r >= 0 && build > 0)
		r = advisory_match(s, build, NULL, &h);
	t3 = now_s();
	getrusage(RUSAGE_SELF, &ru);
	printf("records %zu rows %zu ingest_s %.3f packages %zu match_ms %.1f hits %zu "
	       "maxrss_kb %ld\n",
	       files, b.n, t1 - t0, n, (t3 - t2) * 1000, h.n, ru.ru_maxrss);
	advisory_hits_done(&h);
	feed_batch_done(&b);
	store_close(s);
	return r < 0 ? 1 : 0;
}
