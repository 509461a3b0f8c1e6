/*
 * creds — see creds.h. The file reads in the order of a lookup: secret
 * files, the cache, delivery, helper runs, the sources of an answer, then the
 * life cycle. The pure parts (parsers, base64, encoders) are in creds_parse.c.
 */
#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "creds_parse.h"
#include "errf.h"
#include "fileread.h"
#include "log.h"

#define SECRET_FILE_MAX    (16 * 1024)   /* a username or password file */
#define DOCKERCFG_MAX      (1024 * 1024) /* config.json */
#define HELPER_OUT_MAX     (64 * 1024)   /* a helper's stdout */
#define HELPER_ERR_MAX     512           /* the part of its stderr kept for the message */
#define HELPER_MSG_MAX     160           /* helper text quoted in an error */
#define CACHE_MAX          256           /* hosts */
#define ERR_MAX            512
#define DEFAULT_CACHE_MS   (5 * 60 * 1000)
#define DEFAULT_TIMEOUT_MS (10 * 1000)

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* ---- files ---- */

/* Reads one secret file: trailing newlines dropped, no NUL, not empty. A password file that
 * every user may read is used, with one warning per creds object. */
static int read_secret(const char *what, const char *path, bool *warned, char **ret, char *err,
                       size_t errlen)
{
	char full[4096], why[64], *s = NULL;
	size_t len;
	mode_t mode;
	int r;

	if (config_resolve_path(path, full, sizeof(full)) < 0) {
		errf(err, errlen, 0, "%s %s: path too long", what, path);
		return -ENAMETOOLONG;
	}
	r = fileread_small(full, SECRET_FILE_MAX, &s, &len, &mode);
	if (r < 0) {
		errf(err, errlen, 0, "%s %s: %s", what, full,
		     fileread_error(r, why, sizeof(why), SECRET_FILE_MAX));
		return r;
	}
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (len == 0 || memchr(s, '\0', len)) {
		errf(err, errlen, 0, "%s %s: %s", what, full,
		     len ? "contains a NUL byte" : "is empty");
		explicit_bzero(s, len);
		free(s);
		return -EINVAL;
	}
	if (warned && !*warned && (mode & S_IROTH)) {
		log_warn("%s %s is readable by every user of this host", what, full);
		*warned = true;
	}
	*ret = s;
	return 0;
}

/* ---- the credential source ---- */

struct reg {
	char host[CREDS_HOST_MAX]; /* canonical */
	char *user_file, *pass_file;
	bool warned; /* about a world-readable password file */
};

/* One started lookup, until its callback has run. */
struct lookup {
	struct lookup *next; /* in creds.ready, creds.batch or run.waiters */
	creds_cb cb;
	void *arg;
	int status;
	struct creds_entry entry;
	char err[ERR_MAX];
};

/* One docker-credential-<name> get, shared by the lookups of its host. */
struct run {
	struct run *next;
	struct creds *c;
	char host[CREDS_HOST_MAX];
	char name[CREDS_HELPER_NAME_MAX + 1];
	uv_process_t proc;
	uv_pipe_t out, errp;
	uv_timer_t timer;
	int open;       /* handles not closed yet */
	bool proc_init; /* uv_spawn was called: proc must be closed */
	bool spawned;   /* the child runs until exit_cb */
	bool exited, out_eof, err_eof, finished;
	int fail; /* why we gave up: a spawn error, -ETIMEDOUT, -EMSGSIZE, -ENOMEM */
	int64_t exit_status;
	int term_signal;
	char *obuf; /* HELPER_OUT_MAX + 2: one byte to notice overflow, one for the NUL */
	size_t olen;
	char ebuf[HELPER_ERR_MAX + 1];
	size_t elen;
	char scratch[256]; /* stderr past HELPER_ERR_MAX is read here and dropped */
	struct lookup *waiters;
};

struct cache_ent {
	struct cache_ent *next; /* newest first */
	uint64_t expires;
	struct creds_entry entry;
	char host[CREDS_HOST_MAX];
};

struct creds {
	uv_loop_t *loop;
	struct reg *regs;
	size_t n_regs;
	char *docker_config; /* NULL: none */
	uint64_t cache_ms, timeout_ms;
	uv_idle_t idle; /* delivers answers from the loop, never inside creds_lookup */
	struct lookup *ready, **ready_tail;
	struct lookup *batch; /* being delivered now */
	struct run *runs;     /* helpers not finished yet */
	struct cache_ent *cache;
	size_t n_cache;
	int open; /* the idle handle and each run not freed yet */
	bool closing;
};

/* ---- cache ---- */

static void cache_ent_free(struct cache_ent *e)
{
	creds_entry_done(&e->entry);
	free(e);
}

static struct cache_ent **cache_find(struct creds *c, const char *host)
{
	struct cache_ent **p;

	for (p = &c->cache; *p; p = &(*p)->next)
		if (!strcasecmp((*p)->host, host))
			break;
	return p;
}

static void cache_unlink(struct creds *c, struct cache_ent **p)
{
	struct cache_ent *e = *p;

	*p = e->next;
	c->n_cache--;
	cache_ent_free(e);
}

static const struct creds_entry *cache_get(struct creds *c, const char *host)
{
	struct cache_ent **p = cache_find(c, host);

	if (!*p)
		return NULL;
	if (uv_now(c->loop) < (*p)->expires)
		return &(*p)->entry;
	cache_unlink(c, p);
	return NULL;
}

/* Remembers a successful answer; running out of memory here only costs a cache miss. */
static void cache_put(struct creds *c, const char *host, const struct creds_entry *entry)
{
	struct cache_ent **p, *e;
	uint64_t now = uv_now(c->loop);

	if (c->cache_ms == CREDS_CACHE_OFF)
		return;
	if (*(p = cache_find(c, host)))
		cache_unlink(c, p);
	if (c->n_cache >= CACHE_MAX) {
		for (p = &c->cache; (*p)->next; p = &(*p)->next)
			;
		cache_unlink(c, p);
	}
	e = calloc(1, sizeof(*e));
	if (!e || creds_entry_copy(&e->entry, entry) < 0) {
		free(e);
		return;
	}
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->expires = c->cache_ms > UINT64_MAX - now ? UINT64_MAX : now + c->cache_ms;
	e->next = c->cache;
	c->cache = e;
	c->n_cache++;
}

static void cache_clear(struct creds *c)
{
	while (c->cache)
		cache_unlink(c, &c->cache);
}

/* ---- lookups and their delivery ---- */

static void lookup_free(struct lookup *l)
{
	creds_entry_done(&l->entry);
	free(l);
}

static void lookups_free(struct lookup *l)
{
	struct lookup *next;

	for (; l; l = next) {
		next = l->next;
		lookup_free(l);
	}
}

__attribute__((format(printf, 3, 4))) static void lookup_fail(struct lookup *l, int status,
                                                              const char *fmt, ...)
{
	va_list ap;

	creds_entry_done(&l->entry);
	l->status = status;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
}

/*
 * Runs the callbacks of the answers queued so far. A callback may start
 * lookups (delivered on a later turn), cancel them, or free c: creds_free
 * empties c->batch, and c itself lives until its handles are closed.
 */
static void deliver_cb(uv_idle_t *h)
{
	struct creds *c = container_of(h, struct creds, idle);
	struct lookup *l;

	uv_idle_stop(h);
	c->batch = c->ready;
	c->ready = NULL;
	c->ready_tail = &c->ready;
	while ((l = c->batch)) {
		c->batch = l->next;
		l->entry.error = l->status < 0 ? l->err : "";
		l->cb(l->status, &l->entry, l->arg);
		lookup_free(l);
	}
}

static void queue_ready(struct creds *c, struct lookup *l)
{
	l->next = NULL;
	*c->ready_tail = l;
	c->ready_tail = &l->next;
	uv_idle_start(&c->idle, deliver_cb);
}

static void creds_final_free(struct creds *c)
{
	for (size_t i = 0; i < c->n_regs; i++) {
		free(c->regs[i].user_file);
		free(c->regs[i].pass_file);
	}
	free(c->regs);
	free(c->docker_config);
	cache_clear(c);
	free(c);
}

static void creds_release(struct creds *c)
{
	if (--c->open == 0)
		creds_final_free(c);
}

/* ---- helper runs ---- */

static void run_finish(struct run *r);

static void run_closed_cb(uv_handle_t *h)
{
	struct run *r = h->data;
	struct creds *c = r->c;

	if (--r->open > 0)
		return;
	if (r->obuf) {
		explicit_bzero(r->obuf, HELPER_OUT_MAX + 2);
		free(r->obuf);
	}
	lookups_free(r->waiters);
	free(r);
	creds_release(c);
}

/* Closes the handles; a child still running keeps its handle until exit_cb. */
static void run_close(struct run *r)
{
	uv_handle_t *hs[] = {(uv_handle_t *)&r->out, (uv_handle_t *)&r->errp,
	                     (uv_handle_t *)&r->timer, (uv_handle_t *)&r->proc};
	size_t n = r->proc_init && (!r->spawned || r->exited) ? 4 : 3;

	for (size_t i = 0; i < n; i++)
		if (!uv_is_closing(hs[i]))
			uv_close(hs[i], run_closed_cb);
}

static void run_unlink(struct run *r)
{
	struct run **p;

	for (p = &r->c->runs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			return;
		}
}

/* The run is over once the child exited and both pipes hit EOF, or when we gave up on it
 * (a grandchild may hold the pipes open). */
static void run_check(struct run *r)
{
	if (r->finished || !r->exited)
		return;
	if (!r->fail && !(r->out_eof && r->err_eof))
		return;
	run_finish(r);
}

/* Kills the helper and what it started: it leads its own process group (UV_PROCESS_DETACHED).
 * Only while it is not reaped, so the group id cannot belong to anyone else. */
static void run_kill(struct run *r)
{
	if (r->spawned && !r->exited && uv_kill(-r->proc.pid, SIGKILL) < 0)
		uv_process_kill(&r->proc, SIGKILL);
}

static void run_fail(struct run *r, int code)
{
	if (!r->fail)
		r->fail = code;
	uv_read_stop((uv_stream_t *)&r->out);
	uv_read_stop((uv_stream_t *)&r->errp);
	run_kill(r);
	run_check(r);
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct run *r = container_of(p, struct run, proc);

	r->exited = true;
	r->exit_status = status;
	r->term_signal = sig;
	if (r->finished) /* abandoned by creds_free */
		uv_close((uv_handle_t *)p, run_closed_cb);
	else
		run_check(r);
}

static void timeout_cb(uv_timer_t *t)
{
	run_fail(t->data, -ETIMEDOUT);
}

static void out_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct run *r = h->data;

	(void)hint;
	if (!r->obuf)
		r->obuf = malloc(HELPER_OUT_MAX + 2);
	buf->base = r->obuf ? r->obuf + r->olen : NULL;
	buf->len = r->obuf ? HELPER_OUT_MAX + 1 - r->olen : 0;
}

static void out_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct run *r = s->data;

	(void)buf;
	if (n > 0) {
		r->olen += (size_t)n;
		if (r->olen > HELPER_OUT_MAX)
			run_fail(r, -EMSGSIZE);
	} else if (n == UV_ENOBUFS) {
		run_fail(r, -ENOMEM);
	} else if (n < 0) {
		uv_read_stop(s);
		r->out_eof = true;
		run_check(r);
	}
}

static void err_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct run *r = h->data;

	(void)hint;
	if (r->elen < HELPER_ERR_MAX) {
		buf->base = r->ebuf + r->elen;
		buf->len = HELPER_ERR_MAX - r->elen;
	} else {
		buf->base = r->scratch;
		buf->len = sizeof(r->scratch);
	}
}

static void err_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct run *r = s->data;

	if (n > 0 && buf->base != r->scratch)
		r->elen += (size_t)n;
	if (n >= 0)
		return;
	uv_read_stop(s);
	r->err_eof = true;
	run_check(r);
}

/*
 * Starts docker-credential-<name> get with the server URL on stdin. The URL
 * (< 300 bytes) fits in a pipe's buffer, so it is written and the pipe closed
 * before the child starts: no writer on the loop and no SIGPIPE if the
 * helper never reads it.
 */
static void run_spawn(struct run *r)
{
	char file[sizeof("docker-credential-") + CREDS_HELPER_NAME_MAX], get[] = "get";
	char *args[] = {file, get, NULL};
	const char *url = creds_server_address(r->host);
	uv_stdio_container_t io[3];
	uv_process_options_t o = {
	        .exit_cb = exit_cb, .file = file, .args = args, .flags = UV_PROCESS_DETACHED};
	int fds[2], e;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		r->fail = -errno;
		return;
	}
	e = write(fds[1], url, strlen(url)) == (ssize_t)strlen(url) ? 0 : -EIO;
	close(fds[1]);
	snprintf(file, sizeof(file), "docker-credential-%s", r->name);
	io[0] = (uv_stdio_container_t){.flags = UV_INHERIT_FD, .data.fd = fds[0]};
	io[1] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
	                               .data.stream = (uv_stream_t *)&r->out};
	io[2] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
	                               .data.stream = (uv_stream_t *)&r->errp};
	o.stdio = io;
	o.stdio_count = 3;
	if (e == 0) {
		r->proc_init = true;
		r->open++;
		e = uv_spawn(r->c->loop, &r->proc, &o);
		r->proc.data = r;
	}
	close(fds[0]);
	if (e < 0) {
		r->fail = e;
		return;
	}
	r->spawned = true;
	log_debug("creds: docker-credential-%s get for %s (pid %d)", r->name, r->host, r->proc.pid);
	if (uv_read_start((uv_stream_t *)&r->out, out_alloc_cb, out_read_cb) < 0 ||
	    uv_read_start((uv_stream_t *)&r->errp, err_alloc_cb, err_read_cb) < 0)
		run_fail(r, -EIO);
	else
		uv_timer_start(&r->timer, timeout_cb, r->c->timeout_ms, 0);
}

static int run_start(struct creds *c, const char *canon, const char *name, struct lookup *l)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->c = c;
	snprintf(r->host, sizeof(r->host), "%s", canon);
	snprintf(r->name, sizeof(r->name), "%s", name);
	uv_pipe_init(c->loop, &r->out, 0);
	uv_pipe_init(c->loop, &r->errp, 0);
	uv_timer_init(c->loop, &r->timer);
	r->out.data = r->errp.data = r->timer.data = r;
	r->open = 3;
	l->next = NULL;
	r->waiters = l;
	r->next = c->runs;
	c->runs = r;
	c->open++;
	run_spawn(r);
	if (!r->spawned) {
		r->exited = true; /* nothing to wait for: the error goes to the waiter */
		run_finish(r);
	}
	return 0;
}

/* Joins a run already asking the same helper for host, else starts one. */
static int run_join(struct creds *c, const char *canon, const char *name, struct lookup *l)
{
	struct lookup **p;

	for (struct run *r = c->runs; r; r = r->next) {
		if (strcasecmp(r->host, canon) || strcmp(r->name, name))
			continue;
		for (p = &r->waiters; *p; p = &(*p)->next)
			;
		l->next = NULL;
		*p = l;
		return 0;
	}
	return run_start(c, canon, name, l);
}

/* Ends a run for creds_free: no callbacks, the child killed, handles closed. */
static void run_abandon(struct run *r)
{
	lookups_free(r->waiters);
	r->waiters = NULL;
	r->finished = true;
	uv_timer_stop(&r->timer);
	uv_read_stop((uv_stream_t *)&r->out);
	uv_read_stop((uv_stream_t *)&r->errp);
	run_kill(r);
	run_close(r);
}

/* ---- helper results ---- */

/* Copies printable text of s into buf, runs of other bytes turned into one space. */
static void sanitize(const char *s, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++) {
		bool ok = s[i] >= 0x20 && s[i] < 0x7f;
		if (ok || (o > 0 && buf[o - 1] != ' '))
			buf[o++] = ok ? s[i] : ' ';
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
}

/*
 * The helper's own words for a failure: stderr, else stdout (docker's helpers
 * print errors there), but never stdout that looks like JSON, which may
 * carry the secret.
 */
static void helper_message(const struct run *r, char *buf, size_t len)
{
	sanitize(r->ebuf, r->elen, buf, len);
	if (!*buf && r->obuf && !memchr(r->obuf, '{', r->olen))
		sanitize(r->obuf, r->olen, buf, len);
}

static bool helper_not_found(const struct run *r)
{
	return (r->obuf && strcasestr(r->obuf, "credentials not found")) ||
	       strcasestr(r->ebuf, "credentials not found");
}

/* Why a run failed before we could read an answer, in tail. */
static int run_failure(const struct run *r, char *tail, size_t len)
{
	char msg[HELPER_MSG_MAX + 1];

	if (r->fail == -ETIMEDOUT)
		errf(tail, len, 0, "no answer within %llu ms",
		     (unsigned long long)r->c->timeout_ms);
	else if (r->fail == -EMSGSIZE)
		errf(tail, len, 0, "output larger than %d bytes", HELPER_OUT_MAX);
	else if (r->fail == -ENOENT)
		errf(tail, len, 0, "not found on PATH");
	else if (r->fail)
		errf(tail, len, 0, "%s", strerror(-r->fail));
	if (r->fail)
		return r->fail;
	helper_message(r, msg, sizeof(msg));
	if (r->term_signal)
		errf(tail, len, 0, "killed by signal %d%s%s", r->term_signal, *msg ? ": " : "",
		     msg);
	else
		errf(tail, len, 0, "exited with status %lld%s%s", (long long)r->exit_status,
		     *msg ? ": " : "", msg);
	return -EIO;
}

/* The answer of a finished run, or an error message in err. */
static int run_result(struct run *r, struct creds_entry *e, char *err, size_t len)
{
	int n = snprintf(err, len, "credential helper docker-credential-%s for %s: ", r->name,
	                 r->host);
	size_t off = n > 0 && (size_t)n < len ? (size_t)n : 0;
	int status;

	if (r->obuf)
		r->obuf[r->olen] = '\0';
	r->ebuf[r->elen] = '\0';
	if (!r->fail && !r->term_signal && r->exit_status != 0 && helper_not_found(r))
		status = 0; /* anonymous */
	else if (r->fail || r->term_signal || r->exit_status != 0)
		return run_failure(r, err + off, len - off);
	else
		status = creds_parse_helper_output(r->obuf ? r->obuf : "", r->olen, e, err + off,
		                                   len - off);
	if (status == 0)
		snprintf(e->source, sizeof(e->source), "helper %s", r->name);
	return status;
}

/* Hands the run's answer to every lookup waiting for it, caches it, closes the run. */
static void run_finish(struct run *r)
{
	struct creds_entry e = {.kind = CREDS_ANONYMOUS};
	struct creds *c = r->c;
	char err[ERR_MAX];
	struct lookup *l;
	int status;

	r->finished = true;
	uv_timer_stop(&r->timer);
	uv_read_stop((uv_stream_t *)&r->out);
	uv_read_stop((uv_stream_t *)&r->errp);
	run_unlink(r);
	status = run_result(r, &e, err, sizeof(err));
	if (status == 0)
		cache_put(c, r->host, &e);
	while ((l = r->waiters)) {
		r->waiters = l->next;
		l->status = status;
		if (status < 0)
			snprintf(l->err, sizeof(l->err), "%s", err);
		else if (creds_entry_copy(&l->entry, &e) < 0)
			lookup_fail(l, -ENOMEM, "out of memory");
		queue_ready(c, l);
	}
	creds_entry_done(&e);
	run_close(r);
}

/* ---- where the answers come from ---- */

/* refit's own registries: entry; 1 when it names credential files for canon. */
static int from_config(struct creds *c, const char *canon, struct lookup *l)
{
	char *user = NULL, *pass = NULL;

	for (size_t i = 0; i < c->n_regs; i++) {
		struct reg *g = &c->regs[i];
		if (strcasecmp(g->host, canon))
			continue;
		snprintf(l->entry.source, sizeof(l->entry.source), "config");
		l->status = read_secret("username file", g->user_file, NULL, &user, l->err,
		                        sizeof(l->err));
		if (l->status == 0)
			l->status = read_secret("password file", g->pass_file, &g->warned, &pass,
			                        l->err, sizeof(l->err));
		if (l->status == 0) {
			l->entry.kind = CREDS_BASIC;
			l->entry.username = user;
			l->entry.secret = pass;
			user = pass = NULL;
		}
		creds_secret_free(user);
		creds_secret_free(pass);
		return 1;
	}
	return 0;
}

/* Docker's config.json: answers l, or names the helper to ask in helper. */
static void from_dockercfg(struct creds *c, const char *canon, struct lookup *l, char *helper)
{
	struct creds_dockercfg cfg;
	char why[96], *text = NULL;
	size_t len;
	int r;

	snprintf(l->entry.source, sizeof(l->entry.source), "none");
	if (!c->docker_config)
		return;
	r = fileread_small(c->docker_config, DOCKERCFG_MAX, &text, &len, NULL);
	if (r == -ENOENT || r == -ENOTDIR)
		return;
	if (r < 0) {
		lookup_fail(l, r, "%s: %s", c->docker_config,
		            fileread_error(r, why, sizeof(why), DOCKERCFG_MAX));
		return;
	}
	r = creds_parse_dockercfg(text, len, canon, &cfg, why, sizeof(why));
	explicit_bzero(text, len);
	free(text);
	if (r < 0) {
		lookup_fail(l, r, "%s: %s", c->docker_config, why);
		return;
	}
	snprintf(helper, CREDS_HELPER_NAME_MAX + 1, "%s", cfg.helper);
	l->entry = cfg.entry;
}

/* Answers l from the cache or the files (queued for delivery), or hands it to a helper. */
static int resolve(struct creds *c, const char *canon, struct lookup *l)
{
	char helper[CREDS_HELPER_NAME_MAX + 1] = "";
	const struct creds_entry *hit = cache_get(c, canon);

	if (hit) {
		if (creds_entry_copy(&l->entry, hit) < 0)
			return -ENOMEM;
		queue_ready(c, l);
		return 0;
	}
	if (!from_config(c, canon, l))
		from_dockercfg(c, canon, l, helper);
	if (helper[0])
		return run_join(c, canon, helper, l);
	if (l->status == 0)
		cache_put(c, canon, &l->entry);
	queue_ready(c, l);
	return 0;
}

int creds_lookup(struct creds *c, const char *host, creds_cb cb, void *arg)
{
	char canon[CREDS_HOST_MAX];
	struct lookup *l;
	int r;

	if (!c || c->closing || !host || !cb)
		return -EINVAL;
	if (creds_canon_host(host, canon, sizeof(canon)) < 0)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cb = cb;
	l->arg = arg;
	r = resolve(c, canon, l);
	if (r < 0)
		lookup_free(l);
	return r;
}

/* Drops the lookups of cb and arg from a list, leaving *tail at its end. */
static void cancel_in(struct lookup **p, creds_cb cb, void *arg, struct lookup ***tail)
{
	while (*p) {
		struct lookup *l = *p;
		if (l->cb == cb && l->arg == arg) {
			*p = l->next;
			lookup_free(l);
		} else {
			p = &l->next;
		}
	}
	if (tail)
		*tail = p;
}

void creds_lookup_cancel(struct creds *c, creds_cb cb, void *arg)
{
	if (!c)
		return;
	cancel_in(&c->ready, cb, arg, &c->ready_tail);
	cancel_in(&c->batch, cb, arg, NULL);
	/* A run left without waiters still finishes and fills the cache. */
	for (struct run *r = c->runs; r; r = r->next)
		cancel_in(&r->waiters, cb, arg, NULL);
}

void creds_invalidate(struct creds *c, const char *host)
{
	char canon[CREDS_HOST_MAX];
	struct cache_ent **p;

	if (!c || !host || creds_canon_host(host, canon, sizeof(canon)) < 0)
		return;
	if (*(p = cache_find(c, canon)))
		cache_unlink(c, p);
}

void creds_invalidate_all(struct creds *c)
{
	while (c && c->cache) {
		struct cache_ent **p = &c->cache;
		cache_unlink(c, p);
	}
}

/* ---- life cycle ---- */

static int copy_registries(struct creds *c, const struct creds_opts *o)
{
	if (!o || !o->n_registries)
		return 0;
	c->regs = calloc(o->n_registries, sizeof(*c->regs));
	if (!c->regs)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_registries; i++) {
		const struct config_registry *g = &o->registries[i];
		struct reg *d = &c->regs[c->n_regs];
		if (!g->host || !g->username_file || !g->password_file)
			continue;
		if (creds_canon_host(g->host, d->host, sizeof(d->host)) < 0) {
			log_warn(
			        "registry '%s' is not a host name: its credential files are unused",
			        g->host);
			continue;
		}
		c->n_regs++;
		d->user_file = strdup(g->username_file);
		d->pass_file = strdup(g->password_file);
		if (!d->user_file || !d->pass_file)
			return -ENOMEM;
	}
	return 0;
}

/* config.json's path: the option, else $DOCKER_CONFIG, else ~/.docker. */
static int docker_config_path(const struct creds_opts *o, char **ret)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *p = NULL;

	if (o && o->docker_config) {
		if (*o->docker_config && !(p = strdup(o->docker_config)))
			return -ENOMEM;
	} else if (dir && *dir) {
		if (asprintf(&p, "%s/config.json", dir) < 0)
			return -ENOMEM;
	} else if (home && *home) {
		if (asprintf(&p, "%s/.docker/config.json", home) < 0)
			return -ENOMEM;
	}
	*ret = p;
	return 0;
}

int creds_new(uv_loop_t *loop, const struct creds_opts *o, struct creds **ret)
{
	struct creds *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->ready_tail = &c->ready;
	c->cache_ms = o && o->cache_ms ? o->cache_ms : DEFAULT_CACHE_MS;
	c->timeout_ms = o && o->helper_timeout_ms ? o->helper_timeout_ms : DEFAULT_TIMEOUT_MS;
	r = copy_registries(c, o);
	if (r == 0)
		r = docker_config_path(o, &c->docker_config);
	if (r < 0) {
		creds_final_free(c);
		return r;
	}
	uv_idle_init(loop, &c->idle);
	c->open = 1;
	*ret = c;
	return 0;
}

static void idle_closed_cb(uv_handle_t *h)
{
	creds_release(container_of((uv_idle_t *)h, struct creds, idle));
}

void creds_free(struct creds *c)
{
	struct run *r;

	if (!c || c->closing)
		return;
	c->closing = true;
	lookups_free(c->ready);
	c->ready = NULL;
	c->ready_tail = &c->ready;
	lookups_free(c->batch);
	c->batch = NULL;
	while ((r = c->runs)) {
		c->runs = r->next;
		run_abandon(r);
	}
	cache_clear(c);
	uv_close((uv_handle_t *)&c->idle, idle_closed_cb);
}
