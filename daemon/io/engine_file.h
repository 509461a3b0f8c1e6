/*
 * engine_file — reads one file out of an image without running it: a
 * container is created (never started), HEAD on /containers/{id}/archive
 * gives the size first (X-Docker-Container-Path-Stat), the archive of the
 * path is fetched and unpacked in memory, and the container is removed.
 * Used for image inventories (/etc/os-release, /var/lib/dpkg/status...).
 */
#ifndef REFIT_ENGINE_FILE_H
#define REFIT_ENGINE_FILE_H

#include <stddef.h>

struct engine;
struct engine_file;

/* status 0 with the file's bytes (NUL-terminated); -ENOENT, -EFBIG (over max), ... */
typedef void (*engine_file_cb)(int status, const char *data, size_t len, const char *error,
                               void *arg);

int engine_read_file(struct engine *e, const char *image, const char *path, size_t max,
                     engine_file_cb cb, void *arg, struct engine_file **ret);

/* Cancels a read: the callback does not run (the container is left to the engine). */
void engine_file_cancel(struct engine_file *f);

#endif
