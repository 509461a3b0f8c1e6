/*
 * registry_tags against the real docker-registry of the test bed: the real
 * tag sets of nine official images (tests/fixtures/tags/) pushed as tags of
 * one small image, a repository with 10,000 tags walked through Link
 * pagination, the htpasswd registry, and httpd.py for what distribution
 * does not send (ETag, 304, a Link to another origin). For each repository
 * a few pins get their newer tag per policy, as the unit tables expect.
 *
 * The registry server here (distribution 2.8.2) ignores n= and answers the
 * whole list in one page (pagination came with distribution 3), so the
 * 10,000 tags are listed from it in one request and walked in pages from
 * httpd.py's spec-shaped /v2/test-pages/N/tags/list.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bed.h"
#include "config.h"
#include "creds.h"
#include "http_client.h"
#include "log.h"
#include "ref.h"
#include "registry.h"
#include "tagver.h"

#define MANY 10000

static struct bed bed;

static const char *const repos[] = {"python", "node",   "nginx",  "alpine", "postgres",
                                    "debian", "ubuntu", "golang", "julia"};

struct world {
	uv_loop_t loop;
	struct http_client *http;
	struct creds *creds;
	struct registry_pool *pool;
};

struct answer {
	int done, status;
	char **tags;
	size_t n;
	unsigned pages;
	char etag[128], error[300];
	bool not_modified;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int setup(void **state)
{
	char cmd[512];
	double t0;

	(void)state;
	log_setup(LOG_LVL_WARN, LOG_FMT_TEXT, false);
	if (http_global_init() < 0 || bed_start(&bed, "registry registry-auth httpd") < 0)
		return -1;
	t0 = now_ms();
	for (size_t i = 0; i < sizeof(repos) / sizeof(repos[0]); i++) {
		snprintf(cmd, sizeof(cmd),
		         "/usr/bin/python3 tests/testbed/tagpush.py $TB_REGISTRY library/%s "
		         "tests/fixtures/tags/%s.txt >/dev/null",
		         repos[i], repos[i]);
		if (bed_sh(cmd) != 0)
			return -1;
	}
	print_message("tags: pushed 7087 tags of nine repositories in %.1f s\n",
	              (now_ms() - t0) / 1e3);
	t0 = now_ms();
	if (bed_sh("/usr/bin/python3 tests/testbed/tagpush.py $TB_REGISTRY many/tags gen:10000 "
	           ">/dev/null") ||
	    bed_sh("REGPUSH_AUTH=1 /usr/bin/python3 tests/testbed/tagpush.py $TB_AUTH_REGISTRY "
	           "team/alpine tests/fixtures/tags/alpine.txt >/dev/null"))
		return -1;
	print_message("tags: pushed 10000 + 67 (htpasswd) tags in %.1f s\n", (now_ms() - t0) / 1e3);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bed_stop(&bed);
	http_global_cleanup();
	return 0;
}

static void world_init(struct world *w, const struct config_registry *regs, size_t n)
{
	struct creds_opts co = {.registries = regs, .n_registries = n, .docker_config = ""};

	uv_loop_init(&w->loop);
	assert_int_equal(http_client_new(&w->loop, &w->http), 0);
	assert_int_equal(creds_new(&w->loop, &co, &w->creds), 0);
	assert_int_equal(registry_pool_new(&w->loop, w->http, w->creds, NULL, &w->pool), 0);
}

static void world_done(struct world *w)
{
	registry_pool_free(w->pool);
	creds_free(w->creds);
	http_client_close(w->http);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void answer_free(struct answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->tags[i]);
	free(a->tags);
	memset(a, 0, sizeof(*a));
}

static void answer_cb(int status, const struct registry_result *r, void *arg)
{
	struct answer *a = arg;

	a->done++;
	a->status = status;
	a->pages = r->pages;
	a->not_modified = r->not_modified;
	snprintf(a->etag, sizeof(a->etag), "%s", r->etag ? r->etag : "");
	snprintf(a->error, sizeof(a->error), "%s", r->error ? r->error : "");
	a->tags = calloc(r->n_tags + 1, sizeof(char *));
	assert_non_null(a->tags);
	for (a->n = 0; a->n < r->n_tags; a->n++)
		assert_non_null(a->tags[a->n] = strdup(r->tags[a->n]));
}

/* Lists the tags of REGISTRY_ENV/repo and waits for the answer. */
static void list(struct world *w, const char *reg_env, const char *repo, unsigned page_size,
                 const char *etag, struct answer *a)
{
	char s[256];
	struct image_ref ref;
	struct registry_tags_req q = {&ref, etag, page_size};

	memset(a, 0, sizeof(*a));
	const char *host = getenv(reg_env);

	if (!strncmp(host, "http://", 7))
		host += 7;
	snprintf(s, sizeof(s), "%s/%s", host, repo);
	assert_int_equal(ref_parse(s, &ref, NULL), 0);
	assert_int_equal(registry_tags(w->pool, &q, answer_cb, a), 0);
	while (!a->done)
		uv_run(&w->loop, UV_RUN_ONCE);
	if (a->status)
		print_message("%s: %s\n", s, a->error);
}

static size_t lines(const char *repo)
{
	char path[256], line[256];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "tests/fixtures/tags/%s.txt", repo);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f))
		n += line[0] != '\n';
	fclose(f);
	return n;
}

struct pin {
	const char *repo, *pin;
	enum tagver_policy policy;
	const char *want; /* "" = none */
};

/* The answers of tests/unit/test_tagver.c, now from what the registry lists. */
static const struct pin pins[] = {
        {"python", "3.11.4-slim", TAGVER_PATCH, "3.11.16-slim"},
        {"python", "3.11.4-slim", TAGVER_MINOR, "3.14.7-slim"},
        {"python", "3.15.0a5", TAGVER_MAJOR, "3.15.0rc1"},
        {"node", "18.20.4-alpine", TAGVER_MAJOR, "26.7.0-alpine"},
        {"node", "20.11.1-bookworm-slim", TAGVER_PATCH, ""},
        {"nginx", "1.25.3-alpine3.19", TAGVER_MINOR, "1.27.0-alpine3.19"},
        {"alpine", "3.19.1", TAGVER_MAJOR, "3.24.1"},
        {"alpine", "20230329", TAGVER_MAJOR, "20260805"},
        {"postgres", "16.3", TAGVER_MINOR, "16.15"},
        {"postgres", "16-alpine", TAGVER_MAJOR, "18-alpine"},
        {"debian", "bookworm-20241223-slim", TAGVER_MAJOR, "bookworm-20260803-slim"},
        {"ubuntu", "22.04", TAGVER_MAJOR, "26.10"},
        {"golang", "1.25.3-alpine", TAGVER_PATCH, "1.25.11-alpine"},
        {"julia", "1.13.0-rc1-bookworm", TAGVER_MAJOR, "1.13.0-rc3-bookworm"},
};

static void check_pins(const char *repo, const struct answer *a)
{
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		const char *got = NULL;
		int r;

		if (strcmp(pins[i].repo, repo))
			continue;
		r = tagver_newest(pins[i].pin, pins[i].policy, (const char *const *)a->tags, a->n,
		                  &got);
		if (r != (pins[i].want[0] ? 1 : 0) || (r == 1 && strcmp(got, pins[i].want)))
			fail_msg("%s:%s %s: got %s, want %s", repo, pins[i].pin,
			         tagver_policy_name(pins[i].policy), r == 1 ? got : "none",
			         pins[i].want[0] ? pins[i].want : "none");
	}
}

static void test_real_sets(void **state)
{
	struct world w;
	struct answer a;
	char repo[64];
	double t0;

	(void)state;
	world_init(&w, NULL, 0);
	t0 = now_ms();
	for (size_t i = 0; i < sizeof(repos) / sizeof(repos[0]); i++) {
		size_t want = lines(repos[i]);

		snprintf(repo, sizeof(repo), "library/%s", repos[i]);
		list(&w, "TB_REGISTRY", repo, 0, NULL, &a);
		assert_int_equal(a.status, 0);
		assert_int_equal(a.n, want);
		/* distribution 2.8 answers in one page; 3.x in pages of n */
		assert_true(a.pages >= 1 && a.pages <= want / 1000 + 1);
		print_message("tags: %s: %zu tags in %u pages, ETag '%s'\n", repo, a.n, a.pages,
		              a.etag);
		check_pins(repos[i], &a);
		answer_free(&a);
	}
	print_message("tags: nine repositories listed in %.0f ms\n", now_ms() - t0);
	list(&w, "TB_REGISTRY", "library/absent", 0, NULL, &a);
	assert_int_equal(a.status, -ENOENT);
	answer_free(&a);
	world_done(&w);
}

static void check_many(const struct answer *a)
{
	const char *got = NULL;

	assert_int_equal(a->status, 0);
	assert_int_equal(a->n, MANY);
	/* every tag once: 1.0.0 .. 1.99.99 */
	assert_int_equal(
	        tagver_newest("1.0.0", TAGVER_MINOR, (const char *const *)a->tags, a->n, &got), 1);
	assert_string_equal(got, "1.99.99");
	assert_int_equal(
	        tagver_newest("1.42.0", TAGVER_PATCH, (const char *const *)a->tags, a->n, &got), 1);
	assert_string_equal(got, "1.42.99");
}

static void test_pagination(void **state)
{
	static const unsigned sizes[] = {1000, 100, 0};
	struct world w;
	struct answer a;
	double t0;

	(void)state;
	world_init(&w, NULL, 0);
	t0 = now_ms();
	list(&w, "TB_REGISTRY", "many/tags", 100, NULL, &a);
	check_many(&a);
	print_message("tags: registry many/tags: %zu tags in %u pages in %.0f ms\n", a.n, a.pages,
	              now_ms() - t0);
	answer_free(&a);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned per = sizes[s] ? sizes[s] : 1000;

		t0 = now_ms();
		list(&w, "TB_HTTP", "test-pages/10000", sizes[s], NULL, &a);
		check_many(&a);
		assert_int_equal(a.pages, MANY / per);
		print_message(
		        "tags: httpd test-pages/10000: %zu tags in %u pages of %u in %.0f ms\n",
		        a.n, a.pages, per, now_ms() - t0);
		answer_free(&a);
	}
	world_done(&w);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_basic_auth(void **state)
{
	struct world w;
	struct answer a;
	char user[256], pass[256];
	struct config_registry rc = {
	        .host = getenv("TB_AUTH_REGISTRY"), .username_file = user, .password_file = pass};

	(void)state;
	world_init(&w, NULL, 0);
	list(&w, "TB_AUTH_REGISTRY", "team/alpine", 0, NULL, &a);
	assert_int_equal(a.status, -EACCES);
	answer_free(&a);
	world_done(&w);

	snprintf(user, sizeof(user), "%s/tags-user", getenv("TB_DIR"));
	snprintf(pass, sizeof(pass), "%s/tags-pass", getenv("TB_DIR"));
	write_file(user, getenv("TB_REG_USER"));
	write_file(pass, getenv("TB_REG_PASS"));
	world_init(&w, &rc, 1);
	list(&w, "TB_AUTH_REGISTRY", "team/alpine", 0, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.n, lines("alpine"));
	assert_true(a.pages >= 1);
	check_pins("alpine", &a);
	answer_free(&a);
	world_done(&w);
}

/* Conditional requests and a foreign Link, from httpd.py (distribution sends no ETag). */
static void test_etag_and_origin(void **state)
{
	struct world w;
	struct answer a;

	(void)state;
	world_init(&w, NULL, 0);
	list(&w, "TB_HTTP", "test-etag", 2, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.pages, 2);
	assert_string_equal(a.etag, "\"v1\"");
	assert_false(a.not_modified);
	answer_free(&a);
	list(&w, "TB_HTTP", "test-etag", 2, "\"v1\"", &a);
	assert_int_equal(a.status, 0);
	assert_true(a.not_modified);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.pages, 1);
	assert_string_equal(a.etag, "\"v1\"");
	answer_free(&a);
	list(&w, "TB_HTTP", "test-etag", 2, "\"v0\"", &a);
	assert_int_equal(a.status, 0);
	assert_false(a.not_modified);
	assert_int_equal(a.n, 3);
	answer_free(&a);
	list(&w, "TB_HTTP", "test-evil", 2, NULL, &a);
	assert_int_equal(a.status, -EPROTO);
	assert_non_null(strstr(a.error, "Link"));
	answer_free(&a);
	world_done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_real_sets),
	        cmocka_unit_test(test_pagination),
	        cmocka_unit_test(test_basic_auth),
	        cmocka_unit_test(test_etag_and_origin),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
