/*
 * digest — content digests as the OCI specs write them ("sha256:<64 hex>"),
 * computed with libcrypto (which sign, for keys and signatures, includes too).
 */
#ifndef REFIT_DIGEST_H
#define REFIT_DIGEST_H

#include <stddef.h>

#define DIGEST_STR_MAX 72 /* "sha256:" + 64 hex + NUL */

/* Writes "sha256:<hex>" of data into out (DIGEST_STR_MAX bytes). */
int digest_sha256(const void *data, size_t len, char out[DIGEST_STR_MAX]);

/* Writes "sha256=<hex>" of HMAC-SHA256(key, data) into out (DIGEST_STR_MAX bytes). */
int digest_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                       char out[DIGEST_STR_MAX]);

#endif
