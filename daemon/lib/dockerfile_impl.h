/*
 * dockerfile_impl — the parsed form shared by dockerfile.c (parsing and
 * validation) and dockerfile_resolve.c (build args, target, platform).
 */
#ifndef REFIT_DOCKERFILE_IMPL_H
#define REFIT_DOCKERFILE_IMPL_H

#include "dockerfile.h"
#include "dfsyntax.h"

struct df_stage {
	const struct dfsyntax_node *from;
	const char *raw_base;     /* as written */
	const char *raw_platform; /* --platform as written, NULL if none */
	const char *name;         /* lower-cased, NULL when unnamed */
	int line;
	size_t first, end; /* its instructions: nodes [first, end) */
};

struct df_dep {
	const char *from; /* COPY --from / mount from=, as written */
	int line;
	int stage;
	enum dockerfile_base_kind kind;
};

struct df_meta { /* one name of an ARG before the first FROM */
	const char *key;
	const char *value; /* default as written, NULL when none */
	int line;
};

struct dockerfile {
	struct dfsyntax *syn;
	struct df_stage *stages;
	size_t n_stages;
	struct df_dep *deps;
	size_t n_deps;
	struct df_meta *meta;
	size_t n_meta;
	int *node_stage; /* per node: its stage, -1 before the first FROM */
	const char *bk_reason;
	int bk_line;
	const char *ssh_reason; /* a RUN --mount=type=ssh: no builder of refit's gets an agent */
	int ssh_line;
	const char *new_reason; /* needs a Dockerfile frontend newer than BuildKit 0.8's (1.2) */
	int new_line;
};

/* The names BuildKit's automatic platform ARGs have; i in [0, 8). */
extern const char *const df_platform_args[8];

/* Splits "--name=value" flags: value of the flag called name or NULL; an
 * error (-EINVAL, message in msg) when it is given twice or without value. */
int df_flag(const struct dfsyntax_node *n, const char *name, const char **ret, char *msg,
            size_t msglen);

#endif
