/*
 * service — refitd's side of the service manager protocol (sd_notify).
 *
 * READY=1 once start-up is complete, RELOADING=1/READY=1 around a reload,
 * STOPPING=1 on the way out, STATUS= lines with a one-line summary that the
 * owner formats, and WATCHDOG=1 from a loop timer at half the interval the
 * manager asked for (WATCHDOG_USEC): when the loop is stuck the pings stop
 * and systemd restarts the daemon. Without NOTIFY_SOCKET every call is a
 * no-op, so refitd behaves the same by hand and under systemd.
 *
 * The graceful stop lives here too: service_drain waits on a loop timer
 * until the owner's work is done or a time limit passed, and says so in
 * STATUS= while it waits.
 */
#ifndef REFIT_SERVICE_H
#define REFIT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct service;

/* Writes a one-line summary ("2 rebuilds running, 3 queued...") into buf. */
typedef void (*service_status_cb)(char *buf, size_t len, void *arg);
/* Number of things the stop still waits for (running rebuilds). */
typedef size_t (*service_busy_cb)(void *arg);
/* The drain ended: nothing is busy any more, or the limit passed (timed_out). */
typedef void (*service_drained_cb)(bool timed_out, size_t still_busy, void *arg);

/*
 * Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID and starts the watchdog
 * timer when asked for. status_cb (may be NULL) is polled every few seconds;
 * a changed summary is sent as STATUS=.
 */
int service_new(uv_loop_t *loop, service_status_cb status_cb, void *arg, struct service **ret);

/* Start-up or a reload is complete: READY=1 with the current STATUS=. */
void service_ready(struct service *s);

/* A reload begins (SIGHUP): RELOADING=1; service_ready ends it. */
void service_reloading(struct service *s);

/* Sends STATUS=text now, when it differs from the last one sent. */
void service_status(struct service *s, const char *text);

/* Shutdown begins: STOPPING=1. The watchdog keeps pinging while the loop runs. */
void service_stopping(struct service *s);

/*
 * Waits, polling busy_cb on a timer, until it returns 0 or limit_ms passed,
 * then calls done_cb exactly once (not at all when the service is freed
 * first). Returns -EALREADY when a drain is already under way.
 */
int service_drain(struct service *s, uint64_t limit_ms, service_busy_cb busy_cb,
                  service_drained_cb done_cb, void *arg);

/* Interval between watchdog pings in ms, 0 when the manager asked for none. */
uint64_t service_watchdog_ms(const struct service *s);

/* True when a service manager listens (NOTIFY_SOCKET is set). */
bool service_notifying(const struct service *s);

/* Stops the timers; freed from the last close callback. Accepts NULL. */
void service_free(struct service *s);

/* Half the watchdog interval in ms, at least 1 (0 stays 0): the ping period. */
uint64_t service_ping_interval_ms(uint64_t watchdog_usec);

#endif
