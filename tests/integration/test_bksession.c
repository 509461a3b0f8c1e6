/*
 * bksession against a private dockerd: BuildKit builds (POST /build?version=2) whose
 * session we serve. A base image on an htpasswd registry and on a Bearer-token
 * registry pulled with the credentials of refit's `registries:` files; a
 * required secret mounted from a file, absent from `docker save`; a missing
 * one failing the build; the session closed mid-build failing it promptly
 * and closed during a credential lookup; the engine refusing or not
 * answering the upgrade. A scripted HTTP/2 peer (nghttp2's client side)
 * resets a call whose lookup still runs, which dockerd 20.10 never does. The same dockerd
 * also listens on TCP with mutual TLS: sessions and a build with a private base and a secret
 * through it, a wrong CA, a foreign client certificate and a silent TCP port failing
 * clearly and in time. Prints the session's overhead (open -> 101 -> first health check),
 * over the unix socket and over TLS.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>

#include "bed.h"
#include "bksession.h"
#include "config.h"
#include "creds.h"
#include "engine.h"
#include "http_client.h"
#include "log.h"

static struct bed bed;
static char canary[41], canary_sha[65], dir[512];

struct world {
	uv_loop_t loop;
	struct http_client *http;
	struct engine *e;
	struct creds *creds;
	int ready;
};

/* One session and what its callbacks said. */
struct sess {
	struct bksession *s;
	int ready, ready_status, closed, closed_status;
	char error[512], reason[512];
	uint64_t t_open, t_ready; /* uv_hrtime */
};

/* One build's response. */
struct build {
	int done;
	long status;
	int error;
	char *out;
	size_t len;
	char image[80], message[1024];
	uint64_t t_done;
	struct http_request *req;
};

static void write_file(const char *name, const char *content, mode_t mode)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(path, mode);
}

/* The test bed, the base image on both private registries, the credential and secret files. */
static int setup(void **state)
{
	char cmd[1024], pass[256];
	unsigned char rnd[20];
	FILE *f;

	(void)state;
	log_setup(getenv("BK_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN, LOG_FMT_TEXT, false);
	http_global_init();
	if (bed_start(&bed, "dockerd-tls registry registry-auth registry-token base") < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/bk", getenv("TB_DIR"));
	mkdir(dir, 0700);
	/* bed_sh quotes with ' */
	if (bed_sh("export DOCKER_CONFIG=$TB_DIR/docker-config; "
	           "for r in \"$TB_AUTH_REGISTRY $TB_REG_USER $TB_REG_PASS\" "
	           "\"$TB_TOKEN_REGISTRY $TB_TOKEN_USER $TB_TOKEN_PASS\"; do set -- $r; "
	           "echo \"$3\" | docker -H $TB_DOCKER_HOST login -u $2 --password-stdin $1 "
	           ">/dev/null 2>&1 && tb_docker tag $TB_BASE $1/private/base:1 && "
	           "tb_docker push $1/private/base:1 >/dev/null && "
	           "tb_docker rmi $1/private/base:1 >/dev/null && "
	           "docker -H $TB_DOCKER_HOST logout $1 >/dev/null || exit 1; done") < 0)
		return -1;
	write_file("auth.user", getenv("TB_REG_USER"), 0600);
	snprintf(pass, sizeof(pass), "%s\n", getenv("TB_REG_PASS"));
	write_file("auth.pass", pass, 0600);
	write_file("token.user", getenv("TB_TOKEN_USER"), 0600);
	write_file("token.pass", getenv("TB_TOKEN_PASS"), 0600);
	/* the canary: 40 random hex digits, in the file the session reads when asked */
	f = fopen("/dev/urandom", "rb");
	if (!f || fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
		return -1;
	fclose(f);
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(canary + 2 * i, 3, "%02x", rnd[i]);
	write_file("pipconf", canary, 0600);
	snprintf(cmd, sizeof(cmd), "sha256sum %s/pipconf | cut -c1-64", dir);
	return bed_sh_out(cmd, canary_sha, sizeof(canary_sha));
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

/* The engine, and creds from refit's registries: entries for both private registries (or
 * from docker_config alone when it is set). */
static void world_init_on(struct world *w, const char *docker_config,
                          const struct config_engine *engine)
{
	struct config_engine ce = {.host = getenv("TB_DOCKER_HOST"), .max_builds = 1};
	char au[600], ap[600], tu[600], tp[600];
	struct config_registry regs[] = {
	        {getenv("TB_AUTH_REGISTRY"), au, ap, false},
	        {getenv("TB_TOKEN_REGISTRY"), tu, tp, false},
	};
	struct creds_opts co = {.registries = regs, .n_registries = 2, .docker_config = ""};

	snprintf(au, sizeof(au), "%s/auth.user", dir);
	snprintf(ap, sizeof(ap), "%s/auth.pass", dir);
	snprintf(tu, sizeof(tu), "%s/token.user", dir);
	snprintf(tp, sizeof(tp), "%s/token.pass", dir);
	if (docker_config) {
		co.n_registries = 0;
		co.docker_config = docker_config;
	}
	if (engine)
		ce = *engine;
	memset(w, 0, sizeof(*w));
	uv_loop_init(&w->loop);
	assert_int_equal(http_client_new(&w->loop, &w->http), 0);
	assert_int_equal(creds_new(&w->loop, &co, &w->creds), 0);
	assert_int_equal(engine_new(&w->loop, w->http, &ce, state_cb, w, &w->e), 0);
	engine_start(w->e);
	while (!w->ready)
		uv_run(&w->loop, UV_RUN_ONCE);
	assert_int_equal(w->ready, 1);
}

static void world_init(struct world *w, const char *docker_config)
{
	world_init_on(w, docker_config, NULL);
}

/* The engine's TLS files ($TB_TLS/ca.pem, client.pem, client-key.pem), or another CA's. */
static struct config_engine tls_engine(char *ca, char *cert, char *key, size_t len)
{
	snprintf(ca, len, "%s/ca.pem", getenv("TB_TLS"));
	snprintf(cert, len, "%s/client.pem", getenv("TB_TLS"));
	snprintf(key, len, "%s/client-key.pem", getenv("TB_TLS"));
	return (struct config_engine){.host = getenv("TB_DOCKER_TLS_HOST"),
	                              .max_builds = 1,
	                              .tls_ca = ca,
	                              .tls_cert = cert,
	                              .tls_key = key};
}

/* The world on the engine's TLS port: its requests and sessions go through TLS. */
static void world_init_tls(struct world *w)
{
	static char ca[600], cert[600], key[600];
	struct config_engine ce = tls_engine(ca, cert, key, sizeof(ca));

	world_init_on(w, NULL, &ce);
}

static void world_done(struct world *w)
{
	engine_free(w->e);
	creds_free(w->creds);
	http_client_close(w->http);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->loop), 0);
}

/* ---- sessions ---- */

static void ready_cb(struct bksession *s, int status, const char *error, void *arg)
{
	struct sess *x = arg;

	(void)s;
	x->ready++;
	x->ready_status = status;
	x->t_ready = uv_hrtime();
	snprintf(x->error, sizeof(x->error), "%s", error ? error : "");
}

static void closed_cb(struct bksession *s, int status, const char *reason, void *arg)
{
	struct sess *x = arg;

	(void)s;
	x->closed++;
	x->closed_status = status;
	snprintf(x->reason, sizeof(x->reason), "%s", reason ? reason : "");
}

/* Opens a session with o (engine, API version and creds filled in) and waits for ready_cb. */
static int sess_open(struct world *w, struct bksession_opts *o, struct sess *x)
{
	memset(x, 0, sizeof(*x));
	if (!o->engine_host) {
		o->engine_host = engine_info(w->e)->host;
		engine_tls(w->e, &o->tls_ca, &o->tls_cert, &o->tls_key);
	}
	o->api_version = engine_info(w->e)->api_version;
	x->t_open = uv_hrtime();
	assert_int_equal(bksession_open(&w->loop, o, ready_cb, closed_cb, x, &x->s), 0);
	while (!x->ready)
		uv_run(&w->loop, UV_RUN_ONCE);
	assert_int_equal(x->ready, 1);
	return x->ready_status;
}

static void sess_close(struct world *w, struct sess *x)
{
	bksession_close(x->s);
	x->s = NULL;
	for (int i = 0; i < 10; i++)
		uv_run(&w->loop, UV_RUN_NOWAIT);
}

static void wake_cb(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop for ms, whether or not anything else happens meanwhile. */
static void run_for(struct world *w, uint64_t ms)
{
	uv_timer_t t;
	bool done = false;

	uv_timer_init(&w->loop, &t);
	t.data = &done;
	uv_timer_start(&t, wake_cb, ms, 0);
	while (!done)
		uv_run(&w->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&w->loop, UV_RUN_NOWAIT); /* the close callback: t lives on this stack */
}

static double ms_between(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e6;
}

/* ---- builds ---- */

/* A tar with the one file Dockerfile, in memory. */
static void make_tar(const char *dockerfile, char *buf, size_t cap, size_t *ret_len)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t n = strlen(dockerfile);

	assert_non_null(a);
	assert_non_null(e);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, ret_len), ARCHIVE_OK);
	archive_entry_set_pathname(e, "Dockerfile");
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, dockerfile, n), (la_ssize_t)n);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static int build_data_cb(const char *chunk, size_t len, void *arg)
{
	struct build *b = arg;
	char *p;

	if (b->len + len > (16u << 20))
		return 1;
	p = realloc(b->out, b->len + len + 1);
	if (!p)
		return 1;
	b->out = p;
	memcpy(b->out + b->len, chunk, len);
	b->len += len;
	b->out[b->len] = '\0';
	return 0;
}

/* The image id of the aux line, and the last error line, of the JSON stream. */
static void build_parse(struct build *b)
{
	char *save = NULL;

	for (char *line = strtok_r(b->out, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *id = json_string_value(json_object_get(j, "id"));
		const char *err = json_string_value(json_object_get(j, "error"));
		if (id && !strcmp(id, "moby.image.id"))
			snprintf(b->image, sizeof(b->image), "%s",
			         json_string_value(
			                 json_object_get(json_object_get(j, "aux"), "ID")));
		if (err)
			snprintf(b->message, sizeof(b->message), "%s", err);
		json_decref(j);
	}
}

static void build_done_cb(const struct http_response *resp, void *arg)
{
	struct build *b = arg;

	b->done++;
	b->status = resp->status;
	b->error = resp->error;
	b->t_done = uv_hrtime();
	b->req = NULL;
	if (b->out)
		build_parse(b);
	if (resp->status != 200)
		snprintf(b->message, sizeof(b->message), "HTTP %ld: %s", resp->status, resp->body);
}

/* Starts POST /build?version=2 with the session and a tar of dockerfile. */
static void build_start(struct world *w, const char *session, const char *dockerfile,
                        struct build *b)
{
	static char tar[16384];
	const char *headers[] = {"Content-Type: application/x-tar", NULL};
	char path[512];
	size_t len;
	struct engine_call c = {.method = "POST", .path = path, .headers = headers};

	memset(b, 0, sizeof(*b));
	make_tar(dockerfile, tar, sizeof(tar), &len);
	snprintf(path, sizeof(path),
	         "/build?version=2&session=%s&pull=1&nocache=1&networkmode=host&t=refit-test/bk:1",
	         session);
	c.body = tar;
	c.body_len = len;
	c.data_cb = build_data_cb;
	c.stream_arg = b;
	c.timeout_ms = 180000;
	c.idle_timeout_ms = 120000;
	assert_int_equal(engine_call(w->e, &c, build_done_cb, b, &b->req), 0);
}

static void build_wait(struct world *w, struct build *b)
{
	while (!b->done)
		uv_run(&w->loop, UV_RUN_ONCE);
	if (b->message[0])
		print_message("build: %s\n", b->message);
}

static void build_free(struct build *b)
{
	free(b->out);
	b->out = NULL;
}

/* ---- docker save ---- */

/* Counts needles in a stream, across chunk boundaries. */
struct finder {
	const char *needle[2];
	unsigned found[2];
	char tail[64];
	size_t tlen;
	size_t bytes;
};

static int find_data_cb(const char *chunk, size_t len, void *arg)
{
	struct finder *f = arg;
	char edge[128];

	f->bytes += len;
	for (int k = 0; k < 2; k++) {
		size_t n = strlen(f->needle[k]), m = len < n - 1 ? len : n - 1;
		memcpy(edge, f->tail,
		       f->tlen); /* the end of the last chunk + the start of this one */
		memcpy(edge + f->tlen, chunk, m);
		if (memmem(edge, f->tlen + m, f->needle[k], n) ||
		    memmem(chunk, len, f->needle[k], n))
			f->found[k]++;
	}
	if (len >= 63) {
		memcpy(f->tail, chunk + len - 63, 63);
		f->tlen = 63;
	} else {
		size_t keep = f->tlen + len > 63 ? 63 - len : f->tlen;
		memmove(f->tail, f->tail + f->tlen - keep, keep);
		memcpy(f->tail + keep, chunk, len);
		f->tlen = keep + len;
	}
	return 0;
}

static void get_done_cb(const struct http_response *resp, void *arg)
{
	int *done = arg;

	*done = resp->status == 200 && !resp->error ? 1 : -1;
}

/* GET /images/{id}/get (docker save) through find_data_cb. */
static void image_scan(struct world *w, const char *image, struct finder *f)
{
	char path[256];
	struct engine_call c = {.method = "GET",
	                        .path = path,
	                        .data_cb = find_data_cb,
	                        .stream_arg = f,
	                        .timeout_ms = 120000};
	int done = 0;

	snprintf(path, sizeof(path), "/images/%s/get", image);
	assert_int_equal(engine_call(w->e, &c, get_done_cb, &done, NULL), 0);
	while (!done)
		uv_run(&w->loop, UV_RUN_ONCE);
	assert_int_equal(done, 1);
}

/* ---- our own log ---- */

static int saved_stderr = -1;

/* Sends refitd's log, at debug level, to dir/refitd.log, and back to stderr. */
static void log_to_file(bool on)
{
	char path[700];
	int fd;

	fflush(stderr);
	if (on) {
		snprintf(path, sizeof(path), "%s/refitd.log", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		saved_stderr = dup(2);
		dup2(fd, 2);
		close(fd);
		log_setup(LOG_LVL_DEBUG, LOG_FMT_TEXT, false);
	} else {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		log_setup(getenv("BK_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN, LOG_FMT_TEXT, false);
	}
}

static bool log_has(const char *needle)
{
	char path[700], buf[1 << 16];
	size_t n;
	FILE *f;

	fflush(stderr);
	snprintf(path, sizeof(path), "%s/refitd.log", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

/* ---- tests ---- */

static struct bksession_secret pipconf_secret(char *path, size_t len)
{
	snprintf(path, len, "%s/pipconf", dir);
	return (struct bksession_secret){"pipconf", path};
}

/* A session stays up on its health checks; its overhead, open -> 101 -> first check. */
static void test_health(void **state)
{
	struct bksession_opts o = {0};
	struct world w;
	struct sess x;
	double ready = 0, best = 1e9;
	uint64_t first = 0;
	const int n = 10;

	(void)state;
	world_init(&w, NULL);
	for (int i = 0; i < n; i++) {
		o = (struct bksession_opts){0};
		assert_int_equal(sess_open(&w, &o, &x), 0);
		ready += ms_between(x.t_open, x.t_ready);
		if (ms_between(x.t_open, x.t_ready) < best)
			best = ms_between(x.t_open, x.t_ready);
		assert_int_equal(strlen(bksession_id(x.s)), 25);
		while (bksession_stats(x.s)->health < (i == 0 ? 3u : 1u) && !x.closed)
			uv_run(&w.loop, UV_RUN_ONCE);
		assert_int_equal(x.closed, 0);
		first += bksession_stats(x.s)->first_health_ms;
		assert_true(bksession_stats(x.s)->ready_ms <=
		            bksession_stats(x.s)->first_health_ms);
		sess_close(&w, &x);
	}
	print_message("session overhead over %d sessions: open -> 101 %.2f ms (best %.2f ms), "
	              "open -> first health check %.0f ms (dockerd checks every second)\n",
	              n, ready / n, best, (double)first / n);
	world_done(&w);
}

/*
 * The build of BUILDKIT.md D.20 and E.26: FROM a private base on the
 * htpasswd registry, RUN with a required secret. The secret arrives whole
 * (its sha256 checked in the RUN) and is not in the saved image.
 */
static void test_build_private_base_and_secret(void **state)
{
	char df[1024], path[600];
	struct bksession_secret sec = pipconf_secret(path, sizeof(path));
	struct bksession_opts o = {.secrets = &sec, .n_secrets = 1};
	const struct bksession_stats *st;
	struct finder f = {.needle = {canary, "sha256sum /run/secrets/pipconf"}};
	struct build b;
	struct world w;
	struct sess x;

	(void)state;
	log_to_file(true);
	world_init(&w, NULL);
	o.creds = w.creds;
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df),
	         "FROM %s/private/base:1\n"
	         "RUN --mount=type=secret,id=pipconf,required=true cat /run/secrets/pipconf | wc "
	         "-c\n"
	         "RUN --mount=type=secret,id=pipconf,required=true sha256sum /run/secrets/pipconf "
	         "| grep -q %s\n",
	         getenv("TB_AUTH_REGISTRY"), canary_sha);
	build_start(&w, bksession_id(x.s), df, &b);
	build_wait(&w, &b);
	assert_int_equal(b.status, 200);
	assert_string_equal(b.message, "");
	assert_true(!strncmp(b.image, "sha256:", 7));
	st = bksession_stats(x.s);
	print_message("served: %u health, %u credentials, %u secrets, %u other\n", st->health,
	              st->credentials, st->secrets, st->other);
	assert_true(st->credentials >= 1);
	assert_int_equal(st->secrets, 2);
	assert_int_equal(x.closed, 0);
	run_for(&w, 2500); /* idle: the health checks go on */
	assert_true(st->health >= 2);
	assert_int_equal(x.closed, 0);
	sess_close(&w, &x);
	assert_false(log_has(canary));
	assert_false(log_has(getenv("TB_REG_PASS")));
	assert_true(log_has("credentials for")); /* the debug log was there */
	image_scan(&w, b.image, &f);
	print_message("docker save: %zu bytes, canary found %u times, the RUN line %u times\n",
	              f.bytes, f.found[0], f.found[1]);
	assert_int_equal(f.found[0], 0);
	assert_true(f.found[1] > 0); /* the search works */
	build_free(&b);
	world_done(&w);
	log_to_file(false);
}

/* A Bearer-token registry: GetTokenAuthority is UNIMPLEMENTED, dockerd fetches the token
 * itself with our Credentials (D.21). */
static void test_build_token_registry(void **state)
{
	char df[512];
	struct bksession_opts o = {0};
	struct build b;
	struct world w;
	struct sess x;

	(void)state;
	world_init(&w, NULL);
	o.creds = w.creds;
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df), "FROM %s/private/base:1\nRUN true\n", getenv("TB_TOKEN_REGISTRY"));
	build_start(&w, bksession_id(x.s), df, &b);
	build_wait(&w, &b);
	assert_string_equal(b.message, "");
	assert_true(!strncmp(b.image, "sha256:", 7));
	assert_true(bksession_stats(x.s)->credentials >= 1);
	print_message("token registry: %u credentials, %u other (GetTokenAuthority)\n",
	              bksession_stats(x.s)->credentials, bksession_stats(x.s)->other);
	sess_close(&w, &x);
	build_free(&b);
	world_done(&w);
}

/*
 * A secret of 480 KiB crosses dockerd's flow-control window (64 KiB) many
 * times and arrives intact; one over 500 KiB fails the build with our
 * message. The base is on the plain registry: no Credentials call.
 */
static void test_big_secret(void **state)
{
	char df[512], cmd[2048], sha[65], big[600], huge[600];
	struct bksession_secret secs[] = {{"big", big}, {"huge", huge}};
	struct bksession_opts o = {.secrets = secs, .n_secrets = 2};
	struct build b;
	struct world w;
	struct sess x;

	(void)state;
	snprintf(big, sizeof(big), "%s/big.secret", dir);
	snprintf(huge, sizeof(huge), "%s/huge.secret", dir);
	snprintf(cmd, sizeof(cmd),
	         "head -c 491520 /dev/urandom >%s && head -c 512001 /dev/urandom >%s && "
	         "sha256sum %s | cut -c1-64",
	         big, huge, big);
	assert_int_equal(bed_sh_out(cmd, sha, sizeof(sha)), 0);
	world_init(&w, NULL);
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df),
	         "FROM %s\nRUN --mount=type=secret,id=big,required=true sha256sum /run/secrets/big "
	         "| grep -q %s\n",
	         getenv("TB_BASE"), sha);
	build_start(&w, bksession_id(x.s), df, &b);
	build_wait(&w, &b);
	assert_string_equal(b.message, "");
	assert_true(!strncmp(b.image, "sha256:", 7));
	assert_int_equal(bksession_stats(x.s)->secrets, 1);
	assert_int_equal(bksession_stats(x.s)->credentials, 0);
	build_free(&b);
	snprintf(df, sizeof(df), "FROM %s\nRUN --mount=type=secret,id=huge,required=true true\n",
	         getenv("TB_BASE"));
	build_start(&w, bksession_id(x.s), df, &b);
	build_wait(&w, &b);
	assert_non_null(strstr(b.message, "refit: secret huge:"));
	assert_non_null(strstr(b.message, "larger than 500 KiB"));
	assert_int_equal(x.closed, 0);
	sess_close(&w, &x);
	build_free(&b);
	world_done(&w);
}

/* A required secret we do not have, and a session without credentials. */
static void test_build_refused(void **state)
{
	char df[512], path[600];
	struct bksession_secret sec = pipconf_secret(path, sizeof(path));
	struct bksession_opts o = {.secrets = &sec, .n_secrets = 1};
	struct build b;
	struct world w;
	struct sess x;

	(void)state;
	world_init(&w, NULL);
	o.creds = w.creds;
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df),
	         "FROM %s/private/base:1\nRUN --mount=type=secret,id=missing,required=true true\n",
	         getenv("TB_AUTH_REGISTRY"));
	build_start(&w, bksession_id(x.s), df, &b);
	build_wait(&w, &b);
	assert_int_equal(b.status, 200);
	assert_non_null(strstr(b.message, "secret missing not found"));
	assert_string_equal(b.image, "");
	assert_int_equal(bksession_stats(x.s)->secrets, 1);
	sess_close(&w, &x);
	build_free(&b);
	/* no creds: anonymous, and the registry says 401 */
	o = (struct bksession_opts){0};
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df), "FROM %s/private/base:1\n", getenv("TB_AUTH_REGISTRY"));
	build_start(&w, bksession_id(x.s), df, &b);
	build_wait(&w, &b);
	assert_non_null(strstr(b.message, "401 Unauthorized"));
	assert_true(bksession_stats(x.s)->credentials >= 1);
	sess_close(&w, &x);
	build_free(&b);
	world_done(&w);
}

/* The session goes away while a build still needs it: the build fails with dockerd's
 * "no active session" after its 5 s wait, not later. */
static void test_close_mid_build(void **state)
{
	char df[512], path[600];
	struct bksession_secret sec = pipconf_secret(path, sizeof(path));
	struct bksession_opts o = {.secrets = &sec, .n_secrets = 1};
	struct build b;
	struct world w;
	struct sess x;
	uint64_t t_close;

	(void)state;
	world_init(&w, NULL);
	o.creds = w.creds;
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df),
	         "FROM %s/private/base:1\nRUN sleep 2\n"
	         "RUN --mount=type=secret,id=pipconf,required=true wc -c /run/secrets/pipconf\n",
	         getenv("TB_AUTH_REGISTRY"));
	build_start(&w, bksession_id(x.s), df, &b);
	while (!bksession_stats(x.s)->credentials && !b.done)
		uv_run(&w.loop, UV_RUN_ONCE);
	run_for(&w, 500); /* the pull is on its way, the RUN not done */
	assert_int_equal(b.done, 0);
	sess_close(&w, &x);
	t_close = uv_hrtime();
	build_wait(&w, &b);
	print_message("closed mid-build: the build failed %.1f s later: %s\n",
	              ms_between(t_close, b.t_done) / 1000, b.message);
	assert_non_null(strstr(b.message, "no active session"));
	assert_true(ms_between(t_close, b.t_done) < 20000);
	build_free(&b);
	world_done(&w);
}

/* ---- a slow credential helper ---- */

static char *old_path;

/*
 * docker-credential-slow answers with the htpasswd registry's credentials after
 * $SLOW_SECS seconds; a config.json names it for that registry. The world
 * made with it asks config.json only.
 */
static void slow_helper_init(struct world *w, unsigned secs)
{
	char script[1024], path[4096], cfg[600];

	snprintf(script, sizeof(script),
	         "#!/bin/sh\nread u\nsleep %u\n"
	         "printf '{\"ServerURL\":\"%%s\",\"Username\":\"%s\",\"Secret\":\"%%s\"}' \"$u\" "
	         "\"$(cat %s/auth.pass)\"\n",
	         secs, getenv("TB_REG_USER"), dir);
	snprintf(path, sizeof(path), "%s/bin", dir);
	mkdir(path, 0700);
	write_file("bin/docker-credential-slow", script, 0700);
	snprintf(script, sizeof(script), "{\"credHelpers\":{\"%s\":\"slow\"}}",
	         getenv("TB_AUTH_REGISTRY"));
	write_file("config.json", script, 0600);
	old_path = strdup(getenv("PATH"));
	assert_non_null(old_path);
	snprintf(path, sizeof(path), "%s/bin:%s", dir, old_path);
	setenv("PATH", path, 1);
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	world_init(w, cfg);
}

static void slow_helper_done(struct world *w)
{
	world_done(w);
	setenv("PATH", old_path, 1);
	free(old_path);
}

/*
 * The session closed by its owner while the helper still runs for dockerd's
 * Credentials call: the lookup is dropped, its answer later goes nowhere.
 * (Cancelling the build instead does not help: dockerd 20.10 keeps its
 * Credentials call open until we answer, measured with an 8 s helper.)
 */
static void test_close_during_lookup(void **state)
{
	struct bksession_opts o = {0};
	struct build b;
	struct world w;
	struct sess x;
	char df[512];

	(void)state;
	slow_helper_init(&w, 3);
	o.creds = w.creds;
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df), "FROM %s/private/base:1\n", getenv("TB_AUTH_REGISTRY"));
	build_start(&w, bksession_id(x.s), df, &b);
	while (!bksession_stats(x.s)->credentials && !b.done)
		uv_run(&w.loop, UV_RUN_ONCE);
	assert_int_equal(b.done, 0);
	sess_close(&w, &x);
	build_wait(&w, &b);
	assert_string_equal(b.image, "");
	assert_int_equal(x.closed, 0); /* closed by us: no callback */
	run_for(&w, 1500);             /* the helper is done by now */
	build_free(&b);
	slow_helper_done(&w);
}

/* ---- a scripted HTTP/2 peer ---- */

/*
 * dockerd 20.10 never resets a pending call, so this peer plays its part
 * with nghttp2's client side, on the same loop: it answers POST /session
 * with the 101 and its HTTP/2 preface in the same write (BUILDKIT.md A.5),
 * sends Credentials (to the slow helper), Health, GetSecret of an unknown
 * id and an unknown method, then resets the Credentials stream.
 */
enum { P_CREDS = 1, P_HEALTH = 3, P_SECRET = 5, P_OTHER = 7, P_N = 4 };

struct pstream {
	int32_t id;
	const char *path;
	uint8_t req[64];
	size_t req_len, req_off;
	int grpc_status; /* -1 until seen */
	uint8_t data[64];
	size_t len;
	bool closed;
	uint32_t code;
};

struct peer {
	uv_pipe_t server, conn;
	uv_timer_t timer;
	nghttp2_session *h2;
	char head[4096];
	size_t head_len;
	bool upgraded;
	int closes;
	struct pstream st[P_N];
	uint8_t rbuf[65536];
};

static void peer_write_cb(uv_write_t *req, int status)
{
	(void)status;
	free(req->data);
	free(req);
}

/* Writes bytes, then what nghttp2 has to send. */
static void peer_flush(struct peer *p, const void *pre, size_t pre_len)
{
	const uint8_t *data;
	ssize_t n;
	char *buf = malloc(pre_len + 65536);
	size_t len = pre_len;
	uv_write_t *req = malloc(sizeof(*req));

	assert_non_null(buf);
	assert_non_null(req);
	if (pre_len)
		memcpy(buf, pre, pre_len);
	while (p->h2 && len < 65536 && (n = nghttp2_session_mem_send(p->h2, &data)) > 0) {
		char *q = realloc(buf, len + (size_t)n);
		assert_non_null(q);
		buf = q;
		memcpy(buf + len, data, (size_t)n);
		len += (size_t)n;
	}
	if (len == 0) {
		free(buf);
		free(req);
		return;
	}
	req->data = buf;
	uv_buf_t b = uv_buf_init(buf, (unsigned)len);
	assert_int_equal(uv_write(req, (uv_stream_t *)&p->conn, &b, 1, peer_write_cb), 0);
}

static struct pstream *pstream_of(struct peer *p, int32_t id)
{
	for (int i = 0; i < P_N; i++)
		if (p->st[i].id == id)
			return &p->st[i];
	return NULL;
}

static int p_header_cb(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name,
                       size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                       void *user)
{
	struct pstream *st = pstream_of(user, f->hd.stream_id);

	(void)h2;
	(void)flags;
	(void)valuelen;
	if (st && namelen == 11 && !memcmp(name, "grpc-status", 11))
		st->grpc_status = atoi((const char *)value);
	return 0;
}

static int p_data_cb(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data,
                     size_t len, void *user)
{
	struct pstream *st = pstream_of(user, id);

	(void)h2;
	(void)flags;
	if (st && st->len + len <= sizeof(st->data)) {
		memcpy(st->data + st->len, data, len);
		st->len += len;
	}
	return 0;
}

static int p_close_cb(nghttp2_session *h2, int32_t id, uint32_t code, void *user)
{
	struct pstream *st = pstream_of(user, id);

	(void)h2;
	if (st) {
		st->closed = true;
		st->code = code;
	}
	return 0;
}

static ssize_t p_read_cb(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
	struct pstream *st = src->ptr;
	size_t n = st->req_len - st->req_off < len ? st->req_len - st->req_off : len;

	(void)h2;
	(void)id;
	(void)user;
	memcpy(buf, st->req + st->req_off, n);
	st->req_off += n;
	if (st->req_off == st->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static nghttp2_nv pnv(const char *name, const char *value)
{
	return (nghttp2_nv){(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, strlen(name),
	                    strlen(value), NGHTTP2_NV_FLAG_NONE};
}

/* A unary request: the framed message of one string field 1 (or none). */
static void p_request(struct peer *p, struct pstream *st, const char *path, const char *field)
{
	nghttp2_nv nva[] = {pnv(":method", "POST"),
	                    pnv(":scheme", "http"),
	                    pnv(":path", path),
	                    pnv(":authority", "localhost"),
	                    pnv("content-type", "application/grpc"),
	                    pnv("te", "trailers")};
	nghttp2_data_provider prd = {.source.ptr = st, .read_callback = p_read_cb};
	size_t n = field ? strlen(field) : 0;

	st->path = path;
	st->grpc_status = -1;
	memset(st->req, 0, 5);
	st->req[4] = (uint8_t)(n ? n + 2 : 0);
	if (n) {
		st->req[5] = 0x0a;
		st->req[6] = (uint8_t)n;
		memcpy(st->req + 7, field, n);
	}
	st->req_len = 5 + (n ? n + 2 : 0);
	st->id = nghttp2_submit_request(p->h2, NULL, nva, 6, &prd, st);
	assert_true(st->id > 0);
}

static void p_start_h2(struct peer *p)
{
	static const char ok101[] =
	        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
	nghttp2_session_callbacks *cb;

	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_on_header_callback(cb, p_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, p_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, p_close_cb);
	assert_int_equal(nghttp2_session_client_new(&p->h2, cb, p), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(p->h2, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	p_request(p, &p->st[0], "/moby.filesync.v1.Auth/Credentials", getenv("TB_AUTH_REGISTRY"));
	p_request(p, &p->st[1], "/grpc.health.v1.Health/Check", NULL);
	p_request(p, &p->st[2], "/moby.buildkit.secrets.v1.Secrets/GetSecret", "nope");
	p_request(p, &p->st[3], "/moby.sshforward.v1.SSH/CheckAgent", NULL);
	p->upgraded = true;
	peer_flush(p, ok101, sizeof(ok101) - 1);
}

static void p_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct peer *p = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)p->rbuf, sizeof(p->rbuf));
}

static void p_read_bytes_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct peer *p = s->data;

	if (n < 0) {
		uv_read_stop(s);
		return;
	}
	if (!p->upgraded) {
		memcpy(p->head + p->head_len, buf->base, (size_t)n); /* the request is < 1 KiB */
		p->head_len += (size_t)n;
		if (memmem(p->head, p->head_len, "\r\n\r\n", 4))
			p_start_h2(p);
		return;
	}
	assert_true(nghttp2_session_mem_recv(p->h2, (const uint8_t *)buf->base, (size_t)n) == n);
	peer_flush(p, NULL, 0);
}

static void p_connection_cb(uv_stream_t *server, int status)
{
	struct peer *p = server->data;

	assert_int_equal(status, 0);
	assert_int_equal(uv_accept(server, (uv_stream_t *)&p->conn), 0);
	assert_int_equal(uv_read_start((uv_stream_t *)&p->conn, p_alloc_cb, p_read_bytes_cb), 0);
}

static void p_closed_cb(uv_handle_t *h)
{
	struct peer *p = h->data;

	p->closes++;
}

static void test_peer_reset(void **state)
{
	struct bksession_opts o = {0};
	char sock[700];
	struct world w;
	struct peer p = {0};
	struct sess x;

	(void)state;
	slow_helper_init(&w, 2);
	snprintf(sock, sizeof(sock), "%s/peer.sock", dir);
	uv_pipe_init(&w.loop, &p.server, 0);
	uv_pipe_init(&w.loop, &p.conn, 0);
	p.server.data = p.conn.data = &p;
	assert_int_equal(uv_pipe_bind(&p.server, sock), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&p.server, 4, p_connection_cb), 0);
	snprintf(sock, sizeof(sock), "unix://%s/peer.sock", dir);
	o.engine_host = sock;
	o.creds = w.creds;
	assert_int_equal(sess_open(&w, &o, &x), 0);
	/* everything but Credentials is answered at once */
	while (!(p.st[1].closed && p.st[2].closed && p.st[3].closed) && !x.closed)
		uv_run(&w.loop, UV_RUN_ONCE);
	assert_int_equal(p.st[1].grpc_status, 0);
	assert_int_equal(p.st[1].len, 7);
	assert_memory_equal(p.st[1].data, "\0\0\0\0\2\x08\x01", 7);
	assert_int_equal(p.st[2].grpc_status, 5); /* NOT_FOUND */
	assert_int_equal(p.st[3].grpc_status, 12);
	assert_false(p.st[0].closed);
	assert_true(bksession_stats(x.s)->credentials == 1);
	/* reset the Credentials call while the helper runs */
	assert_int_equal(
	        nghttp2_submit_rst_stream(p.h2, NGHTTP2_FLAG_NONE, p.st[0].id, NGHTTP2_CANCEL), 0);
	peer_flush(&p, NULL, 0);
	for (int i = 0; i < 20 && !bksession_stats(x.s)->cancelled; i++)
		run_for(&w, 50);
	assert_int_equal(bksession_stats(x.s)->cancelled, 1);
	run_for(&w, 2500); /* the helper's answer comes and goes nowhere */
	assert_int_equal(x.closed, 0);
	/* the peer hangs up: closed_cb says so */
	uv_close((uv_handle_t *)&p.conn, p_closed_cb);
	while (!x.closed)
		uv_run(&w.loop, UV_RUN_ONCE);
	assert_int_equal(x.closed_status, -ECONNRESET);
	assert_non_null(strstr(x.reason, "closed the session"));
	sess_close(&w, &x);
	uv_close((uv_handle_t *)&p.server, p_closed_cb);
	while (p.closes < 2)
		uv_run(&w.loop, UV_RUN_ONCE);
	nghttp2_session_del(p.h2);
	slow_helper_done(&w);
}

/* Refusals: options, no engine, an id already in use (dockerd's 400), a peer that never
 * answers the upgrade. */
static void test_open_errors(void **state)
{
	char sock[600], msg[600];
	struct bksession_opts o = {0};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct bksession *s = NULL;
	struct world w;
	struct sess x, y;
	int fd;

	(void)state;
	world_init(&w, NULL);
	o.engine_host = "ssh://root@127.0.0.1";
	assert_int_equal(bksession_open(&w.loop, &o, ready_cb, NULL, &x, &s), -EPROTONOSUPPORT);
	o.engine_host = "tcp://";
	assert_int_equal(bksession_open(&w.loop, &o, ready_cb, NULL, &x, &s), -EINVAL);
	o.engine_host = getenv("TB_DOCKER_HOST");
	o.id = "a:b";
	assert_int_equal(bksession_open(&w.loop, &o, ready_cb, NULL, &x, &s), -EINVAL);
	o.id = NULL;
	o.api_version = "1.41\r\nX: y";
	assert_int_equal(bksession_open(&w.loop, &o, ready_cb, NULL, &x, &s), -EINVAL);
	assert_null(s);
	/* no such socket */
	snprintf(sock, sizeof(sock), "unix://%s/nosuch.sock", dir);
	o = (struct bksession_opts){.engine_host = sock};
	assert_int_equal(sess_open(&w, &o, &x), -ENOENT);
	assert_non_null(strstr(x.error, "nosuch.sock"));
	sess_close(&w, &x);
	/* the same id twice */
	o = (struct bksession_opts){.id = "refit-test-session-1"};
	assert_int_equal(sess_open(&w, &o, &x), 0);
	assert_string_equal(bksession_id(x.s), "refit-test-session-1");
	assert_int_equal(sess_open(&w, &o, &y), -EPROTO);
	snprintf(msg, sizeof(msg), "%s", y.error);
	print_message("same id again: %s\n", msg);
	assert_non_null(strstr(msg, "400"));
	assert_non_null(strstr(msg, "already exists"));
	sess_close(&w, &y);
	sess_close(&w, &x);
	/* a socket that accepts (the backlog does) and never answers */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/silent.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	snprintf(sock, sizeof(sock), "unix://%s", sa.sun_path);
	o = (struct bksession_opts){.engine_host = sock, .timeout_ms = 300};
	assert_int_equal(sess_open(&w, &o, &x), -ETIMEDOUT);
	assert_true(ms_between(x.t_open, x.t_ready) >= 290);
	sess_close(&w, &x);
	close(fd);
	/* closed before the answer: no callback at all */
	o = (struct bksession_opts){.engine_host = getenv("TB_DOCKER_HOST")};
	memset(&x, 0, sizeof(x));
	assert_int_equal(bksession_open(&w.loop, &o, ready_cb, closed_cb, &x, &x.s), 0);
	uv_run(&w.loop, UV_RUN_NOWAIT);
	bksession_close(x.s);
	run_for(&w, 200);
	assert_int_equal(x.ready, 0);
	world_done(&w);
}

/* ---- TCP and TLS ---- */

/* Opens n sessions one after the other on the world's engine: mean and best open -> 101. */
static void measure_open(struct world *w, int n, double *ret_mean, double *ret_best)
{
	struct bksession_opts o;
	struct sess x;
	double sum = 0, best = 1e9;

	for (int i = 0; i < n; i++) {
		o = (struct bksession_opts){0};
		assert_int_equal(sess_open(w, &o, &x), 0);
		sum += ms_between(x.t_open, x.t_ready);
		if (ms_between(x.t_open, x.t_ready) < best)
			best = ms_between(x.t_open, x.t_ready);
		while (bksession_stats(x.s)->health < 1 && !x.closed)
			uv_run(&w->loop, UV_RUN_ONCE);
		assert_int_equal(x.closed, 0);
		sess_close(w, &x);
	}
	*ret_mean = sum / n;
	*ret_best = best;
}

/* Sessions over TCP with mutual TLS stay up on their health checks; what TLS costs. */
static void test_tls_health(void **state)
{
	struct world w;
	double unix_mean, unix_best, tls_mean, tls_best;
	const int n = 10;

	(void)state;
	world_init(&w, NULL);
	measure_open(&w, n, &unix_mean, &unix_best);
	world_done(&w);
	world_init_tls(&w);
	assert_string_equal(engine_info(w.e)->builder, "buildkit"); /* auto, on tcp:// too */
	measure_open(&w, n, &tls_mean, &tls_best);
	world_done(&w);
	print_message("open -> 101, mean of %d: unix %.2f ms (best %.2f), tcp+tls %.2f ms (best "
	              "%.2f)\n",
	              n, unix_mean, unix_best, tls_mean, tls_best);
}

/* The build of test_build_private_base_and_secret, engine and session over TLS. */
static void test_tls_build(void **state)
{
	char df[1024], path[600];
	struct bksession_secret sec = pipconf_secret(path, sizeof(path));
	struct bksession_opts o = {.secrets = &sec, .n_secrets = 1};
	struct build b;
	struct world w;
	struct sess x;

	(void)state;
	log_to_file(true);
	world_init_tls(&w);
	o.creds = w.creds;
	assert_int_equal(sess_open(&w, &o, &x), 0);
	snprintf(df, sizeof(df),
	         "FROM %s/private/base:1\n"
	         "RUN --mount=type=secret,id=pipconf,required=true sha256sum /run/secrets/pipconf "
	         "| grep -q %s\n",
	         getenv("TB_AUTH_REGISTRY"), canary_sha);
	build_start(&w, bksession_id(x.s), df, &b);
	build_wait(&w, &b);
	assert_int_equal(b.status, 200);
	assert_string_equal(b.message, "");
	assert_true(!strncmp(b.image, "sha256:", 7));
	assert_true(bksession_stats(x.s)->credentials >= 1);
	assert_int_equal(bksession_stats(x.s)->secrets, 1);
	run_for(&w, 1500); /* idle: the health checks go on through TLS */
	assert_int_equal(x.closed, 0);
	sess_close(&w, &x);
	assert_false(log_has(canary));
	assert_false(log_has(getenv("TB_REG_PASS")));
	build_free(&b);
	world_done(&w);
	log_to_file(false);
}

/* A TCP port that accepts (the backlog does) and never answers; its socket. */
static int silent_port(char *host, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(host, len, "tcp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

/* Fails in time, and says why. */
static void expect_failure(struct world *w, struct bksession_opts *o, uint64_t max_ms,
                           const char *what, const char *needle)
{
	struct sess x;
	int r = sess_open(w, o, &x);

	print_message("%s: %d %s (%.0f ms)\n", what, r, x.error, ms_between(x.t_open, x.t_ready));
	assert_true(r < 0);
	assert_true(ms_between(x.t_open, x.t_ready) < (double)max_ms);
	assert_int_equal(x.closed, 0);
	assert_non_null(strstr(x.error, needle));
	sess_close(w, &x);
}

/* A wrong CA, a client certificate the engine refuses, no TLS at all, a silent port. */
static void test_tls_errors(void **state)
{
	char ca[600], cert[600], key[600], other[600], ocert[600], okey[600], host[64], cmd[2048];
	struct config_engine ce = tls_engine(ca, cert, key, sizeof(ca));
	struct bksession_opts o;
	struct world w;
	struct sess x;
	int fd;

	(void)state;
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/other && tb_tls_ca %s/other ca && "
	         "tb_tls_cert %s/other ca client client",
	         dir, dir, dir);
	assert_int_equal(bed_sh(cmd), 0);
	snprintf(other, sizeof(other), "%s/other/ca.pem", dir);
	snprintf(ocert, sizeof(ocert), "%s/other/client.pem", dir);
	snprintf(okey, sizeof(okey), "%s/other/client-key.pem", dir);
	world_init(&w, NULL);
	o = (struct bksession_opts){
	        .engine_host = ce.host, .tls_ca = other, .tls_cert = cert, .tls_key = key};
	expect_failure(&w, &o, 5000, "a CA that did not sign the engine's certificate",
	               "certificate");
	o = (struct bksession_opts){
	        .engine_host = ce.host, .tls_ca = ca, .tls_cert = ocert, .tls_key = okey};
	expect_failure(&w, &o, 5000, "a client certificate from another CA", "certificate");
	o = (struct bksession_opts){.engine_host = ce.host, .timeout_ms = 2000};
	expect_failure(&w, &o, 3000, "plain TCP to the TLS port", "400");
	fd = silent_port(host, sizeof(host));
	o = (struct bksession_opts){.engine_host = host,
	                            .tls_ca = ca,
	                            .tls_cert = cert,
	                            .tls_key = key,
	                            .timeout_ms = 300};
	assert_int_equal(sess_open(&w, &o, &x), -ETIMEDOUT);
	assert_true(ms_between(x.t_open, x.t_ready) < 1000);
	print_message("a silent TLS port: %s\n", x.error);
	sess_close(&w, &x);
	o = (struct bksession_opts){.engine_host = host, .timeout_ms = 300};
	assert_int_equal(sess_open(&w, &o, &x), -ETIMEDOUT);
	assert_non_null(strstr(x.error, "no answer from the engine to POST /session"));
	sess_close(&w, &x);
	close(fd);
	o = (struct bksession_opts){.engine_host = host}; /* closed now: refused */
	expect_failure(&w, &o, 2000, "a closed port", "connect");
	world_done(&w);
}

/* ---- a TCP peer that answers and hangs up ---- */

struct hangup {
	uv_tcp_t server, conn;
	uv_write_t wreq;
	char answer[256]; /* sent once the request is in; then the connection closes */
	char buf[4096];
	int closes;
};

static void h_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct hangup *p = h->data;

	(void)hint;
	*buf = uv_buf_init(p->buf, sizeof(p->buf));
}

static void h_closed_cb(uv_handle_t *h)
{
	((struct hangup *)h->data)->closes++;
}

static void h_written_cb(uv_write_t *req, int status)
{
	struct hangup *p = req->data;

	(void)status;
	uv_close((uv_handle_t *)&p->conn, h_closed_cb);
}

static void h_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct hangup *p = st->data;
	uv_buf_t b = uv_buf_init(p->answer, (unsigned)strlen(p->answer));

	(void)buf;
	if (n <= 0)
		return;
	uv_read_stop(st);
	p->wreq.data = p;
	assert_int_equal(uv_write(&p->wreq, st, &b, 1, h_written_cb), 0);
}

static void h_connection_cb(uv_stream_t *server, int status)
{
	struct hangup *p = server->data;

	assert_int_equal(status, 0);
	uv_tcp_init(server->loop, &p->conn);
	p->conn.data = p;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&p->conn), 0);
	assert_int_equal(uv_read_start((uv_stream_t *)&p->conn, h_alloc_cb, h_read_cb), 0);
}

static void hangup_start(struct world *w, struct hangup *p, const char *answer, char *host,
                         size_t len)
{
	struct sockaddr_in sa;
	int sl = sizeof(sa);

	memset(p, 0, sizeof(*p));
	snprintf(p->answer, sizeof(p->answer), "%s", answer);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_init(&w->loop, &p->server);
	p->server.data = p;
	assert_int_equal(uv_tcp_bind(&p->server, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&p->server, 4, h_connection_cb), 0);
	assert_int_equal(uv_tcp_getsockname(&p->server, (struct sockaddr *)&sa, &sl), 0);
	snprintf(host, len, "tcp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* Plain TCP: an engine that hangs up before its answer, and one that drops the session after
 * the 101: the owner hears it at once, with the reason. */
static void test_tcp_hangup(void **state)
{
	char host[64];
	struct bksession_opts o;
	struct hangup p;
	struct world w;
	struct sess x;

	(void)state;
	world_init(&w, NULL);
	hangup_start(&w, &p, "HTTP/1.1 200 OK\r\n", host, sizeof(host)); /* cut short */
	o = (struct bksession_opts){.engine_host = host};
	assert_true(sess_open(&w, &o, &x) < 0);
	print_message("hung up before the answer: %s\n", x.error);
	assert_non_null(strstr(x.error, "closed the connection before answering"));
	sess_close(&w, &x);
	snprintf(p.answer, sizeof(p.answer), "%s",
	         "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
	o = (struct bksession_opts){.engine_host = host};
	assert_int_equal(sess_open(&w, &o, &x), 0);
	while (!x.closed)
		uv_run(&w.loop, UV_RUN_ONCE);
	print_message("dropped after the 101: %s\n", x.reason);
	assert_non_null(strstr(x.reason, "the engine closed the session"));
	sess_close(&w, &x);
	uv_close((uv_handle_t *)&p.server, h_closed_cb);
	world_done(&w);
	assert_int_equal(p.closes, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_open_errors),
	        cmocka_unit_test(test_health),
	        cmocka_unit_test(test_build_private_base_and_secret),
	        cmocka_unit_test(test_build_token_registry),
	        cmocka_unit_test(test_big_secret),
	        cmocka_unit_test(test_build_refused),
	        cmocka_unit_test(test_close_mid_build),
	        cmocka_unit_test(test_close_during_lookup),
	        cmocka_unit_test(test_peer_reset),
	        cmocka_unit_test(test_tls_health),
	        cmocka_unit_test(test_tls_build),
	        cmocka_unit_test(test_tls_errors),
	        cmocka_unit_test(test_tcp_hangup),
	};
	if (getenv("BK_TEST")) /* one test by name, by hand */
		cmocka_set_test_filter(getenv("BK_TEST"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
