/*
 * creds_parse — the pure parts of creds, exposed for its unit tests and its
 * libFuzzer target only: Docker's config.json, credential-helper output,
 * host-name normalisation and base64. Nothing here does I/O. Error texts
 * written to err never contain a secret.
 */
#ifndef REFIT_CREDS_PARSE_H
#define REFIT_CREDS_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "creds.h"

#define CREDS_HOST_MAX        256
#define CREDS_HELPER_NAME_MAX 48

/* What config.json says about one host: a helper to ask, or an inline entry. */
struct creds_dockercfg {
	char helper[CREDS_HELPER_NAME_MAX + 1]; /* "" when no helper */
	struct creds_entry entry;               /* anonymous when there is no inline auth */
};

/*
 * Reduces a registry name or an old URL key to host[:port] ("https://h/v1/"
 * -> "h"), mapping Docker Hub's names to "docker.io". -EINVAL when malformed.
 */
int creds_canon_host(const char *host, char *buf, size_t len);

/* Finds canon_host's credentials in the config.json text. */
int creds_parse_dockercfg(const char *text, size_t len, const char *canon_host,
                          struct creds_dockercfg *ret, char *err, size_t errlen);

/* Parses a helper's `get` answer {"ServerURL","Username","Secret"}. */
int creds_parse_helper_output(const char *text, size_t len, struct creds_entry *ret, char *err,
                              size_t errlen);

/* Decodes base64 (url = RFC 4648 §5 alphabet); padding optional. out needs
 * len / 4 * 3 + 3 bytes. */
int creds_base64_decode(const char *in, size_t len, bool url, unsigned char *out, size_t *ret_len);

/* Encodes with padding; the result is malloc'd, NULL when out of memory. */
char *creds_base64_encode(const void *data, size_t len, bool url);

#endif
