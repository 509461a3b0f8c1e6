/*
 * vex — an OpenVEX 0.2.0 document of one build: what the advisories matched
 * against its inventory mean for the image.
 *
 * One statement per (advisory, state): "fixed" for what this rebuild fixed
 * (the previous image of the environment had it, this one has not);
 * "affected" with an action statement for what is still open: no fix
 * published (pending upstream), a fix the distribution has not shipped to
 * the base or mirror yet (pending upstream), a Python pin the project must
 * change or a version the build context pins (needs a change in the project),
 * or a fix refit is about to pick
 * up with a rebuild without cache. "not_affected" is never said: refit
 * does not know reachability. The product is the image (its purl, see
 * sbom_image_purl); the subcomponents are the purls of the packages the
 * advisory names.
 *
 * Pure: no I/O.
 */
#ifndef REFIT_VEX_H
#define REFIT_VEX_H

#include "evdoc.h"

struct json_t;

#define VEX_CONTEXT "https://openvex.dev/ns/v0.2.0"

/*
 * The document of b into *ret (the caller's). -ENODATA when no advisory
 * was matched (an OpenVEX document needs at least one statement), -EINVAL
 * when the image has no digest, -ENOMEM.
 */
int vex_document(const struct evdoc_build *b, struct json_t **ret);

#endif
