#include "cosign.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "sign.h"

#define STATEMENT_V1     "https://in-toto.io/Statement/v1"
#define STATEMENT_PREFIX "https://in-toto.io/Statement/"
#define MAX_REFERRERS    4096

void cosign_blob_done(struct cosign_blob *b)
{
	if (!b)
		return;
	free(b->p);
	*b = (struct cosign_blob){0};
}

static bool valid_digest(const char *d)
{
	return d && strlen(d) == DIGEST_STR_MAX - 1 && !strncmp(d, "sha256:", 7) &&
	       strspn(d + 7, "0123456789abcdef") == 64;
}

/* Takes the malloc'd p of len bytes into ret, with its digest. */
static int blob_take(char *p, size_t len, struct cosign_blob *ret)
{
	if (!p)
		return -ENOMEM;
	if (digest_sha256(p, len, ret->digest) < 0) {
		free(p);
		return -EIO;
	}
	ret->p = p;
	ret->len = len;
	return 0;
}

/* Serialises root (and drops the reference) into ret. */
static int blob_json(json_t *root, struct cosign_blob *ret)
{
	char *s = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(root);
	return blob_take(s, s ? strlen(s) : 0, ret);
}

int cosign_tag(const char *digest, const char *suffix, char *buf, size_t len)
{
	if (!valid_digest(digest))
		return -EINVAL;
	return snprintf(buf, len, "sha256-%s%s", digest + 7, suffix) < (int)len ? 0 : -ENOSPC;
}

int cosign_payload(const char *repo, const char *digest, struct cosign_blob *ret)
{
	if (!valid_digest(digest) || !repo || !*repo)
		return -EINVAL;
	return blob_json(json_pack("{s:{s:{s:s},s:{s:s},s:s},s:n}", "critical", "identity",
	                           "docker-reference", repo, "image", "docker-manifest-digest",
	                           digest, "type", "cosign container image signature", "optional"),
	                 ret);
}

static json_t *load_object(const char *data, size_t len)
{
	json_t *root;

	if (!data || len > COSIGN_DOC_MAX)
		return NULL;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	if (root && !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int cosign_payload_read(const char *data, size_t len, char **ret_repo,
                        char ret_digest[DIGEST_STR_MAX])
{
	json_t *root = load_object(data, len), *crit = json_object_get(root, "critical");
	const char *type = json_string_value(json_object_get(crit, "type"));
	const char *repo = json_string_value(
	        json_object_get(json_object_get(crit, "identity"), "docker-reference"));
	const char *d = json_string_value(
	        json_object_get(json_object_get(crit, "image"), "docker-manifest-digest"));
	char *copy;

	if (!type || strcmp(type, "cosign container image signature") || !repo ||
	    !valid_digest(d)) {
		json_decref(root);
		return -EINVAL;
	}
	copy = strdup(repo);
	if (copy)
		memcpy(ret_digest, d, DIGEST_STR_MAX);
	json_decref(root);
	if (!copy)
		return -ENOMEM;
	*ret_repo = copy;
	return 0;
}

int dsse_pae(const char *type, const void *payload, size_t len, struct cosign_blob *ret)
{
	size_t tlen = strlen(type), cap = tlen + len + 64;
	char *p = malloc(cap);
	int n;

	if (!p)
		return -ENOMEM;
	n = snprintf(p, cap, "DSSEv1 %zu %s %zu ", tlen, type, len);
	memcpy(p + n, payload, len);
	ret->p = p;
	ret->len = (size_t)n + len;
	ret->digest[0] = '\0';
	return 0;
}

int dsse_sign(const struct sign_key *k, const char *type, const void *payload, size_t len,
              struct cosign_blob *ret)
{
	struct cosign_blob pae = {0};
	char *sig = NULL, *b64 = NULL;
	int r;

	r = dsse_pae(type, payload, len, &pae);
	if (r == 0)
		r = sign_message(k, pae.p, pae.len, &sig);
	if (r == 0 && !(b64 = base64_encode(payload, len, false)))
		r = -ENOMEM;
	if (r == 0)
		r = blob_json(json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "payloadType", type, "payload",
		                        b64, "signatures", "keyid", "", "sig", sig),
		              ret);
	cosign_blob_done(&pae);
	free(sig);
	free(b64);
	return r;
}

/* The payload of an envelope, base64-decoded. */
static int envelope_payload(json_t *root, struct cosign_blob *ret)
{
	const char *b64 = json_string_value(json_object_get(root, "payload"));
	size_t n = b64 ? strlen(b64) : 0, got = 0;
	char *p;

	if (!b64 || n > COSIGN_DOC_MAX / 3 * 4 + 4)
		return -EINVAL;
	p = malloc(BASE64_DECODED_MAX(n) + 1);
	if (!p)
		return -ENOMEM;
	if (base64_decode(b64, n, false, p, BASE64_DECODED_MAX(n), &got) < 0) {
		free(p);
		return -EINVAL;
	}
	p[got] = '\0';
	ret->p = p;
	ret->len = got;
	ret->digest[0] = '\0';
	return 0;
}

int dsse_open(const struct sign_key *k, const char *env, size_t len, struct cosign_blob *ret,
              char **ret_type)
{
	json_t *root = load_object(env, len), *sigs = json_object_get(root, "signatures"), *s;
	const char *type = json_string_value(json_object_get(root, "payloadType"));
	struct cosign_blob payload = {0}, pae = {0};
	char *type_copy = NULL;
	size_t i;
	int r = -EINVAL;

	if (!type || !json_is_array(sigs) || json_array_size(sigs) == 0)
		goto out;
	r = envelope_payload(root, &payload);
	if (r == 0)
		r = dsse_pae(type, payload.p, payload.len, &pae);
	if (r < 0)
		goto out;
	r = -EBADMSG;
	json_array_foreach(sigs, i, s)
	{
		if (sign_verify(k, pae.p, pae.len, json_string_value(json_object_get(s, "sig"))) ==
		    0) {
			r = 0;
			break;
		}
	}
	if (r == 0 && !(type_copy = strdup(type)))
		r = -ENOMEM;
	if (r == 0) {
		*ret = payload;
		payload.p = NULL;
		*ret_type = type_copy;
	}
out:
	cosign_blob_done(&payload);
	cosign_blob_done(&pae);
	json_decref(root);
	return r;
}

static json_t *subject_of(const char *repo, const char *digest)
{
	return json_pack("[{s:s,s:{s:s}}]", "name", repo, "digest", "sha256", digest + 7);
}

int intoto_statement(const char *repo, const char *digest, const struct cosign_attestation *a,
                     struct cosign_blob *ret)
{
	json_t *doc, *root;
	const char *t;

	if (!valid_digest(digest) || !repo || !a->predicate_type || !*a->predicate_type)
		return -EINVAL;
	doc = a->len <= COSIGN_DOC_MAX ? json_loadb(a->json, a->len, 0, NULL) : NULL;
	if (!doc)
		return -EINVAL;
	t = json_string_value(json_object_get(doc, "_type"));
	if (t && !strncmp(t, STATEMENT_PREFIX, strlen(STATEMENT_PREFIX))) {
		/* a whole Statement: it is about this image, whatever it said */
		if (json_object_set_new(doc, "subject", subject_of(repo, digest)) < 0 ||
		    (!json_object_get(doc, "predicateType") &&
		     json_object_set_new(doc, "predicateType", json_string(a->predicate_type)) <
		             0)) {
			json_decref(doc);
			return -ENOMEM;
		}
		return blob_json(doc, ret);
	}
	root = json_pack("{s:s,s:o,s:s,s:o}", "_type", STATEMENT_V1, "subject",
	                 subject_of(repo, digest), "predicateType", a->predicate_type, "predicate",
	                 doc);
	return root ? blob_json(root, ret) : -ENOMEM;
}

int intoto_read(const char *data, size_t len, const char *digest, char **ret_predicate_type,
                bool *ret_subject_matches)
{
	json_t *root = load_object(data, len), *subj = json_object_get(root, "subject"), *s;
	const char *t = json_string_value(json_object_get(root, "_type"));
	const char *pt = json_string_value(json_object_get(root, "predicateType"));
	bool match = false;
	char *copy;
	size_t i;

	if (!t || strncmp(t, STATEMENT_PREFIX, strlen(STATEMENT_PREFIX)) || !pt ||
	    !json_is_array(subj)) {
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(subj, i, s)
	{
		const char *h =
		        json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
		if (h && valid_digest(digest) && !strcmp(h, digest + 7))
			match = true;
	}
	copy = strdup(pt);
	json_decref(root);
	if (!copy)
		return -ENOMEM;
	*ret_predicate_type = copy;
	*ret_subject_matches = match;
	return 0;
}

static json_t *descriptor(const char *type, const char *digest, size_t size)
{
	return json_pack("{s:s,s:I,s:s}", "mediaType", type, "size", (json_int_t)size, "digest",
	                 digest);
}

int cosign_config(const struct cosign_layer *layers, size_t n, struct cosign_blob *ret)
{
	json_t *ids = json_array();

	for (size_t i = 0; ids && i < n; i++)
		if (json_array_append_new(ids, json_string(layers[i].blob->digest)) < 0) {
			json_decref(ids);
			ids = NULL;
		}
	if (!ids)
		return -ENOMEM;
	return blob_json(json_pack("{s:s,s:s,s:[{s:s}],s:s,s:{s:s,s:o},s:{}}", "architecture", "",
	                           "created", "0001-01-01T00:00:00Z", "history", "created",
	                           "0001-01-01T00:00:00Z", "os", "", "rootfs", "type", "layers",
	                           "diff_ids", ids, "config"),
	                 ret);
}

static json_t *layer_json(const struct cosign_layer *l)
{
	json_t *d = descriptor(l->media_type, l->blob->digest, l->blob->len), *ann;

	if (!d || !l->annotation_key[0])
		return d;
	ann = json_object();
	for (size_t i = 0; ann && i < 2 && l->annotation_key[i]; i++)
		if (json_object_set_new(ann, l->annotation_key[i],
		                        json_string(l->annotation_value[i])) < 0) {
			json_decref(ann);
			ann = NULL;
		}
	if (!ann || json_object_set_new(d, "annotations", ann) < 0) {
		json_decref(d);
		return NULL;
	}
	return d;
}

int cosign_manifest(const struct cosign_blob *config, const struct cosign_layer *layers, size_t n,
                    const char *artifact_type, const char *subject_digest, size_t subject_size,
                    const char *subject_type, struct cosign_blob *ret)
{
	json_t *ls = json_array(), *root;

	if (!valid_digest(subject_digest)) {
		json_decref(ls);
		return -EINVAL;
	}
	for (size_t i = 0; ls && i < n; i++)
		if (json_array_append_new(ls, layer_json(&layers[i])) < 0) {
			json_decref(ls);
			ls = NULL;
		}
	if (!ls)
		return -ENOMEM;
	root = json_pack("{s:i,s:s,s:s,s:o,s:o,s:o}", "schemaVersion", 2, "mediaType",
	                 OCI_MANIFEST_TYPE, "artifactType", artifact_type, "config",
	                 descriptor(OCI_CONFIG_TYPE, config->digest, config->len), "layers", ls,
	                 "subject", descriptor(subject_type, subject_digest, subject_size));
	return root ? blob_json(root, ret) : -ENOMEM;
}

static int read_descriptor(json_t *m, struct cosign_referrer *r)
{
	const char *d = json_string_value(json_object_get(m, "digest"));
	const char *at = json_string_value(json_object_get(m, "artifactType"));
	json_t *size = json_object_get(m, "size");

	if (!valid_digest(d) || !json_is_integer(size) || json_integer_value(size) < 0)
		return -EINVAL;
	memcpy(r->digest, d, DIGEST_STR_MAX);
	snprintf(r->artifact_type, sizeof(r->artifact_type), "%s", at ? at : "");
	r->size = (size_t)json_integer_value(size);
	return 0;
}

static json_t *load_index(const char *data, size_t len)
{
	json_t *root = load_object(data, len);
	const char *mt = json_string_value(json_object_get(root, "mediaType"));

	if (root && (json_integer_value(json_object_get(root, "schemaVersion")) != 2 ||
	             (mt && strcmp(mt, OCI_INDEX_TYPE)) ||
	             !json_is_array(json_object_get(root, "manifests")))) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int cosign_index_read(const char *data, size_t len, struct cosign_referrer **ret, size_t *ret_n)
{
	json_t *root = load_index(data, len), *list = json_object_get(root, "manifests"), *m;
	struct cosign_referrer *out;
	size_t i, n = 0;

	if (!root || json_array_size(list) > MAX_REFERRERS) {
		json_decref(root);
		return -EINVAL;
	}
	out = calloc(json_array_size(list) + 1, sizeof(*out));
	if (!out) {
		json_decref(root);
		return -ENOMEM;
	}
	json_array_foreach(list, i, m)
	{
		if (read_descriptor(m, &out[n]) == 0)
			n++; /* a malformed entry is someone else's: skipped */
	}
	json_decref(root);
	*ret = out;
	*ret_n = n;
	return 0;
}

static bool index_has(json_t *list, const char *digest)
{
	json_t *m;
	size_t i;

	json_array_foreach(list, i, m)
	{
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (d && !strcmp(d, digest))
			return true;
	}
	return false;
}

int cosign_index_merge(const char *old, size_t old_len, const struct cosign_referrer *add, size_t n,
                       struct cosign_blob *ret)
{
	json_t *root = old ? load_index(old, old_len)
	                   : json_pack("{s:i,s:s,s:[]}", "schemaVersion", 2, "mediaType",
	                               OCI_INDEX_TYPE, "manifests");
	json_t *list = json_object_get(root, "manifests");

	if (!root)
		return old ? -EINVAL : -ENOMEM;
	if (json_array_size(list) + n > MAX_REFERRERS) {
		json_decref(root);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *d;
		if (!valid_digest(add[i].digest) || index_has(list, add[i].digest))
			continue;
		d = descriptor(OCI_MANIFEST_TYPE, add[i].digest, add[i].size);
		if (!d ||
		    (add[i].artifact_type[0] &&
		     json_object_set_new(d, "artifactType", json_string(add[i].artifact_type)) <
		             0) ||
		    json_array_append_new(list, d) < 0) {
			json_decref(root);
			return -ENOMEM;
		}
	}
	if (!json_object_get(root, "mediaType"))
		json_object_set_new(root, "mediaType", json_string(OCI_INDEX_TYPE));
	return blob_json(root, ret);
}

static char *annotation(json_t *layer, const char *key)
{
	const char *v =
	        json_string_value(json_object_get(json_object_get(layer, "annotations"), key));

	return v ? strdup(v) : NULL;
}

static int read_layer(json_t *l, struct cosign_manifest_layer *out)
{
	const char *mt = json_string_value(json_object_get(l, "mediaType"));
	const char *d = json_string_value(json_object_get(l, "digest"));
	json_t *size = json_object_get(l, "size");

	if (!mt || !valid_digest(d) || !json_is_integer(size) || json_integer_value(size) < 0 ||
	    json_integer_value(size) > COSIGN_DOC_MAX)
		return -EINVAL;
	snprintf(out->media_type, sizeof(out->media_type), "%s", mt);
	memcpy(out->digest, d, DIGEST_STR_MAX);
	out->size = (size_t)json_integer_value(size);
	out->signature = annotation(l, COSIGN_SIG_ANNOTATION);
	out->predicate_type = annotation(l, COSIGN_PRED_ANNOTATION);
	return 0;
}

int cosign_manifest_read(const char *data, size_t len, struct cosign_manifest_info *ret)
{
	json_t *root = load_object(data, len), *layers = json_object_get(root, "layers"), *l;
	const char *subj =
	        json_string_value(json_object_get(json_object_get(root, "subject"), "digest"));
	const char *at = json_string_value(json_object_get(root, "artifactType"));
	struct cosign_manifest_info m = {0};
	size_t i;
	int r = 0;

	if (!root || json_integer_value(json_object_get(root, "schemaVersion")) != 2 ||
	    !json_is_array(layers) || json_array_size(layers) > 256) {
		json_decref(root);
		return -EINVAL;
	}
	m.layers = calloc(json_array_size(layers) + 1, sizeof(*m.layers));
	if (!m.layers) {
		json_decref(root);
		return -ENOMEM;
	}
	json_array_foreach(layers, i, l)
	{
		if (r == 0 && (r = read_layer(l, &m.layers[i])) == 0)
			m.n_layers++;
	}
	if (subj && valid_digest(subj))
		memcpy(m.subject, subj, DIGEST_STR_MAX);
	snprintf(m.artifact_type, sizeof(m.artifact_type), "%s", at ? at : "");
	json_decref(root);
	if (r < 0) {
		cosign_manifest_info_done(&m);
		return r;
	}
	*ret = m;
	return 0;
}

void cosign_manifest_info_done(struct cosign_manifest_info *m)
{
	for (size_t i = 0; m && m->layers && i < m->n_layers; i++) {
		free(m->layers[i].signature);
		free(m->layers[i].predicate_type);
	}
	if (m) {
		free(m->layers);
		*m = (struct cosign_manifest_info){0};
	}
}
