/*
 * http_client — every outgoing HTTP request of refitd, on the one libuv loop.
 *
 * One curl multi handle is driven by libuv (a uv_poll_t per socket, one
 * uv_timer_t for curl's timeouts), as in curl's docs/examples/multi-uv.c.
 * Connections are kept alive and reused across requests to the same host or
 * unix socket. Every request has a total time limit, an idle limit and a
 * bounded response body. This is the only module that includes curl.h.
 */
#ifndef REFIT_HTTP_CLIENT_H
#define REFIT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct http_client;
struct http_request;

struct http_response {
	long status;           /* HTTP status; 0 when no response arrived */
	int error;             /* 0, or -ECONNREFUSED, -ENOENT, -ETIMEDOUT, -EMSGSIZE, -EIO... */
	const char *error_msg; /* the transport's own message, for logs ("" when none) */
	const char *body;      /* NUL-terminated; empty when streamed through data_cb */
	size_t body_len;
	const char *headers; /* raw header block of the final response */
	uint64_t elapsed_ms;
};

/* A streamed request body: fill buf, return bytes (0 = end), or HTTP_READ_PAUSE. */
#define HTTP_READ_PAUSE ((size_t)-1)
#define HTTP_READ_ABORT ((size_t)-2)
typedef size_t (*http_read_cb)(char *buf, size_t len, void *arg);
/*
 * A streamed response body: return 0 when the chunk was consumed, HTTP_DATA_PAUSE to stop
 * receiving until http_request_resume() (nothing of this chunk was consumed: the same bytes
 * come again, whole, after the resume, possibly from inside http_request_resume), any other
 * value to abort the request. A paused request still counts toward its idle limit.
 */
#define HTTP_DATA_PAUSE 0x50415553 /* "PAUS": a value no data_cb returned before */
typedef int (*http_data_cb)(const char *chunk, size_t len, void *arg);
/* Runs exactly once per started request (unless cancelled). */
typedef void (*http_done_cb)(const struct http_response *resp, void *arg);

struct http_request_opts {
	const char *method; /* default GET; HEAD sends no body request */
	const char *url;
	const char *unix_socket;    /* connect here instead of the URL's host */
	const char *const *headers; /* "Name: value", NULL-terminated */
	const void *body;           /* request body (copied when the request starts) */
	size_t body_len;
	http_read_cb read_cb; /* streamed body, sent chunked */
	http_data_cb data_cb; /* streamed response instead of buffering */
	void *stream_arg;
	uint64_t timeout_ms;      /* whole request; default 60 s, 0 = none when streaming */
	uint64_t idle_timeout_ms; /* abort after this long without progress; default 30 s */
	size_t max_body;          /* default 4 MiB */
	bool follow_redirects;    /* never forwards Authorization to another host */
	const char *tls_ca, *tls_cert, *tls_key;
	/* The peer's TLS alert as the error text, not curl's first words (a TLS 1.3 peer that
	 * refuses the client certificate closes after the handshake: curl's first words
	 * are then a getpeername() failure). For probes only: it turns on curl's verbose
	 * text, read by a callback. */
	bool tls_detail;
	/*
	 * Called just before the done callback when the peer could not be reached or
	 * the connection broke (refused, reset, closed without an answer, cut short):
	 * lost_cb(true). When the request ran out of time or idled past its limit:
	 * lost_cb(false): the peer may be alive and slow. Not called for HTTP errors,
	 * bodies over the limit or requests stopped by their own callbacks.
	 */
	void (*lost_cb)(bool broken, void *arg);
	void *lost_arg;
};

/* Process-wide set-up and tear-down of the HTTP library (once, in main). */
int http_global_init(void);
void http_global_cleanup(void);

int http_client_new(uv_loop_t *loop, struct http_client **ret);

/*
 * Stops every request (their callbacks do not run) and closes the handles;
 * the client is freed from the last close callback, so run the loop after.
 */
void http_client_close(struct http_client *c);

/* Starts a request; on failure returns a negative errno and cb never runs. */
int http_request_start(struct http_client *c, const struct http_request_opts *o, http_done_cb cb,
                       void *arg, struct http_request **ret);

/* Cancels a running request: its callback will not run. */
void http_request_cancel(struct http_request *r);

/*
 * Resumes a request whose read_cb returned HTTP_READ_PAUSE or whose data_cb returned
 * HTTP_DATA_PAUSE. The data_cb is likely called again before this returns; call it with
 * the caller's state consistent. Not from inside that request's own callbacks.
 */
void http_request_resume(struct http_request *r);

/* The value of header name (case-insensitive) in resp, copied into buf; NULL when absent. */
const char *http_response_header(const struct http_response *resp, const char *name, char *buf,
                                 size_t len);

/* Percent-encodes s for a URL query value; returns a malloc'd string or NULL. */
char *http_escape(const char *s);

/* Number of requests in flight. */
size_t http_client_active(const struct http_client *c);

/*
 * A tunnel: a raw TCP connection, TLS included, that curl sets up with the
 * same options as a request (CURLOPT_CONNECT_ONLY) and the caller then uses
 * for a protocol of its own (a BuildKit session's upgraded POST /session).
 * It has its own multi handle and loop handles; bytes go through
 * http_tunnel_send/recv, and the caller watches the socket with
 * http_tunnel_watch. Not for unix sockets (a uv_pipe does that).
 */
struct http_tunnel;

struct http_tunnel_opts {
	const char *url; /* https://host:port/ (TLS) or http://host:port/ (plain TCP) */
	const char *tls_ca, *tls_cert, *tls_key;
	uint64_t timeout_ms; /* connect and TLS handshake; 0: 10 s */
};

/* Runs once: connected (status 0), or a negative errno and why (the TLS library's words). */
typedef void (*http_tunnel_cb)(struct http_tunnel *t, int status, const char *error, void *arg);
/* The socket is readable and/or writable (UV_READABLE, UV_WRITABLE), or status < 0. */
typedef void (*http_tunnel_io_cb)(struct http_tunnel *t, int status, int events, void *arg);

/* Starts connecting; on failure returns a negative errno and cb never runs. */
int http_tunnel_open(uv_loop_t *loop, const struct http_tunnel_opts *o, http_tunnel_cb cb,
                     void *arg, struct http_tunnel **ret);

/* Once connected: which events (UV_READABLE | UV_WRITABLE, 0: none) call cb. */
int http_tunnel_watch(struct http_tunnel *t, int events, http_tunnel_io_cb cb);

/*
 * Once connected: sends or receives up to len bytes; 0 with the count, -EAGAIN when
 * nothing can move now (wait for the socket), else a negative errno (http_tunnel_error
 * says why). A receive of 0 bytes is the end of the stream. Receive until -EAGAIN after
 * each readable event: TLS keeps whole records, more than the socket shows.
 */
int http_tunnel_send(struct http_tunnel *t, const void *buf, size_t len, size_t *ret_n);
int http_tunnel_recv(struct http_tunnel *t, void *buf, size_t len, size_t *ret_n);

/* Why the last connect, send or receive failed. */
const char *http_tunnel_error(const struct http_tunnel *t);

/* Closes the connection; no callback runs after this. Run the loop to free the handles. */
void http_tunnel_close(struct http_tunnel *t);

#endif
