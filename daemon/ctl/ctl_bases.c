/*
 * refitctl bases — the external images a Dockerfile builds FROM.
 *
 * Plain output: the FROM images of the stages the target needs, after
 * substitution, de-duplicated, in order of first appearance, one per line,
 * exactly as written (no normalisation). COPY --from / RUN --mount from=
 * images are dependencies too but listed only in --json, separately.
 */
#include "ctl.h"
#include "dfsyntax.h"
#include "dockerfile.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bases_args {
	const char *file, *target, *platform;
	const char **build_args; /* NULL-terminated */
	size_t n_build_args;
	bool json;
};

/* Prints a module error "line N: reason" as "FILE:N: reason". */
static void print_error(const char *file, const char *err)
{
	int line = 0, off = 0;

	if (sscanf(err, "line %d: %n", &line, &off) == 1 && off > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, err + off);
	else
		fprintf(stderr, "%s: %s\n", file, err);
}

static int usage(void)
{
	fprintf(stderr, "usage: refitctl bases DOCKERFILE [--build-arg K=V]... [--target T] "
	                "[--platform P] [--json]\n");
	return CTL_USAGE;
}

/* --opt VALUE or --opt=VALUE; NULL when argv[*i] is not --opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

/* "K" alone takes K's value from the environment, as docker build does. */
static int add_build_arg(struct bases_args *a, const char *v)
{
	char *kv = NULL;

	if (!strchr(v, '=')) {
		const char *env = getenv(v);
		if (!env)
			return 0;
		if (asprintf(&kv, "%s=%s", v, env) < 0)
			return -ENOMEM;
		v = kv;
	}
	if (a->n_build_args >= DOCKERFILE_MAX_ARGS)
		return -E2BIG;
	a->build_args[a->n_build_args++] = v; /* kv leaks until exit: a CLI */
	return 0;
}

static int parse_args(int argc, char **argv, struct bases_args *a)
{
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (!strcmp(argv[i], "--json"))
			a->json = true;
		else if ((v = opt_value(argc, argv, &i, "--build-arg", &missing))) {
			if (add_build_arg(a, v))
				return -EINVAL;
		} else if ((v = opt_value(argc, argv, &i, "--target", &missing)))
			a->target = v;
		else if ((v = opt_value(argc, argv, &i, "--platform", &missing)))
			a->platform = v;
		else if (missing || (argv[i][0] == '-' && argv[i][1]) || a->file)
			return -EINVAL;
		else
			a->file = argv[i];
	}
	return a->file ? 0 : -EINVAL;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *stages_json(const struct dockerfile_resolved *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < r->n_stages; i++) {
		const struct dockerfile_stage *st = &r->stages[i];
		json_array_append_new(
		        arr,
		        json_pack("{s:I, s:o, s:s, s:o, s:i, s:o, s:b, s:o, s:o}", "index",
		                  (json_int_t)i, "name", str_or_null(st->name), "base", st->base,
		                  "platform", str_or_null(st->platform), "line", st->line,
		                  "base_stage",
		                  st->base_stage >= 0 ? json_integer(st->base_stage) : json_null(),
		                  "needed", st->needed, "user", str_or_null(st->user), "user_line",
		                  st->user_line ? json_integer(st->user_line) : json_null()));
	}
	return arr;
}

static json_t *bases_json(const struct dockerfile_base *v, size_t n)
{
	static const char *const kinds[] = {"from", "copy", "mount"};
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:b}", "image",
		                                     v[i].image, "kind", kinds[v[i].kind], "line",
		                                     v[i].line, "stage", v[i].stage, "stage_name",
		                                     str_or_null(v[i].stage_name), "platform",
		                                     str_or_null(v[i].platform), "unset_variable",
		                                     v[i].unset));
	return arr;
}

static int print_json(const struct bases_args *a, const struct dockerfile *df,
                      const struct dockerfile_resolved *r)
{
	int bk_line = 0;
	const char *bk = dockerfile_needs_buildkit(df, &bk_line);
	json_t *o = json_pack(
	        "{s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "dockerfile", a->file, "target",
	        a->target ? str_or_null(r->stages[r->target].name) : json_null(), "target_index",
	        a->target ? json_integer((json_int_t)r->target) : json_null(), "platform",
	        a->platform ? a->platform : "linux/amd64", "syntax",
	        str_or_null(dockerfile_syntax(df)), "needs_buildkit",
	        bk ? json_pack("{s:s, s:i}", "reason", bk, "line", bk_line) : json_null(), "stages",
	        stages_json(r), "bases", bases_json(r->bases, r->n_bases), "dependencies",
	        bases_json(r->deps, r->n_deps));
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	if (!s) {
		fprintf(stderr, "refitctl: bases: out of memory\n");
		return CTL_FAIL;
	}
	printf("%s\n", s);
	free(s);
	return CTL_OK;
}

/* refitctl bases DOCKERFILE [--build-arg K=V]... [--target T] [--platform P] [--json] */
int ctl_bases(int argc, char **argv)
{
	const char *ba[DOCKERFILE_MAX_ARGS + 1] = {0};
	struct bases_args a = {.build_args = ba};
	struct dockerfile *df = NULL;
	struct dockerfile_resolved *r = NULL;
	char err[512] = "", *text = NULL;
	size_t len;
	int rc;

	if (parse_args(argc, argv, &a))
		return usage();
	if ((rc = ctl_read_dockerfile(a.file, &text, &len))) {
		fprintf(stderr, "%s: %s\n", a.file,
		        rc == -EFBIG ? "Dockerfile larger than 1 MiB" : strerror(-rc));
		return CTL_FAIL;
	}
	struct dockerfile_opts o = {.build_args = ba, .target = a.target, .platform = a.platform};
	rc = dockerfile_parse(text, len, &df, err, sizeof(err));
	if (!rc)
		rc = dockerfile_resolve(df, &o, &r, err, sizeof(err));
	if (rc) {
		print_error(a.file, err);
		rc = CTL_FAIL;
	} else if (a.json) {
		rc = print_json(&a, df, r);
	} else {
		for (size_t i = 0; i < r->n_bases; i++) {
			printf("%s\n", r->bases[i].image);
			if (r->bases[i].unset)
				fprintf(stderr,
				        "%s:%d: warning: %s: a variable in FROM has no value\n",
				        a.file, r->bases[i].line, r->bases[i].image);
		}
		rc = CTL_OK;
	}
	dockerfile_resolved_free(r);
	dockerfile_free(df);
	free(text);
	return rc;
}
