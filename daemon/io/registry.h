/*
 * registry — the registry HTTP API v2 client (OCI distribution), on http_client.
 *
 * What it answers cheaply: the digest a tag points to now. A HEAD on the
 * manifest with all four manifest media types in Accept (without them
 * distribution converts to schema1 and returns another digest); when the tag
 * is an index / manifest list, the index is fetched once and the digest of
 * the manifest for the wanted platform is taken, because the index digest
 * churns whenever any architecture is added. Given the index digest seen
 * last time, an unchanged index costs that one HEAD.
 *
 * Authentication: WWW-Authenticate challenges (Basic, Bearer with realm,
 * service, scope), tokens cached per (registry, scope) until they expire,
 * one retry on 401. Limits: RateLimit-* headers slow a registry down before
 * its quota runs out, 429 Retry-After is obeyed, 5xx and transport errors
 * back off exponentially with jitter — per registry, so one that is down
 * fails fast (-EAGAIN) and never stalls requests to others. Plain HTTP only
 * for loopback registries or those configured `insecure: true`.
 */
#ifndef REFIT_REGISTRY_H
#define REFIT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct registry_pool;
struct http_client;
struct creds;
struct image_ref;

struct registry_opts {
	const char *const *insecure_hosts; /* NULL-terminated; plain HTTP allowed */
	unsigned max_active;               /* concurrent requests over all registries; default 8 */
	uint64_t timeout_ms;               /* per request; default 30 s */
};

int registry_pool_new(uv_loop_t *loop, struct http_client *http, struct creds *creds,
                      const struct registry_opts *o, struct registry_pool **ret);
/* Frees the pool; pending callbacks never run. */
void registry_pool_free(struct registry_pool *p);

/* Forgets every bearer token: the next requests authenticate again with what the
 * credentials module answers then (a reload that may have changed a password). */
void registry_pool_forget_tokens(struct registry_pool *p);

/* Requests answered with one HTTP status (0: no answer: refused, reset, timed out). */
struct registry_status_count {
	long status;
	uint64_t requests;
};

/*
 * Walks the registries contacted so far: their request counters and the
 * last RateLimit-Remaining / -Limit they sent (-1 when never sent). For
 * the metrics; the strings and arrays are valid during the call only.
 */
typedef void (*registry_stats_cb)(const char *host, const struct registry_status_count *counts,
                                  size_t n, long rl_remaining, long rl_limit, void *arg);
void registry_pool_stats(const struct registry_pool *p, registry_stats_cb cb, void *arg);

struct registry_result {
	const char *digest;       /* the platform manifest's digest (or the tag's own) */
	const char *index_digest; /* the index digest when the tag is multi-platform, else NULL */
	const char *media_type;   /* media type of what the tag points to */
	const char *error;        /* human-readable, never holding secrets; NULL on success */
	bool index_unchanged;     /* answered from known_index without fetching the index */
	/* registry_tags only: every page's tags in the registry's order, valid during the call */
	const char *const *tags;
	size_t n_tags;
	const char *etag;  /* the first page's ETag, or NULL when the registry sent none */
	bool not_modified; /* the first page answered 304 to known_etag: tags is empty */
	unsigned pages;    /* requests made for pages (not counting authentication) */
};

/* Runs once per started lookup; status 0, -ENOENT (unknown), -EACCES, -EAGAIN (backing off), ... */
typedef void (*registry_cb)(int status, const struct registry_result *r, void *arg);

struct registry_lookup {
	const struct image_ref *ref; /* domain/path/tag or digest */
	const char *platform;        /* "linux/amd64[/variant]"; NULL: the tag's own digest */
	const char *known_index;     /* index digest seen last time, or NULL */
	const char *known_digest;    /* the platform digest that index gave */
};

/* Looks up the current digest of ref; cb runs exactly once unless this fails. */
int registry_digest(struct registry_pool *p, const struct registry_lookup *l, registry_cb cb,
                    void *arg);

struct registry_tags_req {
	const struct image_ref *ref; /* domain/path; tag and digest are ignored */
	const char *known_etag;      /* ETag of the first page last time, or NULL */
	unsigned page_size;          /* n= of each page; 0: 1000 */
};

/*
 * Lists every tag of a repository: GET /v2/NAME/tags/list?n=, following
 * Link rel="next" on the same origin, with If-None-Match on the first page
 * when known_etag is given (a 304 ends the walk). Same queue, credentials,
 * tokens (scope repository:NAME:pull), backoff and rate limits as digest
 * lookups; each page is one request. cb runs exactly once unless this fails.
 */
int registry_tags(struct registry_pool *p, const struct registry_tags_req *q, registry_cb cb,
                  void *arg);

/* Cancels the lookups started with cb and arg: their callbacks do not run. */
void registry_cancel(struct registry_pool *p, registry_cb cb, void *arg);

/* Checks that host speaks the v2 API (GET /v2/, authenticating when challenged). */
int registry_ping(struct registry_pool *p, const char *host, registry_cb cb, void *arg);

/* The host name the API lives at for a reference domain (docker.io -> registry-1.docker.io). */
const char *registry_api_host(const char *domain);

/* True when requests to host may use plain HTTP (loopback, or configured insecure). */
bool registry_plain_http(const struct registry_pool *p, const char *host);

/* Picks the digest of the manifest for platform from an index / manifest list body. */
int registry_index_pick(const char *body, size_t len, const char *platform, char *ret_digest,
                        size_t digest_len);

/*
 * Any request of the v2 API on a repository, with the pool's credentials, tokens (scope
 * pull, or pull,push), backoff and limits: what pushing artifacts and reading them back
 * needs (registry_push.c). The answer of a 2xx is status 0; 404 is -ENOENT; others fail
 * as registry_digest's do. The response's strings live during the callback only.
 */
struct registry_request {
	const char *domain;       /* registry host as references write it */
	const char *name;         /* repository path */
	const char *method;       /* GET, HEAD, PUT, POST */
	const char *path;         /* under /v2/NAME/ ("manifests/T"), or a Location it gave */
	const char *content_type; /* of the body, or NULL */
	const void *body;         /* copied */
	size_t body_len;
	bool push;       /* needs the push scope */
	size_t max_body; /* of the answer; default 4 MiB */
};

struct registry_response {
	long status;
	const char *body;
	size_t body_len;
	const char *location;     /* Location, or NULL */
	const char *digest;       /* Docker-Content-Digest, or NULL */
	const char *content_type; /* without parameters, or "" */
	bool oci_subject;         /* OCI-Subject: the registry keeps the referrers itself */
	const char *error;        /* on failure */
};

typedef void (*registry_request_cb)(int status, const struct registry_response *r, void *arg);

int registry_request(struct registry_pool *p, const struct registry_request *rq,
                     registry_request_cb cb, void *arg);

/* Cancels the requests started with cb and arg: their callbacks do not run. */
void registry_request_cancel(struct registry_pool *p, registry_request_cb cb, void *arg);

/* Parses "20;w=21600" (RateLimit-Remaining/-Limit) into count and window seconds. */
int registry_parse_ratelimit(const char *v, long *ret_count, long *ret_window);

#endif
