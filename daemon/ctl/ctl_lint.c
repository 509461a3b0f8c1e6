/*
 * refitctl lint — refit's Dockerfile rules (lint.h has the table) and, with
 * --context, the files .dockerignore lets into the build context.
 *
 * One finding per line, "FILE:LINE: RULE severity message"; a context file
 * is "DIR/PATH:0: ...". Exit 1 when any finding is an error, else 0.
 */
#include "ctl.h"
#include "dfsyntax.h"
#include "dockerfile.h"
#include "ignore.h"
#include "lint.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct lint_out {
	const char *file; /* the Dockerfile, or the context directory */
	size_t errors;
};

static int usage(void)
{
	fprintf(stderr, "usage: refitctl lint DOCKERFILE [--context DIR] "
	                "[--builder buildkit-0.8|buildkit|podman|classic]\n");
	return CTL_USAGE;
}

static void print_finding(const struct lint_finding *f, void *arg)
{
	struct lint_out *o = arg;

	if (f->path)
		printf("%s/%s:%d: %s %s %s\n", o->file, f->path, f->line, f->rule,
		       lint_severity_name(f->severity), f->message);
	else
		printf("%s:%d: %s %s %s\n", o->file, f->line, f->rule,
		       lint_severity_name(f->severity), f->message);
	o->errors += f->severity == LINT_ERROR;
}

static int context_entry(const char *relpath, const struct stat *st, void *arg)
{
	if (!S_ISDIR(st->st_mode))
		lint_context_file(arg, relpath, (uint64_t)st->st_size);
	return 0;
}

/* The Dockerfile's path relative to dir when it lies inside, else NULL. */
static const char *dockerfile_in(const char *dir, const char *file, char *buf, size_t size)
{
	char d[PATH_MAX], f[PATH_MAX];
	size_t n;

	if (!realpath(dir, d) || !realpath(file, f))
		return NULL;
	n = strlen(d);
	if (strncmp(f, d, n) || f[n] != '/' || strlen(f + n + 1) >= size)
		return NULL;
	return strcpy(buf, f + n + 1);
}

static int lint_context(const char *dir, const char *file, size_t *errors)
{
	struct lint_out o = {dir, 0};
	struct lint_context *lc = lint_context_new(print_finding, &o);
	char err[512] = "", rel[PATH_MAX];
	int rc;

	if (!lc)
		return -ENOMEM;
	rc = ignore_walk_entries(dir, dockerfile_in(dir, file, rel, sizeof(rel)), context_entry, lc,
	                         err, sizeof(err));
	lint_context_done(lc);
	if (rc)
		fprintf(stderr, "refitctl: lint: %s\n", err[0] ? err : strerror(-rc));
	*errors += o.errors;
	return rc;
}

static int parse_args(int argc, char **argv, const char **file, const char **context, int *builder)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--context") && i + 1 < argc)
			*context = argv[++i];
		else if (!strncmp(argv[i], "--context=", 10))
			*context = argv[i] + 10;
		else if (!strcmp(argv[i], "--builder") && i + 1 < argc)
			*builder = dockerfile_builder_of(argv[++i]);
		else if (!strncmp(argv[i], "--builder=", 10))
			*builder = dockerfile_builder_of(argv[i] + 10);
		else if ((argv[i][0] == '-' && argv[i][1]) || *file)
			return -EINVAL;
		else
			*file = argv[i];
	}
	return *file && *builder >= 0 ? 0 : -EINVAL;
}

/* refitctl lint DOCKERFILE [--context DIR] [--builder B]; B defaults to Debian 12's dockerd. */
int ctl_lint(int argc, char **argv)
{
	const char *file = NULL, *context = NULL;
	int builder = DOCKERFILE_BUILDKIT_0_8;
	struct dockerfile *df = NULL;
	char err[512] = "", *text = NULL;
	size_t len;
	int rc, line = 0, off = 0;

	if (parse_args(argc, argv, &file, &context, &builder))
		return usage();
	if ((rc = ctl_read_dockerfile(file, &text, &len))) {
		fprintf(stderr, "%s: %s\n", file,
		        rc == -EFBIG ? "Dockerfile larger than 1 MiB" : strerror(-rc));
		return CTL_FAIL;
	}
	struct lint_out o = {file, 0};
	if (dockerfile_parse(text, len, &df, err, sizeof(err))) {
		if (sscanf(err, "line %d: %n", &line, &off) != 1)
			off = 0;
		printf("%s:%d: RF000 error %s\n", file, line, err + off);
		o.errors++;
	} else if ((rc = lint_dockerfile(df, (enum dockerfile_builder)builder, print_finding, &o)) <
	           0) {
		fprintf(stderr, "refitctl: lint: %s\n", strerror(-rc));
		o.errors++;
	}
	if (context && lint_context(context, file, &o.errors))
		o.errors++;
	dockerfile_free(df);
	free(text);
	return o.errors ? CTL_FAIL : CTL_OK;
}
