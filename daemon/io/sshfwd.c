#include "sshfwd.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "sshurl.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define POLL_MS        100   /* looking for the local socket while connecting */
#define CONNECT_MS     30000 /* no forwarding by then: killed, a failure */
#define STABLE_MS      30000 /* up this long: the next restart starts the backoff afresh */
#define KILL_MS        3000  /* SIGTERM, then SIGKILL */
#define MAX_ARGS       48

struct sshfwd {
	uv_loop_t *loop;
	uv_process_t proc;
	uv_pipe_t err;    /* ssh's stderr */
	uv_timer_t timer; /* socket poll, connect limit, restart backoff, kill escalation */
	int open;         /* open handles among proc and err */
	bool running, exited, eof, ready, stopping, timed_out;
	int64_t status;
	int signal;
	uint64_t started_at, backoff_ms;
	char *host; /* for messages */
	char dir[4096], sock[108];
	char *args[MAX_ARGS];
	size_t n_args;
	bool args_failed;
	char line[512], last[256], state[400];
	size_t line_len;
	sshfwd_cb cb;
	void *arg;
};

static void spawn(struct sshfwd *f);

/* Appends an argument (an allocated copy). */
static void arg(struct sshfwd *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg(struct sshfwd *f, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (f->n_args >= MAX_ARGS - 1) {
		f->args_failed = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	f->args_failed |= !s;
	if (s)
		f->args[f->n_args++] = s;
}

/* A *_file setting resolved, as ssh takes it verbatim. */
static int resolve(const char *path, char *buf, size_t len)
{
	if (config_resolve_path(path, buf, len) < 0 || sshurl_check_file(buf) < 0)
		return -EINVAL;
	return 0;
}

static int build_args(struct sshfwd *f, const struct sshfwd_opts *o, const struct sshurl *u)
{
	static const char *const fixed[] = {"ssh",
	                                    "-F",
	                                    "/dev/null",
	                                    "-N",
	                                    "-T",
	                                    "-o",
	                                    "BatchMode=yes",
	                                    "-o",
	                                    "ExitOnForwardFailure=yes",
	                                    "-o",
	                                    "StrictHostKeyChecking=yes",
	                                    "-o",
	                                    "UpdateHostKeys=no",
	                                    "-o",
	                                    "ServerAliveInterval=15",
	                                    "-o",
	                                    "ServerAliveCountMax=3",
	                                    "-o",
	                                    "ConnectTimeout=10",
	                                    "-o",
	                                    "StreamLocalBindUnlink=yes",
	                                    "-o",
	                                    "StreamLocalBindMask=0177",
	                                    "-o",
	                                    "ControlPath=none",
	                                    "-o",
	                                    "ForwardAgent=no"};
	char path[4096];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		arg(f, "%s", fixed[i]);
	if (o->known_hosts) {
		if (resolve(o->known_hosts, path, sizeof(path)) < 0)
			return -EINVAL;
		arg(f, "-o");
		arg(f, "UserKnownHostsFile=%s", path);
		arg(f, "-o");
		arg(f, "GlobalKnownHostsFile=/dev/null");
	}
	if (o->key) {
		if (resolve(o->key, path, sizeof(path)) < 0)
			return -EINVAL;
		arg(f, "-i");
		arg(f, "%s", path);
		arg(f, "-o");
		arg(f, "IdentitiesOnly=yes");
		arg(f, "-o");
		arg(f, "IdentityAgent=none");
	}
	arg(f, "-L");
	arg(f, "%s:%s", f->sock, u->socket);
	arg(f, "-p");
	arg(f, "%u", u->port);
	arg(f, "-l");
	arg(f, "%s", u->user);
	arg(f, "--");
	arg(f, "%s", u->host);
	f->args[f->n_args] = NULL;
	return f->args_failed ? -ENOMEM : 0;
}

static void free_strs(struct sshfwd *f)
{
	for (size_t i = 0; i < f->n_args; i++)
		free(f->args[i]);
	free(f->host);
	free(f);
}

/* A private 0700 directory for the local socket, short enough for sun_path. */
static int make_dir(struct sshfwd *f, const char *dir)
{
	if (snprintf(f->dir, sizeof(f->dir), "%s/ssh-XXXXXX", dir) >= (int)sizeof(f->dir) ||
	    !mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		return errno ? -errno : -ENAMETOOLONG;
	}
	if (strlen(f->dir) + sizeof("/engine.sock") > 108) { /* sizeof(sockaddr_un.sun_path) */
		rmdir(f->dir);
		f->dir[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(f->sock, f->dir, strlen(f->dir));
	memcpy(f->sock + strlen(f->dir), "/engine.sock", sizeof("/engine.sock"));
	return 0;
}

int sshfwd_new(uv_loop_t *loop, const struct sshfwd_opts *o, sshfwd_cb cb, void *arg,
               struct sshfwd **ret)
{
	struct sshfwd *f = calloc(1, sizeof(*f));
	struct sshurl u;
	char err[200];
	int r;

	if (!f)
		return -ENOMEM;
	f->loop = loop;
	f->cb = cb;
	f->arg = arg;
	if (sshurl_parse(o->host, &u, err, sizeof(err)) < 0)
		r = -EINVAL;
	else if (!(f->host = strdup(o->host)))
		r = -ENOMEM;
	else
		r = make_dir(f, o->dir);
	if (r == 0 && (r = build_args(f, o, &u)) < 0)
		rmdir(f->dir);
	if (r < 0) {
		free_strs(f);
		return r;
	}
	uv_timer_init(loop, &f->timer);
	f->timer.data = f;
	snprintf(f->state, sizeof(f->state), "connecting over ssh");
	*ret = f;
	return 0;
}

const char *sshfwd_socket(const struct sshfwd *f)
{
	return f->sock;
}

bool sshfwd_ready(const struct sshfwd *f)
{
	return f->ready;
}

const char *sshfwd_state(const struct sshfwd *f)
{
	return f->state;
}

const char *sshfwd_last_line(const struct sshfwd *f)
{
	return f->last;
}

static void restart_cb(uv_timer_t *t)
{
	spawn(t->data);
}

/* Why ssh ended, in its own words when it said something. */
static void describe_exit(struct sshfwd *f, char *buf, size_t len)
{
	if (f->timed_out)
		snprintf(buf, len, "no forwarding after %d s", CONNECT_MS / 1000);
	else if (f->last[0])
		snprintf(buf, len, "%s", f->last);
	else if (f->signal)
		snprintf(buf, len, "ssh was killed by signal %d", f->signal);
	else
		snprintf(buf, len, "ssh exited with status %lld", (long long)f->status);
}

static void final_cb(uv_handle_t *h)
{
	struct sshfwd *f = h->data;

	unlink(f->sock);
	rmdir(f->dir);
	free_strs(f);
}

/* The child is gone and its handles closed: say why, start it again later. */
static void child_done(struct sshfwd *f)
{
	char why[300];
	bool was_ready = f->ready;

	f->running = false;
	f->ready = false;
	unlink(f->sock);
	if (f->stopping) {
		uv_close((uv_handle_t *)&f->timer, final_cb);
		return;
	}
	if (was_ready && uv_now(f->loop) - f->started_at >= STABLE_MS)
		f->backoff_ms = 0;
	f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (f->backoff_ms > BACKOFF_MAX_MS)
		f->backoff_ms = BACKOFF_MAX_MS;
	describe_exit(f, why, sizeof(why));
	snprintf(f->state, sizeof(f->state), "ssh: %s (restarting in %llu s)", why,
	         (unsigned long long)(f->backoff_ms / 1000));
	log_warn("engine %s: the ssh forwarder ended: %s; restarting in %llu s", f->host, why,
	         (unsigned long long)(f->backoff_ms / 1000));
	uv_timer_start(&f->timer, restart_cb, f->backoff_ms, 0);
	if (f->cb)
		f->cb(f, false, f->state, f->arg);
}

static void handle_closed(uv_handle_t *h)
{
	struct sshfwd *f = h->data;

	if (--f->open == 0)
		child_done(f);
}

/* ssh ended (exit_cb) and its stderr reached EOF: then both handles go. */
static void maybe_close(struct sshfwd *f)
{
	if (!f->exited || !f->eof)
		return;
	uv_timer_stop(&f->timer);
	uv_close((uv_handle_t *)&f->proc, handle_closed);
	if (!uv_is_closing((uv_handle_t *)&f->err))
		uv_close((uv_handle_t *)&f->err, handle_closed);
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct sshfwd *f = p->data;

	f->exited = true;
	f->status = status;
	f->signal = sig;
	maybe_close(f);
}

/* A line of ssh's stderr: logged, and the last meaningful one kept as the reason. */
static void on_line(struct sshfwd *f, char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	if (!n || !strncmp(line, "@@@", 3))
		return;
	if (!strncmp(line, "ssh: ", 5)) /* the reason is shown after "ssh: " already */
		line += 5;
	log_info("engine %s: ssh: %s", f->host, line);
	snprintf(f->last, sizeof(f->last), "%s", line);
}

static void err_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct sshfwd *f = h->data;

	(void)hint;
	buf->base = f->line + f->line_len;
	buf->len = sizeof(f->line) - 1 - f->line_len;
}

static void err_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct sshfwd *f = s->data;
	char *nl;

	(void)buf;
	if (n < 0) {
		if (f->line_len) {
			f->line[f->line_len] = '\0';
			on_line(f, f->line);
			f->line_len = 0;
		}
		uv_read_stop(s);
		f->eof = true;
		maybe_close(f);
		return;
	}
	f->line_len += (size_t)n;
	f->line[f->line_len] = '\0';
	while ((nl = strchr(f->line, '\n'))) {
		*nl = '\0';
		on_line(f, f->line);
		f->line_len -= (size_t)(nl + 1 - f->line);
		memmove(f->line, nl + 1, f->line_len + 1);
	}
	if (f->line_len == sizeof(f->line) - 1) { /* an overlong line: cut */
		on_line(f, f->line);
		f->line_len = 0;
	}
}

static void poll_cb(uv_timer_t *t)
{
	struct sshfwd *f = t->data;
	struct stat st;

	if (f->ready || f->exited)
		return;
	if (stat(f->sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
		f->ready = true;
		uv_timer_stop(t);
		snprintf(f->state, sizeof(f->state), "forwarding over ssh");
		log_info("engine %s: the ssh forwarder is up (pid %d)", f->host, f->proc.pid);
		if (f->cb)
			f->cb(f, true, NULL, f->arg);
	} else if (uv_now(f->loop) - f->started_at >= CONNECT_MS) {
		f->timed_out = true;
		uv_timer_stop(t);
		uv_process_kill(&f->proc, SIGKILL);
	}
}

static void spawn_failed(struct sshfwd *f, int e)
{
	snprintf(f->last, sizeof(f->last), "cannot run ssh: %s", uv_strerror(e));
	f->exited = f->eof = true;
	f->status = 255;
	uv_close((uv_handle_t *)&f->proc, handle_closed);
	uv_close((uv_handle_t *)&f->err, handle_closed);
}

/* Starts ssh with its stderr on a pipe, then looks for the local socket. */
static void spawn(struct sshfwd *f)
{
	uv_stdio_container_t io[3] = {{.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
	uv_process_options_t o = {.exit_cb = exit_cb,
	                          .file = f->args[0],
	                          .args = f->args,
	                          .stdio = io,
	                          .stdio_count = 3,
	                          .flags = UV_PROCESS_DETACHED};
	int e;

	f->running = true;
	f->exited = f->eof = f->ready = f->timed_out = false;
	f->status = 0;
	f->signal = 0;
	f->last[0] = '\0';
	f->line_len = 0;
	unlink(f->sock); /* a stale one would look ready */
	uv_pipe_init(f->loop, &f->err, 0);
	f->err.data = f;
	io[2] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
	                               .data.stream = (uv_stream_t *)&f->err};
	f->open = 2;
	f->started_at = uv_now(f->loop);
	e = uv_spawn(f->loop, &f->proc, &o);
	f->proc.data = f;
	if (e < 0) {
		spawn_failed(f, e);
		return;
	}
	log_debug("engine %s: ssh forwarder started (pid %d)", f->host, f->proc.pid);
	if (uv_read_start((uv_stream_t *)&f->err, err_alloc_cb, err_read_cb) < 0) {
		f->eof = true;
		uv_close((uv_handle_t *)&f->err, handle_closed);
	}
	uv_timer_start(&f->timer, poll_cb, POLL_MS, POLL_MS);
}

void sshfwd_start(struct sshfwd *f)
{
	if (!f->running && !f->stopping) {
		uv_timer_stop(&f->timer);
		spawn(f);
	}
}

static void kill_cb(uv_timer_t *t)
{
	struct sshfwd *f = t->data;

	if (f->running && !f->exited)
		uv_process_kill(&f->proc, SIGKILL);
}

void sshfwd_free(struct sshfwd *f)
{
	if (!f || f->stopping)
		return;
	f->stopping = true;
	f->cb = NULL;
	uv_timer_stop(&f->timer);
	if (!f->running) {
		uv_close((uv_handle_t *)&f->timer, final_cb);
		return;
	}
	if (!f->exited)
		uv_process_kill(&f->proc, SIGTERM);
	uv_timer_start(&f->timer, kill_cb, KILL_MS, 0);
}
