/*
 * registry_impl — internals shared by registry.c (pool, hosts, queue),
 * registry_op.c (the request state machine) and registry_host.c (per
 * registry tokens and limits). Not for other modules.
 */
#ifndef REFIT_REGISTRY_IMPL_H
#define REFIT_REGISTRY_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "challenge.h"
#include "creds.h"
#include "digest.h"
#include "ref.h"
#include "registry.h"
#include "tagslist.h"

#define MANIFEST_ACCEPT                                                       \
	"Accept: application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.docker.distribution.manifest.v2+json, "              \
	"application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"
#define MANIFEST_MAX (4u << 20)

struct http_response;

struct reg_token {
	char *scope;
	char *token; /* secret: never logged */
	uint64_t expires_ms;
	struct reg_token *next;
};

#define REG_STATUS_SLOTS 16

struct reg_host {
	char *host;     /* as in references: docker.io, localhost:5000 */
	char *base_url; /* https://registry-1.docker.io */
	struct challenge chal;
	bool have_chal;
	struct reg_token *tokens;
	uint64_t blocked_until; /* no requests before this (loop time, ms) */
	char blocked_why[96];
	uint64_t backoff_ms;
	long rl_remaining, rl_limit, rl_window;
	/* requests answered, by HTTP status (0: no answer); the first REG_STATUS_SLOTS kinds */
	struct registry_status_count counts[REG_STATUS_SLOTS];
	size_t n_counts;
	struct reg_host *next;
};

/* Counts one answer (status 0: none arrived) for the metrics. */
void reg_host_count(struct reg_host *h, long status);

/* Records a failure (5xx, transport): exponential backoff with +-20 % jitter. */
void reg_host_failed(struct reg_host *h, uint64_t now, const char *why);
/* Records a success: the backoff resets. */
void reg_host_ok(struct reg_host *h);
/* Honours Retry-After (seconds or an HTTP date) of a 429; default 60 s. */
void reg_host_retry_after(struct reg_host *h, uint64_t now, const char *value);
/* Reads RateLimit-* headers; slows the host down when few requests remain. */
void reg_host_ratelimit(struct reg_host *h, uint64_t now, const char *remaining, const char *limit);

/* A cached token for scope that is still valid at now, or NULL. */
const char *reg_host_token(struct reg_host *h, const char *scope, uint64_t now);
/* Stores a token (takes a copy); expires_in seconds, at least 60. */
int reg_host_token_put(struct reg_host *h, const char *scope, const char *token, long expires_in,
                       uint64_t now);
void reg_host_token_drop(struct reg_host *h, const char *scope);
void reg_host_free(struct reg_host *h);

enum op_step {
	STEP_CREDS,
	STEP_PING,
	STEP_HEAD,
	STEP_GET,
	STEP_TAGS,
	STEP_TOKEN,
	STEP_RAW,
	STEP_DONE
};

struct registry_pool {
	uv_loop_t *loop;
	struct http_client *http;
	struct creds *creds;
	char **insecure;
	unsigned max_active, active;
	uint64_t timeout_ms;
	struct reg_host *hosts;
	struct reg_op *queue, *queue_tail;
	struct reg_op *running;
	uv_timer_t kick; /* starts queued ops from the loop, not from the caller */
};

struct reg_op {
	struct registry_pool *p;
	struct reg_host *h;
	struct reg_op *next, *prev; /* queue, then the running list */
	char name[REF_PATH_MAX + 1];
	char reference[REF_DIGEST_MAX + 1];
	char platform[64];
	char known_index[DIGEST_STR_MAX], known_digest[DIGEST_STR_MAX];
	char scope[CHALLENGE_VALUE_MAX];
	enum op_step step, resume; /* resume: the step a token fetch returns to */
	bool ping, auth_tried, have_creds, creds_pending;
	struct creds_entry creds;
	struct http_request *req;
	registry_cb cb;
	void *arg;
	struct reg_raw *raw; /* registry_request: the request and its callback */
	/* result */
	char digest[DIGEST_STR_MAX], index_digest[DIGEST_STR_MAX], media_type[128];
	char error[256];
	/* registry_tags (registry_tags.c) */
	bool tags, not_modified;
	unsigned page_size, pages;
	struct tagslist list;
	char *next_url; /* the next page, or NULL: the first */
	char etag[128], known_etag[128];
};

/* A registry_request in flight (registry_raw.c). */
struct reg_raw {
	char method[8];
	char *url; /* path under /v2/NAME/ or an absolute Location */
	char content_type[128];
	void *body;
	size_t body_len, max_body;
	registry_request_cb cb;
	const struct http_response *resp; /* while the callback runs */
};

/* The URL and headers of a raw request; hdrs gets up to 2 entries at *n. */
int reg_raw_prepare(struct reg_op *op, char *url, size_t len, const char **hdrs, int *n, char *ct,
                    size_t ctlen);
/* Delivers a raw op's outcome (resp on success, NULL on failure). */
void reg_raw_deliver(struct reg_op *op, int status);
void reg_raw_free(struct reg_raw *raw);

/* Delivers the outcome, frees the op and lets the next queued one run. */
void reg_op_finish(struct reg_op *op, int status);
/* Same with an error message (prefixed with the registry host). */
__attribute__((format(printf, 3, 4))) void reg_op_fail(struct reg_op *op, int status,
                                                       const char *fmt, ...);
/* Queues an op for domain's registry (freed on failure); started from the loop. */
int reg_enqueue(struct registry_pool *p, struct reg_op *op, const char *domain);
/* Frees an op that never ran. */
void reg_op_free(struct reg_op *op);
/* Starts queued ops while fewer than max_active run. */
void reg_pump(struct registry_pool *p);
/* Cancels the op's request or credentials lookup (its callback does not run). */
void reg_op_abort(struct reg_op *op);
/* The URL of the op's next tags/list page, and its extra headers (at most 1). */
int reg_tags_request(struct reg_op *op, char *url, size_t len, char *hdr, size_t hlen);
/* Takes a 200 or 304 answer of a tags/list page: 1 to send the next page, else finished. */
int reg_tags_answer(struct reg_op *op, const struct http_response *resp);
/* Releases what a tags op holds. */
void reg_tags_done(struct reg_op *op);

/* Starts an op that was just taken off the queue. */
void reg_op_start(struct reg_op *op);

#endif
