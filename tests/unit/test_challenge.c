/* challenge: WWW-Authenticate headers as real registries send them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "challenge.h"

static void test_docker_hub(void **state)
{
	struct challenge c[CHALLENGE_MAX];
	int n = challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
	                        "docker.io\",scope=\"repository:samalba/my-app:pull,push\"",
	                        c, CHALLENGE_MAX);

	(void)state;
	assert_int_equal(n, 1);
	assert_int_equal(c[0].scheme, CHALLENGE_BEARER);
	assert_string_equal(c[0].realm, "https://auth.docker.io/token");
	assert_string_equal(c[0].service, "registry.docker.io");
	assert_string_equal(c[0].scope, "repository:samalba/my-app:pull,push");
}

static void test_several_challenges(void **state)
{
	struct challenge c[CHALLENGE_MAX];
	int n = challenge_parse("Basic realm=\"quay.io\", Bearer realm=\"https://quay.io/v2/auth\","
	                        "service=\"quay.io\"",
	                        c, CHALLENGE_MAX);

	(void)state;
	assert_int_equal(n, 2);
	assert_int_equal(c[0].scheme, CHALLENGE_BASIC);
	assert_string_equal(c[0].realm, "quay.io");
	assert_non_null(challenge_find(c, n, CHALLENGE_BEARER));
	assert_string_equal(challenge_find(c, n, CHALLENGE_BEARER)->service, "quay.io");
}

static void test_forms(void **state)
{
	struct challenge c[CHALLENGE_MAX];

	(void)state;
	/* distribution's htpasswd answer */
	assert_int_equal(challenge_parse("Basic realm=\"refit-test\"", c, CHALLENGE_MAX), 1);
	assert_int_equal(c[0].scheme, CHALLENGE_BASIC);
	/* unquoted tokens, case-insensitive scheme and keys, spaces around = */
	assert_int_equal(challenge_parse("bearer Realm = https://r/t , service=s", c, 4), 1);
	assert_string_equal(c[0].realm, "https://r/t");
	assert_string_equal(c[0].service, "s");
	/* escapes inside quoted strings, insufficient_scope */
	assert_int_equal(challenge_parse("Bearer realm=\"a\\\"b\",error=\"insufficient_scope\","
	                                 "scope=\"repository:x:pull\"",
	                                 c, 4),
	                 1);
	assert_string_equal(c[0].realm, "a\"b");
	assert_string_equal(c[0].error, "insufficient_scope");
	/* a scheme without parameters, then another */
	assert_int_equal(challenge_parse("Negotiate, Basic realm=x", c, 4), 2);
	assert_int_equal(c[0].scheme, CHALLENGE_OTHER);
	assert_int_equal(c[1].scheme, CHALLENGE_BASIC);
}

static void test_malformed(void **state)
{
	struct challenge c[CHALLENGE_MAX];
	char big[2000];

	(void)state;
	assert_int_equal(challenge_parse("", c, 4), -EINVAL);
	assert_int_equal(challenge_parse("Bearer realm=\"unterminated", c, 4), -EINVAL);
	assert_int_equal(challenge_parse("Bearer realm=", c, 4), -EINVAL);
	assert_int_equal(challenge_parse("\"Bearer\"", c, 4), -EINVAL);
	assert_int_equal(challenge_parse("Bearer realm=a b=c", c, 4), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "Bearer realm=", 13);
	assert_int_equal(challenge_parse(big, c, 4), -EINVAL); /* value over the bound */
	assert_int_equal(challenge_parse(NULL, c, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_docker_hub),
	        cmocka_unit_test(test_several_challenges),
	        cmocka_unit_test(test_forms),
	        cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
