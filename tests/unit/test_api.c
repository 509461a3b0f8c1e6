/*
 * api: the request parsers alone, then a real server on a loopback port (and
 * on a unix socket) answering real HTTP requests sent through http_client on
 * the same loop, over a store holding real rows.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "api.h"
#include "api_impl.h"
#include "config.h"
#include "http_client.h"
#include "store.h"
#include "store_query.h"

/* ---- parsers ---- */

static void test_uri_parse(void **state)
{
	char path[256];
	struct api_query q;
	const char *err = NULL;

	(void)state;
	assert_int_equal(api_uri_parse("/v1/builds?project=a%2Db&limit=5&x=a+b&&", path,
	                               sizeof(path), &q, &err),
	                 0);
	assert_string_equal(path, "/v1/builds");
	assert_int_equal(q.n, 3);
	assert_string_equal(api_query_get(&q, "project"), "a-b");
	assert_string_equal(api_query_get(&q, "x"), "a b");
	assert_null(api_query_get(&q, "nope"));
	assert_int_equal(api_uri_parse("/a%00b", path, sizeof(path), &q, &err), -EINVAL);
	assert_int_equal(api_uri_parse("/a%4", path, sizeof(path), &q, &err), -EINVAL);
	assert_int_equal(api_uri_parse("/a?k=%zz", path, sizeof(path), &q, &err), -EINVAL);
	assert_int_equal(api_uri_parse("/a?k=1&k=2", path, sizeof(path), &q, &err), -EINVAL);
	assert_int_equal(api_uri_parse("*", path, sizeof(path), &q, &err), -EINVAL);
	assert_int_equal(api_uri_parse("/a?=1", path, sizeof(path), &q, &err), -EINVAL);
	assert_int_equal(api_uri_parse("/a?k", path, sizeof(path), &q, &err), 0);
	assert_string_equal(api_query_get(&q, "k"), "");
}

static void test_route_match(void **state)
{
	struct api_route rt;

	(void)state;
	assert_int_equal(api_route_match("GET", "/v1/projects/churn-model", &rt), 0);
	assert_int_equal(rt.id, R_PROJECT);
	assert_string_equal(rt.name, "churn-model");
	assert_int_equal(api_route_match("HEAD", "/v1/builds/42/log", &rt), 0);
	assert_int_equal(rt.id, R_BUILD_LOG);
	assert_int_equal(rt.build_id, 42);
	assert_int_equal(api_route_match("POST", "/v1/projects/a/rebuild", &rt), 0);
	assert_true(rt.post);
	assert_int_equal(api_route_match("GET", "/v1/projects/a/rebuild", &rt), -EPERM);
	assert_string_equal(rt.allow, "POST, OPTIONS");
	assert_int_equal(api_route_match("DELETE", "/v1/projects", &rt), -EPERM);
	assert_string_equal(rt.allow, "GET, HEAD, OPTIONS");
	assert_int_equal(api_route_match("GET", "/v1/projects/", &rt), -ENOENT);
	assert_int_equal(api_route_match("GET", "/v1/projects/Bad!", &rt), -ENOENT);
	assert_int_equal(api_route_match("GET", "/v1/builds/012", &rt), -ENOENT);
	assert_int_equal(api_route_match("GET", "/v1/builds/99999999999999999999", &rt), -ENOENT);
	assert_int_equal(api_route_match("GET", "//", &rt), -ENOENT);
	assert_int_equal(api_route_match("GET", "/", &rt), 0);
	assert_int_equal(rt.id, R_INDEX);
}

static void test_builds_query(void **state)
{
	struct api_query q;
	struct api_builds_query b;
	char path[64], err[128];
	const char *perr;

	(void)state;
	assert_int_equal(api_uri_parse("/?project=p&env=prod&status=failed&limit=500&before=9",
	                               path, sizeof(path), &q, &perr),
	                 0);
	assert_int_equal(api_builds_query_parse(&q, &b, err, sizeof(err)), 0);
	assert_string_equal(b.project, "p");
	assert_string_equal(b.status, "failed");
	assert_int_equal(b.limit, 500);
	assert_int_equal(b.before, 9);
	const char *bad[] = {"/?limit=0",   "/?limit=501",  "/?limit=x", "/?status=ok",
	                     "/?before=-1", "/?project=UP", "/?other=1", NULL};
	for (int i = 0; bad[i]; i++) {
		assert_int_equal(api_uri_parse(bad[i], path, sizeof(path), &q, &perr), 0);
		assert_int_equal(api_builds_query_parse(&q, &b, err, sizeof(err)), -EINVAL);
	}
	assert_int_equal(api_uri_parse("/", path, sizeof(path), &q, &perr), 0);
	assert_int_equal(api_builds_query_parse(&q, &b, err, sizeof(err)), 0);
	assert_int_equal(b.limit, API_BUILDS_LIMIT);
}

static void test_headers(void **state)
{
	const char *tok;
	size_t n;

	(void)state;
	assert_true(api_etag_match("\"abc\"", "\"abc\""));
	assert_true(api_etag_match("\"x\", W/\"abc\"", "\"abc\""));
	assert_true(api_etag_match("*", "\"abc\""));
	assert_false(api_etag_match("\"abd\"", "\"abc\""));
	assert_false(api_etag_match("abc", "\"abc\""));
	assert_false(api_etag_match("\"ab", "\"abc\""));
	assert_int_equal(api_bearer_parse("Bearer s3cr.t-_~+/==", &tok, &n), 0);
	assert_int_equal(n, 13);
	assert_int_equal(api_bearer_parse("bearer  abc ", &tok, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(api_bearer_parse("Basic abc", &tok, &n), -EINVAL);
	assert_int_equal(api_bearer_parse("Bearer", &tok, &n), -EINVAL);
	assert_int_equal(api_bearer_parse("Bearer a b", &tok, &n), -EINVAL);
	assert_int_equal(api_bearer_parse("Bearerabc", &tok, &n), -EINVAL);
	assert_true(api_token_equal("abc", 3, "abc", 3));
	assert_false(api_token_equal("abd", 3, "abc", 3));
	assert_false(api_token_equal("ab", 2, "abc", 3));
	assert_false(api_token_equal("abcd", 4, "abc", 3));
	assert_false(api_token_equal("", 0, "", 0));
	assert_true(api_content_type_json("application/json; charset=utf-8"));
	assert_true(api_content_type_json("application/vnd.docker.distribution.events.v1+json"));
	assert_false(api_content_type_json("text/plain"));
	assert_false(api_content_type_json("application/jsonx"));
	assert_false(api_content_type_json(NULL));
}

struct pushes {
	char names[8][128];
	int n;
};

static void push_cb(const char *name, void *arg)
{
	struct pushes *p = arg;

	if (p->n < 8)
		snprintf(p->names[p->n++], sizeof(p->names[0]), "%s", name);
}

static const char envelope[] =
        "{\"events\":[{\"action\":\"push\",\"target\":{\"mediaType\":"
        "\"application/vnd.docker.distribution.manifest.v2+json\",\"repository\":\"base/py\","
        "\"tag\":\"3.12\",\"digest\":\"sha256:aa\"},\"request\":{\"host\":\"127.0.0.1:5000\"}},"
        "{\"action\":\"push\",\"target\":{\"mediaType\":"
        "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"repository\":\"base/py\"},"
        "\"request\":{\"host\":\"127.0.0.1:5000\"}},"
        "{\"action\":\"pull\",\"target\":{\"repository\":\"base/other\"},\"request\":{\"host\":"
        "\"h\"}},"
        "{\"action\":\"push\",\"target\":{\"mediaType\":"
        "\"application/vnd.oci.image.index.v1+json\",\"repository\":\"base/py\"},"
        "\"request\":{\"host\":\"127.0.0.1:5000\"}},"
        "{\"action\":\"push\",\"target\":{\"repository\":\"Bad/"
        "Upper\"},\"request\":{\"host\":\"h\"}}"
        "]}";

static void test_hook_parse(void **state)
{
	struct pushes p = {.n = 0};
	char err[256], reason[256] = "default";

	(void)state;
	assert_int_equal(api_hook_parse(envelope, strlen(envelope), push_cb, &p, err, sizeof(err)),
	                 1);
	assert_string_equal(p.names[0], "127.0.0.1:5000/base/py");
	assert_int_equal(api_hook_parse("{\"events\":{}}", 13, push_cb, &p, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(api_hook_parse("{", 1, push_cb, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid JSON"));
	assert_int_equal(api_rebuild_parse("", 0, reason, sizeof(reason), err, sizeof(err)), 0);
	assert_string_equal(reason, "default");
	assert_int_equal(api_rebuild_parse("{\"reason\":\"cve\"}", 16, reason, sizeof(reason), err,
	                                   sizeof(err)),
	                 0);
	assert_string_equal(reason, "cve");
	assert_int_equal(api_rebuild_parse("{\"reason\":\"a\\nb\"}", 17, reason, sizeof(reason),
	                                   err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	        api_rebuild_parse("{\"why\":1}", 9, reason, sizeof(reason), err, sizeof(err)),
	        -EINVAL);
	assert_int_equal(api_rebuild_parse("[1]", 3, reason, sizeof(reason), err, sizeof(err)),
	                 -EINVAL);
}

/* ---- a real server ---- */

struct fixture {
	char dir[64], db[128], token_path[128], yaml_path[128];
	uv_loop_t loop;
	struct store *store;
	struct config *cfg;
	struct api *api;
	struct http_client *http;
	char base[160];
	char openapi[1 << 16];
	size_t openapi_len;
	int rebuilds, pushes;
	char last_push[256];
};

static struct fixture fx;

struct result {
	int done;
	long status;
	char body[65536];
	char etag[64], www[128], allow[64], ctype[128], acao[128], conn[64];
};

static const char yaml_fmt[] = "state_dir: %s/state\n"
                               "api_token_file: %s\n"
                               "engines:\n  - host: unix://%s/no-docker.sock\n"
                               "projects:\n"
                               "  - name: alpha\n    context: %s\n    image: reg.test/ds/alpha\n"
                               "    environments:\n      test: {}\n      prod: {requires: test}\n"
                               "  - name: beta\n    context: %s\n    image: reg.test/ds/beta\n"
                               "    environments:\n      rnd: {}\n";

static void kick_op(void *arg)
{
	(void)arg;
	fx.rebuilds++;
}

/* What the scheduler does with a manual rebuild (scheduler_request), on the fixture's store. */
static int rebuild_op(const char *project, const char *env, const char *reason, int64_t *ret_id,
                      bool *ret_merged, void *arg)
{
	int64_t id = 0;
	bool merged = store_trigger_pending_id(fx.store, project, &id) == 0;
	int r = store_trigger_add_env(fx.store, project, env, "manual", reason, 1, &id);

	(void)arg;
	if (r < 0)
		return r;
	fx.rebuilds++;
	*ret_id = id;
	*ret_merged = merged;
	return 0;
}

static void push_op(const char *name, void *arg)
{
	(void)arg;
	fx.pushes++;
	snprintf(fx.last_push, sizeof(fx.last_push), "%s", name);
}

static void sql(const char *stmt)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(fx.db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_exec(db, stmt, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("sql: %s", err);
	sqlite3_close(db);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct config *load_config(const char *token_path)
{
	char yaml[2048];
	struct config *c = NULL;
	struct config_errors errs = {0};

	snprintf(yaml, sizeof(yaml), yaml_fmt, fx.dir, token_path, fx.dir, fx.dir, fx.dir);
	if (config_parse("test.yaml", yaml, strlen(yaml), &c, &errs) < 0)
		fail_msg("config: %s", errs.n ? errs.lines[0] : "?");
	config_errors_done(&errs);
	return c;
}

static void seed(void)
{
	char stmt[4096], log[192];

	snprintf(log, sizeof(log), "%s/state/logs/1.log", fx.dir);
	write_file(log, "step 1/2: FROM base\nstep 2/2: done\n");
	snprintf(stmt, sizeof(stmt),
	         "INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at,"
	         " started_at, finished_at, engine, digest, tags, log_path, base_name, base_digest)"
	         " VALUES(1, 'alpha', 'test', 'base', 'base moved' || char(10) || 'second',"
	         " 'succeeded', 1700000000000, 1700000001000, 1700000091000, 'e', 'sha256:d1',"
	         " 'reg.test/ds/alpha:test,reg.test/ds/alpha:test-20231114T221451Z', '%s',"
	         " 'busybox:1', 'sha256:b1');"
	         "INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at,"
	         " started_at, finished_at, error, log_path) VALUES(2, 'alpha', 'prod', 'base',"
	         " 'base moved', 'failed', 1700000100000, 1700000101000, 1700000400000,"
	         " 'check <failed> & \"quoted\"', '/etc/passwd');"
	         "INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at)"
	         " VALUES(3, 'beta', 'rnd', 'initial', 'first build', 'queued', 1700000500000);"
	         "INSERT INTO bases(ref, platform, digest, first_seen, checked_at, changed_at)"
	         " VALUES('docker.io/library/busybox:1', 'linux/amd64', 'sha256:b1', 1, 2, 1);"
	         "INSERT INTO project_bases VALUES('alpha', 'docker.io/library/busybox:1',"
	         " 'linux/amd64', 'test,prod');",
	         log);
	sql(stmt);
}

static void load_openapi(void)
{
	FILE *f = fopen("daemon/api/openapi.json", "r");

	fx.openapi_len = 0;
	if (f) {
		fx.openapi_len = fread(fx.openapi, 1, sizeof(fx.openapi) - 1, f);
		fclose(f);
	}
}

static struct api_opts opts_for(const char *listen)
{
	static const char *const origins[] = {"https://dash.test", NULL};
	struct api_opts o = {.listen = listen,
	                     .cors_origins = origins,
	                     .max_body = 4096,
	                     .openapi = fx.openapi,
	                     .openapi_len = fx.openapi_len};
	return o;
}

static int setup(void **state)
{
	struct api_ops ops = {.kick = kick_op, .rebuild = rebuild_op, .registry_push = push_op};
	struct api_opts o;
	char err[256], sd[128];

	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/refit-api-XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	snprintf(sd, sizeof(sd), "%s/state", fx.dir);
	mkdir(sd, 0700);
	snprintf(sd, sizeof(sd), "%s/state/logs", fx.dir);
	mkdir(sd, 0700);
	snprintf(fx.db, sizeof(fx.db), "%s/state/state.db", fx.dir);
	snprintf(fx.token_path, sizeof(fx.token_path), "%s/token", fx.dir);
	write_file(fx.token_path, "s3cret-token\n");
	assert_int_equal(store_open(fx.db, &fx.store, err, sizeof(err)), 0);
	seed();
	fx.cfg = load_config(fx.token_path);
	load_openapi();
	uv_loop_init(&fx.loop);
	o = opts_for("127.0.0.1:0");
	assert_int_equal(api_new(&fx.loop, fx.store, fx.cfg, &o, &ops, &fx.api), 0);
	snprintf(fx.base, sizeof(fx.base), "http://%s", api_address(fx.api));
	assert_int_equal(http_global_init(), 0);
	assert_int_equal(http_client_new(&fx.loop, &fx.http), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	http_client_close(fx.http);
	api_free(fx.api);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx.loop), 0);
	store_close(fx.store);
	config_free(fx.cfg);
	http_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void hdr(const struct http_response *resp, const char *name, char *buf, size_t len)
{
	if (!http_response_header(resp, name, buf, len))
		buf[0] = '\0';
}

static void done_cb(const struct http_response *resp, void *arg)
{
	struct result *r = arg;

	r->done = 1;
	r->status = resp->status;
	snprintf(r->body, sizeof(r->body), "%s", resp->body ? resp->body : "");
	hdr(resp, "ETag", r->etag, sizeof(r->etag));
	hdr(resp, "WWW-Authenticate", r->www, sizeof(r->www));
	hdr(resp, "Allow", r->allow, sizeof(r->allow));
	hdr(resp, "Content-Type", r->ctype, sizeof(r->ctype));
	hdr(resp, "Access-Control-Allow-Origin", r->acao, sizeof(r->acao));
	hdr(resp, "Connection", r->conn, sizeof(r->conn));
}

/* Sends one request to the api on the shared loop and waits for its answer. */
static void request(const char *method, const char *path, const char *const *headers,
                    const char *body, struct result *r)
{
	char url[512];
	struct http_request_opts o = {.method = method,
	                              .url = url,
	                              .headers = headers,
	                              .body = body,
	                              .body_len = body ? strlen(body) : 0};

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", fx.base, path);
	assert_int_equal(http_request_start(fx.http, &o, done_cb, r, NULL), 0);
	while (!r->done)
		uv_run(&fx.loop, UV_RUN_ONCE);
}

static struct result res;

static void test_health_and_status(void **state)
{
	(void)state;
	request("GET", "/healthz", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "{\"status\":\"ok\"}");
	assert_string_equal(res.conn, ""); /* kept alive */
	request("GET", "/v1/status", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "\"queue\":{\"pending\":0"));
	assert_non_null(strstr(res.body, "\"error\":\"not contacted yet\""));
	assert_non_null(strstr(res.body, "\"by_state\":{\"failing\":1,\"held\":0,\"building\":1,"
	                                 "\"pending\":0,\"ok\":0,\"new\":0}"));
}

static void test_projects_etag(void **state)
{
	char etag[64], inm[96];
	const char *hdrs[] = {inm, NULL};

	(void)state;
	request("GET", "/v1/projects", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.ctype, "application/json");
	assert_non_null(strstr(res.body, "\"tag\":\"reg.test/ds/alpha:test-20231114T221451Z\""));
	assert_non_null(strstr(res.body, "\"reasons\":[\"base moved\",\"second\"]"));
	assert_non_null(strstr(res.body, "\"envs\":[\"test\",\"prod\"]"));
	assert_true(res.etag[0] == '"');
	snprintf(etag, sizeof(etag), "%s", res.etag);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	request("GET", "/v1/projects", hdrs, NULL, &res);
	assert_int_equal(res.status, 304);
	assert_string_equal(res.body, "");
	/* New state appears without touching the server: the ETag moves. */
	sql("INSERT INTO builds(id, project, env, trigger, status) VALUES(4, 'beta', 'rnd',"
	    " 'manual', 'running')");
	assert_int_equal(store_event_add(fx.store, 1, "test", NULL, "bump"), 0);
	request("GET", "/v1/projects", hdrs, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_string_not_equal(res.etag, etag);
	request("GET", "/v1/projects/beta", NULL, NULL, &res);
	assert_non_null(strstr(res.body, "\"status\":\"running\""));
	request("GET", "/v1/projects/nope", NULL, NULL, &res);
	assert_int_equal(res.status, 404);
	assert_non_null(strstr(res.body, "{\"error\":{\"code\":\"not_found\""));
}

static void test_builds(void **state)
{
	(void)state;
	request("GET", "/v1/builds?limit=2", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "\"next_before\":"));
	assert_null(strstr(res.body, "\"next_before\":null"));
	request("GET", "/v1/builds?status=failed", NULL, NULL, &res);
	assert_non_null(strstr(res.body, "\"id\":2"));
	assert_null(strstr(res.body, "\"id\":1,"));
	request("GET", "/v1/builds?limit=0", NULL, NULL, &res);
	assert_int_equal(res.status, 400);
	request("GET", "/v1/builds?colour=red", NULL, NULL, &res);
	assert_int_equal(res.status, 400);
	request("GET", "/v1/builds/1", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "\"duration_seconds\":90"));
	assert_non_null(strstr(res.body, "\"queued_at\":\"2023-11-14T22:13:20.000Z\""));
	request("GET", "/v1/builds/999", NULL, NULL, &res);
	assert_int_equal(res.status, 404);
	request("GET", "/v1/builds/1/log", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.ctype, "text/plain; charset=utf-8");
	assert_string_equal(res.body, "step 1/2: FROM base\nstep 2/2: done\n");
	request("GET", "/v1/builds/2/log", NULL, NULL, &res); /* outside state_dir/logs */
	assert_int_equal(res.status, 404);
	request("GET", "/v1/builds/3/log", NULL, NULL, &res);
	assert_int_equal(res.status, 404);
	request("GET", "/v1/bases", NULL, NULL, &res);
	assert_non_null(strstr(res.body, "\"used_by\":[{\"project\":\"alpha\""));
	request("GET", "/v1/feeds", NULL, NULL, &res);
	assert_string_equal(res.body, "{\"feeds\":[],\"interval_seconds\":3600}");
}

static void test_rebuild_auth(void **state)
{
	const char *none[] = {NULL};
	const char *wrong[] = {"Authorization: Bearer nope", NULL};
	const char *good[] = {"Authorization: Bearer s3cret-token", NULL};
	const char *good_text[] = {"Authorization: Bearer s3cret-token", "Content-Type: text/plain",
	                           NULL};
	const char *good_json[] = {"Authorization: Bearer s3cret-token",
	                           "Content-Type: application/json", NULL};
	char expect[64];

	(void)state;
	request("POST", "/v1/projects/alpha/rebuild", none, NULL, &res);
	assert_int_equal(res.status, 401);
	assert_string_equal(res.www, "Bearer realm=\"refit\"");
	request("POST", "/v1/projects/alpha/rebuild", wrong, NULL, &res);
	assert_int_equal(res.status, 401);
	assert_null(strstr(res.body, "s3cret"));
	request("POST", "/v1/projects/alpha/rebuild", good_text, "x", &res);
	assert_int_equal(res.status, 415);
	request("POST", "/v1/projects/alpha/rebuild", good_json, "{bad", &res);
	assert_int_equal(res.status, 400);
	request("POST", "/v1/projects/nope/rebuild", good, NULL, &res);
	assert_int_equal(res.status, 404);
	request("POST", "/v1/projects/alpha/rebuild", good_json, "{\"reason\":\"CVE-1\"}", &res);
	assert_int_equal(res.status, 202);
	assert_int_equal(fx.rebuilds, 1);
	assert_int_equal(store_trigger_pending_count(fx.store), 1);
	snprintf(expect, sizeof(expect), "\"trigger_id\":");
	assert_non_null(strstr(res.body, expect));
	request("POST", "/v1/projects/alpha/rebuild", good, NULL, &res);
	assert_int_equal(res.status, 202);
	assert_non_null(strstr(res.body, "\"merged\":true"));
	assert_int_equal(fx.rebuilds, 2);
	assert_int_equal(store_trigger_pending_count(fx.store), 1);
	request("POST", "/v1/projects/alpha/rollback", good, NULL, &res);
	assert_int_equal(res.status, 501);
	request("GET", "/v1/projects/alpha/rebuild", NULL, NULL, &res);
	assert_int_equal(res.status, 405);
	assert_string_equal(res.allow, "POST, OPTIONS");
	request("DELETE", "/v1/projects", NULL, NULL, &res);
	assert_int_equal(res.status, 405);
	assert_string_equal(res.allow, "GET, HEAD, OPTIONS");
}

static void test_hook_and_limits(void **state)
{
	const char *good_json[] = {
	        "Authorization: Bearer s3cret-token",
	        "Content-Type: application/vnd.docker.distribution.events.v1+json", NULL};
	static char big[8192];

	(void)state;
	request("POST", "/v1/hooks/registry", NULL, envelope, &res);
	assert_int_equal(res.status, 401);
	request("POST", "/v1/hooks/registry", good_json, envelope, &res);
	assert_int_equal(res.status, 202);
	assert_int_equal(fx.pushes, 1);
	assert_string_equal(fx.last_push, "127.0.0.1:5000/base/py");
	memset(big, 'x', sizeof(big) - 1);
	request("POST", "/v1/hooks/registry", good_json, big, &res);
	assert_int_equal(res.status, 413);
	request("GET", "/v1/nothing", NULL, NULL, &res);
	assert_int_equal(res.status, 404);
	request("GET", "/v1/projects/%00", NULL, NULL, &res);
	assert_int_equal(res.status, 400);
}

/*
 * A client over its request rate gets 429 (JSON error, Retry-After); failed
 * authorizations spend their own bucket, after which that address's POSTs
 * get 429 whatever their token.
 */
static void test_rate_limit(void **state)
{
	struct api_opts o = opts_for("127.0.0.1:0");
	const char *auth[] = {"Authorization: Bearer s3cret-token", NULL};
	const char *wrong[] = {"Authorization: Bearer guess", NULL};

	(void)state;
	o.auth_failure_limit = 1; /* bursts of 10 */
	api_set_config(fx.api, fx.cfg, &o);
	for (int i = 0; i < 12; i++) { /* a good token is never limited by this */
		request("POST", "/v1/projects/alpha/rebuild", auth, "", &res);
		assert_true(res.status == 202 || res.status == 409);
	}
	for (int i = 0; i < 10; i++) {
		request("POST", "/v1/projects/alpha/rebuild", wrong, "", &res);
		assert_int_equal(res.status, 401);
	}
	request("POST", "/v1/projects/alpha/rebuild", wrong, "", &res);
	assert_int_equal(res.status, 429);
	assert_non_null(strstr(res.body, "\"too_many_requests\""));
	request("POST", "/v1/projects/alpha/rebuild", auth, "", &res);
	assert_int_equal(res.status, 429);
	request("GET", "/v1/status", NULL, NULL, &res); /* GETs are not limited by default */
	assert_int_equal(res.status, 200);
	o.auth_failure_limit = 0;
	o.rate_limit = 2; /* bursts of 4, shared by every method */
	api_set_config(fx.api, fx.cfg, &o);
	for (int i = 0; i < 4; i++) {
		request("GET", "/v1/status", NULL, NULL, &res);
		assert_int_equal(res.status, 200);
	}
	request("GET", "/v1/status", NULL, NULL, &res);
	assert_int_equal(res.status, 429);
}

static void test_metrics_html_openapi(void **state)
{
	const char *origin[] = {"Origin: https://dash.test", NULL};
	const char *other[] = {"Origin: https://evil.test", NULL};

	(void)state;
	request("GET", "/metrics", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.ctype, "version=0.0.4"));
	assert_non_null(strstr(res.body, "refit_builds_total{project=\"alpha\",env=\"test\","
	                                 "result=\"succeeded\"} 1\n"));
	assert_non_null(strstr(res.body, "refit_build_duration_seconds_bucket{project=\"alpha\","
	                                 "env=\"test\",le=\"120\"} 1\n"));
	assert_non_null(strstr(res.body, "refit_engine_up{host=\"unix://"));
	request("GET", "/", NULL, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "<tr data-project=\"alpha\">"));
	assert_null(strstr(res.body, "<failed>"));
	request("GET", "/v1/openapi.json", origin, NULL, &res);
	assert_int_equal(res.status, fx.openapi_len ? 200 : 404);
	assert_string_equal(res.acao, "https://dash.test");
	request("GET", "/v1/status", other, NULL, &res);
	assert_string_equal(res.acao, "");
	request("OPTIONS", "/v1/projects/alpha/rebuild", origin, NULL, &res);
	assert_int_equal(res.status, 204);
	assert_string_equal(res.acao, "https://dash.test");
}

/* No token file: POSTs are refused with a hint; a unix socket works the same. */
static void test_no_token_unix(void **state)
{
	struct config *c = load_config("/nonexistent/token");
	struct api_opts o;
	struct api *a2, *a3 = NULL;
	char sock[128], url[192];
	struct result r = {0};
	struct http_request_opts ro = {.method = "POST", .url = url, .unix_socket = sock};

	(void)state;
	snprintf(sock, sizeof(sock), "%s/api.sock", fx.dir);
	snprintf(url, sizeof(url), "unix:%s", sock);
	o = opts_for(url);
	assert_int_equal(api_new(&fx.loop, fx.store, c, &o, NULL, &a2), 0);
	assert_string_equal(api_address(a2), url);
	assert_int_equal(access(sock, F_OK), 0);
	snprintf(url, sizeof(url), "http://localhost/v1/projects/alpha/rebuild");
	assert_int_equal(http_request_start(fx.http, &ro, done_cb, &r, NULL), 0);
	while (!r.done)
		uv_run(&fx.loop, UV_RUN_ONCE);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "api_token_file"));
	/* A second server on the same live socket is refused. */
	snprintf(url, sizeof(url), "unix:%s", sock);
	o = opts_for(url);
	assert_true(api_new(&fx.loop, fx.store, c, &o, NULL, &a3) < 0);
	assert_null(a3);
	api_free(a2);
	uv_run(&fx.loop, UV_RUN_NOWAIT);
	uv_run(&fx.loop, UV_RUN_NOWAIT);
	assert_int_equal(access(sock, F_OK), -1); /* removed on the way out */
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_uri_parse),
	        cmocka_unit_test(test_route_match),
	        cmocka_unit_test(test_builds_query),
	        cmocka_unit_test(test_headers),
	        cmocka_unit_test(test_hook_parse),
	        cmocka_unit_test_setup_teardown(test_health_and_status, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_projects_etag, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_builds, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rebuild_auth, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hook_and_limits, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_metrics_html_openapi, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_token_unix, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
