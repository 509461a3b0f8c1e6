/*
 * api_impl.h — shared between the files of the api module only: the pure
 * parsers of request input (api_parse.c, fuzzed), the renderers of bodies
 * (api_render.c, api_html.c) and the server (api.c). Includes no HTTP library.
 */
#ifndef REFIT_API_IMPL_H
#define REFIT_API_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "metrics.h"

#define API_URI_MAX      4096 /* longer request targets get 414 */
#define API_QUERY_MAX    16   /* query parameters kept; more is a 400 */
#define API_PARAM_MAX    256  /* bytes of one decoded query value */
#define API_NAME_MAX     64   /* project names (config allows 64) */
#define API_BUILDS_LIMIT 50   /* default page of /v1/builds */
#define API_BUILDS_MAX   500  /* largest page */
#define API_REASON_MAX   200  /* a rebuild reason given in the body */
#define API_HOOK_EVENTS  1000 /* events handled from one notification */
#define API_TOKEN_MAX    4096 /* bytes of the token file */

/* ---- api_parse.c: request input, all untrusted ---- */

struct api_param {
	char key[32];
	char value[API_PARAM_MAX];
};

struct api_query {
	struct api_param p[API_QUERY_MAX];
	size_t n;
};

/*
 * Splits a raw request target into its percent-decoded path and query
 * parameters ('+' is a space in values). Rejects NUL bytes, bad escapes,
 * over-long parts and too many parameters: -EINVAL with a reason.
 */
int api_uri_parse(const char *raw, char *path, size_t pathlen, struct api_query *q,
                  const char **ret_err);

/* The value of key in q, NULL when absent. */
const char *api_query_get(const struct api_query *q, const char *key);

enum api_route_id {
	R_INDEX,
	R_HEALTHZ,
	R_METRICS,
	R_OPENAPI,
	R_STATUS,
	R_PROJECTS,
	R_PROJECT,
	R_REBUILD,
	R_ROLLBACK,
	R_HOLD,
	R_RELEASE,
	R_BUILDS,
	R_BUILD,
	R_BUILD_LOG,
	R_BASES,
	R_FEEDS,
	R_HOOK_REGISTRY,
	R_FEEDS_POLL,
	R_BUILD_SBOM,     /* SPDX; ?format=cyclonedx makes it R_BUILD_SBOM_CDX (api_serve) */
	R_BUILD_SBOM_CDX, /* not routed by path */
	R_BUILD_PROVENANCE,
	R_BUILD_VEX,
	R_PAGE_PROJECT, /* GET /projects/NAME: HTML */
	R_PAGE_BUILD,   /* GET /builds/ID: HTML with the log */
	R_STATUS_BASE,  /* not routed: /v1/status without the clock-dependent uptime */
	R_COUNT
};

struct api_route {
	enum api_route_id id;
	bool post;                   /* the route is a POST (token-protected) */
	char name[API_NAME_MAX + 1]; /* R_PROJECT, R_REBUILD, R_ROLLBACK */
	int64_t build_id;            /* R_BUILD, R_BUILD_LOG */
	const char *allow;           /* the Allow header of this path */
};

/*
 * Matches method and decoded path against the routes. Returns 0 and the
 * route; -ENOENT for an unknown path (or a malformed name or id in it);
 * -EPERM for a known path and another method (ret->allow is set then).
 * HEAD matches GET routes; OPTIONS is left to the caller.
 */
int api_route_match(const char *method, const char *path, struct api_route *ret);

/* True when s is a project name as the configuration allows: [a-z0-9._-]{1,64}. */
bool api_name_valid(const char *s);

struct api_builds_query {
	char project[API_NAME_MAX + 1], env[API_NAME_MAX + 1], status[16];
	unsigned limit;
	int64_t before;
};

/* Validates the parameters of GET /v1/builds; -EINVAL with a message in err. */
int api_builds_query_parse(const struct api_query *q, struct api_builds_query *ret, char *err,
                           size_t errlen);

/*
 * True when an If-None-Match header value matches etag (a quoted strong tag):
 * "*", or a comma-separated list holding it, weak (W/) forms included.
 */
bool api_etag_match(const char *if_none_match, const char *etag);

/*
 * Extracts the token of "Bearer <token>" (scheme case-insensitive, token68
 * characters only). 0 and the token's position and length, or -EINVAL.
 */
int api_bearer_parse(const char *authorization, const char **ret_token, size_t *ret_len);

/* Compares a presented token with the expected one in time independent of the content. */
bool api_token_equal(const char *given, size_t given_len, const char *want, size_t want_len);

/* True for application/json and application/...+json (parameters allowed). */
bool api_content_type_json(const char *content_type);

typedef void (*api_push_cb)(const char *repository_name, void *arg);

/*
 * Parses a registry notification envelope ({"events":[...]}) and calls cb
 * with "host/repository" once per distinct manifest push. Returns the number
 * of pushes, or -EINVAL with a reason in err.
 */
int api_hook_parse(const char *body, size_t len, api_push_cb cb, void *arg, char *err,
                   size_t errlen);

/*
 * Parses an optional rebuild body {"reason": "..."}: an empty body leaves
 * reason as given; -EINVAL with a message in err otherwise.
 */
int api_rebuild_parse(const char *body, size_t len, char *reason, size_t reasonlen, char *err,
                      size_t errlen);

/* ---- api_listen.c: the listening socket ---- */

struct api_listener {
	int fd;
	char address[160];   /* "127.0.0.1:8787", "[::1]:8787", "unix:/path" */
	char unix_path[108]; /* a socket file we created (unlinked at the end), or "" */
	bool systemd;        /* passed by systemd (LISTEN_FDS) */
};

/*
 * Opens the listening socket that spec ("host:port", "[v6]:port",
 * "unix:/path", "systemd") names; a socket passed by systemd wins over spec.
 * Non-blocking and close-on-exec; -errno with a message in err on failure.
 */
int api_listen_open(const char *spec, struct api_listener *ret, char *err, size_t errlen);

/* ---- api_render.c / api_html.c: bodies rendered from the store and config ---- */

/* A rendered body with its status, type and strong ETag. */
struct api_render {
	int status;
	const char *content_type;
	char *body; /* malloc'd */
	size_t len;
	uint64_t ttl_ms; /* 0: valid until the store or config changes */
};

struct api_view {
	struct store *store;
	const struct config *cfg;
	uint64_t started_at_ms; /* wall clock */
	uint64_t now_ms;        /* wall clock of this render */
	uint64_t engine_grace_ms;
	const char *openapi;
	size_t openapi_len;
	const char *status_base; /* R_STATUS: the rendered R_STATUS_BASE body */
	size_t status_base_len;
	metrics_registry_source registries; /* R_METRICS */
	void *registries_arg;
	uint64_t loop_lag_us; /* R_METRICS: the loop's worst lag of the last minute */
};

/* Renders the body of a GET route; negative errno when the store failed. */
int api_render_route(const struct api_view *v, const struct api_route *rt,
                     const struct api_builds_query *bq, struct api_render *ret);

struct json_t;

/*
 * The projects of the configuration joined with the store, as a JSON array
 * (only the named one when only is not NULL). NULL on a store error or OOM.
 */
struct json_t *api_projects_json(const struct api_view *v, const char *only);

/* A JSON string of s (bytes that are not UTF-8 become '?'); null for NULL. */
struct json_t *api_jstr(const char *s);
/* An RFC 3339 time string, null for 0. */
struct json_t *api_jtime(uint64_t ms);

/*
 * api_advisory.c: project -> [advisories of its current images that a rebuild fixes or that
 * need a change, one entry per advisory with its environments] (only the named project when
 * only is not NULL); NULL on failure.
 */
struct json_t *api_advisories_json(struct store *s, const char *only);
/* {state: advisories} of a listing: each advisory id counted once per state, however many
 * environments or packages it has; NULL on failure. */
struct json_t *api_advisory_counts(struct json_t *list);
/*
 * api_outdated.c: sets "outdated" ({tag, policy, newest, checked_at, error}
 * or null) on each base of bases (project -> [base]); 0 or a negative errno.
 */
int api_outdated_attach(struct store *s, const char *only, struct json_t *bases);
/* api_follow.c: environment e's "follow" object (json null when it does not follow). */
struct config_env;
struct json_t *api_follow_json(struct store *s, const char *project, const struct config_env *e);
/* Every advisory matched against one build, fixed ones included; NULL on failure. */
struct json_t *api_build_advisories_json(struct store *s, int64_t build_id);
/* GET /v1/feeds. */
int api_render_feeds(const struct api_view *v, struct api_render *ret);

/* api_evidence.c: GET /v1/builds/ID/sbom, /provenance, /vex (rt->id says which). */
int api_render_evidence(const struct api_view *v, const struct api_route *rt,
                        struct api_render *ret);
/* ?format= of GET /v1/builds/ID/sbom: spdx (default) keeps rt, cyclonedx makes it
 * R_BUILD_SBOM_CDX; -EINVAL for anything else. */
int api_sbom_format(const struct api_query *q, struct api_route *rt);
/* The package changes of a build against its environment's previous image (pkgdiff.h);
 * JSON null when there is nothing to compare, NULL on failure. */
struct json_t *api_build_changes_json(struct store *s, int64_t build_id);

/* RFC 3339 UTC with milliseconds ("2025-01-02T03:04:05.678Z") into buf. */
void api_time_format(uint64_t ms, char *buf, size_t len);

/* The JSON error body {"error":{"code","message"}} (malloc'd), NULL on OOM. */
char *api_error_json(const char *code, const char *message, size_t *ret_len);
/* The same as a rendered body with status; -ENOMEM. */
int api_render_error(int status, const char *code, const char *message, struct api_render *ret);

/*
 * GET /v1/status (api_status.c) in two parts: the state, rendered when the
 * store or configuration changes, and the uptime spliced into it per second.
 */
int api_render_status(const struct api_view *v, struct api_render *ret);
int api_render_uptime(const struct api_view *v, struct api_render *ret);
/* GET /healthz. */
int api_render_healthz(const struct api_view *v, struct api_render *ret);

/* Serialises o (a reference is taken over) as a JSON body with status into ret. */
int api_render_json(struct json_t *o, int status, struct api_render *ret);

/* The HTML status page (api_html_overview.c; the other pages: api_html.h). */
int api_render_html(const struct api_view *v, struct api_render *ret);

struct stat;
/*
 * Opens a build log for reading, only inside state_dir/logs: a row cannot
 * point the API at other files. The fd (st filled), or a negative errno.
 */
int api_log_open(const char *state_dir, const char *path, struct stat *st);

#endif
