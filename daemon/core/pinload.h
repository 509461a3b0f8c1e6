/*
 * pinload — reads the files of a project's build context that pin package
 * versions (pins.h says which and how) for one environment: the Dockerfile
 * with the environment's target and build args, the context's top-level
 * requirements*.txt, *requirements.txt, constraints*.txt, pyproject.toml,
 * Pipfile, Pipfile.lock and poetry.lock, the *.txt files of its
 * requirements/ directory, and the -r/-c files they include.
 *
 * It runs on the loop, so it is bounded: regular files of at most
 * PINLOAD_MAX_BYTES each (fileread: a FIFO never blocks), PINLOAD_MAX_FILES
 * files, includes PINLOAD_MAX_DEPTH deep, never outside the context (the
 * path is resolved first). A file that cannot be read or parsed adds no
 * pins and is logged at debug level: pins only make advisories more exact.
 */
#ifndef REFIT_PINLOAD_H
#define REFIT_PINLOAD_H

#include "pins.h"

#define PINLOAD_MAX_BYTES (1024 * 1024)
#define PINLOAD_MAX_FILES 64
#define PINLOAD_MAX_DEPTH 8

struct config_project;
struct config_env;

/* Adds the pins of p's context for environment e (NULL: no target, no build args) to ret. */
int pinload_env(const struct config_project *p, const struct config_env *e, struct pins *ret);

#endif
