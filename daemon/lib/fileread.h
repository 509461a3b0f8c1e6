/*
 * fileread — small files read whole: configuration-adjacent files such as
 * secrets, passwords and docker's config.json. Bounded, regular files only
 * (O_NONBLOCK: a FIFO put in a file's place does not block the loop), and
 * the buffer is wiped on every failure path, since it may hold a secret.
 */
#ifndef REFIT_FILEREAD_H
#define REFIT_FILEREAD_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Reads path (at most max bytes) into a NUL-terminated malloc'd buffer; the file's mode in
 * *ret_mode when not NULL. -EFBIG when larger (or it grew while read), -EBADFD when not a
 * regular file, else a negative errno. Free a secret with explicit_bzero first.
 */
int fileread_small(const char *path, size_t max, char **ret, size_t *ret_len, mode_t *ret_mode);

/* Why fileread_small failed (r), in words, written to buf. */
const char *fileread_error(int r, char *buf, size_t len, size_t max);

#endif
