/* libFuzzer target: what refit reads back from a registry about signatures — referrers
 * indexes (and their merge), artifact manifests, simple signing payloads, DSSE envelopes
 * (checked against a fixed public key) and in-toto Statements. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cosign.h"
#include "sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed P-256 public key (generated for this target; its private half is not kept). */
static const char pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEItcMH5C5vRwZsSUbfF4555Afcjm9\n"
                              "Eu8zWigzhay9aA1CXziNqCUrq/8Y7mx4zdLBpNnqeEMSw0Y2dqWUVXXb4A==\n"
                              "-----END PUBLIC KEY-----\n";

#define DIG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sign_key *k;
	static bool tried;
	const char *s = (const char *)data;
	struct cosign_referrer *refs = NULL, add = {.digest = DIG, .size = 1};
	struct cosign_manifest_info mi;
	struct cosign_blob b = {0};
	char *repo = NULL, *type = NULL, dig[DIGEST_STR_MAX];
	size_t n = 0;
	bool match;

	if (!tried) {
		tried = true;
		sign_key_parse_public(pub_pem, sizeof(pub_pem) - 1, &k);
	}
	if (cosign_index_read(s, size, &refs, &n) == 0)
		free(refs);
	if (cosign_index_merge(s, size, &add, 1, &b) == 0)
		cosign_blob_done(&b);
	if (cosign_manifest_read(s, size, &mi) == 0)
		cosign_manifest_info_done(&mi);
	if (cosign_payload_read(s, size, &repo, dig) == 0)
		free(repo);
	if (intoto_read(s, size, DIG, &type, &match) == 0)
		free(type);
	type = NULL;
	if (k && dsse_open(k, s, size, &b, &type) == 0) {
		cosign_blob_done(&b);
		free(type);
	}
	return 0;
}
