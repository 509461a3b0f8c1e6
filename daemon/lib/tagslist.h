/*
 * tagslist — what a registry answers to GET /v2/NAME/tags/list: the JSON
 * page ({"name": ..., "tags": [...]}) and the Link header that points to the
 * next page (distribution spec, "Listing Tags": `Link: <URL>; rel="next"`).
 *
 * Registries answer in pages (n= entries, last= the last one seen); the
 * registry client walks them and this module collects the tags, bounded:
 * at most TAGSLIST_MAX_TAGS tags of at most TAGVER-sized length each. A tag
 * that is not a valid tag (distribution's [A-Za-z0-9_][A-Za-z0-9._-]{0,127})
 * is dropped and counted, never kept: tags reach logs, the store and the API.
 *
 * Pure: jansson only. The list owns its strings.
 */
#ifndef REFIT_TAGSLIST_H
#define REFIT_TAGSLIST_H

#include <stddef.h>

#define TAGSLIST_MAX_TAGS 100000
#define TAGSLIST_URL_MAX  2048

struct tagslist { /* zero-initialised = empty */
	char **tags;
	size_t n, cap;
	size_t dropped; /* invalid tags seen and skipped */
};

/*
 * Appends the tags of one page body to l. -EPROTO when the body is not a
 * tags/list answer (the message in ret_err, static), -E2BIG past
 * TAGSLIST_MAX_TAGS, -ENOMEM. A page with "tags": null is an empty page.
 */
int tagslist_page(struct tagslist *l, const char *body, size_t len, const char **ret_err);

/* Frees the tags; l is empty and reusable after. */
void tagslist_done(struct tagslist *l);

/*
 * The URL of the next page from a Link header value, resolved against
 * base_url ("http://host:port", no trailing slash). 1 and the URL in ret
 * when there is a rel="next" link; 0 when there is none; -EPROTO when the
 * link points to another origin (we never send our credentials elsewhere) or
 * is malformed; -ENOSPC when it does not fit in len.
 */
int tagslist_next_url(const char *link, const char *base_url, char *ret, size_t len);

#endif
