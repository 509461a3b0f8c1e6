/*
 * registry client against the real docker-registry (plain and htpasswd),
 * with images built by a private dockerd; plus httpd.py for the answers the
 * real server cannot give on demand (429, RateLimit-*).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bed.h"
#include "config.h"
#include "creds.h"
#include "http_client.h"
#include "log.h"
#include "ref.h"
#include "registry.h"

static struct bed bed;

struct world {
	uv_loop_t loop;
	struct http_client *http;
	struct creds *creds;
	struct registry_pool *pool;
};

struct answer {
	int done, status;
	char digest[80], index[80], error[300];
	bool unchanged;
};

static int setup(void **state)
{
	(void)state;
	log_setup(LOG_LVL_WARN, LOG_FMT_TEXT, false);
	if (http_global_init() < 0)
		return -1;
	return bed_start(&bed,
	                 "dockerd registry faultproxy registry-auth registry-token httpd base");
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

static void answer_cb(int status, const struct registry_result *r, void *arg)
{
	struct answer *a = arg;

	a->done++;
	a->status = status;
	snprintf(a->digest, sizeof(a->digest), "%s", r->digest ? r->digest : "");
	snprintf(a->index, sizeof(a->index), "%s", r->index_digest ? r->index_digest : "");
	snprintf(a->error, sizeof(a->error), "%s", r->error ? r->error : "");
	a->unchanged = r->index_unchanged;
}

static void wait_for(struct world *w, struct answer *a, int n)
{
	int done;

	do {
		uv_run(&w->loop, UV_RUN_ONCE);
		done = 0;
		for (int i = 0; i < n; i++)
			done += a[i].done;
	} while (done < n);
}

/* Looks ref up (platform may be NULL) and waits for the answer. */
static void lookup(struct world *w, const char *s, const char *platform, const char *known_index,
                   const char *known_digest, struct answer *a)
{
	struct image_ref ref;
	struct registry_lookup l = {&ref, platform, known_index, known_digest};

	memset(a, 0, sizeof(*a));
	assert_int_equal(ref_parse(s, &ref, NULL), 0);
	assert_int_equal(registry_digest(w->pool, &l, answer_cb, a), 0);
	wait_for(w, a, 1);
	if (a->status)
		print_message("%s: %s\n", s, a->error);
}

static void ref_of(char *buf, size_t len, const char *env, const char *repo)
{
	snprintf(buf, len, "%s/%s", getenv(env), repo);
}

static void test_digest_follows_pushes(void **state)
{
	struct world w;
	struct answer a;
	char ref[256], want[100];

	(void)state;
	world_init(&w, NULL, 0);
	ref_of(ref, sizeof(ref), "TB_REGISTRY", "refit-test/base:1");
	assert_int_equal(bed_sh_out("tb_digest refit-test/base:1", want, sizeof(want)), 0);
	lookup(&w, ref, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.digest, want);
	assert_string_equal(a.index, ""); /* a single-platform tag */
	assert_int_equal(bed_sh("tb_base_move refit-test/base:1"), 0);
	assert_int_equal(bed_sh_out("tb_digest refit-test/base:1", want, sizeof(want)), 0);
	lookup(&w, ref, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.digest, want);
	ref_of(ref, sizeof(ref), "TB_REGISTRY", "refit-test/absent:1");
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, -ENOENT);
	assert_non_null(strstr(a.error, "refit-test/absent:1: not found"));
	world_done(&w);
}

/* An index: the amd64 digest counts; a new arm64 entry moves the index, not it. */
static void test_index_platforms(void **state)
{
	struct world w;
	struct answer a, b;
	char ref[256], amd64[100], idx1[80];

	(void)state;
	world_init(&w, NULL, 0);
	assert_int_equal(bed_sh("tb_docker tag $TB_REGISTRY/refit-test/base:1 "
	                        "$TB_REGISTRY/refit-test/other:1 && "
	                        "tb_docker push $TB_REGISTRY/refit-test/other:1 >/dev/null && "
	                        "tb_base_move refit-test/other:1 && "
	                        "tb_index refit-test/multi:1 refit-test/base:1 refit-test/base:1"),
	                 0);
	assert_int_equal(bed_sh_out("tb_digest refit-test/base:1", amd64, sizeof(amd64)), 0);
	ref_of(ref, sizeof(ref), "TB_REGISTRY", "refit-test/multi:1");
	lookup(&w, ref, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.digest, amd64);
	assert_true(strlen(a.index) == 71 && strcmp(a.index, amd64));
	assert_false(a.unchanged);
	strcpy(idx1, a.index);
	/* unchanged index: answered from what we knew */
	lookup(&w, ref, "linux/amd64", idx1, amd64, &b);
	assert_int_equal(b.status, 0);
	assert_true(b.unchanged);
	assert_string_equal(b.digest, amd64);
	/* the arm64 entry changes: the index digest moves, the amd64 digest does not */
	assert_int_equal(bed_sh("tb_index refit-test/multi:1 refit-test/base:1 refit-test/other:1"),
	                 0);
	lookup(&w, ref, "linux/amd64", idx1, amd64, &b);
	assert_int_equal(b.status, 0);
	assert_false(b.unchanged);
	assert_string_not_equal(b.index, idx1);
	assert_string_equal(b.digest, amd64);
	lookup(&w, ref, "linux/arm64/v8", NULL, NULL, &b);
	assert_int_equal(b.status, 0);
	assert_string_not_equal(b.digest, amd64);
	lookup(&w, ref, "linux/s390x", NULL, NULL, &b);
	assert_int_equal(b.status, -ENOENT);
	assert_non_null(strstr(b.error, "no manifest for linux/s390x"));
	/* without a platform: the index's own digest */
	lookup(&w, ref, NULL, NULL, NULL, &b);
	assert_int_equal(b.status, 0);
	assert_string_equal(b.digest, b.index[0] ? b.index : b.digest);
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
	char ref[256], user[256], pass[256];
	char *reg = getenv("TB_AUTH_REGISTRY");
	struct config_registry rc = {.host = reg, .username_file = user, .password_file = pass};

	(void)state;
	/* the authenticated registry starts empty: put the base there with the CLI */
	assert_int_equal(
	        bed_sh("echo \"$TB_REG_PASS\" | docker -H $TB_DOCKER_HOST login -u "
	               "$TB_REG_USER --password-stdin $TB_AUTH_REGISTRY >/dev/null 2>&1 && "
	               "tb_docker tag $TB_REGISTRY/refit-test/base:1 "
	               "$TB_AUTH_REGISTRY/team/base:1 && "
	               "tb_docker push $TB_AUTH_REGISTRY/team/base:1 >/dev/null"),
	        0);
	ref_of(ref, sizeof(ref), "TB_AUTH_REGISTRY", "team/base:1");
	world_init(&w, NULL, 0);
	lookup(&w, ref, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, -EACCES);
	assert_non_null(strstr(a.error, "needs credentials"));
	world_done(&w);

	snprintf(user, sizeof(user), "%s/reg-user", getenv("TB_DIR"));
	snprintf(pass, sizeof(pass), "%s/reg-pass", getenv("TB_DIR"));
	write_file(user, getenv("TB_REG_USER"));
	write_file(pass, "wrong-password\n");
	world_init(&w, &rc, 1);
	lookup(&w, ref, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, -EACCES);
	assert_null(strstr(a.error, "wrong-password"));
	world_done(&w);

	write_file(pass, getenv("TB_REG_PASS"));
	world_init(&w, &rc, 1);
	lookup(&w, ref, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_int_equal(strlen(a.digest), 71);
	world_done(&w);
}

static int tokens_issued(void)
{
	char out[128];
	int n = -1;

	assert_int_equal(bed_sh_out("curl -sf $TB_TOKEN_URL/_count", out, sizeof(out)), 0);
	assert_int_equal(sscanf(out, "{\"issued\": %d}", &n), 1);
	return n;
}

/* Bearer tokens from a real token server: anonymous for public/, credentials for the rest. */
static void test_bearer_auth(void **state)
{
	struct world w;
	struct answer a;
	char pub[256], priv[256], user[256], pass[256];
	struct config_registry rc = {
	        .host = getenv("TB_TOKEN_REGISTRY"), .username_file = user, .password_file = pass};
	int before;

	(void)state;
	assert_int_equal(
	        bed_sh("echo \"$TB_TOKEN_PASS\" | docker -H $TB_DOCKER_HOST login -u "
	               "$TB_TOKEN_USER --password-stdin $TB_TOKEN_REGISTRY >/dev/null 2>&1 "
	               "&& for r in public/base:1 private/base:1; do "
	               "tb_docker tag $TB_REGISTRY/refit-test/base:1 $TB_TOKEN_REGISTRY/$r "
	               "&& tb_docker push $TB_TOKEN_REGISTRY/$r >/dev/null || exit 1; done"),
	        0);
	ref_of(pub, sizeof(pub), "TB_TOKEN_REGISTRY", "public/base:1");
	ref_of(priv, sizeof(priv), "TB_TOKEN_REGISTRY", "private/base:1");
	world_init(&w, NULL, 0);
	before = tokens_issued();
	lookup(&w, pub, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	lookup(&w, pub, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_int_equal(tokens_issued() - before, 1); /* cached for the second lookup */
	lookup(&w, priv, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, -EACCES);
	world_done(&w);

	snprintf(user, sizeof(user), "%s/tok-user", getenv("TB_DIR"));
	snprintf(pass, sizeof(pass), "%s/tok-pass", getenv("TB_DIR"));
	write_file(user, getenv("TB_TOKEN_USER"));
	write_file(pass, getenv("TB_TOKEN_PASS"));
	world_init(&w, &rc, 1);
	lookup(&w, priv, "linux/amd64", NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	assert_int_equal(strlen(a.digest), 71);
	world_done(&w);
}

/* A registry that is down fails fast the second time and never delays another one. */
static void test_down_registry_isolated(void **state)
{
	struct world w;
	struct answer a[2];
	char good[256], down[256];
	struct image_ref r1, r2;
	struct registry_lookup l1 = {&r1, NULL, NULL, NULL}, l2 = {&r2, NULL, NULL, NULL};
	uint64_t t0;

	(void)state;
	world_init(&w, NULL, 0);
	ref_of(good, sizeof(good), "TB_REGISTRY", "refit-test/base:1");
	snprintf(down, sizeof(down), "127.0.0.1:1/team/base:1");
	lookup(&w, down, NULL, NULL, NULL, &a[0]);
	assert_int_equal(a[0].status, -EAGAIN);
	assert_non_null(strstr(a[0].error, "unreachable"));
	memset(a, 0, sizeof(a));
	assert_int_equal(ref_parse(down, &r1, NULL), 0);
	assert_int_equal(ref_parse(good, &r2, NULL), 0);
	t0 = uv_now(&w.loop);
	assert_int_equal(registry_digest(w.pool, &l1, answer_cb, &a[0]), 0);
	assert_int_equal(registry_digest(w.pool, &l2, answer_cb, &a[1]), 0);
	wait_for(&w, a, 2);
	uv_update_time(&w.loop);
	assert_int_equal(a[0].status, -EAGAIN);
	assert_non_null(strstr(a[0].error, "backing off"));
	assert_int_equal(a[1].status, 0);
	assert_true(uv_now(&w.loop) - t0 < 2000);
	world_done(&w);
}

static void test_429_and_ratelimit(void **state)
{
	struct world w;
	struct answer a;
	char ref[256];
	const char *http = getenv("TB_HTTP") + strlen("http://");

	(void)state;
	world_init(&w, NULL, 0);
	snprintf(ref, sizeof(ref), "%s/test-status/429/x:1", http);
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, -EAGAIN);
	lookup(&w, ref, NULL, NULL, NULL, &a); /* Retry-After: 1 still running */
	assert_int_equal(a.status, -EAGAIN);
	assert_non_null(strstr(a.error, "backing off"));
	sleep(2);
	uv_update_time(&w.loop);
	snprintf(ref, sizeof(ref), "%s/test-ratelimit/50/x:1", http);
	lookup(&w, ref, NULL, NULL, NULL, &a); /* the pause is over; plenty left */
	assert_int_equal(a.status, 0);
	snprintf(ref, sizeof(ref), "%s/test-ratelimit/3/x:1", http);
	lookup(&w, ref, NULL, NULL, NULL, &a); /* answered, but 3 of 100 left: slow down */
	assert_int_equal(a.status, 0);
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, -EAGAIN);
	assert_non_null(strstr(a.error, "rate limit"));
	world_done(&w);
}

static void arm(const char *mode, int count)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
	         "curl -sf \"http://$TB_PROXY/_fault?mode=%s&count=%d\" >/dev/null", mode, count);
	assert_int_equal(bed_sh(cmd), 0);
}

/* The real registry behind a proxy that injects 503, 429 and dropped connections. */
static void test_faults(void **state)
{
	struct world w;
	struct answer a;
	char ref[256];

	(void)state;
	world_init(&w, NULL, 0);
	ref_of(ref, sizeof(ref), "TB_PROXY", "refit-test/base:1");
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	arm("503", 1);
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, -EAGAIN);
	assert_non_null(strstr(a.error, "HTTP 503"));
	lookup(&w, ref, NULL, NULL, NULL, &a); /* backing off: no request is sent */
	assert_int_equal(a.status, -EAGAIN);
	assert_non_null(strstr(a.error, "backing off"));
	sleep(3); /* the first backoff is 2 s +-20 % */
	uv_update_time(&w.loop);
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	arm("429", 1);
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, -EAGAIN);
	sleep(2); /* Retry-After: 1 */
	uv_update_time(&w.loop);
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, 0);
	/* the registry goes away in the middle of a poll (curl retries a reused
	 * connection that dies once on its own, so two drops) */
	arm("drop", 2);
	lookup(&w, ref, NULL, NULL, NULL, &a);
	assert_int_equal(a.status, -EAGAIN);
	assert_non_null(strstr(a.error, "unreachable"));
	world_done(&w);
}

static void test_ping(void **state)
{
	struct world w;
	struct answer a = {0};

	(void)state;
	world_init(&w, NULL, 0);
	assert_int_equal(registry_ping(w.pool, getenv("TB_REGISTRY"), answer_cb, &a), 0);
	wait_for(&w, &a, 1);
	assert_int_equal(a.status, 0);
	world_done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ping),
	        cmocka_unit_test(test_digest_follows_pushes),
	        cmocka_unit_test(test_index_platforms),
	        cmocka_unit_test(test_basic_auth),
	        cmocka_unit_test(test_bearer_auth),
	        cmocka_unit_test(test_down_registry_isolated),
	        cmocka_unit_test(test_429_and_ratelimit),
	        cmocka_unit_test(test_faults),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
