/*
 * pipeline_impl.h — what the pipeline's three files share (not for other modules).
 *
 * pipeline.c runs a rebuild: its environments in order (build rows, logs, holds,
 * requirements, promotion windows, webhooks), then the pruning of local images.
 * pipeline_prepare.c is what comes before the first environment: registry
 * credentials, up-front refusals and the frontend check, the registry headers
 * and the build context. pipeline_build.c runs one environment's engine steps:
 * session, build, inspect, inventory, relabel, check, tags, pushes, evidence,
 * verification.
 */
#ifndef REFIT_PIPELINE_IMPL_H
#define REFIT_PIPELINE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "creds.h"
#include "dockerfile.h"
#include "followed.h"
#include "pipeline.h"
#include "promote.h"
#include "ref.h"

#define MAX_HOSTS   8
#define MAX_SECRETS 64

struct engine_op;
struct bksession;
struct context_job;
struct inventory_job;
struct evidence_step;
struct frontend_check;

enum step {
	S_CREDS,
	S_CONTEXT,
	S_ENV,     /* start the next environment */
	S_SESSION, /* BuildKit: a session serving credentials and secrets, one per build */
	S_BUILD,
	S_INSPECT,
	S_INVENTORY, /* packages in the image, matched against advisories */
	S_RELABEL,   /* io.refit.fixes, known only now */
	S_CHECK,
	S_PREV_TAG, /* keep the old IMAGE:ENV as IMAGE:ENV-previous */
	S_TAG,
	S_PUSH_PREV,
	S_PUSH_STAMP,
	S_EVIDENCE, /* signature and attestations, before IMAGE:ENV moves (evidence.c) */
	S_PUSH,
	S_VERIFY,
	S_ENV_DONE,
	S_DONE,
};

struct pipeline {
	struct pipeline_deps d;
	struct config *cfg;
	const struct config_project *p;
	char trigger[16], *reasons;
	int64_t trigger_id;
	struct followed follow; /* the environment in progress: a followed ARG value */
	char *env_reasons;      /* reasons, and the followed value */
	pipeline_cb cb;
	void *arg;
	enum step step;
	struct engine_op *op;
	struct bksession *session;
	char session_error[256]; /* why the session closed under the build */
	char failed_step[512];   /* of the environment's failed build, for the webhook */
	struct context_job *ctx_job;
	struct inventory_job *inv;
	struct evidence_step *evidence;
	char *fixes;           /* advisories this image fixed, "ID,ID" */
	uint64_t push_started; /* loop time of the push in flight */
	bool cancelled;
	bool not_recorded;      /* a build row could not be written: stopped before it started */
	struct image_ref image; /* the project's repository */
	char repo[REF_STRING_MAX], registry_host[REF_DOMAIN_MAX + 1];
	char *auth;    /* X-Registry-Auth (secret) */
	char *reg_cfg; /* X-Registry-Config (secret) */
	char tar[4096];
	char *podman_secrets; /* Podman's secrets query: where in the tar each secret is */
	time_t started;
	/* the environment in progress */
	size_t env;
	bool *passed; /* per environment, this round */
	bool *wanted; /* per environment: this rebuild builds it */
	int64_t build_id;
	FILE *log;
	char stamp_tag[160], image_id[80], digest[80], base_name[REF_STRING_MAX];
	char base_digest[80], user[128];
	bool have_prev, env_failed;
	/* the promotion window is closed (or a hold came): pushed under the stamp tag only,
	 * IMAGE:ENV moves at promote_at (promotion.c) */
	bool wait;
	enum promote_verdict verdict;
	uint64_t promote_at;
	int failures;
	char error[1024];
	char **prune; /* stamp tags to remove locally, NULL-terminated */
	size_t prune_at;
	/* registries the build touches: [0] the project's own, then the bases' */
	char hosts[MAX_HOSTS][REF_DOMAIN_MAX + 1];
	struct creds_entry found[MAX_HOSTS];
	size_t n_hosts, host_at;
	/* the frontend images checked before the build: the one in flight, where it is named,
	 * the next environment to look at, the last image checked */
	struct frontend_check *frontend;
	char frontend_at[512];
	size_t frontend_env;
	char frontend_last[REF_STRING_MAX];
};

/* The environment in progress. */
static inline const struct config_env *pl_env(const struct pipeline *pl)
{
	return &pl->p->envs[pl->env];
}

/* pipeline.c */
void pl_free(struct pipeline *pl);
/* A line "refit: ..." in the environment's build log. */
__attribute__((format(printf, 2, 3))) void pl_log(struct pipeline *pl, const char *fmt, ...);
/* Runs steps until one is in flight (or the rebuild is over). */
void pl_advance(struct pipeline *pl);
/* Ends the environment's build row with status (and error), then on to the next one. */
void pl_env_finish(struct pipeline *pl, const char *status, const char *error);
void pl_env_fail(struct pipeline *pl, const char *error);
/* Every wanted environment fails with the same reason (context or credentials). */
void pl_fail_all(struct pipeline *pl, const char *why);
/* The builder of the engine ("buildkit", "classic", "podman"), and as lint knows it. */
const char *pl_builder(const struct engine *e);
enum dockerfile_builder pl_dockerfile_builder(const struct engine *e);
void pl_find_base(struct pipeline *pl);
void pl_notify_built(struct pipeline *pl);
void pl_decide_promotion(struct pipeline *pl);

/* pipeline_build.c */
/* Starts the current step's operation; 1 when the step has nothing to do. */
int pl_run_step(struct pipeline *pl);
/* Cancels what an environment's step has in flight (no callback runs). */
void pl_build_cancel(struct pipeline *pl);

/* pipeline_prepare.c */
/* Credentials for the registries the rebuild touches, then on to the context. */
int pl_prepare_start(struct pipeline *pl);
void pl_prepare_cancel(struct pipeline *pl);

#endif
