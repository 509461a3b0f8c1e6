/*
 * grpcmsg — the gRPC side of the BuildKit session that refit serves to
 * dockerd (../shared/BUILDKIT.md B and C-15), without any I/O: the framing
 * of one unary message (a 5-byte prefix: compressed flag, big-endian
 * length), the percent-encoding of grpc-message, and the few protobuf
 * messages of Health, Auth/Credentials and Secrets/GetSecret.
 *
 * A request arrives in DATA chunks cut anywhere; grpcmsg_in assembles it,
 * bounded, and refuses compressed messages (dockerd never sends them). The
 * responses are built framed, in a buffer allocated once at its exact size
 * so that a password or a secret is never left behind by a realloc; free
 * them with grpcmsg_out_free, which wipes them.
 */
#ifndef REFIT_GRPCMSG_H
#define REFIT_GRPCMSG_H

#include <stddef.h>
#include <stdint.h>

#define GRPCMSG_PREFIX  5
#define GRPCMSG_MAX     (4u << 20) /* grpc-go's default receive limit */
#define GRPCMSG_STR_MAX 256        /* a host name or a secret id */

/* gRPC status codes used by the session (grpc/grpc doc/statuscodes.md). */
enum grpc_status {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_NOT_FOUND = 5,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
};

/* One request message being assembled; zero-initialise it, set max (0 = GRPCMSG_MAX). */
struct grpcmsg_in {
	size_t max;
	uint8_t prefix[GRPCMSG_PREFIX];
	size_t got; /* bytes of the frame so far, prefix included */
	size_t len; /* the message length, once the prefix is complete */
	uint8_t *msg;
	size_t cap;
	int error; /* the first error; later chunks are ignored */
};

/*
 * Appends a DATA chunk. 0, or the first error, kept in in->error:
 * -EMSGSIZE (longer than max), -EPROTONOSUPPORT (compressed), -EBADMSG
 * (bytes after the one message, or a bad flag), -ENOMEM.
 */
int grpcmsg_in_feed(struct grpcmsg_in *in, const void *data, size_t len);

/* At the end of the stream: the message (never NULL), or in->error, or -EBADMSG when cut short
 * or missing. */
int grpcmsg_in_end(const struct grpcmsg_in *in, const uint8_t **ret, size_t *ret_len);

/* Frees and wipes the message. */
void grpcmsg_in_done(struct grpcmsg_in *in);

/* A framed response: prefix + message, len bytes. */
struct grpcmsg_out {
	uint8_t *p;
	size_t len;
};

/* Wipes and frees out (NULL and empty are fine). */
void grpcmsg_out_free(struct grpcmsg_out *out);

/* HealthCheckResponse{status: SERVING}. */
int grpcmsg_health(struct grpcmsg_out *ret);

/* CredentialsResponse{Username, Secret}; NULL or "" fields are left out (anonymous: both). */
int grpcmsg_credentials(const char *username, const char *secret, struct grpcmsg_out *ret);

/* GetSecretResponse{data}. */
int grpcmsg_secret(const void *data, size_t len, struct grpcmsg_out *ret);

/*
 * CredentialsRequest{Host} and GetSecretRequest{ID} (its annotations are
 * skipped): the string into buf, NUL-terminated. -EBADMSG when malformed
 * or holding a NUL, -ENAMETOOLONG when it does not fit.
 */
int grpcmsg_credentials_host(const void *msg, size_t len, char *buf, size_t buflen);
int grpcmsg_secret_id(const void *msg, size_t len, char *buf, size_t buflen);

/*
 * The grpc-message form of s: bytes outside printable ASCII, and '%',
 * as %XX. Cut short to fit buf, never inside an escape or a UTF-8
 * character. Returns the length written.
 */
size_t grpcmsg_percent_encode(const char *s, char *buf, size_t buflen);

#endif
