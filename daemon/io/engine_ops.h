/*
 * engine_ops — the image and container operations a rebuild needs, on top
 * of engine_call: build (tar context streamed from a file, progress stream
 * decoded incrementally and appended to the build log), tag, push (with
 * X-Registry-Auth, the aux digest checked), inspect, a check command run in
 * a locked-down container with a time limit, and image removal.
 *
 * Success is strict, as PROTOCOLS.md section 7 measured: HTTP 200, a clean
 * end of stream, no error object, and the expected aux (aux.ID after a
 * build, aux.Digest after a push). Every operation has a total and an idle
 * time limit, so an engine that stops answering fails it with a reason.
 */
#ifndef REFIT_ENGINE_OPS_H
#define REFIT_ENGINE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct engine;
struct engine_op;
struct config_kv;

/* Outcome of an operation: status 0 or a negative errno, error text for humans. */
struct engine_outcome {
	int status;
	const char *error;       /* NULL on success; the engine's own message when it gave one */
	const char *image_id;    /* build: aux.ID */
	const char *failed_step; /* BuildKit build that failed: the step, "[3/5] RUN ..." */
	size_t cached_steps;     /* BuildKit build: Dockerfile steps that came from the cache */
	const char *digest;      /* push: aux.Digest */
	int exit_code;           /* check: the command's exit status (-1 when killed) */
	const char *body;        /* inspect: the JSON document */
	size_t body_len;
};

typedef void (*engine_op_cb)(const struct engine_outcome *o, void *arg);

struct engine_build_opts {
	const char *context_tar; /* path of the tar file to send */
	const char *dockerfile;  /* path inside the context */
	const char *tag;         /* full reference, e.g. host/ns/app:test */
	const char *target;      /* NULL: the last stage */
	const struct config_kv *build_args;
	size_t n_build_args;
	const struct config_kv *labels;
	size_t n_labels;
	bool pull, nocache;
	const char *registry_config; /* X-Registry-Config value (classic and Podman), or NULL */
	/* BuildKit (version=2) when session is set: the session serves credentials and secrets;
	 * cache_from names images whose inline cache metadata may be reused */
	const char *session;
	const char *const *cache_from; /* NULL-terminated, or NULL */
	const char *network;           /* networkmode: "host", "none", or NULL (default) */
	const char *platform;          /* e.g. linux/amd64, or NULL */
	const char *podman_secrets;    /* Podman: JSON array of "id=X,src=PATH-IN-TAR", or NULL */
	FILE *log;                     /* progress text goes here */
	uint64_t timeout_ms, idle_ms;
};

int engine_build(struct engine *e, const struct engine_build_opts *o, engine_op_cb cb, void *arg,
                 struct engine_op **ret);

/* Tags image as repo:tag. */
int engine_tag(struct engine *e, const char *image, const char *repo, const char *tag,
               engine_op_cb cb, void *arg, struct engine_op **ret);

/* Pushes repo:tag; auth is the X-Registry-Auth value ("e30=" when anonymous). */
int engine_push(struct engine *e, const char *repo, const char *tag, const char *auth, FILE *log,
                engine_op_cb cb, void *arg, struct engine_op **ret);

/* Pulls repo:tag (POST /images/create) with X-Registry-Auth auth. */
int engine_pull(struct engine *e, const char *repo, const char *tag, const char *auth, FILE *log,
                engine_op_cb cb, void *arg, struct engine_op **ret);

/* GET /images/{name}/json; the outcome's body holds the document (-ENOENT if absent). */
int engine_inspect(struct engine *e, const char *image, engine_op_cb cb, void *arg,
                   struct engine_op **ret);

struct engine_check_opts {
	const char *image;
	const char *const *argv; /* NULL-terminated */
	const char *user;        /* non-root user to run as, e.g. "65534:65534" */
	uint64_t timeout_ms;
	FILE *log;
};

/*
 * Runs argv in a container from image with no network, every capability
 * dropped, no-new-privileges, a read-only root and a tmpfs /tmp; its output
 * goes to the log; the container is removed afterwards. exit_code tells the
 * result; a time-out kills it (status -ETIMEDOUT).
 */
int engine_check(struct engine *e, const struct engine_check_opts *o, engine_op_cb cb, void *arg,
                 struct engine_op **ret);

/* GET /images/json filtered by reference (e.g. "host/ns/app"); the body lists them. */
int engine_list_images(struct engine *e, const char *reference, engine_op_cb cb, void *arg,
                       struct engine_op **ret);

/* DELETE /images/{name} (not forced: an image in use stays). */
int engine_remove_image(struct engine *e, const char *image, engine_op_cb cb, void *arg,
                        struct engine_op **ret);

/* Cancels an operation: its callback does not run; a check container is left to the engine. */
void engine_op_cancel(struct engine_op *op);

/* Parses one progress-stream object: 1 = error (message copied), 0 = progress. */
int engine_stream_error(const char *json_obj, char *msg, size_t len);

#endif
