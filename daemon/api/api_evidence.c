/*
 * api_evidence — GET /v1/builds/ID/sbom (?format=spdx|cyclonedx),
 * /v1/builds/ID/provenance and /v1/builds/ID/vex, rendered from the store
 * (store_evdoc.h) by the pure document modules, and the package changes
 * of GET /v1/builds/ID.
 *
 * Statuses: 404 not_found for an unknown build; 409 not_finished while the
 * build is queued or running (the documents exist once it has finished:
 * asking again later will work); 410 gone when the retention policy removed
 * the inventory; 404 no_inventory when the build finished without one
 * (failed before it, or the image could not be read: it never will have
 * one); 404 no_statements for a VEX of an image no advisory matched (an
 * OpenVEX document needs at least one statement, and refit never guesses
 * not_affected).
 */
#include "api_impl.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "provenance.h"
#include "sbom.h"
#include "store_evidence.h"
#include "vex.h"

static bool finished(const struct evdoc_build *b)
{
	return b->status && strcmp(b->status, "queued") && strcmp(b->status, "running");
}

/* Why a build has no documents; 1 when it has what rt needs. */
static int check(struct store_evidence *e, enum api_route_id rt, struct api_render *ret)
{
	const struct evdoc_build *b = store_evidence_build(e);

	if (!finished(b))
		return api_render_error(
		        409, "not_finished",
		        "the build has not finished; its evidence exists once it has", ret);
	if (rt == R_BUILD_PROVENANCE) {
		if (!b->digest && !b->image_id)
			return api_render_error(404, "no_image", "the build made no image", ret);
		return 1;
	}
	if (store_evidence_pruned(e) && !b->have_inventory)
		return api_render_error(
		        410, "gone",
		        "the inventory of this build was removed by the retention policy", ret);
	if (!b->have_inventory)
		return api_render_error(
		        404, "no_inventory",
		        "this build has no package inventory (it failed before it was read, or "
		        "the image could not be read)",
		        ret);
	return 1;
}

static int render_doc(struct store_evidence *e, enum api_route_id rt, struct api_render *ret)
{
	const struct evdoc_build *b = store_evidence_build(e);
	json_t *doc = NULL;
	const char *type = "application/json";
	int r = 0;

	if (rt == R_BUILD_SBOM || rt == R_BUILD_SBOM_CDX) {
		enum sbom_format f = rt == R_BUILD_SBOM ? SBOM_SPDX : SBOM_CYCLONEDX;
		doc = sbom_render(b, f);
		type = sbom_media_type(f);
	} else if (rt == R_BUILD_PROVENANCE) {
		doc = provenance_statement(b);
		type = "application/vnd.in-toto+json";
	} else {
		r = vex_document(b, &doc);
		if (r == -ENODATA)
			return api_render_error(
			        404, "no_statements",
			        "no advisory is known to affect or to have been fixed in this "
			        "image, and an OpenVEX document needs at least one statement",
			        ret);
		type = "application/vnd.openvex+json";
	}
	if (!doc)
		return r == -EINVAL
		               ? api_render_error(404, "no_image", "the build made no image", ret)
		               : -ENOMEM;
	r = api_render_json(doc, 200, ret);
	if (r == 0)
		ret->content_type = type;
	return r;
}

int api_render_evidence(const struct api_view *v, const struct api_route *rt,
                        struct api_render *ret)
{
	struct store_evidence *e = NULL;
	struct evdoc_build *b;
	const struct config_project *p;
	int r = store_evidence_load(v->store, rt->build_id,
	                            rt->id == R_BUILD_PROVENANCE ? 0 : STORE_EVIDENCE_PKGS, &e);

	if (r == -ENOENT)
		return api_render_error(404, "not_found", "no such build", ret);
	if (r < 0)
		return r;
	b = store_evidence_build(e);
	p = b->repository ? NULL : config_project_find(v->cfg, b->project);
	if (p) /* inputs not captured (builds of an older refit): the configured image */
		b->repository = p->image;
	r = check(e, rt->id, ret);
	if (r == 1)
		r = render_doc(e, rt->id, ret);
	store_evidence_free(e);
	return r;
}

int api_sbom_format(const struct api_query *q, struct api_route *rt)
{
	enum sbom_format f;

	if (sbom_format_parse(api_query_get(q, "format"), &f) < 0)
		return -EINVAL;
	if (f == SBOM_CYCLONEDX)
		rt->id = R_BUILD_SBOM_CDX;
	return 0;
}

json_t *api_build_changes_json(struct store *s, int64_t build_id)
{
	json_t *o = NULL;
	int r = store_evidence_changes_json(s, build_id, &o);

	if (r == -ENODATA || r == -ENOENT)
		return json_null();
	return r < 0 ? NULL : o;
}
