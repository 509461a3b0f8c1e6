/*
 * dockerfile — what a Dockerfile means to refit: its stages, the external
 * images it builds FROM (and copies or mounts from), which stages a target
 * needs, the user its stages run as, and whether it needs BuildKit.
 *
 * Parsing follows BuildKit (the syntax in dfsyntax, word expansion in
 * shellword). dockerfile_resolve() applies build args, a target and a
 * platform the way BuildKit's dockerfile2llb does:
 *  - ARGs before the first FROM are global; a --build-arg overrides only a
 *    declared ARG; defaults expand with the ARGs before them and with
 *    BuildKit's automatic platform ARGs (TARGETPLATFORM, TARGETOS,
 *    TARGETARCH, TARGETVARIANT and the BUILD... four), as FROM does.
 *  - FROM naming an earlier stage (case-insensitive, documented deviation:
 *    BuildKit matches the expanded name as written) builds on that stage;
 *    "scratch" is no image. COPY --from and RUN --mount from= name a stage
 *    (by name anywhere in the file, or by index) or else an external image;
 *    like BuildKit they are not variable-expanded.
 *  - the target needs itself and, transitively, the stages it builds FROM,
 *    COPYs --from and mounts from; cycles are errors. Without a target every
 *    stage counts (all the images a project's environments may build on),
 *    unless last_stage asks for docker build's default target.
 * Pure: no I/O; all sizes bounded (DFSYNTAX_MAX_*, DOCKERFILE_MAX_*).
 */
#ifndef REFIT_DOCKERFILE_H
#define REFIT_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#define DOCKERFILE_MAX_STAGES 512
#define DOCKERFILE_MAX_ARGS   1024 /* global ARGs, and build args */

struct dockerfile;
struct dfsyntax_node;

struct dockerfile_opts {
	const char *const *build_args; /* "K=V", NULL-terminated; entries without '=' ignored */
	const char *target;            /* a stage name: it and what it needs; NULL: see below */
	bool last_stage;               /* no target: the last stage (docker build's default)
	                                  rather than every stage (what refit polls) */
	const char *platform;          /* "os/arch[/variant]"; NULL: "linux/amd64" */
	const char *build_platform;    /* the builder's; NULL: the same as platform */
};

enum dockerfile_base_kind { DOCKERFILE_BASE_FROM, DOCKERFILE_BASE_COPY, DOCKERFILE_BASE_MOUNT };

struct dockerfile_base {
	const char *image;      /* after substitution, exactly as written */
	int line;               /* line of the first instruction naming it */
	int stage;              /* index of that instruction's stage */
	const char *stage_name; /* its name, NULL when unnamed */
	const char *platform;   /* FROM --platform after substitution, NULL if none */
	enum dockerfile_base_kind kind;
	bool unset; /* FROM: used $V or ${V} where V has no value */
};

struct dockerfile_stage {
	const char *name;     /* lower-cased "AS" name, NULL when unnamed */
	const char *base;     /* the FROM argument after substitution */
	const char *raw_base; /* the FROM argument as written (before substitution) */
	const char *platform; /* --platform after substitution, NULL if none */
	int line;             /* line of the FROM */
	int base_stage;       /* index of the stage it builds on; -1: an image or scratch */
	bool base_unset;      /* the FROM used $V or ${V} where V has no value */
	bool needed;          /* the target needs this stage */
	const char *user;     /* effective USER (own or inherited), expanded; NULL: none */
	int user_line;        /* line of that USER; 0 when none */
	bool user_unresolved; /* the USER names a variable refit cannot know */
};

struct dockerfile_resolved {
	const struct dockerfile_stage *stages;
	size_t n_stages;
	size_t target;                       /* index of the target (or last) stage */
	const struct dockerfile_base *bases; /* FROM images of needed stages, de-duplicated */
	size_t n_bases;
	const struct dockerfile_base *deps; /* COPY --from / --mount images, de-duplicated */
	size_t n_deps;
};

/* Parses and validates text[0..len) (instructions BuildKit would reject are
 * errors). On failure writes "line N: reason" or "reason" to err and returns
 * a negative errno. */
int dockerfile_parse(const char *text, size_t len, struct dockerfile **ret, char *err,
                     size_t errlen);

/* Applies build args, target and platform; see the top of this file. */
int dockerfile_resolve(const struct dockerfile *df, const struct dockerfile_opts *o,
                       struct dockerfile_resolved **ret, char *err, size_t errlen);

/* Why the classic builder cannot build this file (RUN --mount, heredocs,
 * COPY --chmod/--link, automatic platform ARGs...), or NULL when it can. */
const char *dockerfile_needs_buildkit(const struct dockerfile *df, int *ret_line);

/*
 * The builders refit drives. BuildKit 0.8 is dockerd 20.10's (Dockerfile frontend 1.2: no
 * heredocs, no COPY --link); dockerd 23 and later carry a newer one; Podman 4.3 builds
 * with buildah, which has BuildKit's mounts and secrets but not the newer syntax.
 */
enum dockerfile_builder {
	DOCKERFILE_CLASSIC,
	DOCKERFILE_BUILDKIT_0_8,
	DOCKERFILE_BUILDKIT,
	DOCKERFILE_PODMAN,
};

/*
 * Why builder b cannot build this file (a RUN --mount=type=ssh for any builder, what needs
 * BuildKit for the classic one, heredocs and newer flags for BuildKit 0.8 and Podman), with
 * the line in *ret_line; NULL when it can. With a "# syntax=" frontend, BuildKit parses the
 * file with that image (which must be pullable: refitd checks it, see dockerfile_frontend),
 * so its own frontend's limits do not apply. refitctl lint and refitd share this verdict.
 */
const char *dockerfile_refusal(const struct dockerfile *df, enum dockerfile_builder b,
                               int *ret_line);

/* The builder named "classic", "buildkit-0.8", "buildkit" or "podman"; -EINVAL. */
int dockerfile_builder_of(const char *name);

/* That name of b. */
const char *dockerfile_builder_name(enum dockerfile_builder b);

/* The "# syntax=" directive's image, NULL when absent. */
const char *dockerfile_syntax(const struct dockerfile *df);

/*
 * The Dockerfile frontend image builder b would run for this file (its "# syntax=" parser
 * directive as that builder finds it, see dfsyntax.h), with its line in *ret_line; NULL
 * when b uses its own parser: no directive, or the classic builder and Podman, which
 * ignore it (measured: dockerd 20.10.24 version=1, Podman 4.3.1).
 */
const char *dockerfile_frontend(const struct dockerfile *df, enum dockerfile_builder b,
                                int *ret_line);

/* Instruction i (0 <= i < count) and its stage index (-1 before any FROM),
 * for rules that read the syntax tree (see dfsyntax.h for the fields). */
size_t dockerfile_instr_count(const struct dockerfile *df);
const struct dfsyntax_node *dockerfile_instr(const struct dockerfile *df, size_t i, int *ret_stage);

/* Frees what the functions above return; NULL is fine. */
void dockerfile_resolved_free(struct dockerfile_resolved *r);
void dockerfile_free(struct dockerfile *df);

#endif
