/*
 * sbom — SPDX 2.3 and CycloneDX 1.5 documents of a build's inventory (see
 * sbom.h). One pass over the packages per document; purls are computed
 * once per package into a stack buffer.
 */
#include "sbom.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "evdoc_impl.h"

#ifndef REFIT_VERSION
#define REFIT_VERSION "0"
#endif

int sbom_format_parse(const char *s, enum sbom_format *ret)
{
	if (!s || !strcmp(s, "spdx") || !strcmp(s, "spdx-json")) {
		*ret = SBOM_SPDX;
		return 0;
	}
	if (!strcmp(s, "cyclonedx") || !strcmp(s, "cdx")) {
		*ret = SBOM_CYCLONEDX;
		return 0;
	}
	return -EINVAL;
}

const char *sbom_media_type(enum sbom_format f)
{
	return f == SBOM_CYCLONEDX ? "application/vnd.cyclonedx+json" : "application/spdx+json";
}

/* The digest that names the image: the pushed manifest's, else the image id. */
static const char *image_digest(const struct evdoc_build *b)
{
	return b->digest && *b->digest ? b->digest : b->image_id;
}

/* The last path segment of a repository, the purl's name. */
static const char *repo_base(const char *repo)
{
	const char *s = strrchr(repo, '/');

	return s ? s + 1 : repo;
}

int sbom_image_purl(const struct evdoc_build *b, char *buf, size_t len)
{
	const char *d = image_digest(b), *repo = b->repository ? b->repository : b->project;
	int n;

	if (!d || !repo)
		return -EINVAL;
	/* ':' of the digest is percent-encoded; repository_url names where it lives */
	n = snprintf(buf, len, "pkg:oci/%s@%.*s%%3A%s?repository_url=%s", repo_base(repo),
	             (int)strcspn(d, ":"), d, strchr(d, ':') ? strchr(d, ':') + 1 : "", repo);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* A source package worth naming: one that differs from the binary. */
static bool other_source(const struct evdoc_pkg *p)
{
	return p->source && (strcmp(p->source, p->name) ||
	                     (p->source_version && strcmp(p->source_version, p->version)));
}

static json_t *creators(void)
{
	return json_pack("[s]", "Tool: refit-" REFIT_VERSION);
}

/* ---- SPDX 2.3 ---- */

static json_t *spdx_purl_ref(const char *purl)
{
	return json_pack("[{s:s,s:s,s:s}]", "referenceCategory", "PACKAGE-MANAGER", "referenceType",
	                 "purl", "referenceLocator", purl);
}

static json_t *spdx_pkg_base(const char *id, const char *name, const char *version)
{
	return json_pack("{s:s,s:o,s:o,s:s,s:b,s:s,s:s,s:s}", "SPDXID", id, "name", jb_str(name),
	                 "versionInfo", jb_str(version ? version : ""), "downloadLocation",
	                 "NOASSERTION", "filesAnalyzed", 0, "licenseConcluded", "NOASSERTION",
	                 "licenseDeclared", "NOASSERTION", "copyrightText", "NOASSERTION");
}

static void spdx_rel(struct jb *j, json_t *rels, const char *a, const char *type, const char *b)
{
	jb_push(j, rels,
	        json_pack("{s:s,s:s,s:s}", "spdxElementId", a, "relationshipType", type,
	                  "relatedSpdxElement", b));
}

static json_t *spdx_package(struct jb *j, const struct evdoc_pkg *p, size_t i, char *id,
                            size_t idlen)
{
	char purl[EVDOC_PURL_MAX], info[600];
	json_t *o;

	snprintf(id, idlen, "SPDXRef-Package-%zu", i + 1);
	o = spdx_pkg_base(id, p->name, p->version);
	if (p->license && evdoc_license_is_expression(p->license))
		jb_set_str(j, o, "licenseDeclared", p->license);
	else if (p->license)
		jb_set_str(j, o, "licenseComments", p->license);
	if (other_source(p)) {
		snprintf(info, sizeof(info), "built package from: %s %s", p->source,
		         p->source_version ? p->source_version : "");
		jb_set_str(j, o, "sourceInfo", info);
	}
	if (evdoc_purl(p, purl, sizeof(purl)) > 0)
		jb_set(j, o, "externalRefs", spdx_purl_ref(purl));
	jb_set_str(j, o, "comment", p->ecosystem);
	return o;
}

/* The image as a package: name, digest as version and checksum, purl. */
static json_t *spdx_image(struct jb *j, const struct evdoc_build *b)
{
	const char *d = image_digest(b), *hex = evdoc_sha256_hex(b->digest);
	char purl[EVDOC_PURL_MAX], desc[512];
	json_t *o = spdx_pkg_base("SPDXRef-Image", b->repository ? b->repository : b->project, d);

	jb_set_str(j, o, "primaryPackagePurpose", "CONTAINER");
	if (hex)
		jb_set(j, o, "checksums",
		       json_pack("[{s:s,s:s}]", "algorithm", "SHA256", "checksumValue", hex));
	if (sbom_image_purl(b, purl, sizeof(purl)) > 0)
		jb_set(j, o, "externalRefs", spdx_purl_ref(purl));
	snprintf(desc, sizeof(desc), "project %s, environment %s, refit build %lld", b->project,
	         b->env, (long long)b->id);
	jb_set_str(j, o, "description", desc);
	return o;
}

static void spdx_base(struct jb *j, const struct evdoc_build *b, json_t *pkgs, json_t *rels)
{
	const char *hex = evdoc_sha256_hex(b->base_digest);
	json_t *o;

	if (!b->base_name)
		return;
	o = spdx_pkg_base("SPDXRef-BaseImage", b->base_name, b->base_digest);
	jb_set_str(j, o, "primaryPackagePurpose", "CONTAINER");
	if (hex)
		jb_set(j, o, "checksums",
		       json_pack("[{s:s,s:s}]", "algorithm", "SHA256", "checksumValue", hex));
	jb_push(j, pkgs, o);
	spdx_rel(j, rels, "SPDXRef-Image", "DESCENDANT_OF", "SPDXRef-BaseImage");
}

static json_t *spdx_head(const struct evdoc_build *b)
{
	char name[512], ns[1024];
	const char *d = image_digest(b);

	snprintf(name, sizeof(name), "%s:%s (refit build %lld)",
	         b->repository ? b->repository : b->project, b->env, (long long)b->id);
	snprintf(ns, sizeof(ns), "urn:refit:spdx:%s:%s:%lld:%s", b->project, b->env,
	         (long long)b->id, d ? d : "none");
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:{s:o,s:o}}", "spdxVersion", "SPDX-2.3",
	                 "dataLicense", "CC0-1.0", "SPDXID", "SPDXRef-DOCUMENT", "name",
	                 jb_str(name), "documentNamespace", jb_str(ns), "creationInfo", "created",
	                 jb_time(b->finished_at ? b->finished_at : b->inventory_at), "creators",
	                 creators());
}

json_t *sbom_spdx(const struct evdoc_build *b)
{
	struct jb j = {false};
	json_t *doc = spdx_head(b), *pkgs = json_array(), *rels = json_array();
	char id[48];

	jb_set(&j, doc, "documentDescribes", json_pack("[s]", "SPDXRef-Image"));
	jb_push(&j, pkgs, spdx_image(&j, b));
	spdx_rel(&j, rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
	spdx_base(&j, b, pkgs, rels);
	for (size_t i = 0; i < b->n_pkgs && !j.oom; i++) {
		jb_push(&j, pkgs, spdx_package(&j, &b->pkgs[i], i, id, sizeof(id)));
		spdx_rel(&j, rels, "SPDXRef-Image", "CONTAINS", id);
	}
	jb_set(&j, doc, "packages", pkgs);
	jb_set(&j, doc, "relationships", rels);
	return jb_done(&j, doc);
}

/* ---- CycloneDX 1.5 ---- */

/* A serial number derived from the build: urn:uuid with version 5 and RFC 4122 variant bits. */
static void cdx_serial(const struct evdoc_build *b, char *buf, size_t len)
{
	char seed[1024], d[DIGEST_STR_MAX] = "sha256:";
	const char *h;
	char x[33];

	snprintf(seed, sizeof(seed), "%s\n%s\n%lld\n%s", b->project, b->env, (long long)b->id,
	         image_digest(b) ? image_digest(b) : "");
	digest_sha256(seed, strlen(seed), d);
	h = d + 7;
	memcpy(x, h, 32);
	x[32] = '\0';
	x[12] = '5';
	x[16] = "89ab"[(x[16] >= 'a' ? x[16] - 'a' + 10 : x[16] - '0') & 3];
	snprintf(buf, len, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", x, x + 8, x + 12, x + 16, x + 20);
}

static json_t *cdx_licenses(const char *lic)
{
	if (evdoc_license_is_expression(lic))
		return json_pack("[{s:s}]", "expression", lic);
	return json_pack("[{s:{s:o}}]", "license", "name", jb_str(lic));
}

static json_t *cdx_props(struct jb *j, const struct evdoc_pkg *p)
{
	json_t *a = json_array();
	char v[600];

	jb_push(j, a,
	        json_pack("{s:s,s:o}", "name", "refit:ecosystem", "value", jb_str(p->ecosystem)));
	if (other_source(p)) {
		snprintf(v, sizeof(v), "%s %s", p->source,
		         p->source_version ? p->source_version : "");
		jb_push(j, a, json_pack("{s:s,s:o}", "name", "refit:source", "value", jb_str(v)));
	}
	if (p->arch)
		jb_push(j, a,
		        json_pack("{s:s,s:o}", "name", "refit:arch", "value", jb_str(p->arch)));
	return a;
}

/* One component; refs (a set of bom-refs) keeps them unique as the schema requires. */
static json_t *cdx_component(struct jb *j, const struct evdoc_pkg *p, size_t i, json_t *refs,
                             json_t *deps)
{
	char purl[EVDOC_PURL_MAX], ref[EVDOC_PURL_MAX + 24];
	json_t *o = json_pack("{s:s,s:o,s:o}", "type", "library", "name", jb_str(p->name),
	                      "version", jb_str(p->version));
	bool have = evdoc_purl(p, purl, sizeof(purl)) > 0;

	if (have) /* a purl is ASCII; a name may not be UTF-8 when it has no purl */
		snprintf(ref, sizeof(ref), "%s", purl);
	if (!have || json_object_get(refs, ref))
		snprintf(ref, sizeof(ref), "%s#%zu", have ? purl : "package", i + 1);
	jb_set(j, refs, ref, json_true());
	jb_set_str(j, o, "bom-ref", ref);
	if (have)
		jb_set_str(j, o, "purl", purl);
	if (p->license)
		jb_set(j, o, "licenses", cdx_licenses(p->license));
	jb_set(j, o, "properties", cdx_props(j, p));
	jb_push(j, deps, jb_str(ref));
	return o;
}

static json_t *cdx_image(struct jb *j, const struct evdoc_build *b)
{
	char purl[EVDOC_PURL_MAX];
	const char *hex = evdoc_sha256_hex(b->digest), *bh = evdoc_sha256_hex(b->base_digest);
	json_t *o = json_pack("{s:s,s:s,s:o,s:o}", "type", "container", "bom-ref", "image", "name",
	                      jb_str(b->repository ? b->repository : b->project), "version",
	                      jb_str(image_digest(b) ? image_digest(b) : ""));

	if (sbom_image_purl(b, purl, sizeof(purl)) > 0)
		jb_set_str(j, o, "purl", purl);
	if (hex)
		jb_set(j, o, "hashes", json_pack("[{s:s,s:s}]", "alg", "SHA-256", "content", hex));
	if (b->base_name) {
		json_t *anc = json_pack("{s:s,s:s,s:o,s:o}", "type", "container", "bom-ref",
		                        "base-image", "name", jb_str(b->base_name), "version",
		                        jb_str(b->base_digest ? b->base_digest : ""));
		if (bh)
			jb_set(j, anc, "hashes",
			       json_pack("[{s:s,s:s}]", "alg", "SHA-256", "content", bh));
		jb_set(j, o, "pedigree", json_pack("{s:[o]}", "ancestors", anc));
	}
	jb_set(j, o, "properties",
	       json_pack("[{s:s,s:o},{s:s,s:o},{s:s,s:o}]", "name", "refit:project", "value",
	                 jb_str(b->project), "name", "refit:environment", "value", jb_str(b->env),
	                 "name", "refit:build", "value", json_sprintf("%lld", (long long)b->id)));
	return o;
}

/* The operating system the inventory names, as its own component. */
static void cdx_os(struct jb *j, const struct evdoc_build *b, json_t *comps, json_t *deps)
{
	if (!b->os_id)
		return;
	jb_push(j, comps,
	        json_pack("{s:s,s:s,s:o,s:o}", "type", "operating-system", "bom-ref", "os", "name",
	                  jb_str(b->os_id), "version", jb_str(b->os_version ? b->os_version : "")));
	jb_push(j, deps, json_string("os"));
}

json_t *sbom_cyclonedx(const struct evdoc_build *b)
{
	struct jb j = {false};
	char serial[64];
	json_t *doc, *comps = json_array(), *refs = json_object(), *deps = json_array();

	cdx_serial(b, serial, sizeof(serial));
	doc = json_pack("{s:s,s:s,s:s,s:i,s:{s:o,s:{s:[{s:s,s:s,s:s}]},s:o}}", "bomFormat",
	                "CycloneDX", "specVersion", "1.5", "serialNumber", serial, "version", 1,
	                "metadata", "timestamp",
	                jb_time(b->finished_at ? b->finished_at : b->inventory_at), "tools",
	                "components", "type", "application", "name", "refit", "version",
	                REFIT_VERSION, "component", cdx_image(&j, b));
	cdx_os(&j, b, comps, deps);
	for (size_t i = 0; i < b->n_pkgs && !j.oom; i++)
		jb_push(&j, comps, cdx_component(&j, &b->pkgs[i], i, refs, deps));
	json_decref(refs);
	jb_set(&j, doc, "components", comps);
	jb_set(&j, doc, "dependencies",
	       json_pack("[{s:s,s:o}]", "ref", "image", "dependsOn", deps));
	return jb_done(&j, doc);
}

json_t *sbom_render(const struct evdoc_build *b, enum sbom_format f)
{
	return f == SBOM_CYCLONEDX ? sbom_cyclonedx(b) : sbom_spdx(b);
}
