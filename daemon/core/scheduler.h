/*
 * scheduler — from stored triggers to running rebuilds.
 *
 * Triggers (a base moved, max_age reached, initial, manual, later security)
 * are rows in the store before the scheduler sees them; it takes the pending
 * ones oldest first, one rebuild per project at a time, at most max_builds
 * per engine, and runs the pipeline. A project whose image another project
 * builds FROM goes first (a DAG from the Dockerfiles; cycles are reported at
 * configuration time and those projects are not scheduled); a successful
 * rebuild triggers its dependants. A failed rebuild is retried with
 * exponential backoff (1 min doubling to 6 h) without holding anyone else
 * up. After a restart, interrupted rebuilds are pending again.
 */
#ifndef REFIT_SCHEDULER_H
#define REFIT_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct scheduler;
struct store;
struct creds;
struct registry_pool;
struct engine;
struct config;

struct scheduler_deps {
	uv_loop_t *loop;
	struct store *store;
	struct creds *creds;
	struct registry_pool *registries;
	struct notify *notify; /* webhooks for build events; may be NULL */
	/* after each successful rebuild (may be NULL) */
	void (*rebuilt)(const char *project, void *arg);
	void *rebuilt_arg;
};

int scheduler_new(const struct scheduler_deps *d, struct scheduler **ret);

/* Takes the projects of cfg (a reference is kept) and rebuilds the dependency graph. */
void scheduler_configure(struct scheduler *s, struct config *cfg);

/* The engines builds may run on (the array is copied; engines must outlive their use). */
void scheduler_set_engines(struct scheduler *s, struct engine *const *engines,
                           const int *max_builds, size_t n);

/* Updates the clients (after a reload recreated them). */
void scheduler_set_clients(struct scheduler *s, struct creds *creds, struct registry_pool *reg);

/* New triggers are in the store (or an engine came back): look for work. */
void scheduler_kick(struct scheduler *s);

/* Cancels running rebuilds (interrupted, pending again); e.g. before engines go away. */
void scheduler_interrupt(struct scheduler *s);

/*
 * A manual rebuild of project (env NULL: every environment) with reason: recorded as a
 * trigger, merged into the pending one if there is one (its reasons joined, a retry's
 * backoff ended: *ret_merged), then the scheduler looks for work. 0 with the trigger's id,
 * or the store's negative errno (nothing recorded).
 */
int scheduler_request(struct scheduler *s, const char *project, const char *env, const char *reason,
                      int64_t *ret_id, bool *ret_merged);

/*
 * Starts putting project's env (NULL: prod) back to ENV-previous on a free
 * engine; 0 when started (the outcome lands in the builds table), else a
 * negative errno with the reason in err (-ENOENT, -EBUSY, -EAGAIN).
 */
int scheduler_rollback(struct scheduler *s, const char *project, const char *env, char *err,
                       size_t errlen);

/* Number of rebuilds running. */
size_t scheduler_running(const struct scheduler *s);

/* Cancels running rebuilds (recorded as interrupted, their triggers pending) and frees. */
void scheduler_free(struct scheduler *s);

/* Retry delay after n consecutive failures (n >= 1): 1 min doubling, capped at 6 h. */
uint64_t scheduler_backoff_ms(unsigned failures);

/*
 * Who builds on whom, as adjacency lists: project i builds on the images of
 * projects out[start[i]] .. out[start[i + 1] - 1] (start has n + 1 entries).
 */
struct scheduler_graph {
	size_t n;
	size_t *start, *out;
};

/*
 * The graph of cfg's projects: i builds on j when one of i's bases (all
 * stages, for platform) is j's image repository. Projects whose Dockerfile
 * cannot be read have no edges. -ENOMEM.
 */
int scheduler_graph_of(const struct config *cfg, const char *platform, struct scheduler_graph *ret);

/* Frees the lists (the struct itself is the caller's). */
void scheduler_graph_done(struct scheduler_graph *g);

/*
 * Orders the projects of g so that every project comes after those it builds
 * on (strongly connected components, found without recursion). Writes the
 * order to ret_order and returns 0, or -ELOOP with the projects that lie on
 * a cycle marked in ret_cyclic (those that merely build on one are not);
 * -ENOMEM.
 */
int scheduler_order(const struct scheduler_graph *g, size_t *ret_order, bool *ret_cyclic);

#endif
