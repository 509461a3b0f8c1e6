#include "sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base64.h"
#include "fileread.h"

#define SIG_MAX 80 /* DER ECDSA P-256: at most 72 bytes */

struct sign_key {
	EVP_PKEY *pkey;
	bool priv;
};

/* An encrypted PEM asks for a pass phrase: refuse instead of prompting. */
static int no_password_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* Only P-256 keys: what cosign generates and what verifiers expect. */
static bool is_p256(EVP_PKEY *pkey)
{
	char curve[64];
	size_t n = 0;

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
		return false;
	if (!EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof(curve), &n))
		return false;
	return !strcmp(curve, "prime256v1") || !strcmp(curve, "P-256");
}

static int parse(const char *pem, size_t len, bool priv, struct sign_key **ret)
{
	BIO *bio;
	EVP_PKEY *pkey;
	struct sign_key *k;

	if (len > SIGN_KEY_FILE_MAX)
		return -EFBIG;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	pkey = priv ? PEM_read_bio_PrivateKey(bio, NULL, no_password_cb, NULL)
	            : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error(); /* its messages may quote the input */
	if (!pkey)
		return -EINVAL;
	if (!is_p256(pkey)) {
		EVP_PKEY_free(pkey);
		return -EPROTONOSUPPORT;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	k->pkey = pkey;
	k->priv = priv;
	*ret = k;
	return 0;
}

int sign_key_parse_private(const char *pem, size_t len, struct sign_key **ret)
{
	return parse(pem, len, true, ret);
}

int sign_key_parse_public(const char *pem, size_t len, struct sign_key **ret)
{
	return parse(pem, len, false, ret);
}

static const char *parse_error(int r)
{
	if (r == -EPROTONOSUPPORT)
		return "not an ECDSA P-256 key";
	if (r == -EINVAL)
		return "no unencrypted PEM key in it";
	return strerror(-r);
}

static int load(const char *path, bool priv, struct sign_key **ret, char *err, size_t errlen)
{
	char *buf = NULL, why[128];
	size_t len = 0;
	int r;

	r = fileread_small(path, SIGN_KEY_FILE_MAX, &buf, &len, NULL);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path,
		         fileread_error(r, why, sizeof(why), SIGN_KEY_FILE_MAX));
		return r;
	}
	r = parse(buf, len, priv, ret);
	explicit_bzero(buf, len);
	free(buf);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, parse_error(r));
	return r;
}

int sign_key_load(const char *path, struct sign_key **ret, char *err, size_t errlen)
{
	return load(path, true, ret, err, errlen);
}

int sign_key_load_public(const char *path, struct sign_key **ret, char *err, size_t errlen)
{
	return load(path, false, ret, err, errlen);
}

char *sign_key_public_pem(const struct sign_key *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!bio)
		return NULL;
	if (PEM_write_bio_PUBKEY(bio, k->pkey) == 1) {
		n = BIO_get_mem_data(bio, &data);
		out = n > 0 ? strndup(data, (size_t)n) : NULL;
	}
	BIO_free(bio);
	return out;
}

bool sign_key_is_private(const struct sign_key *k)
{
	return k->priv;
}

void sign_key_free(struct sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* libcrypto clears private key material on free */
	free(k);
}

int sign_message(const struct sign_key *k, const void *msg, size_t len, char **ret)
{
	EVP_MD_CTX *ctx;
	unsigned char sig[SIG_MAX];
	size_t n = sizeof(sig);
	char *b64;
	int ok;

	if (!k->priv)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &n, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return -EIO;
	b64 = base64_encode(sig, n, false);
	if (!b64)
		return -ENOMEM;
	*ret = b64;
	return 0;
}

int sign_verify(const struct sign_key *k, const void *msg, size_t len, const char *b64sig)
{
	unsigned char sig[SIG_MAX];
	size_t n = 0;
	EVP_MD_CTX *ctx;
	int r;

	if (!b64sig || base64_decode(b64sig, strlen(b64sig), false, sig, sizeof(sig), &n) < 0 ||
	    n == 0)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	r = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 ? 0 : -EIO;
	if (r == 0)
		r = EVP_DigestVerify(ctx, sig, n, msg, len) == 1 ? 0 : -EBADMSG;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r;
}
