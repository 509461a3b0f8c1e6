/*
 * bases — the base images a project builds on, per environment.
 *
 * Reads the project's Dockerfile (bounded), resolves it once per environment
 * with that environment's target and build args for the engine's platform
 * (a FROM --platform wins), and collects the external images: FROM bases
 * and COPY --from / RUN --mount images, normalised to full references with a
 * tag ("docker.io/library/python:3.12-slim"). The same reference used by
 * several environments appears once, with the environments listed.
 */
#ifndef REFIT_BASES_H
#define REFIT_BASES_H

#include <stdbool.h>
#include <stddef.h>

#include "dockerfile.h"
#include "ref.h"

struct config_project;

struct base_use {
	char ref[REF_STRING_MAX]; /* normalised, with tag or digest */
	struct image_ref parsed;
	char platform[64];
	char envs[256]; /* comma-separated environment names */
	bool copy_only; /* only named by COPY --from / RUN --mount */
};

/*
 * Fills *ret (malloc'd, *ret_n entries) for project p. Unusable references
 * (a variable without a value, a malformed name) are skipped with a warning
 * in the log; a missing or unparsable Dockerfile is an error in err.
 */
int bases_of_project(const struct config_project *p, const char *platform, struct base_use **ret,
                     size_t *ret_n, char *err, size_t errlen);

struct config_env;

/*
 * The image environment e's final stage builds on (following stage-to-stage
 * FROMs), normalised; -ENOENT when that is scratch or not resolvable.
 */
int bases_final(const struct config_project *p, const struct config_env *e, const char *platform,
                char *ret_ref, size_t len, char *err, size_t errlen);

/*
 * 1 when builder b cannot build p's Dockerfile (dockerfile_refusal: the same verdict as
 * refitctl lint's RF017), with the place and reason in why; 0 when it can; a negative
 * errno (reason in why) when it cannot be read or parsed.
 */
int bases_refusal(const struct config_project *p, enum dockerfile_builder b, char *why, size_t len);

/*
 * 1 when builder b builds environment e of p with a Dockerfile frontend image, its
 * reference as written in ret_image and where it is named in why: e's build arg
 * BUILDKIT_SYNTAX, which BuildKit takes over the directive (the classic builder and Podman
 * ignore both), else the "# syntax=" directive as b finds it (dockerfile_frontend; why:
 * "PATH:LINE (# syntax=)"). 0 when b uses its own parser; a negative errno (reason in
 * why) as bases_refusal.
 */
int bases_frontend(const struct config_project *p, const struct config_env *e,
                   enum dockerfile_builder b, char *ret_image, size_t len, char *why,
                   size_t whylen);

struct follow_base;

/*
 * The FROM environment e of p follows (follow.h: follow_find with e's target and build
 * args): 0 and *ret; -ENOENT when none qualifies, other negative errno (reason in err).
 */
int bases_follow(const struct config_project *p, const struct config_env *e, const char *platform,
                 struct follow_base *ret, char *err, size_t errlen);

#endif
