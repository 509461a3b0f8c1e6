/*
 * engine_archive against a fake Engine API on a unix socket, served on the
 * test's own loop: what a cancelled walk leaves in flight must not point at
 * the engine. A reload that changes the engines cancels the running walks
 * (scheduler_interrupt) and frees the engines at once (engines_stop); the
 * container removal a cancel sends outlives both, and a connection that
 * breaks under it used to be reported to the freed engine (call_lost).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "config.h"
#include "engine.h"
#include "engine_archive.h"
#include "fakehttp.h"
#include "http_client.h"
#include "log.h"

enum mode { HOLD, ANSWER, DROP };

/* How the fake engine answers each kind of request. */
struct fake {
	struct fakehttp srv;
	enum mode create, remove;
	int head_status;
	unsigned creates, heads, removes;
};

static const char version_body[] =
        "{\"ApiVersion\":\"1.45\",\"MinAPIVersion\":\"1.24\",\"Version\":\"27.0.0\","
        "\"Os\":\"linux\",\"Arch\":\"amd64\"}";

/* Applies mode to a request; ANSWER replies status with body. */
static void act(struct fakehttp_conn *c, enum mode m, int status, const char *body)
{
	if (m == ANSWER)
		fakehttp_reply(c, status, body);
	else if (m == HOLD)
		fakehttp_hold(c);
	else
		fakehttp_drop(c);
}

static void serve(struct fakehttp_conn *c, const char *method, const char *target, void *arg)
{
	struct fake *f = arg;

	if (!strcmp(target, "/_ping")) {
		fakehttp_reply(c, 200, "OK");
	} else if (!strcmp(target, "/version")) {
		fakehttp_reply(c, 200, version_body);
	} else if (!strcmp(method, "POST") && strstr(target, "/containers/create")) {
		f->creates++;
		act(c, f->create, 201, "{\"Id\":\"0123abcd\"}");
	} else if (!strcmp(method, "HEAD")) {
		f->heads++;
		fakehttp_reply(c, f->head_status, "");
	} else if (!strcmp(method, "DELETE")) {
		f->removes++;
		act(c, f->remove, 204, "");
	} else {
		fakehttp_reply(c, 404, "{}");
	}
}

/* Hangs up on the held requests, and on any later one (curl sends a request again when a
 * reused connection closed under it): the engine went away. */
static void fake_drop_held(struct fake *f)
{
	f->create = f->remove = DROP;
	fakehttp_drop_held(&f->srv);
}

struct world {
	uv_loop_t loop;
	struct fake f;
	struct http_client *http;
	struct engine *e;
	int ready;
	struct engine_archive *walk;
};

static void state_cb(struct engine *e, const struct engine_info *info, void *arg)
{
	struct world *w = arg;

	(void)e;
	w->ready = info->reachable ? 1 : -1;
}

static void walk_cb(int status, const struct engine_archive_entry *entries, size_t n,
                    const char *error, void *arg)
{
	(void)status;
	(void)entries;
	(void)n;
	(void)error;
	(void)arg;
	fail_msg("a cancelled walk called back");
}

/* Runs the loop until cond holds (at most about 10 s). */
#define RUN_UNTIL(w, cond)                                     \
	do {                                                   \
		for (int i_ = 0; !(cond) && i_ < 1000; i_++) { \
			uv_run(&(w)->loop, UV_RUN_NOWAIT);     \
			usleep(10000);                         \
		}                                              \
		assert_true(cond);                             \
	} while (0)

static void world_start(struct world *w)
{
	char host[160];
	struct config_engine ce = {.host = host, .max_builds = 1};
	static const char *const paths[] = {"/var/lib/dpkg", NULL};

	assert_int_equal(uv_loop_init(&w->loop), 0);
	assert_int_equal(fakehttp_unix(&w->loop, &w->f.srv, serve, &w->f), 0);
	snprintf(host, sizeof(host), "unix://%s", w->f.srv.path);
	assert_int_equal(http_client_new(&w->loop, &w->http), 0);
	assert_int_equal(engine_new(&w->loop, w->http, &ce, state_cb, w, &w->e), 0);
	engine_start(w->e);
	RUN_UNTIL(w, w->ready);
	assert_int_equal(w->ready, 1);
	assert_int_equal(engine_archive_walk(&w->loop, w->e, "busybox:latest", paths, NULL, NULL,
	                                     NULL, walk_cb, w, &w->walk),
	                 0);
}

/*
 * What engines_stop does after scheduler_interrupt: the walk is cancelled, the engine
 * freed; then the removal's connection breaks. Nothing may reach the freed engine.
 */
static void cancel_free_and_break(struct world *w, unsigned removes)
{
	engine_archive_cancel(w->walk);
	engine_free(w->e);
	w->e = NULL;
	RUN_UNTIL(w, w->f.removes >= removes); /* the engine's memory is gone by now */
	fake_drop_held(&w->f);
	RUN_UNTIL(w, http_client_active(w->http) == 0);
}

static void world_stop(struct world *w)
{
	http_client_close(w->http);
	fakehttp_stop(&w->f.srv);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->loop), 0);
}

/* Cancelled while the container is being created: the removal goes out with the cancel. */
static void test_cancel_during_create(void **state)
{
	struct world w = {.f = {.create = HOLD, .remove = HOLD, .head_status = 200}};

	(void)state;
	world_start(&w);
	RUN_UNTIL(&w, w.f.creates == 1);
	cancel_free_and_break(&w, 1);
	world_stop(&w);
}

/* Cancelled while the walk's own removal is on its way (the walk failed before). */
static void test_cancel_during_removal(void **state)
{
	struct world w = {.f = {.create = ANSWER, .remove = HOLD, .head_status = 500}};

	(void)state;
	world_start(&w);
	RUN_UNTIL(&w, w.f.removes == 1);
	cancel_free_and_break(&w, 1);
	assert_true(w.f.removes >= 2); /* sent again, detached from the engine */
	world_stop(&w);
}

/* A removal the engine answers: the walk's container is gone, nothing is left in flight. */
static void test_cancel_removal_answered(void **state)
{
	struct world w = {.f = {.create = HOLD, .remove = ANSWER, .head_status = 200}};

	(void)state;
	world_start(&w);
	RUN_UNTIL(&w, w.f.creates == 1);
	cancel_free_and_break(&w, 1);
	assert_int_equal(w.f.removes, 1);
	world_stop(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cancel_during_create),
	        cmocka_unit_test(test_cancel_during_removal),
	        cmocka_unit_test(test_cancel_removal_answered),
	};

	log_setup(getenv("TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR, LOG_FMT_TEXT, false);
	http_global_init();
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return r;
}
