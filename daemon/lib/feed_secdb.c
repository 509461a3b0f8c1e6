/*
 * feed_secdb — Alpine secdb JSON to feed rows (see feed_secdb.h for the
 * rules). The document is small (a few hundred KB per release), so it is
 * parsed whole with jansson; the (package, id, version) listings are
 * collected, sorted by package and id and reduced to the lowest fix of each.
 */
#include "feed_secdb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "version.h"

/* One listing of an id under a fixed version of a package. */
struct entry {
	const char *pkg; /* borrowed from the document, as ver */
	char id[FEED_SECDB_MAX_ID + 1];
	const char *ver;
	bool zero;  /* listed under "0": never affected */
	size_t seq; /* document order, to keep the sort stable */
};

struct ctx {
	feed_row_cb cb;
	void *arg;
	char ecosystem[32];
	const char *pkg; /* the package being read */
	struct feed_secdb_stats st;
	struct entry *v;
	size_t n, cap;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static void seterr(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->err || !c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* "v3.N" or "v3.NN": the only releases OSV's Alpine ecosystem names. */
static bool distro_ok(const char *dv)
{
	size_t n = strlen(dv);

	return (n == 4 || n == 5) && !strncmp(dv, "v3.", 3) && is_digit(dv[3]) &&
	       (n == 4 || is_digit(dv[4]));
}

/* "YYYY-NNNN…": the numeric part of a CVE id. */
static bool cve_numbers_ok(const char *s)
{
	size_t i, k;

	for (i = 0; i < 4; i++)
		if (!is_digit(s[i]))
			return false;
	if (s[4] != '-')
		return false;
	for (k = 5; is_digit(s[k]); k++)
		;
	return k >= 9 && s[k] == '\0';
}

/*
 * An advisory id: a letter, then letters, digits and "-._:", with a dash and
 * a digit somewhere ("XSA-204", "ZBX-11023", "wnpa-sec-2017-18"). CVE ids
 * must be well formed: "CVE-????-?????" is a placeholder, not an id.
 */
static bool id_ok(const char *t)
{
	bool dash = false, digit = false;
	size_t n = strlen(t);

	if (n == 0 || n > FEED_SECDB_MAX_ID || !is_alpha(t[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_alpha(t[i]) && !is_digit(t[i]) && !strchr("-._:", t[i]))
			return false;
		dash |= t[i] == '-';
		digit |= is_digit(t[i]);
	}
	if (!strncmp(t, "CVE-", 4))
		return cve_numbers_ok(t + 4);
	return dash && digit;
}

static int add_entry(struct ctx *c, const char *id, const char *ver, bool zero)
{
	struct entry *e;

	switch (ARRAY_GROW(c->v, c->cap, c->n, FEED_SECDB_MAX_IDS)) {
	case -E2BIG:
		seterr(c, "more than %d ids in one document", FEED_SECDB_MAX_IDS);
		return -EMSGSIZE;
	case -ENOMEM:
		seterr(c, "out of memory");
		return -ENOMEM;
	}
	e = &c->v[c->n];
	e->pkg = c->pkg;
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->ver = ver;
	e->zero = zero;
	e->seq = c->n++;
	return 0;
}

/* Drops punctuation a hand-edited list leaves behind ("CVE-2018-1234,"). */
static void strip_trailing(char *t)
{
	size_t n = strlen(t);

	while (n > 0 && strchr(",;.", t[n - 1]))
		t[--n] = '\0';
}

/* Reads a "CVE YYYY-N" split across two tokens or a "CVE_YYYY-N"; 1 when repaired. */
static int repair(char *id, size_t idlen, const char *tok, const char *next)
{
	if (!strcmp(tok, "CVE") && next && cve_numbers_ok(next)) {
		snprintf(id, idlen, "CVE-%s", next);
		return 2;
	}
	if (!strncmp(tok, "CVE_", 4) && cve_numbers_ok(tok + 4)) {
		snprintf(id, idlen, "CVE-%s", tok + 4);
		return 1;
	}
	return 0;
}

/* Splits one id string into its ids; see feed_secdb.h for what is dropped. */
static int add_id_string(struct ctx *c, const char *s, const char *ver, bool zero)
{
	char buf[FEED_SECDB_MAX_IDSTR + 1], *tok[FEED_SECDB_MAX_IDSTR / 2 + 1], *save = NULL;
	char id[FEED_SECDB_MAX_ID + 1];
	size_t n = 0;
	int r = 0;

	if (strlen(s) > FEED_SECDB_MAX_IDSTR) {
		c->st.junk++;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	buf[strcspn(buf, "(")] = '\0'; /* the rest is a comment */
	for (char *t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		strip_trailing(t);
		tok[n++] = t;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		int used = repair(id, sizeof(id), tok[i], i + 1 < n ? tok[i + 1] : NULL);

		if (used) {
			c->st.repaired++;
			i += (size_t)used - 1;
			r = add_entry(c, id, ver, zero);
			continue;
		}
		if (id_ok(tok[i]))
			r = add_entry(c, tok[i], ver, zero);
		else
			c->st.junk++;
	}
	return r;
}

/* One secfixes member: a version and its id strings. */
static int add_version(struct ctx *c, const char *ver, const json_t *ids)
{
	bool zero = !strcmp(ver, "0");
	size_t i;
	json_t *s;
	int r = 0;

	if (json_is_null(ids)) {
		c->st.empty++;
		return 0;
	}
	if (!zero && version_valid(VERSION_ALPINE, ver) < 0) {
		c->st.bad_versions++;
		return 0;
	}
	if (json_is_string(ids))
		return add_id_string(c, json_string_value(ids), ver, zero);
	if (!json_is_array(ids))
		return -EINVAL;
	json_array_foreach(ids, i, s)
	{
		if (!json_is_string(s))
			c->st.junk++;
		else if ((r = add_id_string(c, json_string_value(s), ver, zero)) < 0)
			break;
	}
	return r;
}

static int by_package_id(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int d = strcmp(x->pkg, y->pkg);

	if (!d)
		d = strcmp(x->id, y->id);

	return d ? d : (x->seq > y->seq) - (x->seq < y->seq);
}

static int emit_row(struct ctx *c, const char *pkg, const char *id, const char *ver)
{
	struct feed_row row = {.id = id, .ecosystem = c->ecosystem, .package = pkg};
	json_t *aff = json_pack("{s:[{s:s,s:[{s:s},{s:s}]}]}", "ranges", "type", "ECOSYSTEM",
	                        "events", "introduced", "0", "fixed", ver);
	int r;

	if (!aff) {
		seterr(c, "out of memory");
		return -ENOMEM;
	}
	row.affected = aff;
	r = c->cb(&row, c->arg);
	json_decref(aff);
	if (r < 0)
		seterr(c, "stopped by the row callback (%d)", r);
	else
		c->st.rows++;
	return r < 0 ? r : 0;
}

static bool same_row(const struct entry *a, const struct entry *b)
{
	return !strcmp(a->pkg, b->pkg) && !strcmp(a->id, b->id);
}

/*
 * Sorts every listing of the document by (package, id) and emits each pair
 * once, with its lowest fix. Sorting the whole document, not each package,
 * also merges a package listed twice.
 */
static int emit_all(struct ctx *c)
{
	size_t i = 0, j;
	int r = 0;

	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), by_package_id);
	for (; i < c->n && r == 0; i = j) {
		const struct entry *low = &c->v[i];

		for (j = i + 1; j < c->n && same_row(&c->v[j], low); j++) {
			int cmp = 0;

			c->st.merged++;
			if (low->zero)
				continue;
			if (c->v[j].zero ||
			    (version_cmp(VERSION_ALPINE, c->v[j].ver, low->ver, &cmp) == 0 &&
			     cmp < 0))
				low = &c->v[j];
		}
		if (low->zero)
			c->st.not_affected++;
		else
			r = emit_row(c, low->pkg, low->id, low->ver);
	}
	return r;
}

/* One element of "packages": {"pkg":{"name":…,"secfixes":{…}}}. */
static int parse_package(struct ctx *c, const json_t *p, size_t idx)
{
	json_t *pkg = json_object_get(p, "pkg");
	const json_t *name = json_object_get(pkg, "name");
	json_t *fixes, *ids;
	const char *ver;
	int r = 0;

	if (!json_is_object(pkg) || !json_is_string(name) || !*json_string_value(name)) {
		seterr(c, "packages[%zu]: no pkg.name", idx);
		return -EINVAL;
	}
	fixes = json_object_get(pkg, "secfixes");
	if (fixes && !json_is_null(fixes) && !json_is_object(fixes)) {
		seterr(c, "packages[%zu] (%s): secfixes is not an object", idx,
		       json_string_value(name));
		return -EINVAL;
	}
	c->pkg = json_string_value(name);
	c->st.packages++;
	json_object_foreach(fixes, ver, ids)
	{
		r = add_version(c, ver, ids);
		if (r == -EINVAL)
			seterr(c, "packages[%zu] (%s): secfixes[\"%s\"] is not a list of ids", idx,
			       json_string_value(name), ver);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Checks the top level and returns its "packages" (NULL for an empty document). */
static int top_level(struct ctx *c, const json_t *doc, const json_t **ret_pkgs)
{
	const json_t *dv = json_object_get(doc, "distroversion");
	const json_t *pkgs = json_object_get(doc, "packages");

	if (!json_is_object(doc)) {
		seterr(c, "not a secdb document: the top level is not an object");
		return -EINVAL;
	}
	if (!json_is_string(dv) || !distro_ok(json_string_value(dv))) {
		seterr(c, "distroversion is %s, not \"v3.N\"",
		       json_is_string(dv) ? json_string_value(dv) : "missing");
		return -EINVAL;
	}
	if (!pkgs || !(json_is_null(pkgs) || json_is_array(pkgs))) {
		seterr(c, "\"packages\" is %s", pkgs ? "not a list" : "missing");
		return -EINVAL;
	}
	snprintf(c->ecosystem, sizeof(c->ecosystem), "Alpine:%s", json_string_value(dv));
	*ret_pkgs = json_is_array(pkgs) ? pkgs : NULL;
	return 0;
}

int feed_secdb_parse_stats(const char *buf, size_t len, feed_row_cb cb, void *arg,
                           struct feed_secdb_stats *ret_stats, char *err, size_t errlen)
{
	struct ctx c = {.cb = cb, .arg = arg, .err = err, .errlen = errlen};
	const json_t *pkgs = NULL, *p;
	json_error_t jerr;
	json_t *doc = NULL;
	size_t i;
	int r;

	if (len > FEED_SECDB_MAX_LEN) {
		seterr(&c, "document of %zu bytes, over the %u limit", len, FEED_SECDB_MAX_LEN);
		return -EMSGSIZE;
	}
	doc = json_loadb(buf, len, 0, &jerr);
	if (!doc && (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0])) {
		/* jansson leaves no message when its first allocation fails */
		seterr(&c, "out of memory");
		return -ENOMEM;
	}
	if (!doc) {
		seterr(&c, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	r = top_level(&c, doc, &pkgs);
	json_array_foreach(pkgs, i, p)
	{
		if (r < 0)
			break;
		r = parse_package(&c, p, i);
	}
	if (r == 0)
		r = emit_all(&c);
	json_decref(doc);
	free(c.v);
	if (r < 0)
		return r;
	if (ret_stats)
		*ret_stats = c.st;
	return (int)c.st.rows; /* bounded by FEED_SECDB_MAX_LEN */
}

int feed_secdb_parse(const char *buf, size_t len, feed_row_cb cb, void *arg, char *err,
                     size_t errlen)
{
	return feed_secdb_parse_stats(buf, len, cb, arg, NULL, err, errlen);
}
