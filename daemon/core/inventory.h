/*
 * inventory — the packages inside an image, read without running it.
 *
 * One container is created (never started) and the archive API streams
 * what is needed: /etc/os-release (or /usr/lib/os-release), the dpkg status
 * database, apk's installed database, and the METADATA / PKG-INFO of every
 * Python distribution under the usual prefixes (/usr/lib/python3*,
 * /usr/local/lib, /opt, /app). Big trees are streamed through, never held:
 * only those small files are kept (engine_archive.h), each bounded.
 */
#ifndef REFIT_INVENTORY_H
#define REFIT_INVENTORY_H

#include <uv.h>

#include "store_feed.h"

struct engine;
struct inventory_job;

/*
 * inv is NULL when nothing could be read (error says why); otherwise it
 * holds what was found, with a note of what was not in inv->error.
 * Everything is borrowed for the duration of the call.
 */
typedef void (*inventory_cb)(const struct store_inventory *inv, const char *error, void *arg);

/* Starts reading image's inventory; on failure returns a negative errno and cb never runs. */
int inventory_read(uv_loop_t *loop, struct engine *e, const char *image, inventory_cb cb, void *arg,
                   struct inventory_job **ret);

/* Stops a read; cb does not run. */
void inventory_cancel(struct inventory_job *j);

#endif
