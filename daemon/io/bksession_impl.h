/*
 * bksession_impl — what the two halves of bksession share: bksession.c
 * (the connection, the upgrade, HTTP/2 through nghttp2) and
 * bksession_call.c (the gRPC calls and their answers).
 */
#ifndef REFIT_BKSESSION_IMPL_H
#define REFIT_BKSESSION_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>
#include <uv.h>

#include "bksession.h"
#include "grpcmsg.h"

#define HEAD_MAX    4096        /* the engine's answer to the upgrade, with an error body */
#define READ_MAX    (64 * 1024) /* one read */
#define OUT_MAX     (64 * 1024) /* one write: > a DATA frame of 16 KiB + 9 */
#define REQ_MSG_MAX (64 * 1024) /* a request message: a host or an id */
#define PATH_LEN    128         /* the :path kept; longer ones are unknown */

enum bksession_state { S_CONNECTING, S_UPGRADING, S_H2, S_DEAD };

/* One unary call, from its HEADERS to the close of its stream. */
struct call {
	struct call *next;
	struct bksession *s;
	int32_t stream;
	char path[PATH_LEN];
	struct grpcmsg_in in;
	struct grpcmsg_out resp; /* framed answer */
	size_t queued, sent;     /* bytes of resp handed to nghttp2, and copied out */
	bool dispatched, lookup; /* the request is complete; a creds lookup runs for it */
	char host[GRPCMSG_STR_MAX];
};

struct secret {
	char *id, *path;
};

struct bksession {
	uv_loop_t *loop;
	struct bktransport *tr; /* the connection: unix socket, TCP or TLS */
	uv_timer_t timer;       /* connect and upgrade */
	int open;               /* the timer and the transport, until closed */
	enum bksession_state state;
	bool user_closed, ready_done, closed_done, writing, health_seen;
	nghttp2_session *h2;
	bool h2_nomem;       /* an nghttp2 callback ran out of memory */
	int32_t goaway;      /* -1, or the error code of the engine's GOAWAY */
	struct creds *creds; /* borrowed */
	struct secret *secrets;
	size_t n_secrets;
	struct call *calls;
	char *peer; /* the socket's path, or host:port, for messages */
	uint64_t timeout_ms, t0_ns;
	bksession_ready_cb ready_cb;
	bksession_closed_cb closed_cb;
	void *arg;
	struct bksession_stats stats;
	char id[BKSESSION_ID_MAX + 1];
	size_t head_len, head_end; /* the answer to the upgrade; head_end: after its blank line */
	char head[HEAD_MAX + 1];
	size_t out_len;
	uint8_t out[OUT_MAX]; /* the upgrade request, then HTTP/2 frames; wiped once written */
	uint8_t rbuf[READ_MAX];
};

static inline uint64_t bksession_elapsed_ms(const struct bksession *s)
{
	return (uv_hrtime() - s->t0_ns) / 1000000;
}

/* The methods named in X-Docker-Expose-Session-Grpc-Method; NULL-terminated. */
extern const char *const bksession_advertised[];

/* The request of c is complete: answers it now, or later from a creds callback. An nghttp2
 * error code when submitting failed. */
int bksession_dispatch(struct bksession *s, struct call *c);

/* Frees c, cancelling its creds lookup if one runs. */
void bksession_call_free(struct bksession *s, struct call *c);

/* After an answer submitted outside nghttp2's callbacks (r: its nghttp2 code): sends it, or
 * ends the session when nghttp2 failed for good. */
void bksession_answered(struct bksession *s, int r);

#endif
