/*
 * bksession_call — the gRPC calls of a BuildKit session (see bksession.h):
 * which method a :path names, and the answers, Health at once,
 * Credentials from creds' callback, GetSecret from its file, UNIMPLEMENTED
 * for the rest. Answers are HEADERS, one DATA frame sequence taken from the
 * call's buffer without a copy inside nghttp2, and the grpc-status trailer;
 * errors are Trailers-Only (BUILDKIT.md B.12, B.13).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bksession_impl.h"
#include "config.h"
#include "creds.h"
#include "fileread.h"
#include "log.h"

#define GRPC_MSG_MAX 512 /* a percent-encoded grpc-message */
#define SECRET_MAX   BKSESSION_SECRET_MAX

#define HEALTH      "/grpc.health.v1.Health/Check"
#define CREDENTIALS "/moby.filesync.v1.Auth/Credentials"
#define GET_SECRET  "/moby.buildkit.secrets.v1.Secrets/GetSecret"

const char *const bksession_advertised[] = {HEALTH, CREDENTIALS, GET_SECRET, NULL};

enum method { M_OTHER, M_HEALTH, M_CREDENTIALS, M_SECRET };

static void creds_answer_cb(int status, const struct creds_entry *e, void *arg);

/* A header for nghttp2, which copies it (no NO_COPY flag) and never writes to it. */
static nghttp2_nv nv(const char *name, const char *value)
{
	return (nghttp2_nv){(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, strlen(name),
	                    strlen(value), NGHTTP2_NV_FLAG_NONE};
}

void bksession_call_free(struct bksession *s, struct call *c)
{
	if (c->lookup)
		creds_lookup_cancel(s->creds, creds_answer_cb, c);
	grpcmsg_in_done(&c->in);
	grpcmsg_out_free(&c->resp);
	free(c);
}

/* How much of the answer the next DATA frame carries; at its end, the trailer grpc-status 0. */
static ssize_t data_read_cb(nghttp2_session *h2, int32_t stream, uint8_t *buf, size_t len,
                            uint32_t *flags, nghttp2_data_source *src, void *user)
{
	const nghttp2_nv ok[] = {nv("grpc-status", "0")};
	struct call *c = src->ptr;
	size_t n = c->resp.len - c->queued;

	(void)buf;
	(void)user;
	if (n > len)
		n = len;
	c->queued += n;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (c->queued == c->resp.len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(h2, stream, ok, 1) < 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

/* ---- answers ---- */

/* HEADERS 200, DATA (the framed message), trailers grpc-status 0. Takes out. */
static int answer_ok(struct bksession *s, struct call *c, struct grpcmsg_out *out)
{
	const nghttp2_nv nva[] = {nv(":status", "200"), nv("content-type", "application/grpc")};
	nghttp2_data_provider prd = {.source.ptr = c, .read_callback = data_read_cb};
	int r;

	c->resp = *out;
	*out = (struct grpcmsg_out){0};
	r = nghttp2_submit_response(s->h2, c->stream, nva, 2, &prd);
	if (r < 0)
		grpcmsg_out_free(&c->resp);
	return r;
}

/* A Trailers-Only error (BUILDKIT.md B.13): one HEADERS frame ending the stream. */
__attribute__((format(printf, 4, 5))) static int
answer_error(struct bksession *s, struct call *c, enum grpc_status code, const char *fmt, ...)
{
	char text[GRPC_MSG_MAX], enc[GRPC_MSG_MAX], st[8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	grpcmsg_percent_encode(text, enc, sizeof(enc));
	snprintf(st, sizeof(st), "%d", (int)code);
	log_debug("bksession %s: %s: grpc-status %d: %s", s->id, c->path, (int)code, text);
	const nghttp2_nv nva[] = {nv(":status", "200"), nv("content-type", "application/grpc"),
	                          nv("grpc-status", st), nv("grpc-message", enc)};
	return nghttp2_submit_response(s->h2, c->stream, nva, 4, NULL);
}

/* The password or token of e, as the docker CLI sends it (BUILDKIT.md D.23). */
static int credentials_of(struct bksession *s, const struct call *c, const struct creds_entry *e,
                          struct grpcmsg_out *out)
{
	switch (e->kind) {
	case CREDS_BASIC:
		return grpcmsg_credentials(e->username, e->secret, out);
	case CREDS_IDENTITY_TOKEN:
		return grpcmsg_credentials(NULL, e->secret, out);
	case CREDS_REGISTRY_TOKEN:
		log_warn("bksession %s: the credentials for %s are a registry token (from %s), "
		         "which BuildKit cannot use: answered anonymous",
		         s->id, c->host, e->source);
		return grpcmsg_credentials(NULL, NULL, out);
	case CREDS_ANONYMOUS:
		break;
	}
	return grpcmsg_credentials(NULL, NULL, out);
}

static void creds_answer_cb(int status, const struct creds_entry *e, void *arg)
{
	struct call *c = arg;
	struct bksession *s = c->s;
	struct grpcmsg_out out = {0};
	int r;

	c->lookup = false;
	if (status < 0) {
		r = answer_error(s, c, GRPC_INTERNAL, "refit: credentials for %s: %s", c->host,
		                 e->error);
	} else {
		log_debug("bksession %s: credentials for %s from %s", s->id, c->host, e->source);
		r = credentials_of(s, c, e, &out);
		r = r < 0 ? answer_error(s, c, GRPC_INTERNAL, "refit: credentials for %s: %s",
		                         c->host, strerror(-r))
		          : answer_ok(s, c, &out);
	}
	bksession_answered(s, r); /* may free c */
}

static int answer_credentials(struct bksession *s, struct call *c, const uint8_t *msg, size_t len)
{
	struct grpcmsg_out out = {0};
	int r;

	s->stats.credentials++;
	r = grpcmsg_credentials_host(msg, len, c->host, sizeof(c->host));
	if (r < 0 || !c->host[0])
		return answer_error(s, c, GRPC_INVALID_ARGUMENT, "refit: bad CredentialsRequest");
	if (!s->creds)
		return grpcmsg_credentials(NULL, NULL, &out) < 0 ? NGHTTP2_ERR_NOMEM
		                                                 : answer_ok(s, c, &out);
	r = creds_lookup(s->creds, c->host, creds_answer_cb, c);
	if (r == -EINVAL)
		return answer_error(s, c, GRPC_INVALID_ARGUMENT, "refit: %s is not a registry host",
		                    c->host);
	if (r < 0)
		return answer_error(s, c, GRPC_INTERNAL, "refit: credentials for %s: %s", c->host,
		                    strerror(-r));
	c->lookup = true; /* answered from creds_answer_cb */
	return 0;
}

/* Reads a secret file (at most SECRET_MAX bytes); the buffer is wiped on every path. The
 * error says why, never where: the file's path goes to no message, log or API. */
static int read_secret(const char *path, uint8_t **ret, size_t *ret_len, char *err, size_t errlen)
{
	char full[4096], why[64], *buf = NULL;
	size_t len = 0;
	int r = config_resolve_path(path, full, sizeof(full));

	if (r == 0)
		r = fileread_small(full, SECRET_MAX, &buf, &len, NULL);
	explicit_bzero(full, sizeof(full));
	if (r < 0) {
		snprintf(err, errlen, "%s",
		         r == -EFBIG          ? "larger than 500 KiB"
		         : r == -ENAMETOOLONG ? "its path is too long"
		                              : fileread_error(r, why, sizeof(why), 0));
		return r;
	}
	*ret = (uint8_t *)buf;
	*ret_len = len;
	return 0;
}

static int answer_secret(struct bksession *s, struct call *c, const uint8_t *msg, size_t len)
{
	char id[GRPCMSG_STR_MAX], err[300];
	struct grpcmsg_out out = {0};
	const struct secret *sec = NULL;
	uint8_t *data = NULL;
	size_t n = 0;
	int r;

	s->stats.secrets++;
	if (grpcmsg_secret_id(msg, len, id, sizeof(id)) < 0)
		return answer_error(s, c, GRPC_INVALID_ARGUMENT, "refit: bad GetSecretRequest");
	for (size_t i = 0; i < s->n_secrets && !sec; i++)
		if (!strcmp(s->secrets[i].id, id))
			sec = &s->secrets[i];
	if (!sec)
		return answer_error(s, c, GRPC_NOT_FOUND, "refit: no secret %s for this build", id);
	r = read_secret(sec->path, &data, &n, err, sizeof(err));
	if (r < 0) /* the build fails with this message: the owner logs it */
		return answer_error(s, c, GRPC_INTERNAL, "refit: secret %s: %s", id, err);
	r = grpcmsg_secret(data, n, &out);
	explicit_bzero(data, n);
	free(data);
	log_debug("bksession %s: secret %s (%zu bytes)", s->id, id, n);
	return r < 0 ? NGHTTP2_ERR_NOMEM : answer_ok(s, c, &out);
}

/* Everything not served, GetTokenAuthority included, is UNIMPLEMENTED: for that one it means
 * "no token authority", and dockerd fetches tokens itself with the Credentials answer
 * (BUILDKIT.md D.21). */
static enum method method_of(const char *path)
{
	return !strcmp(path, HEALTH)        ? M_HEALTH
	       : !strcmp(path, CREDENTIALS) ? M_CREDENTIALS
	       : !strcmp(path, GET_SECRET)  ? M_SECRET
	                                    : M_OTHER;
}

/* The request is complete: answers it, now or (credentials) from creds' callback. */
int bksession_dispatch(struct bksession *s, struct call *c)
{
	enum method m = method_of(c->path);
	struct grpcmsg_out out = {0};
	const uint8_t *msg;
	size_t len;
	int r;

	c->dispatched = true;
	if (m == M_OTHER) {
		s->stats.other++;
		return answer_error(s, c, GRPC_UNIMPLEMENTED, "refit: %s is not served", c->path);
	}
	r = grpcmsg_in_end(&c->in, &msg, &len);
	if (r == -EMSGSIZE)
		return answer_error(s, c, GRPC_RESOURCE_EXHAUSTED, "refit: request too large");
	if (r == -EPROTONOSUPPORT)
		return answer_error(s, c, GRPC_UNIMPLEMENTED, "refit: compressed messages");
	if (r < 0)
		return answer_error(s, c, GRPC_INVALID_ARGUMENT, "refit: %s", strerror(-r));
	switch (m) {
	case M_HEALTH:
		s->stats.health++;
		if (!s->health_seen) {
			s->health_seen = true;
			s->stats.first_health_ms = bksession_elapsed_ms(s);
		}
		return grpcmsg_health(&out) < 0 ? NGHTTP2_ERR_NOMEM : answer_ok(s, c, &out);
	case M_CREDENTIALS:
		return answer_credentials(s, c, msg, len);
	case M_SECRET:
		return answer_secret(s, c, msg, len);
	case M_OTHER:
		break;
	}
	return NGHTTP2_ERR_CALLBACK_FAILURE; /* not reached */
}
