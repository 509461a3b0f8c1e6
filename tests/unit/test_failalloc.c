/*
 * failalloc: every allocation the pure parsers make, failed in turn (curl's
 * failure injection). The binary is linked with --wrap for malloc, calloc,
 * realloc, strdup, strndup and asprintf, so the calls made by refit's own
 * code (not those inside jansson or libyaml) come here; for N = 1, 2, ...
 * the Nth one fails and the parser must return an error or succeed, never
 * crash, and free what it built (LeakSanitizer checks at exit, under
 * `make check`'s ASan build). It stops when a run made fewer than N calls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "dockerfile.h"
#include "feed.h"
#include "ignore.h"
#include "lint.h"
#include "osv.h"
#include "pins.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **ret, const char *fmt, va_list ap);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **ret, const char *fmt, ...);
int __wrap_vasprintf(char **ret, const char *fmt, va_list ap);

static bool armed;
static unsigned long calls, fail_at;

/* True for the call that is to fail. */
static bool fails(void)
{
	return armed && ++calls == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fails() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **ret, const char *fmt, va_list ap)
{
	return fails() ? -1 : __real_vasprintf(ret, fmt, ap);
}

int __wrap_asprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __wrap_vasprintf(ret, fmt, ap);
	va_end(ap);
	return r;
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = __real_malloc(8 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (8 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

/*
 * Runs fn(arg) with the 1st, 2nd, ... allocation failing until a run makes fewer
 * allocations than the one to fail; returns how many runs that took.
 */
static unsigned long each_failure(int (*fn)(void *arg), void *arg)
{
	unsigned long n;

	for (n = 1;; n++) {
		int r;

		calls = 0;
		fail_at = n;
		armed = true;
		r = fn(arg);
		armed = false;
		if (calls < n) {
			assert_true(r >= 0); /* no allocation failed: it must have worked */
			break;
		}
	}
	armed = false;
	return n;
}

struct text {
	char *p;
	size_t len;
	const char *name;
};

static int run_config(void *arg)
{
	struct text *t = arg;
	struct config *c = NULL;
	struct config_errors errs = {0};
	int r = config_parse(t->name, t->p, t->len, &c, &errs);

	config_free(c);
	config_errors_done(&errs);
	return r;
}

static void noop_report(const struct lint_finding *f, void *arg)
{
	(void)f;
	(void)arg;
}

static int run_dockerfile(void *arg)
{
	struct text *t = arg;
	struct dockerfile *df = NULL;
	struct dockerfile_resolved *res = NULL;
	struct dockerfile_opts o = {0};
	char err[256];
	int r = dockerfile_parse(t->p, t->len, &df, err, sizeof(err));

	if (r == 0)
		r = dockerfile_resolve(df, &o, &res, err, sizeof(err));
	if (r == 0)
		r = lint_dockerfile(df, DOCKERFILE_BUILDKIT_0_8, noop_report, NULL);
	dockerfile_resolved_free(res);
	dockerfile_free(df);
	return r;
}

static int run_pins(void *arg)
{
	struct text *t = arg;
	struct pins p = {0};
	char err[256];
	int r = pins_parse(PINS_REQUIREMENTS, t->name, t->p, t->len, NULL, &p, err, sizeof(err));

	pins_done(&p);
	return r;
}

static int count_row(const struct feed_row *row, void *arg)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

static int run_osv(void *arg)
{
	struct text *t = arg;
	char err[256];
	int n = 0;

	return osv_parse(t->p, t->len, count_row, &n, err, sizeof(err));
}

static int run_ignore(void *arg)
{
	struct text *t = arg;
	struct ignore *ig = NULL;
	char err[256];
	int r = ignore_parse(t->p, t->len, &ig, err, sizeof(err));

	ignore_free(ig);
	return r;
}

/* Each parser on a real input: it ends, whichever allocation fails. */
static void test_parsers(void **state)
{
	static const struct {
		const char *path;
		int (*fn)(void *arg);
	} cases[] = {
	        {"config/refit.yaml", run_config},
	        {"tests/fixtures/dockerfile/real-world/huggingface-tgi__Dockerfile.Dockerfile",
	         run_dockerfile},
	        {"tests/fixtures/dockerfile/real-world/"
	         "docker-library-python__3.14_bookworm.Dockerfile",
	         run_dockerfile},
	        {"tests/fixtures/pins/requirements.txt", run_pins},
	        {"tests/fixtures/feeds/osv/debian/DLA-3008-1.json", run_osv},
	};
	static char config[] =
	        "state_dir: /var/lib/refit\nlisten: 127.0.0.1:8787\nretention: 30d\n"
	        "engines:\n  - { host: unix:///run/docker.sock, max_builds: 2 }\n"
	        "  - { host: tcp://10.0.0.2:2376, tls_ca: /c/ca.pem, tls_cert: /c/c.pem,"
	        " tls_key: /c/k.pem }\n"
	        "registries:\n  - { host: registry.example.com, username_file: u,"
	        " password_file: p }\n  - { host: localhost:5000, insecure: true }\n"
	        "feeds:\n  - { name: osv, type: osv, url: https://osv.example.com }\n"
	        "notify:\n  - { webhook: https://hooks.example.com/x, events: [built, failed],"
	        " headers: { X-Team: ds } }\n"
	        "projects:\n"
	        "  - name: churn\n    context: /srv/churn\n    image: "
	        "registry.example.com/ds/churn\n"
	        "    secrets: { pipconf: pip.conf }\n    network: none\n"
	        "    environments:\n"
	        "      test: { target: test, build_args: { PY: '3.11', EXTRAS: dev } }\n"
	        "      prod: { target: runtime, requires: test, window: 'Mon-Fri 02:00-05:00 UTC' "
	        "}\n"
	        "      rnd: {}\n"
	        "  - { name: forecast, context: /srv/forecast, image: localhost:5000/forecast,"
	        " environments: { prod: {} } }\n";
	struct text cf = {config, sizeof(config) - 1, "inline.yaml"};
	static char dockerignore[] = "# data science context\n.git\n**/__pycache__\n*.py[cod]\n"
	                             "data/**/*.parquet\n!data/sample/*.parquet\n"
	                             "notebooks/.ipynb_checkpoints\n[a-c]?/x\n";
	struct text ig = {dockerignore, sizeof(dockerignore) - 1, ".dockerignore"};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct text t = {NULL, 0, cases[i].path};
		unsigned long runs;

		t.p = slurp(cases[i].path, &t.len);
		runs = each_failure(cases[i].fn, &t);
		print_message("%-80s %lu allocations failed in turn\n", cases[i].path, runs - 1);
		assert_true(runs > 1); /* it allocates: the wrapping reached it */
		free(t.p);
	}
	assert_true(each_failure(run_ignore, &ig) > 1);
	print_message("%-80s %lu allocations failed in turn\n", "inline.yaml (2 projects)",
	              each_failure(run_config, &cf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
