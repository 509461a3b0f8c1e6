#include "engine_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bkprogress.h"
#include "config.h"
#include "engine.h"
#include "http_client.h"
#include "jsonstream.h"
#include "log.h"
#include "logclean.h"
#include "strbuf.h"

#define LOG_MAX   (64u << 20) /* bytes of engine output written to one build log */
#define CHUNK_MAX 65536

enum check_step { CK_CREATE, CK_START, CK_WAIT, CK_KILL, CK_LOGS, CK_REMOVE };

struct engine_op {
	struct engine *e;
	struct http_request *req;
	engine_op_cb cb;
	void *arg;
	struct jsonstream *js;
	struct bkprogress *bk; /* a BuildKit build's progress, decoded for the log */
	struct logclean clean; /* terminal escapes out of the engine's text */
	struct strbuf text;    /* what goes to the log next */
	char failed_step[512];
	size_t cached_steps;
	FILE *log, *ctx;
	size_t logged;
	long expect_status; /* 200, 201, 204 */
	bool stream_error;
	int stream_status;
	char error[1024], image_id[80], digest[80];
	/* check */
	enum check_step step;
	char container[80];
	char *create_body;
	uint64_t timeout_ms;
	int exit_code, check_status;
	unsigned char frame[8];
	size_t frame_have, frame_left;
};

static void log_raw(struct engine_op *op, const char *s, size_t len)
{
	if (!op->log || op->logged >= LOG_MAX || !len)
		return;
	if (op->logged + len > LOG_MAX)
		len = LOG_MAX - op->logged;
	fwrite(s, 1, len, op->log);
	op->logged += len;
}

/* The engine's own text (classic progress, Podman's STEP lines): escapes taken out. */
static void log_out(struct engine_op *op, const char *s, size_t len)
{
	op->text.len = 0;
	logclean_feed(&op->clean, s, len, &op->text, LOG_MAX);
	log_raw(op, op->text.p, op->text.len);
}

/* One moby.buildkit.trace message, as `docker build --progress=plain` prints it. */
static void log_trace(struct engine_op *op, const char *b64)
{
	op->text.len = 0;
	if (op->bk || bkprogress_new(&op->bk) == 0)
		bkprogress_feed_aux(op->bk, b64, strlen(b64), &op->text, LOG_MAX);
	log_raw(op, op->text.p, op->text.len);
}

/* The end of a build's progress: unfinished lines, the failing step, the counts. */
static void progress_end(struct engine_op *op)
{
	struct bkprogress_stats st;
	const char *name, *error;

	op->text.len = 0;
	if (logclean_flush(&op->clean, &op->text, LOG_MAX) == 0)
		log_raw(op, op->text.p, op->text.len);
	if (!op->bk)
		return;
	op->text.len = 0;
	bkprogress_finish(op->bk, &op->text, LOG_MAX);
	log_raw(op, op->text.p, op->text.len);
	if (bkprogress_failure(op->bk, &name, &error) == 0)
		snprintf(op->failed_step, sizeof(op->failed_step), "%s", name);
	bkprogress_stats(op->bk, &st);
	op->cached_steps = st.cached_steps;
}

static void op_free(struct engine_op *op)
{
	if (!op)
		return;
	jsonstream_free(op->js);
	bkprogress_free(op->bk);
	logclean_done(&op->clean);
	free(op->text.p);
	if (op->ctx)
		fclose(op->ctx);
	free(op->create_body); /* the log belongs to the caller */
	free(op);
}

static void deliver(struct engine_op *op, int status, const char *body, size_t body_len)
{
	struct engine_outcome o = {.status = status, .exit_code = op->exit_code};

	o.error = status ? (op->error[0] ? op->error : strerror(-status)) : NULL;
	o.image_id = op->image_id[0] ? op->image_id : NULL;
	o.failed_step = status && op->failed_step[0] ? op->failed_step : NULL;
	o.cached_steps = op->cached_steps;
	o.digest = op->digest[0] ? op->digest : NULL;
	o.body = body;
	o.body_len = body_len;
	op->cb(&o, op->arg);
	op_free(op);
}

int engine_stream_error(const char *json_obj, char *msg, size_t len)
{
	json_t *o = json_loads(json_obj, 0, NULL);
	const char *m =
	        json_string_value(json_object_get(json_object_get(o, "errorDetail"), "message"));
	int r = 0;

	if (!m)
		m = json_string_value(json_object_get(o, "error"));
	if (m) {
		snprintf(msg, len, "%s", m);
		r = 1;
	}
	json_decref(o);
	return r;
}

/* One object of a build or push progress stream. */
static int on_object(json_t *obj, void *arg)
{
	struct engine_op *op = arg;
	json_t *aux = json_object_get(obj, "aux");
	const char *s = json_string_value(json_object_get(obj, "stream"));
	const char *status = json_string_value(json_object_get(obj, "status"));
	const char *err =
	        json_string_value(json_object_get(json_object_get(obj, "errorDetail"), "message"));
	const char *msg = json_string_value(json_object_get(obj, "message"));

	const char *id = json_string_value(json_object_get(obj, "id"));

	if (!err)
		err = json_string_value(json_object_get(obj, "error"));
	if (id && !strcmp(id, "moby.buildkit.trace") && json_is_string(aux))
		log_trace(op, json_string_value(aux));
	if (s)
		log_out(op, s, strlen(s));
	if (status) {
		/* "TAG: digest: sha256:... size: N": Podman 4.3 sends no aux trailer */
		const char *d = strstr(status, ": digest: sha256:");
		log_out(op, status, strlen(status));
		log_out(op, "\n", 1);
		if (d && !op->digest[0] && strspn(d + 17, "0123456789abcdef") == 64)
			snprintf(op->digest, sizeof(op->digest), "%.71s", d + 10);
	}
	if (json_string_value(json_object_get(aux, "ID")))
		snprintf(op->image_id, sizeof(op->image_id), "%s",
		         json_string_value(json_object_get(aux, "ID")));
	if (json_string_value(json_object_get(aux, "Digest")))
		snprintf(op->digest, sizeof(op->digest), "%s",
		         json_string_value(json_object_get(aux, "Digest")));
	if (err || (msg && !s && !status)) { /* in-stream error, or an HTTP error body */
		snprintf(op->error, sizeof(op->error), "%s", err ? err : msg);
		op->stream_error = true;
		log_out(op, "ERROR: ", 7);
		log_out(op, op->error, strlen(op->error));
		log_out(op, "\n", 1);
	}
	if (op->log)
		fflush(op->log); /* the log is read while the build runs */
	return 0;
}

static int on_stream_data(const char *chunk, size_t len, void *arg)
{
	struct engine_op *op = arg;
	int r = jsonstream_feed(op->js, chunk, len);

	if (r < 0) {
		op->stream_status = r;
		snprintf(op->error, sizeof(op->error), "the engine's progress stream is not JSON");
	}
	return r;
}

static size_t read_context(char *buf, size_t len, void *arg)
{
	struct engine_op *op = arg;
	size_t n = fread(buf, 1, len < CHUNK_MAX ? len : CHUNK_MAX, op->ctx);

	return ferror(op->ctx) ? HTTP_READ_ABORT : n;
}

/* The transport failed: say so in words a user can act on. */
static void transport_error(struct engine_op *op, const struct http_response *resp)
{
	if (resp->error == -ETIMEDOUT)
		snprintf(op->error, sizeof(op->error),
		         "the engine stopped answering (%s); the build will be retried",
		         resp->error_msg);
	else
		snprintf(op->error, sizeof(op->error), "engine request failed: %s (%s)",
		         resp->error_msg, strerror(-resp->error));
}

/* Shared end of streamed operations (build, push). */
static void stream_done_cb(const struct http_response *resp, void *arg)
{
	struct engine_op *op = arg;
	int status = 0;

	op->req = NULL;
	progress_end(op);
	if (resp->error) {
		transport_error(op, resp);
		status = resp->error;
	} else if (op->stream_status) {
		status = op->stream_status;
	} else if (jsonstream_finish(op->js) < 0) {
		snprintf(op->error, sizeof(op->error),
		         "the engine's progress stream was cut short");
		status = -EPIPE;
	} else if (resp->status != 200 || op->stream_error) {
		if (!op->error[0])
			snprintf(op->error, sizeof(op->error), "the engine answered HTTP %ld",
			         resp->status);
		status = resp->status == 404 ? -ENOENT : -EIO;
	} else if (op->expect_status == 1 && !op->image_id[0]) {
		snprintf(op->error, sizeof(op->error), "the build ended without an image ID");
		status = -EPROTO;
	} else if (op->expect_status == 2 && !op->digest[0]) {
		snprintf(op->error, sizeof(op->error), "the push ended without a digest");
		status = -EPROTO;
	}
	deliver(op, status, NULL, 0);
}

static struct engine_op *op_new(struct engine *e, engine_op_cb cb, void *arg, bool stream)
{
	struct engine_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->e = e;
	op->cb = cb;
	op->arg = arg;
	op->exit_code = -1;
	if (stream && !(op->js = jsonstream_new(on_object, op))) {
		free(op);
		return NULL;
	}
	return op;
}

static int start(struct engine_op *op, const struct engine_call *c,
                 void (*done)(const struct http_response *, void *), struct engine_op **ret)
{
	int r = engine_call(op->e, c, done, op, &op->req);

	if (r < 0) {
		op_free(op);
		return r;
	}
	if (ret)
		*ret = op;
	return 0;
}

/* Appends "&key=escaped(value)" to the query in q (bounded). */
static int query_add(char *q, size_t len, const char *key, const char *value)
{
	char *esc = http_escape(value);
	size_t used = strlen(q);
	int n;

	if (!esc)
		return -ENOMEM;
	n = snprintf(q + used, len - used, "%s%s=%s", used ? "&" : "?", key, esc);
	free(esc);
	return n < 0 || (size_t)n >= len - used ? -ENAMETOOLONG : 0;
}

/* The JSON object of kv, plus extra_key: "1" when extra_key is set. */
static char *kv_json(const struct config_kv *kv, size_t n, const char *extra_key)
{
	json_t *o = json_object();
	char *s;

	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	if (o && extra_key)
		json_object_set_new(o, extra_key, json_string("1"));
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

static char *strv_json(const char *const *v)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

/*
 * BuildKit (a session) builds with version=2 and, for a registry cache, inline cache
 * metadata and cachefrom; the classic builder with version=1 and forcerm, which keeps
 * intermediate containers away. BuildKit ignores rm/forcerm and X-Registry-Config.
 */
static int builder_query(const struct engine_build_opts *o, char *q, size_t len)
{
	char *from;
	int r;

	if (o->network && (r = query_add(q, len, "networkmode", o->network)) < 0)
		return r;
	if (o->platform && (r = query_add(q, len, "platform", o->platform)) < 0)
		return r;
	if (o->podman_secrets && (r = query_add(q, len, "secrets", o->podman_secrets)) < 0)
		return r;
	if (!o->session)
		return (r = query_add(q, len, "version", "1")) < 0
		               ? r
		               : query_add(q, len, "forcerm", "1");
	if ((r = query_add(q, len, "version", "2")) < 0 ||
	    (r = query_add(q, len, "session", o->session)) < 0)
		return r;
	if (!o->cache_from || !o->cache_from[0])
		return 0;
	if (!(from = strv_json(o->cache_from)))
		return -ENOMEM;
	r = query_add(q, len, "cachefrom", from);
	free(from);
	return r;
}

static int build_query(const struct engine_build_opts *o, char *q, size_t len)
{
	/* with BuildKit the image carries its cache metadata for the next cold engine */
	char *args = kv_json(o->build_args, o->n_build_args,
	                     o->session ? "BUILDKIT_INLINE_CACHE" : NULL),
	     *labels = kv_json(o->labels, o->n_labels, NULL);
	int r = -ENOMEM;

	if (!args || !labels)
		goto out;
	q[0] = '\0';
	r = query_add(q, len, "t", o->tag);
	if (r == 0)
		r = query_add(q, len, "dockerfile", o->dockerfile ? o->dockerfile : "Dockerfile");
	if (r == 0 && o->target)
		r = query_add(q, len, "target", o->target);
	if (r == 0)
		r = query_add(q, len, "buildargs", args);
	if (r == 0)
		r = query_add(q, len, "labels", labels);
	if (r == 0)
		r = query_add(q, len, "pull", o->pull ? "1" : "0");
	if (r == 0)
		r = query_add(q, len, "nocache", o->nocache ? "1" : "0");
	if (r == 0)
		r = builder_query(o, q, len);
out:
	free(args);
	free(labels);
	return r;
}

int engine_build(struct engine *e, const struct engine_build_opts *o, engine_op_cb cb, void *arg,
                 struct engine_op **ret)
{
	char path[6144], hdr[8192];
	const char *headers[3] = {"Content-Type: application/x-tar", NULL, NULL};
	struct engine_call c = {.method = "POST", .path = path, .headers = headers};
	struct engine_op *op = op_new(e, cb, arg, true);
	int r;

	if (!op)
		return -ENOMEM;
	strcpy(path, "/build");
	r = build_query(o, path + 6, sizeof(path) - 6);
	if (r == 0 && !(op->ctx = fopen(o->context_tar, "rbe")))
		r = -errno;
	if (r < 0) {
		op_free(op);
		return r;
	}
	if (o->registry_config && snprintf(hdr, sizeof(hdr), "X-Registry-Config: %s",
	                                   o->registry_config) < (int)sizeof(hdr))
		headers[1] = hdr;
	op->log = o->log;
	op->expect_status = 1;
	c.read_cb = read_context;
	c.data_cb = on_stream_data;
	c.stream_arg = op;
	c.timeout_ms = o->timeout_ms ? o->timeout_ms : 3600000;
	c.idle_timeout_ms = o->idle_ms ? o->idle_ms : 600000;
	return start(op, &c, stream_done_cb, ret);
}

/* A registry-facing streamed request (push, pull): X-Registry-Auth, progress to log. */
static int auth_stream(struct engine *e, const char *path, const char *auth, FILE *log, long expect,
                       engine_op_cb cb, void *arg, struct engine_op **ret)
{
	char hdr[8192];
	const char *headers[2] = {hdr, NULL};
	struct engine_call c = {.method = "POST", .path = path, .headers = headers, .body = ""};
	struct engine_op *op;
	int r;

	if (snprintf(hdr, sizeof(hdr), "X-Registry-Auth: %s", auth ? auth : "e30=") >=
	    (int)sizeof(hdr))
		return -ENAMETOOLONG;
	op = op_new(e, cb, arg, true);
	if (!op)
		return -ENOMEM;
	op->log = log;
	op->expect_status = expect;
	c.data_cb = on_stream_data;
	c.stream_arg = op;
	c.timeout_ms = 3600000;
	c.idle_timeout_ms = 120000; /* a registry answering 503 makes dockerd retry ~50 s */
	r = start(op, &c, stream_done_cb, ret);
	explicit_bzero(hdr, sizeof(hdr));
	return r;
}

int engine_push(struct engine *e, const char *repo, const char *tag, const char *auth, FILE *log,
                engine_op_cb cb, void *arg, struct engine_op **ret)
{
	char path[2048], q[512] = "";

	if (query_add(q, sizeof(q), "tag", tag) < 0 ||
	    snprintf(path, sizeof(path), "/images/%s/push%s", repo, q) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return auth_stream(e, path, auth, log, 2, cb, arg, ret);
}

int engine_pull(struct engine *e, const char *repo, const char *tag, const char *auth, FILE *log,
                engine_op_cb cb, void *arg, struct engine_op **ret)
{
	char path[2048], q[1536] = "";

	if (query_add(q, sizeof(q), "fromImage", repo) < 0 ||
	    query_add(q, sizeof(q), "tag", tag) < 0 ||
	    snprintf(path, sizeof(path), "/images/create%s", q) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return auth_stream(e, path, auth, log, 0, cb, arg, ret);
}

/* The message of an Engine API JSON error body ({"message": ...}). */
static void body_error(struct engine_op *op, const struct http_response *resp)
{
	json_t *o = json_loadb(resp->body, resp->body_len, 0, NULL);
	const char *m = json_string_value(json_object_get(o, "message"));

	if (m)
		snprintf(op->error, sizeof(op->error), "%s", m);
	else
		snprintf(op->error, sizeof(op->error), "the engine answered HTTP %ld: %.200s",
		         resp->status, resp->body);
	json_decref(o);
}

/* End of a plain (non-streamed) request: expect_status or a JSON error. */
static void simple_cb(const struct http_response *resp, void *arg)
{
	struct engine_op *op = arg;
	int status = 0;

	op->req = NULL;
	if (resp->error) {
		transport_error(op, resp);
		status = resp->error;
	} else if (resp->status != op->expect_status) {
		body_error(op, resp);
		status = resp->status == 404 ? -ENOENT : resp->status == 409 ? -EBUSY : -EIO;
	}
	deliver(op, status, resp->body, resp->body_len);
}

static int simple(struct engine *e, const char *method, const char *path, long expect,
                  engine_op_cb cb, void *arg, struct engine_op **ret)
{
	struct engine_call c = {.method = method, .path = path, .timeout_ms = 60000};
	struct engine_op *op = op_new(e, cb, arg, false);

	if (!op)
		return -ENOMEM;
	op->expect_status = expect;
	c.max_body = 8 << 20;
	if (!strcmp(method, "POST"))
		c.body = "";
	return start(op, &c, simple_cb, ret);
}

int engine_tag(struct engine *e, const char *image, const char *repo, const char *tag,
               engine_op_cb cb, void *arg, struct engine_op **ret)
{
	char path[2048], q[1024] = "";

	if (query_add(q, sizeof(q), "repo", repo) < 0 || query_add(q, sizeof(q), "tag", tag) < 0 ||
	    snprintf(path, sizeof(path), "/images/%s/tag%s", image, q) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return simple(e, "POST", path, 201, cb, arg, ret);
}

int engine_inspect(struct engine *e, const char *image, engine_op_cb cb, void *arg,
                   struct engine_op **ret)
{
	char path[1024];

	if (snprintf(path, sizeof(path), "/images/%s/json", image) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return simple(e, "GET", path, 200, cb, arg, ret);
}

int engine_list_images(struct engine *e, const char *reference, engine_op_cb cb, void *arg,
                       struct engine_op **ret)
{
	char path[2048], q[1536] = "", filt[1024];

	if (snprintf(filt, sizeof(filt), "{\"reference\":[\"%s\"]}", reference) >=
	            (int)sizeof(filt) ||
	    strpbrk(reference, "\"\\") || query_add(q, sizeof(q), "filters", filt) < 0 ||
	    snprintf(path, sizeof(path), "/images/json%s", q) >= (int)sizeof(path))
		return -EINVAL;
	return simple(e, "GET", path, 200, cb, arg, ret);
}

int engine_remove_image(struct engine *e, const char *image, engine_op_cb cb, void *arg,
                        struct engine_op **ret)
{
	char path[1024];

	if (snprintf(path, sizeof(path), "/images/%s", image) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return simple(e, "DELETE", path, 200, cb, arg, ret);
}

void engine_op_cancel(struct engine_op *op)
{
	if (!op)
		return;
	if (op->req)
		http_request_cancel(op->req);
	op_free(op);
}

/* ---- check containers: create, start, wait (time limit), logs, remove ---- */

static int check_next(struct engine_op *op);
static void check_continue(struct engine_op *op);

static char *check_body(const struct engine_check_opts *o)
{
	json_t *cmd = json_array(), *root;
	char *s;

	for (size_t i = 0; cmd && o->argv[i]; i++)
		json_array_append_new(cmd, json_string(o->argv[i]));
	root = json_pack("{s:s, s:o, s:s, s:b, s:{s:s}, s:{s:s, s:[s], s:[s], s:b, s:{s:s}}}",
	                 "Image", o->image, "Cmd", cmd, "User", o->user ? o->user : "65534:65534",
	                 "NetworkDisabled", 1, "Labels", "io.refit.check", "1", "HostConfig",
	                 "NetworkMode", "none", "CapDrop", "ALL", "SecurityOpt",
	                 "no-new-privileges", "ReadonlyRootfs", 1, "Tmpfs", "/tmp",
	                 "rw,nosuid,nodev,size=64m");
	s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return s;
}

/* Demultiplexes the logs stream (8-byte frame headers, no TTY) into the log. */
static int on_logs(const char *chunk, size_t len, void *arg)
{
	struct engine_op *op = arg;

	while (len > 0) {
		if (op->frame_left == 0) {
			size_t take = 8 - op->frame_have < len ? 8 - op->frame_have : len;
			memcpy(op->frame + op->frame_have, chunk, take);
			op->frame_have += take;
			chunk += take;
			len -= take;
			if (op->frame_have == 8) {
				op->frame_left = (size_t)op->frame[4] << 24 |
				                 (size_t)op->frame[5] << 16 |
				                 (size_t)op->frame[6] << 8 | op->frame[7];
				op->frame_have = 0;
			}
			continue;
		}
		size_t take = op->frame_left < len ? op->frame_left : len;
		log_out(op, chunk, take);
		op->frame_left -= take;
		chunk += take;
		len -= take;
	}
	return 0;
}

static void check_step_cb(const struct http_response *resp, void *arg)
{
	struct engine_op *op = arg;
	static const long want[] = {201, 204, 200, 204, 200, 204};
	json_t *o;

	op->req = NULL;
	if (resp->error && op->step == CK_WAIT && resp->error == -ETIMEDOUT) {
		snprintf(op->error, sizeof(op->error), "the check ran past its time limit (%llu s)",
		         (unsigned long long)(op->timeout_ms / 1000));
		op->check_status = -ETIMEDOUT;
		op->step = CK_KILL;
		check_continue(op);
		return;
	}
	if (resp->error || (resp->status != want[op->step] && op->step != CK_KILL &&
	                    !(op->step == CK_REMOVE && resp->status == 404))) {
		if (resp->error)
			transport_error(op, resp);
		else
			body_error(op, resp);
		if (!op->check_status)
			op->check_status = resp->error ? resp->error : -EIO;
		if (op->step == CK_CREATE || op->step == CK_REMOVE) {
			deliver(op, op->check_status, NULL, 0);
			return;
		}
		op->step = CK_REMOVE; /* never leave the container behind */
		check_continue(op);
		return;
	}
	if (op->step == CK_CREATE) {
		o = json_loadb(resp->body, resp->body_len, 0, NULL);
		snprintf(op->container, sizeof(op->container), "%s",
		         json_string_value(json_object_get(o, "Id"))
		                 ? json_string_value(json_object_get(o, "Id"))
		                 : "");
		json_decref(o);
	} else if (op->step == CK_WAIT) {
		o = json_loadb(resp->body, resp->body_len, 0, NULL);
		op->exit_code = (int)json_integer_value(json_object_get(o, "StatusCode"));
		json_decref(o);
		op->step = CK_KILL; /* skipped: it exited */
	} else if (op->step == CK_REMOVE) {
		deliver(op, op->check_status, NULL, 0);
		return;
	}
	op->step++;
	check_continue(op);
}

static int check_next(struct engine_op *op)
{
	static const char *const json_hdr[] = {"Content-Type: application/json", NULL};
	char path[512];
	struct engine_call c = {.path = path,
	                        .method = "POST",
	                        .body = "",
	                        .timeout_ms = 60000,
	                        .max_body = 1 << 16};
	int r;

	switch (op->step) {
	case CK_CREATE:
		snprintf(path, sizeof(path), "/containers/create");
		c.body = op->create_body;
		c.body_len = strlen(op->create_body);
		c.headers = json_hdr;
		break;
	case CK_START:
		snprintf(path, sizeof(path), "/containers/%s/start", op->container);
		break;
	case CK_WAIT:
		snprintf(path, sizeof(path), "/containers/%s/wait", op->container);
		c.timeout_ms = op->timeout_ms;
		c.idle_timeout_ms = op->timeout_ms + 1000; /* wait sends nothing until the end */
		break;
	case CK_KILL:
		snprintf(path, sizeof(path), "/containers/%s/kill", op->container);
		break;
	case CK_LOGS:
		snprintf(path, sizeof(path), "/containers/%s/logs?stdout=1&stderr=1",
		         op->container);
		c.method = "GET";
		c.body = NULL;
		c.data_cb = on_logs;
		c.stream_arg = op;
		break;
	case CK_REMOVE:
		snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", op->container);
		c.method = "DELETE";
		c.body = NULL;
		break;
	}
	r = engine_call(op->e, &c, check_step_cb, op, &op->req);
	if (r < 0)
		snprintf(op->error, sizeof(op->error), "engine request failed: %s", strerror(-r));
	return r;
}

/* Moves on to the current step; a step that cannot start ends the check. */
static void check_continue(struct engine_op *op)
{
	int r = check_next(op);

	if (r < 0)
		deliver(op, op->check_status ? op->check_status : r, NULL, 0);
}

int engine_check(struct engine *e, const struct engine_check_opts *o, engine_op_cb cb, void *arg,
                 struct engine_op **ret)
{
	struct engine_op *op = op_new(e, cb, arg, false);
	int r;

	if (!op)
		return -ENOMEM;
	op->create_body = check_body(o);
	if (!op->create_body) {
		op_free(op);
		return -ENOMEM;
	}
	op->log = o->log;
	op->timeout_ms = o->timeout_ms ? o->timeout_ms : 600000;
	op->step = CK_CREATE;
	r = check_next(op);
	if (r < 0) {
		op_free(op);
		return r;
	}
	if (ret)
		*ret = op;
	return 0;
}
