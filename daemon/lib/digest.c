#include "digest.h"

#include <errno.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int digest_sha256(const void *data, size_t len, char out[DIGEST_STR_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	snprintf(out, DIGEST_STR_MAX, "sha256:");
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int digest_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                       char out[DIGEST_STR_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &n) || n != 32)
		return -EIO;
	snprintf(out, DIGEST_STR_MAX, "sha256=");
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}
