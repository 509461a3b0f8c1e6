/*
 * tagwatch — newer tags of version-pinned bases.
 *
 * A base pinned to a version tag (`python:3.11.4-slim`) keeps receiving
 * rebuilds of that tag, never 3.11.9. For every project whose `outdated`
 * policy is not off, each base whose tag reads as a version (tagver) is
 * checked every poll.tags (6 h by default, jittered like digest polls): the
 * repository's tags are listed once per round however many projects use it
 * (registry_tags: paginated, conditional on the last ETag while the list is
 * kept in memory, through the same registry pool, credentials and rate
 * limits as the digest polls), and the newest tag of the pin's flavour
 * allowed by the policy is recorded (store_tags). A tag never announced
 * before for that project and base is handed to the callback once (the
 * `outdated` webhook event). refit only reports: it rewrites no Dockerfile.
 */
#ifndef REFIT_TAGWATCH_H
#define REFIT_TAGWATCH_H

#include <uv.h>

struct tagwatch;
struct store;
struct registry_pool;
struct config;

/* A newer tag found for the first time: project's base ref (pinned to tag) may move to newest. */
typedef void (*tagwatch_cb)(const char *project, const char *ref, const char *tag,
                            const char *newest, const char *policy, void *arg);

int tagwatch_new(uv_loop_t *loop, struct store *store, struct registry_pool *reg,
                 const char *platform, tagwatch_cb cb, void *arg, struct tagwatch **ret);

/*
 * follow: an environment with `follow: patch|minor` whose FROM writes its version tag with
 * an ARG (follow.h) is checked the same way under its own policy; a newer tag gives the
 * ARG's value, recorded per project, environment and ARG (store_follow), and a new value
 * becomes a "base" trigger for that environment ("follow: PY 3.11.4 -> 3.11.9"); cb runs
 * after it is stored (arg: tagwatch_new's). The outdated event is the project's policy's.
 */
typedef void (*tagwatch_follow_cb)(const char *project, const char *env, void *arg);
void tagwatch_on_follow(struct tagwatch *t, tagwatch_follow_cb cb);

/*
 * (Re)derives the pinned bases of cfg's projects; keeps the tag lists and
 * schedule of repositories that stay. Call after watcher_configure (which
 * records which bases each project uses).
 */
int tagwatch_configure(struct tagwatch *t, const struct config *cfg);

/* Repositories whose tags are listed. */
size_t tagwatch_count(const struct tagwatch *t);

/* Stops. Free the registry pool first (as for the watcher): no listing answers after. */
void tagwatch_free(struct tagwatch *t);

#endif
