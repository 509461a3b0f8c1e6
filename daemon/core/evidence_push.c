#include "evidence_push.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosign.h"
#include "log.h"
#include "ref.h"
#include "registry.h"
#include "sign.h"

#define MAX_ATTS 32

enum kind { K_SUBJECT, K_BLOB_POST, K_BLOB_PUT, K_MANIFEST, K_INDEX_GET, K_INDEX_PUT };

struct slot {
	struct evidence_push *e;
	const struct cosign_blob *blob; /* uploaded, or the manifest PUT */
	enum kind kind;
	bool busy;
};

/* Blobs: [0] payload, [1] sig config, [2..2+n) envelopes, [2+n] att config. */
struct evidence_push {
	uv_loop_t *loop;
	struct registry_pool *p;
	const struct sign_key *key;
	char domain[REF_DOMAIN_MAX + 1], name[REF_PATH_MAX + 1], repo[REF_STRING_MAX];
	char digest[DIGEST_STR_MAX], subject_type[128];
	size_t subject_size;
	struct cosign_attestation atts[MAX_ATTS];
	char *owned[2 * MAX_ATTS]; /* the attestations' strings */
	size_t n_atts;
	struct cosign_blob blobs[MAX_ATTS + 3], sig_manifest, att_manifest, index, old_index;
	char *signature; /* of the payload, base64 */
	size_t n_blobs;
	struct slot slots[MAX_ATTS + 5];
	unsigned pending, requests;
	bool all_subject; /* every manifest PUT answered OCI-Subject */
	FILE *log;
	uint64_t started;
	evidence_push_cb cb;
	void *arg;
	char error[512];
};

static void req_cb(int status, const struct registry_response *r, void *arg);

static void ev_free(struct evidence_push *e)
{
	for (size_t i = 0; i < 2 * e->n_atts; i++)
		free(e->owned[i]);
	for (size_t i = 0; i < sizeof(e->blobs) / sizeof(e->blobs[0]); i++)
		cosign_blob_done(&e->blobs[i]);
	cosign_blob_done(&e->sig_manifest);
	cosign_blob_done(&e->att_manifest);
	cosign_blob_done(&e->index);
	cosign_blob_done(&e->old_index);
	free(e->signature);
	free(e);
}

static void cancel_all(struct evidence_push *e)
{
	for (size_t i = 0; i < sizeof(e->slots) / sizeof(e->slots[0]); i++)
		if (e->slots[i].busy)
			registry_request_cancel(e->p, req_cb, &e->slots[i]);
}

__attribute__((format(printf, 2, 3))) static void logf_ev(struct evidence_push *e, const char *fmt,
                                                          ...)
{
	va_list ap;

	if (!e->log)
		return;
	va_start(ap, fmt);
	fputs("refit: evidence: ", e->log);
	vfprintf(e->log, fmt, ap);
	fputc('\n', e->log);
	va_end(ap);
	fflush(e->log);
}

static void finish(struct evidence_push *e, int status)
{
	struct evidence_result r = {.error = status < 0 ? e->error : NULL,
	                            .sig_digest = e->sig_manifest.digest,
	                            .att_digest = e->att_manifest.digest,
	                            .referrers_api = e->all_subject,
	                            .requests = e->requests,
	                            .elapsed_ms = uv_now(e->loop) - e->started};

	cancel_all(e);
	if (status < 0)
		logf_ev(e, "failed: %s", e->error);
	e->cb(status, &r, e->arg);
	ev_free(e);
}

__attribute__((format(printf, 3, 4))) static void fail(struct evidence_push *e, int status,
                                                       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->error, sizeof(e->error), fmt, ap);
	va_end(ap);
	finish(e, status);
}

/* Sends one request of slot s. */
static int request(struct evidence_push *e, struct slot *s, const char *method, const char *path,
                   const char *ct, const struct cosign_blob *body)
{
	struct registry_request rq = {.domain = e->domain,
	                              .name = e->name,
	                              .method = method,
	                              .path = path,
	                              .content_type = ct,
	                              .body = body ? body->p : NULL,
	                              .body_len = body ? body->len : 0,
	                              .push = true};
	int r = registry_request(e->p, &rq, req_cb, s);

	if (r < 0)
		return r;
	s->busy = true;
	e->pending++;
	e->requests++;
	return 0;
}

/* The same, finishing e when the request cannot start; false then. */
static bool request_or_fail(struct evidence_push *e, struct slot *s, const char *method,
                            const char *path, const char *ct, const struct cosign_blob *body)
{
	int r = request(e, s, method, path, ct, body);

	if (r < 0)
		fail(e, r, "cannot start a registry request: %s", strerror(-r));
	return r == 0;
}

static struct slot *slot_new(struct evidence_push *e, size_t i, enum kind k,
                             const struct cosign_blob *b)
{
	e->slots[i] = (struct slot){.e = e, .blob = b, .kind = k};
	return &e->slots[i];
}

/* The signature: the payload signed, its layer and config (the manifest waits for the subject). */
static int build_signature(struct evidence_push *e)
{
	struct cosign_blob *payload = &e->blobs[0];
	int r = cosign_payload(e->repo, e->digest, payload);
	struct cosign_layer l = {COSIGN_SIG_LAYER, payload, {COSIGN_SIG_ANNOTATION}, {NULL}};

	if (r == 0)
		r = sign_message(e->key, payload->p, payload->len, &e->signature);
	l.annotation_value[0] = e->signature;
	if (r == 0)
		r = cosign_config(&l, 1, &e->blobs[1]);
	return r;
}

static struct cosign_layer att_layer(const struct evidence_push *e, size_t i)
{
	return (struct cosign_layer){COSIGN_ATT_LAYER,
	                             &e->blobs[2 + i],
	                             {COSIGN_SIG_ANNOTATION, COSIGN_PRED_ANNOTATION},
	                             {"", e->atts[i].predicate_type}};
}

/* The attestations: a Statement each, in a signed envelope, one layer each, and the config. */
static int build_attestations(struct evidence_push *e)
{
	struct cosign_layer layers[MAX_ATTS];
	int r = 0;

	for (size_t i = 0; r == 0 && i < e->n_atts; i++) {
		struct cosign_blob st = {0};
		r = intoto_statement(e->repo, e->digest, &e->atts[i], &st);
		if (r == 0)
			r = dsse_sign(e->key, INTOTO_PAYLOAD_TYPE, st.p, st.len, &e->blobs[2 + i]);
		cosign_blob_done(&st);
		layers[i] = att_layer(e, i);
	}
	if (r == 0 && e->n_atts)
		r = cosign_config(layers, e->n_atts, &e->blobs[2 + e->n_atts]);
	return r;
}

/* Both manifests, once the subject's size and media type are known. */
static int build_manifests(struct evidence_push *e)
{
	struct cosign_layer sig = {
	        COSIGN_SIG_LAYER, &e->blobs[0], {COSIGN_SIG_ANNOTATION}, {e->signature}};
	struct cosign_layer layers[MAX_ATTS];
	int r;

	r = cosign_manifest(&e->blobs[1], &sig, 1, COSIGN_SIG_ARTIFACT, e->digest, e->subject_size,
	                    e->subject_type, &e->sig_manifest);
	for (size_t i = 0; i < e->n_atts; i++)
		layers[i] = att_layer(e, i);
	if (r == 0 && e->n_atts)
		r = cosign_manifest(&e->blobs[2 + e->n_atts], layers, e->n_atts,
		                    COSIGN_ATT_ARTIFACT, e->digest, e->subject_size,
		                    e->subject_type, &e->att_manifest);
	return r;
}

static void index_path(const struct evidence_push *e, char *path, size_t len)
{
	char tag[128];

	cosign_tag(e->digest, "", tag, sizeof(tag));
	snprintf(path, len, "manifests/%s", tag);
}

/*
 * The first round, all at once: the image manifest (the subject's size and type), the
 * referrers tag as it is now, and every blob's upload.
 */
static int first_round(struct evidence_push *e)
{
	char path[160];
	int r = build_signature(e);

	if (r == 0)
		r = build_attestations(e);
	if (r < 0)
		return r;
	e->n_blobs = e->n_atts ? 3 + e->n_atts : 2;
	snprintf(path, sizeof(path), "manifests/%s", e->digest);
	r = request(e, slot_new(e, e->n_blobs, K_SUBJECT, NULL), "GET", path, NULL, NULL);
	index_path(e, path, sizeof(path));
	if (r == 0)
		r = request(e, slot_new(e, e->n_blobs + 1, K_INDEX_GET, NULL), "GET", path, NULL,
		            NULL);
	for (size_t i = 0; r == 0 && i < e->n_blobs; i++)
		r = request(e, slot_new(e, i, K_BLOB_POST, &e->blobs[i]), "POST", "blobs/uploads/",
		            NULL, NULL);
	return r;
}

static void put_manifests(struct evidence_push *e)
{
	char tag[128], path[160];
	const struct cosign_blob *m[2] = {&e->sig_manifest, &e->att_manifest};
	const char *suffix[2] = {".sig", ".att"};
	int r = build_manifests(e);

	if (r < 0) {
		fail(e, r, "cannot make the artifact manifests: %s", strerror(-r));
		return;
	}
	e->all_subject = true;
	for (size_t i = 0; i < (e->n_atts ? 2u : 1u); i++) {
		cosign_tag(e->digest, suffix[i], tag, sizeof(tag));
		snprintf(path, sizeof(path), "manifests/%s", tag);
		if (!request_or_fail(e, slot_new(e, i, K_MANIFEST, m[i]), "PUT", path,
		                     OCI_MANIFEST_TYPE, m[i]))
			return;
	}
}

/* The referrers tag: what it listed plus our manifests, written back. */
static void put_index(struct evidence_push *e)
{
	struct cosign_referrer add[2] = {{.size = e->sig_manifest.len},
	                                 {.size = e->att_manifest.len}};
	const struct cosign_blob *old = &e->old_index;
	char path[160];
	int r;

	memcpy(add[0].digest, e->sig_manifest.digest, DIGEST_STR_MAX);
	snprintf(add[0].artifact_type, sizeof(add[0].artifact_type), "%s", COSIGN_SIG_ARTIFACT);
	memcpy(add[1].digest, e->att_manifest.digest, DIGEST_STR_MAX);
	snprintf(add[1].artifact_type, sizeof(add[1].artifact_type), "%s", COSIGN_ATT_ARTIFACT);
	r = cosign_index_merge(old->p, old->len, add, e->n_atts ? 2 : 1, &e->index);
	if (r == -EINVAL) /* not an index: someone else's tag; ours replaces it */
		r = cosign_index_merge(NULL, 0, add, e->n_atts ? 2 : 1, &e->index);
	if (r < 0) {
		fail(e, r, "cannot merge the referrers index: %s", strerror(-r));
		return;
	}
	index_path(e, path, sizeof(path));
	request_or_fail(e, slot_new(e, 0, K_INDEX_PUT, &e->index), "PUT", path, OCI_INDEX_TYPE,
	                &e->index);
}

static void blob_posted(struct evidence_push *e, struct slot *s, const struct registry_response *r)
{
	char path[2400];
	const char *loc = r->location;

	if (!loc || !*loc || strlen(loc) > 2048) {
		fail(e, -EPROTO, "%s: the upload answer has no Location", e->domain);
		return;
	}
	/* digest=sha256%3A<hex>: the one character to escape is the colon */
	snprintf(path, sizeof(path), "%s%cdigest=sha256%%3A%s", loc, strchr(loc, '?') ? '&' : '?',
	         s->blob->digest + 7);
	s->kind = K_BLOB_PUT;
	request_or_fail(e, s, "PUT", path, "application/octet-stream", s->blob);
}

/* What one answer carries forward (the subject, the old index), before the round ends. */
static int keep(struct evidence_push *e, enum kind k, int status, const struct registry_response *r)
{
	if (k == K_SUBJECT) {
		char got[DIGEST_STR_MAX];
		if (digest_sha256(r->body, r->body_len, got) < 0 || strcmp(got, e->digest))
			return -EBADMSG; /* what is signed must be what the registry serves */
		e->subject_size = r->body_len;
		snprintf(e->subject_type, sizeof(e->subject_type), "%s",
		         r->content_type && *r->content_type ? r->content_type : OCI_MANIFEST_TYPE);
	} else if (k == K_INDEX_GET && status == 0 && r->body_len) {
		char *p = malloc(r->body_len);
		if (!p)
			return -ENOMEM;
		memcpy(p, r->body, r->body_len);
		e->old_index = (struct cosign_blob){.p = p, .len = r->body_len};
	} else if (k == K_MANIFEST && !r->oci_subject) {
		e->all_subject = false;
	}
	return 0;
}

/* Every request of a round is answered: the next round. */
static void round_done(struct evidence_push *e, enum kind k)
{
	if (k == K_SUBJECT || k == K_INDEX_GET || k == K_BLOB_PUT) {
		put_manifests(e);
	} else if (k == K_MANIFEST && e->all_subject) {
		logf_ev(e, "the registry keeps the referrers (OCI-Subject)");
		finish(e, 0);
	} else if (k == K_MANIFEST) {
		put_index(e);
	} else {
		finish(e, 0);
	}
}

static const char *what(enum kind k)
{
	static const char *const names[] = {"image manifest",  "blob upload",
	                                    "blob upload",     "artifact manifest",
	                                    "referrers index", "referrers index"};
	return names[k];
}

static void req_cb(int status, const struct registry_response *r, void *arg)
{
	struct slot *s = arg;
	struct evidence_push *e = s->e;
	enum kind k = s->kind;

	s->busy = false;
	e->pending--;
	if (status < 0 && !(k == K_INDEX_GET && status == -ENOENT)) {
		fail(e, status, "%s: %s", what(k), r->error ? r->error : strerror(-status));
		return;
	}
	if (k == K_BLOB_POST) {
		blob_posted(e, s, r);
		return;
	}
	status = keep(e, k, status, r);
	if (status < 0) {
		fail(e, status, "%s",
		     status == -EBADMSG ? "the registry serves other bytes for the "
		                          "image manifest"
		                        : "out of memory");
		return;
	}
	if (e->pending == 0)
		round_done(e, k);
}

static int copy_atts(struct evidence_push *e, const struct cosign_attestation *a, size_t n)
{
	if (n > MAX_ATTS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		char *t = strdup(a[i].predicate_type ? a[i].predicate_type : "");
		char *j = malloc(a[i].len + 1);
		if (!t || !j) {
			free(t);
			free(j);
			return -ENOMEM;
		}
		memcpy(j, a[i].json, a[i].len);
		j[a[i].len] = '\0';
		e->owned[2 * e->n_atts] = t;
		e->owned[2 * e->n_atts + 1] = j;
		e->atts[e->n_atts++] = (struct cosign_attestation){t, j, a[i].len};
	}
	return 0;
}

int evidence_push_start(uv_loop_t *loop, const struct evidence_push_opts *o, evidence_push_cb cb,
                        void *arg, struct evidence_push **ret)
{
	struct evidence_push *e = calloc(1, sizeof(*e));
	char path[160];
	int r;

	if (!e)
		return -ENOMEM;
	*e = (struct evidence_push){.loop = loop,
	                            .p = o->registries,
	                            .key = o->key,
	                            .log = o->log,
	                            .cb = cb,
	                            .arg = arg,
	                            .started = uv_now(loop)};
	r = copy_atts(e, o->atts, o->n_atts);
	if (r == 0 &&
	    (!o->key || !sign_key_is_private(o->key) ||
	     snprintf(e->domain, sizeof(e->domain), "%s", o->domain) >= (int)sizeof(e->domain) ||
	     snprintf(e->name, sizeof(e->name), "%s", o->name) >= (int)sizeof(e->name) ||
	     snprintf(e->repo, sizeof(e->repo), "%s/%s", o->domain, o->name) >=
	             (int)sizeof(e->repo) ||
	     cosign_tag(o->digest, "", path, sizeof(path)) < 0))
		r = -EINVAL;
	if (r < 0) {
		ev_free(e);
		return r;
	}
	snprintf(e->digest, sizeof(e->digest), "%s", o->digest);
	r = first_round(e);
	if (r < 0) {
		cancel_all(e);
		ev_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

void evidence_push_cancel(struct evidence_push *e)
{
	if (!e)
		return;
	cancel_all(e);
	ev_free(e);
}
