#include "inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "dep5.h"
#include "engine_archive.h"
#include "engine_file.h"
#include "log.h"
#include "pkgdb.h"
#include "strmap.h"
#include "wallclock.h"

/* Bounds: the package databases and one METADATA file. */
#define MAX_DB         (64u << 20)
#define MAX_METADATA   (256u << 10)
#define MAX_PKGS       200000
#define MAX_OS_RELEASE (64u << 10)

/* Directories walked: the package databases, then where Python distributions live. */
static const char *const walk_paths[] = {"/etc",
                                         "/var/lib/dpkg",
                                         "/lib/apk/db",
                                         "/usr/local/lib",
                                         "/usr/lib/python3",
                                         "/usr/lib/python3.7",
                                         "/usr/lib/python3.8",
                                         "/usr/lib/python3.9",
                                         "/usr/lib/python3.10",
                                         "/usr/lib/python3.11",
                                         "/usr/lib/python3.12",
                                         "/usr/lib/python3.13",
                                         "/usr/lib/python3.14",
                                         "/opt",
                                         "/app",
                                         "/usr/share/doc",
                                         NULL};

struct inventory_job {
	uv_loop_t *loop;
	struct engine *e;
	char image[256];
	inventory_cb cb;
	void *arg;
	struct engine_archive *walk;
	struct engine_file *file;
	struct pkgdb_os os;
	char *dpkg, *apk, *debian_version; /* copies, parsed once the OS is known */
	char **lic_names, **lic_values;    /* dpkg packages' licences, from their copyright files */
	size_t n_lic, cap_lic, cap_lic_values;
	struct strmap lic; /* lic_names -> index */
	struct store_pkg *pkgs;
	size_t n, cap;
	char note[1024];
};

static void job_free(struct inventory_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free((char *)(uintptr_t)j->pkgs[i].name);
		free((char *)(uintptr_t)j->pkgs[i].version);
		free((char *)(uintptr_t)j->pkgs[i].source);
		free((char *)(uintptr_t)j->pkgs[i].source_version);
		free((char *)(uintptr_t)j->pkgs[i].arch);
		free((char *)(uintptr_t)j->pkgs[i].license);
	}
	free(j->pkgs);
	strmap_done(&j->lic);
	for (size_t i = 0; i < j->n_lic; i++) {
		free(j->lic_names[i]);
		free(j->lic_values[i]);
	}
	free(j->lic_names);
	free(j->lic_values);
	free(j->dpkg);
	free(j->apk);
	free(j->debian_version);
	free(j);
}

static void note(struct inventory_job *j, const char *what, const char *why)
{
	size_t n = strlen(j->note);

	snprintf(j->note + n, sizeof(j->note) - n, "%s%s: %s", n ? "; " : "", what, why);
}

/* Adds a package (ecosystem is a static string or the job's os.ecosystem). */
static int pkg_add(struct inventory_job *j, const char *eco, const struct pkgdb_pkg *p)
{
	struct store_pkg *x;
	int r = ARRAY_GROW(j->pkgs, j->cap, j->n, MAX_PKGS);

	if (r < 0)
		return r;
	x = &j->pkgs[j->n++];
	*x = (struct store_pkg){eco,
	                        strdup(p->name),
	                        strdup(p->version),
	                        strdup(p->source),
	                        strdup(p->source_version),
	                        p->arch ? strdup(p->arch) : NULL,
	                        p->license ? strdup(p->license) : NULL};
	return x->name && x->version && x->source && x->source_version && (x->arch || !p->arch) &&
	                       (x->license || !p->license)
	               ? 0
	               : -ENOMEM;
}

static bool have_pypi(const struct inventory_job *j, const char *name, const char *version)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->pkgs[i].ecosystem[0] == 'P' && !strcmp(j->pkgs[i].name, name) &&
		    !strcmp(j->pkgs[i].version, version))
			return true;
	return false;
}

static int os_pkg_cb(const struct pkgdb_pkg *p, void *arg)
{
	struct inventory_job *j = arg;
	struct pkgdb_pkg with = *p;
	size_t i;

	if (!p->license && strmap_get(&j->lic, p->name, &i))
		with.license = j->lic_values[i];
	return pkg_add(j, j->os.ecosystem, &with);
}

/* The package a path /usr/share/doc/NAME/copyright is the copyright file of, or NULL. */
static const char *copyright_of(const char *path, size_t *ret_len)
{
	static const char doc[] = "/usr/share/doc/";
	const char *name = path + sizeof(doc) - 1, *slash;

	if (strncmp(path, doc, sizeof(doc) - 1) || !(slash = strchr(name, '/')) || slash == name ||
	    strcmp(slash, "/copyright"))
		return NULL;
	*ret_len = (size_t)(slash - name);
	return name;
}

/* A dpkg package's licence, read from its copyright file (dep5.h); free-form files have none. */
static int copyright_add(struct inventory_job *j, const struct engine_archive_entry *e)
{
	char lic[PKGDB_LICENSE_MAX + 1];
	size_t n;
	const char *name = copyright_of(e->path, &n);

	if (!name || !e->data || dep5_license(e->data, e->len, lic, sizeof(lic)) < 0)
		return 0;
	if (ARRAY_GROW(j->lic_names, j->cap_lic, j->n_lic, MAX_PKGS) < 0 ||
	    ARRAY_GROW(j->lic_values, j->cap_lic_values, j->n_lic, MAX_PKGS) < 0)
		return -ENOMEM;
	j->lic_names[j->n_lic] = strndup(name, n);
	j->lic_values[j->n_lic] = strdup(lic);
	if (!j->lic_names[j->n_lic] || !j->lic_values[j->n_lic] ||
	    strmap_put(&j->lic, j->lic_names[j->n_lic], j->n_lic) < 0) {
		free(j->lic_names[j->n_lic]);
		free(j->lic_values[j->n_lic]);
		return -ENOMEM;
	}
	j->n_lic++;
	return 0;
}

enum py_kind { PY_NONE, PY_METADATA, PY_PKGINFO, PY_EGGFILE, PY_DISTDIR };

/* What path is to a Python distribution directly under a site- or dist-packages. */
static enum py_kind python_kind(const char *path, bool is_dir, size_t *ret_dir_len)
{
	const char *p = path, *hit = NULL, *rest, *slash;

	while ((p = strstr(p, "-packages/"))) {
		if ((p - path >= 4 && !strncmp(p - 4, "site", 4)) ||
		    (p - path >= 4 && !strncmp(p - 4, "dist", 4)))
			hit = p;
		p++;
	}
	if (!hit)
		return PY_NONE;
	rest = hit + strlen("-packages/");
	slash = strchr(rest, '/');
	*ret_dir_len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (!slash) {
		size_t n = strlen(rest);
		if (is_dir && n > 10 && !strcmp(rest + n - 10, ".dist-info"))
			return PY_DISTDIR;
		return !is_dir && n > 9 && !strcmp(rest + n - 9, ".egg-info") ? PY_EGGFILE
		                                                              : PY_NONE;
	}
	if (is_dir || strchr(slash + 1, '/'))
		return PY_NONE;
	if (*ret_dir_len > 10 && !strncmp(slash - 10, ".dist-info", 10) &&
	    !strcmp(slash + 1, "METADATA"))
		return PY_METADATA;
	if (*ret_dir_len > 9 && !strncmp(slash - 9, ".egg-info", 9) &&
	    !strcmp(slash + 1, "PKG-INFO"))
		return PY_PKGINFO;
	return PY_NONE;
}

/* Runs on the walk's worker thread: pure. */
static bool keep(const char *path, bool is_dir, void *arg)
{
	size_t n;

	(void)arg;
	if (!is_dir && (!strcmp(path, "/etc/os-release") || !strcmp(path, "/etc/debian_version") ||
	                !strcmp(path, "/var/lib/dpkg/status") ||
	                !strcmp(path, "/lib/apk/db/installed") || copyright_of(path, &n)))
		return true;
	return python_kind(path, is_dir, &n) != PY_NONE;
}

static int python_add(struct inventory_job *j, const char *name, const char *version)
{
	struct pkgdb_pkg p = {name, version, name, version, NULL, NULL};

	if (have_pypi(j, name, version))
		return 0;
	return pkg_add(j, "PyPI", &p);
}

/* A METADATA / PKG-INFO / egg-info file: its Name and Version. */
static int python_file(struct inventory_job *j, const struct engine_archive_entry *e)
{
	char name[256], version[256], err[256];

	if (!e->data)
		return 0;
	if (pkgdb_python_metadata(e->data, e->len, name, sizeof(name), version, sizeof(version),
	                          err, sizeof(err)) < 0) {
		log_debug("inventory: %s: %s", e->path, err);
		return 0;
	}
	return python_add(j, name, version);
}

/* A .dist-info directory whose METADATA did not come: the name says it. */
static int python_dir(struct inventory_job *j, const struct engine_archive_entry *e,
                      const struct engine_archive_entry *all, size_t n)
{
	char name[256], version[256], meta[ENGINE_ARCHIVE_PATH_MAX + 16];
	const char *base = strrchr(e->path, '/') + 1;

	snprintf(meta, sizeof(meta), "%s/METADATA", e->path);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].path, meta))
			return 0;
	if (pkgdb_dist_dirname(base, name, sizeof(name), version, sizeof(version)) < 0)
		return 0;
	return python_add(j, name, version);
}

static char *copy_data(const struct engine_archive_entry *e)
{
	return e->data && !e->truncated ? strndup(e->data, e->len) : NULL;
}

static void os_release(struct inventory_job *j, const char *data, size_t len)
{
	char err[256];

	if (!data) /* a symlink (Debian: ../usr/lib/os-release): read that one after */
		return;
	if (pkgdb_os_release(data, len, &j->os, err, sizeof(err)) < 0 || !j->os.ecosystem[0])
		note(j, "os-release", err);
}

/* Keeps the database files, reads the Python ones. */
static int take(struct inventory_job *j, const struct engine_archive_entry *all, size_t n)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct engine_archive_entry *e = &all[i];
		size_t dl;

		if (!strcmp(e->path, "/etc/os-release"))
			os_release(j, e->data, e->len);
		else if (!strcmp(e->path, "/etc/debian_version"))
			r = (j->debian_version = copy_data(e)) || !e->data ? 0 : -ENOMEM;
		else if (!strcmp(e->path, "/var/lib/dpkg/status"))
			r = (j->dpkg = copy_data(e)) || !e->data ? 0 : -ENOMEM;
		else if (!strcmp(e->path, "/lib/apk/db/installed"))
			r = (j->apk = copy_data(e)) || !e->data ? 0 : -ENOMEM;
		else if (!strncmp(e->path, "/usr/share/doc/", 15))
			r = copyright_add(j, e);
		else if (python_kind(e->path, e->is_dir, &dl) == PY_DISTDIR)
			r = python_dir(j, e, all, n);
		else if (!e->is_dir)
			r = python_file(j, e);
		if (r > 0)
			r = 0;
	}
	return r;
}

static void deliver(struct inventory_job *j)
{
	struct store_inventory inv = {.os_id = j->os.id[0] ? j->os.id : NULL,
	                              .os_version = j->os.version_id[0] ? j->os.version_id : NULL,
	                              .ecosystem = j->os.ecosystem[0] ? j->os.ecosystem : NULL,
	                              .error = j->note[0] ? j->note : NULL,
	                              .pkgs = j->pkgs,
	                              .n_pkgs = j->n,
	                              .read_at = wallclock_ms()};

	j->cb(&inv, inv.error, j->arg);
	job_free(j);
}

/* The OS is known (or will not be): the package databases can be read. */
static void finish(struct inventory_job *j)
{
	char err[256];
	int r = 0;

	if (!j->os.ecosystem[0] && j->debian_version && !strcmp(j->os.id, "debian"))
		pkgdb_debian_version(j->debian_version, strlen(j->debian_version), &j->os);
	if (j->dpkg)
		r = pkgdb_dpkg_each(j->dpkg, strlen(j->dpkg), os_pkg_cb, j, err, sizeof(err));
	if (r < 0)
		note(j, "/var/lib/dpkg/status", r == -E2BIG ? "too many packages" : err);
	r = 0;
	if (j->apk)
		r = pkgdb_apk_each(j->apk, strlen(j->apk), os_pkg_cb, j, err, sizeof(err));
	if (r < 0)
		note(j, "/lib/apk/db/installed", r == -E2BIG ? "too many packages" : err);
	deliver(j);
}

static void usr_os_release_cb(int status, const char *data, size_t len, const char *error,
                              void *arg)
{
	struct inventory_job *j = arg;

	j->file = NULL;
	if (status == 0)
		os_release(j, data, len);
	else if (status != -ENOENT)
		note(j, "/usr/lib/os-release", error ? error : strerror(-status));
	finish(j);
}

static void walk_cb(int status, const struct engine_archive_entry *entries, size_t n,
                    const char *error, void *arg)
{
	struct inventory_job *j = arg;
	int r;

	j->walk = NULL;
	if (status < 0) {
		j->cb(NULL, error ? error : strerror(-status), j->arg);
		job_free(j);
		return;
	}
	r = take(j, entries, n);
	if (r < 0)
		note(j, "packages",
		     r == -E2BIG ? "too many, the rest is not recorded" : strerror(-r));
	if (j->os.id[0] || engine_read_file(j->e, j->image, "/usr/lib/os-release", MAX_OS_RELEASE,
	                                    usr_os_release_cb, j, &j->file) < 0)
		finish(j);
}

int inventory_read(uv_loop_t *loop, struct engine *e, const char *image, inventory_cb cb, void *arg,
                   struct inventory_job **ret)
{
	struct engine_archive_limits lim = {.max_entry = MAX_DB};
	struct inventory_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->loop = loop;
	j->e = e;
	j->cb = cb;
	j->arg = arg;
	snprintf(j->image, sizeof(j->image), "%s", image);
	r = engine_archive_walk(loop, e, image, walk_paths, &lim, keep, NULL, walk_cb, j, &j->walk);
	if (r < 0) {
		free(j);
		return r;
	}
	*ret = j;
	return 0;
}

void inventory_cancel(struct inventory_job *j)
{
	if (!j)
		return;
	engine_archive_cancel(j->walk);
	engine_file_cancel(j->file);
	job_free(j);
}
