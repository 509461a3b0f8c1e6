/*
 * labels — what a rebuilt image says about itself: OCI annotations
 * (org.opencontainers.image.created/revision/source/base.name/base.digest)
 * and refit's own (io.refit.environment/trigger/reasons), the per-environment
 * tags (ENV and the immutable ENV-YYYYMMDDTHHMMSSZ), and the git facts of a
 * context that is a checkout (HEAD revision, origin URL) read from .git
 * without running git. Only .git parsing touches the file system.
 */
#ifndef REFIT_LABELS_H
#define REFIT_LABELS_H

#include <stddef.h>
#include <time.h>

#include "config.h"

#define LABELS_MAX 12

struct label_set {
	struct config_kv kv[LABELS_MAX];
	size_t n;
	char buf[8192]; /* storage of the values */
	size_t used;
};

struct label_input {
	time_t created;
	const char *revision, *source; /* NULL when unknown */
	const char *base_name, *base_digest;
	const char *environment, *trigger, *reasons;
	const char *follow; /* io.refit.follow: "ARG=VALUE" the build followed (follow:), or NULL */
};

/* Fills set from in (absent values are left out; reasons are bounded). */
int labels_build(struct label_set *set, const struct label_input *in);

/* "ENV-YYYYMMDDTHHMMSSZ" for t (UTC). */
int labels_timestamp_tag(const char *env, time_t t, char *buf, size_t len);

/* The commit HEAD names in dir/.git (loose ref, packed-refs, or detached); -ENOENT if none. */
int labels_git_revision(const char *dir, char *buf, size_t len);

/* The URL of remote "origin" in dir/.git/config, credentials stripped; -ENOENT if none. */
int labels_git_source(const char *dir, char *buf, size_t len);

/*
 * Retention: from a GET /images/json answer, the repo:ENV-stamp tags of each
 * of envs (NULL-terminated) beyond the newest keep, as a malloc'd
 * NULL-terminated list (free each and the list). Returns how many.
 */
int labels_prune(const char *images_json, size_t len, const char *repo, const char *const *envs,
                 int keep, char ***ret);

#endif
