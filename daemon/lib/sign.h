/*
 * sign — ECDSA P-256 keys and signatures with libcrypto, as cosign makes them:
 * an ASN.1 DER signature over SHA-256 of the message, carried base64
 * (standard alphabet, padded).
 *
 * A private key is read from a PEM file (PKCS#8 "PRIVATE KEY" or SEC1
 * "EC PRIVATE KEY", unencrypted) through fileread's bounded reader; the file's
 * bytes are wiped as soon as libcrypto has parsed them. Errors name the file
 * and what is wrong with it, never its content, and libcrypto's error queue
 * is cleared so nothing of the key lingers there. Public keys are PEM
 * "PUBLIC KEY" (SubjectPublicKeyInfo), what `cosign public-key` prints.
 */
#ifndef REFIT_SIGN_H
#define REFIT_SIGN_H

#include <stdbool.h>
#include <stddef.h>

struct sign_key; /* opaque; owns a libcrypto key */

#define SIGN_KEY_FILE_MAX (16u << 10)

/* Loads the private key in path; err (always written on failure) never holds key bytes. */
int sign_key_load(const char *path, struct sign_key **ret, char *err, size_t errlen);

/* Parses a PEM private key from memory (the caller wipes its copy). */
int sign_key_parse_private(const char *pem, size_t len, struct sign_key **ret);

/* Parses a PEM public key ("PUBLIC KEY"). */
int sign_key_parse_public(const char *pem, size_t len, struct sign_key **ret);

/* Loads a PEM public key file; err written on failure. */
int sign_key_load_public(const char *path, struct sign_key **ret, char *err, size_t errlen);

/* The public half as PEM, malloc'd (NULL when out of memory). */
char *sign_key_public_pem(const struct sign_key *k);

/* True when the key can sign (holds the private half). */
bool sign_key_is_private(const struct sign_key *k);

void sign_key_free(struct sign_key *k);

/* Signs msg: ECDSA-SHA256, DER, base64 into *ret (malloc'd). */
int sign_message(const struct sign_key *k, const void *msg, size_t len, char **ret);

/* 0 when b64sig is a valid signature of msg by k; -EBADMSG when not, -EINVAL when malformed. */
int sign_verify(const struct sign_key *k, const void *msg, size_t len, const char *b64sig);

#endif
