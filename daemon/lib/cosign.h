/*
 * cosign — the documents cosign stores next to an image in a registry, built
 * and checked without I/O (sign does the cryptography):
 *
 *  - the "simple signing" payload naming a manifest digest and its
 *    repository (docker-reference), signed ECDSA-SHA256 and carried in the
 *    layer annotation dev.cosignproject.cosign/signature of an image manifest
 *    tagged sha256-<hex>.sig (layer type application/vnd.dev.cosign.simplesigning.v1+json);
 *  - in-toto Statements (v1) about the image, each in a DSSE envelope
 *    (payloadType application/vnd.in-toto+json, signature over the PAE), one
 *    layer each of an image manifest tagged sha256-<hex>.att (layer type
 *    application/vnd.dsse.envelope.v1+json, annotation predicateType);
 *  - both manifests carry `subject` (the image manifest) and `artifactType`,
 *    so they are OCI 1.1 referrers too; the referrers index of the fallback
 *    tag schema (tag sha256-<hex>) is merged here, read-modify-write.
 *
 * Everything read back (manifests, indexes, envelopes, payloads) is outside
 * input: parsed with jansson, bounded, never trusted before its signature.
 */
#ifndef REFIT_COSIGN_H
#define REFIT_COSIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"

struct sign_key;

#define COSIGN_SIG_LAYER       "application/vnd.dev.cosign.simplesigning.v1+json"
#define COSIGN_ATT_LAYER       "application/vnd.dsse.envelope.v1+json"
#define COSIGN_SIG_ANNOTATION  "dev.cosignproject.cosign/signature"
#define COSIGN_PRED_ANNOTATION "predicateType"
#define COSIGN_SIG_ARTIFACT    "application/vnd.dev.cosign.artifact.sig.v1+json"
#define COSIGN_ATT_ARTIFACT    "application/vnd.dev.cosign.artifact.att.v1+json"
#define INTOTO_PAYLOAD_TYPE    "application/vnd.in-toto+json"
#define OCI_MANIFEST_TYPE      "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX_TYPE         "application/vnd.oci.image.index.v1+json"
#define OCI_CONFIG_TYPE        "application/vnd.oci.image.config.v1+json"
#define COSIGN_DOC_MAX         (16u << 20) /* one attestation, a manifest, an index */

/* A byte string owned by whoever holds it (free p). */
struct cosign_blob {
	char *p;
	size_t len;
	char digest[DIGEST_STR_MAX];
};

void cosign_blob_done(struct cosign_blob *b);

/* One attestation to make: a predicate (or a whole in-toto Statement) of a type. */
struct cosign_attestation {
	const char *predicate_type; /* e.g. https://slsa.dev/provenance/v1 */
	const char *json;           /* the predicate, or a Statement whose subject is replaced */
	size_t len;
};

/* The tags cosign uses for digest "sha256:<hex>": suffix "" (referrers), ".sig" or ".att". */
int cosign_tag(const char *digest, const char *suffix, char *buf, size_t len);

/* {"critical":{"identity":{"docker-reference":REPO},"image":{"docker-manifest-digest":D},...}} */
int cosign_payload(const char *repo, const char *digest, struct cosign_blob *ret);

/* Reads a simple signing payload: its docker-reference (malloc'd) and manifest digest. */
int cosign_payload_read(const char *data, size_t len, char **ret_repo,
                        char ret_digest[DIGEST_STR_MAX]);

/* DSSE pre-authentication encoding: "DSSEv1 <len> <type> <len> <payload>". */
int dsse_pae(const char *type, const void *payload, size_t len, struct cosign_blob *ret);

/* A signed DSSE envelope (JSON) of payload. */
int dsse_sign(const struct sign_key *k, const char *type, const void *payload, size_t len,
              struct cosign_blob *ret);

/*
 * Checks envelope against k: on success the decoded payload (and its type, malloc'd).
 * -EBADMSG when no signature verifies, -EINVAL when it is not an envelope.
 */
int dsse_open(const struct sign_key *k, const char *env, size_t len, struct cosign_blob *ret,
              char **ret_type);

/* An in-toto Statement v1 about repo@digest carrying a predicate (or a given Statement). */
int intoto_statement(const char *repo, const char *digest, const struct cosign_attestation *a,
                     struct cosign_blob *ret);

/* Reads a Statement: predicateType (malloc'd) and whether digest is among its subjects. */
int intoto_read(const char *data, size_t len, const char *digest, char **ret_predicate_type,
                bool *ret_subject_matches);

/* A layer of an artifact manifest: a blob of a media type with optional annotations. */
struct cosign_layer {
	const char *media_type;
	const struct cosign_blob *blob;
	const char *annotation_key[2], *annotation_value[2]; /* NULL-ended pairs */
};

/*
 * The config blob cosign writes (rootfs diff_ids = the layers' digests) and the manifest
 * around it, with subject (digest, size, media type of the image manifest) and artifactType.
 */
int cosign_config(const struct cosign_layer *layers, size_t n, struct cosign_blob *ret);
int cosign_manifest(const struct cosign_blob *config, const struct cosign_layer *layers, size_t n,
                    const char *artifact_type, const char *subject_digest, size_t subject_size,
                    const char *subject_type, struct cosign_blob *ret);

/* A descriptor as the referrers index lists it. */
struct cosign_referrer {
	char digest[DIGEST_STR_MAX];
	char artifact_type[128];
	size_t size;
};

/*
 * Merges referrers into an index (the body of tag sha256-<hex>, or NULL/0 when there is none):
 * existing entries are kept, the same digest is not listed twice. -EINVAL when old is not an
 * OCI index.
 */
int cosign_index_merge(const char *old, size_t old_len, const struct cosign_referrer *add, size_t n,
                       struct cosign_blob *ret);

/* The referrers listed by an index (manifests[]), malloc'd array in *ret. */
int cosign_index_read(const char *data, size_t len, struct cosign_referrer **ret, size_t *ret_n);

/* What verification needs of an artifact manifest. */
struct cosign_manifest_info {
	char subject[DIGEST_STR_MAX]; /* "" when none */
	char artifact_type[128];
	size_t n_layers;
	struct cosign_manifest_layer {
		char media_type[128];
		char digest[DIGEST_STR_MAX];
		size_t size;
		char *signature;      /* annotation dev.cosignproject.cosign/signature, or NULL */
		char *predicate_type; /* annotation predicateType, or NULL */
	} * layers;
};

int cosign_manifest_read(const char *data, size_t len, struct cosign_manifest_info *ret);
void cosign_manifest_info_done(struct cosign_manifest_info *m);

#endif
