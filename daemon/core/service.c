#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"

/* How often the owner's summary is looked at; STATUS= is sent only on change. */
#define STATUS_POLL_MS 5000
/* How often a drain asks whether the rebuilds are done. */
#define DRAIN_POLL_MS 250
#define STATUS_MAX    256

struct service {
	uv_loop_t *loop;
	uv_timer_t watchdog, status, drain;
	service_status_cb status_cb;
	void *arg;
	uint64_t ping_ms; /* 0: no watchdog */
	bool notify;      /* NOTIFY_SOCKET is set */
	bool send_failed; /* logged once */
	char last_status[STATUS_MAX];
	struct {
		bool active;
		uint64_t deadline; /* loop time */
		service_busy_cb busy;
		service_drained_cb done;
		void *arg;
	} dr;
	int closing;
};

uint64_t service_ping_interval_ms(uint64_t watchdog_usec)
{
	uint64_t ms = watchdog_usec / 2000;

	return watchdog_usec && ms == 0 ? 1 : ms;
}

/*
 * One datagram to the manager. A failure under systemd matters (a missing
 * READY=1 or WATCHDOG=1 gets us killed), so it is logged, but only once.
 */
static void notify(struct service *s, const char *msg)
{
	int r;

	if (!s->notify)
		return;
	r = sd_notify(0, msg);
	if (r < 0 && !s->send_failed) {
		s->send_failed = true;
		log_warn("sd_notify to $NOTIFY_SOCKET failed: %s", strerror(-r));
	} else if (r >= 0) {
		s->send_failed = false;
	}
}

void service_status(struct service *s, const char *text)
{
	char msg[STATUS_MAX + 8];

	if (!s || !strcmp(text, s->last_status))
		return;
	snprintf(s->last_status, sizeof(s->last_status), "%s", text);
	snprintf(msg, sizeof(msg), "STATUS=%s", s->last_status);
	notify(s, msg);
}

static void poll_status(struct service *s)
{
	char buf[STATUS_MAX] = "";

	if (!s->status_cb || s->dr.active)
		return;
	s->status_cb(buf, sizeof(buf), s->arg);
	service_status(s, buf);
}

static void watchdog_timer_cb(uv_timer_t *t)
{
	notify(t->data, "WATCHDOG=1");
}

static void status_timer_cb(uv_timer_t *t)
{
	poll_status(t->data);
}

int service_new(uv_loop_t *loop, service_status_cb status_cb, void *arg, struct service **ret)
{
	struct service *s = calloc(1, sizeof(*s));
	uint64_t usec = 0;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->status_cb = status_cb;
	s->arg = arg;
	s->notify = getenv("NOTIFY_SOCKET") != NULL;
	/* unset: the credential helpers we spawn are not the ones being watched */
	if (sd_watchdog_enabled(1, &usec) > 0)
		s->ping_ms = service_ping_interval_ms(usec);
	uv_timer_t *timers[] = {&s->watchdog, &s->status, &s->drain};
	for (size_t i = 0; i < 3; i++) {
		uv_timer_init(loop, timers[i]);
		timers[i]->data = s;
	}
	if (s->ping_ms) {
		notify(s, "WATCHDOG=1"); /* start-up before the loop runs counts too */
		uv_timer_start(&s->watchdog, watchdog_timer_cb, s->ping_ms, s->ping_ms);
		log_debug("watchdog: pinging every %llu ms", (unsigned long long)s->ping_ms);
	}
	if (s->notify && status_cb)
		uv_timer_start(&s->status, status_timer_cb, STATUS_POLL_MS, STATUS_POLL_MS);
	*ret = s;
	return 0;
}

void service_ready(struct service *s)
{
	if (!s)
		return;
	poll_status(s);
	notify(s, "READY=1");
}

void service_reloading(struct service *s)
{
	struct timespec ts;
	char msg[64];

	if (!s)
		return;
	/* MONOTONIC_USEC lets Type=notify-reload (systemd >= 253) match the reload */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)ts.tv_sec * 1000000ULL +
	                 (unsigned long long)ts.tv_nsec / 1000);
	notify(s, msg);
}

void service_stopping(struct service *s)
{
	if (!s)
		return;
	notify(s, "STOPPING=1");
}

static void drain_finish(struct service *s, bool timed_out, size_t busy)
{
	service_drained_cb done = s->dr.done;
	void *arg = s->dr.arg;

	uv_timer_stop(&s->drain);
	memset(&s->dr, 0, sizeof(s->dr));
	done(timed_out, busy, arg); /* last: it may free s */
}

static void drain_timer_cb(uv_timer_t *t)
{
	struct service *s = t->data;
	size_t busy = s->dr.busy(s->dr.arg);
	uint64_t now = uv_now(s->loop);
	char text[STATUS_MAX];

	if (busy == 0 || now >= s->dr.deadline) {
		drain_finish(s, busy != 0, busy);
		return;
	}
	snprintf(text, sizeof(text), "Stopping: waiting for %zu running rebuild%s (at most %llu s)",
	         busy, busy == 1 ? "" : "s",
	         (unsigned long long)((s->dr.deadline - now + 999) / 1000));
	service_status(s, text);
}

int service_drain(struct service *s, uint64_t limit_ms, service_busy_cb busy_cb,
                  service_drained_cb done_cb, void *arg)
{
	if (s->dr.active)
		return -EALREADY;
	s->dr.active = true;
	s->dr.deadline = uv_now(s->loop) + limit_ms;
	s->dr.busy = busy_cb;
	s->dr.done = done_cb;
	s->dr.arg = arg;
	uv_timer_stop(&s->status); /* the drain owns STATUS= from now on */
	/* the first look is on the next loop turn: done_cb never runs inside this call */
	uv_timer_start(&s->drain, drain_timer_cb, 0, DRAIN_POLL_MS);
	return 0;
}

uint64_t service_watchdog_ms(const struct service *s)
{
	return s ? s->ping_ms : 0;
}

bool service_notifying(const struct service *s)
{
	return s && s->notify;
}

static void closed(uv_handle_t *h)
{
	struct service *s = h->data;

	if (--s->closing == 0)
		free(s);
}

void service_free(struct service *s)
{
	if (!s)
		return;
	s->dr.active = false;
	s->closing = 3;
	uv_close((uv_handle_t *)&s->watchdog, closed);
	uv_close((uv_handle_t *)&s->status, closed);
	uv_close((uv_handle_t *)&s->drain, closed);
}
