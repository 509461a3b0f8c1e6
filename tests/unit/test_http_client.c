/*
 * http_client against a real HTTP server (tests/testbed/httpd.py) on
 * loopback, started by the test and stopped by its pid.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "http_client.h"

struct server {
	pid_t pid;
	int port;
	char dir[64];
};

static struct server srv;

struct result {
	int done;
	struct http_response resp;
	char body[8192];
	char hdr[256];
	size_t streamed;
};

static int server_start(void **state)
{
	char port_file[128];

	(void)state;
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/refit-http-XXXXXX");
	assert_non_null(mkdtemp(srv.dir));
	snprintf(port_file, sizeof(port_file), "%s/port", srv.dir);
	srv.pid = fork();
	if (srv.pid == 0) {
		execlp("python3", "python3", "tests/testbed/httpd.py", "--root", srv.dir,
		       "--port-file", port_file, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(port_file, "r");
		if (f) {
			assert_int_equal(fscanf(f, "%d", &srv.port), 1);
			fclose(f);
			break;
		}
		usleep(50000);
	}
	assert_true(srv.port > 0);
	return http_global_init();
}

static int server_stop(void **state)
{
	char cmd[128];

	(void)state;
	kill(srv.pid, SIGTERM);
	waitpid(srv.pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", srv.dir);
	if (system(cmd) != 0)
		return -1;
	http_global_cleanup();
	return 0;
}

static void done_cb(const struct http_response *resp, void *arg)
{
	struct result *r = arg;

	r->done++;
	r->resp = *resp;
	snprintf(r->body, sizeof(r->body), "%s", resp->body);
	r->resp.body = NULL;
	if (!http_response_header(resp, "X-Multi", r->hdr, sizeof(r->hdr)))
		r->hdr[0] = '\0';
	r->resp.headers = NULL;
	r->resp.error_msg = NULL;
}

static void url(char *buf, size_t len, const char *host, const char *path)
{
	snprintf(buf, len, "http://%s:%d%s", host, srv.port, path);
}

/* Runs one request to completion on a fresh loop and closes everything. */
static void run_one(struct http_request_opts *o, struct result *r)
{
	uv_loop_t loop;
	struct http_client *c;

	uv_loop_init(&loop);
	assert_int_equal(http_client_new(&loop, &c), 0);
	assert_int_equal(http_request_start(c, o, done_cb, r, NULL), 0);
	while (!r->done)
		uv_run(&loop, UV_RUN_ONCE);
	http_client_close(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_get_headers(void **state)
{
	char u[256];
	const char *hdrs[] = {"X-Test: yes", NULL};
	struct http_request_opts o = {.url = u, .headers = hdrs};
	struct result r = {0};

	(void)state;
	url(u, sizeof(u), "127.0.0.1", "/_t/echo");
	run_one(&o, &r);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.resp.error, 0);
	assert_int_equal(r.resp.status, 200);
	assert_non_null(strstr(r.body, "\"x-test\": \"yes\""));
	assert_non_null(strstr(r.body, "\"method\": \"GET\""));
	assert_string_equal(r.hdr, "two"); /* the last of a repeated header */
}

static void test_post_body(void **state)
{
	char u[256];
	struct http_request_opts o = {.url = u, .method = "POST", .body = "hello", .body_len = 5};
	struct result r = {0};

	(void)state;
	url(u, sizeof(u), "127.0.0.1", "/_t/echo");
	run_one(&o, &r);
	assert_int_equal(r.resp.status, 200);
	assert_non_null(strstr(r.body, "\"body\": \"hello\""));
}

struct reader {
	int calls;
};

static size_t read_three(char *buf, size_t len, void *arg)
{
	struct reader *rd = arg;

	if (rd->calls++ >= 3 || len < 4)
		return 0;
	memcpy(buf, "abc-", 4);
	return 4;
}

static void test_streamed_upload(void **state)
{
	char u[256];
	struct reader rd = {0};
	struct http_request_opts o = {
	        .url = u, .method = "POST", .read_cb = read_three, .stream_arg = &rd};
	struct result r = {0};

	(void)state;
	url(u, sizeof(u), "127.0.0.1", "/_t/echo");
	run_one(&o, &r);
	assert_int_equal(r.resp.status, 200);
	assert_non_null(strstr(r.body, "\"body\": \"abc-abc-abc-\""));
	assert_non_null(strstr(r.body, "chunked"));
	assert_non_null(strstr(r.body, "\"method\": \"POST\""));
}

static void test_body_limit(void **state)
{
	char u[256];
	struct http_request_opts o = {.url = u, .max_body = 1000};
	struct result r = {0};

	(void)state;
	url(u, sizeof(u), "127.0.0.1", "/_t/bytes/5000");
	run_one(&o, &r);
	assert_int_equal(r.resp.error, -EMSGSIZE);
	url(u, sizeof(u), "127.0.0.1", "/_t/bytes/1000");
	memset(&r, 0, sizeof(r));
	run_one(&o, &r);
	assert_int_equal(r.resp.error, 0);
	assert_int_equal(strlen(r.body), 1000);
}

static void test_timeouts(void **state)
{
	char u[256];
	struct http_request_opts o = {.url = u, .timeout_ms = 300};
	struct result r = {0};

	(void)state;
	url(u, sizeof(u), "127.0.0.1", "/_t/slow/3000");
	run_one(&o, &r);
	assert_int_equal(r.resp.error, -ETIMEDOUT);
	assert_true(r.resp.elapsed_ms < 2000);
	/* A server that sends part of the body then stalls trips the idle limit. */
	memset(&r, 0, sizeof(r));
	o.timeout_ms = 20000;
	o.idle_timeout_ms = 1000;
	url(u, sizeof(u), "127.0.0.1", "/_t/stall");
	run_one(&o, &r);
	assert_int_equal(r.resp.error, -ETIMEDOUT);
	print_message("idle abort after %lu ms\n", (unsigned long)r.resp.elapsed_ms);
	assert_true(r.resp.elapsed_ms < 5000);
}

static void test_connect_errors(void **state)
{
	struct http_request_opts o = {.url = "http://127.0.0.1:1/"};
	struct result r = {0};

	(void)state;
	run_one(&o, &r);
	assert_int_equal(r.resp.error, -ECONNREFUSED);
	assert_int_equal(r.resp.status, 0);
	memset(&r, 0, sizeof(r));
	o.url = "http://localhost/_ping";
	o.unix_socket = "/nonexistent/refit-test.sock";
	run_one(&o, &r);
	assert_int_equal(r.resp.error, -ENOENT);
}

struct lost {
	int calls;
	bool broken;
};

static void on_lost(bool broken, void *arg)
{
	struct lost *l = arg;

	l->calls++;
	l->broken = broken;
}

/* lost_cb tells a peer that is gone or late from answers that are merely bad. */
static void test_lost_cb(void **state)
{
	static const struct {
		const char *path;
		uint64_t timeout_ms;
		size_t max_body;
		int calls;
		bool broken;
	} cases[] = {
	        {"/_t/cut", 0, 0, 1, true},            /* connection closed mid-body */
	        {"/_t/slow/3000", 300, 0, 1, false},   /* out of time */
	        {"/_t/status/500", 0, 0, 0, false},    /* an answer, if a bad one */
	        {"/_t/bytes/5000", 0, 1000, 0, false}, /* our own limit */
	        {"/_t/echo", 0, 0, 0, false},
	};
	char u[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lost l = {0};
		struct result r = {0};
		struct http_request_opts o = {.url = u,
		                              .timeout_ms = cases[i].timeout_ms,
		                              .max_body = cases[i].max_body,
		                              .lost_cb = on_lost,
		                              .lost_arg = &l};

		url(u, sizeof(u), "127.0.0.1", cases[i].path);
		run_one(&o, &r);
		print_message("%s: error %d, lost %d\n", cases[i].path, r.resp.error, l.calls);
		assert_int_equal(l.calls, cases[i].calls);
		assert_int_equal(l.broken, cases[i].broken);
	}
	{
		struct lost l = {0};
		struct result r = {0};
		struct http_request_opts o = {.url = "http://localhost/_ping",
		                              .unix_socket = "/nonexistent/refit-test.sock",
		                              .lost_cb = on_lost,
		                              .lost_arg = &l};
		run_one(&o, &r);
		assert_int_equal(l.calls, 1);
		assert_true(l.broken);
	}
}

static int on_chunk(const char *chunk, size_t len, void *arg)
{
	struct result *r = arg;

	(void)chunk;
	r->streamed += len;
	return 0;
}

static void test_streamed_response(void **state)
{
	char u[256];
	struct result r = {0};
	struct http_request_opts o = {.url = u, .data_cb = on_chunk, .stream_arg = &r};

	(void)state;
	url(u, sizeof(u), "127.0.0.1", "/_t/chunks");
	run_one(&o, &r);
	assert_int_equal(r.resp.error, 0);
	assert_int_equal(r.streamed, 68);
	assert_string_equal(r.body, ""); /* streamed, not buffered */
}

#define BIG_SIZE (6u << 20)

/* The download below: checks every byte in order, pauses now and then, resumes from a timer. */
struct pauser {
	uv_timer_t timer;
	struct http_request *req;
	const unsigned char *want;
	size_t got, calls, pauses, repauses, wrong, early;
	bool paused, in_resume, abort_on_redelivery;
	size_t paused_at;
};

static void resume_cb(uv_timer_t *t)
{
	struct pauser *p = t->data;

	p->in_resume = true;
	p->paused = false;
	http_request_resume(p->req);
	p->in_resume = false;
}

static int pausing_chunk(const char *chunk, size_t len, void *arg)
{
	struct pauser *p = arg;

	if (p->paused && !p->in_resume)
		p->early++; /* data while paused */
	if (p->got + len > BIG_SIZE || memcmp(chunk, p->want + p->got, len) != 0) {
		p->wrong++;
		return -1;
	}
	if (p->in_resume && p->got != p->paused_at)
		p->wrong++; /* the redelivery must start where the pause left off */
	if (p->in_resume && p->abort_on_redelivery)
		return -1;
	/* Every 7th chunk pauses; every 3rd pause pauses again on its redelivery. */
	if (++p->calls % 7 == 0 || (p->in_resume && p->pauses % 3 == 0 && !p->paused)) {
		if (p->in_resume)
			p->repauses++;
		p->pauses++;
		p->paused = true;
		p->paused_at = p->got;
		uv_timer_start(&p->timer, resume_cb, 2, 0);
		return HTTP_DATA_PAUSE;
	}
	p->got += len;
	return 0;
}

static unsigned char *write_big_file(const char *name)
{
	char path[128];
	unsigned char *buf = malloc(BIG_SIZE);
	uint32_t x = 2463534242u;
	FILE *f;

	assert_non_null(buf);
	for (size_t i = 0; i < BIG_SIZE; i++) {
		x ^= x << 13; /* xorshift: not compressible, not periodic */
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	snprintf(path, sizeof(path), "%s/%s", srv.dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, BIG_SIZE, f), BIG_SIZE);
	fclose(f);
	return buf;
}

static void run_paused(struct pauser *p, struct result *r)
{
	uv_loop_t loop;
	struct http_client *c;
	char u[256];
	struct http_request_opts o = {.url = u, .data_cb = pausing_chunk, .stream_arg = p};

	url(u, sizeof(u), "127.0.0.1", "/big.bin");
	uv_loop_init(&loop);
	uv_timer_init(&loop, &p->timer);
	p->timer.data = p;
	assert_int_equal(http_client_new(&loop, &c), 0);
	assert_int_equal(http_request_start(c, &o, done_cb, r, &p->req), 0);
	while (!r->done)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&p->timer, NULL);
	http_client_close(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* HTTP_DATA_PAUSE: no data until the resume, then the same chunk again, and every byte. */
static void test_streamed_pause(void **state)
{
	struct pauser p = {0};
	struct result r = {0};
	unsigned char *want = write_big_file("big.bin");

	(void)state;
	p.want = want;
	run_paused(&p, &r);
	assert_int_equal(r.resp.error, 0);
	assert_int_equal(r.resp.status, 200);
	assert_int_equal(p.got, BIG_SIZE);
	assert_int_equal(p.wrong, 0);
	assert_int_equal(p.early, 0);
	assert_true(p.pauses >= 20);
	assert_true(p.repauses >= 5);
	assert_string_equal(r.body, "");
	print_message("%zu chunks, %zu pauses (%zu from inside a resume)\n", p.calls, p.pauses,
	              p.repauses);
	/* A data_cb that aborts on the redelivery ends the request with -EIO. */
	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	p.want = want;
	p.abort_on_redelivery = true;
	run_paused(&p, &r);
	assert_int_equal(r.resp.error, -EIO);
	assert_int_equal(p.pauses, 1);
	assert_true(p.got < BIG_SIZE);
	free(want);
}

/* Authorization must not follow a redirect to another host (127.0.0.1 -> localhost). */
static void test_redirect_drops_auth(void **state)
{
	char u[512], target[256], path[300];
	const char *hdrs[] = {"Authorization: Bearer secret-token", NULL};
	struct http_request_opts o = {.url = u, .headers = hdrs, .follow_redirects = true};
	struct result r = {0};

	(void)state;
	url(target, sizeof(target), "localhost", "/_t/echo");
	snprintf(path, sizeof(path), "/_t/redirect?to=%s", target);
	url(u, sizeof(u), "127.0.0.1", path);
	run_one(&o, &r);
	assert_int_equal(r.resp.status, 200);
	assert_null(strstr(r.body, "secret-token"));
	assert_null(strstr(r.body, "authorization"));
}

/* Many requests at once on one loop; closing with requests in flight is clean. */
static void test_concurrent_and_close(void **state)
{
	uv_loop_t loop;
	struct http_client *c;
	struct result r[20];
	char u[256];
	struct http_request_opts o = {.url = u};
	int done;

	(void)state;
	memset(r, 0, sizeof(r));
	url(u, sizeof(u), "127.0.0.1", "/_t/echo");
	uv_loop_init(&loop);
	assert_int_equal(http_client_new(&loop, &c), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(http_request_start(c, &o, done_cb, &r[i], NULL), 0);
	assert_int_equal(http_client_active(c), 20);
	do {
		uv_run(&loop, UV_RUN_ONCE);
		done = 0;
		for (int i = 0; i < 20; i++)
			done += r[i].done;
	} while (done < 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(r[i].resp.status, 200);
	/* Two slow requests left in flight when the client closes: no callbacks. */
	url(u, sizeof(u), "127.0.0.1", "/_t/slow/2000");
	memset(r, 0, sizeof(r));
	assert_int_equal(http_request_start(c, &o, done_cb, &r[0], NULL), 0);
	assert_int_equal(http_request_start(c, &o, done_cb, &r[1], NULL), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	http_client_close(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r[0].done + r[1].done, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_file_url(void **state)
{
	char u[256], path[128];
	struct http_request_opts o = {.url = u};
	struct result r = {0};
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/feed.json", srv.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"ok\":true}", f);
	fclose(f);
	snprintf(u, sizeof(u), "file://%s", path);
	run_one(&o, &r);
	assert_int_equal(r.resp.error, 0);
	assert_string_equal(r.body, "{\"ok\":true}");
	snprintf(u, sizeof(u), "file://%s/missing.json", srv.dir);
	memset(&r, 0, sizeof(r));
	run_one(&o, &r);
	assert_int_equal(r.resp.error, -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_get_headers),
	        cmocka_unit_test(test_post_body),
	        cmocka_unit_test(test_streamed_upload),
	        cmocka_unit_test(test_body_limit),
	        cmocka_unit_test(test_timeouts),
	        cmocka_unit_test(test_connect_errors),
	        cmocka_unit_test(test_lost_cb),
	        cmocka_unit_test(test_streamed_response),
	        cmocka_unit_test(test_streamed_pause),
	        cmocka_unit_test(test_redirect_drops_auth),
	        cmocka_unit_test(test_concurrent_and_close),
	        cmocka_unit_test(test_file_url),
	};
	return cmocka_run_group_tests(tests, server_start, server_stop);
}
