/*
 * sbom — the software bill of materials of a built image, from its stored
 * inventory (evdoc.h): SPDX 2.3 JSON and CycloneDX 1.5 JSON.
 *
 * The image is the described component (its repository, manifest digest,
 * and the base image it was built on with that digest); every OS package
 * (dpkg, apk) and Python distribution is a package/component with its
 * version, package URL, source package (when it differs from the binary)
 * and licence (when the package database names one: apk does, dpkg and
 * Python METADATA as refit reads them do not). Documents are deterministic:
 * the same build gives the same bytes (times are the build's, identifiers
 * are derived from the build).
 *
 * Pure: no I/O. The returned tree is the caller's (json_decref).
 */
#ifndef REFIT_SBOM_H
#define REFIT_SBOM_H

#include "evdoc.h"

struct json_t;

enum sbom_format { SBOM_SPDX, SBOM_CYCLONEDX };

/* Parses "spdx" / "cyclonedx" (also "cdx"); -EINVAL otherwise. */
int sbom_format_parse(const char *s, enum sbom_format *ret);

/* The media type of a format ("application/spdx+json", "application/vnd.cyclonedx+json"). */
const char *sbom_media_type(enum sbom_format f);

/* The SPDX 2.3 document of b; NULL on OOM. */
struct json_t *sbom_spdx(const struct evdoc_build *b);

/* The CycloneDX 1.5 BOM of b; NULL on OOM. */
struct json_t *sbom_cyclonedx(const struct evdoc_build *b);

/* Either, by format. */
struct json_t *sbom_render(const struct evdoc_build *b, enum sbom_format f);

/*
 * The package URL of the image: pkg:oci/NAME@sha256%3A...?repository_url=REPO
 * (digest: the manifest digest, else the image id). Returns its length or
 * -ENOSPC / -EINVAL (no digest at all).
 */
int sbom_image_purl(const struct evdoc_build *b, char *buf, size_t len);

#endif
