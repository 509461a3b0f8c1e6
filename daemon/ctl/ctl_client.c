/*
 * ctl_client — the refitctl commands that talk to refitd's REST API: status,
 * projects, builds, rebuild, rollback, logs.
 *
 * Each runs one request through http_client on a private libuv loop. The
 * endpoint is --url, else $REFIT_URL, else the listen address of the
 * configuration (--config, default /etc/refit/refit.yaml when readable),
 * else http://127.0.0.1:8787; "unix:/path" talks over a unix socket. The
 * token comes from --token-file, $REFIT_TOKEN_FILE or the configuration's
 * api_token_file, and is only ever sent in the Authorization header.
 */
#include "ctl.h"
#include "ctl_client.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "http_client.h"

/* ---- options and defaults ---- */

static void from_listen(struct client *c, const char *listen)
{
	const char *colon = strrchr(listen, ':');

	if (!strncmp(listen, "unix:", 5))
		snprintf(c->url, sizeof(c->url), "%s", listen);
	else if (!strncmp(listen, "0.0.0.0:", 8))
		snprintf(c->url, sizeof(c->url), "http://127.0.0.1%s", colon);
	else if (!strncmp(listen, "[::]:", 5))
		snprintf(c->url, sizeof(c->url), "http://[::1]%s", colon);
	else if (strcmp(listen, "systemd"))
		snprintf(c->url, sizeof(c->url), "http://%s", listen);
}

/* The configuration's listen address and token file, when it can be read. */
static void from_config(struct client *c, bool want_url, bool want_token)
{
	struct config_errors errs = {0};
	struct config *cfg = NULL;
	const char *path = c->config[0] ? c->config : DEFAULT_CONFIG;

	if (access(path, R_OK) < 0 || config_load(path, &cfg, &errs) < 0) {
		if (c->config[0])
			fprintf(stderr, "refitctl: %s: cannot use it (%s)\n", path,
			        errs.n ? errs.lines[0] : strerror(errno));
		config_errors_done(&errs);
		return;
	}
	if (want_url && cfg->listen)
		from_listen(c, cfg->listen);
	if (want_token && cfg->api_token_file)
		snprintf(c->token_file, sizeof(c->token_file), "%s", cfg->api_token_file);
	config_errors_done(&errs);
	config_free(cfg);
}

static void resolve(struct client *c)
{
	const char *env_url = getenv("REFIT_URL"), *env_tok = getenv("REFIT_TOKEN_FILE");
	bool want_url = !c->url[0] && !(env_url && *env_url);
	bool want_token = !c->token_file[0] && !(env_tok && *env_tok);

	if (!c->url[0] && env_url && *env_url)
		snprintf(c->url, sizeof(c->url), "%s", env_url);
	if (!c->token_file[0] && env_tok && *env_tok)
		snprintf(c->token_file, sizeof(c->token_file), "%s", env_tok);
	if (want_url || want_token)
		from_config(c, want_url, want_token);
	if (!c->url[0])
		snprintf(c->url, sizeof(c->url), "%s", DEFAULT_URL);
	if (!strncmp(c->url, "unix:", 5)) {
		snprintf(c->unix_path, sizeof(c->unix_path), "%s", c->url + 5);
		snprintf(c->url, sizeof(c->url), "http://localhost");
	}
	for (size_t n = strlen(c->url); n > 0 && c->url[n - 1] == '/'; n--)
		c->url[n - 1] = '\0';
}

/*
 * Parses the common options (--url, --token-file, --config, --json) and the
 * command's own (extra, a getopt_long table ending in a zero row, handled by
 * on_opt). Returns optind, or -1 after printing the usage.
 */
int client_parse(struct client *c, int argc, char **argv, const struct option *extra,
                 int (*on_opt)(int opt, const char *arg, void *ctx), void *ctx)
{
	struct option opts[16] = {
	        {"url", required_argument, NULL, 'U'},
	        {"token-file", required_argument, NULL, 'T'},
	        {"config", required_argument, NULL, 'C'},
	        {"json", no_argument, NULL, 'J'},
	        {"help", no_argument, NULL, 'h'},
	};
	size_t n = 5;
	int o;

	char shorts[32] = "h";
	size_t k = 1;

	/* an option whose value is a letter also has that short form (-f for --follow) */
	for (size_t i = 0; extra && extra[i].name && n < 15; i++) {
		opts[n++] = extra[i];
		if (extra[i].val >= 'a' && extra[i].val <= 'z' && extra[i].val != 'h' && k < 29) {
			shorts[k++] = (char)extra[i].val;
			if (extra[i].has_arg == required_argument)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
	optind = 1;
	while ((o = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (o == 'U')
			snprintf(c->url, sizeof(c->url), "%s", optarg);
		else if (o == 'T')
			snprintf(c->token_file, sizeof(c->token_file), "%s", optarg);
		else if (o == 'C')
			snprintf(c->config, sizeof(c->config), "%s", optarg);
		else if (o == 'J')
			c->json = true;
		else if (o == 'h' || !on_opt || on_opt(o, optarg, ctx) < 0)
			return -1;
	}
	resolve(c);
	return optind;
}

int client_usage(const struct client *c, const char *args)
{
	fprintf(stderr,
	        "usage: refitctl %s [--url URL] [--token-file FILE] [--config FILE] [--json]%s\n",
	        c->cmd, args);
	return CTL_USAGE;
}

/* ---- HTTP ---- */

static int stream_cb(const char *chunk, size_t len, void *arg)
{
	(void)arg;
	return fwrite(chunk, 1, len, stdout) == len ? 0 : -1;
}

static void done_cb(const struct http_response *resp, void *arg)
{
	struct reply *r = arg;

	r->done = true;
	r->status = resp->status;
	r->error = resp->error;
	snprintf(r->err_msg, sizeof(r->err_msg), "%s", resp->error_msg ? resp->error_msg : "");
	if (!r->stream && resp->body && (r->body = malloc(resp->body_len + 1))) {
		memcpy(r->body, resp->body, resp->body_len);
		r->body[resp->body_len] = '\0';
		r->len = resp->body_len;
	}
}

/* Reads the token file into buf (trailing whitespace stripped); -errno on failure. */
static int read_token(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
		n--;
	buf[n] = '\0';
	return n ? 0 : -ENODATA;
}

static int run_request(const struct http_request_opts *o, struct reply *r)
{
	uv_loop_t loop;
	struct http_client *hc = NULL;
	int e;

	http_global_init();
	uv_loop_init(&loop);
	e = http_client_new(&loop, &hc);
	if (e == 0)
		e = http_request_start(hc, o, done_cb, r, NULL);
	while (e == 0 && !r->done)
		uv_run(&loop, UV_RUN_ONCE);
	if (hc)
		http_client_close(hc);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	http_global_cleanup();
	return e;
}

/* Sends one request; POSTs carry the token. Returns 0 when an HTTP answer came. */
int client_call(const struct client *c, const char *method, const char *path, const char *body,
                struct reply *r)
{
	char url[1024], auth[TOKEN_MAX + 32] = "", tok[TOKEN_MAX + 1];
	const char *headers[] = {"Accept: application/json", NULL, NULL, NULL};
	struct http_request_opts o = {.method = method,
	                              .url = url,
	                              .headers = headers,
	                              .unix_socket = c->unix_path[0] ? c->unix_path : NULL,
	                              .body = body,
	                              .body_len = body ? strlen(body) : 0,
	                              .timeout_ms = r->stream ? 0 : 30000,
	                              .max_body = r->max_body};
	int e;

	snprintf(url, sizeof(url), "%s%s", c->url, path);
	if (!strcmp(method, "POST") && c->token_file[0]) {
		e = read_token(c->token_file, tok, sizeof(tok));
		if (e < 0) {
			fprintf(stderr, "refitctl: token file %s: %s\n", c->token_file,
			        strerror(-e));
			return e;
		}
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		headers[1] = auth;
		explicit_bzero(tok, sizeof(tok));
	}
	if (body)
		headers[auth[0] ? 2 : 1] = "Content-Type: application/json";
	if (r->stream) {
		o.data_cb = stream_cb;
		o.stream_arg = r;
	}
	e = run_request(&o, r);
	explicit_bzero(auth, sizeof(auth));
	if (e < 0 || r->error) {
		fprintf(stderr, "refitctl: cannot reach refitd at %s%s%s: %s\n",
		        c->unix_path[0] ? "unix:" : c->url, c->unix_path, "",
		        r->err_msg[0] ? r->err_msg : strerror(-(e < 0 ? e : r->error)));
		return e < 0 ? e : r->error;
	}
	return 0;
}

/* Prints the server's error message for a failed answer; returns CTL_FAIL. */
int client_error(const struct reply *r)
{
	json_t *doc = r->body ? json_loads(r->body, 0, NULL) : NULL;
	const char *msg =
	        json_string_value(json_object_get(json_object_get(doc, "error"), "message"));

	fprintf(stderr, "refitctl: %s (HTTP %ld)\n", msg ? msg : "request failed", r->status);
	if (r->status == 401)
		fprintf(stderr, "refitctl: POSTs need refitd's API token: --token-file FILE, "
		                "$REFIT_TOKEN_FILE, or --config with the refit.yaml naming "
		                "api_token_file\n");
	json_decref(doc);
	return CTL_FAIL;
}

/* GETs path and returns its JSON (or prints it with --json: *ret stays NULL). */
int client_get_json(const struct client *c, const char *path, json_t **ret)
{
	struct reply r = {0};
	json_error_t jerr;
	int code = CTL_OK;

	*ret = NULL;
	if (client_call(c, "GET", path, NULL, &r) < 0)
		return CTL_FAIL;
	if (r.status != 200)
		code = client_error(&r);
	else if (c->json)
		printf("%s\n", r.body ? r.body : "");
	else if (!(*ret = json_loads(r.body ? r.body : "", 0, &jerr))) {
		fprintf(stderr, "refitctl: refitd answered something that is not JSON: %s\n",
		        jerr.text);
		code = CTL_FAIL;
	}
	free(r.body);
	return code;
}

/* ---- tables ---- */

/* A cell is one line: a multi-line message is cut at its first break. */
static char *cell(const char *v)
{
	size_t n = strcspn(v ? v : "-", "\r\n");
	char *c;

	if (!v || !v[n])
		return strdup(v ? v : "-");
	c = malloc(n + 4);
	if (c)
		snprintf(c, n + 4, "%.*s...", (int)n, v);
	return c;
}

void table_row(struct table *t, const char *const *vals)
{
	if (t->rows >= TABLE_MAX_ROWS)
		return;
	for (size_t i = 0; i < t->cols; i++)
		t->cells[t->rows][i] = cell(vals[i]);
	t->rows++;
}

void table_print(struct table *t)
{
	size_t w[TABLE_MAX_COLS] = {0};

	for (size_t r = 0; r < t->rows; r++)
		for (size_t i = 0; i < t->cols; i++) {
			size_t n = t->cells[r][i] ? strlen(t->cells[r][i]) : 1;
			w[i] = n > w[i] ? n : w[i];
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t i = 0; i < t->cols; i++) {
			const char *v = t->cells[r][i] ? t->cells[r][i] : "-";
			if (i + 1 < t->cols)
				printf("%-*s  ", (int)w[i], v);
			else
				printf("%s\n", v);
		}
		for (size_t i = 0; i < t->cols; i++)
			free(t->cells[r][i]);
	}
	t->rows = 0;
}

const char *json_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "2025-01-02T03:04:05.678Z" shown as "2025-01-02 03:04:05". */
const char *json_when(json_t *o, const char *key, char *buf, size_t len)
{
	const char *t = json_str(o, key);

	if (!t)
		return "-";
	snprintf(buf, len, "%.10s %.8s", t, strlen(t) > 11 ? t + 11 : "");
	return buf;
}

struct table *table_new(size_t cols, const char *const *header)
{
	struct table *t = cols <= TABLE_MAX_COLS ? calloc(1, sizeof(*t)) : NULL;

	if (!t) {
		fprintf(stderr, "refitctl: out of memory\n");
		return NULL;
	}
	t->cols = cols;
	table_row(t, header);
	return t;
}

/* ---- commands ---- */

static void print_engines(json_t *engines)
{
	static const char *const head[] = {"ENGINE", "REACHABLE", "API", "RUNNING", "ERROR"};
	struct table *t = table_new(5, head);
	json_t *e;
	size_t i;

	json_array_foreach(engines, i, e)
	{
		char run[32];
		snprintf(run, sizeof(run), "%lld/%lld",
		         (long long)json_integer_value(json_object_get(e, "running_builds")),
		         (long long)json_integer_value(json_object_get(e, "max_builds")));
		const char *v[] = {json_str(e, "host"),
		                   json_is_true(json_object_get(e, "reachable")) ? "yes" : "no",
		                   json_str(e, "api_version"), run, json_str(e, "error")};
		if (t)
			table_row(t, v);
	}
	if (t)
		table_print(t);
	free(t);
}

/* `refitctl status`: what refitd is doing. */
int ctl_status(int argc, char **argv)
{
	struct client c = {.cmd = "status"};
	json_t *s, *q, *b, *st, *v;
	char t1[40], t2[40];
	const char *k;
	int code;

	if (client_parse(&c, argc, argv, NULL, NULL, NULL) != argc)
		return client_usage(&c, "");
	code = client_get_json(&c, "/v1/status", &s);
	if (!s)
		return code;
	q = json_object_get(s, "queue");
	b = json_object_get(s, "bases");
	st = json_object_get(json_object_get(s, "projects"), "by_state");
	printf("refitd %s, up %llds (since %s)\n", json_str(s, "version"),
	       (long long)json_integer_value(json_object_get(s, "uptime_seconds")),
	       json_when(s, "started_at", t1, sizeof(t1)));
	printf("queue: %lld pending\n",
	       (long long)json_integer_value(json_object_get(q, "pending")));
	printf("bases: %lld watched, last poll %s, next %s\n",
	       (long long)json_integer_value(json_object_get(b, "count")),
	       json_when(b, "last_poll", t1, sizeof(t1)),
	       json_when(b, "next_poll", t2, sizeof(t2)));
	printf("projects: %lld", (long long)json_integer_value(
	                                 json_object_get(json_object_get(s, "projects"), "total")));
	json_object_foreach(st, k, v)
	{
		if (json_integer_value(v))
			printf(", %s %lld", k, (long long)json_integer_value(v));
	}
	printf("\n\n");
	print_engines(json_object_get(s, "engines"));
	json_decref(s);
	return CTL_OK;
}

struct builds_filter {
	char query[512];
};

static int builds_opt(int opt, const char *arg, void *ctx)
{
	static const char *const keys[] = {"project", "env", "status", "limit", "before"};
	struct builds_filter *f = ctx;
	size_t n = strlen(f->query);
	char *esc;

	if (opt < 1 || opt > 5)
		return -1;
	esc = http_escape(arg);
	if (!esc)
		return -1;
	snprintf(f->query + n, sizeof(f->query) - n, "%c%s=%s", n ? '&' : '?', keys[opt - 1], esc);
	free(esc);
	return 0;
}

static void build_row(struct table *t, json_t *b)
{
	char id[24], dur[24], t1[40];
	json_t *d = json_object_get(b, "duration_seconds");

	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(b, "id")));
	snprintf(dur, sizeof(dur), json_is_number(d) ? "%.0fs" : "-", json_number_value(d));
	const char *v[] = {id,
	                   json_str(b, "project"),
	                   json_str(b, "env"),
	                   json_str(b, "status"),
	                   json_str(b, "trigger"),
	                   json_str(b, "builder"),
	                   json_when(b, "queued_at", t1, sizeof(t1)),
	                   dur,
	                   json_str(b, "error")};
	table_row(t, v);
}

/* `refitctl builds [--project P] [--env E] [--status S] [--limit N] [--before ID]`. */
int ctl_builds(int argc, char **argv)
{
	static const struct option extra[] = {
	        {"project", required_argument, NULL, 1}, {"env", required_argument, NULL, 2},
	        {"status", required_argument, NULL, 3},  {"limit", required_argument, NULL, 4},
	        {"before", required_argument, NULL, 5},  {NULL, 0, NULL, 0},
	};
	static const char *const head[] = {"ID",      "PROJECT", "ENV",      "STATUS", "TRIGGER",
	                                   "BUILDER", "QUEUED",  "DURATION", "ERROR"};
	struct client c = {.cmd = "builds"};
	struct builds_filter f = {""};
	char path[600];
	json_t *doc, *b;
	struct table *t;
	size_t i;
	int code;

	int n = client_parse(&c, argc, argv, extra, builds_opt, &f);

	if (n >= 0 && argc - n == 1 && !f.query[0])
		return ctl_build_show(&c, argv[n]);
	if (n != argc)
		return client_usage(&c, " [ID | --project P] [--env E] [--status S] [--limit N] "
		                        "[--before ID]");
	snprintf(path, sizeof(path), "/v1/builds%s", f.query);
	code = client_get_json(&c, path, &doc);
	if (!doc)
		return code;
	t = table_new(9, head);
	json_array_foreach(json_object_get(doc, "builds"), i, b)
	{
		if (t)
			build_row(t, b);
	}
	if (t)
		table_print(t);
	if (json_is_integer(json_object_get(doc, "next_before")))
		printf("(more: --before %lld)\n",
		       (long long)json_integer_value(json_object_get(doc, "next_before")));
	free(t);
	json_decref(doc);
	return t ? CTL_OK : CTL_FAIL;
}

/* POSTs to /v1/projects/NAME/ACTION and reports the answer. */
static int project_post(struct client *c, int argc, char **argv, const char *action)
{
	char path[160];
	struct reply r = {0};
	json_t *doc;
	int n = client_parse(c, argc, argv, NULL, NULL, NULL), code = CTL_OK;

	bool with_env = !strcmp(action, "rollback") && argc - n == 2;

	if (n < 0 || (argc - n != 1 && !with_env) || strchr(argv[n], '/') || strlen(argv[n]) > 64 ||
	    (with_env &&
	     strspn(argv[n + 1], "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(argv[n + 1])))
		return client_usage(c, !strcmp(action, "rollback") ? " NAME [ENV]" : " NAME");
	snprintf(path, sizeof(path), "/v1/projects/%s/%s%s%.32s", argv[n], action,
	         with_env ? "?env=" : "", with_env ? argv[n + 1] : "");
	if (client_call(c, "POST", path, NULL, &r) < 0)
		return CTL_FAIL;
	doc = r.body ? json_loads(r.body, 0, NULL) : NULL;
	if (c->json && (r.status == 202 || r.status == 409))
		printf("%s\n", r.body ? r.body : "");
	else if (r.status == 202 && !strcmp(action, "rollback"))
		printf("rollback of %s started: %s\n", argv[n],
		       json_string_value(json_object_get(doc, "message")) ?: "see refitctl builds");
	else if (r.status == 202)
		printf("%s: %s done\n", argv[n], action);
	else
		code = client_error(&r);
	json_decref(doc);
	free(r.body);
	return code;
}

/* `refitctl rollback NAME [ENV]`: ENV (prod) back to :ENV-previous. */
int ctl_rollback(int argc, char **argv)
{
	struct client c = {.cmd = "rollback"};
	return project_post(&c, argc, argv, "rollback");
}

/* `refitctl logs BUILD_ID`: the build's log on stdout. */
#define LOG_BODY_MAX  (17u << 20) /* refitd serves at most the last 16 MiB */
#define FOLLOW_POLL_S 1

/* The build's status ("running", "succeeded", ...) in buf; CTL_OK or the error printed. */
static int build_status(const struct client *c, long long id, char *buf, size_t len)
{
	struct reply r = {0};
	char path[64];
	json_t *doc;
	int code = CTL_OK;

	snprintf(path, sizeof(path), "/v1/builds/%lld", id);
	if (client_call(c, "GET", path, NULL, &r) < 0)
		return CTL_FAIL;
	if (r.status != 200)
		code = client_error(&r);
	doc = code == CTL_OK ? json_loads(r.body ? r.body : "", 0, NULL) : NULL;
	snprintf(buf, len, "%s", json_str(doc, "status") ?: "");
	json_decref(doc);
	free(r.body);
	return code;
}

/* Writes the log from byte *at on, moving *at; CTL_OK, or the error printed on stderr. */
static int log_from(const struct client *c, long long id, unsigned long long *at, bool follow)
{
	struct reply r = {.max_body = LOG_BODY_MAX};
	char path[96];

	snprintf(path, sizeof(path), "/v1/builds/%lld/log%s", id, follow ? "?offset=" : "");
	if (follow)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%llu", *at);
	if (client_call(c, "GET", path, NULL, &r) < 0)
		return CTL_FAIL;
	if (r.status == 404 && follow && *at == 0) { /* not started: no log yet */
		free(r.body);
		return CTL_OK;
	}
	if (r.status != 200) {
		int code = client_error(&r);
		free(r.body);
		return code;
	}
	if (r.len && fwrite(r.body, 1, r.len, stdout) != r.len) {
		free(r.body);
		return CTL_FAIL;
	}
	*at += r.len;
	free(r.body);
	return fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}

static int logs_opt(int opt, const char *arg, void *ctx)
{
	(void)arg;
	if (opt != 'f')
		return -1;
	*(bool *)ctx = true;
	return 0;
}

/*
 * `refitctl logs BUILD_ID [-f]`: the build's log on stdout, errors on stderr only.
 * -f follows a build that runs until it ends; the exit code is then its outcome.
 */
int ctl_logs(int argc, char **argv)
{
	static const struct option extra[] = {{"follow", no_argument, NULL, 'f'},
	                                      {NULL, 0, NULL, 0}};
	struct client c = {.cmd = "logs"};
	char status[32];
	char *end;
	bool follow = false;
	unsigned long long at = 0;
	int n = client_parse(&c, argc, argv, extra, logs_opt, &follow), code;
	long long id;

	if (n < 0 || argc - n != 1)
		return client_usage(&c, " BUILD_ID [-f|--follow]");
	errno = 0;
	id = strtoll(argv[n], &end, 10);
	if (errno || *end || id <= 0)
		return client_usage(&c, " BUILD_ID [-f|--follow]");
	/* The build first, so that an error is a message and not a log. */
	code = build_status(&c, id, status, sizeof(status));
	if (code != CTL_OK || !follow)
		return code != CTL_OK ? code : log_from(&c, id, &at, false);
	for (;;) {
		bool over = strcmp(status, "queued") && strcmp(status, "running");
		code = log_from(&c, id, &at, true);
		if (code != CTL_OK || over)
			break;
		sleep(FOLLOW_POLL_S);
		if ((code = build_status(&c, id, status, sizeof(status))) != CTL_OK)
			break;
	}
	if (code == CTL_OK && strcmp(status, "succeeded")) {
		fprintf(stderr, "refitctl: build %lld %s\n", id, status);
		code = CTL_FAIL;
	}
	return code;
}
