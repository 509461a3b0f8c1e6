/*
 * creds: the pure parsers and encoders directly, then lookups on a real
 * libuv loop against secret files, config.json files and real
 * docker-credential-* shell scripts put first on PATH by the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base64.h"
#include "config.h"
#include "creds.h"
#include "creds_parse.h"
#include "log.h"

/* The test's scratch directory (helpers in dir/bin, first on PATH). */
static char dir[64];

struct got {
	int calls;
	int status;
	enum creds_kind kind;
	bool has_user, has_secret;
	char user[256], secret[256], source[64], error[512];
	struct creds *free_in_cb;   /* creds_free from inside the callback */
	struct creds *lookup_in_cb; /* a lookup from inside the callback, into next */
	struct got *next;
};

static void got_cb(int status, const struct creds_entry *e, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->status = status;
	g->kind = e->kind;
	g->has_user = e->username != NULL;
	g->has_secret = e->secret != NULL;
	snprintf(g->user, sizeof(g->user), "%s", e->username ? e->username : "");
	snprintf(g->secret, sizeof(g->secret), "%s", e->secret ? e->secret : "");
	snprintf(g->source, sizeof(g->source), "%s", e->source);
	assert_non_null(e->error);
	snprintf(g->error, sizeof(g->error), "%s", e->error);
	if (g->free_in_cb)
		creds_free(g->free_in_cb);
	if (g->lookup_in_cb) {
		assert_int_equal(creds_lookup(g->lookup_in_cb, "ghcr.io", got_cb, g->next), 0);
		assert_int_equal(g->next->calls, 0);
	}
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static void write_helper(const char *suffix, const char *body)
{
	char path[256], text[1024];

	snprintf(path, sizeof(path), "%s/bin/docker-credential-%s", dir, suffix);
	snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	write_file(path, text, 0755);
}

static int count_runs(void)
{
	char path[256], line[64];
	int n = 0;
	FILE *f = fopen(path_in(path, sizeof(path), "count"), "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void reset_runs(void)
{
	char path[256];

	unlink(path_in(path, sizeof(path), "count"));
}

/* Dead: reaped, or a zombie waiting for a PID 1 that may never reap it. */
static bool gone(int pid)
{
	char path[64], stat[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return true;
	if (!fgets(stat, sizeof(stat), f))
		stat[0] = '\0';
	fclose(f);
	return strstr(stat, ") Z ") != NULL || strstr(stat, ") X ") != NULL;
}

/* The file exists and holds a full line (a loaded machine may see it half-written). */
static bool has_content(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");
	bool full = f && fgets(buf, sizeof(buf), f) && strchr(buf, '\n');

	if (f)
		fclose(f);
	return full;
}

/* The slow helper's `sleep` went down with it (its whole process group is killed). */
static void assert_sleep_killed(void)
{
	char path[256];
	int pid = 0;
	FILE *f = fopen(path_in(path, sizeof(path), "count.pid"), "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(path);
	for (int i = 0; i < 100 && !gone(pid); i++)
		usleep(10000);
	assert_true(gone(pid));
}

static int group_setup(void **state)
{
	char path[512], bin[256];

	(void)state;
	log_setup(LOG_LVL_WARN, LOG_FMT_TEXT, false);
	snprintf(dir, sizeof(dir), "/tmp/refit-creds-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mkdir(path_in(bin, sizeof(bin), "bin"), 0755), 0);
	snprintf(path, sizeof(path), "%s:%s", bin,
	         getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	setenv("REFITTEST_COUNT", path_in(path, sizeof(path), "count"), 1);
	unsetenv("DOCKER_CONFIG");
	unsetenv("CREDENTIALS_DIRECTORY");
	write_helper("refittest", "[ \"$1\" = get ] || exit 9\nurl=$(cat)\n"
	                          "echo run >>\"$REFITTEST_COUNT\"\n"
	                          "printf '{\"ServerURL\":\"%s\",\"Username\":\"u-%s\","
	                          "\"Secret\":\"s3cret-value\"}\\n' \"$url\" \"$url\"");
	write_helper("refittest-notfound",
	             "cat >/dev/null\necho run >>\"$REFITTEST_COUNT\"\n"
	             "echo 'credentials not found in native keychain'\nexit 1");
	write_helper("refittest-garbage", "echo 'this is not json GARBAGESECRET'");
	write_helper("refittest-fail", "printf '{\"Username\":\"x\",\"Secret\":\"TOPSECRET\"}'\n"
	                               "echo 'boom: keychain locked' >&2\nexit 3");
	/* not exec: the shell's child must die with it */
	write_helper("refittest-failjson",
	             "printf '{\"Username\":\"x\",\"Secret\":\"TOPSECRET\"}'\nexit 2");
	write_helper("refittest-failtext", "echo 'error: backend down'\nexit 2");
	write_helper("refittest-slow", "sleep 5 &\necho $! >\"$REFITTEST_COUNT.pid\"\nwait");
	write_helper("refittest-token",
	             "printf '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"rtok\"}'");
	write_helper("refittest-big", "head -c 70000 /dev/zero | tr '\\0' a");
	write_helper("refittest-noread", "printf '{\"Username\":\"n\",\"Secret\":\"nr\"}'");
	write_helper("refittest-bigerr", "head -c 200000 /dev/zero | tr '\\0' e >&2\n"
	                                 "echo 'credentials not found in native keychain'\nexit 1");
	write_helper("refittest-signal", "kill -TERM $$");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- pure: base64, host names ---- */

static void check_b64(const char *plain, const char *std)
{
	unsigned char out[64];
	size_t n;
	char *enc = base64_encode(plain, strlen(plain), false);

	assert_string_equal(enc, std);
	free(enc);
	assert_int_equal(base64_decode(std, strlen(std), false, out, sizeof(out), &n), 0);
	assert_int_equal(n, strlen(plain));
	assert_memory_equal(out, plain, n);
}

static void test_base64(void **state)
{
	const unsigned char odd[] = {0xfb, 0xff, 0xbf};
	unsigned char out[16];
	size_t n;
	char *s;

	(void)state;
	/* RFC 4648 §10 */
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");
	s = base64_encode(odd, 3, false);
	assert_string_equal(s, "+/+/");
	free(s);
	s = base64_encode(odd, 2, true);
	assert_string_equal(s, "-_8=");
	free(s);
	assert_int_equal(base64_decode("-_8=", 4, true, out, sizeof(out), &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, odd, 2);
	assert_int_equal(base64_decode("-_8=", 4, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("+/8=", 4, true, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Zg", 2, false, out, sizeof(out), &n), 0); /* unpadded */
	assert_int_equal(n, 1);
	assert_int_equal(base64_decode("Zg=", 3, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Z", 1, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Z===", 4, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Zm9v!A==", 8, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Zg==Zg==", 8, false, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Zm 9v", 5, false, out, sizeof(out), &n), -EINVAL);
}

static void check_canon(const char *in, const char *want)
{
	char buf[CREDS_HOST_MAX];

	if (!want) {
		assert_int_equal(creds_canon_host(in, buf, sizeof(buf)), -EINVAL);
		return;
	}
	assert_int_equal(creds_canon_host(in, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_canon_host(void **state)
{
	char big[400];

	(void)state;
	check_canon("docker.io", "docker.io");
	check_canon("index.docker.io", "docker.io");
	check_canon("registry-1.docker.io", "docker.io");
	check_canon("Registry-1.Docker.IO", "docker.io");
	check_canon("https://index.docker.io/v1/", "docker.io");
	check_canon("https://ghcr.io/v1/", "ghcr.io");
	check_canon("http://localhost:5000", "localhost:5000");
	check_canon("localhost:5000", "localhost:5000");
	check_canon("[::1]:5000", "[::1]:5000");
	check_canon("ghcr.io/org/repo", "ghcr.io");
	check_canon("", NULL);
	check_canon("https://", NULL);
	check_canon("/v1/", NULL);
	check_canon("a b", NULL);
	check_canon("host\n", NULL);
	check_canon("user@host", NULL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	check_canon(big, NULL);
	assert_string_equal(creds_server_address("docker.io"), "https://index.docker.io/v1/");
	assert_string_equal(creds_server_address("registry-1.docker.io"),
	                    "https://index.docker.io/v1/");
	assert_string_equal(creds_server_address("ghcr.io"), "ghcr.io");
}

/* ---- pure: config.json ---- */

struct dc {
	int r;
	struct creds_dockercfg cfg;
	char err[256];
};

static struct dc dockercfg(const char *json, const char *host)
{
	struct dc d = {0};
	char canon[CREDS_HOST_MAX];

	assert_int_equal(creds_canon_host(host, canon, sizeof(canon)), 0);
	d.r = creds_parse_dockercfg(json, strlen(json), canon, &d.cfg, d.err, sizeof(d.err));
	return d;
}

static void expect_basic(const char *json, const char *host, const char *user, const char *pass)
{
	struct dc d = dockercfg(json, host);

	assert_int_equal(d.r, 0);
	assert_string_equal(d.cfg.helper, "");
	assert_int_equal(d.cfg.entry.kind, CREDS_BASIC);
	assert_string_equal(d.cfg.entry.username, user);
	assert_string_equal(d.cfg.entry.secret, pass);
	assert_string_equal(d.cfg.entry.source, "config.json");
	creds_entry_done(&d.cfg.entry);
}

static void expect_error(const char *json, const char *host, const char *secret)
{
	struct dc d = dockercfg(json, host);

	assert_int_equal(d.r, -EINVAL);
	assert_true(d.err[0]);
	if (secret)
		assert_null(strstr(d.err, secret));
}

static void expect_anonymous(const char *json, const char *host)
{
	struct dc d = dockercfg(json, host);

	assert_int_equal(d.r, 0);
	assert_string_equal(d.cfg.helper, "");
	assert_int_equal(d.cfg.entry.kind, CREDS_ANONYMOUS);
	assert_null(d.cfg.entry.username);
	assert_null(d.cfg.entry.secret);
}

static void expect_helper(const char *json, const char *host, const char *helper)
{
	struct dc d = dockercfg(json, host);

	assert_int_equal(d.r, 0);
	assert_string_equal(d.cfg.helper, helper);
	assert_int_equal(d.cfg.entry.kind, CREDS_ANONYMOUS);
}

static void test_dockercfg_auth(void **state)
{
	(void)state;
	/* YWxpY2U6cGE6c3M= is alice:pa:ss: split at the first ':' */
	expect_basic("{\"auths\":{\"ghcr.io\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}", "ghcr.io",
	             "alice", "pa:ss");
	/* dXNlcjo= is "user:": an empty password is allowed */
	expect_basic("{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjo=\"}}}", "ghcr.io", "user", "");
	/* keys compare without case; other entries do not matter, even broken ones */
	expect_basic("{\"auths\":{\"other.io\":{\"auth\":\"!!\"},\"GHCR.io\":{\"auth\":"
	             "\"YWxpY2U6cGE6c3M=\"}}}",
	             "ghcr.io", "alice", "pa:ss");
	/* explicit username/password fields (older writers) */
	expect_basic("{\"auths\":{\"q.io\":{\"username\":\"u\",\"password\":\"p\"}}}", "q.io", "u",
	             "p");
	/* JSON nulls are absent values */
	expect_basic("{\"credsStore\":null,\"credHelpers\":null,\"auths\":{\"q.io\":{\"auth\":"
	             "\"YWxpY2U6cGE6c3M=\",\"identitytoken\":null}}}",
	             "q.io", "alice", "pa:ss");
}

static void test_dockercfg_tokens(void **state)
{
	struct dc d;

	(void)state;
	d = dockercfg("{\"auths\":{\"r.io:5000\":{\"auth\":\"YWxpY2U6cGE6c3M=\","
	              "\"identitytoken\":\"IDTOK\"}}}",
	              "r.io:5000");
	assert_int_equal(d.r, 0);
	assert_int_equal(d.cfg.entry.kind, CREDS_IDENTITY_TOKEN);
	assert_string_equal(d.cfg.entry.username, "alice");
	assert_string_equal(d.cfg.entry.secret, "IDTOK");
	creds_entry_done(&d.cfg.entry);

	d = dockercfg("{\"auths\":{\"r.io\":{\"identitytoken\":\"IDTOK\"}}}", "r.io");
	assert_int_equal(d.cfg.entry.kind, CREDS_IDENTITY_TOKEN);
	assert_null(d.cfg.entry.username);
	creds_entry_done(&d.cfg.entry);

	d = dockercfg("{\"auths\":{\"r.io\":{\"identitytoken\":\"IDTOK\",\"registrytoken\":\"RT\","
	              "\"auth\":\"YWxpY2U6cGE6c3M=\"}}}",
	              "r.io");
	assert_int_equal(d.cfg.entry.kind, CREDS_REGISTRY_TOKEN);
	assert_null(d.cfg.entry.username);
	assert_string_equal(d.cfg.entry.secret, "RT");
	creds_entry_done(&d.cfg.entry);
}

static void test_dockercfg_markers_and_keys(void **state)
{
	struct dc d;

	(void)state;
	/* a helper's marker */
	d = dockercfg("{\"auths\":{\"quay.io\":{}}}", "quay.io");
	assert_int_equal(d.r, 0);
	assert_int_equal(d.cfg.entry.kind, CREDS_ANONYMOUS);
	assert_string_equal(d.cfg.entry.source, "config.json");
	expect_anonymous("{\"auths\":{\"quay.io\":{\"auth\":\"\"}}}", "quay.io");
	expect_anonymous("{\"auths\":{\"quay.io\":{}}}", "ghcr.io");
	expect_anonymous("{}", "ghcr.io");
	/* old URL keys */
	expect_basic(
	        "{\"auths\":{\"https://reg.example.com/v1/\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}",
	        "reg.example.com", "alice", "pa:ss");
	expect_basic("{\"auths\":{\"http://reg.example.com:5000\":{\"auth\":\"dXNlcjo=\"}}}",
	             "reg.example.com:5000", "user", "");
	/* Docker Hub under its legacy key, asked for by any of its names */
	const char *hub = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjo=\"}}}";
	expect_basic(hub, "docker.io", "user", "");
	expect_basic(hub, "index.docker.io", "user", "");
	expect_basic(hub, "registry-1.docker.io", "user", "");
	expect_basic("{\"auths\":{\"docker.io\":{\"auth\":\"dXNlcjo=\"}}}", "docker.io", "user",
	             "");
	/* the exact key wins over a key that only normalises to the host */
	expect_basic("{\"auths\":{\"index.docker.io\":{\"auth\":\"dXNlcjo=\"},"
	             "\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}",
	             "docker.io", "alice", "pa:ss");
	expect_basic("{\"auths\":{\"https://ghcr.io/v1/\":{\"auth\":\"dXNlcjo=\"},"
	             "\"ghcr.io\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}",
	             "ghcr.io", "alice", "pa:ss");
}

static void test_dockercfg_helpers(void **state)
{
	(void)state;
	const char *both = "{\"credsStore\":\"desktop\",\"credHelpers\":{\"123.dkr.ecr.us-east-1."
	                   "amazonaws.com\":\"ecr-login\",\"gcr.io\":\"gcloud\",\"q.io\":\"\"},"
	                   "\"auths\":{\"q.io\":{\"auth\":\"dXNlcjo=\"}}}";
	expect_helper(both, "123.dkr.ecr.us-east-1.amazonaws.com", "ecr-login");
	expect_helper(both, "gcr.io", "gcloud");
	expect_helper(both, "docker.io", "desktop");
	/* an empty credHelpers value means the file, as in docker/cli */
	expect_basic(both, "q.io", "user", "");
	expect_helper("{\"credHelpers\":{\"https://index.docker.io/v1/\":\"hub\"}}", "docker.io",
	              "hub");
	expect_helper("{\"credsStore\":\"pass\",\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjo=\"}}}",
	              "ghcr.io", "pass");
	expect_anonymous("{\"credsStore\":\"\"}", "ghcr.io");
	/* never a path or option as a program name */
	expect_error("{\"credsStore\":\"../../bin/sh\"}", "ghcr.io", NULL);
	expect_error("{\"credsStore\":\"-x\"}", "ghcr.io", NULL);
	expect_error("{\"credHelpers\":{\"ghcr.io\":\"a b\"}}", "ghcr.io", NULL);
	expect_error("{\"credHelpers\":{\"ghcr.io\":"
	             "\"0123456789012345678901234567890123456789012345678\"}}",
	             "ghcr.io", NULL);
	expect_error("{\"credHelpers\":[]}", "ghcr.io", NULL);
	expect_error("{\"credHelpers\":{\"ghcr.io\":1}}", "ghcr.io", NULL);
	expect_error("{\"credsStore\":true}", "ghcr.io", NULL);
}

static void test_dockercfg_errors(void **state)
{
	(void)state;
	/* "!!TOPSECRET" is not base64; the message names the host only */
	expect_error("{\"auths\":{\"ghcr.io\":{\"auth\":\"!!TOPSECRET\"}}}", "ghcr.io",
	             "TOPSECRET");
	/* bm9jb2xvbg== is "nocolon"; AGE6Yg== has a NUL byte */
	expect_error("{\"auths\":{\"ghcr.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", "ghcr.io", "nocolon");
	expect_error("{\"auths\":{\"ghcr.io\":{\"auth\":\"AGE6Yg==\"}}}", "ghcr.io", NULL);
	expect_error("{\"auths\":{\"ghcr.io\":{\"auth\":5}}}", "ghcr.io", NULL);
	expect_error("{\"auths\":{\"ghcr.io\":\"TOPSECRET\"}}", "ghcr.io", "TOPSECRET");
	expect_error("{\"auths\":[]}", "ghcr.io", NULL);
	expect_error("[]", "ghcr.io", NULL);
	expect_error("", "ghcr.io", NULL);
	expect_error("{\"auths\":{\"ghcr.io\":{\"auth\":\"TOPSECRET", "ghcr.io", "TOPSECRET");
	expect_error("{\"auths\":{\"ghcr.io\":{\"auth\":TOPSECRET}}}", "ghcr.io", "TOPSECRET");
	expect_error("{} trailing", "ghcr.io", "trailing");
}

/* ---- pure: helper output ---- */

static void test_helper_output(void **state)
{
	struct creds_entry e = {0};
	char err[128];
	const char *s;

	(void)state;
	s = "{\"ServerURL\":\"ghcr.io\",\"Username\":\"bob\",\"Secret\":\"pw\"}";
	assert_int_equal(creds_parse_helper_output(s, strlen(s), &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, CREDS_BASIC);
	assert_string_equal(e.username, "bob");
	assert_string_equal(e.secret, "pw");
	creds_entry_done(&e);
	assert_null(e.secret);

	s = "{\"ServerURL\":\"ghcr.io\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}";
	assert_int_equal(creds_parse_helper_output(s, strlen(s), &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, CREDS_IDENTITY_TOKEN);
	assert_null(e.username);
	assert_string_equal(e.secret, "refresh");
	creds_entry_done(&e);

	s = "{\"Username\":\"bob\",\"Secret\":\"\"}";
	assert_int_equal(creds_parse_helper_output(s, strlen(s), &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, CREDS_ANONYMOUS);

	s = "{\"Secret\":\"pw\"}";
	assert_int_equal(creds_parse_helper_output(s, strlen(s), &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, CREDS_BASIC);
	assert_string_equal(e.username, "");
	creds_entry_done(&e);

	const char *bad[] = {"",
	                     "TOPSECRET",
	                     "[\"TOPSECRET\"]",
	                     "{\"Username\":\"bob\"}",
	                     "{\"Username\":\"bob\",\"Secret\":7}",
	                     "{\"Username\":1,\"Secret\":\"TOPSECRET\"}",
	                     "{\"Username\":\"bob\",\"Secret\":\"TOPSECRET\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
		        creds_parse_helper_output(bad[i], strlen(bad[i]), &e, err, sizeof(err)),
		        -EBADMSG);
		assert_true(err[0]);
		assert_null(strstr(err, "TOPSECRET"));
		assert_null(e.secret);
	}
}

/* ---- pure: encoders ---- */

/* Decodes a base64url header value back into JSON. */
static json_t *decode_header(const char *v)
{
	unsigned char buf[2048];
	size_t n;

	assert_true(strlen(v) % 4 == 0); /* padded */
	assert_null(strpbrk(v, "+/"));
	assert_int_equal(base64_decode(v, strlen(v), true, buf, sizeof(buf), &n), 0);
	json_t *j = json_loadb((const char *)buf, n, 0, NULL);
	assert_non_null(j);
	return j;
}

static const char *jstr(const json_t *j, const char *a, const char *b)
{
	const json_t *o = b ? json_object_get(j, a) : j;

	return json_string_value(json_object_get(o, b ? b : a));
}

static void test_x_registry_auth(void **state)
{
	struct creds_entry anon = {.kind = CREDS_ANONYMOUS};
	struct creds_entry basic = {.kind = CREDS_BASIC,
	                            .username = (char[]){"alice"},
	                            .secret = (char[]){"p@ss:w/rd?>~"}};
	struct creds_entry idt = {.kind = CREDS_IDENTITY_TOKEN, .secret = (char[]){"tok?>>"}};
	char *v;

	(void)state;
	assert_int_equal(creds_x_registry_auth(NULL, "ghcr.io", &v), 0);
	assert_string_equal(v, "e30=");
	creds_secret_free(v);
	assert_int_equal(creds_x_registry_auth(&anon, "ghcr.io", &v), 0);
	assert_string_equal(v, "e30=");
	creds_secret_free(v);
	/* expected values from Python's base64.urlsafe_b64encode, which pads like Go */
	assert_int_equal(creds_x_registry_auth(&basic, "registry.example.com", &v), 0);
	assert_string_equal(v,
	                    "eyJ1c2VybmFtZSI6ImFsaWNlIiwicGFzc3dvcmQiOiJwQHNzOncvcmQ_Pn4iLCJzZXJ2"
	                    "ZXJhZGRyZXNzIjoicmVnaXN0cnkuZXhhbXBsZS5jb20ifQ==");
	creds_secret_free(v);
	assert_int_equal(creds_x_registry_auth(&idt, "docker.io", &v), 0);
	assert_string_equal(v,
	                    "eyJzZXJ2ZXJhZGRyZXNzIjoiaHR0cHM6Ly9pbmRleC5kb2NrZXIuaW8vdjEvIiwiaWRl"
	                    "bnRpdHl0b2tlbiI6InRvaz8-PiJ9");
	creds_secret_free(v);
}

/* Escaping survives a round trip through a JSON parser. */
static void test_x_registry_auth_escaping(void **state)
{
	struct creds_entry odd = {.kind = CREDS_BASIC,
	                          .username = (char[]){"j\xc3\xb6rg"},
	                          .secret = (char[]){"q\"b\\s\n\x01t"}};
	struct creds_entry rt = {.kind = CREDS_REGISTRY_TOKEN, .secret = (char[]){"bearer"}};
	char *v;
	json_t *j;

	(void)state;
	assert_int_equal(creds_x_registry_auth(&odd, "ghcr.io", &v), 0);
	j = decode_header(v);
	assert_string_equal(jstr(j, "username", NULL), "j\xc3\xb6rg");
	assert_string_equal(jstr(j, "password", NULL), "q\"b\\s\n\x01t");
	assert_string_equal(jstr(j, "serveraddress", NULL), "ghcr.io");
	assert_int_equal(json_object_size(j), 3);
	json_decref(j);
	creds_secret_free(v);
	/* bytes that are not UTF-8 become U+FFFD, as Go's encoder does: still JSON */
	odd.secret = (char[]){"a\xff\xc3(b\xed\xa0\x80"
	                      "c\xf4\x90\x80\x80\xf0\x9f\x90\xb3"};
	assert_int_equal(creds_x_registry_auth(&odd, NULL, &v), 0);
	j = decode_header(v);
	assert_string_equal(jstr(j, "password", NULL),
	                    "a\xef\xbf\xbd\xef\xbf\xbd(b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                    "c"
	                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x90\xb3");
	json_decref(j);
	creds_secret_free(v);
	assert_int_equal(creds_x_registry_auth(&rt, NULL, &v), 0);
	j = decode_header(v);
	assert_string_equal(jstr(j, "registrytoken", NULL), "bearer");
	assert_int_equal(json_object_size(j), 1);
	json_decref(j);
	creds_secret_free(v);
}

static void test_x_registry_config(void **state)
{
	struct creds_entry bob = {
	        .kind = CREDS_BASIC, .username = (char[]){"bob"}, .secret = (char[]){"s3cr?t"}};
	struct creds_entry hub = {
	        .kind = CREDS_BASIC, .username = (char[]){"hub"}, .secret = (char[]){"hubpw"}};
	struct creds_entry other = {
	        .kind = CREDS_BASIC, .username = (char[]){"x"}, .secret = (char[]){"y"}};
	struct creds_entry anon = {.kind = CREDS_ANONYMOUS};
	struct creds_entry idt = {.kind = CREDS_IDENTITY_TOKEN,
	                          .username = (char[]){"me"},
	                          .secret = (char[]){"IDT"}};
	struct creds_host_entry list[] = {{"ghcr.io", &bob},
	                                  {"quay.io", &anon},
	                                  {"docker.io", &hub},
	                                  {"registry-1.docker.io", &other},
	                                  {"localhost:5000", NULL}};
	struct creds_host_entry list2[] = {{"r.io:5000", &idt}};
	char *v;
	json_t *j;

	(void)state;
	assert_int_equal(creds_x_registry_config(list, 5, &v), 0);
	assert_string_equal(v,
	                    "eyJnaGNyLmlvIjp7InVzZXJuYW1lIjoiYm9iIiwicGFzc3dvcmQiOiJzM2NyP3QifSwia"
	                    "HR0cHM6Ly9pbmRleC5kb2NrZXIuaW8vdjEvIjp7InVzZXJuYW1lIjoiaHViIiwicGFzc3"
	                    "dvcmQiOiJodWJwdyJ9fQ==");
	j = decode_header(v);
	assert_int_equal(json_object_size(j), 2);
	assert_string_equal(jstr(j, "https://index.docker.io/v1/", "password"), "hubpw");
	json_decref(j);
	creds_secret_free(v);
	assert_int_equal(creds_x_registry_config(list2, 1, &v), 0);
	j = decode_header(v);
	assert_string_equal(jstr(j, "r.io:5000", "identitytoken"), "IDT");
	assert_string_equal(jstr(j, "r.io:5000", "username"), "me");
	json_decref(j);
	creds_secret_free(v);
	assert_int_equal(creds_x_registry_config(NULL, 0, &v), 0);
	assert_string_equal(v, "e30=");
	creds_secret_free(v);
}

/* ---- on a loop ---- */

struct env {
	uv_loop_t loop;
	struct creds *c;
};

static void env_open(struct env *e, const struct creds_opts *o)
{
	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_int_equal(creds_new(&e->loop, o, &e->c), 0);
}

static void env_close(struct env *e)
{
	creds_free(e->c);
	assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&e->loop), 0);
}

static void wait_calls(struct env *e, const struct got *g, int n)
{
	uint64_t start = uv_hrtime();

	while (g->calls < n) {
		uv_run(&e->loop, UV_RUN_ONCE);
		assert_true(uv_hrtime() - start < 8000000000ull);
	}
}

/* One lookup to its end; the callback must not run inside creds_lookup. */
static void lookup(struct env *e, const char *host, struct got *g)
{
	int before = g->calls;

	assert_int_equal(creds_lookup(e->c, host, got_cb, g), 0);
	assert_int_equal(g->calls, before);
	wait_calls(e, g, before + 1);
	assert_int_equal(g->calls, before + 1);
}

/* A config.json in the scratch directory; returns its path in buf. */
static const char *dockercfg_file(char *buf, size_t len, const char *json)
{
	path_in(buf, len, "config.json");
	write_file(buf, json, 0600);
	return buf;
}

static void lookup_with(const char *json, const char *host, struct got *g, uint64_t timeout_ms)
{
	char path[256];
	struct creds_opts o = {.docker_config = dockercfg_file(path, sizeof(path), json),
	                       .helper_timeout_ms = timeout_ms};
	struct env e;

	memset(g, 0, sizeof(*g));
	env_open(&e, &o);
	lookup(&e, host, g);
	env_close(&e);
}

static void test_lookup_dockercfg_inline(void **state)
{
	struct got g;
	char big[256];

	(void)state;
	lookup_with("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}",
	            "registry-1.docker.io", &g, 0);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.kind, CREDS_BASIC);
	assert_string_equal(g.user, "alice");
	assert_string_equal(g.secret, "pa:ss");
	assert_string_equal(g.source, "config.json");
	assert_string_equal(g.error, "");

	lookup_with("{\"auths\":{\"ghcr.io\":{}}}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.kind, CREDS_ANONYMOUS);

	lookup_with("{\"auths\":{\"ghcr.io\":{\"auth\":\"TOPSECRET", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -EINVAL);
	assert_int_equal(g.kind, CREDS_ANONYMOUS);
	assert_false(g.has_secret);
	assert_non_null(strstr(g.error, "config.json: not valid JSON"));
	assert_null(strstr(g.error, "TOPSECRET"));

	/* a config.json past 1 MiB is refused, not read */
	char *huge = malloc(2 * 1024 * 1024 + 1);
	assert_non_null(huge);
	memset(huge, ' ', 2 * 1024 * 1024);
	huge[0] = '{';
	strcpy(huge + 2 * 1024 * 1024 - 2, "}");
	lookup_with(huge, "ghcr.io", &g, 0);
	free(huge);
	assert_int_equal(g.status, -EFBIG);
	assert_non_null(strstr(g.error, "larger than"));

	/* no config.json at all: anonymous */
	struct creds_opts o = {.docker_config = path_in(big, sizeof(big), "nope/config.json")};
	struct env e;
	memset(&g, 0, sizeof(g));
	env_open(&e, &o);
	lookup(&e, "ghcr.io", &g);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.kind, CREDS_ANONYMOUS);
	assert_string_equal(g.source, "none");
	env_close(&e);
}

static void test_lookup_default_paths(void **state)
{
	char path[256], home[256];
	struct got g = {0};
	struct env e;

	(void)state;
	/* $DOCKER_CONFIG/config.json */
	assert_int_equal(mkdir(path_in(path, sizeof(path), "dc"), 0700), 0);
	setenv("DOCKER_CONFIG", path, 1);
	path_in(path, sizeof(path), "dc/config.json");
	write_file(path, "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjo=\"}}}", 0600);
	env_open(&e, NULL);
	lookup(&e, "ghcr.io", &g);
	assert_int_equal(g.kind, CREDS_BASIC);
	assert_string_equal(g.user, "user");
	env_close(&e);
	unsetenv("DOCKER_CONFIG");
	/* $HOME/.docker/config.json */
	const char *old = getenv("HOME");
	char *saved = old ? strdup(old) : NULL;
	assert_int_equal(mkdir(path_in(home, sizeof(home), "home"), 0700), 0);
	assert_int_equal(mkdir(path_in(path, sizeof(path), "home/.docker"), 0700), 0);
	path_in(path, sizeof(path), "home/.docker/config.json");
	write_file(path, "{\"auths\":{\"ghcr.io\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}", 0600);
	setenv("HOME", home, 1);
	env_open(&e, NULL);
	lookup(&e, "ghcr.io", &g);
	assert_string_equal(g.user, "alice");
	env_close(&e);
	/* "" turns config.json off */
	struct creds_opts o = {.docker_config = ""};
	env_open(&e, &o);
	lookup(&e, "ghcr.io", &g);
	assert_int_equal(g.kind, CREDS_ANONYMOUS);
	env_close(&e);
	if (saved)
		setenv("HOME", saved, 1);
	free(saved);
}

/* ---- refit's own username_file / password_file ---- */

static void lookup_config(struct config_registry *regs, size_t n, const char *host, struct got *g)
{
	char path[256];
	struct creds_opts o = {
	        .registries = regs,
	        .n_registries = n,
	        .docker_config = dockercfg_file(
	                path, sizeof(path), "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjo=\"}}}")};
	struct env e;

	memset(g, 0, sizeof(*g));
	env_open(&e, &o);
	lookup(&e, host, g);
	env_close(&e);
}

static void test_config_files(void **state)
{
	char u[256], p[256], missing[256];
	struct config_registry reg = {
	        .host = (char[]){"ghcr.io"}, .username_file = u, .password_file = p};
	struct got g;

	(void)state;
	write_file(path_in(u, sizeof(u), "reg-user"), "alice\n", 0600);
	write_file(path_in(p, sizeof(p), "reg-pass"), "pa ss\r\n\n", 0600);
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.kind, CREDS_BASIC);
	assert_string_equal(g.user, "alice");
	assert_string_equal(g.secret, "pa ss");
	assert_string_equal(g.source, "config"); /* before config.json */

	/* other hosts fall through to config.json; Hub's names are one registry */
	lookup_config(&reg, 1, "quay.io", &g);
	assert_int_equal(g.kind, CREDS_ANONYMOUS);
	reg.host = (char[]){"index.docker.io"};
	lookup_config(&reg, 1, "docker.io", &g);
	assert_string_equal(g.source, "config");
	/* an entry without files (only `insecure:`) is no answer */
	struct config_registry bare = {.host = (char[]){"ghcr.io"}};
	lookup_config(&bare, 1, "ghcr.io", &g);
	assert_string_equal(g.source, "config.json");

	/* a missing file: its path in the message, no secret */
	reg.host = (char[]){"ghcr.io"};
	reg.password_file = path_in(missing, sizeof(missing), "nope");
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(g.status, -ENOENT);
	assert_non_null(strstr(g.error, "password file"));
	assert_non_null(strstr(g.error, missing));
	assert_null(strstr(g.error, "alice"));
	assert_false(g.has_user);

	write_file(p, "\n", 0600);
	reg.password_file = p;
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(g.status, -EINVAL);
	assert_non_null(strstr(g.error, "is empty"));
}

static void test_config_files_bounds(void **state)
{
	char u[256], p[256], fifo[256], *big;
	struct config_registry reg = {
	        .host = (char[]){"ghcr.io"}, .username_file = u, .password_file = p};
	struct got g;

	(void)state;
	write_file(path_in(u, sizeof(u), "reg-user"), "alice\n", 0600);
	big = malloc(20000);
	assert_non_null(big);
	memset(big, 'S', 19999);
	big[19999] = '\0';
	write_file(path_in(p, sizeof(p), "reg-pass"), big, 0600);
	free(big);
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(g.status, -EFBIG);
	assert_null(strstr(g.error, "SSSS"));

	/* a FIFO must neither block the loop nor be read */
	assert_int_equal(mkfifo(path_in(fifo, sizeof(fifo), "fifo"), 0600), 0);
	reg.password_file = fifo;
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(g.status, -EBADFD);
	assert_non_null(strstr(g.error, "not a regular file"));

	reg.password_file = p;
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fwrite("a\0b\n", 1, 4, f);
	fclose(f);
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(g.status, -EINVAL);
	assert_non_null(strstr(g.error, "NUL"));
}

static void test_config_files_relative(void **state)
{
	char cdir[256], wdir[256], path[512], cwd[512];
	struct config_registry reg = {.host = (char[]){"ghcr.io"},
	                              .username_file = (char[]){"user"},
	                              .password_file = (char[]){"pass"}};
	struct got g;

	(void)state;
	/* systemd's LoadCredential= directory */
	assert_int_equal(mkdir(path_in(cdir, sizeof(cdir), "credentials"), 0700), 0);
	snprintf(path, sizeof(path), "%s/user", cdir);
	write_file(path, "from-credentials-dir\n", 0600);
	snprintf(path, sizeof(path), "%s/pass", cdir);
	write_file(path, "pw1\n", 0600);
	setenv("CREDENTIALS_DIRECTORY", cdir, 1);
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.user, "from-credentials-dir");
	assert_string_equal(g.secret, "pw1");
	unsetenv("CREDENTIALS_DIRECTORY");

	/* else the working directory */
	assert_int_equal(mkdir(path_in(wdir, sizeof(wdir), "work"), 0700), 0);
	snprintf(path, sizeof(path), "%s/user", wdir);
	write_file(path, "from-cwd", 0600);
	snprintf(path, sizeof(path), "%s/pass", wdir);
	write_file(path, "pw2", 0600);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(wdir), 0);
	lookup_config(&reg, 1, "ghcr.io", &g);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.user, "from-cwd");
	assert_string_equal(g.secret, "pw2");
}

/* A world-readable password file is used, with a warning that does not quote it. */
static void test_config_files_world_readable(void **state)
{
	char u[256], p[256], logp[256], text[1024] = "";
	struct config_registry reg = {
	        .host = (char[]){"ghcr.io"}, .username_file = u, .password_file = p};
	struct creds_opts o = {.registries = &reg,
	                       .n_registries = 1,
	                       .docker_config = "",
	                       .cache_ms = CREDS_CACHE_OFF};
	struct got g = {0};
	struct env e;
	int saved, fd;

	(void)state;
	write_file(path_in(u, sizeof(u), "reg-user"), "alice\n", 0644);
	write_file(path_in(p, sizeof(p), "reg-pass"), "WORLDSECRET\n", 0644);
	fd = open(path_in(logp, sizeof(logp), "log"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	env_open(&e, &o);
	lookup(&e, "ghcr.io", &g);
	lookup(&e, "ghcr.io", &g); /* read again (no cache), warned once */
	env_close(&e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_true(pread(fd, text, sizeof(text) - 1, 0) > 0);
	close(fd);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.secret, "WORLDSECRET");
	assert_non_null(strstr(text, "readable by every user"));
	assert_null(strstr(strstr(text, "readable by every user") + 1, "readable by every user"));
	assert_non_null(strstr(text, p));
	assert_null(strstr(text, "WORLDSECRET"));
}

/* ---- credential helpers, the real protocol ---- */

static void test_helper_basic(void **state)
{
	struct got g;

	(void)state;
	lookup_with("{\"credHelpers\":{\"ghcr.io\":\"refittest\"},\"credsStore\":\"refittest-"
	            "notfound\",\"auths\":{\"ghcr.io\":{}}}",
	            "ghcr.io", &g, 0);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.kind, CREDS_BASIC);
	assert_string_equal(g.user, "u-ghcr.io"); /* the server URL arrived on stdin */
	assert_string_equal(g.secret, "s3cret-value");
	assert_string_equal(g.source, "helper refittest");
	/* Hub is asked for under its legacy key */
	lookup_with("{\"credsStore\":\"refittest\"}", "docker.io", &g, 0);
	assert_string_equal(g.user, "u-https://index.docker.io/v1/");
	lookup_with("{\"credsStore\":\"refittest-token\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.kind, CREDS_IDENTITY_TOKEN);
	assert_false(g.has_user);
	assert_string_equal(g.secret, "rtok");
	lookup_with("{\"credsStore\":\"refittest-noread\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.secret, "nr");
}

static void test_helper_not_found(void **state)
{
	struct got g;

	(void)state;
	lookup_with("{\"credsStore\":\"refittest-notfound\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.kind, CREDS_ANONYMOUS);
	assert_string_equal(g.source, "helper refittest-notfound");
	/* 200 kB on stderr is drained, not kept, and does not hang the helper */
	lookup_with("{\"credsStore\":\"refittest-bigerr\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.kind, CREDS_ANONYMOUS);
	/* a helper that is not installed is an error that says so */
	lookup_with("{\"credsStore\":\"refittest-missing\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -ENOENT);
	assert_non_null(strstr(g.error, "docker-credential-refittest-missing"));
	assert_non_null(strstr(g.error, "not found on PATH"));
}

static void test_helper_failures(void **state)
{
	struct got g;
	uint64_t t0;

	(void)state;
	lookup_with("{\"credsStore\":\"refittest-garbage\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -EBADMSG);
	assert_false(g.has_secret);
	assert_null(strstr(g.error, "GARBAGESECRET"));

	lookup_with("{\"credsStore\":\"refittest-fail\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -EIO);
	assert_non_null(strstr(g.error, "exited with status 3"));
	assert_non_null(strstr(g.error, "boom: keychain locked"));
	assert_null(strstr(g.error, "TOPSECRET"));

	/* helpers of docker-credential-helpers print their errors on stdout; JSON there may
	 * hold the secret and is never quoted */
	lookup_with("{\"credsStore\":\"refittest-failtext\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -EIO);
	assert_non_null(strstr(g.error, "exited with status 2: error: backend down"));
	lookup_with("{\"credsStore\":\"refittest-failjson\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -EIO);
	assert_null(strstr(g.error, "TOPSECRET"));

	lookup_with("{\"credsStore\":\"refittest-signal\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -EIO);
	assert_non_null(strstr(g.error, "killed by signal 15"));

	lookup_with("{\"credsStore\":\"refittest-big\"}", "ghcr.io", &g, 0);
	assert_int_equal(g.status, -EMSGSIZE);
	assert_non_null(strstr(g.error, "output larger than 65536 bytes"));

	t0 = uv_hrtime();
	lookup_with("{\"credsStore\":\"refittest-slow\"}", "ghcr.io", &g, 200);
	assert_int_equal(g.status, -ETIMEDOUT);
	assert_non_null(strstr(g.error, "no answer within 200 ms"));
	assert_true(uv_hrtime() - t0 < 3000000000ull); /* killed, not waited for */
	assert_sleep_killed();
}

/* Lookups of one host share a helper run, then the cache answers until invalidated. */
static void test_helper_shared_and_cached(void **state)
{
	char path[256];
	struct creds_opts o = {.docker_config = dockercfg_file(path, sizeof(path),
	                                                       "{\"credsStore\":\"refittest\"}")};
	struct got a = {0}, b = {0}, c = {0};
	struct env e;

	(void)state;
	reset_runs();
	env_open(&e, &o);
	assert_int_equal(creds_lookup(e.c, "ghcr.io", got_cb, &a), 0);
	assert_int_equal(creds_lookup(e.c, "ghcr.io", got_cb, &b), 0);
	wait_calls(&e, &b, 1);
	wait_calls(&e, &a, 1);
	assert_int_equal(count_runs(), 1);
	assert_string_equal(a.secret, "s3cret-value");
	assert_string_equal(b.secret, "s3cret-value");
	lookup(&e, "ghcr.io", &c); /* a cache hit, still delivered from the loop */
	assert_int_equal(count_runs(), 1);
	assert_string_equal(c.secret, "s3cret-value");
	assert_string_equal(c.source, "helper refittest");
	lookup(&e, "quay.io", &c); /* another host */
	assert_int_equal(count_runs(), 2);
	creds_invalidate(e.c, "ghcr.io");
	creds_invalidate(e.c, "not a host"); /* ignored */
	lookup(&e, "ghcr.io", &c);
	assert_int_equal(count_runs(), 3);
	assert_int_equal(c.calls, 3);
	env_close(&e);
}

static void test_cache_expiry_and_off(void **state)
{
	char path[256];
	struct creds_opts o = {.docker_config =
	                               dockercfg_file(path, sizeof(path),
	                                              "{\"credsStore\":\"refittest-notfound\"}"),
	                       .cache_ms = 50};
	struct got g = {0};
	struct env e;

	(void)state;
	reset_runs();
	env_open(&e, &o);
	lookup(&e, "ghcr.io", &g); /* anonymous answers are cached too */
	lookup(&e, "ghcr.io", &g);
	assert_int_equal(count_runs(), 1);
	usleep(120 * 1000);
	uv_update_time(&e.loop);
	lookup(&e, "ghcr.io", &g);
	assert_int_equal(count_runs(), 2);
	env_close(&e);

	reset_runs();
	o.cache_ms = CREDS_CACHE_OFF;
	env_open(&e, &o);
	lookup(&e, "ghcr.io", &g);
	lookup(&e, "ghcr.io", &g);
	assert_int_equal(count_runs(), 2);
	env_close(&e);
}

/* creds_free with a helper still running: no callback, the child killed, the loop closes. */
static void test_free_while_running(void **state)
{
	char path[256];
	struct creds_opts o = {.docker_config = dockercfg_file(
	                               path, sizeof(path), "{\"credsStore\":\"refittest-slow\"}")};
	struct got g = {0};
	struct env e;
	uint64_t t0 = uv_hrtime();

	(void)state;
	env_open(&e, &o);
	assert_int_equal(creds_lookup(e.c, "ghcr.io", got_cb, &g), 0);
	path_in(path, sizeof(path), "count.pid");
	for (int i = 0; i < 300 && !has_content(path); i++) {
		uv_run(&e.loop, UV_RUN_NOWAIT);
		usleep(10000); /* until the helper has started its sleep and written its pid */
	}
	env_close(&e);
	assert_int_equal(g.calls, 0);
	assert_true(uv_hrtime() - t0 < 3000000000ull);
	assert_sleep_killed();
}

/* Freeing from inside a callback drops the answers not yet delivered; cancel forgets one. */
static void test_free_in_callback_and_cancel(void **state)
{
	char path[256];
	struct creds_opts o = {
	        .docker_config = dockercfg_file(
	                path, sizeof(path), "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjo=\"}}}")};
	struct got a = {0}, b = {0}, c = {0};
	struct env e;

	(void)state;
	env_open(&e, &o);
	assert_int_equal(creds_lookup(e.c, "ghcr.io", got_cb, &a), 0);
	assert_int_equal(creds_lookup(e.c, "ghcr.io", got_cb, &c), 0);
	creds_lookup_cancel(e.c, got_cb, &c);
	assert_int_equal(creds_lookup(e.c, "ghcr.io", got_cb, &b), 0);
	assert_int_equal(creds_lookup(e.c, "bad host", got_cb, &b), -EINVAL);
	assert_int_equal(creds_lookup(e.c, "", got_cb, &b), -EINVAL);
	a.free_in_cb = e.c;
	assert_int_equal(uv_run(&e.loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&e.loop), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	assert_int_equal(c.calls, 0);
}

/* A lookup started from a callback is answered on a later turn, not inside it. */
static void test_lookup_in_callback(void **state)
{
	struct got a = {0}, b = {0};
	struct env e;

	(void)state;
	env_open(&e, &(struct creds_opts){.docker_config = ""});
	a.lookup_in_cb = e.c;
	a.next = &b;
	lookup(&e, "ghcr.io", &a);
	assert_int_equal(b.calls, 0);
	wait_calls(&e, &b, 1);
	assert_int_equal(b.status, 0);
	env_close(&e);
}

/* A cancelled helper lookup gets no callback, but the run still fills the cache. */
static void test_cancel_helper(void **state)
{
	char path[256];
	struct creds_opts o = {.docker_config = dockercfg_file(path, sizeof(path),
	                                                       "{\"credsStore\":\"refittest\"}")};
	struct got a = {0}, b = {0};
	struct env e;

	(void)state;
	reset_runs();
	env_open(&e, &o);
	assert_int_equal(creds_lookup(e.c, "ghcr.io", got_cb, &a), 0);
	creds_lookup_cancel(e.c, got_cb, &a);
	assert_int_equal(uv_run(&e.loop, UV_RUN_DEFAULT), 0); /* until the helper is done */
	assert_int_equal(a.calls, 0);
	lookup(&e, "ghcr.io", &b);
	assert_int_equal(count_runs(), 1);
	assert_string_equal(b.secret, "s3cret-value");
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base64),
	        cmocka_unit_test(test_canon_host),
	        cmocka_unit_test(test_dockercfg_auth),
	        cmocka_unit_test(test_dockercfg_tokens),
	        cmocka_unit_test(test_dockercfg_markers_and_keys),
	        cmocka_unit_test(test_dockercfg_helpers),
	        cmocka_unit_test(test_dockercfg_errors),
	        cmocka_unit_test(test_helper_output),
	        cmocka_unit_test(test_x_registry_auth),
	        cmocka_unit_test(test_x_registry_auth_escaping),
	        cmocka_unit_test(test_lookup_in_callback),
	        cmocka_unit_test(test_x_registry_config),
	        cmocka_unit_test(test_lookup_dockercfg_inline),
	        cmocka_unit_test(test_lookup_default_paths),
	        cmocka_unit_test(test_config_files),
	        cmocka_unit_test(test_config_files_bounds),
	        cmocka_unit_test(test_config_files_relative),
	        cmocka_unit_test(test_config_files_world_readable),
	        cmocka_unit_test(test_helper_basic),
	        cmocka_unit_test(test_helper_not_found),
	        cmocka_unit_test(test_helper_failures),
	        cmocka_unit_test(test_helper_shared_and_cached),
	        cmocka_unit_test(test_cache_expiry_and_off),
	        cmocka_unit_test(test_free_while_running),
	        cmocka_unit_test(test_free_in_callback_and_cancel),
	        cmocka_unit_test(test_cancel_helper),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
