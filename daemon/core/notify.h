/*
 * notify — the webhooks of the configuration's `notify:` list.
 *
 * An event is POSTed as JSON to every webhook
 * whose `events` name it (all events when the list is absent): built (the
 * image of an environment is built; checks and push to come), pushed (the
 * environment succeeded and is in the registry), promoted (the same, for an
 * environment that requires another), failed; outdated (a version-pinned
 * base has a newer tag of its flavour, once per tag: see tagwatch). Deliveries
 * go out a few at a time on the shared HTTP client; a webhook that fails
 * (no answer, 429, 5xx) is tried again after 2 s, 10 s and 60 s, then the
 * event is dropped with a warning. Pending deliveries are bounded: past
 * NOTIFY_MAX_PENDING the oldest is dropped. They are kept in the store until made
 * or given up, so a restart sends them again (at least once: a delivery made just
 * before a crash may come twice; X-Refit-Delivery is the same on every attempt).
 * A webhook URL may carry a token: logs show it without its query and user
 * information, and the store names a webhook by the sha256 of its URL.
 */
#ifndef REFIT_NOTIFY_H
#define REFIT_NOTIFY_H

#include <stdint.h>

#include <uv.h>

struct notify;
struct http_client;
struct config;
struct store;

#define NOTIFY_MAX_PENDING 256

/* With a store, queued deliveries are kept there until made or given up, and those of the
 * previous run are queued again by the first notify_configure (NULL: memory only). */
int notify_new(uv_loop_t *loop, struct http_client *http, struct store *store, struct notify **ret);

/* Takes the webhooks of cfg (copied: a reload may free cfg). */
int notify_configure(struct notify *n, const struct config *cfg);

/* What happened to one environment's build. */
struct notify_build {
	const char *event; /* built, pushed, promoted, failed */
	const char *project, *environment, *trigger, *reasons;
	int64_t build_id;
	const char *image, *image_id, *digest, *fixes, *error; /* NULL when not known */
	const char *failed_step; /* failed: the build step it stopped at, when known */
	uint64_t at;             /* ms since the epoch */
};

/* Queues the event for every webhook that wants it. */
void notify_build(struct notify *n, const struct notify_build *b);

/* A base pinned to a version tag has a newer tag (announced once per tag). */
struct notify_outdated {
	const char *project, *base, *tag, *newest, *policy;
	uint64_t at; /* ms since the epoch */
};

/* Queues the outdated event for every webhook that wants it. */
void notify_outdated(struct notify *n, const struct notify_outdated *o);

/* A fixable or needs-change advisory that appeared in an environment's image. */
struct notify_advisory {
	const char *project, *environment, *id, *package, *installed, *fixed, *state;
	const char *action; /* needs-change: what to change where; NULL otherwise */
	int64_t build_id;   /* the image's build */
	uint64_t at;        /* ms since the epoch */
};

/* Queues the advisory event for every webhook that wants it. */
void notify_advisory(struct notify *n, const struct notify_advisory *a);

/* Drops what is pending, cancels what is in flight, closes the timer; freed by the loop. */
void notify_free(struct notify *n);

#endif
