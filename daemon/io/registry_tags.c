/*
 * registry_tags — the tags/list walk of a registry op: one request per page,
 * Link rel="next" followed on the same origin only, If-None-Match on the
 * first page. Pages are bounded (TAGS_MAX_PAGES, TAGSLIST_MAX_TAGS), and a
 * host that asked us to slow down (429, RateLimit-*) between two pages ends
 * the walk with -EAGAIN rather than waiting inside it: the caller retries on
 * its next round, within the same budget as the digest polls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "log.h"
#include "registry_impl.h"

#define TAGS_MAX_PAGES 1000

int reg_tags_request(struct reg_op *op, char *url, size_t len, char *hdr, size_t hlen)
{
	hdr[0] = '\0';
	if (op->next_url) {
		if (snprintf(url, len, "%s", op->next_url) >= (int)len)
			return -ENOSPC;
		return 0;
	}
	if (op->known_etag[0])
		snprintf(hdr, hlen, "If-None-Match: %s", op->known_etag);
	return snprintf(url, len, "%s/v2/%s/tags/list?n=%u", op->h->base_url, op->name,
	                op->page_size) < (int)len
	               ? 0
	               : -ENOSPC;
}

/* The next page's URL from the answer's Link header: 1 (in op->next_url), 0 at the end. */
static int next_page(struct reg_op *op, const struct http_response *resp)
{
	char link[TAGSLIST_URL_MAX + 64], url[TAGSLIST_URL_MAX];
	int r;

	if (!http_response_header(resp, "Link", link, sizeof(link)))
		return 0;
	r = tagslist_next_url(link, op->h->base_url, url, sizeof(url));
	if (r <= 0) {
		if (r < 0)
			reg_op_fail(op, -EPROTO, "%s: unusable Link header for the next page",
			            op->name);
		return r;
	}
	free(op->next_url);
	op->next_url = strdup(url);
	if (!op->next_url) {
		reg_op_fail(op, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	return 1;
}

int reg_tags_answer(struct reg_op *op, const struct http_response *resp)
{
	const char *err = NULL;
	int r;

	op->pages++;
	if (resp->status == 304 && op->pages == 1 && op->known_etag[0]) {
		op->not_modified = true;
		snprintf(op->etag, sizeof(op->etag), "%s", op->known_etag);
		reg_op_finish(op, 0);
		return 0;
	}
	if (resp->status == 304) {
		reg_op_fail(op, -EPROTO, "%s: 304 for a page not asked conditionally", op->name);
		return 0;
	}
	if (op->pages == 1 && !http_response_header(resp, "ETag", op->etag, sizeof(op->etag)))
		op->etag[0] = '\0';
	r = tagslist_page(&op->list, resp->body, resp->body_len, &err);
	if (r < 0) {
		reg_op_fail(op, r, "%s: tags/list page %u: %s", op->name, op->pages, err);
		return 0;
	}
	r = next_page(op, resp);
	if (r <= 0) {
		if (r == 0)
			reg_op_finish(op, 0);
		return 0;
	}
	if (op->pages >= TAGS_MAX_PAGES) {
		reg_op_fail(op, -E2BIG, "%s: more than %d pages of tags", op->name, TAGS_MAX_PAGES);
		return 0;
	}
	if (uv_now(op->p->loop) < op->h->blocked_until) {
		reg_op_fail(op, -EAGAIN, "%s: slowing down after page %u (%s)", op->name, op->pages,
		            op->h->blocked_why);
		return 0;
	}
	return 1;
}

void reg_tags_done(struct reg_op *op)
{
	tagslist_done(&op->list);
	free(op->next_url);
	op->next_url = NULL;
}
