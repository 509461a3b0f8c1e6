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
	struct cosign_blob blobs[MAX_ATTS + 3], sig_manifest, att_manifest, index;
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

/* Sends one request of slot s; false (and e finished) when it could not start. */
static bool request(struct evidence_push *e, struct slot *s, const char *method, const char *path,
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

	if (r < 0) {
		fail(e, r, "cannot start a registry request: %s", strerror(-r));
		return false;
	}
	s->busy = true;
	e->pending++;
	e->requests++;
	return true;
}

static struct slot *slot_new(struct evidence_push *e, size_t i, enum kind k,
                             const struct cosign_blob *b)
{
	e->slots[i] = (struct slot){.e = e, .blob = b, .kind = k};
	return &e->slots[i];
}

/* The signature: payload signed, the cosign layer, config and manifest. */
static int build_signature(struct evidence_push *e)
{
	struct cosign_blob *payload = &e->blobs[0];
	char *sig = NULL;
	int r = cosign_payload(e->repo, e->digest, payload);
	struct cosign_layer l = {COSIGN_SIG_LAYER, payload, {COSIGN_SIG_ANNOTATION}, {NULL}};

	if (r == 0)
		r = sign_message(e->key, payload->p, payload->len, &sig);
	l.annotation_value[0] = sig;
	if (r == 0)
		r = cosign_config(&l, 1, &e->blobs[1]);
	if (r == 0)
		r = cosign_manifest(&e->blobs[1], &l, 1, COSIGN_SIG_ARTIFACT, e->digest,
		                    e->subject_size, e->subject_type, &e->sig_manifest);
	free(sig);
	return r;
}

/* The attestations: a Statement each, in a signed envelope, one layer each. */
static int build_attestations(struct evidence_push *e)
{
	struct cosign_layer layers[MAX_ATTS];
	struct cosign_blob *cfg = &e->blobs[2 + e->n_atts];
	int r = 0;

	for (size_t i = 0; r == 0 && i < e->n_atts; i++) {
		struct cosign_blob st = {0};
		r = intoto_statement(e->repo, e->digest, &e->atts[i], &st);
		if (r == 0)
			r = dsse_sign(e->key, INTOTO_PAYLOAD_TYPE, st.p, st.len, &e->blobs[2 + i]);
		cosign_blob_done(&st);
		layers[i] = (struct cosign_layer){COSIGN_ATT_LAYER,
		                                  &e->blobs[2 + i],
		                                  {COSIGN_SIG_ANNOTATION, COSIGN_PRED_ANNOTATION},
		                                  {"", e->atts[i].predicate_type}};
	}
	if (r < 0 || e->n_atts == 0)
		return r;
	r = cosign_config(layers, e->n_atts, cfg);
	if (r == 0)
		r = cosign_manifest(cfg, layers, e->n_atts, COSIGN_ATT_ARTIFACT, e->digest,
		                    e->subject_size, e->subject_type, &e->att_manifest);
	return r;
}

static void upload_blobs(struct evidence_push *e)
{
	int r = build_signature(e);

	if (r == 0)
		r = build_attestations(e);
	if (r < 0) {
		fail(e, r, "cannot make the signed documents: %s", strerror(-r));
		return;
	}
	e->n_blobs = e->n_atts ? 3 + e->n_atts : 2;
	for (size_t i = 0; i < e->n_blobs; i++)
		if (!request(e, slot_new(e, i, K_BLOB_POST, &e->blobs[i]), "POST", "blobs/uploads/",
		             NULL, NULL))
			return;
}

static void put_manifests(struct evidence_push *e)
{
	char tag[128], path[160];
	const struct cosign_blob *m[2] = {&e->sig_manifest, &e->att_manifest};
	const char *suffix[2] = {".sig", ".att"};

	e->all_subject = true;
	for (size_t i = 0; i < (e->n_atts ? 2u : 1u); i++) {
		cosign_tag(e->digest, suffix[i], tag, sizeof(tag));
		snprintf(path, sizeof(path), "manifests/%s", tag);
		if (!request(e, slot_new(e, i, K_MANIFEST, m[i]), "PUT", path, OCI_MANIFEST_TYPE,
		             m[i]))
			return;
	}
}

static void index_path(const struct evidence_push *e, char *path, size_t len)
{
	char tag[128];

	cosign_tag(e->digest, "", tag, sizeof(tag));
	snprintf(path, len, "manifests/%s", tag);
}

/* The referrers tag: what it lists plus our manifests, written back. */
static void put_index(struct evidence_push *e, const char *old, size_t old_len)
{
	struct cosign_referrer add[2] = {{.size = e->sig_manifest.len},
	                                 {.size = e->att_manifest.len}};
	char path[160];
	int r;

	memcpy(add[0].digest, e->sig_manifest.digest, DIGEST_STR_MAX);
	snprintf(add[0].artifact_type, sizeof(add[0].artifact_type), "%s", COSIGN_SIG_ARTIFACT);
	memcpy(add[1].digest, e->att_manifest.digest, DIGEST_STR_MAX);
	snprintf(add[1].artifact_type, sizeof(add[1].artifact_type), "%s", COSIGN_ATT_ARTIFACT);
	r = cosign_index_merge(old, old_len, add, e->n_atts ? 2 : 1, &e->index);
	if (r == -EINVAL) /* not an index: someone else's tag; ours replaces it */
		r = cosign_index_merge(NULL, 0, add, e->n_atts ? 2 : 1, &e->index);
	if (r < 0) {
		fail(e, r, "cannot merge the referrers index: %s", strerror(-r));
		return;
	}
	index_path(e, path, sizeof(path));
	request(e, slot_new(e, 0, K_INDEX_PUT, &e->index), "PUT", path, OCI_INDEX_TYPE, &e->index);
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
	request(e, s, "PUT", path, "application/octet-stream", s->blob);
}

/* The answer of a step whose requests all came back: the next step. */
static void step_done(struct evidence_push *e, enum kind k, int status,
                      const struct registry_response *r)
{
	char path[160];

	if (k == K_SUBJECT) {
		e->subject_size = r->body_len;
		snprintf(e->subject_type, sizeof(e->subject_type), "%s",
		         r->content_type && *r->content_type ? r->content_type : OCI_MANIFEST_TYPE);
		upload_blobs(e);
	} else if (k == K_BLOB_PUT) {
		put_manifests(e);
	} else if (k == K_MANIFEST && e->all_subject) {
		logf_ev(e, "the registry keeps the referrers (OCI-Subject)");
		finish(e, 0);
	} else if (k == K_MANIFEST) {
		index_path(e, path, sizeof(path));
		request(e, slot_new(e, 0, K_INDEX_GET, NULL), "GET", path, NULL, NULL);
	} else if (k == K_INDEX_GET) {
		put_index(e, status == 0 ? r->body : NULL, status == 0 ? r->body_len : 0);
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
	if (k == K_MANIFEST && !r->oci_subject)
		e->all_subject = false;
	if (e->pending == 0)
		step_done(e, k, status, r);
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
	snprintf(path, sizeof(path), "manifests/%s", e->digest);
	r = registry_request(e->p,
	                     &(struct registry_request){.domain = e->domain,
	                                                .name = e->name,
	                                                .method = "GET",
	                                                .path = path,
	                                                .push = true},
	                     req_cb, slot_new(e, 0, K_SUBJECT, NULL));
	if (r < 0) {
		ev_free(e);
		return r;
	}
	e->slots[0].busy = true;
	e->pending = e->requests = 1;
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
