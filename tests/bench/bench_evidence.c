/*
 * bench_evidence — the evidence push alone (evidence_push, as the pipeline runs it)
 * with attestations of realistic size: two SBOMs of N_PKGS packages each (SPDX-
 * and CycloneDX-sized), a provenance and a VEX document, against a real registry.
 *
 *   bench_evidence HOST REPO DIGEST KEY_FILE ROUNDS N_PKGS
 *
 * Prints one line per round ("round I ms M requests Q bytes B") and the median.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "cosign.h"
#include "evidence_push.h"
#include "http_client.h"
#include "registry.h"
#include "sign.h"

struct bench {
	bool done;
	int status;
	uint64_t ms;
	unsigned requests;
};

static void done_cb(int status, const struct evidence_result *r, void *arg)
{
	struct bench *b = arg;

	b->done = true;
	b->status = status;
	b->ms = r->elapsed_ms;
	b->requests = r->requests;
	if (status < 0)
		fprintf(stderr, "evidence push failed: %s\n", r->error);
}

/* A document: an array of n entries made by entry(i) under key, serialised. */
static char *document(const char *key, int n, json_t *(*entry)(int i))
{
	json_t *arr = json_array(), *root;
	char *s;

	for (int i = 0; arr && i < n; i++)
		json_array_append_new(arr, entry(i));
	root = json_pack("{s:o}", key, arr);
	s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return s;
}

static json_t *spdx_pkg(int i)
{
	char name[32], purl[96];

	snprintf(name, sizeof(name), "pkg%d", i);
	snprintf(purl, sizeof(purl), "pkg:deb/debian/pkg%d@1.%d-1+deb12u1?arch=amd64", i, i);
	return json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s}]}", "SPDXID", name, "name", name,
	                 "versionInfo", "1.0-1+deb12u1", "licenseDeclared", "NOASSERTION",
	                 "externalRefs", "referenceCategory", "PACKAGE-MANAGER", "referenceType",
	                 "purl", "referenceLocator", purl);
}

static json_t *cdx_component(int i)
{
	char name[32], purl[96];

	snprintf(name, sizeof(name), "pkg%d", i);
	snprintf(purl, sizeof(purl), "pkg:deb/debian/pkg%d@1.%d-1+deb12u1?arch=amd64", i, i);
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "library", "bom-ref", purl, "name", name,
	                 "version", "1.0-1+deb12u1", "purl", purl);
}

static json_t *dependency(int i)
{
	char uri[64];

	snprintf(uri, sizeof(uri), "pkg:docker/base%d", i);
	return json_pack("{s:s,s:{s:s}}", "uri", uri, "digest", "sha256",
	                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

static json_t *vex_statement(int i)
{
	char cve[32];

	snprintf(cve, sizeof(cve), "CVE-2024-%05d", i);
	return json_pack("{s:{s:s},s:[s],s:s}", "vulnerability", "name", cve, "products",
	                 "pkg:oci/app", "status", "fixed");
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uv_loop_t loop;
	struct http_client *http = NULL;
	struct registry_pool *pool = NULL;
	struct sign_key *key = NULL;
	char err[512], *docs[4];
	struct cosign_attestation atts[4];
	uint64_t ms[64];
	size_t bytes = 0;
	int rounds, n;

	if (argc != 7 || (rounds = atoi(argv[5])) < 1 || rounds > 64 || (n = atoi(argv[6])) < 0) {
		fprintf(stderr, "usage: bench_evidence HOST REPO DIGEST KEY ROUNDS N_PKGS\n");
		return 2;
	}
	if (sign_key_load(argv[4], &key, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	docs[0] = document("packages", n, spdx_pkg);
	docs[1] = document("components", n, cdx_component);
	docs[2] = document("resolvedDependencies", 8, dependency);
	docs[3] = document("statements", n / 20, vex_statement);
	const char *types[4] = {"https://spdx.dev/Document", "https://cyclonedx.org/bom",
	                        "https://slsa.dev/provenance/v1", "https://openvex.dev/ns/v0.2.0"};
	for (int i = 0; i < 4; i++) {
		if (!docs[i])
			return 1;
		atts[i] = (struct cosign_attestation){types[i], docs[i], strlen(docs[i])};
		bytes += atts[i].len;
	}
	http_global_init();
	uv_loop_init(&loop);
	if (http_client_new(&loop, &http) < 0 ||
	    registry_pool_new(&loop, http, NULL, NULL, &pool) < 0)
		return 1;
	for (int r = 0; r < rounds; r++) {
		struct evidence_push_opts o = {.registries = pool,
		                               .key = key,
		                               .domain = argv[1],
		                               .name = argv[2],
		                               .digest = argv[3],
		                               .atts = atts,
		                               .n_atts = 4};
		struct bench b = {0};
		struct evidence_push *e;
		if (evidence_push_start(&loop, &o, done_cb, &b, &e) < 0)
			return 1;
		while (!b.done)
			uv_run(&loop, UV_RUN_ONCE);
		if (b.status < 0)
			return 1;
		ms[r] = b.ms;
		printf("round %d ms %llu requests %u bytes %zu\n", r, (unsigned long long)b.ms,
		       b.requests, bytes);
	}
	qsort(ms, (size_t)rounds, sizeof(ms[0]), cmp);
	printf("EVIDENCE_MEDIAN_MS %llu\n", (unsigned long long)ms[rounds / 2]);
	registry_pool_free(pool);
	http_client_close(http);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	http_global_cleanup();
	sign_key_free(key);
	for (int i = 0; i < 4; i++)
		free(docs[i]);
	return 0;
}
