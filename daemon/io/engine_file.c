#include "engine_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "context.h"
#include "base64.h"
#include "engine.h"
#include "http_client.h"

enum rf_step { RF_CREATE, RF_STAT, RF_GET, RF_REMOVE };

struct engine_file {
	struct engine *e;
	struct http_request *req;
	engine_file_cb cb;
	void *arg;
	enum rf_step step;
	char image[512], path[1024], container[80];
	size_t max;
	int status;
	char *data;
	size_t len;
	char error[1600];
};

static int next(struct engine_file *f);

static void finish(struct engine_file *f)
{
	f->cb(f->status, f->data, f->len, f->status ? f->error : NULL, f->arg);
	free(f->data);
	free(f);
}

static void fail(struct engine_file *f, int status, const char *what)
{
	if (!f->status) {
		f->status = status;
		snprintf(f->error, sizeof(f->error), "%s: %s", f->path, what);
	}
}

/* The size from X-Docker-Container-Path-Stat (base64 JSON), before fetching anything. */
static void check_stat(struct engine_file *f, const struct http_response *resp)
{
	char hdr[2048];
	unsigned char raw[1600];
	size_t n = 0;
	json_t *st;

	if (!http_response_header(resp, "X-Docker-Container-Path-Stat", hdr, sizeof(hdr)) ||
	    base64_decode(hdr, strlen(hdr), false, raw, sizeof(raw), &n) < 0)
		return; /* no size up front: the archive is still bounded below */
	st = json_loadb((const char *)raw, n, 0, NULL);
	if (json_integer_value(json_object_get(st, "size")) > (json_int_t)f->max)
		fail(f, -EFBIG, "larger than the limit");
	json_decref(st);
}

static void got_archive(struct engine_file *f, const struct http_response *resp)
{
	int r = context_tar_first_file(resp->body, resp->body_len, f->max, &f->data, &f->len);

	if (r == -EFBIG)
		fail(f, r, "larger than the limit");
	else if (r == -EISDIR)
		fail(f, r, "not a regular file");
	else if (r < 0)
		fail(f, r, "the engine's archive could not be read");
}

static void step_cb(const struct http_response *resp, void *arg)
{
	struct engine_file *f = arg;
	json_t *o;

	f->req = NULL;
	if (resp->error)
		fail(f, resp->error, resp->error_msg);
	else if (resp->status == 404 && f->step != RF_REMOVE)
		fail(f, -ENOENT,
		     f->step == RF_CREATE ? "no such image" : "no such file in the image");
	else if (resp->status >= 300 && f->step != RF_REMOVE)
		fail(f, -EIO, "the engine refused the request");
	else if (f->step == RF_CREATE) {
		o = json_loadb(resp->body, resp->body_len, 0, NULL);
		snprintf(f->container, sizeof(f->container), "%s",
		         json_string_value(json_object_get(o, "Id"))
		                 ? json_string_value(json_object_get(o, "Id"))
		                 : "");
		json_decref(o);
	} else if (f->step == RF_STAT)
		check_stat(f, resp);
	else if (f->step == RF_GET)
		got_archive(f, resp);
	if (f->step == RF_REMOVE || (f->step == RF_CREATE && f->status)) {
		finish(f);
		return;
	}
	f->step = f->status ? RF_REMOVE : f->step + 1;
	if (next(f) < 0) {
		fail(f, -EIO, "cannot talk to the engine");
		finish(f);
	}
}

static int next(struct engine_file *f)
{
	static const char *const json_hdr[] = {"Content-Type: application/json", NULL};
	char path[2048], *esc = NULL, *body = NULL;
	struct engine_call c = {.path = path, .timeout_ms = 60000, .max_body = 64 << 10};
	int r;

	if (f->step == RF_CREATE) {
		json_t *o = json_pack("{s:s,s:[s],s:b,s:{s:s}}", "Image", f->image, "Cmd",
		                      "/refit-never-run", "NetworkDisabled", 1, "Labels",
		                      "io.refit.inventory", "1");
		body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!body)
			return -ENOMEM;
		snprintf(path, sizeof(path), "/containers/create");
		c.method = "POST";
		c.body = body;
		c.body_len = strlen(body);
		c.headers = json_hdr;
	} else if (f->step == RF_REMOVE) {
		snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", f->container);
		c.method = "DELETE";
	} else {
		if (!(esc = http_escape(f->path)))
			return -ENOMEM;
		snprintf(path, sizeof(path), "/containers/%s/archive?path=%s", f->container, esc);
		c.method = f->step == RF_STAT ? "HEAD" : "GET";
		c.max_body = f->max + 64 * 1024; /* tar headers and padding around the file */
	}
	r = engine_call(f->e, &c, step_cb, f, &f->req);
	free(esc);
	free(body);
	return r;
}

int engine_read_file(struct engine *e, const char *image, const char *path, size_t max,
                     engine_file_cb cb, void *arg, struct engine_file **ret)
{
	struct engine_file *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->e = e;
	f->cb = cb;
	f->arg = arg;
	f->max = max;
	if (snprintf(f->image, sizeof(f->image), "%s", image) >= (int)sizeof(f->image) ||
	    snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path) ||
	    path[0] != '/') {
		free(f);
		return -EINVAL;
	}
	r = next(f);
	if (r < 0) {
		free(f);
		return r;
	}
	if (ret)
		*ret = f;
	return 0;
}

void engine_file_cancel(struct engine_file *f)
{
	if (!f)
		return;
	if (f->req)
		http_request_cancel(f->req);
	free(f->data);
	free(f);
}
