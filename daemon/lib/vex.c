/*
 * vex — OpenVEX 0.2.0 statements from a build's advisory matches (see vex.h).
 */
#include "vex.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sbom.h"
#include "evdoc_impl.h"

#ifndef REFIT_VERSION
#define REFIT_VERSION "0"
#endif

static const char *installed_version(const struct evdoc_build *b, const struct evdoc_advisory *a)
{
	for (size_t i = 0; i < b->n_pkgs; i++)
		if (evdoc_adv_names(a, &b->pkgs[i]))
			return b->pkgs[i].version;
	return NULL;
}

/* What the state means and what to do about it. */
static void action_text(const struct evdoc_advisory *a, char *buf, size_t len)
{
	const char *fixed = a->fixed ? a->fixed : "?", *inst = a->installed ? a->installed : "?";
	bool pypi = a->ecosystem && !strcmp(a->ecosystem, "PyPI");

	if (!strcmp(a->state, "unfixed") || !a->fixed)
		snprintf(
		        buf, len,
		        "Pending upstream: no fixed version of %s is published yet; refit rebuilds "
		        "without cache when the advisory names one.",
		        a->package);
	else if (!strcmp(a->state, "needs-change"))
		snprintf(buf, len,
		         "Needs a change in the project: the build context pins %s to %s; %s fixes "
		         "it, so no rebuild can. Change the pin.",
		         a->package, inst, fixed);
	else if (!strcmp(a->state, "pending-upstream") && pypi)
		snprintf(buf, len,
		         "Needs a change in the project: %s %s fixes it, but a rebuild without "
		         "cache "
		         "still installs %s, so the project pins or resolves that version; require "
		         "%s>=%s.",
		         a->package, fixed, inst, a->package, fixed);
	else if (!strcmp(a->state, "pending-upstream"))
		snprintf(buf, len,
		         "Pending upstream: %s %s fixes it, but a rebuild without cache still "
		         "installs "
		         "%s: the fix has not reached the base image or the distribution's mirror "
		         "yet. refit rebuilds when the advisory or the base changes; the project "
		         "can "
		         "also upgrade the package in its Dockerfile.",
		         a->package, fixed, inst);
	else
		snprintf(buf, len,
		         "%s %s fixes it: refit rebuilds the image without cache to install it.",
		         a->package, fixed);
}

static void add_sub(struct jb *j, json_t *subs, const char *purl)
{
	size_t i;
	json_t *x;

	json_array_foreach(subs, i, x)
	{
		if (!strcmp(json_string_value(json_object_get(x, "@id")), purl))
			return;
	}
	jb_push(j, subs, json_pack("{s:s}", "@id", purl));
}

/* The purls of the packages the rows [from, to) name. */
static json_t *subcomponents(struct jb *j, const struct evdoc_build *b, size_t from, size_t to)
{
	json_t *subs = json_array();
	char purl[EVDOC_PURL_MAX];

	for (size_t r = from; r < to; r++)
		for (size_t i = 0; i < b->n_pkgs; i++)
			if (evdoc_adv_names(&b->advisories[r], &b->pkgs[i]) &&
			    evdoc_purl(&b->pkgs[i], purl, sizeof(purl)) > 0)
				add_sub(j, subs, purl);
	return subs;
}

static json_t *statement(struct jb *j, const struct evdoc_build *b, const char *product,
                         size_t from, size_t to)
{
	const struct evdoc_advisory *a = &b->advisories[from];
	bool fixed = !strcmp(a->state, "fixed");
	json_t *subs = subcomponents(j, b, from, to), *prod = json_pack("{s:s}", "@id", product);
	json_t *st = json_pack("{s:{s:o},s:s}", "vulnerability", "name", jb_str(a->id), "status",
	                       fixed ? "fixed" : "affected");
	char text[1024];
	size_t at;

	if (json_array_size(subs))
		jb_set(j, prod, "subcomponents", subs);
	else
		json_decref(subs);
	jb_set(j, st, "products", json_pack("[o]", prod));
	if (fixed) {
		const char *now = installed_version(b, a);
		snprintf(text, sizeof(text), "Fixed by this rebuild: %s %s -> %s.", a->package,
		         a->installed ? a->installed : "?", now ? now : "removed");
	} else {
		action_text(a, text, sizeof(text));
	}
	at = strlen(text);
	if (to - from > 1)
		snprintf(text + at, sizeof(text) - at, " (%zu packages)", to - from);
	jb_set_str(j, st, fixed ? "status_notes" : "action_statement", text);
	return st;
}

/* Rows of one advisory with one state are adjacent when sorted: the store orders by id. */
static bool same_group(const struct evdoc_advisory *x, const struct evdoc_advisory *y)
{
	return !strcmp(x->id, y->id) && !strcmp(x->state, y->state);
}

int vex_document(const struct evdoc_build *b, json_t **ret)
{
	struct jb j = {false};
	char product[EVDOC_PURL_MAX], id[512];
	json_t *doc, *stmts;

	if (!b->n_advisories)
		return -ENODATA;
	if (sbom_image_purl(b, product, sizeof(product)) < 0)
		return -EINVAL;
	snprintf(id, sizeof(id), "urn:refit:vex:%s:%s:%lld", b->project, b->env, (long long)b->id);
	stmts = json_array();
	for (size_t i = 0; i < b->n_advisories && !j.oom;) {
		size_t k = i + 1;
		while (k < b->n_advisories && same_group(&b->advisories[i], &b->advisories[k]))
			k++;
		jb_push(&j, stmts, statement(&j, b, product, i, k));
		i = k;
	}
	doc = json_pack("{s:s,s:o,s:s,s:s,s:o,s:i,s:s,s:o}", "@context", VEX_CONTEXT, "@id",
	                jb_str(id), "author", "refit", "role", "rebuilder", "timestamp",
	                jb_time(b->finished_at ? b->finished_at : b->inventory_at), "version", 1,
	                "tooling", "refit " REFIT_VERSION, "statements", stmts);
	*ret = jb_done(&j, doc);
	return *ret ? 0 : -ENOMEM;
}
