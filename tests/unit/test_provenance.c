/* provenance: the in-toto Statement and SLSA predicate of a build; reasons; failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evdoc_fixture.h"
#include "provenance.h"

static const char *s(json_t *o, const char *path)
{
	return json_string_value(fx_at(o, path));
}

static void test_statement(void **state)
{
	struct evdoc_build b = fx_build();
	json_t *d = provenance_statement(&b), *ep, *deps;
	char *text;

	(void)state;
	assert_non_null(d);
	assert_string_equal(s(d, "_type"), "https://in-toto.io/Statement/v1");
	assert_string_equal(s(d, "predicateType"), "https://slsa.dev/provenance/v1");
	assert_string_equal(s(d, "subject.0.name"), "registry.example.com/ds/churn");
	assert_string_equal(s(d, "subject.0.digest.sha256"), &FX_DIGEST[7]);
	ep = fx_at(d, "predicate.buildDefinition.externalParameters");
	assert_string_equal(s(ep, "project"), "churn");
	assert_string_equal(s(ep, "environment"), "prod");
	assert_string_equal(s(ep, "target"), "runtime");
	assert_string_equal(s(ep, "buildArgs.EXTRAS"), "notebook");
	assert_int_equal(json_object_size(json_object_get(ep, "buildArgs")), 2);
	assert_string_equal(s(ep, "secretBuildArgs.0"), "API_TOKEN");
	assert_string_equal(s(ep, "trigger.kind"), "security");
	assert_int_equal(json_array_size(fx_at(ep, "trigger.reasons")), 2);
	assert_string_equal(s(ep, "trigger.advisories.0"), "PYSEC-2023-74");
	assert_string_equal(s(ep, "trigger.advisories.1"), "CVE-2023-5678");
	assert_int_equal(json_array_size(fx_at(ep, "trigger.advisories")), 2);
	assert_string_equal(s(ep, "trigger.fixed.0"), "CVE-2023-5678");
	assert_string_equal(s(ep, "trigger.fixed.1"), "PYSEC-2023-74");
	/* the base moved between the two images */
	assert_string_equal(s(ep, "trigger.base.from"), FX_OLD);
	assert_string_equal(s(ep, "trigger.base.to"), FX_BASE);
	deps = fx_at(d, "predicate.buildDefinition.resolvedDependencies");
	assert_int_equal(json_array_size(deps), 4);
	assert_string_equal(s(deps, "0.uri"), "docker-image://docker.io/library/python:3.12-slim");
	assert_string_equal(s(deps, "0.digest.sha256"), fx_bases[0].digest + 7);
	assert_null(fx_at(deps, "1.digest")); /* never resolved: no digest is made up */
	assert_string_equal(s(deps, "2.digest.sha256"), &FX_DF[7]);
	assert_string_equal(s(deps, "3.digest.gitCommit"), b.git_commit);
	assert_string_equal(s(deps, "3.uri"), "git+https://git.example.com/ds/churn.git@"
	                                      "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(s(d, "predicate.runDetails.builder.id"),
	                    "urn:refit:builder:refit@1.2.3:buildkit");
	assert_string_equal(s(d, "predicate.runDetails.builder.version.engine"), "docker 20.10.24");
	assert_string_equal(s(d, "predicate.runDetails.metadata.startedOn"),
	                    "2025-12-08T00:33:21Z");
	assert_string_equal(s(d, "predicate.runDetails.metadata.finishedOn"),
	                    "2025-12-08T00:34:22Z");
	assert_true(json_is_true(fx_at(d, "predicate.buildDefinition.internalParameters.noCache")));
	text = json_dumps(d, 0);
	assert_null(strstr(text, "\"note\""));
	free(text);
	json_decref(d);
}

/* A build refit captured no inputs for, with a base trigger and no pushed digest. */
static void test_sparse(void **state)
{
	struct evdoc_build b = fx_build(), x;
	json_t *d;

	(void)state;
	b.have_inputs = false;
	b.target = b.dockerfile = b.dockerfile_digest = b.git_commit = b.git_source = NULL;
	b.n_build_args = b.n_secret_args = b.n_bases = 0;
	b.digest = NULL;
	b.trigger = "base";
	b.reasons =
	        "base docker.io/library/python:3.12-slim moved: sha256:3333333 -> sha256:2222222";
	d = provenance_statement(&b);
	assert_non_null(d);
	assert_string_equal(s(d, "subject.0.digest.sha256"), b.image_id + 7); /* the image id */
	assert_null(fx_at(d, "predicate.buildDefinition.externalParameters.secretBuildArgs"));
	assert_string_equal(s(d, "predicate.buildDefinition.externalParameters.trigger.base.from"),
	                    FX_OLD);
	assert_int_equal(
	        json_array_size(fx_at(d, "predicate.buildDefinition.resolvedDependencies")),
	        1); /* the final base from the build row */
	assert_non_null(fx_at(d, "predicate.buildDefinition.internalParameters.note"));
	json_decref(d);
	x = b;
	x.image_id = NULL;
	assert_null(provenance_statement(&x));
}

static void collect(const char *id, size_t n, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 512 - strlen(out), "%.*s|", (int)n, id);
}

static void test_reasons(void **state)
{
	char out[512];

	(void)state;
	out[0] = '\0';
	assert_int_equal(provenance_reason_advisories("security: A-1 p 1 -> 2 (prod); B-2 q 1 -> 2 "
	                                              "(prod); and 7 more\nbase x moved: a -> b\n"
	                                              "security: C-3 r 1 -> 2 (test)",
	                                              collect, out),
	                 3);
	assert_string_equal(out, "A-1|B-2|C-3|");
	out[0] = '\0';
	assert_int_equal(provenance_reason_advisories("manual: security: no", collect, out), 0);
	assert_int_equal(provenance_reason_advisories("security: ", collect, out), 0);
	assert_int_equal(provenance_reason_advisories("security: ;;; ;", collect, out), 0);
	assert_int_equal(provenance_reason_advisories(NULL, collect, out), 0);
	assert_string_equal(out, "");
}

static json_t *prov_of(const void *arg)
{
	return provenance_statement(arg);
}

static void test_alloc_failures(void **state)
{
	struct evdoc_build b = fx_build();

	(void)state;
	assert_true(fx_fail_each(prov_of, &b) > 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_statement),
	        cmocka_unit_test(test_sparse),
	        cmocka_unit_test(test_reasons),
	        cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
