#include "engine_archive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "base64.h"
#include "engine.h"
#include "http_client.h"
#include "log.h"
#include "wallclock.h"

#define SOCK_BUF      (256 << 10) /* the kernel doubles it (and caps it at net.core.wmem_max) */
#define READ_BLOCK    (64 << 10)
#define GET_TIMEOUT   (60ULL * 60 * 1000)
#define GET_IDLE      60000
#define IMAGE_MAX     512
#define WALK_PATH_MAX 1024

/*
 * What runs next (or, while req is set, what req is). Every completion (a
 * request, the worker, the poll handle's close) calls advance(), which starts
 * the next step only once nothing else is in flight.
 */
enum step { A_CREATE, A_HEAD, A_GET, A_REMOVE, A_END };

struct owned {
	char *path, *data;
};

struct engine_archive {
	uv_loop_t *loop;
	struct engine *e;
	struct http_request *req;
	engine_archive_cb cb;
	void *arg;
	engine_archive_filter filter;
	void *filter_arg;
	struct engine_archive_limits lim;
	char image[IMAGE_MAX], name[64];
	char **paths;
	size_t n_paths, cur;
	enum step step;
	int status;
	char error[IMAGE_MAX + WALK_PATH_MAX + 512];
	bool cancelled, remove_sent, in_cb;

	/* The loop's end of the current path's stream. */
	int wfd;
	uv_poll_t poll;
	bool poll_open, poll_active, poll_closing, paused, get_done;
	char *spill; /* what the socket did not take of a consumed chunk */
	size_t spill_len, spill_off;
	uint64_t streamed, pauses, spills; /* for the debug log */

	/* Shared with the worker: filter_off under lock, the rest handed over by uv_queue_work. */
	uv_mutex_t lock;
	bool filter_off;
	uv_work_t work;
	bool working;
	int rfd, wstatus;
	char prefix[WALK_PATH_MAX], werr[512];
	struct engine_archive_entry *entries;
	struct owned *owned;
	size_t n, cap;
	uint64_t headers, kept_bytes;
};

static void advance(struct engine_archive *a);

static void fail(struct engine_archive *a, int status, const char *what)
{
	if (a->status)
		return; /* the first failure is the one to report */
	a->status = status;
	snprintf(a->error, sizeof(a->error), "%s: %s", a->image, what);
}

static void walk_free(struct engine_archive *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->owned[i].path);
		free(a->owned[i].data);
	}
	free(a->entries);
	free(a->owned);
	for (size_t i = 0; i < a->n_paths; i++)
		free(a->paths[i]);
	free(a->paths);
	free(a->spill);
	uv_mutex_destroy(&a->lock);
	free(a);
}

/* ---- the worker: libarchive reading the socket ---- */

static int grow(struct engine_archive *a)
{
	size_t cap = a->cap ? a->cap * 2 : 64;
	struct engine_archive_entry *e;
	struct owned *o;

	if (a->n < a->cap)
		return 0;
	e = realloc(a->entries, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	a->entries = e;
	o = realloc(a->owned, cap * sizeof(*o));
	if (!o)
		return -ENOMEM;
	a->owned = o;
	a->cap = cap;
	return 0;
}

/* Copies up to max_entry bytes of the current entry; the rest is skipped by the next header. */
static int read_data(struct engine_archive *a, struct archive *ar, struct archive_entry *ent,
                     struct engine_archive_entry *out, char **ret)
{
	la_int64_t size = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1;
	size_t cap =
	        size >= 0 && (uint64_t)size < a->lim.max_entry ? (size_t)size : a->lim.max_entry;
	size_t len = 0;
	la_ssize_t got = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	while (len < cap && (got = archive_read_data(ar, buf + len, cap - len)) > 0)
		len += (size_t)got;
	if (got < 0) {
		snprintf(a->werr, sizeof(a->werr), "the engine's archive could not be read: %s",
		         archive_error_string(ar) ? archive_error_string(ar) : "truncated");
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	out->data = buf;
	out->len = len;
	out->truncated = size < 0 ? len == cap : (uint64_t)size > len;
	*ret = buf;
	return 0;
}

static int keep(struct engine_archive *a, struct archive *ar, struct archive_entry *ent,
                const char *path, bool is_dir)
{
	struct engine_archive_entry *out;
	int r;

	if (a->n >= a->lim.max_kept) {
		snprintf(a->werr, sizeof(a->werr), "more than %zu entries to keep",
		         a->lim.max_kept);
		return -EFBIG;
	}
	if (grow(a) < 0 || !(a->owned[a->n].path = strdup(path)))
		return -ENOMEM;
	out = &a->entries[a->n];
	*out = (struct engine_archive_entry){.path = a->owned[a->n].path, .is_dir = is_dir};
	a->owned[a->n].data = NULL;
	if (archive_entry_filetype(ent) == AE_IFREG &&
	    (r = read_data(a, ar, ent, out, &a->owned[a->n].data)) < 0) {
		free(a->owned[a->n].path);
		return r;
	}
	a->n++;
	a->kept_bytes += strlen(path) + out->len;
	if (a->kept_bytes > a->lim.max_kept_bytes) {
		snprintf(a->werr, sizeof(a->werr), "more than %zu bytes to keep",
		         a->lim.max_kept_bytes);
		return -EFBIG;
	}
	return 0;
}

/* One header: the absolute path, the filter (unless cancelled), then keep or skip. */
static int visit(struct engine_archive *a, struct archive *ar, struct archive_entry *ent)
{
	const char *name = archive_entry_pathname(ent);
	bool is_dir = archive_entry_filetype(ent) == AE_IFDIR, wanted, off;
	char path[ENGINE_ARCHIVE_PATH_MAX];
	int n;

	if (++a->headers > a->lim.max_headers) {
		snprintf(a->werr, sizeof(a->werr), "more than %llu entries",
		         (unsigned long long)a->lim.max_headers);
		return -EFBIG;
	}
	if (!name)
		return 0;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	n = snprintf(path, sizeof(path), "%s%s", a->prefix, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0; /* longer than any path we look for */
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	uv_mutex_lock(&a->lock);
	off = a->filter_off;
	wanted = !off && a->filter(path, is_dir, a->filter_arg);
	uv_mutex_unlock(&a->lock);
	if (off)
		return -ECANCELED;
	return wanted ? keep(a, ar, ent, path, is_dir) : 0;
}

static int read_tar(struct engine_archive *a)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *ent;
	int r = 0, ar_r;

	if (!ar)
		return -ENOMEM;
	archive_read_support_format_tar(ar);
	if (archive_read_open_fd(ar, a->rfd, READ_BLOCK) != ARCHIVE_OK) {
		r = -EIO;
		goto out;
	}
	while (r == 0) {
		ar_r = archive_read_next_header(ar, &ent);
		if (ar_r == ARCHIVE_EOF)
			break;
		if (ar_r < ARCHIVE_WARN) {
			r = -EIO;
			break;
		}
		r = visit(a, ar, ent);
	}
out:
	if (r == -ENOMEM)
		snprintf(a->werr, sizeof(a->werr), "out of memory");
	else if (r == -EIO && !a->werr[0])
		snprintf(a->werr, sizeof(a->werr), "the engine's archive could not be read: %s",
		         archive_error_string(ar) ? archive_error_string(ar) : "no tar");
	archive_read_free(ar); /* does not close the fd */
	return r;
}

static void work_cb(uv_work_t *w)
{
	struct engine_archive *a = w->data;

	a->wstatus = read_tar(a);
	close(a->rfd); /* the loop's next send sees EPIPE: it stops feeding */
	a->rfd = -1;
}

/* ---- the loop's end of the stream ---- */

static void poll_closed(uv_handle_t *h)
{
	struct engine_archive *a = h->data;

	a->poll_closing = false;
	advance(a);
}

/* Ends what the loop feeds: the worker sees EOF. The poll handle goes first
 * (uv_close removes the fd from epoll at once), so the fd number may be reused. */
static void close_stream(struct engine_archive *a)
{
	if (a->poll_open) {
		uv_close((uv_handle_t *)&a->poll, poll_closed);
		a->poll_open = a->poll_active = false;
		a->poll_closing = true;
	}
	if (a->wfd >= 0)
		close(a->wfd);
	a->wfd = -1;
	if (!a->working && a->rfd >= 0) { /* the worker never started */
		close(a->rfd);
		a->rfd = -1;
	}
	free(a->spill);
	a->spill = NULL;
	a->spill_len = a->spill_off = 0;
}

static void watch(struct engine_archive *a);

/* Sends what the socket takes: the number of bytes, 0 when full, -errno when the worker left. */
static ssize_t feed(struct engine_archive *a, const char *buf, size_t len)
{
	ssize_t n = send(a->wfd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return -errno;
}

/* 0 when the spill is gone, 1 when some is left, -errno when the worker left. */
static int flush_spill(struct engine_archive *a)
{
	ssize_t n;

	if (!a->spill_len)
		return 0;
	n = feed(a, a->spill + a->spill_off, a->spill_len);
	if (n < 0)
		return (int)n;
	a->spill_off += (size_t)n;
	a->spill_len -= (size_t)n;
	if (a->spill_len)
		return 1;
	free(a->spill);
	a->spill = NULL;
	a->spill_off = 0;
	return 0;
}

/* http_data_cb: all of a chunk is taken (sent, or the unsent tail kept in the spill) or none. */
static int on_data(const char *chunk, size_t len, void *arg)
{
	struct engine_archive *a = arg;
	ssize_t n;
	int r;

	if (!len)
		return 0;
	if (a->wfd < 0)
		return HTTP_DATA_PAUSE; /* the stream was ended: the request is cancelled soon */
	if (a->streamed + len > a->lim.max_total) {
		fail(a, -EFBIG, "the archive is larger than the limit");
		close_stream(a);
		return HTTP_DATA_PAUSE;
	}
	r = flush_spill(a);
	n = r == 0 ? feed(a, chunk, len) : r;
	if (n < 0) { /* the worker finished or failed: its status tells */
		close_stream(a);
		return HTTP_DATA_PAUSE;
	}
	if (r > 0 || n == 0) {
		a->pauses++;
		a->paused = true;
		watch(a);
		return HTTP_DATA_PAUSE;
	}
	if ((size_t)n < len) {
		if (!(a->spill = malloc(len - (size_t)n))) {
			fail(a, -ENOMEM, "out of memory");
			close_stream(a);
			return HTTP_DATA_PAUSE;
		}
		memcpy(a->spill, chunk + n, len - (size_t)n);
		a->spill_len = len - (size_t)n;
		a->spills++;
		watch(a);
	}
	a->streamed += len;
	return 0;
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct engine_archive *a = p->data;
	int r = flush_spill(a);

	(void)events;
	if (r < 0 || status < 0) {
		close_stream(a);
		return;
	}
	if (r > 0)
		return;
	uv_poll_stop(&a->poll);
	a->poll_active = false;
	if (a->get_done) { /* the response ended while the spill waited */
		close_stream(a);
		return;
	}
	if (a->paused && a->req) {
		a->paused = false;
		http_request_resume(a->req); /* on_data likely runs again from in here */
	}
}

static void watch(struct engine_archive *a)
{
	if (a->poll_open && !a->poll_active) {
		uv_poll_start(&a->poll, UV_WRITABLE, poll_cb);
		a->poll_active = true;
	}
}

/* ---- the steps ---- */

static void next_path(struct engine_archive *a)
{
	a->cur++;
	a->step = A_HEAD;
}

static void after_work_cb(uv_work_t *w, int status)
{
	struct engine_archive *a = w->data;

	(void)status;
	a->working = false;
	if (a->wstatus < 0 && a->wstatus != -ECANCELED)
		fail(a, a->wstatus, a->werr);
	if (a->req) { /* the worker stopped before the response ended */
		http_request_cancel(a->req);
		a->req = NULL;
		next_path(a);
	}
	close_stream(a);
	advance(a);
}

static void removed_quietly(const struct http_response *resp, void *arg)
{
	(void)arg;
	if (resp->error || (resp->status >= 300 && resp->status != 404))
		log_warn("engine: removing a cancelled inventory container failed: %s (HTTP %ld)",
		         resp->error ? resp->error_msg : "refused", resp->status);
}

static void created(struct engine_archive *a, const struct http_response *resp)
{
	a->step = A_HEAD;
	if (resp->error)
		fail(a, resp->error, resp->error_msg);
	else if (resp->status == 404)
		fail(a, -ENOENT, "no such image");
	else if (resp->status >= 300)
		fail(a, -EIO, "the engine refused to create a container");
	if (a->status) /* refused: nothing was created; no answer: it may have been */
		a->step = resp->error ? A_REMOVE : A_END;
}

/*
 * Whether the HEAD's X-Docker-Container-Path-Stat (base64 JSON, the mode as
 * Go's os.FileMode) names something else than a directory or a symlink. Not
 * knowing is not a reason to skip.
 */
static bool not_a_dir(const struct http_response *resp)
{
	char hdr[2048];
	unsigned char raw[1600];
	size_t n = 0;
	json_t *st;
	json_int_t mode;

	if (!http_response_header(resp, "X-Docker-Container-Path-Stat", hdr, sizeof(hdr)) ||
	    base64_decode(hdr, strlen(hdr), false, raw, sizeof(raw), &n) < 0)
		return false;
	st = json_loadb((const char *)raw, n, 0, NULL);
	if (!st)
		return false;
	mode = json_integer_value(json_object_get(st, "mode"));
	json_decref(st);
	return !(mode & (1LL << 31)) && !(mode & (1LL << 27)); /* os.ModeDir, os.ModeSymlink */
}

static void stat_done(struct engine_archive *a, const struct http_response *resp)
{
	if (resp->error) {
		fail(a, resp->error, resp->error_msg);
	} else if (resp->status == 404) {
		log_debug("engine: %s has no %s: skipped", a->image, a->paths[a->cur]);
		next_path(a);
	} else if (resp->status < 300 && not_a_dir(resp)) {
		log_debug("engine: %s in %s is not a directory: skipped", a->paths[a->cur],
		          a->image);
		next_path(a);
	} else if (resp->status >= 300) {
		char msg[WALK_PATH_MAX + 64];
		snprintf(msg, sizeof(msg), "%s: the engine refused the request (HTTP %ld)",
		         a->paths[a->cur], resp->status);
		fail(a, -EIO, msg);
	} else {
		a->step = A_GET;
	}
}

static void get_done(struct engine_archive *a, const struct http_response *resp)
{
	char msg[WALK_PATH_MAX + 64];

	if (resp->error) {
		fail(a, resp->error, resp->error_msg);
	} else if (resp->status >= 300) {
		snprintf(msg, sizeof(msg), "%s: the engine refused the request (HTTP %ld)",
		         a->paths[a->cur], resp->status);
		fail(a, -EIO, msg);
	}
	a->get_done = true;
	if (a->status || !a->spill_len)
		close_stream(a); /* EOF for the worker; else the poll flushes the spill first */
	next_path(a);
}

static void step_cb(const struct http_response *resp, void *arg)
{
	struct engine_archive *a = arg;

	a->req = NULL;
	switch (a->step) {
	case A_CREATE:
		created(a, resp);
		break;
	case A_HEAD:
		stat_done(a, resp);
		break;
	case A_GET:
		get_done(a, resp);
		break;
	default:
		if (resp->error || (resp->status >= 300 && resp->status != 404))
			log_warn("engine: container %s for %s was not removed: %s (HTTP %ld)",
			         a->name, a->image, resp->error ? resp->error_msg : "refused",
			         resp->status);
		a->step = A_END;
		break;
	}
	advance(a);
}

static int start_create(struct engine_archive *a)
{
	static const char *const json_hdr[] = {"Content-Type: application/json", NULL};
	char path[128], *body;
	struct engine_call c = {.method = "POST",
	                        .path = path,
	                        .headers = json_hdr,
	                        .timeout_ms = 60000,
	                        .max_body = 64 << 10};
	json_t *o =
	        json_pack("{s:s,s:[s],s:b,s:{s:s}}", "Image", a->image, "Cmd", "/refit-never-run",
	                  "NetworkDisabled", 1, "Labels", "io.refit.inventory", "1");
	int r;

	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/containers/create?name=%s", a->name);
	c.body = body;
	c.body_len = strlen(body);
	r = engine_call(a->e, &c, step_cb, a, &a->req);
	free(body);
	return r;
}

static int start_archive(struct engine_archive *a, const char *method)
{
	char path[3 * WALK_PATH_MAX + 128], dir[WALK_PATH_MAX + 1], *esc;
	struct engine_call c = {
	        .method = method, .path = path, .timeout_ms = 60000, .max_body = 64 << 10};

	/* HEAD stats the path itself; the GET's trailing slash makes the engine
	 * follow a symlink to a directory (and answer 500 for a file). */
	snprintf(dir, sizeof(dir), "%s%s", a->paths[a->cur], strcmp(method, "GET") ? "" : "/");
	if (!(esc = http_escape(dir)))
		return -ENOMEM;
	snprintf(path, sizeof(path), "/containers/%s/archive?path=%s", a->name, esc);
	free(esc);
	if (!strcmp(method, "GET")) {
		c.data_cb = on_data;
		c.stream_arg = a;
		c.timeout_ms = GET_TIMEOUT;
		c.idle_timeout_ms = GET_IDLE;
	}
	return engine_call(a->e, &c, step_cb, a, &a->req);
}

/* The worker names entries from the walked directory's parent: "/usr/local/" + "lib/...". */
static void set_prefix(struct engine_archive *a)
{
	const char *p = a->paths[a->cur], *slash = strrchr(p, '/');

	snprintf(a->prefix, sizeof(a->prefix), "%.*s", (int)(slash - p + 1), p);
}

/* A socket pair, the poll handle on the loop's end, the worker on the other, then the GET. */
static int start_stream(struct engine_archive *a)
{
	int sv[2], buf = SOCK_BUF, r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	a->rfd = sv[0];
	a->wfd = sv[1];
	(void)setsockopt(a->wfd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	a->get_done = a->paused = false;
	a->wstatus = 0;
	a->werr[0] = '\0';
	set_prefix(a);
	if ((r = uv_poll_init(a->loop, &a->poll, a->wfd)) < 0)
		return r;
	a->poll.data = a;
	a->poll_open = true;
	a->work.data = a;
	if ((r = uv_queue_work(a->loop, &a->work, work_cb, after_work_cb)) < 0)
		return r;
	a->working = true;
	return start_archive(a, "GET");
}

/* A cancelled walk's removal is detached: it outlives the walk, and maybe the engine. */
static int start_remove(struct engine_archive *a)
{
	char path[128];
	struct engine_call c = {.method = "DELETE",
	                        .path = path,
	                        .timeout_ms = 60000,
	                        .max_body = 64 << 10,
	                        .detached = a->cancelled};

	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", a->name);
	a->remove_sent = true;
	return engine_call(a->e, &c, a->cancelled ? removed_quietly : step_cb,
	                   a->cancelled ? NULL : a, a->cancelled ? NULL : &a->req);
}

static void end(struct engine_archive *a)
{
	log_debug("engine: walked %s: %d, %llu bytes streamed (%llu pauses, %llu partial "
	          "sends), %llu entries seen, %zu kept",
	          a->image, a->status, (unsigned long long)a->streamed,
	          (unsigned long long)a->pauses, (unsigned long long)a->spills,
	          (unsigned long long)a->headers, a->n);
	a->in_cb = true; /* a cancel from inside the callback is a no-op */
	if (!a->cancelled)
		a->cb(a->status, a->status ? NULL : a->entries, a->status ? 0 : a->n,
		      a->status ? a->error : NULL, a->arg);
	walk_free(a);
}

static int start_step(struct engine_archive *a)
{
	switch (a->step) {
	case A_HEAD:
		return start_archive(a, "HEAD");
	case A_GET:
		return start_stream(a);
	default:
		return start_remove(a);
	}
}

static void advance(struct engine_archive *a)
{
	int r;

	if (a->req || a->working || a->poll_closing)
		return;
	if (a->poll_open || a->wfd >= 0 || a->rfd >= 0) {
		close_stream(a);
		if (a->poll_closing)
			return; /* poll_closed() comes back here */
	}
	if (a->cancelled) { /* the removal went out with the cancel */
		walk_free(a);
		return;
	}
	if ((a->step == A_HEAD || a->step == A_GET) && (a->status || a->cur == a->n_paths))
		a->step = A_REMOVE;
	if (a->step == A_END) {
		end(a);
		return;
	}
	r = start_step(a);
	if (r < 0) {
		close_stream(a); /* a worker already started must see EOF */
		fail(a, r == -ENOMEM ? r : -EIO, "cannot talk to the engine");
		if (a->step == A_REMOVE)
			log_warn("engine: container %s for %s was not removed", a->name, a->image);
		a->step = a->step == A_REMOVE ? A_END : A_REMOVE;
		advance(a);
	}
}

static int copy_paths(struct engine_archive *a, const char *const *paths)
{
	size_t n = 0, len;

	while (paths[n])
		if (++n > ENGINE_ARCHIVE_MAX_PATHS)
			return -E2BIG;
	if (!(a->paths = calloc(n ? n : 1, sizeof(*a->paths))))
		return -ENOMEM;
	for (a->n_paths = 0; a->n_paths < n; a->n_paths++) {
		const char *p = paths[a->n_paths];
		len = strlen(p);
		while (len > 1 && p[len - 1] == '/')
			len--;
		if (p[0] != '/' || len < 2 || len >= WALK_PATH_MAX)
			return -EINVAL;
		if (!(a->paths[a->n_paths] = strndup(p, len)))
			return -ENOMEM;
	}
	return 0;
}

static void set_limits(struct engine_archive *a, const struct engine_archive_limits *lim)
{
	struct engine_archive_limits l = lim ? *lim : (struct engine_archive_limits){0};

	a->lim.max_total = l.max_total ? l.max_total : ENGINE_ARCHIVE_MAX_TOTAL;
	a->lim.max_entry = l.max_entry ? l.max_entry : ENGINE_ARCHIVE_MAX_ENTRY;
	a->lim.max_kept = l.max_kept ? l.max_kept : ENGINE_ARCHIVE_MAX_KEPT;
	a->lim.max_headers = l.max_headers ? l.max_headers : ENGINE_ARCHIVE_MAX_HEADERS;
	a->lim.max_kept_bytes = l.max_kept_bytes ? l.max_kept_bytes : ENGINE_ARCHIVE_MAX_KEPT_BYTES;
}

static int name_container(struct engine_archive *a)
{
	unsigned char rnd[8];
	int r = uv_random(NULL, NULL, rnd, sizeof(rnd), 0, NULL);

	if (r < 0)
		return r;
	snprintf(a->name, sizeof(a->name), "refit-inventory-%02x%02x%02x%02x%02x%02x%02x%02x",
	         rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	return 0;
}

int engine_archive_walk(uv_loop_t *loop, struct engine *e, const char *image,
                        const char *const *paths, const struct engine_archive_limits *lim,
                        engine_archive_filter filter, void *filter_arg, engine_archive_cb cb,
                        void *arg, struct engine_archive **ret)
{
	struct engine_archive *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->e = e;
	a->cb = cb;
	a->arg = arg;
	a->filter = filter;
	a->filter_arg = filter_arg;
	a->wfd = a->rfd = -1;
	if (uv_mutex_init(&a->lock) < 0) {
		free(a);
		return -ENOMEM;
	}
	set_limits(a, lim);
	r = snprintf(a->image, sizeof(a->image), "%s", image) >= (int)sizeof(a->image) ? -EINVAL
	                                                                               : 0;
	if (r == 0)
		r = copy_paths(a, paths);
	if (r == 0)
		r = name_container(a);
	if (r == 0)
		r = start_create(a);
	if (r < 0) {
		walk_free(a);
		return r;
	}
	if (ret)
		*ret = a;
	return 0;
}

void engine_archive_cancel(struct engine_archive *a)
{
	bool removing;

	if (!a || a->in_cb || a->cancelled)
		return;
	uv_mutex_lock(&a->lock);
	a->filter_off = true;
	uv_mutex_unlock(&a->lock);
	a->cancelled = true;
	/* The walk's own removal on its way points at the engine: sent again, detached. */
	removing = a->remove_sent && a->req;
	if (a->req) {
		http_request_cancel(a->req);
		a->req = NULL;
	}
	/* Removed by name now, so the engine is not needed later (its owner may free it
	 * as soon as this returns). A create still on its way when cancelled can lose
	 * this race and leave a container (labelled io.refit.inventory). */
	if ((!a->remove_sent || removing) && start_remove(a) < 0)
		log_warn("engine: container %s for %s was not removed", a->name, a->image);
	close_stream(a);
	advance(a);
}

/* ---- the sweep ---- */

struct engine_archive_sweep {
	struct engine *e;
	struct http_request *req;
	engine_archive_sweep_cb cb;
	void *arg;
	int64_t before_s; /* created at or before: removed */
	char (*ids)[72];
	size_t n, next;
	unsigned removed;
	int status;
};

static void sweep_step(struct engine_archive_sweep *s);

static void sweep_end(struct engine_archive_sweep *s)
{
	if (s->cb)
		s->cb(s->status, s->removed, s->arg);
	free(s->ids);
	free(s);
}

/* Keeps the ids of the listed containers old enough (64 hex digits each). */
static int sweep_listed(struct engine_archive_sweep *s, const struct http_response *resp)
{
	json_t *list = json_loadb(resp->body, resp->body_len, 0, NULL), *c;
	size_t i;

	if (!json_is_array(list)) {
		json_decref(list);
		return -EIO;
	}
	s->ids = calloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*s->ids));
	if (!s->ids) {
		json_decref(list);
		return -ENOMEM;
	}
	json_array_foreach(list, i, c)
	{
		const char *id = json_string_value(json_object_get(c, "Id"));
		json_int_t created = json_integer_value(json_object_get(c, "Created"));
		if (!id || !id[0] || strlen(id) >= sizeof(*s->ids) ||
		    strspn(id, "0123456789abcdef") != strlen(id) || created > s->before_s ||
		    s->n >= ENGINE_ARCHIVE_SWEEP_MAX)
			continue;
		snprintf(s->ids[s->n++], sizeof(*s->ids), "%s", id);
	}
	json_decref(list);
	return 0;
}

static void sweep_cb(const struct http_response *resp, void *arg)
{
	struct engine_archive_sweep *s = arg;
	bool listing = !s->ids;
	int r = 0;

	s->req = NULL;
	if (resp->error)
		r = resp->error;
	else if (resp->status >= 300 && !(resp->status == 404 && !listing))
		r = -EIO;
	else if (listing)
		r = sweep_listed(s, resp);
	else if (resp->status < 300)
		s->removed++;
	if (r < 0 && !s->status)
		s->status = r;
	if (r < 0 && listing) {
		sweep_end(s);
		return;
	}
	sweep_step(s);
}

/* One removal at a time, after the list. */
static void sweep_step(struct engine_archive_sweep *s)
{
	char path[160];
	struct engine_call c = {.method = "DELETE", .path = path, .timeout_ms = 60000};
	int r;

	if (s->next >= s->n) {
		sweep_end(s);
		return;
	}
	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", s->ids[s->next++]);
	r = engine_call(s->e, &c, sweep_cb, s, &s->req);
	if (r < 0) {
		if (!s->status)
			s->status = r;
		sweep_end(s);
	}
}

int engine_archive_sweep(struct engine *e, uint64_t min_age_s, engine_archive_sweep_cb cb,
                         void *arg, struct engine_archive_sweep **ret)
{
	struct engine_archive_sweep *s = calloc(1, sizeof(*s));
	char path[256], *esc;
	struct engine_call c = {.method = "GET", .path = path, .timeout_ms = 60000};
	int r;

	if (!s)
		return -ENOMEM;
	s->e = e;
	s->cb = cb;
	s->arg = arg;
	s->before_s = (int64_t)(wallclock_ms() / 1000) - (int64_t)min_age_s;
	if (!(esc = http_escape("{\"label\":[\"io.refit.inventory=1\"]}"))) {
		free(s);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "/containers/json?all=1&filters=%s", esc);
	free(esc);
	r = engine_call(e, &c, sweep_cb, s, &s->req);
	if (r < 0) {
		free(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

void engine_archive_sweep_cancel(struct engine_archive_sweep *s)
{
	if (!s)
		return;
	if (s->req)
		http_request_cancel(s->req);
	free(s->ids);
	free(s);
}
