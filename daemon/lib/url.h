/*
 * url — URLs made fit to show in logs and API answers: a feed mirror or a
 * webhook URL may carry user:password@ or a token in its query.
 */
#ifndef REFIT_URL_H
#define REFIT_URL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copies url into buf (len bytes, truncated) with its user information
 * replaced by "***@" and, unless keep_query, without its query and fragment.
 */
void url_redact(const char *url, bool keep_query, char *buf, size_t len);

#endif
