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

#include "creds_parse.h" /* struct creds_entry */

struct config_registry;
struct creds;

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

/* Drops every cached answer: the next lookups read the files again (a reload). */
void creds_invalidate_all(struct creds *c);

#endif
