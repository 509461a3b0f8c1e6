/*
 * fakehttp.h — a loopback HTTP/1.1 server on the test's own loop, for unit tests that
 * need a peer which answers late, or never, or hangs up: on a unix socket (an engine)
 * or on 127.0.0.1 (a registry, a feed mirror). The test's callback decides, per request,
 * to reply, to hold the request (fakehttp_release_held / fakehttp_drop_held later) or
 * to drop the connection without an answer. Requests are small: bodies need a
 * Content-Length. Static inline: each unit test is built from its one .c file.
 */
#ifndef REFIT_FAKEHTTP_H
#define REFIT_FAKEHTTP_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

struct fakehttp_conn;
typedef void (*fakehttp_cb)(struct fakehttp_conn *c, const char *method, const char *target,
                            void *arg);

struct fakehttp {
	union {
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} server;
	bool is_unix;
	char path[108]; /* unix socket */
	int port;       /* tcp */
	fakehttp_cb cb;
	void *arg;
	struct fakehttp_conn *conns;
};

struct fakehttp_conn {
	union {
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} h;
	struct fakehttp *f;
	char buf[16384];
	size_t len;
	bool held; /* a request waits for the test */
	struct fakehttp_conn *next;
};

static inline void fakehttp_conn_closed(uv_handle_t *h)
{
	struct fakehttp_conn *c = h->data;

	for (struct fakehttp_conn **pp = &c->f->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

/* No answer at all: the client sees the connection close ("Empty reply from server"). */
static inline void fakehttp_drop(struct fakehttp_conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->h))
		uv_close((uv_handle_t *)&c->h, fakehttp_conn_closed);
}

static inline void fakehttp_hold(struct fakehttp_conn *c)
{
	c->held = true;
}

static inline void fakehttp_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

static inline void fakehttp_reply(struct fakehttp_conn *c, int status, const char *body)
{
	size_t n = strlen(body);
	uv_write_t *w = malloc(sizeof(*w) + 256 + n);
	char *out = (char *)(w + 1);
	int len;
	uv_buf_t b;

	if (!w)
		abort();
	len = snprintf(out, 256 + n,
	               "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	               "Content-Length: %zu\r\n\r\n%s",
	               status, n, body);
	b = uv_buf_init(out, (unsigned)len);
	if (uv_write(w, (uv_stream_t *)&c->h, &b, 1, fakehttp_written) < 0)
		free(w);
}

/* Hands each complete request in the buffer to the callback, unless one is held. */
static inline void fakehttp_parse(struct fakehttp_conn *c)
{
	char *end, method[16], target[2048];
	const char *cl;
	size_t head, body;

	while (!c->held && !uv_is_closing((uv_handle_t *)&c->h) &&
	       (end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
		*end = '\0'; /* the header block as a string, for the searches below */
		head = (size_t)(end - c->buf) + 4;
		cl = strcasestr(c->buf, "Content-Length:");
		body = cl ? strtoul(cl + 15, NULL, 10) : 0;
		*end = '\r';
		if (c->len < head + body)
			return;
		if (sscanf(c->buf, "%15s %2047s", method, target) != 2)
			abort();
		memmove(c->buf, c->buf + head + body, c->len - head - body);
		c->len -= head + body;
		c->f->cb(c, method, target, c->f->arg);
	}
}

static inline void fakehttp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct fakehttp_conn *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static inline void fakehttp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct fakehttp_conn *c = s->data;

	(void)b;
	if (n < 0) {
		fakehttp_drop(c);
		return;
	}
	c->len += (size_t)n;
	fakehttp_parse(c);
}

static inline void fakehttp_accept(uv_stream_t *s, int status)
{
	struct fakehttp *f = s->data;
	struct fakehttp_conn *c = calloc(1, sizeof(*c));

	if (status < 0 || !c)
		abort();
	c->f = f;
	if (f->is_unix)
		uv_pipe_init(s->loop, &c->h.pipe, 0);
	else
		uv_tcp_init(s->loop, &c->h.tcp);
	c->h.pipe.data = c;
	if (uv_accept(s, (uv_stream_t *)&c->h) < 0)
		abort();
	c->next = f->conns;
	f->conns = c;
	uv_read_start((uv_stream_t *)&c->h, fakehttp_alloc, fakehttp_read);
}

/* Listens on a fresh unix socket (f->path). 0 or a libuv error. */
static inline int fakehttp_unix(uv_loop_t *loop, struct fakehttp *f, fakehttp_cb cb, void *arg)
{
	static unsigned seq;
	int r;

	f->is_unix = true;
	f->cb = cb;
	f->arg = arg;
	snprintf(f->path, sizeof(f->path), "/tmp/refit-fakehttp-%d-%u.sock", (int)getpid(), seq++);
	unlink(f->path);
	uv_pipe_init(loop, &f->server.pipe, 0);
	f->server.pipe.data = f;
	r = uv_pipe_bind(&f->server.pipe, f->path);
	return r < 0 ? r : uv_listen((uv_stream_t *)&f->server, 16, fakehttp_accept);
}

/* Listens on 127.0.0.1 and a free port (f->port). 0 or a libuv error. */
static inline int fakehttp_tcp(uv_loop_t *loop, struct fakehttp *f, fakehttp_cb cb, void *arg)
{
	struct sockaddr_in a;
	struct sockaddr_storage bound;
	int len = sizeof(bound), r;

	f->cb = cb;
	f->arg = arg;
	uv_ip4_addr("127.0.0.1", 0, &a);
	uv_tcp_init(loop, &f->server.tcp);
	f->server.tcp.data = f;
	r = uv_tcp_bind(&f->server.tcp, (const struct sockaddr *)&a, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&f->server, 16, fakehttp_accept);
	if (r == 0)
		r = uv_tcp_getsockname(&f->server.tcp, (struct sockaddr *)&bound, &len);
	f->port = r == 0 ? ntohs(((struct sockaddr_in *)&bound)->sin_port) : 0;
	return r;
}

/* Answers every held request, then goes on with what their connections sent since. */
static inline void fakehttp_release_held(struct fakehttp *f, int status, const char *body)
{
	for (struct fakehttp_conn *c = f->conns; c; c = c->next)
		if (c->held) {
			c->held = false;
			fakehttp_reply(c, status, body);
			fakehttp_parse(c);
		}
}

/* Hangs up on every held request, without an answer. */
static inline void fakehttp_drop_held(struct fakehttp *f)
{
	for (struct fakehttp_conn *c = f->conns; c; c = c->next)
		if (c->held)
			fakehttp_drop(c);
}

/* Closes the connections and the listener; run the loop afterwards. */
static inline void fakehttp_stop(struct fakehttp *f)
{
	for (struct fakehttp_conn *c = f->conns; c; c = c->next)
		fakehttp_drop(c);
	uv_close((uv_handle_t *)&f->server, NULL);
	if (f->is_unix)
		unlink(f->path);
}

#endif
