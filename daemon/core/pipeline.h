/*
 * pipeline — one rebuild of one project.
 *
 * The context is archived once (and checked: secret-looking files that
 * .dockerignore does not exclude fail the rebuild); then, for each
 * environment in the order the configuration declares them: build with its
 * target and build args (pull=1; nocache when the trigger is a security
 * fix), labelled and tagged IMAGE:ENV-YYYYMMDDTHHMMSSZ; the final USER policy;
 * the environment's check command in a locked-down container; then, only
 * when what it `requires` passed in this same rebuild, promotion: the old
 * IMAGE:ENV is kept as IMAGE:ENV-previous, the new one becomes IMAGE:ENV, and
 * all of them are pushed, the pushed digest verified against the registry.
 * Each environment is one row in the builds table and one log file
 * (state_dir/logs/<build-id>.log).
 */
#ifndef REFIT_PIPELINE_H
#define REFIT_PIPELINE_H

#include <stdint.h>

#include <uv.h>

struct pipeline;
struct store;
struct engine;
struct creds;
struct registry_pool;
struct config;
struct config_project;

struct pipeline_deps {
	uv_loop_t *loop;
	struct store *store;
	struct engine *engine;
	struct creds *creds;
	struct registry_pool *registries;
	const char *state_dir;
	const char *platform;  /* the engine's, e.g. linux/amd64 */
	struct notify *notify; /* webhooks; may be NULL */
};

struct pipeline_request {
	struct config *cfg; /* a reference is taken for the run */
	const struct config_project *project;
	const char *trigger; /* base, security, age, initial, manual */
	const char *reasons;
	int64_t trigger_id;
	const char *envs; /* comma-separated: only these (and those they require); NULL: all */
};

/* status: 0 when every environment succeeded (or was skipped), else negative. */
typedef void (*pipeline_cb)(int status, const char *summary, void *arg);

int pipeline_start(const struct pipeline_deps *d, const struct pipeline_request *req,
                   pipeline_cb cb, void *arg, struct pipeline **ret);

/* Stops a run: the current build is recorded as interrupted; cb does not run. */
void pipeline_cancel(struct pipeline *pl);

#endif
