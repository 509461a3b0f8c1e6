/*
 * ref — Docker image references: parse, normalise, print.
 *
 * Follows github.com/distribution/reference. "ubuntu" normalises to
 * docker.io/library/ubuntu; "index.docker.io" folds to docker.io; a first
 * component is a registry domain when it is "localhost" or contains '.', ':'
 * or an uppercase letter ("host:5000/x", "[::1]:5000/x", "Foo/bar"). A bare
 * 64-hex string is an image ID, not a name. Digests must be sha256, sha384 or
 * sha512 with lowercase hex of the right length.
 *
 * Pure: no I/O, no allocation. Absent parts are empty strings. The registry
 * API host (docker.io -> registry-1.docker.io) is the registry module's job.
 */
#ifndef REFIT_REF_H
#define REFIT_REF_H

#include <stddef.h>

#define REF_DOMAIN_MAX 255 /* our bound; upstream has none */
#define REF_PATH_MAX   255 /* upstream RepositoryNameTotalLengthMax, counted on the path */
#define REF_TAG_MAX    128
#define REF_DIGEST_MAX 135 /* "sha512:" + 128 hex */
/* Buffer size that always fits ref_string() and friends, NUL included. */
#define REF_STRING_MAX \
	(REF_DOMAIN_MAX + 1 + REF_PATH_MAX + 1 + REF_TAG_MAX + 1 + REF_DIGEST_MAX + 1)

struct image_ref {
	char domain[REF_DOMAIN_MAX + 1]; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char path[REF_PATH_MAX + 1];     /* "library/ubuntu" */
	char tag[REF_TAG_MAX + 1];       /* "" when absent */
	char digest[REF_DIGEST_MAX + 1]; /* "sha256:<hex>", "" when absent */
};

/* Parses a familiar or full reference ("ubuntu", "user/repo:tag", "host:5000/x@sha256:...")
 * into normalised form (Go ParseNormalizedNamed). Returns 0, or -EINVAL with *ret_err set
 * to a static reason string (ret_err may be NULL). *ret is untouched on failure. */
int ref_parse(const char *s, struct image_ref *ret, const char **ret_err);

/* Like ref_parse, but a bare 64-hex ID or a lone "sha256:<hex>" is accepted as a
 * digest-only reference with empty domain and path (Go ParseAnyReference). */
int ref_parse_any(const char *s, struct image_ref *ret, const char **ret_err);

/* Checks syntax without normalising (Go Parse): no docker.io default, no "library/";
 * the domain is empty unless the first of several components looks like a host. */
int ref_parse_raw(const char *s, struct image_ref *ret, const char **ret_err);

/* Sets the tag after checking its syntax; returns 0 or -EINVAL (r unchanged). */
int ref_with_tag(struct image_ref *r, const char *tag);

/* Sets the digest after checking it (algorithm, length, lowercase hex), e.g. to pin
 * a reference to the digest a registry returned; returns 0 or -EINVAL (r unchanged). */
int ref_with_digest(struct image_ref *r, const char *digest);

/* Adds the tag "latest" when the reference has neither tag nor digest (Go TagNameOnly). */
void ref_tag_name_only(struct image_ref *r);

/* Applies the Docker daemon's convention (Go ParseDockerRef): a digest wins and drops the
 * tag, a bare name gets "latest". */
void ref_docker_form(struct image_ref *r);

/* Writes the full name without tag or digest ("docker.io/library/ubuntu").
 * These printers return the length written, or -ENOSPC when len is too small. */
int ref_name(const struct image_ref *r, char *buf, size_t len);

/* Writes Docker's familiar string ("ubuntu:22.04", "user/app@sha256:..."). Unlike Docker
 * it keeps "docker.io/" where dropping it would make the string name another reference. */
int ref_familiar(const struct image_ref *r, char *buf, size_t len);

/* Writes the full normalised string with tag and digest ("docker.io/library/ubuntu:22.04"). */
int ref_string(const struct image_ref *r, char *buf, size_t len);

#endif
