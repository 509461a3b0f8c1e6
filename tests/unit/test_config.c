/* config: the DESIGN.md example, defaults, and every kind of bad input with its position. */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"

static const char design_example[] =
        "state_dir: /var/lib/refit\n"
        "listen: 127.0.0.1:8787\n"
        "api_token_file: /etc/refit/api-token\n"
        "engines:\n"
        "  - host: unix:///var/run/docker.sock\n"
        "    max_builds: 2\n"
        "registries:\n"
        "  - host: registry.example.com\n"
        "    username_file: /etc/refit/reg-user\n"
        "    password_file: /etc/refit/reg-pass\n"
        "poll: { bases: 15m, feeds: 1h, jitter: 10%, settle: 10m }\n"
        "feeds:\n"
        "  - { name: osv, type: osv, url: https://osv-vulnerabilities.storage.googleapis.com }\n"
        "projects:\n"
        "  - name: churn-model\n"
        "    context: /srv/projects/churn-model\n"
        "    dockerfile: Dockerfile\n"
        "    image: registry.example.com/ds/churn-model\n"
        "    max_age: 7d\n"
        "    environments:\n"
        "      test: { target: test, check: [\"python\", \"-m\", \"pytest\", \"-q\"] }\n"
        "      prod: { target: runtime, requires: test }\n"
        "      rnd:  { target: dev, build_args: { EXTRAS: notebook } }\n"
        "notify:\n"
        "  - { webhook: https://hooks.example.com/refit, events: [built, failed, promoted] }\n";

static struct config *parse_ok(const char *text)
{
	struct config_errors errs = {0};
	struct config *c = NULL;
	int r = config_parse("t.yaml", text, strlen(text), &c, &errs);

	for (size_t i = 0; i < errs.n; i++)
		print_message("unexpected: %s\n", errs.lines[i]);
	assert_int_equal(r, 0);
	assert_int_equal(errs.n, 0);
	config_errors_done(&errs);
	return c;
}

/* Parses text expecting failure and checks that one error line equals want. */
static void parse_bad(const char *text, const char *want)
{
	struct config_errors errs = {0};
	struct config *c = NULL;
	int r = config_parse("t.yaml", text, strlen(text), &c, &errs);
	bool found = false;

	assert_int_equal(r, -EINVAL);
	assert_null(c);
	for (size_t i = 0; i < errs.n; i++)
		if (!strcmp(errs.lines[i], want))
			found = true;
	if (!found)
		for (size_t i = 0; i < errs.n; i++)
			print_message("got: %s\n", errs.lines[i]);
	assert_true(found);
	config_errors_done(&errs);
}

static void test_design_example(void **state)
{
	struct config *c = parse_ok(design_example);
	const struct config_project *p;

	(void)state;
	assert_string_equal(c->state_dir, "/var/lib/refit");
	assert_int_equal(c->n_engines, 1);
	assert_int_equal(c->engines[0].max_builds, 2);
	assert_string_equal(c->registries[0].password_file, "/etc/refit/reg-pass");
	assert_int_equal(c->poll.bases_ms, 15 * 60000);
	assert_int_equal(c->poll.feeds_ms, 3600000);
	assert_int_equal(c->poll.jitter_pct, 10);
	assert_int_equal(c->poll.settle_ms, 600000);
	assert_int_equal(c->feeds[0].type, FEED_OSV);
	p = config_project_find(c, "churn-model");
	assert_non_null(p);
	assert_int_equal(p->max_age_ms, 7ULL * 86400000);
	assert_int_equal(p->n_envs, 3);
	assert_string_equal(p->envs[0].name, "test");
	assert_string_equal(p->envs[0].check[2], "pytest");
	assert_null(p->envs[0].check[4]);
	assert_string_equal(p->envs[1].requires, "test");
	assert_string_equal(p->envs[2].build_args[0].key, "EXTRAS");
	assert_string_equal(p->envs[2].build_args[0].value, "notebook");
	assert_int_equal(p->envs[1].user_policy, -1);
	assert_string_equal(c->notify[0].events[1], "failed");
	config_free(c);
}

static void test_defaults(void **state)
{
	struct config *c = parse_ok("");

	(void)state;
	assert_string_equal(c->state_dir, "/var/lib/refit");
	assert_string_equal(c->listen, "127.0.0.1:8787");
	assert_null(c->api_token_file);
	assert_int_equal(c->n_engines, 1);
	assert_string_equal(c->engines[0].host, "unix:///var/run/docker.sock");
	assert_int_equal(c->poll.settle_ms, 600000);
	assert_int_equal(c->log_level, 2);
	config_free(c);
	c = parse_ok("poll: { settle: 0s }\nprojects:\n - name: a\n   context: /x\n   image: r/a\n"
	             "   environments: { prod: {} }\n");
	assert_int_equal(c->poll.settle_ms, 0);
	assert_string_equal(c->projects[0].dockerfile, "Dockerfile");
	assert_int_equal(c->projects[0].max_age_ms, 7ULL * 86400000);
	assert_int_equal(c->projects[0].envs[0].check_timeout_ms, 600000);
	assert_int_equal(c->projects[0].outdated, 1); /* patch */
	assert_int_equal(c->poll.tags_ms, 6ULL * 3600000);
	config_free(c);
	c = parse_ok("poll: { tags: 1h }\nprojects:\n - name: a\n   context: /x\n   image: r/a\n"
	             "   outdated: major\n   environments: { prod: {} }\n");
	assert_int_equal(c->poll.tags_ms, 3600000);
	assert_int_equal(c->projects[0].outdated, 3);
	config_free(c);
	parse_bad("poll: { tags: 10s }\n",
	          "t.yaml:1:15: tags: 10s is out of range (60000 ms .. 604800000 ms)");
	parse_bad("projects:\n - name: a\n   context: /x\n   image: r/a\n   outdated: newest\n"
	          "   environments: { prod: {} }\n",
	          "t.yaml:5:14: outdated: 'newest' is not one of off, patch, minor, major");
	/* follow: per environment, off by default; major is not offered */
	c = parse_ok("projects:\n - name: a\n   context: /x\n   image: r/a\n"
	             "   environments: { test: { follow: minor }, prod: {} }\n");
	assert_int_equal(c->projects[0].envs[0].follow, 2);
	assert_int_equal(c->projects[0].envs[1].follow, 0);
	config_free(c);
	parse_bad("projects:\n - name: a\n   context: /x\n   image: r/a\n"
	          "   environments: { test: { follow: major } }\n",
	          "t.yaml:5:36: follow: 'major' is not one of off, patch, minor");
}

static void test_check_as_string(void **state)
{
	struct config *c = parse_ok("projects:\n - name: a\n   context: /x\n   image: r/a\n"
	                            "   environments: { test: { check: 'pytest -q' } }\n");

	(void)state;
	assert_string_equal(c->projects[0].envs[0].check[0], "/bin/sh");
	assert_string_equal(c->projects[0].envs[0].check[2], "pytest -q");
	config_free(c);
}

static void test_unknown_keys(void **state)
{
	(void)state;
	parse_bad("state_dri: /x\n", "t.yaml:1:1: unknown key 'state_dri' in configuration "
	                             "(did you mean 'state_dir'?)");
	parse_bad("poll:\n  base: 1m\n",
	          "t.yaml:2:3: unknown key 'base' in poll (did you mean 'bases'?)");
	parse_bad("registries:\n  - host: r\n    password: hunter2\n",
	          "t.yaml:3:5: unknown key 'password' in registry (did you mean "
	          "'password_file'?)");
	parse_bad("frobnicate: 1\n", "t.yaml:1:1: unknown key 'frobnicate' in configuration");
}

static void test_bad_values(void **state)
{
	(void)state;
	parse_bad("poll: { bases: 15 }\n", "t.yaml:1:16: bases: invalid duration '15' (use e.g. "
	                                   "90s, 15m, 1h30m, 7d)");
	parse_bad("poll: { bases: 500ms }\n",
	          "t.yaml:1:16: bases: 500ms is out of range (1000 ms .. 86400000 ms)");
	parse_bad("poll: { jitter: 80% }\n", "t.yaml:1:17: jitter: 80 is out of range (0..50)");
	parse_bad("poll: { jitter: lots }\n",
	          "t.yaml:1:17: jitter: 'lots' is not a percentage like 10%");
	parse_bad("engines:\n  - host: unix:///s\n    max_builds: two\n",
	          "t.yaml:3:17: max_builds: 'two' is not an integer");
	parse_bad("engines:\n  - host: unix:///s\n    max_builds: 0\n",
	          "t.yaml:3:17: max_builds: 0 is out of range (1..64)");
	parse_bad("engines:\n  - host: docker.sock\n",
	          "t.yaml:2:11: host: 'docker.sock' must start with unix://, tcp:// or ssh://");
	parse_bad("engines:\n  - host: ssh://build2:2222\n",
	          "t.yaml:2:11: host: ssh:// needs user@host");
	parse_bad("engines:\n  - host: ssh://refit@build2/a:b\n",
	          "t.yaml:2:11: host: ssh://: the remote socket path must be absolute, shorter "
	          "than 108 bytes, without spaces, ':' or '%'");
	parse_bad("engines:\n  - host: ssh://refit@build2\n    ssh_key: '~/.ssh/id'\n",
	          "t.yaml:3:14: ssh_key: no spaces, quotes, '%', or a leading '~' or '-'");
	parse_bad("engines:\n  - host: unix:///s\n    ssh_key: k\n",
	          "t.yaml:3:14: engine: ssh_key and ssh_known_hosts are for ssh:// engines");
	parse_bad("engines:\n  - { host: 'ssh://u@h', tls_ca: ca.pem }\n",
	          "t.yaml:2:5: engine: tls_* are for tcp:// engines, not ssh://");
	parse_bad("log_level: loud\n",
	          "t.yaml:1:12: log_level: 'loud' is not one of error, warning, info, debug");
	parse_bad("registries:\n  - host: r\n    insecure: maybe\n",
	          "t.yaml:3:15: insecure: 'maybe' is not a boolean (true or false)");
	parse_bad("listen: localhost\n", "t.yaml:1:9: listen: 'localhost' must be host:port, "
	                                 "[ipv6]:port, unix:/path or systemd");
	parse_bad("feeds:\n  - { name: x, type: rss, url: https://x }\n",
	          "t.yaml:2:22: type: 'rss' is not one of osv, alpine-secdb, debian-tracker");
	parse_bad("feeds:\n  - { name: x, type: osv, url: ftp://x }\n",
	          "t.yaml:2:32: url: 'ftp://x' must be https://, http:// or file://");
	parse_bad("notify:\n  - { webhook: https://h, events: [built, pushd] }\n",
	          "t.yaml:2:35: events: unknown event 'pushd' (built, pushed, promoted, failed, "
	          "recovered, outdated, advisory)");
	parse_bad("notify:\n  - { webhook: hooks.example }\n",
	          "t.yaml:2:16: webhook: must be an https:// or http:// URL");
	parse_bad("state_dir: ''\n", "t.yaml:1:12: state_dir: must not be empty");
}

static void test_wrong_types(void **state)
{
	(void)state;
	parse_bad("engines: unix:///x\n", "t.yaml:1:10: engines: expected a list");
	parse_bad("state_dir: [a, b]\n",
	          "t.yaml:1:12: state_dir: expected a single value, not a list");
	parse_bad("poll: 5m\n", "t.yaml:1:7: poll: expected a mapping of settings");
	parse_bad("- a\n- b\n", "t.yaml:1:1: configuration: expected a mapping of settings");
}

static void test_projects(void **state)
{
	(void)state;
	parse_bad("projects:\n  - name: a\n    image: r/a\n    environments: { p: {} }\n",
	          "t.yaml:2:5: project: missing required key 'context'");
	parse_bad("projects:\n  - name: a\n    context: /x\n    image: r/a\n"
	          "    environments:\n      prod: { requires: test }\n      test: {}\n",
	          "t.yaml:6:7: environment 'prod' requires 'test', which is not declared "
	          "before it");
	parse_bad("projects:\n  - name: a\n    context: /x\n    image: r/a\n"
	          "    environments:\n      prod: { requires: tset }\n",
	          "t.yaml:6:7: environment 'prod' requires 'tset', which is not defined");
	parse_bad("projects:\n  - name: Big Name\n    context: /x\n    image: r/a\n"
	          "    environments: { prod: {} }\n",
	          "t.yaml:2:11: name: 'Big Name' must be 1-64 characters of a-z 0-9 . _ -");
	parse_bad("projects:\n  - {name: a, context: /x, image: r, environments: {p: {}}}\n"
	          "  - {name: a, context: /y, image: r, environments: {p: {}}}\n",
	          "t.yaml:2:3: project 'a' is defined twice");
	parse_bad("projects:\n  - {name: a, context: /x, image: r, environments: {Prod: {}}}\n",
	          "t.yaml:2:59: environment 'Prod': names are 1-32 characters of a-z 0-9 _ -");
	parse_bad("engines:\n  - host: unix:///s\n    host: unix:///t\n",
	          "t.yaml:3:5: duplicate key 'host'");
}

/* requires: evidence (alone or beside an environment), the project-wide default, and the
 * signing key it needs. */
static void test_requires_evidence(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("signing: { key_file: /etc/refit/signing.key }\n"
	             "projects:\n  - name: a\n    context: /x\n    image: r/a\n"
	             "    environments:\n      test: { requires: evidence }\n"
	             "      prod: { requires: \"test, evidence\" }\n      rnd: {}\n"
	             "  - {name: b, context: /x, image: r/b, requires_evidence: true,\n"
	             "     environments: {p: {}}}\n");
	assert_string_equal(c->signing.key_file, "/etc/refit/signing.key");
	assert_true(c->projects[0].envs[0].requires_evidence);
	assert_null(c->projects[0].envs[0].requires);
	assert_true(c->projects[0].envs[1].requires_evidence);
	assert_string_equal(c->projects[0].envs[1].requires, "test");
	assert_false(c->projects[0].envs[2].requires_evidence);
	assert_true(c->projects[1].envs[0].requires_evidence);
	config_free(c);
	c = parse_ok("projects:\n  - {name: a, context: /x, image: r, environments: {p: {}}}\n");
	assert_null(c->signing.key_file);
	config_free(c);
	parse_bad("projects:\n  - name: a\n    context: /x\n    image: r/a\n"
	          "    environments:\n      prod: { requires: evidence }\n",
	          "t.yaml:2:3: project 'a': environment 'prod' requires evidence, which needs "
	          "signing: { key_file: ... }");
	parse_bad("signing: { key_file: /k }\nprojects:\n  - name: a\n    context: /x\n"
	          "    image: r/a\n    environments:\n      t: {}\n      u: {}\n"
	          "      prod: { requires: \"t, u\" }\n",
	          "t.yaml:7:7: environment 'prod': requires names one environment (and/or "
	          "evidence), not 't, u'");
	parse_bad("signing: { key: /k }\n", "t.yaml:1:12: unknown key 'key' in signing");
}

static void test_yaml_syntax(void **state)
{
	(void)state;
	parse_bad("poll: { bases: 15m\n", "t.yaml:2:1: YAML syntax error: did not find expected "
	                                  "',' or '}' while parsing a flow mapping");
	parse_bad("a: b\n c: d\n",
	          "t.yaml:2:3: YAML syntax error: mapping values are not allowed in this context");
}

/* Nested aliases must not expand exponentially. */
static void test_alias_bomb(void **state)
{
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
	struct config_errors errs = {0};
	struct config *c = NULL;

	(void)state;
	assert_int_equal(config_parse("t.yaml", bomb, strlen(bomb), &c, &errs), -EINVAL);
	config_errors_done(&errs);
	bomb = "notify:\n  - &n { webhook: https://h/x, events: [built] }\n  - *n\n";
	c = parse_ok(bomb);
	assert_int_equal(c->n_notify, 2);
	config_free(c);
}

static void test_durations_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_duration("90s", &v), 0);
	assert_int_equal(v, 90000);
	assert_int_equal(config_parse_duration("1h30m", &v), 0);
	assert_int_equal(v, 5400000);
	assert_int_equal(config_parse_duration("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(config_parse_duration("2w", &v), 0);
	assert_int_equal(v, 14ULL * 86400000);
	v = 7;
	assert_int_equal(config_parse_duration("0", &v), 0); /* retention: 0 keeps all */
	assert_int_equal(v, 0);
	assert_int_equal(config_parse_duration("00", &v), -EINVAL);
	assert_int_equal(config_parse_duration("15", &v), -EINVAL);
	assert_int_equal(config_parse_duration("m", &v), -EINVAL);
	assert_int_equal(config_parse_duration("5 m", &v), -EINVAL);
	assert_int_equal(config_parse_duration("5min", &v), -EINVAL);
	assert_int_equal(config_parse_duration("", &v), -EINVAL);
	assert_int_equal(config_parse_duration("99999999999s", &v), -ERANGE);
	assert_int_equal(config_parse_size("50MB", &v), 0);
	assert_int_equal(v, 50000000);
	assert_int_equal(config_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(config_parse_size("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(config_parse_size("12 parsecs", &v), -EINVAL);
}

static void test_load_file(void **state)
{
	struct config_errors errs = {0};
	struct config *c = NULL;

	(void)state;
	assert_int_equal(config_load("config/refit.yaml", &c, &errs), 0);
	assert_int_equal(errs.n, 0);
	config_free(c);
	assert_true(config_load("/nonexistent/refit.yaml", &c, &errs) < 0);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.lines[0],
	                    "/nonexistent/refit.yaml:1:1: cannot open: No such file or directory");
	config_errors_done(&errs);
}

/* A project whose image, context or Dockerfile path is wrong fails to load. */
static void test_project_paths(void **state)
{
	static const char head[] = "projects:\n  - name: a\n    context: ";
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "%s/srv/a\n    image: reg.test/ds/Root-Img\n", head);
	parse_bad(text, "t.yaml:4:12: image: 'reg.test/ds/Root-Img' is not a valid image "
	                "reference: repository name must be lowercase");
	snprintf(text, sizeof(text), "%s/srv/a\n    image: reg.test/ds/a:1.0\n", head);
	parse_bad(text, "t.yaml:4:12: image: 'reg.test/ds/a:1.0' names a tag; give the "
	                "repository alone, refit tags it per environment");
	snprintf(text, sizeof(text), "%ssrv/a\n    image: reg.test/ds/a\n", head);
	parse_bad(text, "t.yaml:3:14: context: 'srv/a' must be an absolute path");
	snprintf(text, sizeof(text),
	         "%s/srv/a\n    dockerfile: ../Dockerfile\n    image: reg.test/ds/a\n", head);
	parse_bad(text, "t.yaml:4:17: dockerfile: '../Dockerfile' must be a path inside the "
	                "context");
}

static char tmpdir[64];

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loads text (written as tmpdir/refit.yaml) with the file checks; the load succeeds. */
static void load_checked(const char *text, struct config_errors *errs)
{
	char path[128];
	struct config *c = NULL;

	write_file(tmpdir, "refit.yaml", text);
	snprintf(path, sizeof(path), "%s/refit.yaml", tmpdir);
	int r = config_load_checked(path, &c, errs);

	for (size_t i = 0; i < errs->n; i++)
		print_message("unexpected: %s\n", errs->lines[i]);
	assert_int_equal(r, 0);
	config_free(c);
}

static bool has_line(char **lines, size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], want))
			return true;
	for (size_t i = 0; i < n; i++)
		print_message("got: %s\n", lines[i]);
	return false;
}

static void test_files_checked(void **state)
{
	struct config_errors errs = {0};
	char text[1024], ctx[128], secret[128];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/refit-test-config.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(ctx, sizeof(ctx), "%s/ctx", tmpdir);
	assert_int_equal(mkdir(ctx, 0755), 0);
	write_file(ctx, "Dockerfile",
	           "FROM busybox AS base\nARG PY=3.11\nFROM base AS runtime\nRUN true\n");
	snprintf(secret, sizeof(secret), "%s/nosuch-secret", tmpdir);
	snprintf(text, sizeof(text),
	         "projects:\n"
	         "  - name: a\n"
	         "    context: %s\n"
	         "    image: reg.test/ds/a\n"
	         "    secrets: { pip: %s }\n"
	         "    environments:\n"
	         "      test: { target: runtim, build_args: { PY: '3.12', EXTRA: x } }\n"
	         "      prod: { target: runtime }\n"
	         "  - name: b\n"
	         "    context: %s/missing\n"
	         "    image: reg.test/ds/b\n"
	         "    environments: { test: {} }\n"
	         "  - name: c\n"
	         "    context: %s\n"
	         "    dockerfile: Dockerfile.gpu\n"
	         "    image: reg.test/ds/c\n"
	         "    environments: { test: {} }\n",
	         ctx, secret, tmpdir, ctx);
	load_checked(text, &errs);
	assert_true(has_line(errs.problems, errs.n_problems,
	                     ":7:23: target: no stage 'runtim' (did you mean 'runtime'? stages: "
	                     "base, runtime)"));
	assert_true(has_line(errs.problems, errs.n_problems, ":5:21: secrets: "));
	assert_true(has_line(errs.problems, errs.n_problems,
	                     ":10:14: context: /tmp/refit-test-config."));
	assert_true(has_line(errs.problems, errs.n_problems, "No such file or directory"));
	assert_true(has_line(errs.problems, errs.n_problems, ":15:17: dockerfile: "));
	assert_true(has_line(errs.warnings, errs.n_warnings,
	                     ":7:43: warning: build_args: EXTRA is not declared"));
	assert_int_equal(errs.n_problems, 4);
	assert_int_equal(errs.n_warnings, 1);
	assert_int_equal(errs.n, 0);
	config_errors_done(&errs);

	/* config_load (refitctl's) looks at no file */
	{
		struct config *c = NULL;
		char path[128];
		snprintf(path, sizeof(path), "%s/refit.yaml", tmpdir);
		assert_int_equal(config_load(path, &c, &errs), 0);
		assert_int_equal(errs.n_problems + errs.n_warnings, 0);
		config_free(c);
	}
	write_file(ctx, "Dockerfile", "FROM busybox\nCOPY onlyone\n");
	snprintf(text, sizeof(text),
	         "projects:\n  - name: a\n    context: %s\n    image: reg.test/ds/a\n"
	         "    environments: { test: {} }\n",
	         ctx);
	load_checked(text, &errs);
	assert_int_equal(errs.n_problems, 1);
	assert_true(has_line(errs.problems, 1, "/ctx/Dockerfile:2: COPY requires at least two"));
	config_errors_done(&errs);
	snprintf(text, sizeof(text), "rm -rf %s", tmpdir);
	assert_int_equal(system(text), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_design_example),  cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_check_as_string), cmocka_unit_test(test_unknown_keys),
	        cmocka_unit_test(test_bad_values),      cmocka_unit_test(test_wrong_types),
	        cmocka_unit_test(test_projects),        cmocka_unit_test(test_yaml_syntax),
	        cmocka_unit_test(test_alias_bomb),      cmocka_unit_test(test_durations_sizes),
	        cmocka_unit_test(test_load_file),       cmocka_unit_test(test_project_paths),
	        cmocka_unit_test(test_files_checked),   cmocka_unit_test(test_requires_evidence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
