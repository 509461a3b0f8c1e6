/*
 * ctl_sbom — `refitctl sbom --inventory FILE [--os-release FILE]`: the SBOM of
 * a package database file (dpkg status, apk installed, pip freeze), offline,
 * with the same module refitd serves /v1/builds/ID/sbom with. The online
 * form (a build of refitd) is in ctl_client.c.
 */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "pkgdb.h"
#include "sbom.h"

#define MAX_DB (64u << 20)

struct offline {
	struct evdoc_pkg *v;
	size_t n, cap;
	const char *eco;
};

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int add_cb(const struct pkgdb_pkg *p, void *arg)
{
	struct offline *o = arg;
	struct evdoc_pkg *x;

	if (ARRAY_GROW(o->v, o->cap, o->n, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	x = &o->v[o->n++];
	*x = (struct evdoc_pkg){o->eco,
	                        strdup(p->name),
	                        strdup(p->version),
	                        strdup(p->source),
	                        strdup(p->source_version),
	                        dup_opt(p->arch),
	                        dup_opt(p->license)};
	return x->name && x->version && x->source && x->source_version ? 0 : -ENOMEM;
}

static void offline_done(struct offline *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free((char *)(uintptr_t)o->v[i].name);
		free((char *)(uintptr_t)o->v[i].version);
		free((char *)(uintptr_t)o->v[i].source);
		free((char *)(uintptr_t)o->v[i].source_version);
		free((char *)(uintptr_t)o->v[i].arch);
		free((char *)(uintptr_t)o->v[i].license);
	}
	free(o->v);
}

/* The OSV ecosystem of the packages: from os-release, or PyPI for a freeze list. */
static int ecosystem(const char *os_release, int fmt, struct pkgdb_os *os)
{
	char *buf = NULL, err[256] = "";
	size_t n;
	int r;

	memset(os, 0, sizeof(*os));
	if (fmt == PKGDB_FREEZE) {
		snprintf(os->ecosystem, sizeof(os->ecosystem), "PyPI");
		return 0;
	}
	if (!os_release)
		return 0; /* purls without a distro qualifier */
	r = ctl_read_file(os_release, 1u << 16, &buf, &n);
	if (r == 0 && pkgdb_os_release(buf, n, os, err, sizeof(err)) < 0)
		r = -EINVAL;
	if (r < 0)
		fprintf(stderr, "refitctl: %s: %s\n", os_release, err[0] ? err : strerror(-r));
	free(buf);
	return r;
}

static int walk(const char *buf, size_t n, int fmt, struct offline *o, char *err, size_t errlen)
{
	if (fmt == PKGDB_DPKG)
		return pkgdb_dpkg_each(buf, n, add_cb, o, err, errlen);
	if (fmt == PKGDB_APK)
		return pkgdb_apk_each(buf, n, add_cb, o, err, errlen);
	return pkgdb_freeze_each(buf, n, add_cb, o, err, errlen);
}

int ctl_sbom_offline(const char *inventory, const char *os_release, const char *format,
                     const char *name)
{
	struct offline o = {0};
	struct pkgdb_os os;
	enum sbom_format f;
	char *buf = NULL, err[512] = "";
	size_t n;
	json_t *doc = NULL;
	int fmt, r, code = CTL_FAIL;

	if (sbom_format_parse(format, &f) < 0) {
		fprintf(stderr, "refitctl: --format: spdx or cyclonedx\n");
		return CTL_USAGE;
	}
	r = ctl_read_file(inventory, MAX_DB, &buf, &n);
	if (r < 0) {
		fprintf(stderr, "refitctl: %s: %s\n", inventory, strerror(-r));
		return CTL_FAIL;
	}
	fmt = pkgdb_detect(buf, n);
	if (fmt < 0 || ecosystem(os_release, fmt, &os) < 0) {
		if (fmt < 0)
			fprintf(stderr,
			        "refitctl: %s: not a dpkg status, apk installed or pip freeze "
			        "list\n",
			        inventory);
		goto out;
	}
	o.eco = os.ecosystem;
	if (walk(buf, n, fmt, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "refitctl: %s: %s\n", inventory, err[0] ? err : "out of memory");
		goto out;
	}
	{
		struct evdoc_build b = {.project = name,
		                        .env = "offline",
		                        .repository = name,
		                        .os_id = os.id[0] ? os.id : NULL,
		                        .os_version = os.version_id[0] ? os.version_id : NULL,
		                        .have_inventory = true,
		                        .pkgs = o.v,
		                        .n_pkgs = o.n};
		doc = sbom_render(&b, f);
	}
	if (doc && json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
		putchar('\n');
		code = CTL_OK;
	}
out:
	json_decref(doc);
	offline_done(&o);
	free(buf);
	return code;
}
