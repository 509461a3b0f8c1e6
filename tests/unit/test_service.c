/*
 * service: the sd_notify messages as a real NOTIFY_SOCKET datagram socket
 * receives them, watchdog pings from the loop timer, and the drain timer of
 * the graceful stop (done, timed out, freed while waiting).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "service.h"

struct bed {
	uv_loop_t loop;
	int sock;
	char path[108];
	uv_timer_t stop;
};

/* A private NOTIFY_SOCKET, the way systemd creates it (AF_UNIX datagrams). */
static int setup(void **state)
{
	struct bed *b = calloc(1, sizeof(*b));
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	assert_non_null(b);
	snprintf(b->path, sizeof(b->path), "/tmp/refit-notify-%d.sock", (int)getpid());
	unlink(b->path);
	b->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(b->sock >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", b->path);
	assert_int_equal(bind(b->sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setenv("NOTIFY_SOCKET", b->path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(uv_loop_init(&b->loop), 0);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bed *b = *state;

	uv_run(&b->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&b->loop), 0);
	close(b->sock);
	unlink(b->path);
	unsetenv("NOTIFY_SOCKET");
	free(b);
	return 0;
}

/* The next datagram, or "" when none is waiting. */
static const char *next_msg(struct bed *b, char *buf, size_t len)
{
	ssize_t n = recv(b->sock, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static char busy_text[] = "1 rebuild running";

static void fmt_status(char *buf, size_t len, void *arg)
{
	snprintf(buf, len, "%s", (const char *)arg);
}

static void test_ready_status_reload_stop(void **state)
{
	struct bed *b = *state;
	struct service *s = NULL;
	char m[512];

	assert_int_equal(service_new(&b->loop, fmt_status, busy_text, &s), 0);
	assert_true(service_notifying(s));
	assert_int_equal(service_watchdog_ms(s), 0);
	assert_string_equal(next_msg(b, m, sizeof(m)), ""); /* nothing before ready */
	service_ready(s);
	assert_string_equal(next_msg(b, m, sizeof(m)), "STATUS=1 rebuild running");
	assert_string_equal(next_msg(b, m, sizeof(m)), "READY=1");
	service_status(s, "1 rebuild running"); /* unchanged: not sent again */
	assert_string_equal(next_msg(b, m, sizeof(m)), "");
	service_reloading(s);
	assert_true(strncmp(next_msg(b, m, sizeof(m)), "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	service_ready(s);
	assert_string_equal(next_msg(b, m, sizeof(m)), "READY=1");
	service_stopping(s);
	assert_string_equal(next_msg(b, m, sizeof(m)), "STOPPING=1");
	service_free(s);
}

static void stop_loop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void run_for(struct bed *b, uint64_t ms)
{
	uv_timer_init(&b->loop, &b->stop);
	uv_timer_start(&b->stop, stop_loop, ms, 0);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&b->stop, NULL);
}

static void test_watchdog_pings(void **state)
{
	struct bed *b = *state;
	struct service *s = NULL;
	char m[512];
	int pings = 0;

	setenv("WATCHDOG_USEC", "40000", 1); /* 40 ms: a ping every 20 ms */
	assert_int_equal(service_new(&b->loop, NULL, NULL, &s), 0);
	assert_int_equal(service_watchdog_ms(s), 20);
	assert_null(getenv("WATCHDOG_USEC")); /* not passed on to children */
	run_for(b, 150);
	while (*next_msg(b, m, sizeof(m)))
		pings += !strcmp(m, "WATCHDOG=1");
	assert_true(pings >= 5); /* one at start, then every 20 ms */
	service_free(s);
}

static void test_watchdog_other_pid(void **state)
{
	struct bed *b = *state;
	struct service *s = NULL;

	setenv("WATCHDOG_USEC", "40000", 1);
	setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
	assert_int_equal(service_new(&b->loop, NULL, NULL, &s), 0);
	assert_int_equal(service_watchdog_ms(s), 0);
	service_free(s);
}

static void test_ping_interval(void **state)
{
	(void)state;
	assert_int_equal(service_ping_interval_ms(0), 0);
	assert_int_equal(service_ping_interval_ms(1), 1);
	assert_int_equal(service_ping_interval_ms(30000000), 15000);
}

struct drain_probe {
	size_t busy;
	int calls;
	bool timed_out;
	size_t left;
	uv_timer_t work;
};

static size_t probe_busy(void *arg)
{
	return ((struct drain_probe *)arg)->busy;
}

static void probe_done(bool timed_out, size_t still_busy, void *arg)
{
	struct drain_probe *p = arg;

	p->calls++;
	p->timed_out = timed_out;
	p->left = still_busy;
}

static void work_done(uv_timer_t *t)
{
	((struct drain_probe *)t->data)->busy = 0;
}

static void test_drain_waits_for_work(void **state)
{
	struct bed *b = *state;
	struct service *s = NULL;
	struct drain_probe p = {.busy = 2};
	char m[512];

	assert_int_equal(service_new(&b->loop, NULL, NULL, &s), 0);
	uv_timer_init(&b->loop, &p.work);
	p.work.data = &p;
	uv_timer_start(&p.work, work_done, 400, 0);
	assert_int_equal(service_drain(s, 5000, probe_busy, probe_done, &p), 0);
	assert_int_equal(service_drain(s, 5000, probe_busy, probe_done, &p), -EALREADY);
	assert_int_equal(p.calls, 0); /* never inside the call */
	run_for(b, 1000);
	assert_int_equal(p.calls, 1);
	assert_false(p.timed_out);
	assert_true(strstr(next_msg(b, m, sizeof(m)), "STATUS=Stopping: waiting for 2 running"));
	uv_close((uv_handle_t *)&p.work, NULL);
	service_free(s);
	uv_run(&b->loop, UV_RUN_DEFAULT); /* p.work lives on this stack frame */
}

static void test_drain_times_out(void **state)
{
	struct bed *b = *state;
	struct service *s = NULL;
	struct drain_probe p = {.busy = 1};

	assert_int_equal(service_new(&b->loop, NULL, NULL, &s), 0);
	assert_int_equal(service_drain(s, 300, probe_busy, probe_done, &p), 0);
	run_for(b, 1000);
	assert_int_equal(p.calls, 1);
	assert_true(p.timed_out);
	assert_int_equal(p.left, 1);
	service_free(s);
}

static void test_drain_freed_first(void **state)
{
	struct bed *b = *state;
	struct service *s = NULL;
	struct drain_probe p = {.busy = 1};

	assert_int_equal(service_new(&b->loop, NULL, NULL, &s), 0);
	assert_int_equal(service_drain(s, 100, probe_busy, probe_done, &p), 0);
	service_free(s);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	assert_int_equal(p.calls, 0);
}

static void test_without_manager(void **state)
{
	struct bed *b = *state;
	struct service *s = NULL;
	char m[512];

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(service_new(&b->loop, fmt_status, busy_text, &s), 0);
	assert_false(service_notifying(s));
	service_ready(s);
	service_stopping(s);
	assert_string_equal(next_msg(b, m, sizeof(m)), "");
	service_free(s);
	service_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_ready_status_reload_stop, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_watchdog_pings, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_watchdog_other_pid, setup, teardown),
	        cmocka_unit_test(test_ping_interval),
	        cmocka_unit_test_setup_teardown(test_drain_waits_for_work, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_drain_times_out, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_drain_freed_first, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_without_manager, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
