/*
 * registry_raw — registry_request: any v2 API request on a repository, run by the
 * op state machine of registry_op.c (credentials, token on 401, backoff), for
 * pushing blobs and manifests and reading artifacts back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "registry_impl.h"

void reg_raw_free(struct reg_raw *raw)
{
	if (!raw)
		return;
	free(raw->url);
	free(raw->body);
	free(raw);
}

/* A Location may be relative, or absolute on the registry's own origin; nothing else. */
static int location_url(const struct reg_op *op, char *url, size_t len)
{
	const char *u = op->raw->url, *base = op->h->base_url;
	size_t bl = strlen(base);

	if (u[0] == '/')
		return snprintf(url, len, "%s%s", base, u) < (int)len ? 0 : -ENAMETOOLONG;
	if (!strncmp(u, base, bl) && (u[bl] == '/' || u[bl] == '\0'))
		return snprintf(url, len, "%s", u) < (int)len ? 0 : -ENAMETOOLONG;
	if (strstr(u, "://"))
		return -EXDEV;
	return snprintf(url, len, "%s/v2/%s/%s", base, op->name, u) < (int)len ? 0 : -ENAMETOOLONG;
}

int reg_raw_prepare(struct reg_op *op, char *url, size_t len, const char **hdrs, int *n, char *ct,
                    size_t ctlen)
{
	int r = location_url(op, url, len);

	if (r < 0)
		return r;
	hdrs[(*n)++] = MANIFEST_ACCEPT;
	if (op->raw->content_type[0]) {
		snprintf(ct, ctlen, "Content-Type: %s", op->raw->content_type);
		hdrs[(*n)++] = ct;
	}
	return 0;
}

void reg_raw_deliver(struct reg_op *op, int status)
{
	const struct http_response *resp = status == 0 ? op->raw->resp : NULL;
	struct registry_response rr = {0};
	char loc[2048], dig[DIGEST_STR_MAX + 8], ct[160], subj[DIGEST_STR_MAX + 8];

	if (resp) {
		rr.status = resp->status;
		rr.body = resp->body;
		rr.body_len = resp->body_len;
		rr.location = http_response_header(resp, "Location", loc, sizeof(loc));
		rr.digest = http_response_header(resp, "Docker-Content-Digest", dig, sizeof(dig));
		if (!http_response_header(resp, "Content-Type", ct, sizeof(ct)))
			ct[0] = '\0';
		ct[strcspn(ct, "; ")] = '\0';
		rr.content_type = ct;
		rr.oci_subject = http_response_header(resp, "OCI-Subject", subj, sizeof(subj));
	} else {
		rr.error = op->error[0] ? op->error : strerror(-status);
	}
	op->raw->cb(status, &rr, op->arg);
}

int registry_request(struct registry_pool *p, const struct registry_request *rq,
                     registry_request_cb cb, void *arg)
{
	struct reg_op *op = calloc(1, sizeof(*op));
	struct reg_raw *raw = calloc(1, sizeof(*raw));

	if (!op || !raw || !(raw->url = strdup(rq->path)) ||
	    (rq->body_len && !(raw->body = malloc(rq->body_len)))) {
		reg_raw_free(raw);
		free(op);
		return -ENOMEM;
	}
	op->raw = raw;
	op->arg = arg;
	raw->cb = cb;
	if (rq->body_len)
		memcpy(raw->body, rq->body, rq->body_len);
	raw->body_len = rq->body_len;
	raw->max_body = rq->max_body ? rq->max_body : MANIFEST_MAX;
	if (!rq->domain || !rq->name || !*rq->name || strlen(rq->name) >= sizeof(op->name) ||
	    strlen(rq->method) >= sizeof(raw->method) ||
	    (rq->content_type && strlen(rq->content_type) >= sizeof(raw->content_type))) {
		reg_op_free(op);
		return -EINVAL;
	}
	snprintf(raw->method, sizeof(raw->method), "%s", rq->method);
	snprintf(raw->content_type, sizeof(raw->content_type), "%s",
	         rq->content_type ? rq->content_type : "");
	snprintf(op->name, sizeof(op->name), "%s", rq->name);
	/* what error messages name: the path, cut to fit */
	snprintf(op->reference, sizeof(op->reference), "%s", rq->path);
	snprintf(op->scope, sizeof(op->scope), "repository:%s:%s", op->name,
	         rq->push ? "pull,push" : "pull");
	return reg_enqueue(p, op, rq->domain);
}
