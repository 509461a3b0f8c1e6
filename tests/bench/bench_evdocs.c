/*
 * bench_evdocs — SBOM (SPDX and CycloneDX) + provenance + VEX (+ package
 * changes) of a 1,000-package inventory, timed, against jansson dumping the
 * same documents already built (the reference, measured in the same run).
 *
 *   bench_evdocs PKGDB_DIR STATE_DB [ROUNDS]
 *
 * The inventory is real: every dpkg status and apk database of PKGDB_DIR
 * (tests/fixtures/feeds/pkgdb: 706 packages) parsed by pkgdb, topped up to
 * 1,000 with PyPI distributions; 100 advisory matches in every state; the
 * previous image has 50 older versions. "render" is what GET
 * /v1/builds/ID/{sbom,provenance,vex} does per document after the store
 * read: build the tree and serialise it; "from store" adds the read of the
 * build out of a real SQLite store (store_evidence_load), once per document
 * as the API does. Prints the median and worst document-set times and the
 * ratio to the reference; the worst single document is the longest the
 * loop is held.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pkgdb.h"
#include "pkgdiff.h"
#include "provenance.h"
#include "sbom.h"
#include "store.h"
#include "store_evidence.h"
#include "store_feed.h"
#include "vex.h"

#define N_PKGS 1000
#define N_ADV  100

static struct evdoc_pkg pkgs[N_PKGS], prev[N_PKGS];
static struct evdoc_advisory adv[N_ADV];
static size_t n_pkgs;
static const char *eco_now;

_Noreturn static void die(const char *what)
{
	fprintf(stderr, "bench_evdocs: %s failed\n", what);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of this thread: what the work costs, whatever else the host runs. */
static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int add_cb(const struct pkgdb_pkg *p, void *arg)
{
	(void)arg;
	if (n_pkgs >= N_PKGS)
		return 0;
	pkgs[n_pkgs++] = (struct evdoc_pkg){eco_now,
	                                    strdup(p->name),
	                                    strdup(p->version),
	                                    strdup(p->source),
	                                    strdup(p->source_version),
	                                    p->arch ? strdup(p->arch) : NULL,
	                                    p->license ? strdup(p->license) : NULL};
	return 0;
}

static void load_dir(const char *dir)
{
	static const struct {
		const char *suffix, *eco;
	} kinds[] = {{".dpkg-status", "Debian:12"}, {".apk-installed", "Alpine:v3.18"}};
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		for (size_t k = 0; k < 2; k++) {
			size_t n = strlen(e->d_name), m = strlen(kinds[k].suffix);
			char path[4096], *buf;
			FILE *f;
			long len;

			if (n <= m || strcmp(e->d_name + n - m, kinds[k].suffix))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			f = fopen(path, "rb");
			if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, 0))
				die("reading a package database");
			buf = malloc((size_t)len);
			if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
				die("reading a package database");
			fclose(f);
			eco_now = kinds[k].eco;
			if (k == 0)
				pkgdb_dpkg_each(buf, (size_t)len, add_cb, NULL, NULL, 0);
			else
				pkgdb_apk_each(buf, (size_t)len, add_cb, NULL, NULL, 0);
			free(buf);
		}
	}
	if (d)
		closedir(d);
}

/* Up to N_PKGS with Python distributions; advisories; the previous image. */
static void complete(void)
{
	static const char *const states[] = {"fixed", "pending-upstream", "unfixed", "open",
	                                     "triggered"};
	char b[64];

	while (n_pkgs < N_PKGS) {
		snprintf(b, sizeof(b), "dist-%zu", n_pkgs);
		char *name = strdup(b);
		snprintf(b, sizeof(b), "1.%zu.0", n_pkgs);
		char *ver = strdup(b);
		pkgs[n_pkgs++] = (struct evdoc_pkg){"PyPI", name, ver, name, ver, NULL, NULL};
	}
	for (size_t i = 0; i < N_PKGS; i++) {
		prev[i] = pkgs[i];
		if (i % 20 == 0)
			prev[i].version = "0~old";
	}
	for (size_t i = 0; i < N_ADV; i++) {
		const struct evdoc_pkg *p = &pkgs[i * 9];
		snprintf(b, sizeof(b), "CVE-2024-%05zu", i);
		adv[i] = (struct evdoc_advisory){strdup(b),  p->source, p->ecosystem,
		                                 p->version, "99:9",    states[i % 5]};
	}
}

static struct evdoc_build the_build(void)
{
	static const struct evdoc_kv args[] = {{"EXTRAS", "notebook"}};
	static const struct evdoc_base bases[] = {
	        {"docker.io/library/python:3.12-slim",
	         "sha256:1111111111111111111111111111111111111111111111111111111111111111"}};
	return (struct evdoc_build){
	        .id = 7,
	        .project = "bench",
	        .env = "prod",
	        .status = "succeeded",
	        .repository = "registry.example.com/ds/bench",
	        .digest = "sha256:abababababababababababababababababababababababababababababababab",
	        .base_name = bases[0].ref,
	        .base_digest = bases[0].digest,
	        .trigger = "security",
	        .reasons = "security: CVE-2024-00000 x 1 -> 2 (prod)",
	        .started_at = 1,
	        .finished_at = 2,
	        .builder = "buildkit",
	        .have_inputs = true,
	        .target = "runtime",
	        .build_args = args,
	        .n_build_args = 1,
	        .bases = bases,
	        .n_bases = 1,
	        .have_inventory = true,
	        .os_id = "debian",
	        .os_version = "12",
	        .pkgs = pkgs,
	        .n_pkgs = N_PKGS,
	        .advisories = adv,
	        .n_advisories = N_ADV,
	        .prev_id = 6,
	        .prev_pkgs = prev,
	        .n_prev_pkgs = N_PKGS};
}

enum doc { D_SPDX, D_PROV, D_VEX, D_CDX, D_DIFF, D_COUNT };

static json_t *render(const struct evdoc_build *b, enum doc d)
{
	json_t *o = NULL;

	switch (d) {
	case D_SPDX:
		return sbom_spdx(b);
	case D_PROV:
		return provenance_statement(b);
	case D_VEX:
		vex_document(b, &o);
		return o;
	case D_CDX:
		return sbom_cyclonedx(b);
	default:
		return pkgdiff_json(b);
	}
}

/* Serialises as the API does; returns the bytes. */
static size_t dump(json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	size_t n;

	if (!s)
		die("serialising");
	n = strlen(s);
	free(s);
	return n;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The build in a real store, as refitd keeps it; returns its id. */
static int64_t put_store(struct store *s)
{
	struct store_build sb = {.project = "bench",
	                         .env = "prod",
	                         .trigger = "security",
	                         .status = "succeeded",
	                         .queued_at = 1,
	                         .started_at = 1,
	                         .finished_at = 2,
	                         .image_id = "sha256:cd",
	                         .builder = "buildkit",
	                         .digest = "sha256:abababababababababababababababababababab"
	                                   "abababababababababababab"};
	struct store_pkg *sp = calloc(N_PKGS, sizeof(*sp)), *pp = calloc(N_PKGS, sizeof(*pp));
	struct store_match *m = calloc(N_ADV, sizeof(*m));
	int64_t id0, id;

	for (size_t i = 0; i < N_PKGS; i++) {
		sp[i] = (struct store_pkg){
		        pkgs[i].ecosystem,      pkgs[i].name, pkgs[i].version, pkgs[i].source,
		        pkgs[i].source_version, pkgs[i].arch, pkgs[i].license};
		pp[i] = sp[i];
		pp[i].version = prev[i].version;
	}
	for (size_t i = 0; i < N_ADV; i++)
		m[i] = (struct store_match){adv[i].id,
		                            adv[i].package,
		                            adv[i].ecosystem,
		                            adv[i].installed,
		                            adv[i].fixed,
		                            adv[i].state,
		                            1,
		                            NULL,
		                            0,
		                            0,
		                            NULL,
		                            NULL};
	if (store_build_insert(s, &sb, &id0) < 0 ||
	    store_inventory_put(s, id0,
	                        &(struct store_inventory){"debian", "12", "Debian:12", NULL, pp,
	                                                  N_PKGS, 1}) < 0 ||
	    store_build_insert(s, &sb, &id) < 0 ||
	    store_inventory_put(s, id,
	                        &(struct store_inventory){"debian", "12", "Debian:12", NULL, sp,
	                                                  N_PKGS, 2}) < 0 ||
	    store_matches_put(s, id, m, N_ADV) < 0 || store_build_update(s, id, &sb) < 0)
		die("putting the build into the store");
	free(sp);
	free(pp);
	free(m);
	return id;
}

/* Documents [from, to) as the API serves them: each read from the store, built, serialised. */
static void from_store(struct store *s, int64_t id, int from, int to, double *wall, double *cpu,
                       double *worst)
{
	double w0 = now_ms(), c0 = cpu_ms();

	for (int k = from; k < to; k++) {
		struct store_evidence *e;
		double t = now_ms();

		if (store_evidence_load(s, id, k == D_PROV ? 0 : STORE_EVIDENCE_PKGS, &e) < 0)
			die("store_evidence_load");
		json_t *doc = render(store_evidence_build(e), (enum doc)k);
		dump(doc);
		json_decref(doc);
		store_evidence_free(e);
		if (now_ms() - t > *worst)
			*worst = now_ms() - t;
	}
	*wall = now_ms() - w0;
	*cpu = cpu_ms() - c0;
}

struct series {
	double *v;
	int n;
};

static double median(struct series *x)
{
	qsort(x->v, (size_t)x->n, sizeof(double), dbl_cmp);
	return x->v[x->n / 2];
}

static double worst(struct series *x)
{
	qsort(x->v, (size_t)x->n, sizeof(double), dbl_cmp);
	return x->v[x->n - 1];
}

enum { G_WALL, G_CPU, R_WALL, R_CPU, CDX_CPU, DIFF_CPU, S_WALL, S_CPU, N_SERIES };

/* One round: the set built and serialised, then the reference on the same trees. */
static size_t round_mem(const struct evdoc_build *b, struct series *x, int i)
{
	json_t *docs[D_COUNT];
	size_t bytes = 0;
	double w = now_ms(), c = cpu_ms();

	for (int k = D_SPDX; k <= D_VEX; k++) {
		docs[k] = render(b, (enum doc)k);
		bytes += dump(docs[k]);
	}
	x[G_WALL].v[i] = now_ms() - w;
	x[G_CPU].v[i] = cpu_ms() - c;
	w = now_ms();
	c = cpu_ms();
	for (int k = D_SPDX; k <= D_VEX; k++)
		dump(docs[k]);
	x[R_WALL].v[i] = now_ms() - w;
	x[R_CPU].v[i] = cpu_ms() - c;
	for (int k = D_SPDX; k <= D_VEX; k++)
		json_decref(docs[k]);
	for (int k = D_CDX; k <= D_DIFF; k++) {
		c = cpu_ms();
		docs[k] = render(b, (enum doc)k);
		dump(docs[k]);
		json_decref(docs[k]);
		x[k == D_CDX ? CDX_CPU : DIFF_CPU].v[i] = cpu_ms() - c;
	}
	return bytes;
}

int main(int argc, char **argv)
{
	int rounds = argc > 3 ? atoi(argv[3]) : 200;
	struct series x[N_SERIES];
	struct evdoc_build b;
	struct store *s = NULL;
	char err[256];
	size_t bytes = 0;
	double stall = 0;
	int64_t id;

	if (argc < 3 || rounds < 1) {
		fprintf(stderr, "usage: bench_evdocs PKGDB_DIR STATE_DB [ROUNDS]\n");
		return 2;
	}
	for (int k = 0; k < N_SERIES; k++)
		if (!(x[k].v = calloc((size_t)rounds, sizeof(double))))
			die("calloc");
		else
			x[k].n = rounds;
	load_dir(argv[1]);
	printf("inventory: %zu real packages (dpkg, apk) + %zu PyPI, %d advisory matches\n", n_pkgs,
	       (size_t)N_PKGS - n_pkgs, N_ADV);
	complete();
	b = the_build();
	for (int i = 0; i < rounds; i++)
		bytes = round_mem(&b, x, i);
	if (store_open(argv[2], &s, err, sizeof(err)) < 0)
		die(err);
	id = put_store(s);
	for (int i = 0; i < rounds; i++)
		from_store(s, id, D_SPDX, D_VEX + 1, &x[S_WALL].v[i], &x[S_CPU].v[i], &stall);
	store_close(s);
	printf("document set SPDX + provenance + VEX (%zu bytes), median of %d rounds "
	       "(CPU time of the thread; wall time on this shared host in brackets):\n",
	       bytes, rounds);
	printf("  render (build + serialise):            %6.2f ms  [wall %.2f, worst %.2f]\n",
	       median(&x[G_CPU]), median(&x[G_WALL]), worst(&x[G_WALL]));
	printf("  reference (jansson serialising the same pre-built trees): %6.2f ms  [wall "
	       "%.2f]\n",
	       median(&x[R_CPU]), median(&x[R_WALL]));
	printf("  ratio render / reference: %.2f (CPU), %.2f (wall)\n",
	       median(&x[G_CPU]) / median(&x[R_CPU]), median(&x[G_WALL]) / median(&x[R_WALL]));
	printf("  as the API serves them (store read + render, per document): %6.2f ms  "
	       "[wall %.2f, worst %.2f]; longest loop stall (one document) %.2f ms wall\n",
	       median(&x[S_CPU]), median(&x[S_WALL]), worst(&x[S_WALL]), stall);
	printf("  besides: CycloneDX %.2f ms, package changes %.2f ms (CPU)\n", median(&x[CDX_CPU]),
	       median(&x[DIFF_CPU]));
	printf("  target <= 20 ms per document set (CPU, from the store): %s\n",
	       median(&x[S_CPU]) <= 20.0 ? "met" : "NOT met");
	for (int k = 0; k < N_SERIES; k++)
		free(x[k].v);
	return 0;
}
