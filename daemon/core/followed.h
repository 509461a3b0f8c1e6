/*
 * followed — what an environment with `follow:` builds with: the newer value
 * of its FROM's ARG that tagwatch recorded (store_follow), as long as it is
 * still newer than the ARG's own value (a Dockerfile bumped past it wins).
 * The pipeline passes it as a build argument (overriding the environment's
 * build_args for that ARG), labels the image io.refit.follow=ARG=VALUE and
 * notes it in the build row's reasons.
 */
#ifndef REFIT_FOLLOWED_H
#define REFIT_FOLLOWED_H

#include <stddef.h>

#include "follow.h"

struct store;
struct config_project;
struct config_env;
struct config_kv;

struct followed {
	char arg[FOLLOW_ARG_MAX];
	char value[TAGVER_MAX_LEN + 1]; /* "" when the environment builds the ARG's own */
	char own[TAGVER_MAX_LEN + 1];
	char label[FOLLOW_ARG_MAX + TAGVER_MAX_LEN + 2]; /* "PY=3.11.9", "" when none */
	char own_ref[REF_STRING_MAX]; /* the base as the Dockerfile resolves it */
	char ref[REF_STRING_MAX];     /* ... and with the followed value */
	struct config_kv *args;       /* e's build args with the followed value; NULL: e's own */
	size_t n_args;
};

/* Fills *ret for environment e of p (nothing to follow is not an error); -ENOMEM. */
int followed_of(struct store *s, const struct config_project *p, const struct config_env *e,
                const char *platform, struct followed *ret);

/* reasons with "follow: ARG=VALUE" added on its own line (malloc'd); NULL on -ENOMEM. */
char *followed_reasons(const struct followed *f, const char *reasons);

void followed_done(struct followed *f);

#endif
