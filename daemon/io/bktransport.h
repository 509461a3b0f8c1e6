/*
 * bktransport — the byte stream under a BuildKit session, so that the
 * upgrade and the HTTP/2 code of bksession do not care what carries it: a
 * unix socket (a uv_pipe), or TCP, plain or with mutual TLS (an http_tunnel:
 * curl connects and does the TLS, the bytes go through curl_easy_send and
 * curl_easy_recv). Internal to bksession.
 *
 * One write at a time, with its callback once every byte went out; every
 * read goes to the read callback, into the caller's buffer, until the
 * transport closes. No callback but closed runs after bktransport_close;
 * closed runs once the handles are gone (the buffers may go then).
 */
#ifndef REFIT_BKTRANSPORT_H
#define REFIT_BKTRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct bktransport;

struct bktransport_opts {
	const char *host; /* unix:///path, or tcp://host:port */
	/* tcp: TLS when tls_ca or tls_cert is set (as for the engine's requests); the files
	 * are read at each connect */
	const char *tls_ca, *tls_cert, *tls_key;
	uint64_t timeout_ms; /* connect (and TLS handshake) */
	uint8_t *rbuf;       /* where reads go */
	size_t rbuf_len;
};

struct bktransport_cbs {
	/* Once: 0 when connected, else a negative errno and why. */
	void (*connected)(void *arg, int status, const char *why);
	/* n > 0 bytes at the start of rbuf; UV_EOF at the end; another negative errno and why
	 * when reading failed. */
	void (*read)(void *arg, ssize_t n, const char *why);
	/* The write is out (0), or failed. */
	void (*written)(void *arg, int status, const char *why);
	void (*closed)(void *arg);
};

/* Starts connecting; -EINVAL (not unix:// or tcp://) or -ENOMEM: no callback runs. */
int bktransport_open(uv_loop_t *loop, const struct bktransport_opts *o,
                     const struct bktransport_cbs *cbs, void *arg, struct bktransport **ret);

/* Once connected, and the last write done: sends len bytes of buf (kept until written). */
int bktransport_write(struct bktransport *t, uint8_t *buf, size_t len);

/* Closes the connection; only closed runs after this, from the loop. */
void bktransport_close(struct bktransport *t);

#endif
