/*
 * registry_op — the request state machine of one registry operation:
 * credentials, then GET /v2/ (ping) or HEAD of the manifest, a token fetch
 * and one retry on 401, a GET of the index when the tag is multi-platform
 * (or when HEAD gave no digest), then the result.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base64.h"
#include "creds_parse.h"
#include "http_client.h"
#include "log.h"
#include "registry_impl.h"

#define HDR_MAX 16384 /* tokens with certificate chains (x5c) run to several KB */

static void op_send(struct reg_op *op);

static uint64_t now(const struct reg_op *op)
{
	return uv_now(op->p->loop);
}

static bool is_index_type(const char *ct)
{
	return !strcmp(ct, "application/vnd.docker.distribution.manifest.list.v2+json") ||
	       !strcmp(ct, "application/vnd.oci.image.index.v1+json");
}

/* Content-Type without parameters. */
static void media_type(const struct http_response *resp, char *buf, size_t len)
{
	if (!http_response_header(resp, "Content-Type", buf, len))
		buf[0] = '\0';
	buf[strcspn(buf, "; ")] = '\0';
}

static void creds_done_cb(int status, const struct creds_entry *e, void *arg)
{
	struct reg_op *op = arg;

	op->creds_pending = false;
	if (status < 0) {
		reg_op_fail(op, -EACCES, "credentials: %s",
		            e && e->error ? e->error : "lookup failed");
		return;
	}
	if (creds_entry_copy(&op->creds, e) < 0) {
		reg_op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	op->have_creds = true;
	if (op->creds.kind != CREDS_ANONYMOUS)
		log_debug("registry %s: using credentials from %s", op->h->host, op->creds.source);
	op_send(op);
}

void reg_op_abort(struct reg_op *op)
{
	if (op->req)
		http_request_cancel(op->req);
	op->req = NULL;
	if (op->creds_pending)
		creds_lookup_cancel(op->p->creds, creds_done_cb, op);
	op->creds_pending = false;
}

void reg_op_start(struct reg_op *op)
{
	struct reg_host *h = op->h;
	int r;

	op->step = op->raw ? STEP_RAW : op->ping ? STEP_PING : op->tags ? STEP_TAGS : STEP_HEAD;
	if (now(op) < h->blocked_until) {
		reg_op_fail(op, -EAGAIN, "backing off for %llu s more (%s)",
		            (unsigned long long)((h->blocked_until - now(op)) / 1000 + 1),
		            h->blocked_why);
		return;
	}
	if (!op->p->creds) {
		op_send(op);
		return;
	}
	r = creds_lookup(op->p->creds, h->host, creds_done_cb, op);
	if (r < 0) {
		reg_op_fail(op, r, "credentials lookup failed: %s", strerror(-r));
		return;
	}
	op->creds_pending = true;
}

/* "Authorization: Basic ..." from the op's username and password. */
static int basic_header(struct reg_op *op, char *buf, size_t len)
{
	char *pair = NULL, *b64;
	int r;

	if (asprintf(&pair, "%s:%s", op->creds.username, op->creds.secret) < 0)
		return -ENOMEM;
	b64 = base64_encode(pair, strlen(pair), false);
	creds_secret_free(pair);
	if (!b64)
		return -ENOMEM;
	r = snprintf(buf, len, "Authorization: Basic %s", b64) < (int)len ? 0 : -ENOSPC;
	creds_secret_free(b64);
	return r;
}

/* "Authorization: ..." for a registry request, or "" when anonymous. */
static int auth_header(struct reg_op *op, char *buf, size_t len)
{
	const char *tok = reg_host_token(op->h, op->scope, now(op));

	buf[0] = '\0';
	if (tok)
		return snprintf(buf, len, "Authorization: Bearer %s", tok) < (int)len ? 0 : -ENOSPC;
	if (op->creds.kind == CREDS_REGISTRY_TOKEN)
		return snprintf(buf, len, "Authorization: Bearer %s", op->creds.secret) < (int)len
		               ? 0
		               : -ENOSPC;
	if (op->h->have_chal && op->h->chal.scheme == CHALLENGE_BASIC &&
	    op->creds.kind == CREDS_BASIC)
		return basic_header(op, buf, len);
	return 0;
}

static void on_response(const struct http_response *resp, void *arg);

/* The token request (RFC 6750 / distribution token spec); creds as Basic or refresh token. */
static int token_request(struct reg_op *op, struct http_request_opts *o, char *url, size_t ulen,
                         char *hdr, size_t hlen, char **form)
{
	const struct challenge *c = &op->h->chal;
	char *svc = http_escape(c->service), *scope = http_escape(op->scope);
	int r = 0;

	if (!svc || !scope) {
		r = -ENOMEM;
		goto out;
	}
	if (op->creds.kind == CREDS_IDENTITY_TOKEN) {
		char *tok = http_escape(op->creds.secret);
		if (!tok || asprintf(form,
		                     "grant_type=refresh_token&client_id=refit&service=%s"
		                     "&scope=%s&refresh_token=%s",
		                     svc, scope, tok) < 0) {
			*form = NULL;
			r = -ENOMEM;
		}
		creds_secret_free(tok);
		snprintf(url, ulen, "%s", c->realm);
		o->method = "POST";
		o->body = *form;
		o->body_len = *form ? strlen(*form) : 0;
		goto out;
	}
	snprintf(url, ulen, "%s%cservice=%s%s%s", c->realm, strchr(c->realm, '?') ? '&' : '?', svc,
	         op->scope[0] ? "&scope=" : "", scope);
	if (op->creds.kind == CREDS_BASIC)
		r = basic_header(op, hdr, hlen);
out:
	free(svc);
	free(scope);
	return r;
}

static void op_send(struct reg_op *op)
{
	struct reg_host *h = op->h;
	char url[TAGSLIST_URL_MAX], auth[HDR_MAX] = "", *form = NULL, ct[160], inm[160] = "";
	const char *hdrs[5] = {NULL};
	struct http_request_opts o = {.url = url, .timeout_ms = op->p->timeout_ms};
	int n = 0, r = 0;

	if (op->step == STEP_TOKEN) {
		o.max_body = 64 << 10;
		o.follow_redirects = true;
		r = token_request(op, &o, url, sizeof(url), auth, sizeof(auth), &form);
		if (form)
			hdrs[n++] = "Content-Type: application/x-www-form-urlencoded";
	} else if (op->step == STEP_RAW) {
		o.method = op->raw->method;
		o.body = op->raw->body;
		o.body_len = op->raw->body_len;
		o.max_body = op->raw->max_body;
		r = reg_raw_prepare(op, url, sizeof(url), hdrs, &n, ct, sizeof(ct));
		if (r == 0)
			r = auth_header(op, auth, sizeof(auth));
	} else if (op->step == STEP_TAGS) {
		o.max_body = MANIFEST_MAX;
		hdrs[n++] = "Accept: application/json";
		r = reg_tags_request(op, url, sizeof(url), inm, sizeof(inm));
		if (inm[0])
			hdrs[n++] = inm;
		if (r == 0)
			r = auth_header(op, auth, sizeof(auth));
	} else {
		if (op->step == STEP_PING)
			snprintf(url, sizeof(url), "%s/v2/", h->base_url);
		else
			snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", h->base_url, op->name,
			         op->step == STEP_GET && op->index_digest[0] ? op->index_digest
			                                                     : op->reference);
		o.method = op->step == STEP_HEAD ? "HEAD" : "GET";
		o.max_body = MANIFEST_MAX;
		o.follow_redirects = true;
		hdrs[n++] = MANIFEST_ACCEPT;
		r = auth_header(op, auth, sizeof(auth));
	}
	if (auth[0])
		hdrs[n++] = auth;
	o.headers = hdrs;
	if (r == 0)
		r = http_request_start(op->p->http, &o, on_response, op, &op->req);
	explicit_bzero(auth, sizeof(auth));
	creds_secret_free(form);
	if (r < 0)
		reg_op_fail(op, r, "cannot start a request: %s", strerror(-r));
}

/* The first error of a registry's JSON error body ("MANIFEST_UNKNOWN: ..."), for messages. */
static void error_detail(const struct http_response *resp, char *buf, size_t len)
{
	json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
	json_t *e = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (code)
		snprintf(buf, len, " (%s%s%.100s)", code, msg ? ": " : "", msg ? msg : "");
	else
		buf[0] = '\0';
	json_decref(root);
}

static void handle_token(struct reg_op *op, const struct http_response *resp)
{
	json_t *root;
	const char *tok;
	long expires;

	if (resp->status != 200) {
		reg_op_fail(op, -EACCES, "token server %s refused (HTTP %ld)", op->h->chal.realm,
		            resp->status);
		return;
	}
	root = json_loadb(resp->body, resp->body_len, 0, NULL);
	tok = json_string_value(json_object_get(root, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(root, "access_token"));
	expires = (long)json_integer_value(json_object_get(root, "expires_in"));
	if (!tok || !*tok || strlen(tok) > HDR_MAX - 64) {
		json_decref(root);
		reg_op_fail(op, -EPROTO, "token server %s: %s", op->h->chal.realm,
		            tok && *tok ? "token too long" : "no token in the answer");
		return;
	}
	if (reg_host_token_put(op->h, op->scope, tok, expires, now(op)) < 0) {
		json_decref(root);
		reg_op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	json_decref(root);
	op->step = op->resume;
	op_send(op);
}

static void handle_401(struct reg_op *op, const struct http_response *resp)
{
	char hdr[2048], detail[160];
	struct challenge list[CHALLENGE_MAX];
	const struct challenge *c = NULL;
	int n = -EINVAL;

	error_detail(resp, detail, sizeof(detail));
	if (op->auth_tried) {
		if (op->creds.kind != CREDS_ANONYMOUS)
			creds_invalidate(op->p->creds, op->h->host);
		reg_op_fail(op, -EACCES, "authentication refused%s", detail);
		return;
	}
	op->auth_tried = true;
	if (http_response_header(resp, "WWW-Authenticate", hdr, sizeof(hdr)))
		n = challenge_parse(hdr, list, CHALLENGE_MAX);
	if (n > 0) {
		c = challenge_find(list, n, CHALLENGE_BEARER);
		if (!c)
			c = challenge_find(list, n, CHALLENGE_BASIC);
	}
	if (c) {
		op->h->chal = *c;
		op->h->have_chal = true;
	} else if (!op->h->have_chal) { /* some answer 401 without a challenge: reuse /v2/'s */
		reg_op_fail(op, -EACCES, "401 without a usable WWW-Authenticate challenge%s",
		            detail);
		return;
	}
	if (op->h->chal.scheme == CHALLENGE_BASIC) {
		if (op->creds.kind != CREDS_BASIC) {
			reg_op_fail(op, -EACCES,
			            "needs credentials (Basic auth) and none are set up");
			return;
		}
		op_send(op);
		return;
	}
	if (op->h->chal.scope[0] && !strcmp(op->h->chal.error, "insufficient_scope"))
		memcpy(op->scope, op->h->chal.scope, sizeof(op->scope));
	reg_host_token_drop(op->h, op->scope);
	op->resume = op->step;
	op->step = STEP_TOKEN;
	op_send(op);
}

static void handle_head(struct reg_op *op, const struct http_response *resp)
{
	char dig[DIGEST_STR_MAX + 8];

	media_type(resp, op->media_type, sizeof(op->media_type));
	if (!http_response_header(resp, "Docker-Content-Digest", dig, sizeof(dig)) ||
	    strncmp(dig, "sha256:", 7) || strlen(dig) != DIGEST_STR_MAX - 1) {
		op->step = STEP_GET; /* no usable digest: fetch and hash the body */
		op_send(op);
		return;
	}
	if (!is_index_type(op->media_type) || !op->platform[0]) {
		memcpy(op->digest, dig, DIGEST_STR_MAX);
		reg_op_finish(op, 0);
		return;
	}
	memcpy(op->index_digest, dig, DIGEST_STR_MAX);
	if (op->known_digest[0] && !strcmp(op->known_index, dig)) {
		snprintf(op->digest, sizeof(op->digest), "%s", op->known_digest);
		reg_op_finish(op, 0);
		return;
	}
	op->step = STEP_GET;
	op_send(op);
}

static void handle_get(struct reg_op *op, const struct http_response *resp)
{
	char got[DIGEST_STR_MAX], hdr[DIGEST_STR_MAX + 8];

	media_type(resp, op->media_type, sizeof(op->media_type));
	if (digest_sha256(resp->body, resp->body_len, got) < 0) {
		reg_op_fail(op, -EIO, "cannot hash the manifest");
		return;
	}
	if (http_response_header(resp, "Docker-Content-Digest", hdr, sizeof(hdr)) &&
	    strcmp(hdr, got)) {
		reg_op_fail(op, -EPROTO, "%s: served digest %s but the body hashes to %s", op->name,
		            hdr, got);
		return;
	}
	if (op->index_digest[0] && strcmp(op->index_digest, got)) {
		reg_op_fail(op, -EPROTO, "%s: index %s hashes to %s", op->name, op->index_digest,
		            got);
		return;
	}
	if (!is_index_type(op->media_type) || !op->platform[0]) {
		snprintf(op->digest, sizeof(op->digest), "%s", got);
		reg_op_finish(op, 0);
		return;
	}
	snprintf(op->index_digest, sizeof(op->index_digest), "%s", got);
	if (registry_index_pick(resp->body, resp->body_len, op->platform, op->digest,
	                        sizeof(op->digest)) < 0) {
		reg_op_fail(op, -ENOENT, "%s:%s has no manifest for %s", op->name, op->reference,
		            op->platform);
		return;
	}
	reg_op_finish(op, 0);
}

static void handle_status(struct reg_op *op, const struct http_response *resp)
{
	char detail[160], v1[64], v2[64];
	const char *what = op->ping ? "/v2/" : op->name;

	error_detail(resp, detail, sizeof(detail));
	if (resp->status == 429) {
		reg_host_retry_after(op->h, now(op),
		                     http_response_header(resp, "Retry-After", v1, sizeof(v1)));
		reg_op_fail(op, -EAGAIN, "429 Too Many Requests");
	} else if (resp->status >= 500) {
		snprintf(v2, sizeof(v2), "HTTP %ld", resp->status);
		reg_host_failed(op->h, now(op), v2);
		reg_op_fail(op, -EAGAIN, "%s answered HTTP %ld%s", what, resp->status, detail);
	} else if (resp->status == 404) {
		reg_op_fail(op, -ENOENT, "%s:%s: not found%s", what, op->reference, detail);
	} else if (resp->status == 403) {
		reg_op_fail(op, -EACCES, "%s: access denied%s", what, detail);
	} else {
		reg_op_fail(op, -EPROTO, "%s: unexpected HTTP %ld%s", what, resp->status, detail);
	}
}

static void on_response(const struct http_response *resp, void *arg)
{
	struct reg_op *op = arg;
	char rem[64], lim[64];

	op->req = NULL;
	reg_host_count(op->h, resp->error ? 0 : resp->status);
	if (resp->error) {
		reg_host_failed(op->h, now(op), strerror(-resp->error));
		reg_op_fail(op, -EAGAIN, "unreachable: %s", strerror(-resp->error));
		return;
	}
	if (op->step == STEP_TOKEN) {
		handle_token(op, resp);
		return;
	}
	if (http_response_header(resp, "RateLimit-Remaining", rem, sizeof(rem)))
		reg_host_ratelimit(op->h, now(op), rem,
		                   http_response_header(resp, "RateLimit-Limit", lim, sizeof(lim)));
	if (resp->status == 401) {
		handle_401(op, resp);
		return;
	}
	if (op->step == STEP_TAGS && (resp->status == 200 || resp->status == 304)) {
		reg_host_ok(op->h);
		if (reg_tags_answer(op, resp) > 0)
			op_send(op);
		return;
	}
	if (op->step == STEP_RAW && resp->status >= 200 && resp->status < 300) {
		reg_host_ok(op->h);
		op->raw->resp = resp;
		reg_op_finish(op, 0);
		return;
	}
	if (resp->status != 200 || op->step == STEP_RAW) {
		handle_status(op, resp);
		return;
	}
	reg_host_ok(op->h);
	if (op->step == STEP_PING)
		reg_op_finish(op, 0);
	else if (op->step == STEP_HEAD)
		handle_head(op, resp);
	else
		handle_get(op, resp);
}

static bool platform_matches(json_t *plat, const char *os, const char *arch, const char *variant)
{
	const char *pos = json_string_value(json_object_get(plat, "os"));
	const char *parch = json_string_value(json_object_get(plat, "architecture"));
	const char *pvar = json_string_value(json_object_get(plat, "variant"));

	if (!pos || !parch || strcmp(pos, os) || strcmp(parch, arch))
		return false;
	if (!variant[0] || !pvar)
		return !variant[0] || !strcmp(variant, "v8") || !pvar; /* arm64 means v8 */
	return !strcmp(pvar, variant);
}

int registry_index_pick(const char *body, size_t len, const char *platform, char *ret_digest,
                        size_t digest_len)
{
	char os[32] = "", arch[32] = "", variant[32] = "";
	json_t *root, *m, *list;
	size_t i;
	int r = -ENOENT;

	if (sscanf(platform, "%31[^/]/%31[^/]/%31s", os, arch, variant) < 2)
		return -EINVAL;
	root = json_loadb(body, len, 0, NULL);
	list = json_object_get(root, "manifests");
	json_array_foreach(list, i, m)
	{
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (d && platform_matches(json_object_get(m, "platform"), os, arch, variant) &&
		    strlen(d) < digest_len) {
			strcpy(ret_digest, d);
			r = 0;
			break;
		}
	}
	json_decref(root);
	return r;
}
