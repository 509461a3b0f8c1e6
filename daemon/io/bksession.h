/*
 * bksession — the BuildKit session refit serves to dockerd during a build
 * (../shared/BUILDKIT.md A, B, D, E): what the docker CLI does with
 * `docker buildx build`, without Go.
 *
 * A session is a connection of its own to the engine, upgraded by POST
 * /session (Upgrade: h2c): over its unix socket, or over TCP, plain or with
 * the engine's mutual TLS (bktransport carries the bytes; curl does the TLS,
 * so the HTTP/2 code sees the same stream either way). After the 101 the
 * roles reverse: dockerd is the gRPC client and we are the HTTP/2 server
 * (nghttp2, this module is the only one that includes it). A session that
 * drops, or an engine that does not answer within timeout_ms, ends in a
 * callback with the reason, never in a wait. We answer unary calls: Health/Check (every
 * second; the first failure ends the session on dockerd's side),
 * Auth/Credentials from creds (looked up asynchronously), Secrets/GetSecret
 * from the configured files (read when asked, bounded, never logged), and
 * UNIMPLEMENTED for everything else, GetTokenAuthority included, so that
 * dockerd fetches registry tokens itself with those credentials.
 *
 * Pass bksession_id() as the build's session= once ready_cb said 0. One
 * session per build, as the docker CLI does: dockerd caches credentials for
 * as long as a session lives. Secrets and passwords are wiped once sent.
 */
#ifndef REFIT_BKSESSION_H
#define REFIT_BKSESSION_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct bksession;
struct creds;

#define BKSESSION_ID_MAX     64
#define BKSESSION_SECRET_MAX (500 * 1024) /* the docker CLI's limit too */

struct bksession_secret {
	const char *id;
	const char
	        *path; /* read when dockerd asks; relative: under $CREDENTIALS_DIRECTORY if set */
};

struct bksession_opts {
	const char *engine_host; /* "unix:///path/docker.sock" or "tcp://host:port" */
	/* tcp://: TLS when tls_ca or tls_cert is set, with the engine's own files (read at
	 * each open, so a renewed certificate counts from the next session) */
	const char *tls_ca, *tls_cert, *tls_key;
	const char *api_version;                /* "1.41"; NULL: the unversioned /session */
	struct creds *creds;                    /* NULL: anonymous; must outlive the session */
	const struct bksession_secret *secrets; /* copied */
	size_t n_secrets;
	const char *id;      /* NULL: 25 random base36 characters, like BuildKit's own ids */
	const char *name;    /* X-Docker-Expose-Session-Name; NULL: "refit" */
	uint64_t timeout_ms; /* connect and upgrade; 0: 10 s */
};

/* What the session served, for logs and benchmarks. */
struct bksession_stats {
	unsigned health, credentials, secrets, other; /* calls answered, by kind */
	unsigned cancelled;                           /* calls dockerd reset before our answer */
	uint64_t ready_ms, first_health_ms;           /* since bksession_open; 0 until then */
};

/* Runs once: status 0 when the engine accepted the session, else a negative errno and why
 * (the engine's status and message, e.g. 404 from an engine without BuildKit). */
typedef void (*bksession_ready_cb)(struct bksession *s, int status, const char *error, void *arg);
/* Runs at most once after a successful ready_cb: the connection broke (a reset, a TLS
 * error), the engine closed it, or the HTTP/2 session failed. */
typedef void (*bksession_closed_cb)(struct bksession *s, int status, const char *reason, void *arg);

/*
 * Connects to the engine and asks for the session. -EINVAL (options),
 * -EPROTONOSUPPORT (neither unix:// nor tcp://) or -ENOMEM: no callback
 * runs. Otherwise ready_cb runs once, later, within timeout_ms (connect,
 * TLS handshake and upgrade); the caller ends the session with
 * bksession_close in every case, from inside the callbacks if it likes.
 */
int bksession_open(uv_loop_t *loop, const struct bksession_opts *o, bksession_ready_cb ready_cb,
                   bksession_closed_cb closed_cb, void *arg, struct bksession **ret);

/* The session id, for the build's session= parameter. */
const char *bksession_id(const struct bksession *s);

/* The counters so far. */
const struct bksession_stats *bksession_stats(const struct bksession *s);

/*
 * Closes the connection (dockerd then fails the builds still needing it
 * after 5 s) and drops pending credential lookups; no callback runs after
 * this. The memory goes with the last close callback: run the loop.
 */
void bksession_close(struct bksession *s);

#endif
