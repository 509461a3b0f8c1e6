#include "digest.h"

#include <errno.h>
#include <stdio.h>

#include <openssl/evp.h>

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
