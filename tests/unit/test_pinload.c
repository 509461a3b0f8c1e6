/*
 * pinload: the files of a real context directory read for pins: the
 * Dockerfile with the environment's target and build args, the top-level pin
 * files, the .txt files of requirements/, -r/-c includes relative to their file (cycles
 * read once, nothing outside the context), a FIFO and an oversized file
 * skipped without blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "pinload.h"
#include "pins.h"

static char dir[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static char *dump(const struct pins *p)
{
	static char out[4096];
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s:%d %s %s\n", p->v[i].file,
		                       p->v[i].line, p->v[i].name, p->v[i].version);
	return out;
}

static void test_context(void **state)
{
	struct config_errors errs = {0};
	struct config *c = NULL;
	struct pins p = {0};
	char y[512], path[256], cmd[128];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/refit-pinload-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctx", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/ctx/requirements", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/ctx/docker", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	put("outside.txt", "evil==6.6.6\n");
	put("ctx/docker/Dockerfile", "FROM debian:12 AS base\nARG CURL=7.88.1-10\n"
	                             "RUN apt-get install -y curl=${CURL}\n"
	                             "FROM base AS extra\nRUN apt-get install -y jq=1.6-2.1\n");
	put("ctx/requirements.txt", "-r requirements/base.txt\n-c ../outside.txt\n"
	                            "-c /etc/passwd\nflask==2.3.2\n");
	put("ctx/requirements/base.txt", "-r base.txt\n-c ../requirements.txt\nrequests==2.25.0\n");
	put("ctx/requirements/dev.txt", "pytest==7.4.0\n");
	put("ctx/poetry.lock", "[[package]]\nname = \"idna\"\nversion = \"3.4\"\n");
	put("ctx/pyproject.toml", "[project]\ndependencies = [\"broken==1\"\n"); /* skipped */
	put("ctx/notes.txt", "numpy==1.0\n"); /* not a pin file */
	snprintf(path, sizeof(path), "%s/ctx/requirements-fifo.txt", dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/ctx/requirements-big.txt", dir);
	assert_non_null(f = fopen(path, "w"));
	for (size_t i = 0; i < PINLOAD_MAX_BYTES / 16 + 1; i++)
		fputs("big==1.0.0      \n", f);
	fclose(f);
	snprintf(y, sizeof(y),
	         "state_dir: /tmp\nprojects:\n  - name: p\n    context: %s/ctx\n"
	         "    dockerfile: docker/Dockerfile\n"
	         "    image: registry.example/team/p\n"
	         "    environments: { prod: { target: base, build_args: { CURL: 7.88.1-10+deb12u5 "
	         "} } }\n",
	         dir);
	assert_int_equal(config_parse("t.yaml", y, strlen(y), &c, &errs), 0);
	assert_int_equal(pinload_env(&c->projects[0], &c->projects[0].envs[0], &p), 0);
	assert_string_equal(dump(&p), "docker/Dockerfile:3 curl 7.88.1-10+deb12u5\n"
	                              "poetry.lock:3 idna 3.4\n"
	                              "requirements.txt:4 flask 2.3.2\n" /* then its -r */
	                              "requirements/base.txt:3 requests 2.25.0\n"
	                              "requirements/dev.txt:1 pytest 7.4.0\n");
	pins_done(&p);
	/* no environment: every stage, no build args */
	assert_int_equal(pinload_env(&c->projects[0], NULL, &p), 0);
	assert_int_equal(p.n, 6);
	pins_done(&p);
	config_free(c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_context)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
