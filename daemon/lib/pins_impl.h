/*
 * pins_impl — what the pins parsers (pins_req.c, pins_toml.c, pins_docker.c)
 * share with pins.c: adding a pin and reading one PEP 508 requirement.
 */
#ifndef REFIT_PINS_IMPL_H
#define REFIT_PINS_IMPL_H

#include "pins.h"

/* One requirement read by pins_req_spec(): a pin when pinned is true. */
struct pins_req {
	bool pinned;
	enum pins_op op;
	char name[PINS_MAX_NAME];       /* PEP 503 */
	char version[PINS_MAX_VERSION]; /* as written */
	size_t name_at;                 /* offset of the name in the text read */
};

/*
 * Reads "name[extras] (specifiers) ; markers" from s[0..n): pinned when a
 * clause is == (no wildcard, a valid PEP 440 version), === or ~=. Anything
 * else (a URL, a path, "name @ url", ranges) leaves pinned false.
 */
void pins_req_spec(const char *s, size_t n, struct pins_req *ret);

/* Adds a pin (copies every string); -E2BIG past PINS_MAX, -ENOMEM. */
int pins_add(struct pins *p, const char *file, int line, int col, enum pins_eco eco,
             enum pins_op op, const char *name, const char *version);

/* Adds an include; -E2BIG past PINS_MAX_INCLUDES, -ENOMEM. */
int pins_add_include(struct pins *p, const char *path, size_t n, int line, bool constraint);

/* Writes "LINE: message" (or just message when line is 0) to err; returns rc. */
int pins_fail(char *err, size_t errlen, int line, int rc, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* The parsers, as pins_parse() dispatches them. */
int pins_parse_requirements(const char *file, const char *text, size_t len, struct pins *p,
                            char *err, size_t errlen);
int pins_parse_toml(enum pins_format f, const char *file, const char *text, size_t len,
                    struct pins *p, char *err, size_t errlen);
int pins_parse_pipfile_lock(const char *file, const char *text, size_t len, struct pins *p,
                            char *err, size_t errlen);
int pins_parse_dockerfile(const char *file, const char *text, size_t len, const struct pins_opts *o,
                          struct pins *p, char *err, size_t errlen);

#endif
