/*
 * bksession — see bksession.h. This half is the connection: options and
 * the upgrade request, the end of a session, HTTP/2 output and input, the
 * engine's answer to the upgrade, then bksession_open. The gRPC calls and
 * their answers are in bksession_call.c; what carries the bytes (a unix
 * socket, TCP, TLS) is bktransport's business.
 *
 * nghttp2 does the HTTP/2 (HPACK, SETTINGS and PING acks, flow control,
 * frame splitting); we feed it what we read and write what it produces,
 * one write at a time from our own buffer, so a slow engine pauses
 * nghttp2 instead of growing a queue. Response DATA is sent with
 * NGHTTP2_DATA_FLAG_NO_COPY: secret bytes go from the answer's buffer to
 * the write buffer without a copy inside nghttp2, and both are wiped.
 *
 * nghttp2's callbacks never call the owner's callbacks: failures found
 * inside them are recorded and acted on once nghttp2 has returned.
 */
#include "bksession.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <jansson.h>

#include "bksession_impl.h"
#include "bktransport.h"
#include "creds.h"
#include "log.h"

#define DEFAULT_TIMEOUT_MS 10000
#define ID_LEN             25 /* BuildKit's identity.NewID */
#define NAME_MAX_LEN       64
#define REQUEST_MAX        2048 /* the upgrade request */
#define ERR_BODY_MAX       512  /* the part of an error body quoted */
#define MAX_STREAMS        100  /* calls at once, advertised in SETTINGS */
#define REASON_MAX         512

/* ---- options and the upgrade request ---- */

static bool token_ok(const char *v, size_t max, const char *extra)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || strchr(extra, v[i])))
			return false;
	return true;
}

/* What goes into header lines: ids without ':' (dockerd cuts at the first one, A.2). */
static int check_opts(const struct bksession_opts *o)
{
	if (!o || !o->engine_host)
		return -EINVAL;
	if ((o->api_version && !token_ok(o->api_version, 15, ".")) ||
	    (o->id && !token_ok(o->id, BKSESSION_ID_MAX, "-_.")) ||
	    (o->name && !token_ok(o->name, NAME_MAX_LEN, "-_. /")) || (o->n_secrets && !o->secrets))
		return -EINVAL;
	for (size_t i = 0; i < o->n_secrets; i++)
		if (!o->secrets[i].id || !*o->secrets[i].id || !o->secrets[i].path ||
		    strlen(o->secrets[i].id) >= GRPCMSG_STR_MAX)
			return -EINVAL;
	if (!strncmp(o->engine_host, "tcp://", 6))
		return o->engine_host[6] ? 0 : -EINVAL;
	if (strncmp(o->engine_host, "unix://", 7))
		return -EPROTONOSUPPORT; /* ssh://, npipe:// */
	if (strlen(o->engine_host + 7) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    !o->engine_host[7])
		return -EINVAL;
	return 0;
}

/* 25 base36 characters from the kernel's random bytes, without modulo bias. */
static int random_id(char *buf)
{
	static const char abc[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[64];
	size_t n = 0;

	while (n < ID_LEN) {
		int r = uv_random(NULL, NULL, rnd, sizeof(rnd), 0, NULL);
		if (r < 0)
			return r;
		for (size_t i = 0; i < sizeof(rnd) && n < ID_LEN; i++)
			if (rnd[i] < 252) /* 7 * 36 */
				buf[n++] = abc[rnd[i] % 36];
	}
	buf[n] = '\0';
	return 0;
}

static int copy_secrets(struct bksession *s, const struct bksession_opts *o)
{
	if (!o->n_secrets)
		return 0;
	s->secrets = calloc(o->n_secrets, sizeof(*s->secrets));
	if (!s->secrets)
		return -ENOMEM;
	for (; s->n_secrets < o->n_secrets; s->n_secrets++) {
		struct secret *d = &s->secrets[s->n_secrets];
		d->id = strdup(o->secrets[s->n_secrets].id);
		d->path = strdup(o->secrets[s->n_secrets].path);
		if (!d->id || !d->path) {
			s->n_secrets++; /* freed with the others */
			return -ENOMEM;
		}
	}
	return 0;
}

/* Appends to the request in the write buffer; -ENAMETOOLONG past REQUEST_MAX. */
__attribute__((format(printf, 2, 3))) static int put(struct bksession *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)s->out + s->out_len, REQUEST_MAX - s->out_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= REQUEST_MAX - s->out_len)
		return -ENAMETOOLONG;
	s->out_len += (size_t)n;
	return 0;
}

/* POST /session with the headers of BUILDKIT.md A.2-4, into the write buffer. */
static int build_request(struct bksession *s, const struct bksession_opts *o)
{
	int r = put(s,
	            "POST %s%s/session HTTP/1.1\r\nHost: docker\r\nUser-Agent: refit/%s\r\n"
	            "Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
	            "X-Docker-Expose-Session-Uuid: %s\r\nX-Docker-Expose-Session-Name: %s\r\n",
	            o->api_version ? "/v" : "", o->api_version ? o->api_version : "", REFIT_VERSION,
	            s->id, o->name ? o->name : "refit");

	for (size_t i = 0; r == 0 && bksession_advertised[i]; i++)
		r = put(s, "X-Docker-Expose-Session-Grpc-Method: %s\r\n", bksession_advertised[i]);
	return r < 0 ? r : put(s, "\r\n");
}

/* ---- the end of a session ---- */

/* Forgets every call: pending lookups are cancelled, so their callbacks never run. */
static void drop_calls(struct bksession *s)
{
	struct call *c;

	while ((c = s->calls)) {
		s->calls = c->next;
		bksession_call_free(s, c);
	}
}

static void final_free(struct bksession *s)
{
	drop_calls(s);
	if (s->h2)
		nghttp2_session_del(s->h2);
	for (size_t i = 0; i < s->n_secrets; i++) {
		free(s->secrets[i].id);
		free(s->secrets[i].path);
	}
	free(s->secrets);
	free(s->peer);
	explicit_bzero(s->out, sizeof(s->out));
	explicit_bzero(s->rbuf, sizeof(s->rbuf));
	free(s);
}

static void closed(struct bksession *s)
{
	if (--s->open == 0 && s->user_closed)
		final_free(s);
}

static void timer_closed_cb(uv_handle_t *h)
{
	closed(h->data);
}

static void transport_closed_cb(void *arg)
{
	closed(arg);
}

/* Stops everything: no nghttp2 call and no creds callback after this. */
static void shut(struct bksession *s)
{
	if (s->state == S_DEAD)
		return;
	s->state = S_DEAD;
	drop_calls(s);
	uv_timer_stop(&s->timer);
	bktransport_close(s->tr);
	uv_close((uv_handle_t *)&s->timer, timer_closed_cb);
}

/* Ends the session and tells the owner: ready_cb before the 101, closed_cb after. */
__attribute__((format(printf, 3, 4))) static void fail(struct bksession *s, int status,
                                                       const char *fmt, ...)
{
	char reason[REASON_MAX];
	va_list ap;

	if (s->state == S_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	shut(s);
	log_debug("bksession %s: %s", s->id, reason);
	if (s->user_closed)
		return;
	if (!s->ready_done) {
		s->ready_done = true;
		s->ready_cb(s, status, reason, s->arg);
	} else if (!s->closed_done) {
		s->closed_done = true;
		if (s->closed_cb)
			s->closed_cb(s, status, reason, s->arg);
	}
}

void bksession_close(struct bksession *s)
{
	if (!s || s->user_closed)
		return;
	s->user_closed = true;
	shut(s);
	if (s->open == 0)
		final_free(s);
}

/* ---- HTTP/2 output ---- */

static void flush(struct bksession *s);

static void written_cb(void *arg, int status, const char *why)
{
	struct bksession *s = arg;

	explicit_bzero(s->out, s->out_len);
	s->out_len = 0;
	s->writing = false;
	if (s->state == S_DEAD)
		return;
	if (status < 0)
		fail(s, status, "writing to the engine: %s", why);
	else
		flush(s);
}

static void write_out(struct bksession *s)
{
	int r = bktransport_write(s->tr, s->out, s->out_len);

	if (r < 0)
		fail(s, r, "writing to the engine: %s", uv_strerror(r));
	else
		s->writing = true;
}

/* Lets nghttp2 fill the write buffer, and writes it; the next round runs from write_cb. */
static void flush(struct bksession *s)
{
	int r;

	if (s->state != S_H2 || s->writing)
		return;
	r = nghttp2_session_send(s->h2);
	if (r == NGHTTP2_ERR_NOMEM) {
		fail(s, -ENOMEM, "out of memory");
		return;
	}
	if (r < 0) {
		fail(s, -EPROTO, "HTTP/2: %s", nghttp2_strerror(r));
		return;
	}
	if (s->out_len > 0) {
		write_out(s);
	} else if (!nghttp2_session_want_read(s->h2) && !nghttp2_session_want_write(s->h2)) {
		if (s->goaway >= 0)
			fail(s, -ECONNRESET, "the engine ended the session (GOAWAY %s)",
			     nghttp2_http2_strerror((uint32_t)s->goaway));
		else
			fail(s, -EPROTO, "the HTTP/2 session ended");
	}
}

/* The outcome of an answer submitted outside nghttp2's callbacks. */
void bksession_answered(struct bksession *s, int r)
{
	if (r < 0 && nghttp2_is_fatal(r))
		fail(s, r == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EPROTO, "HTTP/2: %s",
		     nghttp2_strerror(r));
	else
		flush(s);
}

static ssize_t send_cb(nghttp2_session *h2, const uint8_t *data, size_t len, int flags, void *user)
{
	struct bksession *s = user;
	size_t room = OUT_MAX - s->out_len;

	(void)h2;
	(void)flags;
	if (room == 0)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (len > room)
		len = room;
	memcpy(s->out + s->out_len, data, len);
	s->out_len += len;
	return (ssize_t)len;
}

/* A DATA frame of an answer, copied whole from the call's buffer (NGHTTP2_DATA_FLAG_NO_COPY). */
static int send_data_cb(nghttp2_session *h2, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t len, nghttp2_data_source *src, void *user)
{
	struct bksession *s = user;
	struct call *c = src->ptr;
	size_t pad = frame->data.padlen, need = 9 + pad + len;

	(void)h2;
	if (OUT_MAX - s->out_len < need)
		return NGHTTP2_ERR_WOULDBLOCK;
	memcpy(s->out + s->out_len, framehd, 9);
	s->out_len += 9;
	if (pad)
		s->out[s->out_len++] = (uint8_t)(pad - 1);
	memcpy(s->out + s->out_len, c->resp.p + c->sent, len);
	s->out_len += len;
	c->sent += len;
	if (pad > 1) {
		memset(s->out + s->out_len, 0, pad - 1);
		s->out_len += pad - 1;
	}
	return 0;
}

/* ---- HTTP/2 input: nghttp2's callbacks ---- */

static bool is_request(const nghttp2_frame *f)
{
	return f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST;
}

static int begin_headers_cb(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
	struct bksession *s = user;
	struct call *c;

	if (!is_request(f))
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
	c->s = s;
	c->stream = f->hd.stream_id;
	c->in.max = REQ_MSG_MAX;
	c->next = s->calls;
	s->calls = c;
	nghttp2_session_set_stream_user_data(h2, c->stream, c);
	return 0;
}

static int header_cb(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
	struct call *c = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	size_t n = valuelen < PATH_LEN - 1 ? valuelen : PATH_LEN - 1;

	(void)flags;
	(void)user;
	if (!c || !is_request(f) || namelen != 5 || memcmp(name, ":path", 5))
		return 0;
	memcpy(c->path, value, n); /* cut short, it matches no method */
	c->path[n] = '\0';
	return 0;
}

static int data_chunk_cb(nghttp2_session *h2, uint8_t flags, int32_t stream, const uint8_t *data,
                         size_t len, void *user)
{
	struct call *c = nghttp2_session_get_stream_user_data(h2, stream);

	(void)flags;
	(void)user;
	if (c && !c->dispatched)
		grpcmsg_in_feed(&c->in, data, len); /* an error is kept for dispatch */
	return 0;
}

static int frame_recv_cb(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
	struct bksession *s = user;
	struct call *c;
	int r;

	if (f->hd.type == NGHTTP2_GOAWAY) {
		s->goaway = (int32_t)(f->goaway.error_code & 0x7fffffff);
		return 0;
	}
	if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	c = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (!c || c->dispatched)
		return 0;
	r = bksession_dispatch(s, c);
	if (r < 0 && nghttp2_is_fatal(r)) {
		s->h2_nomem = r == NGHTTP2_ERR_NOMEM;
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int stream_close_cb(nghttp2_session *h2, int32_t stream, uint32_t code, void *user)
{
	struct bksession *s = user;
	struct call *c = nghttp2_session_get_stream_user_data(h2, stream), **p;

	(void)code;
	if (!c)
		return 0;
	if (c->lookup || !c->dispatched) /* reset by the engine before our answer */
		s->stats.cancelled++;
	for (p = &s->calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	bksession_call_free(s, c);
	return 0;
}

static int h2_new(struct bksession *s)
{
	nghttp2_session_callbacks *cb;
	int r;

	if (nghttp2_session_callbacks_new(&cb) < 0)
		return -ENOMEM;
	nghttp2_session_callbacks_set_send_callback(cb, send_cb);
	nghttp2_session_callbacks_set_send_data_callback(cb, send_data_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data_chunk_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, frame_recv_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, stream_close_cb);
	r = nghttp2_session_server_new(&s->h2, cb, s);
	nghttp2_session_callbacks_del(cb);
	return r < 0 ? -ENOMEM : 0;
}

/* ---- the connection and the answer to the upgrade ---- */

static void feed_h2(struct bksession *s, const uint8_t *data, size_t len)
{
	ssize_t r = len ? nghttp2_session_mem_recv(s->h2, data, len) : 0;

	if (r < 0 && s->h2_nomem)
		fail(s, -ENOMEM, "out of memory");
	else if (r < 0)
		fail(s, -EPROTO, "HTTP/2 from the engine: %s", nghttp2_strerror((int)r));
	else
		flush(s);
}

/* The 101: our SETTINGS go first (RFC 7540 3.5), then the bytes that came with the head. */
static void become_h2(struct bksession *s, const uint8_t *rest, size_t len)
{
	const nghttp2_settings_entry iv[] = {
	        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS}};

	uv_timer_stop(&s->timer);
	s->state = S_H2;
	s->stats.ready_ms = bksession_elapsed_ms(s);
	if (nghttp2_submit_settings(s->h2, NGHTTP2_FLAG_NONE, iv, 1) < 0) {
		fail(s, -ENOMEM, "out of memory");
		return;
	}
	feed_h2(s, rest, len);
	if (s->state != S_H2)
		return;
	log_debug("bksession %s: ready after %llu ms", s->id,
	          (unsigned long long)s->stats.ready_ms);
	s->ready_done = true;
	s->ready_cb(s, 0, NULL, s->arg);
}

/* The value of header name in the head, or NULL. */
static const char *header_find(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':')
			return p + 3 + n + strspn(p + 3 + n, " \t");
	return NULL;
}

static long content_length(const char *head)
{
	const char *v = header_find(head, "Content-Length");

	return v ? strtol(v, NULL, 10) : -1;
}

static bool chunked(const char *head)
{
	const char *v = header_find(head, "Transfer-Encoding");

	return v && !strncasecmp(v, "chunked", 7);
}

/* The message of an error body: JSON {"message"} (dockerd), else its printable text. */
static void body_message(const char *body, size_t len, char *buf, size_t buflen)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	size_t o = 0;

	if (m) {
		snprintf(buf, buflen, "%s", m);
	} else {
		for (size_t i = 0; i < len && o + 1 < buflen; i++)
			buf[o++] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : ' ';
		while (o > 0 && buf[o - 1] == ' ')
			o--;
		buf[o] = '\0';
	}
	json_decref(j);
}

/* Any answer but 101, once its body (or what fits) is in. */
static void refused(struct bksession *s)
{
	const char *body = s->head + s->head_end;
	size_t len = s->head_len - s->head_end;
	char msg[ERR_BODY_MAX + 1];
	int status = atoi(s->head + 9);

	if (chunked(s->head)) {
		const char *e = memmem(body, len, "\r\n", 2); /* the first chunk is enough */
		if (e) {
			len -= (size_t)(e + 2 - body);
			body = e + 2;
		}
	}
	body_message(body, len < ERR_BODY_MAX ? len : ERR_BODY_MAX, msg, sizeof(msg));
	fail(s, status == 404 ? -EOPNOTSUPP : -EPROTO,
	     "the engine answered %d to POST /session%s%s", status, *msg ? ": " : "", msg);
}

/* Bytes before the 101 is complete: the head may come in pieces, with HTTP/2 bytes behind it. */
static void on_head_bytes(struct bksession *s, const uint8_t *data, size_t len)
{
	size_t old = s->head_len, take = len < HEAD_MAX - old ? len : HEAD_MAX - old;
	const char *e;
	long cl;

	memcpy(s->head + old, data, take);
	s->head_len += take;
	s->head[s->head_len] = '\0';
	if (!s->head_end) {
		e = memmem(s->head, s->head_len, "\r\n\r\n", 4);
		if (!e && s->head_len == HEAD_MAX) {
			fail(s, -EPROTO, "the engine's answer to POST /session has no end");
			return;
		}
		if (!e)
			return;
		s->head_end = (size_t)(e + 4 - s->head);
		if (strncmp(s->head, "HTTP/1.", 7) || s->head_end < 12) {
			fail(s, -EPROTO, "the engine's answer to POST /session is not HTTP");
			return;
		}
		if (!strncmp(s->head + 8, " 101", 4)) {
			become_h2(s, data + (s->head_end - old), len - (s->head_end - old));
			return;
		}
	}
	cl = content_length(s->head);
	if (s->head_len == HEAD_MAX ||
	    (cl >= 0 &&
	     s->head_len - s->head_end >= (size_t)(cl < ERR_BODY_MAX ? cl : ERR_BODY_MAX)) ||
	    (s->head_len >= 5 && !memcmp(s->head + s->head_len - 5, "0\r\n\r\n", 5)))
		refused(s);
}

static void read_cb(void *arg, ssize_t n, const char *why)
{
	struct bksession *s = arg;

	if (s->state == S_DEAD || n == 0)
		return;
	if (n == UV_EOF && s->state == S_UPGRADING && s->head_end)
		refused(s);
	else if (n == UV_EOF && s->state == S_UPGRADING)
		fail(s, -ECONNRESET,
		     "the engine closed the connection before answering POST /session");
	else if (n == UV_EOF)
		fail(s, -ECONNRESET, "the engine closed the session");
	else if (n < 0)
		fail(s, (int)n, "reading from the engine: %s", why ? why : uv_strerror((int)n));
	else if (s->state == S_UPGRADING)
		on_head_bytes(s, s->rbuf, (size_t)n);
	else
		feed_h2(s, s->rbuf, (size_t)n);
}

static void connected_cb(void *arg, int status, const char *why)
{
	struct bksession *s = arg;

	if (s->state == S_DEAD)
		return;
	if (status < 0) {
		fail(s, status, "connecting to %s: %s", s->peer, why);
		return;
	}
	s->state = S_UPGRADING;
	write_out(s); /* the upgrade request, built by bksession_open */
}

static const struct bktransport_cbs transport_cbs = {connected_cb, read_cb, written_cb,
                                                     transport_closed_cb};

static int connect_start(struct bksession *s, const struct bksession_opts *o)
{
	struct bktransport_opts to = {.host = o->engine_host,
	                              .tls_ca = o->tls_ca,
	                              .tls_cert = o->tls_cert,
	                              .tls_key = o->tls_key,
	                              .timeout_ms = s->timeout_ms,
	                              .rbuf = s->rbuf,
	                              .rbuf_len = sizeof(s->rbuf)};

	return bktransport_open(s->loop, &to, &transport_cbs, s, &s->tr);
}

static void timeout_cb(uv_timer_t *t)
{
	struct bksession *s = t->data;

	fail(s, -ETIMEDOUT, "%s within %llu ms",
	     s->state == S_CONNECTING ? "no connection to the engine"
	                              : "no answer from the engine to POST /session",
	     (unsigned long long)s->timeout_ms);
}

int bksession_open(uv_loop_t *loop, const struct bksession_opts *o, bksession_ready_cb ready_cb,
                   bksession_closed_cb closed_cb, void *arg, struct bksession **ret)
{
	struct bksession *s = NULL;
	int r = check_opts(o);

	if (r == 0 && !ready_cb)
		r = -EINVAL;
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->creds = o->creds;
	s->ready_cb = ready_cb;
	s->closed_cb = closed_cb;
	s->arg = arg;
	s->goaway = -1;
	s->t0_ns = uv_hrtime();
	s->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (o->id)
		snprintf(s->id, sizeof(s->id), "%s", o->id);
	else
		r = random_id(s->id);
	if (r == 0)
		r = copy_secrets(s, o);
	if (r == 0 && !(s->peer = strdup(o->engine_host + (o->engine_host[0] == 'u' ? 7 : 6))))
		r = -ENOMEM;
	if (r == 0)
		r = build_request(s, o);
	if (r == 0)
		r = h2_new(s);
	if (r == 0)
		r = connect_start(s, o);
	if (r < 0)
		goto out;
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	s->open = 2;
	uv_timer_start(&s->timer, timeout_cb, s->timeout_ms, 0);
	*ret = s;
	s = NULL;
out:
	if (s)
		final_free(s);
	return r;
}

const char *bksession_id(const struct bksession *s)
{
	return s->id;
}

const struct bksession_stats *bksession_stats(const struct bksession *s)
{
	return &s->stats;
}
