/*
 * engine_archive — walks directories of an image without running it and
 * keeps only the entries a filter asks for (Python *.dist-info/METADATA in a
 * site-packages tree of several gigabytes, for instance).
 *
 * One container is created (never started) per walk, named
 * refit-inventory-<random> and labelled io.refit.inventory=1. For each path
 * in turn, HEAD /containers/{name}/archive?path=<path>/ says whether it
 * exists (404: skipped, logged at debug level), then GET streams its tar.
 * The container is removed at the end, on errors and on cancel (a cancel
 * during the create can lose that race: engine_archive_sweep() below).
 *
 * The tar is never held: the response data go, as curl delivers them on the
 * loop, into a unix socket pair whose other end is read by libarchive in a
 * uv_queue_work worker. When the socket is full the transfer is paused
 * (HTTP_DATA_PAUSE) and resumed when a uv_poll_t sees it writable again. The
 * worker calls the filter for each header, copies kept entries into memory
 * and skips the data of the others; when it stops early (a limit, an error)
 * the transfer is cancelled. The trailing slash in the request makes the
 * engine follow a path that is a symlink to a directory (/lib -> usr/lib).
 */
#ifndef REFIT_ENGINE_ARCHIVE_H
#define REFIT_ENGINE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct engine;
struct engine_archive;

/* Defaults for limits left at 0. */
#define ENGINE_ARCHIVE_MAX_TOTAL      (8ULL << 30) /* tar bytes streamed, all paths */
#define ENGINE_ARCHIVE_MAX_ENTRY      (1u << 20)   /* bytes kept of one entry */
#define ENGINE_ARCHIVE_MAX_KEPT       20000        /* entries kept */
#define ENGINE_ARCHIVE_MAX_HEADERS    2000000      /* entries seen, all paths */
#define ENGINE_ARCHIVE_MAX_KEPT_BYTES (256u << 20) /* kept paths + data */
#define ENGINE_ARCHIVE_MAX_PATHS      64           /* directories per walk */
#define ENGINE_ARCHIVE_PATH_MAX       4096         /* longer entry paths are not seen */

struct engine_archive_entry {
	const char *path; /* absolute in the image: the walked directory's parent + the tar name */
	const char *data; /* regular files: the bytes, NUL-terminated; NULL for anything else */
	size_t len;
	bool is_dir;
	bool truncated; /* larger than max_entry: data holds its first max_entry bytes */
};

/*
 * Whether to keep an entry (path as in engine_archive_entry, without a
 * trailing slash). Runs on a worker thread: it must only read its argument
 * and the strings it is given. It never runs after engine_archive_cancel()
 * returned.
 */
typedef bool (*engine_archive_filter)(const char *path, bool is_dir, void *arg);

/*
 * The end of a walk, on the loop: status 0 with the kept entries in archive
 * order, or a negative errno with entries NULL: -ENOENT (no such image),
 * -EFBIG (a limit was hit), -EIO (the engine refused, or an unreadable tar),
 * -ENOMEM, or the transport's error. The entries live until the callback
 * returns.
 */
typedef void (*engine_archive_cb)(int status, const struct engine_archive_entry *entries, size_t n,
                                  const char *error, void *arg);

/* 0 means the default above. Hitting any limit fails the walk with -EFBIG. */
struct engine_archive_limits {
	uint64_t max_total;
	size_t max_entry; /* larger files are kept truncated (flagged), not refused */
	size_t max_kept;
	uint64_t max_headers;
	size_t max_kept_bytes;
};

/*
 * Walks the absolute directories paths (NULL-terminated, at most
 * ENGINE_ARCHIVE_MAX_PATHS, each under 1024 bytes, "/" itself not allowed)
 * of image (under 512 bytes) through one container. lim may be NULL. On
 * failure returns a negative errno (-EINVAL, -E2BIG, -EAGAIN when the engine
 * is unreachable) and cb never runs; otherwise cb runs once, unless the walk
 * is cancelled. The engine must outlive the walk.
 */
int engine_archive_walk(uv_loop_t *loop, struct engine *e, const char *image,
                        const char *const *paths, const struct engine_archive_limits *lim,
                        engine_archive_filter filter, void *filter_arg, engine_archive_cb cb,
                        void *arg, struct engine_archive **ret);

/*
 * Stops a walk whose callback has not run yet: the callback will not run,
 * the filter is not called again, and the container removal is sent now (the
 * engine is not used after this returns). Memory is released once the worker
 * thread has finished, so keep running the loop.
 */
void engine_archive_cancel(struct engine_archive *a);

/* ---- clean-up of what walks could not remove ---- */

struct engine_archive_sweep;

/* status 0 or a negative errno; removed counts the containers deleted. */
typedef void (*engine_archive_sweep_cb)(int status, unsigned removed, void *arg);

#define ENGINE_ARCHIVE_SWEEP_MAX 1000 /* containers removed per sweep */

/*
 * Removes the containers labelled io.refit.inventory (walks and
 * engine_read_file both use that label) created at least min_age_s seconds
 * ago: those of walks cancelled while their create was on its way (the
 * removal sent with the cancel can reach the engine first), or interrupted
 * by a shutdown or a crash. Meant for when an engine comes up, before this
 * process starts walks on it (min_age_s 0), or periodically with a min_age_s
 * longer than any walk. cb runs once unless this fails or it is cancelled.
 */
int engine_archive_sweep(struct engine *e, uint64_t min_age_s, engine_archive_sweep_cb cb,
                         void *arg, struct engine_archive_sweep **ret);

/* Stops a sweep (its callback does not run); removals already sent go on. */
void engine_archive_sweep_cancel(struct engine_archive_sweep *s);

#endif
