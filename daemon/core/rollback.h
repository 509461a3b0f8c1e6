/*
 * rollback — puts IMAGE:ENV back to what IMAGE:ENV-previous holds.
 *
 * The previous image is taken from the engine (pulled from the registry when
 * it is not local), tagged IMAGE:ENV and pushed; the pushed digest must equal
 * the registry's IMAGE:ENV-previous. The operation is a build row of its own
 * (trigger "rollback") so that it shows in the history. ENV-previous is left
 * as it is, so a repeated rollback changes nothing.
 */
#ifndef REFIT_ROLLBACK_H
#define REFIT_ROLLBACK_H

#include "pipeline.h"

struct rollback;

/* status 0 when IMAGE:ENV now serves the previous digest; message says what happened. */
typedef void (*rollback_cb)(int status, const char *message, void *arg);

/* Starts rolling env of project back (env NULL: "prod"). */
int rollback_start(const struct pipeline_deps *d, struct config *cfg,
                   const struct config_project *p, const char *env, rollback_cb cb, void *arg,
                   struct rollback **ret);

/* Stops it; the callback does not run. */
void rollback_cancel(struct rollback *rb);

#endif
