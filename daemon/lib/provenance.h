/*
 * provenance — how and why refit built an image, as an in-toto Statement v1
 * whose predicate is SLSA Provenance v1 (https://slsa.dev/provenance/v1).
 *
 * subject: the image repository with its manifest digest (the image id when
 * it was not pushed). buildDefinition.externalParameters: project,
 * environment, target, Dockerfile path, build arguments (values of the
 * names that look like secrets are not recorded by refit at all: only their
 * names are listed), and the trigger: kind, reasons, the base that moved
 * (old -> new digest) and the advisories named or fixed.
 * internalParameters: platform, engine address, whether the build cache was
 * used. resolvedDependencies: each base image by digest, the Dockerfile by
 * sha256, the context's git commit. runDetails: builder id (refit and its
 * version, the builder kind), the engine and its version, start and finish.
 *
 * Pure: no I/O. The returned tree is the caller's (json_decref).
 */
#ifndef REFIT_PROVENANCE_H
#define REFIT_PROVENANCE_H

#include <stddef.h>

#include "evdoc.h"

struct json_t;

#define PROVENANCE_PREDICATE_TYPE "https://slsa.dev/provenance/v1"
#define PROVENANCE_BUILD_TYPE     "https://refit.dev/rebuild/v1"

/* The statement of b; NULL on OOM or when b has no digest at all (-EINVAL). */
struct json_t *provenance_statement(const struct evdoc_build *b);

/*
 * The advisory ids a trigger reason names: each "security: ID PKG A -> B
 * (ENV); ID ..." line of reasons ('\n'-separated). Calls cb per id, in
 * order, repeats included; returns the count.
 */
int provenance_reason_advisories(const char *reasons,
                                 void (*cb)(const char *id, size_t n, void *arg), void *arg);

#endif
