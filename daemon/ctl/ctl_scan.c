/*
 * ctl_scan — `refitctl scan --inventory FILE [--os-release FILE] --feed DIR`:
 * the matching refitd does after each build, offline. The inventory is a
 * dpkg status, an apk installed database or a pip freeze list; the feed is
 * a directory of OSV JSON records (searched recursively) or an all.zip.
 *
 * Without --os-release the release is unknown: records of any release of
 * the distribution are used (Ubuntu when the versions say "ubuntu", else
 * Debian, for a dpkg status), which can report advisories of another
 * release; the output says so.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ctl.h"
#include "array.h"
#include "feed.h"
#include "osv.h"
#include "pkgdb.h"
#include "strmap.h"

#define MAX_FILE  (256u << 20)
#define MAX_DEPTH 8

struct row {
	char *id, *ecosystem, *package, *summary;
	json_t *affected, *aliases;
};

struct scan {
	struct row *rows;
	size_t n, cap;
	char ecosystem[64]; /* of the inventory: "Debian:12", or "Debian" when the release is
	                       unknown */
	bool json;
	json_t *out;
	size_t findings;
	char **seen; /* "ID PACKAGE VERSION" already reported (binaries of one source) */
	size_t n_seen, seen_cap;
	struct strmap seen_map; /* the same, to find them */
};

static void usage(FILE *f)
{
	fputs("usage: refitctl scan --inventory FILE [--os-release FILE] --feed DIR|ZIP [--json]\n"
	      "  FILE: a dpkg status, an apk installed database or a pip freeze list.\n"
	      "  DIR: OSV JSON records (searched recursively), or an OSV all.zip.\n"
	      "  Prints ID PACKAGE INSTALLED -> FIXED (or unfixed) per affecting advisory.\n"
	      "  Exit: 0 nothing found, 1 advisories found or failure, 2 usage.\n",
	      f);
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	return ctl_read_file(path, MAX_FILE, ret, ret_len);
}

static char *norm_name(const char *ecosystem, const char *name)
{
	char buf[512];

	if (strcmp(ecosystem, "PyPI"))
		return strdup(name);
	return pkgdb_pep503(name, buf, sizeof(buf)) < sizeof(buf) ? strdup(buf) : NULL;
}

static int row_cb(const struct feed_row *r, void *arg)
{
	struct scan *s = arg;
	struct row *x;

	if (!r->ecosystem || !r->package || r->withdrawn)
		return 0;
	if (ARRAY_GROW(s->rows, s->cap, s->n, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	x = &s->rows[s->n++];
	x->id = strdup(r->id);
	x->ecosystem = strdup(r->ecosystem);
	x->package = norm_name(r->ecosystem, r->package);
	x->summary = r->summary ? strdup(r->summary) : NULL;
	x->affected = json_deep_copy(r->affected);
	x->aliases = r->aliases ? json_deep_copy(r->aliases) : NULL;
	return x->id && x->ecosystem && x->package && x->affected ? 0 : -ENOMEM;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int load_record(struct scan *s, const char *path)
{
	char *buf, err[512];
	size_t len;
	int r = read_file(path, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "refitctl scan: %s: %s\n", path, strerror(-r));
		return r;
	}
	r = ends_with(path, ".zip") ? osv_zip_each(buf, len, row_cb, s, err, sizeof(err))
	                            : osv_parse(buf, len, row_cb, s, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "refitctl scan: %s: %s\n", path, err);
	free(buf);
	return r < 0 ? r : 0;
}

/* Every *.json under dir (depth-bounded, in name order for stable output). */
static int load_dir(struct scan *s, const char *dir, int depth)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), r = 0;

	if (n < 0) {
		fprintf(stderr, "refitctl scan: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (r == 0 && ents[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) <
		            (int)sizeof(path) &&
		    stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
				r = load_dir(s, path, depth + 1);
			else if (S_ISREG(st.st_mode) && ends_with(path, ".json"))
				r = load_record(s, path);
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

/* "Debian:12" matches "Debian:12"; a release-less "Debian" matches any "Debian:N". */
static bool eco_match(const char *want, const char *have)
{
	size_t n = strlen(want);

	if (!strcmp(want, have))
		return true;
	return !strchr(want, ':') && !strncmp(want, have, n) && have[n] == ':';
}

/* True when this (id, package, version) was reported already; else remembers it. */
static bool reported(struct scan *s, const char *id, const char *name, const char *version)
{
	char *key;
	size_t i;

	if (asprintf(&key, "%s %s %s", id, name, version) < 0)
		return false;
	if (strmap_get(&s->seen_map, key, &i)) {
		free(key);
		return true;
	}
	/* out of memory: not remembered, at worst reported twice */
	if (ARRAY_GROW(s->seen, s->seen_cap, s->n_seen, ARRAY_NO_MAX) < 0 ||
	    strmap_put(&s->seen_map, key, s->n_seen) < 0) {
		free(key);
		return false;
	}
	s->seen[s->n_seen++] = key;
	return false;
}

static void report(struct scan *s, const struct row *x, const char *name, const char *version,
                   const struct osv_verdict *v)
{
	if (reported(s, x->id, name, version))
		return;
	s->findings++;
	if (!s->json) {
		printf("%s %s %s -> %s\n", x->id, name, version, v->fixed ? v->fixed : "unfixed");
		return;
	}
	json_array_append_new(
	        s->out, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", x->id, "package", name,
	                          "installed", version, "ecosystem", x->ecosystem, "fixed",
	                          v->fixed ? json_string(v->fixed) : json_null(), "summary",
	                          x->summary ? json_string(x->summary) : json_null(), "aliases",
	                          x->aliases ? json_incref(x->aliases) : json_array()));
}

/* The advisories of one name at one version; seen avoids reporting an id twice per package. */
static void match_name(struct scan *s, enum version_eco eco, const char *name, const char *version,
                       const char *shown)
{
	const char *last = NULL;

	for (size_t i = 0; i < s->n; i++) {
		const struct row *x = &s->rows[i];
		struct osv_verdict v;

		if (strcmp(x->package, name) || !eco_match(s->ecosystem, x->ecosystem))
			continue;
		if (last && !strcmp(last, x->id))
			continue; /* several affected entries of one record: one line */
		if (osv_eval(x->affected, eco, version, &v) == 0 && v.affected) {
			report(s, x, shown, version, &v);
			last = x->id;
		}
	}
}

static int pkg_cb(const struct pkgdb_pkg *p, void *arg)
{
	struct scan *s = arg;
	enum version_eco eco;

	if (osv_ecosystem_eco(s->ecosystem, &eco) < 0)
		return -ENOTSUP;
	match_name(s, eco, p->source, p->source_version, p->source);
	if (strcmp(p->source, p->name))
		match_name(s, eco, p->name, p->version, p->name);
	return 0;
}

static int ubuntu_cb(const struct pkgdb_pkg *p, void *arg)
{
	bool *ubuntu = arg;

	*ubuntu |= strstr(p->version, "ubuntu") != NULL;
	return 0;
}

/* A dpkg status whose versions say "ubuntu" (1.2-3ubuntu4) is Ubuntu's; else Debian's. */
static const char *dpkg_distribution(const char *buf)
{
	bool ubuntu = false;
	char err[8];

	pkgdb_dpkg_each(buf, strlen(buf), ubuntu_cb, &ubuntu, err, sizeof(err));
	return ubuntu ? "Ubuntu" : "Debian";
}

/* The inventory's ecosystem: from os-release, or guessed from the format. */
static int pick_ecosystem(struct scan *s, int format, const char *buf, const char *os_path)
{
	struct pkgdb_os os;
	char *text, err[256];
	size_t len;
	int r;

	if (format == PKGDB_FREEZE) {
		snprintf(s->ecosystem, sizeof(s->ecosystem), "PyPI");
		return 0;
	}
	if (!os_path) {
		snprintf(s->ecosystem, sizeof(s->ecosystem), "%s",
		         format == PKGDB_APK ? "Alpine" : dpkg_distribution(buf));
		fprintf(stderr,
		        "refitctl scan: no --os-release: using the records of every %s release\n",
		        s->ecosystem);
		return 0;
	}
	r = read_file(os_path, &text, &len);
	if (r < 0) {
		fprintf(stderr, "refitctl scan: %s: %s\n", os_path, strerror(-r));
		return r;
	}
	r = pkgdb_os_release(text, len, &os, err, sizeof(err));
	free(text);
	if (r < 0 || !os.ecosystem[0]) {
		fprintf(stderr, "refitctl scan: %s: %s\n", os_path,
		        r < 0    ? err
		        : err[0] ? err
		                 : "no OSV ecosystem for this OS");
		return -EINVAL;
	}
	snprintf(s->ecosystem, sizeof(s->ecosystem), "%s", os.ecosystem);
	return 0;
}

static int walk_inventory(struct scan *s, int format, const char *buf, size_t len, const char *path)
{
	char err[512];
	int r = format == PKGDB_DPKG  ? pkgdb_dpkg_each(buf, len, pkg_cb, s, err, sizeof(err))
	        : format == PKGDB_APK ? pkgdb_apk_each(buf, len, pkg_cb, s, err, sizeof(err))
	                              : pkgdb_freeze_each(buf, len, pkg_cb, s, err, sizeof(err));

	if (r == -ENOTSUP)
		fprintf(stderr, "refitctl scan: %s: no version ordering for %s\n", path,
		        s->ecosystem);
	else if (r < 0)
		fprintf(stderr, "refitctl scan: %s: %s\n", path, err);
	return r < 0 ? r : 0;
}

static void scan_done(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->rows[i].id);
		free(s->rows[i].ecosystem);
		free(s->rows[i].package);
		free(s->rows[i].summary);
		json_decref(s->rows[i].affected);
		json_decref(s->rows[i].aliases);
	}
	free(s->rows);
	strmap_done(&s->seen_map);
	for (size_t i = 0; i < s->n_seen; i++)
		free(s->seen[i]);
	free(s->seen);
	json_decref(s->out);
}

static int run(struct scan *s, const char *inv_path, const char *os_path, const char *feed)
{
	struct stat st;
	char *buf = NULL;
	size_t len;
	int format, r = read_file(inv_path, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "refitctl scan: %s: %s\n", inv_path, strerror(-r));
		return CTL_FAIL;
	}
	format = pkgdb_detect(buf, len);
	if (format < 0)
		fprintf(stderr,
		        "refitctl scan: %s: not a dpkg status, apk installed or pip freeze file\n",
		        inv_path);
	r = format < 0 ? format : pick_ecosystem(s, format, buf, os_path);
	if (r == 0 && stat(feed, &st) < 0) {
		fprintf(stderr, "refitctl scan: %s: %s\n", feed, strerror(errno));
		r = -errno;
	}
	if (r == 0)
		r = S_ISDIR(st.st_mode) ? load_dir(s, feed, 0) : load_record(s, feed);
	if (r == 0)
		r = walk_inventory(s, format, buf, len, inv_path);
	free(buf);
	if (r < 0)
		return CTL_FAIL;
	if (s->json) {
		json_t *o = json_pack("{s:s,s:I,s:O}", "ecosystem", s->ecosystem, "records",
		                      (json_int_t)s->n, "advisories", s->out);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
	return s->findings ? CTL_FAIL : CTL_OK;
}

int ctl_scan(int argc, char **argv)
{
	static const struct option opts[] = {{"inventory", required_argument, NULL, 'i'},
	                                     {"os-release", required_argument, NULL, 'o'},
	                                     {"feed", required_argument, NULL, 'f'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *inv = NULL, *os = NULL, *feed = NULL;
	struct scan s = {0};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i')
			inv = optarg;
		else if (c == 'o')
			os = optarg;
		else if (c == 'f')
			feed = optarg;
		else if (c == 'j')
			s.json = true;
		else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? CTL_OK : CTL_USAGE;
		}
	}
	if (!inv || !feed || optind != argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	s.out = json_array();
	rc = run(&s, inv, os, feed);
	scan_done(&s);
	return rc;
}
