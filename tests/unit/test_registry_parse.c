/* registry: the pure parts — platform pick from a real manifest list, RateLimit values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_pick_platform(void **state)
{
	size_t len;
	char *body = slurp("tests/fixtures/registry/ubuntu_17.10-manifest-list.json", &len);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pick_platform),
	        cmocka_unit_test(test_ratelimit),
	        cmocka_unit_test(test_api_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
