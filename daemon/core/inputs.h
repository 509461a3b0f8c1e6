/*
 * inputs — captures what a rebuild is made from just before it
 * runs, for its provenance: the Dockerfile's sha256, the context's git
 * commit and origin (read from .git, no git run), and per environment the
 * target, the build arguments and the bases with the digests refit last
 * recorded. Build-argument values whose names look like secrets
 * (lint_secret_name) never reach the store: only their names do.
 *
 * This is file I/O on the loop (a Dockerfile up to 1 MiB and a few lines
 * of .git), the same reads the pipeline already makes for its labels.
 */
#ifndef REFIT_INPUTS_H
#define REFIT_INPUTS_H

#include <stdbool.h>

struct store;
struct config_project;

struct inputs_engine {
	const char *host, *version; /* version NULL when unknown */
	bool podman;
};

/*
 * Records the inputs of project p's next rebuild (store_build_inputs_put).
 * Failures are logged and returned; the rebuild goes on without them.
 */
int inputs_capture(struct store *s, const struct config_project *p, const char *platform,
                   const struct inputs_engine *engine);

#endif
