/*
 * bktransport — see bktransport.h. Two carriers behind one set of
 * callbacks: a uv_pipe for unix sockets, an http_tunnel for TCP (plain or
 * TLS). Over TCP a write waits for the socket to be writable, then goes out
 * in as many sends as it takes; a readable socket is read until curl says
 * CURLE_AGAIN (-EAGAIN here), since TLS holds whole records that the socket
 * no longer shows as readable.
 */
#include "bktransport.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

#define URL_MAX                       512
#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct bktransport {
	const struct bktransport_cbs *cbs;
	void *arg;
	uint8_t *rbuf;
	size_t rbuf_len;
	bool tcp;
	bool closing, ended; /* closed by the owner; the stream ended or broke (tcp) */
	/* unix:// */
	uv_pipe_t pipe;
	uv_connect_t connect;
	uv_write_t wreq;
	/* tcp:// */
	struct http_tunnel *tunnel;
	uv_idle_t idle; /* never started: its close callback is the transport's */
	const uint8_t *wbuf;
	size_t wlen, wsent;
};

static void closed_cb(uv_handle_t *h)
{
	struct bktransport *t = h->data;

	t->cbs->closed(t->arg);
	free(t);
}

/* ---- unix sockets: a uv_pipe ---- */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct bktransport *t = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)t->rbuf, (unsigned)t->rbuf_len);
}

static void pipe_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct bktransport *t = st->data;

	(void)buf;
	if (t->closing || n == 0)
		return;
	t->cbs->read(t->arg, n, n < 0 && n != UV_EOF ? uv_strerror((int)n) : NULL);
}

static void pipe_write_cb(uv_write_t *req, int status)
{
	struct bktransport *t = container_of(req, struct bktransport, wreq);

	if (!t->closing)
		t->cbs->written(t->arg, status, status < 0 ? uv_strerror(status) : NULL);
}

static void pipe_connect_cb(uv_connect_t *req, int status)
{
	struct bktransport *t = container_of(req, struct bktransport, connect);
	int r = status;

	if (t->closing)
		return;
	if (r == 0)
		r = uv_read_start((uv_stream_t *)&t->pipe, alloc_cb, pipe_read_cb);
	t->cbs->connected(t->arg, r, r < 0 ? uv_strerror(r) : NULL);
}

static int pipe_open(uv_loop_t *loop, struct bktransport *t, const char *path)
{
	int r = uv_pipe_init(loop, &t->pipe, 0);

	if (r < 0)
		return r;
	t->pipe.data = t;
	uv_pipe_connect(&t->connect, &t->pipe, path, pipe_connect_cb);
	return 0;
}

/* ---- TCP, plain or TLS: an http_tunnel ---- */

static void tunnel_io_cb(struct http_tunnel *tu, int status, int events, void *arg);

static int tunnel_watch(struct bktransport *t)
{
	int events = t->ended ? 0 : UV_READABLE | (t->wbuf ? UV_WRITABLE : 0);

	return http_tunnel_watch(t->tunnel, events, tunnel_io_cb);
}

/* The stream is over (an error, or its end): nothing more to watch, the owner closes. */
static void tunnel_ended(struct bktransport *t, ssize_t n, const char *why)
{
	t->ended = true;
	t->wbuf = NULL;
	tunnel_watch(t);
	t->cbs->read(t->arg, n, why);
}

/* Everything there is to read: until -EAGAIN, the end, or the owner closing us. */
static void tunnel_drain(struct bktransport *t)
{
	while (!t->closing && !t->ended) {
		size_t n = 0;
		int r = http_tunnel_recv(t->tunnel, t->rbuf, t->rbuf_len, &n);

		if (r == -EAGAIN)
			return;
		if (r < 0)
			tunnel_ended(t, r, http_tunnel_error(t->tunnel));
		else if (n == 0)
			tunnel_ended(t, UV_EOF, NULL);
		else
			t->cbs->read(t->arg, (ssize_t)n, NULL);
	}
}

/* As much of the write as the socket takes; written once it is all out. */
static void tunnel_flush(struct bktransport *t)
{
	int r = 0;

	while (t->wsent < t->wlen) {
		size_t n = 0;

		r = http_tunnel_send(t->tunnel, t->wbuf + t->wsent, t->wlen - t->wsent, &n);
		if (r == -EAGAIN)
			return;
		if (r < 0)
			break;
		t->wsent += n;
	}
	t->wbuf = NULL;
	if (r == 0)
		r = tunnel_watch(t); /* readable only, again */
	t->cbs->written(t->arg, r, r < 0 ? http_tunnel_error(t->tunnel) : NULL);
}

static void tunnel_io_cb(struct http_tunnel *tu, int status, int events, void *arg)
{
	struct bktransport *t = arg;

	(void)tu;
	if (status < 0) { /* libuv's EBADF for POLLERR: a reset, often right after a TLS alert */
		tunnel_drain(t); /* what curl reads says why, if anything */
		if (!t->closing && !t->ended)
			tunnel_ended(t, -ECONNRESET, "the connection broke");
		return;
	}
	if ((events & UV_WRITABLE) && t->wbuf)
		tunnel_flush(t);
	if (events & UV_READABLE)
		tunnel_drain(t);
}

static void tunnel_connect_cb(struct http_tunnel *tu, int status, const char *error, void *arg)
{
	struct bktransport *t = arg;
	int r = status;

	(void)tu;
	if (r == 0)
		r = tunnel_watch(t);
	t->cbs->connected(t->arg, r, status < 0 ? error : r < 0 ? uv_strerror(r) : NULL);
}

static int tunnel_open(uv_loop_t *loop, struct bktransport *t, const struct bktransport_opts *o)
{
	char url[URL_MAX];
	struct http_tunnel_opts to = {.url = url,
	                              .tls_ca = o->tls_ca,
	                              .tls_cert = o->tls_cert,
	                              .tls_key = o->tls_key,
	                              .timeout_ms = o->timeout_ms};
	int n = snprintf(url, sizeof(url), "%s://%s/", o->tls_ca || o->tls_cert ? "https" : "http",
	                 o->host + 6);
	int r;

	if (n < 0 || (size_t)n >= sizeof(url) || !o->host[6])
		return -EINVAL;
	r = http_tunnel_open(loop, &to, tunnel_connect_cb, t, &t->tunnel);
	if (r < 0)
		return r;
	uv_idle_init(loop, &t->idle);
	t->idle.data = t;
	return 0;
}

/* ---- the interface ---- */

int bktransport_open(uv_loop_t *loop, const struct bktransport_opts *o,
                     const struct bktransport_cbs *cbs, void *arg, struct bktransport **ret)
{
	bool is_unix = !strncmp(o->host, "unix://", 7);
	struct bktransport *t;
	int r;

	if (!is_unix && strncmp(o->host, "tcp://", 6))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cbs = cbs;
	t->arg = arg;
	t->rbuf = o->rbuf;
	t->rbuf_len = o->rbuf_len;
	t->tcp = !is_unix;
	r = is_unix ? pipe_open(loop, t, o->host + 7) : tunnel_open(loop, t, o);
	if (r < 0) {
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

int bktransport_write(struct bktransport *t, uint8_t *buf, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);

	if (!t->tcp)
		return uv_write(&t->wreq, (uv_stream_t *)&t->pipe, &b, 1, pipe_write_cb);
	if (t->wbuf || t->ended)
		return t->ended ? -ENOTCONN : -EBUSY;
	t->wbuf = buf;
	t->wlen = len;
	t->wsent = 0;
	return tunnel_watch(t); /* written from the writable socket, never from here */
}

void bktransport_close(struct bktransport *t)
{
	if (!t || t->closing)
		return;
	t->closing = true;
	if (t->tcp) {
		http_tunnel_close(t->tunnel);
		t->tunnel = NULL;
		uv_close((uv_handle_t *)&t->idle, closed_cb);
		return;
	}
	uv_read_stop((uv_stream_t *)&t->pipe);
	uv_close((uv_handle_t *)&t->pipe, closed_cb);
}
