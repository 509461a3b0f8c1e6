/*
 * engine against a private dockerd: version negotiation, and reading files
 * out of an image without running it (create, archive HEAD + GET, remove).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bed.h"
#include "config.h"
#include "engine.h"
#include "engine_file.h"
#include "http_client.h"
#include "log.h"

static struct bed bed;

struct world {
	uv_loop_t loop;
	struct http_client *http;
	struct engine *e;
	int ready;
};

struct got {
	int done, status;
	char data[8192], error[512];
	size_t len;
};

static int setup(void **state)
{
	(void)state;
	log_setup(LOG_LVL_WARN, LOG_FMT_TEXT, false);
	http_global_init();
	return bed_start(&bed, "dockerd registry base");
}

static int teardown(void **state)
{
	(void)state;
	bed_stop(&bed);
	http_global_cleanup();
	return 0;
}

static void state_cb(struct engine *e, const struct engine_info *info, void *arg)
{
	struct world *w = arg;

	(void)e;
	w->ready = info->reachable ? 1 : -1;
}

static void world_init(struct world *w)
{
	struct config_engine ce = {.host = getenv("TB_DOCKER_HOST"), .max_builds = 1};

	memset(w, 0, sizeof(*w));
	uv_loop_init(&w->loop);
	assert_int_equal(http_client_new(&w->loop, &w->http), 0);
	assert_int_equal(engine_new(&w->loop, w->http, &ce, state_cb, w, &w->e), 0);
	engine_start(w->e);
	while (!w->ready)
		uv_run(&w->loop, UV_RUN_ONCE);
	assert_int_equal(w->ready, 1);
}

static void world_done(struct world *w)
{
	engine_free(w->e);
	http_client_close(w->http);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void file_cb(int status, const char *data, size_t len, const char *error, void *arg)
{
	struct got *g = arg;

	g->done = 1;
	g->status = status;
	g->len = len;
	snprintf(g->data, sizeof(g->data), "%s", data ? data : "");
	snprintf(g->error, sizeof(g->error), "%s", error ? error : "");
}

static void read_file(struct world *w, const char *image, const char *path, size_t max,
                      struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(engine_read_file(w->e, image, path, max, file_cb, g, NULL), 0);
	while (!g->done)
		uv_run(&w->loop, UV_RUN_ONCE);
}

static void test_negotiated(void **state)
{
	struct world w;
	const struct engine_info *i;

	(void)state;
	world_init(&w);
	i = engine_info(w.e);
	assert_non_null(i->api_version);
	assert_true(engine_api_cmp(i->api_version, ENGINE_API_OLDEST) >= 0);
	assert_false(i->podman);
	assert_string_equal(engine_platform(w.e), "linux/amd64");
	world_done(&w);
}

static void test_read_file(void **state)
{
	struct world w;
	struct got g;
	char image[256], out[64];

	(void)state;
	snprintf(image, sizeof(image), "%s", getenv("TB_BASE"));
	world_init(&w);
	read_file(&w, image, "/etc/passwd", 4096, &g);
	assert_int_equal(g.status, 0);
	assert_non_null(strstr(g.data, "nobody:x:65534"));
	assert_int_equal(g.len, strlen(g.data));
	read_file(&w, image, "/etc/shadow", 4096, &g);
	assert_int_equal(g.status, -ENOENT);
	assert_non_null(strstr(g.error, "/etc/shadow"));
	read_file(&w, image, "/etc/passwd", 10, &g); /* bounded */
	assert_int_equal(g.status, -EFBIG);
	read_file(&w, image, "/etc", 4096, &g);
	assert_int_equal(g.status, -EISDIR);
	read_file(&w, "127.0.0.1:1/no/such:image", "/etc/passwd", 4096, &g);
	assert_int_equal(g.status, -ENOENT);
	/* every container it created is gone */
	assert_int_equal(
	        bed_sh_out("curl -s --unix-socket ${TB_DOCKER_HOST#unix://} "
	                   "\"http://d/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io."
	                   "refit.inventory%22%5D%7D\"",
	                   out, sizeof(out)),
	        0);
	assert_string_equal(out, "[]");
	world_done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_negotiated),
	        cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
