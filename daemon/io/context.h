/*
 * context — the build context as a tar file, the way the Docker CLI sends it.
 *
 * The project directory is walked with the .dockerignore rules (ignore
 * module); the selected entries are written with libarchive (pax, with the
 * file modes and times, owner 0:0 as the CLI does) to a temporary file. A big
 * context is blocking file I/O, so the tar is written in libuv's thread pool
 * (uv_queue_work) and the loop stays free; the engine module then streams the
 * file. Sizes are bounded (entry count, total bytes).
 *
 * Extra files from outside the project directory (Podman's build secrets,
 * which travel in the context: BUILDKIT.md G 34) follow the walked entries.
 * The tar is created 0600, since it may hold them until the caller removes it.
 */
#ifndef REFIT_CONTEXT_H
#define REFIT_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define CONTEXT_MAX_BYTES   (8ULL << 30)
#define CONTEXT_MAX_ENTRIES 1000000
#define CONTEXT_EXTRA_MAX   (500 * 1024) /* per extra file, as the docker CLI's secrets */

/*
 * A regular file added after the project's entries: mode 0400, owner 0:0.
 * The name must not be one of the project's files; errors say what, never
 * the content.
 */
struct context_extra {
	const char *name; /* the entry's name in the tar */
	const char *path; /* the file, resolved with config_resolve_path */
	const char *what; /* for errors, e.g. "secret pipconf"; NULL: the name */
};

struct context_job;

/* What the policy check found among the files that would be sent. */
struct context_policy {
	unsigned secrets; /* secret-looking files (.env, id_rsa, *.pem...): the build fails */
	unsigned data;    /* data-looking or huge files: reported */
	char text[4096];  /* the findings, one per line */
	size_t text_len;
};

struct context_result {
	int status;        /* 0 or a negative errno */
	const char *error; /* why, for the build record */
	const char *path;  /* the tar file (the caller removes it) */
	uint64_t bytes;    /* payload bytes archived */
	uint64_t entries;
	const struct context_policy *policy;
};

typedef void (*context_cb)(const struct context_result *r, void *arg);

/*
 * Starts writing dir (with dockerfile, relative to dir) and the n_extra
 * extra files (copied: they need not outlive the call) to out_path in the
 * thread pool; cb runs on the loop when it is done.
 */
int context_tar_start(uv_loop_t *loop, const char *dir, const char *dockerfile,
                      const struct context_extra *extra, size_t n_extra, const char *out_path,
                      context_cb cb, void *arg, struct context_job **ret);

/* Writes the tar synchronously (tests); policy (may be NULL) collects findings. */
int context_tar_write(const char *dir, const char *dockerfile, const struct context_extra *extra,
                      size_t n_extra, const char *out_path, struct context_policy *policy,
                      uint64_t *ret_bytes, uint64_t *ret_entries, char *err, size_t errlen);

/* Writes a tar holding one regular file name with len bytes of data (a generated context). */
int context_tar_single(const char *out_path, const char *name, const char *data, size_t len);

/*
 * The first entry of an in-memory tar (what /containers/{id}/archive sends for
 * one file): a NUL-terminated malloc'd copy of at most max bytes; -EFBIG when
 * larger, -EISDIR when not a regular file, -EBADMSG when not a tar.
 */
int context_tar_first_file(const void *tar, size_t len, size_t max, char **ret, size_t *ret_len);

#endif
