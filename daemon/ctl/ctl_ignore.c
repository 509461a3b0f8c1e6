/*
 * refitctl ignore CONTEXT_DIR [--dockerfile PATH] — the files (not directories)
 * a build of CONTEXT_DIR would send, honouring .dockerignore (or the
 * Dockerfile's own PATH.dockerignore): relative paths, sorted bytewise, one per
 * line. PATH is relative to CONTEXT_DIR, as refit.yaml's `dockerfile:` is, or
 * absolute; like `docker build -f`, a PATH that does not exist is an error.
 */
#include "ctl.h"
#include "array.h"
#include "ignore.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILES_MAX (16u << 20) /* paths listed at most */

struct file_list {
	char **v;
	size_t n, cap;
};

struct args {
	const char *dir, *dockerfile;
};

static int collect_cb(const char *relpath, void *arg)
{
	struct file_list *l = arg;

	int r = ARRAY_GROW(l->v, l->cap, l->n, FILES_MAX);

	if (r < 0)
		return r == -E2BIG ? -EFBIG : r;
	l->v[l->n] = strdup(relpath);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: refitctl ignore CONTEXT_DIR [--dockerfile PATH]\n"
	           "Lists the files a build of CONTEXT_DIR sends, one per line, sorted.\n"
	           "PATH (default Dockerfile) is relative to CONTEXT_DIR, or absolute; it and\n"
	           ".dockerignore are always sent. PATH.dockerignore, when present, is used\n"
	           "instead of CONTEXT_DIR/.dockerignore.\n");
}

/* 0: run, 1: help asked, -1: usage error (already reported). */
static int parse_args(int argc, char **argv, struct args *a)
{
	bool options = true;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (options && (!strcmp(s, "-h") || !strcmp(s, "--help")))
			return 1;
		if (options && !strcmp(s, "--")) {
			options = false;
		} else if (options && !strcmp(s, "--dockerfile") && i + 1 < argc) {
			a->dockerfile = argv[++i];
		} else if (options && !strncmp(s, "--dockerfile=", 13)) {
			a->dockerfile = s + 13;
		} else if (options && s[0] == '-' && s[1]) {
			fprintf(stderr, "refitctl ignore: unknown or incomplete option '%s'\n", s);
			return -1;
		} else if (!a->dir) {
			a->dir = s;
		} else {
			fprintf(stderr, "refitctl ignore: unexpected argument '%s'\n", s);
			return -1;
		}
	}
	if (!a->dir || !*a->dir || (a->dockerfile && !*a->dockerfile)) {
		fprintf(stderr, "refitctl ignore: %s\n",
		        a->dir && *a->dir ? "empty --dockerfile" : "CONTEXT_DIR missing");
		return -1;
	}
	return 0;
}

/* An absolute PATH inside the context becomes relative to it; one outside
 * stays as is (its PATH.dockerignore still applies, nothing is forced). */
static int relative_to_context(const char *dir, const char *path, char *out, size_t size)
{
	char rdir[PATH_MAX], tmp[PATH_MAX], parent[PATH_MAX], *slash;
	size_t n;

	if (!realpath(dir, rdir) || strlen(path) >= sizeof(tmp))
		return snprintf(out, size, "%s", path) < (int)size ? 0 : -ENAMETOOLONG;
	strcpy(tmp, path);
	slash = strrchr(tmp, '/');
	*slash = '\0';
	if (!realpath(slash == tmp ? "/" : tmp, parent))
		return -errno;
	n = strlen(rdir);
	if (!strncmp(parent, rdir, n) && (parent[n] == '/' || parent[n] == '\0') &&
	    strcmp(rdir, "/")) {
		const char *rest = parent[n] ? parent + n + 1 : "";

		return snprintf(out, size, "%s%s%s", rest, *rest ? "/" : "", slash + 1) < (int)size
		               ? 0
		               : -ENAMETOOLONG;
	}
	return snprintf(out, size, "%s", path) < (int)size ? 0 : -ENAMETOOLONG;
}

/* The --dockerfile argument as ignore_walk takes it, checked to exist. */
static int resolve_dockerfile(const char *dir, const char *path, char *out, size_t size)
{
	char full[PATH_MAX];
	struct stat st;
	int r;

	if (path[0] == '/') {
		if (lstat(path, &st) < 0) {
			fprintf(stderr, "refitctl ignore: %s: %s\n", path, strerror(errno));
			return -errno;
		}
		r = relative_to_context(dir, path, out, size);
		if (r < 0)
			fprintf(stderr, "refitctl ignore: %s: %s\n", path, strerror(-r));
		return r;
	}
	if (snprintf(full, sizeof(full), "%s/%s", dir, path) >= (int)sizeof(full) ||
	    snprintf(out, size, "%s", path) >= (int)size) {
		fprintf(stderr, "refitctl ignore: %s: %s\n", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (lstat(full, &st) < 0) {
		r = -errno;
		fprintf(stderr,
		        "refitctl ignore: %s: %s (--dockerfile is relative to CONTEXT_DIR)\n", full,
		        strerror(-r));
		return r;
	}
	return 0;
}

static int print_sorted(struct file_list *l)
{
	qsort(l->v, l->n, sizeof(*l->v), cmp_str);
	for (size_t i = 0; i < l->n; i++)
		if (fputs(l->v[i], stdout) == EOF || putchar('\n') == EOF)
			break;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "refitctl ignore: writing the list: %s\n", strerror(errno));
		return -EIO;
	}
	return 0;
}

int ctl_ignore(int argc, char **argv)
{
	struct args a = {NULL, NULL};
	struct file_list l = {NULL, 0, 0};
	char df[PATH_MAX], err[1024] = "";
	int r = parse_args(argc, argv, &a), rc = CTL_FAIL;

	if (r != 0) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? CTL_OK : CTL_USAGE;
	}
	if (a.dockerfile && resolve_dockerfile(a.dir, a.dockerfile, df, sizeof(df)) < 0)
		return CTL_FAIL;
	r = ignore_walk(a.dir, a.dockerfile ? df : NULL, collect_cb, &l, err, sizeof(err));
	if (r < 0) {
		if (err[0])
			fprintf(stderr, "%s\n", err);
		else
			fprintf(stderr, "refitctl ignore: %s: %s\n", a.dir, strerror(-r));
	} else if (print_sorted(&l) == 0) {
		rc = CTL_OK;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}
