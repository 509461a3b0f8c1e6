/*
 * evdoc — what refit knows about one build, as the input of the evidence
 * documents (sbom, provenance, vex, pkgdiff): the build row, its package
 * inventory, the advisories matched against it, and what refit captured
 * about the rebuild before it ran (Dockerfile digest, git commit, bases,
 * target and build arguments). The store fills it (store_evdoc.h); the
 * documents are rendered from it without I/O.
 *
 * Everything is borrowed: the filler owns the strings. Absent values are
 * NULL (strings) or 0 (times, counts). Times are wall-clock milliseconds.
 */
#ifndef REFIT_EVDOC_H
#define REFIT_EVDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One installed package. ecosystem: "Debian:12", "Alpine:v3.18", "PyPI"... */
struct evdoc_pkg {
	const char *ecosystem, *name, *version, *source, *source_version;
	const char *arch, *license; /* NULL when the package database does not say */
};

/*
 * An advisory matched against the build (store_feed.h's states): fixed,
 * open, triggered, pending-upstream, unfixed. installed is the version the
 * match saw (for "fixed": the previous image's), fixed NULL when no fix is
 * known.
 */
struct evdoc_advisory {
	const char *id, *package, *ecosystem, *installed, *fixed, *state;
};

struct evdoc_base {
	const char *ref, *digest; /* digest NULL when refit never resolved it */
};

struct evdoc_kv {
	const char *key, *value;
};

struct evdoc_build {
	int64_t id;
	const char *project, *env, *status;
	const char *repository; /* the project's image, "registry/team/p" */
	const char *digest;     /* the pushed manifest digest, NULL when not pushed */
	const char *image_id;   /* the image's config digest */
	const char *tags;       /* comma-separated */
	const char *base_name, *base_digest;
	const char *prev_base_digest;  /* the environment's previous image's base digest */
	const char *trigger, *reasons; /* reasons: '\n'-separated */
	uint64_t queued_at, started_at, finished_at;
	/* how it was built */
	const char *refit_version, *engine, *engine_version, *builder, *platform;
	/* captured before the rebuild ran (NULL / 0 when refit did not capture them) */
	bool have_inputs;
	const char *target, *dockerfile, *dockerfile_digest, *git_commit, *git_source;
	const struct evdoc_kv *build_args;
	size_t n_build_args;
	const char *const *secret_args; /* build-arg names whose values were left out */
	size_t n_secret_args;
	const struct evdoc_base *bases;
	size_t n_bases;
	/* the inventory */
	bool have_inventory;
	const char *os_id, *os_version, *ecosystem, *inventory_error;
	uint64_t inventory_at;
	const struct evdoc_pkg *pkgs;
	size_t n_pkgs;
	const struct evdoc_advisory *advisories;
	size_t n_advisories;
	/* the environment's previous successful build with an inventory, for pkgdiff */
	int64_t prev_id;
	const struct evdoc_pkg *prev_pkgs;
	size_t n_prev_pkgs;
};

/* Bound of one purl (a longer one is cut: evdoc_purl returns -ENOSPC). */
#define EVDOC_PURL_MAX 1024

/*
 * The package URL of p: pkg:deb/debian/NAME@VERSION?arch=A&distro=debian-12,
 * pkg:deb/ubuntu/..., pkg:apk/alpine/...?arch=A&distro=alpine-3.18,
 * pkg:pypi/NAME@VERSION, else pkg:generic/NAME@VERSION. Components are
 * percent-encoded as the purl spec says. Returns the length, or -ENOSPC.
 */
int evdoc_purl(const struct evdoc_pkg *p, char *buf, size_t len);

/*
 * The distro qualifier of an OSV ecosystem ("Debian:12" -> "debian-12",
 * "Ubuntu:22.04:LTS" -> "ubuntu-22.04", "Alpine:v3.18" -> "alpine-3.18"),
 * "" for language ecosystems.
 */
void evdoc_distro(const char *ecosystem, char *buf, size_t len);

/* RFC 3339 UTC to the second ("2026-12-08T00:33:29Z"), as SPDX wants it. */
void evdoc_time(uint64_t ms, char *buf, size_t len);

/*
 * A licence string as an SPDX licence expression: true when lic is ids
 * joined by AND / OR / WITH (parentheses allowed), as SPDX and CycloneDX
 * require of an expression. apk's L: is often free text ("MIT BSD GPL2+").
 */
bool evdoc_license_is_expression(const char *lic);

/* The sha256 hex of a "sha256:<hex>" digest, or NULL when it is not one. */
const char *evdoc_sha256_hex(const char *digest);

#endif
