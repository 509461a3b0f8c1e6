/*
 * store_evidence — what the evidence documents of a build need, read from
 * the store in one go (the build row, its inventory and advisory matches,
 * the environment's previous image, the inputs refit captured before the
 * rebuild), and the capture itself.
 *
 * The loaded struct evdoc_build (evdoc.h) points into memory the
 * loader owns: free it with store_evidence_free.
 */
#ifndef REFIT_STORE_EVIDENCE_H
#define REFIT_STORE_EVIDENCE_H

#include <stdint.h>

#include "evdoc.h"
#include "store.h"

struct store_evidence;
struct json_t;

/* What to load besides the build row, the inventory's summary and the advisory matches. */
#define STORE_EVIDENCE_PKGS 1u /* the packages (SBOM, VEX) */
#define STORE_EVIDENCE_PREV 2u /* the previous image's packages (package changes) */
#define STORE_EVIDENCE_ALL  3u

/*
 * Loads build_id with what (STORE_EVIDENCE_*). -ENOENT when there is no such
 * build. A build without an inventory (running, failed before it,
 * unreadable, pruned) loads with have_inventory false; store_evidence_pruned
 * says which.
 */
int store_evidence_load(struct store *s, int64_t build_id, unsigned what,
                        struct store_evidence **ret);

/* The loaded build; the caller may fill what is NULL (e.g. repository from the config). */
struct evdoc_build *store_evidence_build(struct store_evidence *e);

/* True when the retention policy removed the build's inventory. */
bool store_evidence_pruned(const struct store_evidence *e);

void store_evidence_free(struct store_evidence *e);

/*
 * The package changes of build_id against its environment's previous
 * successful build (pkgdiff.h's JSON) into *ret, for the REST API,
 * webhooks and the status page. -ENOENT: no such build; -ENODATA: the
 * build has no inventory or there is no previous build with one.
 */
int store_evidence_changes_json(struct store *s, int64_t build_id, struct json_t **ret);

/* What refit captures about a rebuild just before it runs (see store.c, migration 12). */
struct store_build_inputs {
	const char *project, *image, *refit_version, *engine, *engine_version, *platform;
	const char *dockerfile, *dockerfile_digest, *git_commit, *git_source;
	/* {"ENV": {"target", "build_args": {}, "secret_args": [], "bases": [{ref, digest}]}} */
	const char *envs_json;
	uint64_t at;
};

/*
 * Records inputs for the project's next builds: they apply to every build
 * of the project inserted after this call, until the next capture.
 */
int store_build_inputs_put(struct store *s, const struct store_build_inputs *in);

#endif
