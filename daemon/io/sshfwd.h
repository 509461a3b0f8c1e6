/*
 * sshfwd — an ssh:// engine's transport: a supervised OpenSSH client on the
 * loop forwarding a private local unix socket to the engine's remote socket
 * (ssh -N -L LOCAL:REMOTE), so that the Engine API client and the BuildKit
 * session talk to it exactly as to a local engine.
 *
 * ssh runs with no shell and no user configuration (-F /dev/null), in batch
 * mode, with strict host key checking (against ssh_known_hosts when given),
 * only the configured key, keep-alives, and a time limit on connecting. The
 * local socket lives in a fresh 0700 directory under the runtime directory.
 * When ssh exits, the last line it wrote on stderr ("Host key verification
 * failed.", "Permission denied (publickey).") is the reason given to the
 * owner, and it is started again after a backoff (1 s doubling to 60 s).
 * sshfwd_free kills and reaps it before the object goes.
 */
#ifndef REFIT_SSHFWD_H
#define REFIT_SSHFWD_H

#include <stdbool.h>

#include <uv.h>

struct sshfwd;

struct sshfwd_opts {
	const char *host;        /* ssh://user@host[:port][/remote.sock] (checked by the config) */
	const char *key;         /* as configured (relative: $CREDENTIALS_DIRECTORY), or NULL */
	const char *known_hosts; /* likewise, or NULL for ssh's default files */
	const char *dir;         /* where the private socket directory is made */
};

/* Called when the local socket appears (ready) or the forwarder is gone (why says
 * what happened and when it is tried again). */
typedef void (*sshfwd_cb)(struct sshfwd *f, bool ready, const char *why, void *arg);

int sshfwd_new(uv_loop_t *loop, const struct sshfwd_opts *o, sshfwd_cb cb, void *arg,
               struct sshfwd **ret);

/* Starts ssh (again after a backoff whenever it exits). */
void sshfwd_start(struct sshfwd *f);

/* The local socket to connect to (present only while ready). */
const char *sshfwd_socket(const struct sshfwd *f);

bool sshfwd_ready(const struct sshfwd *f);

/* Why it is not ready: "connecting over ssh", or the last failure. */
const char *sshfwd_state(const struct sshfwd *f);

/* The line ssh wrote last (a channel that failed to open), or "". */
const char *sshfwd_last_line(const struct sshfwd *f);

/* Stops the child (SIGTERM, SIGKILL after 3 s), reaps it, removes the socket and
 * frees f once every handle is closed. NULL is fine. */
void sshfwd_free(struct sshfwd *f);

#endif
