/*
 * evdoc_fixture.h — one build as the evidence modules see it (evdoc.h),
 * shared by test_sbom, test_provenance, test_vex and test_pkgdiff; and a
 * jansson allocator that fails on purpose.
 */
#ifndef REFIT_EVDOC_FIXTURE_H
#define REFIT_EVDOC_FIXTURE_H

#include <stdlib.h>

#include <jansson.h>

#include "evdoc.h"

static const struct evdoc_pkg fx_pkgs[] = {
        {"Debian:12", "libc6", "2.36-9+deb12u9", "glibc", "2.36-9+deb12u9", "amd64", NULL},
        {"Debian:12", "libssl3", "3.0.15-1~deb12u1", "openssl", "3.0.15-1~deb12u1", "amd64", NULL},
        {"Debian:12", "tzdata", "2024a-0+deb12u1", "tzdata", "2024a-0+deb12u1", "all", NULL},
        {"Alpine:v3.18", "musl", "1.2.4-r0", "musl", "1.2.4-r0", "x86_64", "MIT"},
        {"Alpine:v3.18", "busybox", "1.36.1-r0", "busybox", "1.36.1-r0", "x86_64", "GPL-2.0-only"},
        {"Alpine:v3.18", "zlib", "1.2.13-r1", "zlib", "1.2.13-r1", "x86_64", "MIT BSD GPL2+"},
        {"PyPI", "requests", "2.31.0", "requests", "2.31.0", NULL, NULL},
        {"PyPI", "urllib3", "1.26.16", "urllib3", "1.26.16", NULL, NULL},
        {"PyPI", "six", "1.16.0", "six", "1.16.0", NULL, NULL},
};

static const struct evdoc_pkg fx_prev[] = {
        {"Debian:12", "libc6", "2.36-9+deb12u9", "glibc", "2.36-9+deb12u9", "amd64", NULL},
        {"Debian:12", "libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2", "amd64", NULL},
        {"Debian:12", "tzdata", "2024b-0+deb12u1", "tzdata", "2024b-0+deb12u1", "all", NULL},
        {"Debian:12", "libgone1", "1.0-1", "gone", "1.0-1", "amd64", NULL},
        {"Alpine:v3.18", "musl", "1.2.4-r0", "musl", "1.2.4-r0", "x86_64", "MIT"},
        {"Alpine:v3.18", "busybox", "1.36.1-r0", "busybox", "1.36.1-r0", "x86_64", "GPL-2.0-only"},
        {"Alpine:v3.18", "zlib", "1.2.13-r1", "zlib", "1.2.13-r1", "x86_64", "MIT BSD GPL2+"},
        {"PyPI", "requests", "2.25.0", "requests", "2.25.0", NULL, NULL},
        {"PyPI", "urllib3", "1.26.16", "urllib3", "1.26.16", NULL, NULL},
};

/* Sorted by id, state, package, as the store hands them over. */
static const struct evdoc_advisory fx_adv[] = {
        {"CVE-2023-5678", "openssl", "Debian:12", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "fixed"},
        {"CVE-2024-0001", "glibc", "Debian:12", "2.36-9+deb12u9", NULL, "unfixed"},
        {"CVE-2024-0002", "openssl", "Debian:12", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1",
         "pending-upstream"},
        {"CVE-2024-0003", "busybox", "Alpine:v3.18", "1.36.1-r0", "1.36.1-r2", "open"},
        {"PYSEC-2023-192", "urllib3", "PyPI", "1.26.16", "1.26.17", "pending-upstream"},
        {"PYSEC-2023-74", "requests", "PyPI", "2.25.0", "2.31.0", "fixed"},
};

static const struct evdoc_kv fx_args[] = {{"EXTRAS", "notebook"}, {"PYVER", "3.12"}};
static const char *const fx_secret[] = {"API_TOKEN"};
static const struct evdoc_base fx_bases[] = {
        {"docker.io/library/python:3.12-slim",
         "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
        {"docker.io/library/busybox:1", NULL},
};

#define FX_DIGEST "sha256:abababababababababababababababababababababababababababababababab"
#define FX_BASE   "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define FX_OLD    "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define FX_DF     "sha256:4444444444444444444444444444444444444444444444444444444444444444"

static inline struct evdoc_build fx_build(void)
{
	struct evdoc_build b = {
	        .id = 42,
	        .project = "churn",
	        .env = "prod",
	        .status = "succeeded",
	        .repository = "registry.example.com/ds/churn",
	        .digest = FX_DIGEST,
	        .image_id =
	                "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
	        .tags = "prod,prod-20261208T003329Z",
	        .base_name = "docker.io/library/python:3.12-slim",
	        .base_digest = FX_BASE,
	        .prev_base_digest = FX_OLD,
	        .trigger = "security",
	        .reasons =
	                "security: PYSEC-2023-74 requests 2.25.0 -> 2.31.0 (prod); CVE-2023-5678 "
	                "openssl 3.0.11-1~deb12u2 -> 3.0.13-1~deb12u1 (prod); and 2 more\n"
	                "manual: requested through the API",
	        .queued_at = 1765154000000,
	        .started_at = 1765154001000,
	        .finished_at = 1765154062500,
	        .refit_version = "1.2.3",
	        .engine = "unix:///var/run/docker.sock",
	        .engine_version = "docker 20.10.24",
	        .builder = "buildkit",
	        .platform = "linux/amd64",
	        .have_inputs = true,
	        .target = "runtime",
	        .dockerfile = "Dockerfile",
	        .dockerfile_digest = FX_DF,
	        .git_commit = "0123456789abcdef0123456789abcdef01234567",
	        .git_source = "https://git.example.com/ds/churn.git",
	        .build_args = fx_args,
	        .n_build_args = 2,
	        .secret_args = fx_secret,
	        .n_secret_args = 1,
	        .bases = fx_bases,
	        .n_bases = 2,
	        .have_inventory = true,
	        .os_id = "debian",
	        .os_version = "12",
	        .ecosystem = "Debian:12",
	        .inventory_at = 1765154050000,
	        .pkgs = fx_pkgs,
	        .n_pkgs = sizeof(fx_pkgs) / sizeof(fx_pkgs[0]),
	        .advisories = fx_adv,
	        .n_advisories = sizeof(fx_adv) / sizeof(fx_adv[0]),
	        .prev_id = 40,
	        .prev_pkgs = fx_prev,
	        .n_prev_pkgs = sizeof(fx_prev) / sizeof(fx_prev[0]),
	};
	return b;
}

/* ---- jansson allocations that fail after fx_alloc_left more ---- */

static long fx_alloc_left = -1; /* -1: never fail */

static void *fx_malloc(size_t n)
{
	if (fx_alloc_left == 0)
		return NULL;
	if (fx_alloc_left > 0)
		fx_alloc_left--;
	return malloc(n);
}

/*
 * Calls render with every allocation failing in turn until one run succeeds:
 * each failing run must return NULL (ASan reports what it leaked). Returns
 * how many allocations a full run makes.
 */
static inline long fx_fail_each(json_t *(*render)(const void *arg), const void *arg)
{
	long n;

	json_set_alloc_funcs(fx_malloc, free);
	for (n = 0;; n++) {
		json_t *o;
		fx_alloc_left = n;
		o = render(arg);
		if (o) {
			json_decref(o);
			break;
		}
	}
	fx_alloc_left = -1;
	json_set_alloc_funcs(malloc, free);
	return n;
}

/* Object at key path a.b.c ("." separated) of o, or NULL. */
static inline json_t *fx_at(json_t *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); o && k; k = strtok_r(NULL, ".", &save))
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(k)) : json_object_get(o, k);
	return o;
}

#endif
