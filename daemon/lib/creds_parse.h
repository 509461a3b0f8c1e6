/*
 * creds_parse — the pure parts of creds: the credential entry type, Docker's config.json,
 * credential-helper output and host-name normalisation (base64 is base64.h). Nothing here does
 * I/O. Error texts written to err never contain a secret.
 */
#ifndef REFIT_CREDS_PARSE_H
#define REFIT_CREDS_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define CREDS_HOST_MAX        256
#define CREDS_HELPER_NAME_MAX 48

enum creds_kind {
	CREDS_ANONYMOUS,
	CREDS_BASIC,          /* username + password */
	CREDS_IDENTITY_TOKEN, /* OAuth2 refresh token for the token endpoint */
	CREDS_REGISTRY_TOKEN, /* bearer token sent as-is */
};

struct creds_entry {
	enum creds_kind kind;
	char *username;    /* BASIC; IDENTITY_TOKEN when config.json names one; else NULL */
	char *secret;      /* password or token; NULL when anonymous */
	char source[64];   /* "config", "config.json", "helper ecr-login", "none": for logs */
	const char *error; /* failed lookup: why, for the log, never a secret; "" otherwise */
};

/* Copies src into dst (error pointer not copied). */
int creds_entry_copy(struct creds_entry *dst, const struct creds_entry *src);

/* Wipes and frees e's strings, leaving it anonymous. */
void creds_entry_done(struct creds_entry *e);

/* Wipes and frees a string that carries a secret (NULL is fine). */
void creds_secret_free(char *s);

/* Docker's server address for host: https://index.docker.io/v1/ for Hub. */
const char *creds_server_address(const char *host);

/*
 * The Engine API's X-Registry-Auth value for e (NULL = anonymous, "e30="):
 * base64url, padded like Go's base64.URLEncoding, of Docker's AuthConfig
 * JSON with serveraddress from host (omitted when NULL). Free *ret with
 * creds_secret_free.
 */
int creds_x_registry_auth(const struct creds_entry *e, const char *host, char **ret);

struct creds_host_entry {
	const char *host;
	const struct creds_entry *entry;
};

/*
 * The X-Registry-Config value of a build: base64url of a JSON map from each
 * host's server address to its AuthConfig; anonymous entries are left out.
 */
int creds_x_registry_config(const struct creds_host_entry *list, size_t n, char **ret);

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

#endif
