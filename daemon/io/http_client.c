#include "http_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define HEADERS_MAX     (64u << 10)
#define DEFAULT_BODYMAX (4u << 20)

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	uv_timer_t watchdog; /* idle limits; curl's own low-speed check is too coarse */
	size_t active;
	bool closing;
	unsigned open_handles;         /* timer + polls still to be closed */
	struct http_request *requests; /* in flight, for close */
	struct sock_ctx *socks;        /* watched sockets, for close */
};

/* A connect-only connection (CURLOPT_CONNECT_ONLY) in a client of its own: see below. */
struct http_tunnel {
	struct http_client *c; /* private: its multi holds this connection only */
	struct http_request *r;
	struct sock_ctx *sock;          /* the connection's poll, taken over from curl */
	bool connecting, tls, received; /* received: a byte came through it */
	http_tunnel_cb connect_cb;
	http_tunnel_io_cb io_cb;
	void *arg;
	char error[CURL_ERROR_SIZE];
};

struct sock_ctx {
	uv_poll_t poll;
	struct http_client *c;
	curl_socket_t fd;
	struct sock_ctx *prev, *next;
	struct http_tunnel *tunnel; /* set once a tunnel owns this socket: curl no longer does */
};

struct http_request {
	struct http_client *c;
	struct http_request *prev, *next;
	CURL *easy;
	struct curl_slist *hdrs;
	http_done_cb cb;
	void *arg;
	http_read_cb read_cb;
	http_data_cb data_cb;
	void *stream_arg;
	char *body;
	size_t body_len, body_cap, max_body;
	char *headers;
	size_t headers_len;
	int abort_error;    /* set when we stopped the transfer ourselves */
	bool resume_failed; /* curl_easy_pause() failed: the watchdog ends the request */
	uint64_t started;
	uint64_t idle_ms, last_progress;
	char errbuf[CURL_ERROR_SIZE];
	char tlsbuf[CURL_ERROR_SIZE]; /* with tls_detail: the last TLS library error */
	bool tls_verified;            /* with tls_detail: the server's certificate was verified */
	void (*lost_cb)(bool broken, void *arg);
	void *lost_arg;
	struct http_tunnel *tunnel; /* a connect-only request: see the tunnels below */
};

static void close_poll_cb(uv_handle_t *h);

static void request_free(struct http_request *r)
{
	if (!r)
		return;
	if (r->easy) {
		curl_multi_remove_handle(r->c->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->c->active--;
		if (r->prev)
			r->prev->next = r->next;
		else
			r->c->requests = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
	curl_slist_free_all(r->hdrs);
	free(r->body);
	free(r->headers);
	free(r);
}

static int map_error(struct http_request *r, CURLcode rc)
{
	long os_errno = 0;

	if (r->abort_error)
		return r->abort_error;
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno);
		return os_errno ? -(int)os_errno : -ECONNREFUSED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return -EPROTO;
	case CURLE_FILE_COULDNT_READ_FILE:
		return -ENOENT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Tells the owner that its peer is gone (true) or did not keep time (false). */
static void report_lost(struct http_request *r, CURLcode rc)
{
	bool broken;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		broken = true;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		broken = false;
		break;
	default:
		return;
	}
	if (r->abort_error && r->abort_error != -ETIMEDOUT)
		return; /* stopped by our own side: a body limit, a callback */
	r->lost_cb(broken, r->lost_arg);
}

/* Why the transfer failed, in the transport's words: the peer's TLS alert when we have it. */
static const char *error_text(const struct http_request *r, CURLcode rc)
{
	if (r->abort_error == -EMSGSIZE)
		return "response body over the size limit";
	if (r->abort_error == -ETIMEDOUT)
		return "no data moved within the idle time limit";
	if (rc && r->tlsbuf[0])
		return r->tlsbuf;
	if (r->tls_verified &&
	    (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING))
		/* the peer hung up before its TLS alert could be read */
		return "the peer closed the connection right after the TLS handshake: "
		       "it did not accept the client certificate (tls_cert, tls_key)";
	return r->errbuf[0] ? r->errbuf : (rc ? curl_easy_strerror(rc) : "");
}

static void tunnel_connected(struct http_request *r, CURLcode rc);

static void finish(struct http_request *r, CURLcode rc)
{
	struct http_response resp = {0};

	if (r->tunnel) {
		tunnel_connected(r, rc);
		return;
	}
	if (r->lost_cb)
		report_lost(r, rc);

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
	resp.error = map_error(r, rc);
	resp.error_msg = error_text(r, rc);
	resp.body = r->body ? r->body : "";
	resp.body_len = r->body_len;
	resp.headers = r->headers ? r->headers : "";
	resp.elapsed_ms = uv_now(r->c->loop) - r->started;
	r->cb(&resp, r->arg);
	request_free(r);
}

static void check_done(struct http_client *c)
{
	CURLMsg *m;
	int left;

	/* a tunnel's callback may close its private client: no multi after that */
	while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
		struct http_request *r;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		finish(r, m->data.result);
	}
}

static void tunnel_io(struct http_tunnel *t, int status, int events);

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct sock_ctx *s = (struct sock_ctx *)p;
	int flags = 0, running;

	if (s->tunnel) {
		tunnel_io(s->tunnel, status, events);
		return;
	}
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->c->multi, s->fd, flags, &running);
	check_done(s->c);
}

static void timer_cb(uv_timer_t *t)
{
	struct http_client *c = t->data;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

/* Every 250 ms: fails requests that moved no byte for their idle limit. */
static void watchdog_cb(uv_timer_t *t)
{
	struct http_client *c = t->data;
	uint64_t now = uv_now(c->loop);
	struct http_request *r = c->requests, *next;

	if (!r) {
		uv_timer_stop(t);
		return;
	}
	for (; r; r = next) {
		next = r->next;
		if (r->tunnel && !r->tunnel->connecting)
			continue; /* its bytes go past curl: their owner keeps time */
		if (r->resume_failed) {
			finish(r, CURLE_WRITE_ERROR);
		} else if (now - r->last_progress > r->idle_ms) {
			r->abort_error = -ETIMEDOUT;
			finish(r, CURLE_OPERATION_TIMEDOUT);
		}
	}
}

static int start_timeout(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

static void close_poll_cb(uv_handle_t *h)
{
	struct sock_ctx *s = (struct sock_ctx *)h;
	struct http_client *c = s->c;

	free(s);
	if (--c->open_handles == 0 && c->closing)
		free(c);
}

static void sock_close(struct sock_ctx *s)
{
	struct http_client *c = s->c;

	if (s->prev)
		s->prev->next = s->next;
	else
		c->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, close_poll_cb);
}

static int handle_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct sock_ctx *s = socketp;
	int events = 0;

	(void)easy;
	if (s && s->tunnel && action != CURL_POLL_REMOVE)
		return 0; /* the tunnel's owner watches it now */
	if (action == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(c->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || uv_poll_init_socket(c->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->c = c;
		s->fd = fd;
		s->next = c->socks;
		if (c->socks)
			c->socks->prev = s;
		c->socks = s;
		c->open_handles++;
		curl_multi_assign(c->multi, fd, s);
	}
	if (action != CURL_POLL_OUT)
		events |= UV_READABLE;
	if (action != CURL_POLL_IN)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, poll_cb);
	return 0;
}

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

int http_client_new(uv_loop_t *loop, struct http_client **ret)
{
	struct http_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return -ENOMEM;
	}
	uv_timer_init(loop, &c->timer);
	uv_timer_init(loop, &c->watchdog);
	c->timer.data = c;
	c->watchdog.data = c;
	c->open_handles = 2;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, handle_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, start_timeout);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*ret = c;
	return 0;
}

static void close_timer_cb(uv_handle_t *h)
{
	struct http_client *c = h->data;

	if (--c->open_handles == 0)
		free(c);
}

void http_client_close(struct http_client *c)
{
	if (!c)
		return;
	c->closing = true;
	while (c->requests)
		request_free(c->requests);
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	/* Sockets curl did not report as removed (its connection cache). */
	while (c->socks)
		sock_close(c->socks);
	uv_timer_stop(&c->timer);
	uv_timer_stop(&c->watchdog);
	uv_close((uv_handle_t *)&c->timer, close_timer_cb);
	uv_close((uv_handle_t *)&c->watchdog, close_timer_cb);
}

static size_t header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_request *r = arg;
	size_t len = size * n;
	char *grown;

	r->last_progress = uv_now(r->c->loop);
	if (len >= 5 && !strncmp(data, "HTTP/", 5))
		r->headers_len = 0; /* a new response (redirect, 100 Continue) */
	if (r->headers_len + len + 1 > HEADERS_MAX)
		return 0;
	grown = realloc(r->headers, r->headers_len + len + 1);
	if (!grown)
		return 0;
	r->headers = grown;
	memcpy(r->headers + r->headers_len, data, len);
	r->headers_len += len;
	r->headers[r->headers_len] = '\0';
	return len;
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_request *r = arg;
	size_t len = size * n, cap;
	char *grown;

	r->last_progress = uv_now(r->c->loop);
	if (r->data_cb) {
		int rc = r->data_cb(data, len, r->stream_arg);
		if (rc == HTTP_DATA_PAUSE)
			return CURL_WRITEFUNC_PAUSE; /* curl keeps the chunk and redelivers it */
		return rc ? 0 : len;
	}
	if (r->body_len + len > r->max_body) {
		r->abort_error = -EMSGSIZE;
		return 0;
	}
	if (r->body_len + len + 1 > r->body_cap) {
		cap = r->body_cap ? r->body_cap : 4096;
		while (cap < r->body_len + len + 1)
			cap *= 2;
		grown = realloc(r->body, cap);
		if (!grown) {
			r->abort_error = -ENOMEM;
			return 0;
		}
		r->body = grown;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct http_request *r = arg;
	size_t got = r->read_cb(buf, size * n, r->stream_arg);

	if (got != HTTP_READ_PAUSE)
		r->last_progress = uv_now(r->c->loop);
	if (got == HTTP_READ_PAUSE)
		return CURL_READFUNC_PAUSE;
	if (got == HTTP_READ_ABORT) {
		r->abort_error = -ECANCELED;
		return CURL_READFUNC_ABORT;
	}
	return got;
}

static int set_body(struct http_request *r, const struct http_request_opts *o)
{
	CURL *e = r->easy;

	if (o->read_cb) {
		/* POST with a read callback and an unknown size goes out chunked
		 * (CURLOPT_UPLOAD would turn the request into a PUT). */
		r->read_cb = o->read_cb;
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		r->hdrs = curl_slist_append(r->hdrs, "Transfer-Encoding: chunked");
		return r->hdrs ? 0 : -ENOMEM;
	}
	if (o->body || (o->method && !strcmp(o->method, "POST"))) {
		/* copied: callers may free their body once the request started */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body ? o->body : "");
	}
	return 0;
}

static int set_headers(struct http_request *r, const struct http_request_opts *o)
{
	/* curl adds "Expect: 100-continue" to big bodies; engines don't need it. */
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	for (size_t i = 0; r->hdrs && o->headers && o->headers[i]; i++)
		r->hdrs = curl_slist_append(r->hdrs, o->headers[i]);
	return r->hdrs ? 0 : -ENOMEM;
}

static void set_limits(struct http_request *r, const struct http_request_opts *o)
{
	CURL *e = r->easy;
	uint64_t timeout = o->timeout_ms ? o->timeout_ms : (o->data_cb ? 0 : 60000);
	uint64_t idle = o->idle_timeout_ms ? o->idle_timeout_ms : 30000;

	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	r->idle_ms = idle;
	r->last_progress = uv_now(r->c->loop);
	r->max_body = o->max_body ? o->max_body : DEFAULT_BODYMAX;
}

/* With tls_detail: keeps the last line of curl's text that carries a TLS alert from the peer. */
static int tls_debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct http_request *r = arg;
	size_t n = size < sizeof(r->tlsbuf) ? size : sizeof(r->tlsbuf) - 1;

	(void)h;
	if (type == CURLINFO_TEXT && memmem(data, size, "SSL certificate verify ok", 25))
		r->tls_verified = true;
	/* the peer's TLS alert ("alert bad certificate", "alert unknown ca"); not the
	 * local library's complaints about a connection the peer already closed */
	if (type != CURLINFO_TEXT || !memmem(data, size, "SSL routines", 12) ||
	    !memmem(data, size, " alert ", 7))
		return 0;
	memcpy(r->tlsbuf, data, n);
	while (n && (r->tlsbuf[n - 1] == '\n' || r->tlsbuf[n - 1] == '\r'))
		n--;
	r->tlsbuf[n] = '\0';
	return 0;
}

static int configure(struct http_request *r, const struct http_request_opts *o)
{
	CURL *e = r->easy;
	const char *m = o->method ? o->method : "GET";

	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, o->follow_redirects ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "refit/" REFIT_VERSION);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	if (o->unix_socket)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
	if (o->tls_ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->tls_ca);
	if (o->tls_cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, o->tls_cert);
	if (o->tls_key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, o->tls_key);
	if (o->tls_detail) {
		curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, tls_debug_cb);
		curl_easy_setopt(e, CURLOPT_DEBUGDATA, r);
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	}
	if (!strcmp(m, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "GET") && strcmp(m, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	set_limits(r, o);
	if (set_headers(r, o) < 0 || set_body(r, o) < 0)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	return 0;
}

/* Options of a tunnel: the connection only, HTTP/1.1 offered in ALPN (what goes through it),
 * TCP keepalive so that an engine gone without a word is noticed. */
static int configure_tunnel(struct http_request *r, const struct http_request_opts *o)
{
	CURL *e = r->easy;

	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	return 0;
}

static int request_start(struct http_client *c, const struct http_request_opts *o, http_done_cb cb,
                         void *arg, struct http_tunnel *tunnel, struct http_request **ret)
{
	struct http_request *r;

	if (c->closing || !o->url)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->c = c;
	r->cb = cb;
	r->arg = arg;
	r->tunnel = tunnel;
	r->lost_cb = o->lost_cb;
	r->lost_arg = o->lost_arg;
	r->data_cb = o->data_cb;
	r->stream_arg = o->stream_arg;
	r->started = uv_now(c->loop);
	r->easy = curl_easy_init();
	if (!r->easy || configure(r, o) < 0 || (tunnel && configure_tunnel(r, o) < 0) ||
	    curl_multi_add_handle(c->multi, r->easy)) {
		if (r->easy)
			curl_easy_cleanup(r->easy);
		r->easy = NULL;
		request_free(r);
		return -ENOMEM;
	}
	if (!c->requests)
		uv_timer_start(&c->watchdog, watchdog_cb, 250, 250);
	c->active++;
	r->next = c->requests;
	if (c->requests)
		c->requests->prev = r;
	c->requests = r;
	if (ret)
		*ret = r;
	return 0;
}

int http_request_start(struct http_client *c, const struct http_request_opts *o, http_done_cb cb,
                       void *arg, struct http_request **ret)
{
	return request_start(c, o, cb, arg, NULL, ret);
}

void http_request_cancel(struct http_request *r)
{
	request_free(r);
}

void http_request_resume(struct http_request *r)
{
	/* Unpausing makes curl deliver what it held to write_cb right here. If that
	 * callback aborts, curl returns the error but does not end the transfer nor
	 * wake the multi handle for it: end it from the watchdog instead. */
	r->last_progress = uv_now(r->c->loop);
	if (curl_easy_pause(r->easy, CURLPAUSE_CONT) != CURLE_OK && !r->resume_failed) {
		r->resume_failed = true;
		if (!r->abort_error)
			r->abort_error = -EIO;
	}
}

const char *http_response_header(const struct http_response *resp, const char *name, char *buf,
                                 size_t len)
{
	size_t nl = strlen(name);
	const char *p = resp->headers, *found = NULL;

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncasecmp(p, name, nl) && p[nl] == ':')
			found = p + nl + 1; /* the last one wins */
	if (!found || !len)
		return NULL;
	found += strspn(found, " \t");
	size_t vl = strcspn(found, "\r\n");
	while (vl > 0 && (found[vl - 1] == ' ' || found[vl - 1] == '\t'))
		vl--;
	if (vl >= len)
		vl = len - 1;
	memcpy(buf, found, vl);
	buf[vl] = '\0';
	return buf;
}

char *http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

size_t http_client_active(const struct http_client *c)
{
	return c->active;
}

/* ---- tunnels ----
 *
 * A tunnel is a connect-only transfer: curl resolves, connects and does the
 * TLS handshake (with the options of every request), then stops, and the
 * owner moves its own bytes with curl_easy_send / curl_easy_recv, which go
 * through curl's TLS. Each tunnel has a client of its own, for two reasons:
 * a connect-only transfer that is done keeps its socket registered with the
 * multi handle (a shared one would wake up on it, writable, forever), and
 * only a connection cache of its own cannot close it to make room. The
 * easy handle stays in that multi until the end: removing it closes the
 * connection. Once connected, the socket's uv_poll is the tunnel's.
 */

static void tunnel_unused_cb(const struct http_response *resp, void *arg)
{
	(void)resp;
	(void)arg;
}

static struct sock_ctx *sock_of(struct http_client *c, curl_socket_t fd)
{
	struct sock_ctx *s;

	for (s = c->socks; s; s = s->next)
		if (s->fd == fd)
			return s;
	s = calloc(1, sizeof(*s)); /* curl never reported it: watch it ourselves */
	if (!s || uv_poll_init_socket(c->loop, &s->poll, fd) < 0) {
		free(s);
		return NULL;
	}
	s->c = c;
	s->fd = fd;
	s->next = c->socks;
	if (c->socks)
		c->socks->prev = s;
	c->socks = s;
	c->open_handles++;
	return s;
}

/* The connect-only transfer ended: connected (the socket becomes ours), or not. */
static void tunnel_connected(struct http_request *r, CURLcode rc)
{
	struct http_tunnel *t = r->tunnel;
	curl_socket_t fd = CURL_SOCKET_BAD;
	int err = map_error(r, rc);

	t->connecting = false;
	snprintf(t->error, sizeof(t->error), "%s", error_text(r, rc));
	if (!err && (curl_easy_getinfo(r->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	             fd == CURL_SOCKET_BAD || !(t->sock = sock_of(t->c, fd)))) {
		err = -EIO;
		snprintf(t->error, sizeof(t->error), "the connection has no socket");
	}
	if (err) {
		t->connect_cb(t, err, t->error, t->arg);
		return;
	}
	uv_timer_stop(&t->c->watchdog);
	uv_poll_stop(&t->sock->poll);
	t->sock->tunnel = t;
	curl_easy_setopt(r->easy, CURLOPT_VERBOSE, 0L); /* tls_detail's, for the handshake */
	t->error[0] = '\0';
	t->connect_cb(t, 0, NULL, t->arg);
}

static void tunnel_io(struct http_tunnel *t, int status, int events)
{
	if (status < 0)
		snprintf(t->error, sizeof(t->error), "%s", uv_strerror(status));
	t->io_cb(t, status, events, t->arg);
}

int http_tunnel_open(uv_loop_t *loop, const struct http_tunnel_opts *o, http_tunnel_cb cb,
                     void *arg, struct http_tunnel **ret)
{
	struct http_request_opts ro = {.url = o->url,
	                               .tls_ca = o->tls_ca,
	                               .tls_cert = o->tls_cert,
	                               .tls_key = o->tls_key,
	                               .tls_detail = o->tls_ca || o->tls_cert,
	                               .timeout_ms = o->timeout_ms ? o->timeout_ms : 10000};
	struct http_tunnel *t;
	int r;

	if (!o->url || !cb)
		return -EINVAL;
	ro.idle_timeout_ms = ro.timeout_ms + 1000; /* curl's own limit comes first */
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->connect_cb = cb;
	t->arg = arg;
	t->connecting = true;
	t->tls = !strncmp(o->url, "https:", 6);
	r = http_client_new(loop, &t->c);
	if (r == 0)
		r = request_start(t->c, &ro, tunnel_unused_cb, NULL, t, &t->r);
	if (r < 0) {
		http_client_close(t->c);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

int http_tunnel_watch(struct http_tunnel *t, int events, http_tunnel_io_cb cb)
{
	if (!t->sock)
		return -ENOTCONN;
	t->io_cb = cb;
	if (!events)
		return uv_poll_stop(&t->sock->poll);
	return uv_poll_start(&t->sock->poll, events, poll_cb);
}

/* A failed send or receive: an errno, and curl's words in t->error. */
static int tunnel_error(struct http_tunnel *t, CURLcode rc)
{
	snprintf(t->error, sizeof(t->error), "%s",
	         t->r->errbuf[0] ? t->r->errbuf : curl_easy_strerror(rc));
	/* TLS 1.3: the handshake is over for us before the server checks our certificate;
	 * a server that refuses it says so with an alert (then curl's words name it), or
	 * just hangs up */
	if (t->tls && !t->received && (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR) &&
	    !strstr(t->error, " alert "))
		snprintf(t->error, sizeof(t->error),
		         "the peer closed the connection right after the TLS handshake: it did not "
		         "accept the client certificate (tls_cert, tls_key)");
	switch (rc) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL: /* no connection any more */
		return -ENOTCONN;
	default:
		return -EIO;
	}
}

int http_tunnel_send(struct http_tunnel *t, const void *buf, size_t len, size_t *ret_n)
{
	size_t n = 0;
	CURLcode rc;

	if (!t->sock)
		return -ENOTCONN;
	t->r->errbuf[0] = '\0';
	rc = curl_easy_send(t->r->easy, buf, len, &n);
	if (rc == CURLE_AGAIN)
		return -EAGAIN;
	if (rc != CURLE_OK)
		return tunnel_error(t, rc);
	*ret_n = n;
	return 0;
}

int http_tunnel_recv(struct http_tunnel *t, void *buf, size_t len, size_t *ret_n)
{
	size_t n = 0;
	CURLcode rc;

	if (!t->sock)
		return -ENOTCONN;
	t->r->errbuf[0] = '\0';
	rc = curl_easy_recv(t->r->easy, buf, len, &n);
	if (rc == CURLE_AGAIN)
		return -EAGAIN;
	if (rc != CURLE_OK)
		return tunnel_error(t, rc);
	t->received = t->received || n > 0;
	*ret_n = n;
	return 0;
}

const char *http_tunnel_error(const struct http_tunnel *t)
{
	return t->error;
}

void http_tunnel_close(struct http_tunnel *t)
{
	if (!t)
		return;
	if (t->sock) {
		t->sock->tunnel = NULL; /* curl's again, to close */
		uv_poll_stop(&t->sock->poll);
	}
	http_client_close(t->c); /* removes the handle: curl closes the connection */
	free(t);
}
