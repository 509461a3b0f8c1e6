/*
 * evidence_push — attaches the evidence of one pushed image to it in the registry:
 * a cosign signature of its manifest (tag sha256-<hex>.sig) and the attestations
 * (in-toto Statements in signed DSSE envelopes, tag sha256-<hex>.att), both as
 * OCI 1.1 artifacts whose subject is the image manifest. A registry that keeps
 * referrers itself says so (OCI-Subject on the manifest PUT); for the others
 * (docker-registry 2.8) the referrers tag sha256-<hex> is updated
 * read-modify-write, as the distribution spec's fallback describes.
 *
 * Steps: GET the image manifest (size and media type of the subject), build
 * and sign every document (cosign.c, sign.c), upload all blobs at once (POST +
 * PUT each), PUT both manifests, then the referrers index when needed.
 */
#ifndef REFIT_EVIDENCE_PUSH_H
#define REFIT_EVIDENCE_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

struct registry_pool;
struct sign_key;
struct cosign_attestation;
struct evidence_push;

struct evidence_push_opts {
	struct registry_pool *registries;
	const struct sign_key *key;            /* borrowed until the callback */
	const char *domain;                    /* registry host, as references write it */
	const char *name;                      /* repository path */
	const char *digest;                    /* the pushed image manifest */
	const struct cosign_attestation *atts; /* copied at start */
	size_t n_atts;
	FILE *log; /* the build log, or NULL */
};

struct evidence_result {
	const char *error;      /* NULL on success; never holds key material */
	const char *sig_digest; /* the signature manifest */
	const char *att_digest; /* the attestation manifest ("" with no attestations) */
	bool referrers_api;     /* the registry keeps the referrers (no fallback tag written) */
	unsigned requests;      /* HTTP requests made */
	uint64_t elapsed_ms;
};

typedef void (*evidence_push_cb)(int status, const struct evidence_result *r, void *arg);

/* Starts the push; cb runs exactly once unless this fails (then nothing was sent). */
int evidence_push_start(uv_loop_t *loop, const struct evidence_push_opts *o, evidence_push_cb cb,
                        void *arg, struct evidence_push **ret);

/* Stops it: requests in flight are cancelled, cb does not run. */
void evidence_push_cancel(struct evidence_push *e);

#endif
