/*
 * ctl_verify — `refitctl verify IMAGE --key PUB`: finds the signature and the
 * attestations of an image in its registry and checks them against a public key.
 *
 * The image's manifest digest comes from the registry (or the reference). Its
 * referrers come from the referrers API where the registry answers it, else from
 * the fallback tag sha256-<hex>, else from cosign's own tags (.sig, .att). Every
 * manifest and blob is checked against its digest; a signature counts when it
 * verifies and its payload names this digest; an attestation when its envelope
 * verifies and its Statement's subject is this digest. Exit 0 only with a valid
 * signature and no attestation that fails. Credentials: docker's config.json and its
 * helpers, as refitd's defaults.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cosign.h"
#include "creds.h"
#include "ctl.h"
#include "digest.h"
#include "http_client.h"
#include "ref.h"
#include "registry.h"
#include "sign.h"

struct fetch {
	bool done;
	int status;
	char *body;
	size_t len;
	char content_type[128];
	char error[512];
};

struct verify {
	uv_loop_t loop;
	struct http_client *http;
	struct registry_pool *pool;
	struct creds *creds;
	struct image_ref ref;
	struct sign_key *key;
	char digest[DIGEST_STR_MAX];
	int signatures, failures, attestations;
};

static void fetch_cb(int status, const struct registry_response *r, void *arg)
{
	struct fetch *f = arg;

	f->done = true;
	f->status = status;
	if (status < 0) {
		snprintf(f->error, sizeof(f->error), "%s", r->error ? r->error : strerror(-status));
		return;
	}
	f->body = malloc(r->body_len + 1);
	if (!f->body) {
		f->status = -ENOMEM;
		return;
	}
	memcpy(f->body, r->body, r->body_len);
	f->body[r->body_len] = '\0';
	f->len = r->body_len;
	snprintf(f->content_type, sizeof(f->content_type), "%s", r->content_type);
}

/* GET path in the image's repository, waiting for the answer. */
static int get(struct verify *v, const char *path, struct fetch *f)
{
	struct registry_request rq = {.domain = v->ref.domain,
	                              .name = v->ref.path,
	                              .method = "GET",
	                              .path = path,
	                              .max_body = COSIGN_DOC_MAX};
	int r;

	*f = (struct fetch){0};
	r = registry_request(v->pool, &rq, fetch_cb, f);
	if (r < 0)
		return r;
	while (!f->done)
		uv_run(&v->loop, UV_RUN_ONCE);
	return f->status;
}

/* GET of something addressed by digest: its bytes must hash to it. */
static int get_checked(struct verify *v, const char *kind, const char *digest, struct fetch *f)
{
	char path[160], got[DIGEST_STR_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", kind, digest);
	r = get(v, path, f);
	if (r == 0 && (digest_sha256(f->body, f->len, got) < 0 || strcmp(got, digest))) {
		snprintf(f->error, sizeof(f->error), "%s %s: the registry served other bytes", kind,
		         digest);
		r = -EBADMSG;
	}
	if (r < 0 && !f->error[0])
		snprintf(f->error, sizeof(f->error), "%s", strerror(-r));
	return r;
}

__attribute__((format(printf, 2, 3))) static void failed(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "refitctl verify: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	v->failures++;
}

static void check_signature(struct verify *v, const struct cosign_manifest_layer *l,
                            const struct fetch *blob)
{
	char *repo = NULL, dig[DIGEST_STR_MAX];

	if (sign_verify(v->key, blob->body, blob->len, l->signature) < 0) {
		failed(v, "signature %s: does not verify with this key", l->digest);
		return;
	}
	if (cosign_payload_read(blob->body, blob->len, &repo, dig) < 0) {
		failed(v, "signature %s: not a cosign simple signing payload", l->digest);
		return;
	}
	if (strcmp(dig, v->digest))
		failed(v, "signature %s: signs another manifest, %s", l->digest, dig);
	else {
		printf("signature: ok\n  manifest: %s\n  identity: %s\n", dig, repo);
		v->signatures++;
	}
	free(repo);
}

static void check_attestation(struct verify *v, const struct cosign_manifest_layer *l,
                              const struct fetch *blob)
{
	struct cosign_blob payload = {0};
	char *type = NULL, *pt = NULL;
	bool match = false;

	if (dsse_open(v->key, blob->body, blob->len, &payload, &type) < 0) {
		failed(v, "attestation %s: the envelope does not verify with this key", l->digest);
		return;
	}
	if (strcmp(type, INTOTO_PAYLOAD_TYPE) ||
	    intoto_read(payload.p, payload.len, v->digest, &pt, &match) < 0)
		failed(v, "attestation %s: not an in-toto Statement", l->digest);
	else if (!match)
		failed(v, "attestation %s (%s): about another image", l->digest, pt);
	else if (l->predicate_type && strcmp(l->predicate_type, pt))
		failed(v, "attestation %s: annotated %s, says otherwise", l->digest,
		       l->predicate_type);
	else {
		printf("attestation: ok\n  predicate type: %s\n  subject: %s@%s\n", pt, v->ref.path,
		       v->digest);
		v->attestations++;
	}
	free(pt);
	free(type);
	cosign_blob_done(&payload);
}

/* One artifact manifest: each of its signature and attestation layers checked. */
static void check_artifact(struct verify *v, const char *digest)
{
	struct cosign_manifest_info mi = {0};
	struct fetch f, blob;

	if (get_checked(v, "manifests", digest, &f) < 0) {
		failed(v, "artifact %s: %s", digest, f.error);
		goto out;
	}
	if (cosign_manifest_read(f.body, f.len, &mi) < 0) {
		failed(v, "artifact %s: not an image manifest", digest);
		goto out;
	}
	if (mi.subject[0] && strcmp(mi.subject, v->digest)) {
		failed(v, "artifact %s: refers to %s", digest, mi.subject);
		goto out;
	}
	for (size_t i = 0; i < mi.n_layers; i++) {
		const struct cosign_manifest_layer *l = &mi.layers[i];
		bool sig = !strcmp(l->media_type, COSIGN_SIG_LAYER);
		if (!sig && strcmp(l->media_type, COSIGN_ATT_LAYER))
			continue;
		if (get_checked(v, "blobs", l->digest, &blob) < 0)
			failed(v, "layer %s: %s", l->digest, blob.error);
		else if (sig)
			check_signature(v, l, &blob);
		else
			check_attestation(v, l, &blob);
		free(blob.body);
	}
out:
	free(f.body);
	cosign_manifest_info_done(&mi);
}

/* The referrers: from the API, else the fallback tag; NULL list when neither has any. */
static int referrers(struct verify *v, struct cosign_referrer **ret, size_t *ret_n,
                     const char **ret_where)
{
	char path[160], tag[128];
	struct fetch f;
	int r;

	snprintf(path, sizeof(path), "referrers/%s", v->digest);
	r = get(v, path, &f);
	*ret_where = "the referrers API";
	if (r < 0 || strcmp(f.content_type, OCI_INDEX_TYPE) ||
	    cosign_index_read(f.body, f.len, ret, ret_n) < 0 || *ret_n == 0) {
		free(f.body);
		cosign_tag(v->digest, "", tag, sizeof(tag));
		snprintf(path, sizeof(path), "manifests/%s", tag);
		r = get(v, path, &f);
		*ret_where = "the referrers tag";
		if (r < 0 || cosign_index_read(f.body, f.len, ret, ret_n) < 0)
			r = -ENOENT;
	}
	free(f.body);
	return r;
}

/* Without referrers: cosign's tags, resolved to digests. */
static void cosign_tags(struct verify *v)
{
	static const char *const suffix[] = {".sig", ".att"};
	char path[160], tag[128], dig[DIGEST_STR_MAX];
	struct fetch f;

	for (size_t i = 0; i < 2; i++) {
		cosign_tag(v->digest, suffix[i], tag, sizeof(tag));
		snprintf(path, sizeof(path), "manifests/%s", tag);
		if (get(v, path, &f) == 0 && digest_sha256(f.body, f.len, dig) == 0) {
			printf("found %s\n", tag);
			check_artifact(v, dig);
		}
		free(f.body);
	}
}

/* The manifest digest the reference names (the index's, for a multi-platform tag). */
static int resolve(struct verify *v)
{
	char path[400];
	struct fetch f;
	int r;

	if (v->ref.digest[0]) {
		if (strlen(v->ref.digest) >= sizeof(v->digest) ||
		    strncmp(v->ref.digest, "sha256:", 7))
			return -EINVAL;
		memcpy(v->digest, v->ref.digest, strlen(v->ref.digest) + 1);
		return 0;
	}
	snprintf(path, sizeof(path), "manifests/%s", v->ref.tag[0] ? v->ref.tag : "latest");
	r = get(v, path, &f);
	if (r == 0)
		r = digest_sha256(f.body, f.len, v->digest);
	else
		fprintf(stderr, "refitctl verify: %s\n", f.error);
	free(f.body);
	return r;
}

static int run(struct verify *v)
{
	struct cosign_referrer *refs = NULL;
	const char *where;
	size_t n = 0;

	if (resolve(v) < 0)
		return CTL_FAIL;
	printf("image: %s/%s@%s\n", v->ref.domain, v->ref.path, v->digest);
	if (referrers(v, &refs, &n, &where) == 0 && n) {
		printf("referrers: %zu, from %s\n", n, where);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(refs[i].artifact_type, COSIGN_SIG_ARTIFACT) ||
			    !strcmp(refs[i].artifact_type, COSIGN_ATT_ARTIFACT))
				check_artifact(v, refs[i].digest);
	} else {
		printf("referrers: none; trying cosign's tags\n");
		cosign_tags(v);
	}
	free(refs);
	if (v->signatures == 0)
		fprintf(stderr, "refitctl verify: no valid signature of %s\n", v->digest);
	printf("result: %s (%d signature(s), %d attestation(s), %d failure(s))\n",
	       v->signatures && !v->failures ? "verified" : "FAILED", v->signatures,
	       v->attestations, v->failures);
	return v->signatures && !v->failures ? CTL_OK : CTL_FAIL;
}

static int setup(struct verify *v, const char *image, const char *keyfile)
{
	const char *perr = NULL;
	char err[512];

	if (ref_parse(image, &v->ref, &perr) < 0) {
		fprintf(stderr, "refitctl verify: %s: %s\n", image, perr ? perr : "invalid");
		return CTL_USAGE;
	}
	if (sign_key_load_public(keyfile, &v->key, err, sizeof(err)) < 0) {
		fprintf(stderr, "refitctl verify: key %s\n", err);
		return CTL_USAGE;
	}
	http_global_init();
	uv_loop_init(&v->loop);
	if (http_client_new(&v->loop, &v->http) < 0 || creds_new(&v->loop, NULL, &v->creds) < 0 ||
	    registry_pool_new(&v->loop, v->http, v->creds, NULL, &v->pool) < 0) {
		fprintf(stderr, "refitctl verify: cannot set up HTTP\n");
		return CTL_FAIL;
	}
	return CTL_OK;
}

static void teardown(struct verify *v)
{
	if (v->pool)
		registry_pool_free(v->pool);
	if (v->creds)
		creds_free(v->creds);
	if (v->http)
		http_client_close(v->http);
	uv_run(&v->loop, UV_RUN_DEFAULT);
	uv_loop_close(&v->loop);
	http_global_cleanup();
	sign_key_free(v->key);
}

int ctl_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
	                                     {NULL, 0, NULL, 0}};
	struct verify v = {0};
	const char *key = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (c != 'k')
			return CTL_USAGE;
		key = optarg;
	}
	if (optind != argc - 1 || !key) {
		fprintf(stderr, "usage: refitctl verify IMAGE --key PUBLIC_KEY.pem\n");
		return CTL_USAGE;
	}
	rc = setup(&v, argv[optind], key);
	if (rc == CTL_OK)
		rc = run(&v);
	if (v.key || v.pool)
		teardown(&v);
	return rc;
}
