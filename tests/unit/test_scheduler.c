/* scheduler: the pure parts — DAG order and cycles, retry backoff; labels and tags. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "labels.h"
#include "scheduler.h"
#include "strbuf.h"

static size_t pos(const size_t *order, size_t n, size_t x)
{
	for (size_t i = 0; i < n; i++)
		if (order[i] == x)
			return i;
	return n;
}

/* A graph from "i:j" edges (i builds on j), in any order. */
static struct scheduler_graph graph(size_t n, const size_t (*e)[2], size_t m)
{
	struct scheduler_graph g = {n, calloc(n + 1, sizeof(size_t)),
	                            calloc(m + 1, sizeof(size_t))};
	size_t k = 0;

	assert_non_null(g.start);
	assert_non_null(g.out);
	for (size_t i = 0; i < n; i++) {
		g.start[i] = k;
		for (size_t x = 0; x < m; x++)
			if (e[x][0] == i)
				g.out[k++] = e[x][1];
	}
	g.start[n] = k;
	return g;
}

static void test_order_dag(void **state)
{
	/* 0 builds on 1, 1 on 2, 3 on 2; 4 alone */
	const size_t e[][2] = {{0, 1}, {1, 2}, {3, 2}};
	struct scheduler_graph g = graph(5, e, 3);
	size_t order[5];
	bool cyc[5];

	(void)state;
	assert_int_equal(scheduler_order(&g, order, cyc), 0);
	assert_true(pos(order, 5, 2) < pos(order, 5, 1));
	assert_true(pos(order, 5, 1) < pos(order, 5, 0));
	assert_true(pos(order, 5, 2) < pos(order, 5, 3));
	assert_true(pos(order, 5, 4) < 5);
	for (int i = 0; i < 5; i++)
		assert_false(cyc[i]);
	scheduler_graph_done(&g);
}

static void test_order_cycle(void **state)
{
	/* 0 -> 1 -> 2 -> 0 is a cycle; 3 builds on 0 (not on the cycle itself); 4 -> 5 -> 4 */
	const size_t e[][2] = {{3, 0}, {0, 1}, {1, 2}, {2, 0}, {4, 5}, {5, 4}};
	struct scheduler_graph g = graph(6, e, 6);
	size_t order[6];
	bool cyc[6];

	(void)state;
	assert_int_equal(scheduler_order(&g, order, cyc), -ELOOP);
	assert_true(cyc[0] && cyc[1] && cyc[2] && cyc[4] && cyc[5]);
	assert_false(cyc[3]);
	assert_true(pos(order, 6, 0) < pos(order, 6, 3));
	scheduler_graph_done(&g);
}

/* A chain as long as a fleet: no recursion, so no stack to run out of. */
static void test_order_long_chain(void **state)
{
	size_t n = 200000;
	struct scheduler_graph g = {n, calloc(n + 1, sizeof(size_t)), calloc(n, sizeof(size_t))};
	size_t *order = calloc(n, sizeof(size_t));
	bool *cyc = calloc(n, sizeof(bool));

	(void)state;
	assert_non_null(g.start);
	assert_non_null(order);
	g.start[0] = 0; /* 0 builds on nothing; i >= 1 builds on i - 1 */
	for (size_t i = 1; i <= n; i++)
		g.start[i] = i - 1;
	for (size_t i = 1; i < n; i++)
		g.out[i - 1] = i - 1;
	assert_int_equal(scheduler_order(&g, order, cyc), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(order[i], i);
	free(order);
	free(cyc);
	scheduler_graph_done(&g);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * 300 projects, each on the image of the one before it, from their Dockerfiles: every
 * edge is there, the 300th as much as the 2nd, and the order builds the root first.
 */
static void test_graph_of_config(void **state)
{
	enum { N = 300 };
	char dir[] = "/tmp/refit-graph-XXXXXX", path[512], text[256];
	struct strbuf yaml = {0};
	struct config *cfg = NULL;
	struct config_errors errs = {0};
	struct scheduler_graph g = {0};
	size_t order[N];
	bool cyc[N];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text), "state_dir: %s\nprojects:\n", dir);
	assert_int_equal(strbuf_put(&yaml, text, strlen(text), 1 << 20), 0);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "%s/p%d", dir, i);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/p%d/Dockerfile", dir, i);
		if (i == 0)
			write_file(path, "FROM localhost:5000/base:1\nUSER 1000\n");
		else {
			snprintf(text, sizeof(text), "FROM localhost:5000/ds/p%d:prod\nUSER 1000\n",
			         i - 1);
			write_file(path, text);
		}
		snprintf(text, sizeof(text),
		         "  - {name: p%d, context: %s/p%d, image: localhost:5000/ds/p%d, "
		         "environments: {prod: {}}}\n",
		         i, dir, i, i);
		assert_int_equal(strbuf_put(&yaml, text, strlen(text), 1 << 20), 0);
	}
	config_parse("t.yaml", yaml.p, yaml.len, &cfg, &errs);
	for (size_t i = 0; i < errs.n && i < 3; i++)
		print_message("config: %s\n", errs.lines[i]);
	assert_non_null(cfg);
	assert_int_equal(scheduler_graph_of(cfg, "linux/amd64", &g), 0);
	assert_int_equal(g.n, N);
	assert_int_equal(g.start[0], g.start[1]); /* p0 builds on no project */
	for (size_t i = 1; i < N; i++) {
		assert_int_equal(g.start[i + 1] - g.start[i], 1);
		assert_int_equal(g.out[g.start[i]], i - 1);
	}
	assert_int_equal(scheduler_order(&g, order, cyc), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(order[i], i);
	scheduler_graph_done(&g);
	config_free(cfg);
	config_errors_done(&errs);
	free(yaml.p);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(scheduler_backoff_ms(1), 60000);
	assert_int_equal(scheduler_backoff_ms(2), 120000);
	assert_int_equal(scheduler_backoff_ms(5), 960000);
	assert_int_equal(scheduler_backoff_ms(30), 6ULL * 3600 * 1000);
	assert_int_equal(scheduler_backoff_ms(1000), 6ULL * 3600 * 1000);
}

static void test_labels(void **state)
{
	struct label_set s;
	struct label_input in = {.created = 1795738800, /* 2026-11-27T00:20:00Z */
	                         .revision = "0123abcd",
	                         .base_name = "docker.io/library/python:3.12-slim",
	                         .base_digest = "sha256:aa",
	                         .environment = "prod",
	                         .trigger = "base",
	                         .reasons = "base moved\nby hand"};
	char tag[64];

	(void)state;
	assert_int_equal(labels_build(&s, &in), 0);
	assert_int_equal(s.n, 7); /* no source */
	assert_string_equal(s.kv[0].key, "org.opencontainers.image.created");
	assert_string_equal(s.kv[0].value, "2026-11-27T00:20:00Z");
	assert_string_equal(s.kv[6].key, "io.refit.reasons");
	assert_string_equal(s.kv[6].value, "base moved;by hand");
	assert_int_equal(labels_timestamp_tag("prod", 1795738800, tag, sizeof(tag)), 0);
	assert_string_equal(tag, "prod-20261127T002000Z");
	assert_int_equal(labels_timestamp_tag("prod", 1795738800, tag, 8), -ENOSPC);
}

static void test_git(void **state)
{
	char dir[] = "/tmp/refit-git-XXXXXX", p[256], buf[128];
	const char *sha = "89a1f2b3c4d5e6f708192a3b4c5d6e7f80912345";

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(labels_git_revision(dir, buf, sizeof(buf)), -ENOENT);
	snprintf(p, sizeof(p), "%s/.git", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.git/HEAD", dir);
	write_file(p, "ref: refs/heads/main\n");
	snprintf(p, sizeof(p), "%s/.git/packed-refs", dir);
	write_file(p, "# pack-refs with: peeled\n89a1f2b3c4d5e6f708192a3b4c5d6e7f80912345 "
	              "refs/heads/main\n");
	assert_int_equal(labels_git_revision(dir, buf, sizeof(buf)), 0);
	assert_string_equal(buf, sha);
	snprintf(p, sizeof(p), "%s/.git/config", dir);
	write_file(p, "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = "
	              "https://user:hunter2@git.example.com/ds/churn.git\n");
	assert_int_equal(labels_git_source(dir, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "https://git.example.com/ds/churn.git"); /* no secret */
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

static void test_prune(void **state)
{
	const char *images =
	        "[{\"RepoTags\":[\"r/a:prod-20261101T000000Z\",\"r/a:prod\"]},"
	        "{\"RepoTags\":[\"r/a:prod-20261103T000000Z\"]},"
	        "{\"RepoTags\":[\"r/a:prod-20261102T000000Z\",\"r/a:test-20261102T000000Z\"]},"
	        "{\"RepoTags\":[\"r/a:test-20261101T000000Z\",\"r/ab:prod-20261101T000000Z\"]},"
	        "{\"RepoTags\":[\"r/a:prod-previous\",\"r/a:prod-2026\"]},{\"RepoTags\":null}]";
	const char *envs[] = {"prod", "test", NULL};
	char **out = NULL;

	(void)state;
	assert_int_equal(labels_prune(images, strlen(images), "r/a", envs, 2, &out), 1);
	assert_string_equal(out[0], "r/a:prod-20261101T000000Z");
	assert_null(out[1]);
	free(out[0]);
	free(out);
	assert_int_equal(labels_prune(images, strlen(images), "r/a", envs, 1, &out), 3);
	assert_string_equal(out[0], "r/a:prod-20261102T000000Z");
	assert_string_equal(out[1], "r/a:prod-20261101T000000Z");
	assert_string_equal(out[2], "r/a:test-20261101T000000Z");
	for (int i = 0; out[i]; i++)
		free(out[i]);
	free(out);
	assert_int_equal(labels_prune("{}", 2, "r/a", envs, 1, &out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_order_dag),
	        cmocka_unit_test(test_order_cycle),
	        cmocka_unit_test(test_order_long_chain),
	        cmocka_unit_test(test_graph_of_config),
	        cmocka_unit_test(test_backoff),
	        cmocka_unit_test(test_labels),
	        cmocka_unit_test(test_git),
	        cmocka_unit_test(test_prune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
