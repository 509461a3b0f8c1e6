/*
 * frontend — before a BuildKit build whose Dockerfile names a "# syntax=" frontend image:
 * can the engine have that image? BuildKit pulls and runs it before anything else, and
 * when it cannot (dockerd 20.10 offline: "failed to solve with frontend gateway.v0: failed
 * to do request: Head ...") the build fails late, with the engine's words only.
 *
 * The image is there when the engine holds it (GET /images/NAME/json: BuildKit prefers a
 * local image for a frontend), or else when its manifest answers in its registry, asked
 * through refit's registry client with the configured credentials (the same credentials
 * the build's session gives the engine). Otherwise the check fails with the reference and
 * why: not a valid reference, not found, unauthorized, or the registry unreachable. It
 * cannot prove that the engine reaches that registry by its own network: a pull that
 * fails there is still the engine's error.
 */
#ifndef REFIT_FRONTEND_H
#define REFIT_FRONTEND_H

#include <stddef.h>

struct engine;
struct registry_pool;
struct frontend_check;

/* status 0: the image can be had (how, in why); negative errno: it cannot, reason in why.
 * why names the image; valid during the call. */
typedef void (*frontend_check_cb)(int status, const char *why, void *arg);

/* Starts the check of image (as written after "# syntax="). cb runs exactly once, from the
 * loop, unless this fails (negative errno, nothing started) or it is cancelled. */
int frontend_check(struct engine *e, struct registry_pool *reg, const char *image,
                   frontend_check_cb cb, void *arg, struct frontend_check **ret);

/* Stops a check: its callback does not run. NULL is fine. */
void frontend_check_cancel(struct frontend_check *c);

#endif
