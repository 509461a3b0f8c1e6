/* sign + cosign: keys from PEM (and what is refused), signatures that verify and those that
 * must not (another key, a changed message, garbage), the simple signing payload, DSSE (the
 * spec's PAE vector, envelopes that verify and tampered ones), Statements, manifests and the
 * referrers index merge. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base64.h"
#include "cosign.h"
#include "sign.h"

#define HEX  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG  "sha256:" HEX
#define DIG2 "sha256:ff23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A fresh key of a curve, as PEM (PKCS#8, or SEC1 when sec1). */
static char *gen_pem(const char *curve, bool sec1)
{
	EVP_PKEY *k = curve ? EVP_EC_gen(curve) : EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(k);
	assert_non_null(b);
	if (sec1)
		assert_int_equal(
		        PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)n);
	BIO_free(b);
	EVP_PKEY_free(k);
	return out;
}

static struct sign_key *key(void)
{
	char *pem = gen_pem("P-256", false);
	struct sign_key *k = NULL;

	assert_int_equal(sign_key_parse_private(pem, strlen(pem), &k), 0);
	free(pem);
	return k;
}

static struct sign_key *public_of(const struct sign_key *k)
{
	char *pem = sign_key_public_pem(k);
	struct sign_key *p = NULL;

	assert_non_null(pem);
	assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
	assert_int_equal(sign_key_parse_public(pem, strlen(pem), &p), 0);
	assert_false(sign_key_is_private(p));
	free(pem);
	return p;
}

static void test_sign_verify(void **state)
{
	struct sign_key *k = key(), *pub = public_of(k), *other = key(), *other_pub;
	char *sig = NULL, bad[200];
	const char msg[] = "hello";

	(void)state;
	other_pub = public_of(other);
	assert_int_equal(sign_message(k, msg, 5, &sig), 0);
	assert_int_equal(sign_verify(pub, msg, 5, sig), 0);
	assert_int_equal(sign_verify(k, msg, 5, sig), 0);
	assert_int_equal(sign_verify(other_pub, msg, 5, sig), -EBADMSG); /* another key */
	assert_int_equal(sign_verify(pub, "hellO", 5, sig), -EBADMSG);   /* another message */
	assert_int_equal(sign_verify(pub, msg, 5, "!!"), -EINVAL);
	assert_int_equal(sign_verify(pub, msg, 5, ""), -EINVAL);
	assert_int_equal(sign_verify(pub, msg, 5, NULL), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", sig);
	bad[10] = bad[10] == 'A' ? 'B' : 'A'; /* a flipped bit in the DER */
	assert_int_not_equal(sign_verify(pub, msg, 5, bad), 0);
	assert_int_equal(sign_verify(pub, msg, 5, "AAAA"), -EBADMSG);
	assert_int_equal(sign_message(pub, msg, 5, &sig), -EINVAL); /* unchanged on failure */
	free(sig);
	sign_key_free(k);
	sign_key_free(pub);
	sign_key_free(other);
	sign_key_free(other_pub);
	sign_key_free(NULL);
}

/* SEC1 keys load too; other curves, RSA, encrypted keys, public keys and garbage do not. */
static void test_key_forms(void **state)
{
	struct sign_key *k = NULL;
	char *pem;
	const char enc[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED "
	                   "PRIVATE KEY-----\n";

	(void)state;
	pem = gen_pem("P-256", true);
	assert_non_null(strstr(pem, "BEGIN EC PRIVATE KEY"));
	assert_int_equal(sign_key_parse_private(pem, strlen(pem), &k), 0);
	sign_key_free(k);
	free(pem);
	pem = gen_pem("P-384", false);
	assert_int_equal(sign_key_parse_private(pem, strlen(pem), &k), -EPROTONOSUPPORT);
	free(pem);
	pem = gen_pem(NULL, false);
	assert_int_equal(sign_key_parse_private(pem, strlen(pem), &k), -EPROTONOSUPPORT);
	free(pem);
	assert_int_equal(sign_key_parse_private(enc, strlen(enc), &k), -EINVAL);
	assert_int_equal(sign_key_parse_private("junk", 4, &k), -EINVAL);
	assert_int_equal(sign_key_parse_public("junk", 4, &k), -EINVAL);
}

/* A key file: loaded; a bad one's error names the file, never its bytes. */
static void test_key_file(void **state)
{
	char path[] = "/tmp/refit-test-key-XXXXXX", err[256] = "";
	char *pem = gen_pem("P-256", false);
	struct sign_key *k = NULL;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
	assert_int_equal(sign_key_load(path, &k, err, sizeof(err)), 0);
	sign_key_free(k);
	/* a corrupted body: refused, and the error quotes nothing of it */
	assert_int_equal(pwrite(fd, "@@@@", 4, 40), 4);
	assert_int_not_equal(sign_key_load(path, &k, err, sizeof(err)), 0);
	assert_non_null(strstr(err, path));
	assert_null(strstr(err, "MI"));
	assert_null(strstr(err, "@@@@"));
	close(fd);
	unlink(path);
	assert_int_equal(sign_key_load(path, &k, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(sign_key_load("/dev/null", &k, err, sizeof(err)), -EBADFD);
	free(pem);
}

static void test_payload(void **state)
{
	struct cosign_blob b = {0};
	char *repo = NULL, dig[DIGEST_STR_MAX], tag[128];
	json_t *root;

	(void)state;
	assert_int_equal(cosign_payload("localhost:5000/ds/churn", DIG, &b), 0);
	root = json_loadb(b.p, b.len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(json_object_get(root, "critical"), "identity"),
	                            "docker-reference")),
	                    "localhost:5000/ds/churn");
	assert_true(json_is_null(json_object_get(root, "optional")));
	json_decref(root);
	assert_int_equal(cosign_payload_read(b.p, b.len, &repo, dig), 0);
	assert_string_equal(repo, "localhost:5000/ds/churn");
	assert_string_equal(dig, DIG);
	free(repo);
	assert_int_equal(cosign_payload_read("{}", 2, &repo, dig), -EINVAL);
	assert_int_equal(cosign_payload_read("[", 1, &repo, dig), -EINVAL);
	cosign_blob_done(&b);
	assert_int_equal(cosign_payload("r", "sha256:abc", &b), -EINVAL);
	assert_int_equal(cosign_tag(DIG, ".sig", tag, sizeof(tag)), 0);
	assert_string_equal(tag, "sha256-" HEX ".sig");
}

/* The DSSE spec's PAE example, then a round trip and what must fail. */
static void test_dsse(void **state)
{
	struct sign_key *k = key(), *pub = public_of(k), *other = key();
	struct cosign_blob pae = {0}, env = {0}, out = {0};
	const char expect[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
	char *type = NULL, *s;
	json_t *root;

	(void)state;
	assert_int_equal(dsse_pae("http://example.com/HelloWorld", "hello world", 11, &pae), 0);
	assert_int_equal(pae.len, strlen(expect));
	assert_memory_equal(pae.p, expect, pae.len);
	cosign_blob_done(&pae);
	assert_int_equal(dsse_sign(k, INTOTO_PAYLOAD_TYPE, "{\"a\":1}", 7, &env), 0);
	assert_int_equal(dsse_open(pub, env.p, env.len, &out, &type), 0);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.p, "{\"a\":1}", 7);
	assert_string_equal(type, INTOTO_PAYLOAD_TYPE);
	free(type);
	cosign_blob_done(&out);
	assert_int_equal(dsse_open(other, env.p, env.len, &out, &type), -EBADMSG);
	/* another payload under the same signature */
	root = json_loadb(env.p, env.len, 0, NULL);
	json_object_set_new(root, "payload", json_string("eyJhIjoyfQ=="));
	s = json_dumps(root, JSON_COMPACT);
	assert_int_equal(dsse_open(pub, s, strlen(s), &out, &type), -EBADMSG);
	free(s);
	/* another payloadType (the PAE covers it) */
	json_object_set_new(root, "payload", json_string("eyJhIjoxfQ=="));
	json_object_set_new(root, "payloadType", json_string("text/plain"));
	s = json_dumps(root, JSON_COMPACT);
	assert_int_equal(dsse_open(pub, s, strlen(s), &out, &type), -EBADMSG);
	free(s);
	json_object_set_new(root, "signatures", json_array());
	s = json_dumps(root, JSON_COMPACT);
	assert_int_equal(dsse_open(pub, s, strlen(s), &out, &type), -EINVAL);
	free(s);
	json_decref(root);
	assert_int_equal(dsse_open(pub, "nope", 4, &out, &type), -EINVAL);
	cosign_blob_done(&env);
	sign_key_free(k);
	sign_key_free(pub);
	sign_key_free(other);
}

static void test_statement(void **state)
{
	struct cosign_attestation pred = {"https://slsa.dev/provenance/v1", "{\"x\":1}", 7};
	const char st[] = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":"
	                  "\"other\",\"digest\":{\"sha256\":\"00\"}}],\"predicateType\":\"p\","
	                  "\"predicate\":{}}";
	struct cosign_attestation whole = {"q", st, sizeof(st) - 1};
	struct cosign_attestation bad = {"t", "{", 1};
	struct cosign_blob b = {0};
	char *pt = NULL;
	bool match = false;

	(void)state;
	assert_int_equal(intoto_statement("r/x", DIG, &pred, &b), 0);
	assert_int_equal(intoto_read(b.p, b.len, DIG, &pt, &match), 0);
	assert_string_equal(pt, "https://slsa.dev/provenance/v1");
	assert_true(match);
	free(pt);
	assert_int_equal(intoto_read(b.p, b.len, DIG2, &pt, &match), 0);
	assert_false(match);
	free(pt);
	cosign_blob_done(&b);
	/* a whole Statement keeps its predicateType, gets this image as subject */
	assert_int_equal(intoto_statement("r/x", DIG, &whole, &b), 0);
	assert_int_equal(intoto_read(b.p, b.len, DIG, &pt, &match), 0);
	assert_string_equal(pt, "p");
	assert_true(match);
	assert_null(strstr(b.p, "other"));
	free(pt);
	cosign_blob_done(&b);
	assert_int_equal(intoto_statement("r/x", DIG, &bad, &b), -EINVAL);
	assert_int_equal(intoto_read("{}", 2, DIG, &pt, &match), -EINVAL);
}

static void test_manifest_roundtrip(void **state)
{
	struct cosign_blob payload = {0}, config = {0}, man = {0};
	struct cosign_layer l = {COSIGN_SIG_LAYER, &payload, {COSIGN_SIG_ANNOTATION}, {"SIG"}};
	struct cosign_manifest_info mi = {0};

	(void)state;
	assert_int_equal(cosign_payload("r/x", DIG, &payload), 0);
	assert_int_equal(cosign_config(&l, 1, &config), 0);
	assert_non_null(strstr(config.p, payload.digest));
	assert_int_equal(cosign_manifest(&config, &l, 1, COSIGN_SIG_ARTIFACT, DIG, 1234,
	                                 OCI_MANIFEST_TYPE, &man),
	                 0);
	assert_int_equal(cosign_manifest_read(man.p, man.len, &mi), 0);
	assert_string_equal(mi.subject, DIG);
	assert_string_equal(mi.artifact_type, COSIGN_SIG_ARTIFACT);
	assert_int_equal(mi.n_layers, 1);
	assert_string_equal(mi.layers[0].media_type, COSIGN_SIG_LAYER);
	assert_string_equal(mi.layers[0].digest, payload.digest);
	assert_int_equal(mi.layers[0].size, payload.len);
	assert_string_equal(mi.layers[0].signature, "SIG");
	assert_null(mi.layers[0].predicate_type);
	cosign_manifest_info_done(&mi);
	assert_int_equal(cosign_manifest_read("{\"schemaVersion\":2}", 19, &mi), -EINVAL);
	assert_int_equal(cosign_manifest_read("{\"schemaVersion\":2,\"layers\":[{}]}", 33, &mi),
	                 -EINVAL);
	cosign_blob_done(&payload);
	cosign_blob_done(&config);
	cosign_blob_done(&man);
}

static void test_index_merge(void **state)
{
	struct cosign_referrer a[2] = {
	        {.digest = DIG, .artifact_type = COSIGN_SIG_ARTIFACT, .size = 10},
	        {.digest = DIG2, .artifact_type = COSIGN_ATT_ARTIFACT, .size = 20}};
	struct cosign_referrer *got = NULL;
	struct cosign_blob one = {0}, two = {0};
	size_t n = 0;

	(void)state;
	assert_int_equal(cosign_index_merge(NULL, 0, a, 1, &one), 0);
	/* merging the same again plus a new one: listed once each */
	assert_int_equal(cosign_index_merge(one.p, one.len, a, 2, &two), 0);
	assert_int_equal(cosign_index_read(two.p, two.len, &got, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(got[0].digest, DIG);
	assert_string_equal(got[0].artifact_type, COSIGN_SIG_ARTIFACT);
	assert_int_equal(got[1].size, 20);
	free(got);
	assert_int_equal(cosign_index_merge("{\"schemaVersion\":1}", 19, a, 1, &one), -EINVAL);
	assert_int_equal(cosign_index_read("[]", 2, &got, &n), -EINVAL);
	/* someone else's malformed entry is skipped, not fatal */
	assert_int_equal(cosign_index_read("{\"schemaVersion\":2,\"manifests\":[{\"digest\":1}]}",
	                                   46, &got, &n),
	                 0);
	assert_int_equal(n, 0);
	free(got);
	cosign_blob_done(&one);
	cosign_blob_done(&two);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sign_verify),
	        cmocka_unit_test(test_key_forms),
	        cmocka_unit_test(test_key_file),
	        cmocka_unit_test(test_payload),
	        cmocka_unit_test(test_dsse),
	        cmocka_unit_test(test_statement),
	        cmocka_unit_test(test_manifest_roundtrip),
	        cmocka_unit_test(test_index_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
