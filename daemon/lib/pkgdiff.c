/*
 * pkgdiff — package changes between two inventories (see pkgdiff.h): both
 * lists are sorted by (ecosystem family, name, arch, version) and merged.
 */
#include "pkgdiff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evdoc_impl.h"
#include "osv.h"
#include "version.h"

enum change { ADDED, REMOVED, UPGRADED, DOWNGRADED, UNCHANGED };

typedef void (*change_cb)(enum change c, const struct evdoc_pkg *old, const struct evdoc_pkg *now,
                          void *arg);

/* "Debian:12" and "Debian:13" are one family: a release upgrade is a package upgrade. */
static size_t family_len(const char *eco)
{
	return eco ? strcspn(eco, ":") : 0;
}

static int key_cmp(const struct evdoc_pkg *x, const struct evdoc_pkg *y)
{
	size_t nx = family_len(x->ecosystem), ny = family_len(y->ecosystem);
	int c = strncmp(x->ecosystem ? x->ecosystem : "", y->ecosystem ? y->ecosystem : "",
	                nx < ny ? nx : ny);

	if (c || nx != ny)
		return c ? c : nx < ny ? -1 : 1;
	if ((c = strcmp(x->name, y->name)))
		return c;
	return strcmp(x->arch ? x->arch : "", y->arch ? y->arch : "");
}

static int sort_cmp(const void *a, const void *b)
{
	const struct evdoc_pkg *x = *(const struct evdoc_pkg *const *)a;
	const struct evdoc_pkg *y = *(const struct evdoc_pkg *const *)b;
	int c = key_cmp(x, y);

	return c ? c : strcmp(x->version, y->version);
}

static const struct evdoc_pkg **sorted(const struct evdoc_pkg *v, size_t n)
{
	const struct evdoc_pkg **p = malloc((n ? n : 1) * sizeof(*p));

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = &v[i];
	qsort(p, n, sizeof(*p), sort_cmp);
	return p;
}

static enum change compare(const struct evdoc_pkg *old, const struct evdoc_pkg *now)
{
	enum version_eco eco;
	int c;

	if (!strcmp(old->version, now->version))
		return UNCHANGED;
	if (osv_ecosystem_eco(now->ecosystem, &eco) == 0 &&
	    version_cmp(eco, old->version, now->version, &c) == 0)
		return c < 0 ? UPGRADED : c > 0 ? DOWNGRADED : UNCHANGED;
	return strcmp(old->version, now->version) < 0 ? UPGRADED : DOWNGRADED;
}

static int walk(const struct evdoc_build *b, change_cb cb, void *arg)
{
	const struct evdoc_pkg **o = sorted(b->prev_pkgs, b->n_prev_pkgs);
	const struct evdoc_pkg **n = sorted(b->pkgs, b->n_pkgs);
	size_t i = 0, k = 0;

	if (!o || !n) {
		free(o);
		free(n);
		return -ENOMEM;
	}
	while (i < b->n_prev_pkgs || k < b->n_pkgs) {
		int c = i == b->n_prev_pkgs ? 1 : k == b->n_pkgs ? -1 : key_cmp(o[i], n[k]);

		if (c < 0)
			cb(REMOVED, o[i++], NULL, arg);
		else if (c > 0)
			cb(ADDED, NULL, n[k++], arg);
		else {
			cb(compare(o[i], n[k]), o[i], n[k], arg);
			i++;
			k++;
		}
	}
	free(o);
	free(n);
	return 0;
}

static void count_cb(enum change c, const struct evdoc_pkg *old, const struct evdoc_pkg *now,
                     void *arg)
{
	size_t *v = arg;

	(void)old;
	(void)now;
	v[c]++;
}

int pkgdiff_count(const struct evdoc_build *b, struct pkgdiff_counts *ret)
{
	size_t v[5] = {0};
	int r = walk(b, count_cb, v);

	if (r < 0)
		return r;
	*ret = (struct pkgdiff_counts){v[ADDED], v[REMOVED], v[UPGRADED], v[DOWNGRADED],
	                               v[UNCHANGED]};
	return 0;
}

struct diff_json {
	struct jb j;
	const struct evdoc_build *b;
	json_t *lists[4];
	size_t unchanged;
};

/* The advisories this build fixed in package p (by name or source). */
static json_t *fixes(struct diff_json *d, const struct evdoc_pkg *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->b->n_advisories; i++) {
		const struct evdoc_advisory *x = &d->b->advisories[i];
		bool seen = false;
		size_t k;
		json_t *v;

		if (strcmp(x->state, "fixed") || !evdoc_adv_names(x, p))
			continue;
		json_array_foreach(a, k, v) seen = seen || !strcmp(json_string_value(v), x->id);
		if (!seen)
			jb_push(&d->j, a, jb_str(x->id));
	}
	return a;
}

static void json_cb(enum change c, const struct evdoc_pkg *old, const struct evdoc_pkg *now,
                    void *arg)
{
	struct diff_json *d = arg;
	const struct evdoc_pkg *p = now ? now : old;
	char purl[EVDOC_PURL_MAX];
	json_t *o;

	if (c == UNCHANGED) {
		d->unchanged++;
		return;
	}
	o = json_pack("{s:o,s:o}", "name", jb_str(p->name), "ecosystem", jb_str(p->ecosystem));
	if (p->arch)
		jb_set_str(&d->j, o, "arch", p->arch);
	if (c == ADDED || c == REMOVED) {
		jb_set_str(&d->j, o, "version", p->version);
	} else {
		jb_set_str(&d->j, o, "from", old->version);
		jb_set_str(&d->j, o, "to", now->version);
	}
	if (evdoc_purl(p, purl, sizeof(purl)) > 0)
		jb_set_str(&d->j, o, "purl", purl);
	if (c != ADDED)
		jb_set(&d->j, o, "fixes", fixes(d, old));
	jb_push(&d->j, d->lists[c], o);
}

json_t *pkgdiff_json(const struct evdoc_build *b)
{
	struct diff_json d = {
	        {false}, b, {json_array(), json_array(), json_array(), json_array()}, 0};
	json_t *o;

	if (walk(b, json_cb, &d) < 0)
		d.j.oom = true;
	o = json_pack("{s:o,s:o,s:o,s:o,s:o}", "previous_build",
	              b->prev_id ? json_integer(b->prev_id) : json_null(), "added", d.lists[ADDED],
	              "removed", d.lists[REMOVED], "upgraded", d.lists[UPGRADED], "downgraded",
	              d.lists[DOWNGRADED]);
	jb_set(&d.j, o, "unchanged", json_integer((json_int_t)d.unchanged));
	return jb_done(&d.j, o);
}
