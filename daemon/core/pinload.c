#include "pinload.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileread.h"
#include "log.h"

#define MAX_DIR_ENTRIES 4096 /* entries of one directory looked at */
#define MAX_BUILD_ARGS  256

struct loader {
	const struct config_project *p;
	struct pins *out;
	char root[PATH_MAX]; /* the context, resolved */
	char *seen[PINLOAD_MAX_FILES];
	size_t n_seen;
	struct pins_opts opts;
};

/* Whether real (a resolved path) lies inside the context. */
static bool inside(const struct loader *l, const char *real)
{
	size_t n = strlen(l->root);

	return !strncmp(real, l->root, n) && (real[n] == '/' || real[n] == '\0');
}

static int load(struct loader *l, const char *rel, int format, int depth);

/* The -r/-c files of the file just parsed, relative to its directory. */
static int includes(struct loader *l, const char *rel, int depth)
{
	size_t n = l->out->n_inc;
	struct pins_include *inc = l->out->inc;
	const char *slash = strrchr(rel, '/');
	int r = 0;

	l->out->inc = NULL; /* the next parse replaces them */
	l->out->n_inc = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		char path[PATH_MAX];
		if (inc[i].path[0] == '/' || strstr(inc[i].path, "://"))
			continue; /* outside the context, or a URL: not ours to read */
		if ((size_t)snprintf(path, sizeof(path), "%.*s%s%s", slash ? (int)(slash - rel) : 0,
		                     rel, slash ? "/" : "", inc[i].path) < sizeof(path))
			r = load(l, path, PINS_REQUIREMENTS, depth + 1);
	}
	for (size_t i = 0; i < n; i++)
		free(inc[i].path);
	free(inc);
	return r;
}

/* One file, rel to the context: read (bounded), parsed, its includes followed. */
static int load(struct loader *l, const char *rel, int format, int depth)
{
	char abs[PATH_MAX], real[PATH_MAX], err[256];
	size_t len;
	char *text;
	int r;

	if (depth > PINLOAD_MAX_DEPTH || l->n_seen >= PINLOAD_MAX_FILES)
		return 0;
	if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", l->p->context, rel) >= sizeof(abs) ||
	    !realpath(rel[0] == '/' ? rel : abs, real) || (rel[0] != '/' && !inside(l, real)))
		return 0; /* an absolute Dockerfile is the configuration's; anything else stays in
		           */
	for (size_t i = 0; i < l->n_seen; i++)
		if (!strcmp(l->seen[i], real))
			return 0; /* read already (an include cycle, or listed twice) */
	if (!(l->seen[l->n_seen] = strdup(real)))
		return -ENOMEM;
	l->n_seen++;
	r = fileread_small(real, PINLOAD_MAX_BYTES, &text, &len, NULL);
	if (r < 0) {
		log_debug("project %s: pins: %s: %s", l->p->name, rel,
		          fileread_error(r, err, sizeof(err), PINLOAD_MAX_BYTES));
		return r == -ENOMEM ? r : 0;
	}
	r = pins_parse(format, rel, text, len, &l->opts, l->out, err, sizeof(err));
	free(text);
	if (r == -EINVAL || r == -E2BIG) {
		log_debug("project %s: pins: %s:%s", l->p->name, rel, err);
		return 0;
	}
	return r < 0 ? r : includes(l, rel, depth);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The pin files of directory dir (relative, "" for the context), sorted; only *.txt in a
 * requirements/ directory. */
static int scan_dir(struct loader *l, const char *dir, bool txt_only)
{
	char path[PATH_MAX], *names[MAX_DIR_ENTRIES];
	size_t n = 0, seen = 0;
	struct dirent *e;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", l->p->context, dir);
	if (!(d = opendir(path)))
		return 0;
	while ((e = readdir(d)) && seen++ < MAX_DIR_ENTRIES && n < MAX_DIR_ENTRIES) {
		size_t k = strlen(e->d_name);
		bool want = txt_only ? k > 4 && !strcmp(e->d_name + k - 4, ".txt") &&
		                               e->d_name[0] != '.'
		                     : pins_format_of(e->d_name) >= 0;
		if (want && !(names[n++] = strdup(e->d_name))) {
			n--;
			r = -ENOMEM;
			break;
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "%s%s%s", dir, dir[0] ? "/" : "", names[i]);
		if (r == 0)
			r = load(l, rel, txt_only ? PINS_REQUIREMENTS : pins_format_of(names[i]),
			         0);
		free(names[i]);
	}
	return r;
}

/* "K=V" strings of the environment's build args (NULL-terminated, malloc'd). */
static char **build_args(const struct config_env *e)
{
	size_t n = e ? e->n_build_args : 0;
	char **v;

	if (n > MAX_BUILD_ARGS)
		n = MAX_BUILD_ARGS;
	if (!(v = calloc(n + 1, sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct config_kv *kv = &e->build_args[i];
		size_t m = strlen(kv->key) + strlen(kv->value) + 2;
		if (!(v[i] = malloc(m)))
			break; /* the args so far, still NULL-terminated */
		snprintf(v[i], m, "%s=%s", kv->key, kv->value);
	}
	return v;
}

int pinload_env(const struct config_project *p, const struct config_env *e, struct pins *ret)
{
	struct loader l = {.p = p, .out = ret};
	char **args = build_args(e);
	int r = 0;

	if (!args)
		return -ENOMEM;
	l.opts = (struct pins_opts){(const char *const *)args, e ? e->target : NULL};
	if (!realpath(p->context, l.root)) {
		log_debug("project %s: pins: context %s: %s", p->name, p->context, strerror(errno));
		goto out;
	}
	r = load(&l, p->dockerfile, PINS_DOCKERFILE, 0);
	if (r == 0)
		r = scan_dir(&l, "", false);
	if (r == 0)
		r = scan_dir(&l, "requirements", true);
out:
	for (size_t i = 0; i < l.n_seen; i++)
		free(l.seen[i]);
	for (size_t i = 0; args[i]; i++)
		free(args[i]);
	free(args);
	return r;
}
