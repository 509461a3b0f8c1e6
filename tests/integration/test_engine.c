/*
 * engine against a private dockerd: version negotiation, reading files out
 * of an image without running it (create, archive HEAD + GET, remove), and
 * walking whole directories of it through a streamed tar (engine_archive).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bed.h"
#include "config.h"
#include "engine.h"
#include "engine_archive.h"
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
	log_setup(getenv("HD_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN, LOG_FMT_TEXT, false);
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

/* ---- engine_archive ---- */

#define PYINV      "refit-test/pyinv:1"
#define SITE       "/usr/local/lib/python3.11/site-packages"
#define VENV       "/opt/venv/lib/python3.11/site-packages"
#define BIG_BYTES  (50u << 20)
#define MANY_FILES 1000
#define MANY_BYTES 8192

static const char requests_md[] = "Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n"
                                  "Summary: Python HTTP for Humans.\n\nRequests is an elegant "
                                  "and simple HTTP library for Python.\n";
static const char six_md[] = "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n";
static const char foo_pkginfo[] = "Metadata-Version: 1.0\nName: foo\nVersion: 0.1\n";
static const char x_md[] = "Metadata-Version: 2.1\nName: x\nVersion: 1.0\n";

static void put(const char *root, const char *rel, const char *content)
{
	char path[1024], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname %s)\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* /usr/share/many: MANY_FILES random files, then one dist-info, for the slow-reader test. */
static void put_many(const char *tree)
{
	char path[1024], data[MANY_BYTES];
	uint32_t x = 88172645u;
	FILE *f;

	put(tree, "/usr/share/many/zzz-1.0.dist-info/METADATA", x_md); /* makes the directory */
	for (int i = 0; i < MANY_FILES; i++) {
		for (size_t k = 0; k < MANY_BYTES; k++) {
			x ^= x << 13; /* xorshift32 */
			x ^= x >> 17;
			x ^= x << 5;
			data[k] = (char)x;
		}
		snprintf(path, sizeof(path), "%s/usr/share/many/f%04d", tree, i);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(data, 1, sizeof(data), f), sizeof(data));
		fclose(f);
	}
}

/*
 * FROM scratch: two site-packages trees (one in a venv under /opt, one
 * reached through the symlink /srv -> opt/venv), a 50 MB random file next
 * to the metadata so that the stream is large, and files to leave alone.
 */
static void build_pyinv(void)
{
	static bool built;
	char ctx[512], tree[600], cmd[1024], link[700];

	if (built)
		return;
	snprintf(ctx, sizeof(ctx), "%s/pyinv-ctx", getenv("TB_DIR"));
	snprintf(tree, sizeof(tree), "%s/tree", ctx);
	put(tree, SITE "/requests-2.25.0.dist-info/METADATA", requests_md);
	put(tree, SITE "/requests-2.25.0.dist-info/RECORD", "requests/__init__.py,,\n");
	put(tree, SITE "/requests/__init__.py", "# METADATA is not here\n");
	put(tree, SITE "/six-1.16.0.dist-info/METADATA", six_md);
	put(tree, SITE "/foo.egg-info/PKG-INFO", foo_pkginfo);
	put(tree, VENV "/x-1.0.dist-info/METADATA", x_md);
	put(ctx, "/Dockerfile", "FROM scratch\nCOPY tree/ /\n");
	snprintf(link, sizeof(link), "%s/srv", tree);
	assert_int_equal(symlink("opt/venv", link), 0);
	snprintf(cmd, sizeof(cmd), "head -c %u /dev/urandom > %s" SITE "/big.bin", BIG_BYTES, tree);
	assert_int_equal(system(cmd), 0);
	put_many(tree);
	snprintf(cmd, sizeof(cmd), "tb_docker build -q -t " PYINV " %s >/dev/null", ctx);
	assert_int_equal(bed_sh(cmd), 0);
	built = true;
}

/* The inventory containers left in the engine ("[]" when none). */
static void assert_no_container(void)
{
	char out[256];

	assert_int_equal(
	        bed_sh_out("curl -s --unix-socket ${TB_DOCKER_HOST#unix://} "
	                   "\"http://d/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io."
	                   "refit.inventory%22%5D%7D\"",
	                   out, sizeof(out)),
	        0);
	assert_string_equal(out, "[]");
}

struct filt {
	atomic_int headers, seen_big, cancelled, after_cancel;
	unsigned slow_us; /* a slow reader: the socket fills up and the transfer pauses */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* What the lead's inventory keeps: metadata files and the names of dist-info directories. */
static bool py_filter(const char *path, bool is_dir, void *arg)
{
	struct filt *f = arg;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	atomic_fetch_add(&f->headers, 1);
	if (f->slow_us)
		usleep(f->slow_us);
	if (atomic_load(&f->cancelled))
		atomic_fetch_add(&f->after_cancel, 1);
	if (!strcmp(base, "big.bin"))
		atomic_store(&f->seen_big, 1);
	if (is_dir)
		return ends_with(base, ".dist-info");
	return !strcmp(base, "METADATA") || !strcmp(base, "PKG-INFO");
}

#define KEPT_MAX 16

struct walked {
	int done, status;
	size_t n;
	char error[512];
	struct {
		char path[256], data[512];
		size_t len;
		bool is_dir, truncated, has_data;
	} e[KEPT_MAX];
};

static void walk_cb(int status, const struct engine_archive_entry *entries, size_t n,
                    const char *error, void *arg)
{
	struct walked *w = arg;

	w->done++;
	w->status = status;
	w->n = n;
	snprintf(w->error, sizeof(w->error), "%s", error ? error : "");
	for (size_t i = 0; i < n && i < KEPT_MAX; i++) {
		snprintf(w->e[i].path, sizeof(w->e[i].path), "%s", entries[i].path);
		snprintf(w->e[i].data, sizeof(w->e[i].data), "%s",
		         entries[i].data ? entries[i].data : "");
		w->e[i].len = entries[i].len;
		w->e[i].is_dir = entries[i].is_dir;
		w->e[i].truncated = entries[i].truncated;
		w->e[i].has_data = entries[i].data != NULL;
	}
}

static void walk(struct world *w, const char *image, const char *const *paths,
                 const struct engine_archive_limits *lim, struct filt *f, struct walked *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(engine_archive_walk(&w->loop, w->e, image, paths, lim, py_filter, f,
	                                     walk_cb, out, NULL),
	                 0);
	while (!out->done)
		uv_run(&w->loop, UV_RUN_ONCE);
	assert_int_equal(out->done, 1);
}

static void assert_entry(const struct walked *r, size_t i, const char *path, const char *data)
{
	assert_string_equal(r->e[i].path, path);
	assert_int_equal(r->e[i].is_dir, data == NULL);
	assert_int_equal(r->e[i].has_data, data != NULL);
	assert_false(r->e[i].truncated);
	if (data) {
		assert_string_equal(r->e[i].data, data);
		assert_int_equal(r->e[i].len, strlen(data));
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exactly the metadata of both trees, in archive order; /app (missing) and a file are skipped. */
static void test_archive_walk(void **state)
{
	const char *paths[] = {"/usr/local/lib", "/opt/", "/app", SITE "/big.bin", "/srv", NULL};
	struct filt f = {0};
	struct walked r;
	struct world w;

	(void)state;
	build_pyinv();
	world_init(&w);
	walk(&w, PYINV, paths, NULL, &f, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "");
	assert_int_equal(r.n, 9);
	assert_entry(&r, 0, SITE "/foo.egg-info/PKG-INFO", foo_pkginfo);
	assert_entry(&r, 1, SITE "/requests-2.25.0.dist-info", NULL);
	assert_entry(&r, 2, SITE "/requests-2.25.0.dist-info/METADATA", requests_md);
	assert_entry(&r, 3, SITE "/six-1.16.0.dist-info", NULL);
	assert_entry(&r, 4, SITE "/six-1.16.0.dist-info/METADATA", six_md);
	assert_entry(&r, 5, VENV "/x-1.0.dist-info", NULL);
	assert_entry(&r, 6, VENV "/x-1.0.dist-info/METADATA", x_md);
	/* /srv is a symlink to opt/venv: followed, named as asked */
	assert_entry(&r, 7, "/srv/lib/python3.11/site-packages/x-1.0.dist-info", NULL);
	assert_entry(&r, 8, "/srv/lib/python3.11/site-packages/x-1.0.dist-info/METADATA", x_md);
	assert_int_equal(atomic_load(&f.seen_big), 1);
	assert_no_container();
	/* Nothing there at all: success, nothing kept. */
	const char *none[] = {"/app", "/nonexistent/dir", NULL};
	walk(&w, PYINV, none, NULL, &f, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n, 0);
	/* No such image: -ENOENT, and no container was made. */
	walk(&w, "refit-test/no-such-image:1", paths, NULL, &f, &r);
	assert_int_equal(r.status, -ENOENT);
	assert_non_null(strstr(r.error, "no such image"));
	assert_no_container();
	world_done(&w);
}

/*
 * A reader slower than the engine: the transfer pauses and resumes many
 * times, and a byte lost or repeated would break the tar after it.
 */
static void test_archive_slow_reader(void **state)
{
	const char *paths[] = {"/usr/share", "/opt", NULL};
	struct filt f = {.slow_us = 500};
	struct walked r;
	struct world w;

	(void)state;
	build_pyinv();
	world_init(&w);
	walk(&w, PYINV, paths, NULL, &f, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n, 4);
	assert_entry(&r, 0, "/usr/share/many/zzz-1.0.dist-info", NULL);
	assert_entry(&r, 1, "/usr/share/many/zzz-1.0.dist-info/METADATA", x_md);
	assert_entry(&r, 2, VENV "/x-1.0.dist-info", NULL);
	assert_entry(&r, 3, VENV "/x-1.0.dist-info/METADATA", x_md);
	assert_true(atomic_load(&f.headers) > MANY_FILES);
	assert_no_container();
	world_done(&w);
}

/* Every limit fails the walk with -EFBIG, except max_entry: kept truncated, flagged. */
static void test_archive_limits(void **state)
{
	const char *paths[] = {"/usr/local/lib", "/opt", NULL};
	struct engine_archive_limits lim = {.max_total = 10u << 20};
	struct filt f = {0};
	struct walked r;
	struct world w;

	(void)state;
	build_pyinv();
	world_init(&w);
	walk(&w, PYINV, paths, &lim, &f, &r);
	assert_int_equal(r.status, -EFBIG);
	assert_non_null(strstr(r.error, "larger than the limit"));
	assert_int_equal(r.n, 0);
	assert_no_container();
	lim = (struct engine_archive_limits){.max_kept = 3};
	walk(&w, PYINV, paths, &lim, &f, &r);
	assert_int_equal(r.status, -EFBIG);
	assert_non_null(strstr(r.error, "more than 3 entries to keep"));
	assert_no_container();
	lim = (struct engine_archive_limits){.max_headers = 5};
	walk(&w, PYINV, paths, &lim, &f, &r);
	assert_int_equal(r.status, -EFBIG);
	assert_non_null(strstr(r.error, "more than 5 entries"));
	assert_no_container();
	lim = (struct engine_archive_limits){.max_kept_bytes = 200};
	walk(&w, PYINV, paths, &lim, &f, &r);
	assert_int_equal(r.status, -EFBIG);
	assert_no_container();
	lim = (struct engine_archive_limits){.max_entry = 16};
	walk(&w, PYINV, paths, &lim, &f, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n, 7);
	assert_string_equal(r.e[2].path, SITE "/requests-2.25.0.dist-info/METADATA");
	assert_string_equal(r.e[2].data, "Metadata-Version");
	assert_int_equal(r.e[2].len, 16);
	assert_true(r.e[2].truncated);
	assert_false(r.e[1].truncated); /* a directory */
	assert_no_container();
	world_done(&w);
}

/* Polls until the worker has seen big.bin: the stream is then in the middle of 50 MB. */
static void cancel_when_big(uv_timer_t *t)
{
	struct filt *f = t->data;

	if (!atomic_load(&f->seen_big))
		return;
	uv_timer_stop(t);
	atomic_store(&f->cancelled, 2); /* 2: the test's turn to cancel */
}

/* Cancel at three points: during the create, during a 50 MB stream, at once after it ended. */
struct swept {
	int done, status;
	unsigned removed;
};

static void sweep_cb(int status, unsigned removed, void *arg)
{
	struct swept *s = arg;

	s->done++;
	s->status = status;
	s->removed = removed;
}

static void sweep(struct world *w, uint64_t min_age_s, struct swept *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(engine_archive_sweep(w->e, min_age_s, sweep_cb, s, NULL), 0);
	while (!s->done)
		uv_run(&w->loop, UV_RUN_ONCE);
	assert_int_equal(s->done, 1);
	assert_int_equal(s->status, 0);
}

static void test_archive_cancel(void **state)
{
	const char *paths[] = {"/usr/local/lib", "/opt", NULL};
	struct engine_archive *a;
	struct filt f = {0};
	struct walked r = {0};
	struct world w;
	uv_timer_t t;

	(void)state;
	build_pyinv();
	world_init(&w);
	/* right after the start: the create is in flight */
	assert_int_equal(engine_archive_walk(&w.loop, w.e, PYINV, paths, NULL, py_filter, &f,
	                                     walk_cb, &r, &a),
	                 0);
	engine_archive_cancel(a);
	for (int i = 0; i < 100; i++)
		uv_run(&w.loop, UV_RUN_NOWAIT);
	/* in the middle of big.bin */
	uv_timer_init(&w.loop, &t);
	t.data = &f;
	uv_timer_start(&t, cancel_when_big, 1, 1);
	assert_int_equal(engine_archive_walk(&w.loop, w.e, PYINV, paths, NULL, py_filter, &f,
	                                     walk_cb, &r, &a),
	                 0);
	while (atomic_load(&f.cancelled) != 2 && !r.done)
		uv_run(&w.loop, UV_RUN_ONCE);
	engine_archive_cancel(a);
	atomic_store(&f.cancelled, 1);
	uv_close((uv_handle_t *)&t, NULL);
	for (int i = 0; i < 200; i++)
		uv_run(&w.loop, UV_RUN_NOWAIT);
	assert_int_equal(r.done, 0);
	world_done(&w); /* runs the loop until the worker is done and the walk freed */
	assert_int_equal(atomic_load(&f.after_cancel), 0);
	/* the removals went out with the cancels */
	for (int i = 0; i < 50; i++) {
		char out[64];
		if (bed_sh_out("curl -s --unix-socket ${TB_DOCKER_HOST#unix://} "
		               "\"http://d/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io."
		               "refit.inventory%22%5D%7D\"",
		               out, sizeof(out)) == 0 &&
		    !strcmp(out, "[]"))
			break;
		usleep(100000);
	}
	assert_no_container();
}

/*
 * Cancels while the create is on its way (after 1 to 3 loop turns): the
 * removal sent with the cancel can reach the engine before the create does;
 * the sweep removes what that left, and only containers old enough.
 */
static void test_archive_sweep(void **state)
{
	const char *paths[] = {"/opt", NULL};
	struct engine_archive *a;
	struct walked r = {0};
	struct filt f = {0};
	struct swept s;
	struct world w;
	char out[256];
	unsigned left;

	(void)state;
	build_pyinv();
	world_init(&w);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(engine_archive_walk(&w.loop, w.e, PYINV, paths, NULL, py_filter,
		                                     &f, walk_cb, &r, &a),
		                 0);
		for (int k = 0; k <= i % 3; k++)
			uv_run(&w.loop, UV_RUN_ONCE);
		engine_archive_cancel(a);
	}
	for (int i = 0; i < 100; i++)
		uv_run(&w.loop, UV_RUN_NOWAIT);
	usleep(500000); /* creates the engine finished after the cancel */
	assert_int_equal(r.done, 0);
	/* one more, the way a crash leaves it */
	assert_int_equal(bed_sh_out("tb_docker create --label io.refit.inventory=1 " PYINV " /x",
	                            out, sizeof(out)),
	                 0);
	sweep(&w, 3600, &s); /* none is an hour old */
	assert_int_equal(s.removed, 0);
	assert_int_equal(bed_sh_out("tb_docker ps -aq --filter label=io.refit.inventory | wc -l",
	                            out, sizeof(out)),
	                 0);
	left = (unsigned)atoi(out);
	assert_true(left >= 1);
	sweep(&w, 0, &s);
	print_message("%u container(s) left by 12 cancels during the create, then swept\n",
	              left - 1);
	assert_int_equal(s.removed, left);
	assert_no_container();
	world_done(&w);
}

/* Arguments refused up front: no callback, nothing created. */
static void test_archive_args(void **state)
{
	const char *relative[] = {"usr/lib", NULL}, *root[] = {"/", NULL};
	const char *many[ENGINE_ARCHIVE_MAX_PATHS + 2];
	struct walked r = {0};
	struct filt f = {0};
	struct world w;

	(void)state;
	for (size_t i = 0; i < ENGINE_ARCHIVE_MAX_PATHS + 1; i++)
		many[i] = "/opt";
	many[ENGINE_ARCHIVE_MAX_PATHS + 1] = NULL;
	world_init(&w);
	assert_int_equal(engine_archive_walk(&w.loop, w.e, PYINV, relative, NULL, py_filter, &f,
	                                     walk_cb, &r, NULL),
	                 -EINVAL);
	assert_int_equal(engine_archive_walk(&w.loop, w.e, PYINV, root, NULL, py_filter, &f,
	                                     walk_cb, &r, NULL),
	                 -EINVAL);
	assert_int_equal(engine_archive_walk(&w.loop, w.e, PYINV, many, NULL, py_filter, &f,
	                                     walk_cb, &r, NULL),
	                 -E2BIG);
	world_done(&w);
	assert_int_equal(r.done, 0);
}

/* Throughput of a walk over the 50 MB tree against a plain GET of the same archive and docker cp.
 */
static void test_archive_throughput(void **state)
{
	const char *paths[] = {"/usr/local/lib", NULL};
	struct filt f = {0};
	struct walked r;
	struct world w;
	double best = 1e9, t0, mb = BIG_BYTES / 1e6;
	char out[256];

	(void)state;
	build_pyinv();
	world_init(&w);
	for (int i = 0; i < 3; i++) {
		t0 = now_s();
		walk(&w, PYINV, paths, NULL, &f, &r);
		assert_int_equal(r.status, 0);
		if (now_s() - t0 < best)
			best = now_s() - t0;
	}
	const char *missing[] = {"/app", NULL};
	double fixed = 1e9;
	for (int i = 0; i < 3; i++) {
		t0 = now_s();
		walk(&w, PYINV, missing, NULL, &f, &r);
		if (now_s() - t0 < fixed)
			fixed = now_s() - t0;
	}
	world_done(&w);
	print_message("walk (create, HEAD, GET, remove): %.3f s, %.0f MB/s; without the fixed "
	              "%.3f s (create, HEAD, remove): %.0f MB/s\n",
	              best, mb / best, fixed, mb / (best - fixed));
	/* the same archive with curl (best of 3), then docker cp (tar to stdout) */
	assert_int_equal(
	        bed_sh_out(
	                "c=$(tb_docker create " PYINV " /x); s=${TB_DOCKER_HOST#unix://}; "
	                "for i in 1 2 3; do curl -s -o /dev/null -w \"%{time_total} \" "
	                "--unix-socket $s \"http://d/containers/$c/archive?path=/usr/local/lib/\"; "
	                "done; t0=$(date +%s%N); tb_docker cp $c:/usr/local/lib - >/dev/null; "
	                "t1=$(date +%s%N); tb_docker rm $c >/dev/null; "
	                "echo $(( (t1 - t0) / 1000000 ))",
	                out, sizeof(out)),
	        0);
	double g[3], cp_ms = 0, get_s;
	assert_int_equal(sscanf(out, "%lf %lf %lf %lf", &g[0], &g[1], &g[2], &cp_ms), 4);
	get_s = g[0] < g[1] ? g[0] : g[1];
	get_s = get_s < g[2] ? get_s : g[2];
	print_message("curl GET to /dev/null: %.3f s, %.0f MB/s; docker cp: %.3f s, %.0f MB/s\n",
	              get_s, mb / get_s, cp_ms / 1000, mb / (cp_ms / 1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_negotiated),
	        cmocka_unit_test(test_read_file),
	        cmocka_unit_test(test_archive_walk),
	        cmocka_unit_test(test_archive_slow_reader),
	        cmocka_unit_test(test_archive_limits),
	        cmocka_unit_test(test_archive_cancel),
	        cmocka_unit_test(test_archive_sweep),
	        cmocka_unit_test(test_archive_args),
	        cmocka_unit_test(test_archive_throughput),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
