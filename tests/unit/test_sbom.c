/* sbom: SPDX 2.3 and CycloneDX 1.5 of a build; deterministic; every failed allocation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evdoc_fixture.h"
#include "sbom.h"

static json_t *pkg_named(json_t *list, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p)
	{
		if (!strcmp(json_string_value(json_object_get(p, "name")), name))
			return p;
	}
	fail_msg("no package %s", name);
	return NULL;
}

static void test_spdx(void **state)
{
	struct evdoc_build b = fx_build();
	json_t *d = sbom_spdx(&b), *pk = json_object_get(d, "packages"), *p;

	(void)state;
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "spdxVersion")), "SPDX-2.3");
	assert_string_equal(json_string_value(fx_at(d, "creationInfo.created")),
	                    "2025-12-08T00:34:22Z");
	assert_int_equal(json_array_size(pk), 2 + b.n_pkgs);
	/* 1 DESCRIBES, 1 DESCENDANT_OF, one CONTAINS per package */
	assert_int_equal(json_array_size(json_object_get(d, "relationships")), 2 + b.n_pkgs);
	p = json_array_get(pk, 0);
	assert_string_equal(json_string_value(json_object_get(p, "SPDXID")), "SPDXRef-Image");
	assert_string_equal(json_string_value(json_object_get(p, "versionInfo")), FX_DIGEST);
	assert_string_equal(
	        json_string_value(fx_at(p, "externalRefs.0.referenceLocator")),
	        "pkg:oci/churn@sha256%3Aabababababababababababababababababababababababab"
	        "abababababababab?repository_url=registry.example.com/ds/churn");
	assert_string_equal(json_string_value(fx_at(p, "checksums.0.checksumValue")),
	                    &FX_DIGEST[7]);
	p = json_array_get(pk, 1);
	assert_string_equal(json_string_value(json_object_get(p, "SPDXID")), "SPDXRef-BaseImage");
	assert_string_equal(json_string_value(json_object_get(p, "versionInfo")), FX_BASE);
	p = pkg_named(pk, "libc6");
	assert_string_equal(json_string_value(json_object_get(p, "sourceInfo")),
	                    "built package from: glibc 2.36-9+deb12u9");
	assert_string_equal(json_string_value(fx_at(p, "externalRefs.0.referenceLocator")),
	                    "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12");
	assert_string_equal(json_string_value(json_object_get(p, "licenseDeclared")),
	                    "NOASSERTION");
	/* same name as its source and same version: no sourceInfo */
	assert_null(json_object_get(pkg_named(pk, "tzdata"), "sourceInfo"));
	p = pkg_named(pk, "musl");
	assert_string_equal(json_string_value(json_object_get(p, "licenseDeclared")), "MIT");
	p = pkg_named(pk, "zlib"); /* not an expression: kept as a comment */
	assert_string_equal(json_string_value(json_object_get(p, "licenseDeclared")),
	                    "NOASSERTION");
	assert_string_equal(json_string_value(json_object_get(p, "licenseComments")),
	                    "MIT BSD GPL2+");
	json_decref(d);
}

static void test_cyclonedx(void **state)
{
	struct evdoc_build b = fx_build();
	struct evdoc_pkg twice[] = {fx_pkgs[6], fx_pkgs[6]}; /* two copies: unique bom-refs */
	json_t *d = sbom_cyclonedx(&b), *c = json_object_get(d, "components"), *p;
	const char *serial = json_string_value(json_object_get(d, "serialNumber"));

	(void)state;
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "specVersion")), "1.5");
	assert_int_equal(strlen(serial), 45);
	assert_int_equal(serial[23], '5');                  /* version 5 */
	assert_non_null(strchr("89ab", serial[28]));        /* RFC 4122 variant */
	assert_int_equal(json_array_size(c), 1 + b.n_pkgs); /* the OS first */
	assert_string_equal(json_string_value(fx_at(c, "0.type")), "operating-system");
	p = fx_at(d, "metadata.component");
	assert_string_equal(json_string_value(json_object_get(p, "type")), "container");
	assert_string_equal(json_string_value(fx_at(p, "pedigree.ancestors.0.version")), FX_BASE);
	assert_string_equal(json_string_value(fx_at(p, "pedigree.ancestors.0.hashes.0.content")),
	                    &FX_BASE[7]);
	p = pkg_named(c, "busybox");
	assert_string_equal(json_string_value(fx_at(p, "licenses.0.expression")), "GPL-2.0-only");
	assert_string_equal(json_string_value(json_object_get(p, "purl")),
	                    "pkg:apk/alpine/busybox@1.36.1-r0?arch=x86_64&distro=alpine-3.18");
	p = pkg_named(c, "zlib");
	assert_string_equal(json_string_value(fx_at(p, "licenses.0.license.name")),
	                    "MIT BSD GPL2+");
	assert_int_equal(json_array_size(fx_at(d, "dependencies.0.dependsOn")), 1 + b.n_pkgs);
	json_decref(d);

	b.pkgs = twice;
	b.n_pkgs = 2;
	d = sbom_cyclonedx(&b);
	assert_string_equal(json_string_value(fx_at(d, "components.1.bom-ref")),
	                    "pkg:pypi/requests@2.31.0");
	assert_string_equal(json_string_value(fx_at(d, "components.2.bom-ref")),
	                    "pkg:pypi/requests@2.31.0#2");
	json_decref(d);
}

/* The same build gives the same bytes; another build another serial. */
static void test_deterministic(void **state)
{
	struct evdoc_build b = fx_build();
	char *x[2][2];

	(void)state;
	for (int i = 0; i < 2; i++)
		for (int f = 0; f < 2; f++) {
			json_t *d = sbom_render(&b, f ? SBOM_CYCLONEDX : SBOM_SPDX);
			x[i][f] = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(d);
		}
	assert_string_equal(x[0][0], x[1][0]);
	assert_string_equal(x[0][1], x[1][1]);
	for (int i = 0; i < 2; i++)
		for (int f = 0; f < 2; f++)
			free(x[i][f]);
}

/* No digest, no base, no packages: still a valid shape. */
static void test_minimal(void **state)
{
	struct evdoc_build b = {.id = 1, .project = "p", .env = "test", .have_inventory = true};
	json_t *d = sbom_spdx(&b);
	char buf[64];

	(void)state;
	assert_non_null(d);
	assert_int_equal(json_array_size(json_object_get(d, "packages")), 1);
	assert_null(
	        json_object_get(json_array_get(json_object_get(d, "packages"), 0), "externalRefs"));
	json_decref(d);
	d = sbom_cyclonedx(&b);
	assert_non_null(d);
	json_decref(d);
	assert_int_equal(sbom_image_purl(&b, buf, sizeof(buf)), -EINVAL);
	b.image_id = FX_DIGEST;
	assert_int_equal(sbom_image_purl(&b, buf, 10), -ENOSPC);
}

static void test_format(void **state)
{
	enum sbom_format f;

	(void)state;
	assert_int_equal(sbom_format_parse(NULL, &f), 0);
	assert_int_equal(f, SBOM_SPDX);
	assert_int_equal(sbom_format_parse("cyclonedx", &f), 0);
	assert_int_equal(f, SBOM_CYCLONEDX);
	assert_int_equal(sbom_format_parse("xml", &f), -EINVAL);
	assert_string_equal(sbom_media_type(SBOM_SPDX), "application/spdx+json");
}

static json_t *spdx_of(const void *arg)
{
	return sbom_spdx(arg);
}

static json_t *cdx_of(const void *arg)
{
	return sbom_cyclonedx(arg);
}

static void test_alloc_failures(void **state)
{
	struct evdoc_build b = fx_build();

	(void)state;
	assert_true(fx_fail_each(spdx_of, &b) > 50);
	assert_true(fx_fail_each(cdx_of, &b) > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_spdx),          cmocka_unit_test(test_cyclonedx),
	        cmocka_unit_test(test_deterministic), cmocka_unit_test(test_minimal),
	        cmocka_unit_test(test_format),        cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
