/*
 * pins: where a context pins a package, per format, on the files in
 * tests/fixtures/pins (ORIGIN.md there) and on real Dockerfiles of
 * tests/fixtures/dockerfile/real-world; then which pin holds an installed
 * version against a fix.
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

#include "pins.h"
#include "testutil.h"

#define FIX "tests/fixtures/pins/"

/* The pins of p, one "file:line:col eco op name version" line each. */
static char *dump(const struct pins *p)
{
	static const char *const eco[] = {"pypi", "deb", "apk"};
	size_t cap = 64 + p->n * 512, at = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		const struct pin *x = &p->v[i];
		at += (size_t)snprintf(out + at, cap - at, "%s:%d:%d %s %s %s %s\n", x->file,
		                       x->line, x->col, eco[x->eco],
		                       x->op == PINS_EXACT ? "==" : "~=", x->name, x->version);
	}
	return out;
}

static void parse_file(const char *path, enum pins_format f, const struct pins_opts *o,
                       struct pins *p)
{
	size_t len;
	char *text = test_read_file(path, &len), err[256] = "";
	const char *slash = strrchr(path, '/');
	int r = pins_parse(f, slash ? slash + 1 : path, text, len, o, p, err, sizeof(err));

	if (r < 0)
		fail_msg("%s: %s (%d)", path, err, r);
	free(text);
}

static void expect(const char *path, enum pins_format f, const struct pins_opts *o,
                   const char *want)
{
	struct pins p = {0};
	char *got;

	parse_file(path, f, o, &p);
	got = dump(&p);
	if (strcmp(got, want))
		fail_msg("%s:\n--- got\n%s--- want\n%s", path, got, want);
	free(got);
	pins_done(&p);
}

static void test_requirements(void **state)
{
	struct pins p = {0};

	(void)state;
	expect(FIX "requirements.txt", PINS_REQUIREMENTS, NULL,
	       "requirements.txt:11:1 pypi == certifi 2023.7.22\n"
	       "requirements.txt:15:1 pypi == charset-normalizer 3.2.0\n"
	       "requirements.txt:18:1 pypi == flask-cors 3.0.9\n"
	       "requirements.txt:19:1 pypi == numpy 1.24.4\n"
	       "requirements.txt:20:1 pypi ~= pandas 2.0.3\n"
	       "requirements.txt:23:1 pypi == urllib3 1.26.5\n"
	       "requirements.txt:24:1 pypi == idna 3.4\n"
	       "requirements.txt:28:1 pypi == ruamel-yaml 0.17.21\n");
	parse_file(FIX "requirements.txt", PINS_REQUIREMENTS, NULL, &p);
	assert_int_equal(p.n_inc, 2);
	assert_string_equal(p.inc[0].path, "requirements/base.txt");
	assert_int_equal(p.inc[0].line, 7);
	assert_false(p.inc[0].constraint);
	assert_string_equal(p.inc[1].path, "constraints.txt");
	assert_true(p.inc[1].constraint);
	pins_done(&p);
	expect(FIX "requirements/base.txt", PINS_REQUIREMENTS, NULL,
	       "base.txt:2:1 pypi == requests 2.25.0\n"
	       "base.txt:3:1 pypi == pyyaml 5.3.1\n");
	expect(FIX "constraints.txt", PINS_REQUIREMENTS, NULL,
	       "constraints.txt:3:1 pypi == jinja2 2.11.2\n");
}

/* Continuations, CRLF, -r forms, a name on a continued line. */
static void test_requirements_edges(void **state)
{
	static const char text[] = "-rother.txt\r\n"
	                           "--requirement=more.txt\n"
	                           "-c  cons.txt # why\n"
	                           "   \\\n"
	                           "  Foo.Bar_baz  ==  1.0.post1 \\\n"
	                           "   --hash=sha256:00\n"
	                           "#x==1\\\n"
	                           "y==2\n"
	                           "z==2#not-a-comment\n"
	                           "w == 3 # a comment\n"
	                           "v==1,!=1.5\n"
	                           "u>=1,==1.2\n"
	                           "t==1.0\\";
	struct pins p = {0};
	char err[128], *got;

	(void)state;
	assert_int_equal(pins_parse(PINS_REQUIREMENTS, "r.txt", text, sizeof(text) - 1, NULL, &p,
	                            err, sizeof(err)),
	                 0);
	got = dump(&p);
	assert_string_equal(got, "r.txt:5:3 pypi == foo-bar-baz 1.0.post1\n"
	                         "r.txt:8:1 pypi == y 2\n"
	                         "r.txt:10:1 pypi == w 3\n"
	                         "r.txt:11:1 pypi == v 1\n"
	                         "r.txt:12:1 pypi == u 1.2\n"
	                         "r.txt:13:1 pypi == t 1.0\n");
	free(got);
	assert_int_equal(p.n_inc, 3);
	assert_string_equal(p.inc[0].path, "other.txt");
	assert_string_equal(p.inc[1].path, "more.txt");
	assert_string_equal(p.inc[2].path, "cons.txt");
	pins_done(&p);
}

static void test_pyproject(void **state)
{
	(void)state;
	expect(FIX "pyproject.toml", PINS_PYPROJECT, NULL,
	       "pyproject.toml:14:6 pypi == requests 2.25.0\n"
	       "pyproject.toml:15:6 pypi ~= scikit-learn 1.3.0\n"
	       "pyproject.toml:17:6 pypi == pillow 9.5.0\n"
	       "pyproject.toml:21:14 pypi == jupyterlab 4.0.2\n"
	       "pyproject.toml:24:10 pypi == pytest 7.4.0\n"
	       "pyproject.toml:29:1 pypi == ruamel-yaml 0.17.21\n"
	       "pyproject.toml:30:1 pypi == urllib3 1.26.5\n"
	       "pyproject.toml:32:1 pypi == aiohttp 3.8.4\n"
	       "pyproject.toml:36:1 pypi == black 23.7.0\n");
}

static void test_pipfile(void **state)
{
	(void)state;
	expect(FIX "Pipfile", PINS_PIPFILE, NULL,
	       "Pipfile:7:1 pypi == requests 2.25.0\n"
	       "Pipfile:9:1 pypi == gunicorn 20.1.0\n"
	       "Pipfile:10:1 pypi ~= pandas 2.0.3\n"
	       "Pipfile:13:1 pypi == pytest 7.4.0\n");
	expect(FIX "Pipfile.lock", PINS_PIPFILE_LOCK, NULL,
	       "Pipfile.lock:19:9 pypi == certifi 2023.7.22\n"
	       "Pipfile.lock:26:9 pypi == requests 2.25.0\n"
	       "Pipfile.lock:39:9 pypi == certifi 2023.5.7\n"
	       "Pipfile.lock:43:9 pypi == pytest 7.4.0\n");
}

static void test_poetry_lock(void **state)
{
	(void)state;
	expect(FIX "poetry.lock", PINS_POETRY_LOCK, NULL,
	       "poetry.lock:5:1 pypi == certifi 2023.7.22\n"
	       "poetry.lock:16:1 pypi == requests 2.25.0\n");
}

static void test_dockerfile(void **state)
{
	const char *args[] = {"CURL_VERSION=7.88.1-10+deb12u7", NULL};
	struct pins_opts all = {NULL, NULL}, runtime = {args, "runtime"};

	(void)state;
	expect(FIX "Dockerfile", PINS_DOCKERFILE, &all,
	       "Dockerfile:11:9 deb == curl 7.88.1-10+deb12u5\n"
	       "Dockerfile:12:9 deb == libssl3 3.0.11-1~deb12u2\n"
	       "Dockerfile:12:36 deb == openssl 3.0.11-1~deb12u2\n"
	       "Dockerfile:13:10 deb == tzdata 2024a-0+deb12u1\n"
	       "Dockerfile:18:70 pypi == requests 2.25.0\n"
	       "Dockerfile:22:42 deb == libssl-dev 3.0.11-1~deb12u2\n"
	       "Dockerfile:23:38 pypi == six 1.16.0\n"
	       "Dockerfile:26:13 pypi == numpy 1.24.4\n"
	       "Dockerfile:30:24 apk == busybox-extras 1.36.1-r2\n");
	/* the runtime target needs base and runtime, not build or tools; a build arg wins */
	expect(FIX "Dockerfile", PINS_DOCKERFILE, &runtime,
	       "Dockerfile:11:9 deb == curl 7.88.1-10+deb12u7\n"
	       "Dockerfile:12:9 deb == libssl3 3.0.11-1~deb12u2\n"
	       "Dockerfile:12:36 deb == openssl 3.0.11-1~deb12u2\n"
	       "Dockerfile:13:10 deb == tzdata 2024a-0+deb12u1\n"
	       "Dockerfile:22:42 deb == libssl-dev 3.0.11-1~deb12u2\n"
	       "Dockerfile:23:38 pypi == six 1.16.0\n"
	       "Dockerfile:26:13 pypi == numpy 1.24.4\n");
}

/* Real Dockerfiles: ARG-built apt pins with bash substitutions; pip pins. */
static void test_dockerfile_real(void **state)
{
	struct pins_opts o = {NULL, NULL};

	(void)state;
	expect("tests/fixtures/dockerfile/real-world/tensorflow__gpu.Dockerfile", PINS_DOCKERFILE,
	       &o,
	       "tensorflow__gpu.Dockerfile:49:9 deb == libcudnn7 7.6.4.38-1+cuda10.1\n"
	       "tensorflow__gpu.Dockerfile:59:52 deb == libnvinfer6 6.0.1-1+cuda10.1\n"
	       "tensorflow__gpu.Dockerfile:60:9 deb == libnvinfer-plugin6 6.0.1-1+cuda10.1\n");
	expect("tests/fixtures/dockerfile/real-world/huggingface-tgi__Dockerfile_intel.Dockerfile",
	       PINS_DOCKERFILE, &o,
	       "huggingface-tgi__Dockerfile_intel.Dockerfile:102:17 pypi == torch 2.8.0\n"
	       "huggingface-tgi__Dockerfile_intel.Dockerfile:102:30 pypi == torchvision 0.23.0\n"
	       "huggingface-tgi__Dockerfile_intel.Dockerfile:183:17 pypi == torch 2.7.0\n"
	       "huggingface-tgi__Dockerfile_intel.Dockerfile:183:30 pypi == torchvision 0.22.0\n"
	       "huggingface-tgi__Dockerfile_intel.Dockerfile:183:50 pypi == torchaudio 2.7.0\n"
	       "huggingface-tgi__Dockerfile_intel.Dockerfile:184:17 pypi == triton 3.2.0\n");
}

static void test_holding(void **state)
{
	struct pins p = {0};

	(void)state;
	parse_file(FIX "requirements.txt", PINS_REQUIREMENTS, NULL, &p);
	parse_file(FIX "requirements/base.txt", PINS_REQUIREMENTS, NULL, &p);
	parse_file(FIX "Dockerfile", PINS_DOCKERFILE, NULL, &p);
	/* exact: the installed version is the pinned one (PEP 440 equality, PEP 503 names) */
	const struct pin *x = pins_holding(&p, PINS_PYPI, "Requests", "2.25.0", "2.31.0");
	assert_non_null(x);
	assert_string_equal(x->file, "base.txt");
	assert_int_equal(x->line, 2);
	assert_non_null(pins_holding(&p, PINS_PYPI, "requests", "2.25", "2.31.0"));
	assert_null(pins_holding(&p, PINS_PYPI, "requests", "2.26.0", "2.31.0"));
	assert_non_null(pins_holding(&p, PINS_PYPI, "flask_cors", "3.0.9", "3.0.10"));
	/* ~=2.0.3 allows 2.0.x: a fix inside it is a rebuild's to get, one outside is not */
	assert_null(pins_holding(&p, PINS_PYPI, "pandas", "2.0.3", "2.0.4"));
	assert_non_null(pins_holding(&p, PINS_PYPI, "pandas", "2.0.3", "2.1.0"));
	assert_null(pins_holding(&p, PINS_PYPI, "pandas", "2.0.3", NULL));
	/* dpkg equality, eco kept apart */
	assert_non_null(
	        pins_holding(&p, PINS_DEB, "libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1"));
	assert_null(pins_holding(&p, PINS_DEB, "libssl3", "3.0.13-1~deb12u1", NULL));
	assert_null(pins_holding(&p, PINS_PYPI, "libssl3", "3.0.11-1~deb12u2", NULL));
	assert_non_null(pins_holding(&p, PINS_APK, "busybox-extras", "1.36.1-r2", "1.36.1-r5"));
	assert_null(pins_holding(NULL, PINS_APK, "x", "1", "2"));
	pins_done(&p);
}

static void test_errors(void **state)
{
	struct pins p = {0};
	char err[128] = "";

	(void)state;
	assert_int_equal(pins_parse(PINS_PYPROJECT, "t", "[project]\ndependencies = [\"a==1\"\n",
	                            33, NULL, &p, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "3: expected , or ] in an array");
	assert_int_equal(p.n, 0); /* a failed file adds nothing */
	assert_int_equal(
	        pins_parse(PINS_PYPROJECT, "t", "a = \"x\n", 6, NULL, &p, err, sizeof(err)),
	        -EINVAL);
	assert_string_equal(err, "1: unterminated string");
	assert_int_equal(pins_parse(PINS_PIPFILE_LOCK, "t", "{\"default\": ", 12, NULL, &p, err,
	                            sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	        pins_parse(PINS_DOCKERFILE, "t", "FROM a\nFOO b\n", 13, NULL, &p, err, sizeof(err)),
	        -EINVAL);
	assert_int_equal(p.n, 0);
	pins_done(&p);
}

static void test_format_of(void **state)
{
	(void)state;
	assert_int_equal(pins_format_of("requirements.txt"), PINS_REQUIREMENTS);
	assert_int_equal(pins_format_of("requirements-dev.txt"), PINS_REQUIREMENTS);
	assert_int_equal(pins_format_of("dev-requirements.txt"), PINS_REQUIREMENTS);
	assert_int_equal(pins_format_of("constraints.txt"), PINS_REQUIREMENTS);
	assert_int_equal(pins_format_of("pyproject.toml"), PINS_PYPROJECT);
	assert_int_equal(pins_format_of("Pipfile"), PINS_PIPFILE);
	assert_int_equal(pins_format_of("Pipfile.lock"), PINS_PIPFILE_LOCK);
	assert_int_equal(pins_format_of("poetry.lock"), PINS_POETRY_LOCK);
	assert_int_equal(pins_format_of("requirements.in"), -1);
	assert_int_equal(pins_format_of(".requirements.txt"), -1);
	assert_int_equal(pins_format_of("setup.py"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_requirements),    cmocka_unit_test(test_requirements_edges),
	        cmocka_unit_test(test_pyproject),       cmocka_unit_test(test_pipfile),
	        cmocka_unit_test(test_poetry_lock),     cmocka_unit_test(test_dockerfile),
	        cmocka_unit_test(test_dockerfile_real), cmocka_unit_test(test_holding),
	        cmocka_unit_test(test_errors),          cmocka_unit_test(test_format_of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
