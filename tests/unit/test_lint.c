/*
 * Unit tests of lint: every rule once where it fires and once where it
 * must stay quiet, on small Dockerfiles written for the purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dockerfile.h"
#include "lint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
	char text[8192]; /* "LINE RULE severity\n" per finding */
	size_t n;
};

static void collect(const struct lint_finding *f, void *arg)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%d%s%s %s %s\n", f->line,
	         f->path ? " " : "", f->path ? f->path : "", f->rule,
	         lint_severity_name(f->severity));
	assert_non_null(f->message);
	assert_true(strlen(f->message) > 10);
	s->n++;
}

static struct seen *lint_for(const char *text, enum dockerfile_builder b)
{
	static struct seen s;
	struct dockerfile *df = NULL;
	char err[256];

	memset(&s, 0, sizeof(s));
	if (dockerfile_parse(text, strlen(text), &df, err, sizeof(err)))
		fail_msg("parse: %s\n%s", err, text);
	int n = lint_dockerfile(df, b, collect, &s);
	assert_int_equal(n, (int)s.n);
	dockerfile_free(df);
	return &s;
}

static struct seen *lint(const char *text)
{
	return lint_for(text, DOCKERFILE_BUILDKIT_0_8);
}

/* want: "LINE RULE" fires; !want: RULE does not fire at all. */
static void fires(const char *text, const char *finding)
{
	struct seen *s = lint(text);

	if (!strstr(s->text, finding))
		fail_msg("no '%s' for\n%s\ngot:\n%s", finding, text, s->text);
}

static void quiet(const char *text, const char *rule)
{
	struct seen *s = lint(text);

	if (strstr(s->text, rule))
		fail_msg("'%s' fired for\n%s\ngot:\n%s", rule, text, s->text);
}

#define OK_TAIL "USER app\n" /* keeps RF001 quiet where it is not the point */

static void test_rf000_unbuildable(void **state)
{
	(void)state;
	fires("ARG I\nFROM $I\n", "2 RF000 error");
	fires("FROM a AS x\nCOPY --from=x / /\n", "1 RF000 error");
	quiet("FROM a:1@sha256:0\n" OK_TAIL, "RF000");
}

static void test_rf001_root(void **state)
{
	(void)state;
	fires("FROM debian:12\nRUN true\n", "1 RF001 error");
	fires("FROM debian:12\nUSER app\nUSER root\n", "3 RF001 error");
	fires("FROM debian:12\nUSER 0:0\n", "2 RF001 error");
	fires("FROM debian:12 AS b\nUSER root:staff\nFROM b\n", "2 RF001 error");
	fires("FROM debian:12\nARG U=root\nUSER $U\n", "3 RF001 error");
	quiet("FROM debian:12\nUSER root\nRUN x\nUSER 1000\n", "RF001");
	quiet("FROM debian:12 AS b\nUSER app\nFROM b\n", "RF001");
	quiet("FROM debian:12\nUSER ${NB_UID}\n", "RF001"); /* from the base image: unknown */
	quiet("FROM debian:12\nUSER rootless\n", "RF001");
	quiet("FROM debian:12 AS build\nFROM alpine:3\nUSER nobody\n", "RF001");
}

static void test_rf002_rf003_tags(void **state)
{
	(void)state;
	fires("FROM debian:12\n" OK_TAIL, "1 RF002 info");
	fires("FROM debian\n" OK_TAIL, "1 RF003 warning");
	fires("FROM registry:5000/debian\n" OK_TAIL, "1 RF003 warning");
	fires("FROM debian:latest\n" OK_TAIL, "1 RF003 warning");
	fires("ARG T=latest\nFROM debian:$T\n" OK_TAIL, "2 RF003 warning");
	quiet("FROM debian@sha256:abc\n" OK_TAIL, "RF002");
	quiet("FROM debian:latest@sha256:abc\n" OK_TAIL, "RF003");
	quiet("FROM registry:5000/debian:12\n" OK_TAIL, "RF003");
	quiet("FROM scratch\n" OK_TAIL, "RF002");
	quiet("FROM debian:12 AS b\nFROM b\n" OK_TAIL, "2 RF00");
}

static void test_rf004_add(void **state)
{
	(void)state;
	fires("FROM a@sha256:0\nADD app /app\n" OK_TAIL, "2 RF004 warning");
	fires("FROM a@sha256:0\nADD [\"a\", \"b\", \"/d/\"]\n" OK_TAIL, "2 RF004 warning");
	quiet("FROM a@sha256:0\nADD https://x/y.bin /y\n" OK_TAIL, "RF004");
	quiet("FROM a@sha256:0\nADD rootfs.tar.gz /\n" OK_TAIL, "RF004");
	quiet("FROM a@sha256:0\nADD \"rootfs.tgz\" /\n" OK_TAIL, "RF004");
	fires("FROM a@sha256:0\nADD file.zip /\n" OK_TAIL, "2 RF004"); /* ADD does not unzip */
	quiet("FROM a@sha256:0\nADD --checksum=sha256:0 https://x /y\n" OK_TAIL, "RF004");
	quiet("FROM a@sha256:0\nADD git@github.com:a/b.git /src\n" OK_TAIL, "RF004");
	quiet("FROM a@sha256:0\nCOPY app /app\n" OK_TAIL, "RF004");
}

static void test_rf005_to_rf008_apt(void **state)
{
	const char *good =
	        "FROM a@sha256:0\nRUN apt-get update \\\n"
	        " && DEBIAN_FRONTEND=noninteractive apt-get install -y "
	        "--no-install-recommends curl \\\n && rm -rf /var/lib/apt/lists/*\n" OK_TAIL;

	(void)state;
	quiet(good, "RF005");
	quiet(good, "RF006");
	quiet(good, "RF007");
	quiet(good, "RF008");
	fires("FROM a@sha256:0\nRUN apt-get install curl && rm -rf /var/lib/apt/lists/*\n" OK_TAIL,
	      "2 RF005 warning");
	fires("FROM a@sha256:0\nRUN sudo apt install -y curl\n" OK_TAIL, "2 RF006 info");
	quiet("FROM a@sha256:0\nRUN apt-get -qq install x && apt-get -yq install y\n" OK_TAIL,
	      "RF005");
	quiet("FROM a@sha256:0\nRUN apt-get install -q --quiet x\n" OK_TAIL, "RF005");
	fires("FROM a@sha256:0\nRUN apt-get install -q x\n" OK_TAIL, "2 RF005 warning");
	fires("FROM a@sha256:0\nRUN aptitude update && aptitude install -y x\n" OK_TAIL,
	      "2 RF007 info");
	quiet("FROM a@sha256:0\nRUN --mount=type=tmpfs,target=/var/lib/apt apt-get "
	      "update\n" OK_TAIL,
	      "RF007");
	quiet("FROM a@sha256:0\nRUN apt-get -o APT::Install-Recommends=false install -y "
	      "x\n" OK_TAIL,
	      "RF006");
	fires("FROM a@sha256:0\nRUN apt-get update && apt-get install -y --no-install-recommends "
	      "x\n" OK_TAIL,
	      "2 RF007 info");
	quiet("FROM a@sha256:0\nRUN --mount=type=cache,target=/var/lib/apt apt-get "
	      "update\n" OK_TAIL,
	      "RF007");
	quiet("FROM a@sha256:0\nRUN echo 'apt-get install x'\n" OK_TAIL, "RF005");
	fires("FROM a@sha256:0\nRUN apt-get update && apt-get -y dist-upgrade\n" OK_TAIL,
	      "2 RF008 warning");
	fires("FROM a@sha256:0\nRUN [\"apt-get\", \"upgrade\"]\n" OK_TAIL, "2 RF008 warning");
	fires("FROM a@sha256:0\nRUN [\"/bin/sh\", \"-c\", \"apt upgrade -y\"]\n" OK_TAIL,
	      "2 RF008 warning");
	fires("FROM a@sha256:0\nRUN <<EOF\napt-get install curl\nEOF\n" OK_TAIL, "2 RF005 warning");
	quiet("FROM a@sha256:0\nRUN cat > /x <<EOF\napt-get install curl\nEOF\n" OK_TAIL, "RF005");
}

static void test_rf009_pip(void **state)
{
	(void)state;
	fires("FROM a@sha256:0\nRUN pip install numpy\n" OK_TAIL, "2 RF009 warning");
	fires("FROM a@sha256:0\nRUN python3.12 -m pip install -r r.txt\n" OK_TAIL,
	      "2 RF009 warning");
	fires("FROM a@sha256:0\nRUN /opt/conda/bin/pip3 install x\n" OK_TAIL, "2 RF009 warning");
	quiet("FROM a@sha256:0\nRUN pip install --no-cache-dir numpy\n" OK_TAIL, "RF009");
	quiet("FROM a@sha256:0\nENV PIP_NO_CACHE_DIR=1\nRUN pip install numpy\n" OK_TAIL, "RF009");
	quiet("FROM a@sha256:0 AS b\nENV PIP_NO_CACHE_DIR=1\nFROM b\nRUN pip install x\n" OK_TAIL,
	      "RF009");
	quiet("FROM a@sha256:0\nRUN --mount=type=cache,target=/root/.cache/pip pip install "
	      "x\n" OK_TAIL,
	      "RF009");
	quiet("FROM a@sha256:0\nRUN pip download x && uv pip install y\n" OK_TAIL, "RF009");
	quiet("FROM a@sha256:0\nENV PIP_NO_CACHE_DIR=\"true\"\nRUN pip install x\n" OK_TAIL,
	      "RF009");
	fires("FROM a@sha256:0\nENV PIP_NO_CACHE_DIR=off\nRUN pip install x\n" OK_TAIL,
	      "3 RF009 warning"); /* pip reads off as "keep the cache" (hadolint agrees) */
	quiet("FROM a@sha256:0\nRUN PIP_NO_CACHE_DIR=1 pip install x\n" OK_TAIL, "RF009");
	quiet("FROM a@sha256:0\nRUN export PIP_NO_CACHE_DIR=yes && pip install x\n" OK_TAIL,
	      "RF009");
	fires("FROM a@sha256:0\nRUN PIP_NO_CACHE_DIR=0 pip install x\n" OK_TAIL, "2 RF009 warning");
}

static void test_rf010_cd(void **state)
{
	(void)state;
	fires("FROM a@sha256:0\nRUN cd /src && make\n" OK_TAIL, "2 RF010 warning");
	fires("FROM a@sha256:0\nRUN make; cd /x\n" OK_TAIL, "2 RF010 warning");
	quiet("FROM a@sha256:0\nWORKDIR /src\nRUN make\n" OK_TAIL, "RF010");
	quiet("FROM a@sha256:0\nRUN echo cd /x # cd here\n" OK_TAIL, "RF010");
}

static void test_rf011_secret_names(void **state)
{
	(void)state;
	fires("FROM a@sha256:0\nENV DB_PASSWORD=x\n" OK_TAIL, "2 RF011 warning");
	fires("FROM a@sha256:0\nARG GITHUB_TOKEN\n" OK_TAIL, "2 RF011 warning");
	fires("ARG apiKey\nFROM a@sha256:0\n" OK_TAIL, "1 RF011 warning");
	fires("FROM a@sha256:0\nENV AWS_SECRET_ACCESS_KEY x\n" OK_TAIL, "2 RF011 warning");
	fires("FROM a@sha256:0\nENV A=1 NAGIOS_PASS=x\n" OK_TAIL, "2 RF011 warning");
	quiet("FROM a@sha256:0\nENV GPG_KEY=ABCD PUBLIC_KEY=x KEYRING=/k PASSWORD_FILE=/run/s\n"
	      "ARG AWS_ACCESS_KEY_ID TOKEN_URL=x\n" OK_TAIL,
	      "RF011");
	quiet("FROM a@sha256:0\nENV PASSWORDLESS=1 MONKEY=2 TOKENIZERS_PARALLELISM=false\n" OK_TAIL,
	      "RF011");
}

static void test_rf012_alpine_python(void **state)
{
	(void)state;
	fires("FROM python:3.12-alpine\n" OK_TAIL, "1 RF012 warning");
	fires("FROM alpine:3.20 AS b\nRUN apk add py3-pip && pip install x\nFROM b\n" OK_TAIL,
	      "1 RF012 warning");
	quiet("FROM python:3.12-slim\n" OK_TAIL, "RF012");
	quiet("FROM alpine:3.20\nRUN apk add curl\n" OK_TAIL, "RF012");
	quiet("FROM alpine:3.20 AS tools\nFROM python:3.12\nRUN pip install --no-cache-dir "
	      "x\n" OK_TAIL,
	      "RF012");
}

static void test_rf015_rf016(void **state)
{
	(void)state;
	fires("FROM a@sha256:0\nRUN --mount=type=cache,target=/c x\n" OK_TAIL, "2 RF015 info");
	quiet("FROM a@sha256:0\nRUN x\n" OK_TAIL, "RF015");
	fires("ARG V\nFROM a:${V}x@sha256:0\n" OK_TAIL, "2 RF016 warning");
	quiet("ARG V\nFROM a${V:+-dbg}@sha256:0\n" OK_TAIL, "RF016");
}

/* A # syntax= frontend: a warning on BuildKit (the engine must pull it), info elsewhere. */
static void test_rf018_frontend(void **state)
{
	const char *df = "# syntax=docker/dockerfile:1.4\nFROM a@sha256:0\nRUN x\n" OK_TAIL;
	const char *heredoc = "# syntax=docker/dockerfile:1.4\nFROM a@sha256:0\nRUN <<EOF\nx\n"
	                      "EOF\n" OK_TAIL;
	struct seen *s;

	(void)state;
	fires(df, "1 RF018 warning");
	quiet(df, "RF017");
	quiet("FROM a@sha256:0\nRUN x\n" OK_TAIL, "RF018");
	quiet("# foo=bar\nFROM a@sha256:0\nRUN x\n" OK_TAIL, "RF018");
	fires("# foo=bar\n# syntax=f\nFROM a@sha256:0\nRUN x\n" OK_TAIL, "2 RF018 warning");
	s = lint_for(df, DOCKERFILE_BUILDKIT);
	assert_non_null(strstr(s->text, "1 RF018 warning"));
	s = lint_for(df, DOCKERFILE_PODMAN);
	assert_non_null(strstr(s->text, "1 RF018 info"));
	s = lint_for(df, DOCKERFILE_CLASSIC);
	assert_non_null(strstr(s->text, "1 RF018 info"));
	/* the frontend parses heredocs on BuildKit 0.8; Podman ignores it and cannot */
	quiet(heredoc, "RF017");
	s = lint_for(heredoc, DOCKERFILE_PODMAN);
	assert_non_null(strstr(s->text, "3 RF017 error"));
}

static void test_order_and_clean_file(void **state)
{
	struct seen *s = lint("FROM python:3.12-slim@sha256:abc AS build\n"
	                      "RUN pip install --no-cache-dir -r requirements.txt\n"
	                      "FROM python:3.12-slim@sha256:abc\n"
	                      "COPY --from=build /usr/local /usr/local\n"
	                      "USER 1000:1000\n");

	(void)state;
	assert_int_equal(s->n, 0);
	s = lint("FROM a\nADD x /y\nENV TOKEN=1\nRUN cd /\n");
	assert_string_equal(s->text, "1 RF001 error\n1 RF002 info\n1 RF003 warning\n"
	                             "2 RF004 warning\n3 RF011 warning\n4 RF010 warning\n");
}

static void context(struct seen *s, const char *path, uint64_t size, struct lint_context *lc)
{
	(void)s;
	lint_context_file(lc, path, size);
}

static void test_rf013_rf014_context(void **state)
{
	static const char *const secrets[] = {".env",
	                                      "app/.env.production",
	                                      "id_rsa",
	                                      "certs/server.pem",
	                                      "tls.key",
	                                      ".npmrc",
	                                      ".pypirc",
	                                      "credentials.json",
	                                      "home/.aws/credentials",
	                                      ".docker/config.json",
	                                      NULL};
	static const char *const clean[] = {"id_rsa.pub", ".env.example", "src/main.py",
	                                    "Dockerfile", "keys.py",      "environment.yml",
	                                    NULL};
	static const char *const data[] = {"data/train.csv", "x.parquet", "model.pt",
	                                   "w.h5",           "clf.pkl",   NULL};
	struct seen s = {0};
	struct lint_context *lc = lint_context_new(collect, &s);

	(void)state;
	assert_non_null(lc);
	for (size_t i = 0; secrets[i]; i++)
		context(&s, secrets[i], 10, lc);
	for (size_t i = 0; clean[i]; i++)
		context(&s, clean[i], 10, lc);
	for (size_t i = 0; data[i]; i++)
		context(&s, data[i], 10, lc);
	context(&s, "blob.bin", LINT_CONTEXT_BIG + 1, lc);
	context(&s, "small.bin", LINT_CONTEXT_BIG, lc);
	assert_int_equal(lint_context_done(lc), 16);
	assert_non_null(strstr(s.text, "0 .env RF013 error\n"));
	assert_non_null(strstr(s.text, "0 home/.aws/credentials RF013 error\n"));
	assert_non_null(strstr(s.text, "0 data/train.csv RF014 warning\n"));
	assert_non_null(strstr(s.text, "0 blob.bin RF014 warning\n"));
	assert_null(strstr(s.text, "id_rsa.pub"));
	assert_null(strstr(s.text, ".env.example"));
	assert_null(strstr(s.text, "small.bin"));
	assert_null(strstr(s.text, "keys.py"));
	/* past LINT_CONTEXT_PER_RULE files, one line counts the rest */
	memset(&s, 0, sizeof(s));
	lc = lint_context_new(collect, &s);
	for (int i = 0; i < LINT_CONTEXT_PER_RULE + 5; i++)
		context(&s, "d/x.csv", 1, lc);
	assert_int_equal(lint_context_done(lc), LINT_CONTEXT_PER_RULE + 5);
	assert_int_equal(s.n, LINT_CONTEXT_PER_RULE + 1);
	assert_non_null(strstr(s.text, "\n0 RF014 warning\n"));
	assert_int_equal(lint_context_done(NULL), 0);
	assert_string_equal(lint_severity_name(LINT_INFO), "info");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rf000_unbuildable),
	        cmocka_unit_test(test_rf001_root),
	        cmocka_unit_test(test_rf002_rf003_tags),
	        cmocka_unit_test(test_rf004_add),
	        cmocka_unit_test(test_rf005_to_rf008_apt),
	        cmocka_unit_test(test_rf009_pip),
	        cmocka_unit_test(test_rf010_cd),
	        cmocka_unit_test(test_rf011_secret_names),
	        cmocka_unit_test(test_rf012_alpine_python),
	        cmocka_unit_test(test_rf015_rf016),
	        cmocka_unit_test(test_rf018_frontend),
	        cmocka_unit_test(test_order_and_clean_file),
	        cmocka_unit_test(test_rf013_rf014_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
