/*
 * evidence — the pipeline's evidence step: with `signing: { key_file }` set, after
 * the image is pushed under its stamp tag and before the environment tag moves,
 * the signature and the attestations of the build are pushed next to it
 * (evidence_push). The key is read from its file for each push (a rotated key is
 * used at once; a bad one fails the step with the file's name, never its
 * content) and wiped when the push ends.
 *
 * The attestations come from evidence_docs_collect: the one place where the
 * documents of a build (SBOM, provenance, VEX...) are handed over, each as a
 * predicate type and its JSON (a predicate, or a whole in-toto Statement).
 */
#ifndef REFIT_EVIDENCE_H
#define REFIT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "evidence_push.h"

struct store;
struct config;
struct cosign_attestation;

/* What the documents of one environment's build are about. */
struct evidence_build {
	struct store *store;
	int64_t build_id;
	const char *project, *env;
	const char *trigger, *reasons;
	const char *fixes;  /* advisories fixed, "ID,ID", or NULL */
	const char *domain; /* registry host, e.g. localhost:5000 */
	const char *path;   /* repository path, e.g. ds/churn */
	const char *digest; /* the pushed manifest */
};

/* The attestations of a build; strings owned by the set. */
struct evidence_docs {
	struct cosign_attestation *atts;
	size_t n, cap;
};

/* Adds one document (copied): its predicate type and JSON. */
int evidence_docs_add(struct evidence_docs *d, const char *predicate_type, const char *json,
                      size_t len);
void evidence_docs_done(struct evidence_docs *d);

/*
 * Fills d with the attestations of build b: refit's own rebuild record
 * (EVIDENCE_REBUILD_TYPE), then, from the store, the SBOM (SPDX 2.3 as
 * https://spdx.dev/Document, CycloneDX 1.5 as https://cyclonedx.org/bom) when the
 * build has an inventory, the SLSA provenance (a whole in-toto Statement) and
 * the OpenVEX document (https://openvex.dev/ns) when an advisory was matched.
 */
int evidence_docs_collect(const struct evidence_build *b, struct evidence_docs *d);

#define EVIDENCE_REBUILD_TYPE "urn:refit:rebuild:v1"

/* True when the rebuild pushes evidence (signing configured). */
bool evidence_enabled(const struct config *cfg);

struct evidence_step;
typedef void (*evidence_step_cb)(int status, const struct evidence_result *r, void *arg);

/* Loads the key, collects the documents, pushes; cb runs once unless this fails (err set). */
int evidence_step_start(uv_loop_t *loop, struct registry_pool *registries, const struct config *cfg,
                        const struct evidence_build *b, FILE *log, evidence_step_cb cb, void *arg,
                        struct evidence_step **ret, char *err, size_t errlen);

/* Stops the step; cb does not run. */
void evidence_step_cancel(struct evidence_step *s);

#endif
