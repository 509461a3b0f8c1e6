/*
 * config — refit.yaml parsed into struct config.
 *
 * One schema table per YAML mapping (name, type, bounds, default, help) drives
 * parsing, defaults and validation; every error is collected as
 * "file:line:col: message" before the load fails. Secrets are never read
 * here: the configuration holds only the *paths* of files that contain them.
 */
#ifndef REFIT_CONFIG_H
#define REFIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strmap.h"

struct window;
struct tz;

struct config_kv {
	char *key;
	char *value;
};

/* Which builder an engine builds with: auto is BuildKit on dockerd, Podman's own on Podman. */
enum config_builder { BUILDER_AUTO, BUILDER_BUILDKIT, BUILDER_CLASSIC };

struct config_engine {
	char *host; /* unix:///path, tcp://host:port or ssh://user@host[:port][/path] */
	int max_builds;
	char *tls_ca, *tls_cert, *tls_key;
	char *ssh_key, *ssh_known_hosts; /* ssh:// engines; relative: $CREDENTIALS_DIRECTORY */
	int builder;                     /* enum config_builder */
};

struct config_registry {
	char *host;
	char *username_file;
	char *password_file;
	bool insecure;
};

enum config_feed_type { FEED_OSV, FEED_ALPINE_SECDB, FEED_DEBIAN_TRACKER };

struct config_feed {
	char *name;
	int type; /* enum config_feed_type */
	char *url;
};

enum config_policy { POLICY_OFF, POLICY_WARN, POLICY_FAIL };

struct config_env {
	char *name; /* test, prod, rnd… */
	char *target;
	char **check;           /* argv, NULL-terminated; NULL when no check */
	char *requires;         /* an earlier environment, or NULL */
	bool requires_evidence; /* `requires: evidence` (or "ENV, evidence"), or the project's */
	struct config_kv *build_args;
	size_t n_build_args;
	int user_policy; /* enum config_policy; -1 = default (fail for prod, warn else) */
	uint64_t check_timeout_ms;
	/* promotion window: IMAGE:ENV moves only inside it (the build is pushed under its
	 * stamp tag before); NULL: always */
	char *window_text;
	struct window *window;  /* parsed window_text */
	struct tz *tz;          /* its zone's rules: read by config_load_checked, else NULL */
	bool urgent_advisories; /* a security rebuild of a fixable advisory promotes at once */
	int follow; /* enum tagver_policy (off, patch, minor): build with the newer value of the
	               ARG that makes up a FROM's version tag (follow.h) */
};

/* The network of RUN steps (BuildKit's networkmode; Podman's too). */
enum config_network { NETWORK_DEFAULT, NETWORK_HOST, NETWORK_NONE };

struct config_project {
	char *name;
	char *context;
	char *dockerfile;
	char *image;
	uint64_t max_age_ms;
	int keep_images;
	bool enabled;
	struct config_env *envs;
	size_t n_envs;
	int network;               /* enum config_network */
	bool requires_evidence;    /* every environment requires evidence */
	int outdated;              /* enum tagver_policy: newer tags of pinned bases to report */
	struct config_kv *secrets; /* RUN --mount=type=secret id -> file (read at build time) */
	size_t n_secrets;
};

struct config_notify {
	char *webhook;
	char **events;             /* NULL-terminated */
	char *secret_file;         /* signs each body: X-Refit-Signature: sha256=<HMAC> */
	struct config_kv *headers; /* sent with each delivery; values may be secrets */
	size_t n_headers;
};

struct config {
	int refs; /* config_ref / config_free: a running rebuild keeps its config */
	struct strmap project_index; /* project name -> index in projects (config_project_find) */
	char *path;
	char *state_dir;
	char *listen;
	char *api_token_file;
	int log_level;  /* 0 error, 1 warning, 2 info, 3 debug */
	int log_format; /* 0 text, 1 json */
	/* on SIGTERM, how long running rebuilds may finish (0: not at all) */
	uint64_t stop_timeout_ms;
	/* logs and package inventories of builds finished longer ago go (0: never) */
	uint64_t retention_ms;
	struct {
		char *key_file; /* ECDSA P-256 private key (PEM); NULL: nothing is signed */
	} signing;
	struct config_engine *engines;
	size_t n_engines;
	struct config_registry *registries;
	size_t n_registries;
	struct {
		uint64_t bases_ms, feeds_ms, settle_ms, engines_ms;
		uint64_t tags_ms; /* newer tags of pinned bases */
		unsigned jitter_pct;
	} poll;
	struct config_feed *feeds;
	size_t n_feeds;
	struct config_project *projects;
	size_t n_projects;
	struct config_notify *notify;
	size_t n_notify;
	struct {
		char **cors_origins; /* NULL-terminated; NULL = no CORS */
		int max_connections, per_ip_connections, max_body;
		int rate_limit;         /* requests/s per client address; 0 = none */
		int auth_failure_limit; /* failed POST authorizations/s per address; 0 = none */
		uint64_t timeout_ms, engine_grace_ms;
	} api;
};

/*
 * Accumulated "file:line:col: message" lines of a load. lines are errors: the
 * load fails. problems are what config_load_checked found on the file system
 * (a missing context, a Dockerfile that does not parse, an unreadable secret):
 * the configuration loads, and the projects concerned fail their builds until
 * they are fixed; `refitd --check-config` counts them as errors. warnings are
 * advice (a build arg the Dockerfile does not declare).
 */
struct config_errors {
	char **lines;
	size_t n;
	char **problems;
	size_t n_problems;
	char **warnings;
	size_t n_warnings;
};

/*
 * Loads and validates the YAML text (len bytes; name is used in messages).
 * Returns 0 and a new config, or -EINVAL with every problem in *errs.
 */
int config_parse(const char *name, const char *text, size_t len, struct config **ret,
                 struct config_errors *errs);

/* Reads path and parses it; I/O errors are reported through errs as well. */
int config_load(const char *path, struct config **ret, struct config_errors *errs);

/*
 * config_load, then every check that needs the file system but no network: each
 * project's context (an absolute, readable directory), its Dockerfile (exists and
 * parses), each environment's target (a stage of it), its build args (declared:
 * a warning), the secret and credential files (readable by this process). What
 * is found goes to errs->problems and errs->warnings; the load still succeeds.
 */
int config_load_checked(const char *path, struct config **ret, struct config_errors *errs);

/* Takes a reference; config_free drops one and frees with the last. */
struct config *config_ref(struct config *c);
void config_free(struct config *c);
void config_errors_done(struct config_errors *errs);

/* Parses "90s", "15m", "1h30m", "7d", "250ms" into milliseconds. */
int config_parse_duration(const char *s, uint64_t *ret_ms);
/* Parses "512", "64KiB", "50MB", "2GiB" into bytes. */
int config_parse_size(const char *s, uint64_t *ret_bytes);

/* Looks up a project by name; NULL when absent. */
const struct config_project *config_project_find(const struct config *c, const char *name);

/* Prints the option table (name, type, default, help) for `refitd --help-config`. */
void config_print_schema(void);

/*
 * The file a *_file setting names: a relative path is a file in
 * $CREDENTIALS_DIRECTORY when systemd set one (LoadCredential=), otherwise
 * the path as written. -ENAMETOOLONG when it does not fit in buf.
 */
int config_resolve_path(const char *path, char *buf, size_t len);

#endif
