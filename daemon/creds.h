/*
 * creds — registry credentials: where they come from and how they are sent.
 *
 * A lookup for a registry host asks, in order: refit's own `registries:`
 * entries (username_file / password_file, read at lookup time so rotated
 * secrets are seen; relative paths under $CREDENTIALS_DIRECTORY when systemd
 * set it), then Docker's config.json (credHelpers[host], else credsStore,
 * else the inline auths[host]); with nothing found the answer is anonymous,
 * which is not an error. Credential helpers are the real
 * docker-credential-<name> programs, run with uv_spawn under a time limit and
 * with bounded output, so the loop never blocks on them; the files are
 * small, local and bounded, and read directly.
 *
 * Successful answers (anonymous ones too: a helper's "not found" costs a
 * process) are cached per host; the registry client calls creds_invalidate()
 * after a 401 with cached credentials. Concurrent lookups of one host share
 * one helper run. Secrets are never logged nor put in error messages, and are
 * wiped when freed.
 */
#ifndef REFIT_CREDS_H
#define REFIT_CREDS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct config_registry;
struct creds;

enum creds_kind {
	CREDS_ANONYMOUS,
	CREDS_BASIC,          /* username + password */
	CREDS_IDENTITY_TOKEN, /* OAuth2 refresh token for the token endpoint */
	CREDS_REGISTRY_TOKEN, /* bearer token sent as-is */
};

struct creds_entry {
	enum creds_kind kind;
	char *username;    /* BASIC; IDENTITY_TOKEN when config.json names one; else NULL */
	char *secret;      /* password or token; NULL when anonymous */
	char source[64];   /* "config", "config.json", "helper ecr-login", "none": for logs */
	const char *error; /* failed lookup: why, for the log, never a secret; "" otherwise */
};

#define CREDS_CACHE_OFF UINT64_MAX

struct creds_opts {
	const struct config_registry *registries; /* copied by creds_new */
	size_t n_registries;
	const char *docker_config;  /* config.json; NULL = $DOCKER_CONFIG or ~/.docker; "" = none */
	uint64_t cache_ms;          /* 0 = 5 min; CREDS_CACHE_OFF = no cache */
	uint64_t helper_timeout_ms; /* 0 = 10 s */
};

/* Runs once per started lookup; e is valid only during the call. On failure
 * status is a negative errno and e is anonymous with e->error set. */
typedef void (*creds_cb)(int status, const struct creds_entry *e, void *arg);

/* Creates the credential source for loop from o (NULL = defaults). */
int creds_new(uv_loop_t *loop, const struct creds_opts *o, struct creds **ret);

/*
 * Kills running helpers, drops pending lookups (their callbacks never run)
 * and closes the handles; the memory goes with the last close callback, so
 * run the loop afterwards. Safe to call from a creds callback.
 */
void creds_free(struct creds *c);

/*
 * Starts finding the credentials for a registry host ("docker.io",
 * "ghcr.io", "localhost:5000"). cb always runs later from the loop, never
 * from inside this call; -EINVAL (bad host) or -ENOMEM means it never runs.
 */
int creds_lookup(struct creds *c, const char *host, creds_cb cb, void *arg);

/* Forgets pending lookups started with cb and arg, for callers going away. */
void creds_lookup_cancel(struct creds *c, creds_cb cb, void *arg);

/* Drops host's cached answer, e.g. after a registry refused it with 401. */
void creds_invalidate(struct creds *c, const char *host);

/* Docker's server address for host: https://index.docker.io/v1/ for Hub. */
const char *creds_server_address(const char *host);

/*
 * The Engine API's X-Registry-Auth value for e (NULL = anonymous, "e30="):
 * base64url, padded like Go's base64.URLEncoding, of Docker's AuthConfig
 * JSON with serveraddress from host (omitted when NULL). Free *ret with
 * creds_secret_free.
 */
int creds_x_registry_auth(const struct creds_entry *e, const char *host, char **ret);

struct creds_host_entry {
	const char *host;
	const struct creds_entry *entry;
};

/*
 * The X-Registry-Config value of a build: base64url of a JSON map from each
 * host's server address to its AuthConfig; anonymous entries are left out.
 */
int creds_x_registry_config(const struct creds_host_entry *list, size_t n, char **ret);

/* Copies src into dst (error pointer not copied). */
int creds_entry_copy(struct creds_entry *dst, const struct creds_entry *src);

/* Wipes and frees e's strings, leaving it anonymous. */
void creds_entry_done(struct creds_entry *e);

/* Wipes and frees a string that carries a secret (NULL is fine). */
void creds_secret_free(char *s);

/*
 * The file a *_file setting names: a relative path is a file in
 * $CREDENTIALS_DIRECTORY when systemd set one (LoadCredential=), otherwise
 * the path as written. -ENAMETOOLONG when it does not fit in buf.
 */
int creds_resolve_path(const char *path, char *buf, size_t len);

#endif
