/* registry: the pure parts — platform pick from a real manifest list, RateLimit values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "registry.h"
#include "registry_impl.h"

static void test_pick_platform(void **state)
{
	size_t len;
	char *body =
	        test_read_file("tests/fixtures/registry/ubuntu_17.10-manifest-list.json", &len);
	char d[80];

	(void)state;
	assert_int_equal(registry_index_pick(body, len, "linux/amd64", d, sizeof(d)), 0);
	assert_string_equal(d, "sha256:9c4bf7dbb981591d4a1169138471afe4bf5ff5418841d00e30a7ba372e38"
	                       "d6c1");
	assert_int_equal(registry_index_pick(body, len, "linux/arm/v7", d, sizeof(d)), 0);
	assert_string_equal(d, "sha256:85ed41b4795e1f189e97687bec8f93ac2a62f895c52da4d32711e16653"
	                       "6f5f9b");
	/* arm64 means arm64/v8 */
	assert_int_equal(registry_index_pick(body, len, "linux/arm64", d, sizeof(d)), 0);
	assert_string_equal(d, "sha256:e9db911767094e469f17f162c743cb9972525ee5b468db7d77854806bd"
	                       "740ad3");
	assert_int_equal(registry_index_pick(body, len, "linux/arm/v6", d, sizeof(d)), -ENOENT);
	assert_int_equal(registry_index_pick(body, len, "windows/amd64", d, sizeof(d)), -ENOENT);
	assert_int_equal(registry_index_pick(body, len, "amd64", d, sizeof(d)), -EINVAL);
	assert_int_equal(registry_index_pick("not json", 8, "linux/amd64", d, sizeof(d)), -ENOENT);
	free(body);
}

static void test_ratelimit(void **state)
{
	long n, w;

	(void)state;
	assert_int_equal(registry_parse_ratelimit("100;w=21600", &n, &w), 0);
	assert_int_equal(n, 100);
	assert_int_equal(w, 21600);
	assert_int_equal(registry_parse_ratelimit("7", &n, &w), 0);
	assert_int_equal(n, 7);
	assert_int_equal(w, 21600); /* Docker Hub's window when none is given */
	assert_int_equal(registry_parse_ratelimit("none", &n, &w), -EINVAL);
	assert_int_equal(registry_parse_ratelimit(NULL, &n, &w), -EINVAL);
}

static void test_api_host(void **state)
{
	(void)state;
	assert_string_equal(registry_api_host("docker.io"), "registry-1.docker.io");
	assert_string_equal(registry_api_host("ghcr.io"), "ghcr.io");
	assert_string_equal(registry_api_host("localhost:5000"), "localhost:5000");
}

static struct reg_host *new_host(void)
{
	struct reg_host *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->host = strdup("registry.example.com");
	return h;
}

/* Tokens: per scope, valid until expires_in (at least 60 s) minus a 10 s margin. */
static void test_token_cache(void **state)
{
	struct reg_host *h = new_host();
	const char *s1 = "repository:a:pull", *s2 = "repository:b:pull";

	(void)state;
	assert_null(reg_host_token(h, s1, 0));
	assert_int_equal(reg_host_token_put(h, s1, "tok-a", 300, 1000), 0);
	assert_int_equal(reg_host_token_put(h, s2, "tok-b", 5, 1000), 0); /* 5 s counts as 60 s */
	assert_string_equal(reg_host_token(h, s1, 1000), "tok-a");
	assert_null(reg_host_token(h, "repository:c:pull", 1000));
	assert_string_equal(reg_host_token(h, s2, 1000 + 49000), "tok-b");
	assert_null(reg_host_token(h, s2, 1000 + 51000)); /* within 10 s of expiry: renew */
	assert_string_equal(reg_host_token(h, s1, 1000 + 289000), "tok-a");
	assert_null(reg_host_token(h, s1, 1000 + 291000));
	assert_int_equal(reg_host_token_put(h, s1, "tok-a2", 300, 2000), 0); /* replaces */
	assert_string_equal(reg_host_token(h, s1, 2000), "tok-a2");
	reg_host_token_drop(h, s1);
	assert_null(reg_host_token(h, s1, 2000));
	reg_host_free(h);
}

/* RateLimit: a tenth of the quota (at least 2) is kept; below it requests are spread. */
static void test_ratelimit_slowdown(void **state)
{
	struct reg_host *h = new_host();

	(void)state;
	reg_host_ratelimit(h, 1000, "50;w=21600", "100;w=21600");
	assert_int_equal(h->blocked_until, 0);
	reg_host_ratelimit(h, 1000, "10;w=21600", "100;w=21600");
	assert_int_equal(h->blocked_until, 1000 + 21600000 / 11); /* window / (remaining + 1) */
	reg_host_free(h);
	h = new_host();
	reg_host_ratelimit(h, 0, "2;w=600", "10;w=600"); /* small quota: reserve is 2 */
	assert_int_equal(h->blocked_until, 600000 / 3);
	reg_host_retry_after(h, 0, "30"); /* shorter than what is already blocked: kept */
	assert_int_equal(h->blocked_until, 600000 / 3);
	reg_host_retry_after(h, 0, "3600");
	assert_int_equal(h->blocked_until, 3600000);
	reg_host_free(h);
}

/* 5xx and transport failures: exponential backoff with +-20 % jitter, capped at 10 min. */
static void test_backoff(void **state)
{
	struct reg_host *h = new_host();
	uint64_t prev = 0;

	(void)state;
	for (int i = 0; i < 12; i++) {
		uint64_t now = 1000000ULL * (uint64_t)(i + 1), wait;
		h->blocked_until = 0;
		reg_host_failed(h, now, "HTTP 503");
		wait = h->blocked_until - now;
		assert_true(wait >= h->backoff_ms * 8 / 10 && wait <= h->backoff_ms * 12 / 10);
		assert_true(h->backoff_ms >= prev && h->backoff_ms <= 600000);
		prev = h->backoff_ms;
	}
	assert_int_equal(h->backoff_ms, 600000);
	reg_host_ok(h);
	assert_int_equal(h->backoff_ms, 0);
	reg_host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pick_platform),      cmocka_unit_test(test_ratelimit),
	        cmocka_unit_test(test_api_host),           cmocka_unit_test(test_token_cache),
	        cmocka_unit_test(test_ratelimit_slowdown), cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
