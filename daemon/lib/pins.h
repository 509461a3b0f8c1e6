/*
 * pins — where a build context pins a package to a version: the place a
 * rebuild cannot move past, so an advisory against that version needs a
 * change in the project, not a no-cache rebuild.
 *
 * Formats (pins_format_of() names them from a file name):
 *   requirements   pip's requirements/constraints files: "name==V", "name===V"
 *                  (exact), "name~=V" (compatible release, kept with its op),
 *                  [extras], "; markers" (kept: matching compares the installed
 *                  version, so a pin whose marker did not apply never matches),
 *                  "--hash=" options, backslash continuations, comments,
 *                  "-r FILE" / "-c FILE" includes (returned, not followed:
 *                  reading files is the caller's); URLs, paths, "name @ url",
 *                  editable installs, wildcards ("==1.*") and ranges are not pins.
 *   pyproject      pyproject.toml: PEP 621 [project] dependencies and
 *                  optional-dependencies, PEP 735 [dependency-groups], poetry's
 *                  [tool.poetry.dependencies], [tool.poetry.dev-dependencies]
 *                  and [tool.poetry.group.*.dependencies] (poetry: a bare
 *                  "1.2.3" or "==1.2.3" is exact; ^ ~ and ranges are not pins).
 *   pipfile        Pipfile [packages] / [dev-packages], "==V" or {version="==V"}.
 *   poetry-lock    poetry.lock [[package]] name/version: every entry is exact.
 *   pipfile-lock   Pipfile.lock (JSON) "default" and "develop": "version": "==V".
 *   dockerfile     RUN lines (shell form, exec form, heredoc scripts), with
 *                  ARG defaults, build args and ENV expanded as BuildKit does:
 *                  "apt-get|apt|aptitude install pkg=V", "apk add pkg=V" and
 *                  "pip|pip3|python -m pip|uv pip install name==V". With a
 *                  target only the stages it needs count.
 * TOML is read by a small subset reader (tables, key = string, arrays of
 * strings, inline tables); Debian ships no C TOML library.
 *
 * Pure: parses memory, no I/O; bounded by the PINS_MAX_* limits.
 */
#ifndef REFIT_PINS_H
#define REFIT_PINS_H

#include <stdbool.h>
#include <stddef.h>

#define PINS_MAX          8192 /* pins kept from one context */
#define PINS_MAX_INCLUDES 64   /* -r/-c includes returned from one file */
#define PINS_MAX_NAME     128
#define PINS_MAX_VERSION  256

enum pins_format {
	PINS_REQUIREMENTS,
	PINS_PYPROJECT,
	PINS_PIPFILE,
	PINS_POETRY_LOCK,
	PINS_PIPFILE_LOCK,
	PINS_DOCKERFILE,
};

/* Which packages a pin is about: PyPI names are PEP 503, apt and apk as written. */
enum pins_eco { PINS_PYPI, PINS_DEB, PINS_APK };

enum pins_op {
	PINS_EXACT,      /* == (no wildcard), ===, poetry's bare version, a lock entry */
	PINS_COMPATIBLE, /* ~=V: >= V and within V's release prefix */
};

struct pin {
	char *file;    /* the name the caller gave the file (relative to the context) */
	int line, col; /* 1-based; col 0 when the place is only known to the line */
	enum pins_eco eco;
	enum pins_op op;
	char *name, *version;
};

struct pins_include {
	char *path; /* as written; relative to the including file's directory */
	int line;
	bool constraint; /* -c (else -r) */
};

struct pins {
	struct pin *v;
	size_t n, cap;
	struct pins_include *inc; /* of the last pins_parse() call only */
	size_t n_inc;
};

struct pins_opts {
	const char *const *build_args; /* dockerfile: "K=V", NULL-terminated; may be NULL */
	const char *target;            /* dockerfile: the stage built; NULL: every stage */
};

/* The format of a context file by its base name, or -1 when it holds no pins refit reads:
 * requirements*.txt, *requirements.txt, constraints*.txt, pyproject.toml, Pipfile,
 * poetry.lock, Pipfile.lock. (The Dockerfile is named by the configuration.) */
int pins_format_of(const char *basename);

/*
 * Adds the pins of text[0..len), a file of format f named file, to p (and its
 * -r/-c includes to p->inc, replacing the previous call's). A file that does
 * not parse is -EINVAL with "LINE: reason" in err, p unchanged;
 * -E2BIG past PINS_MAX; -ENOMEM.
 */
int pins_parse(enum pins_format f, const char *file, const char *text, size_t len,
               const struct pins_opts *o, struct pins *p, char *err, size_t errlen);

/*
 * The pin that holds package name of eco at version installed, or NULL: an
 * exact pin to a version equal to installed (the ecosystem's ordering), or a
 * ~= pin that installed satisfies and fixed (the first fixed version, NULL:
 * unknown) lies outside of. Python names are compared PEP 503-normalised.
 */
const struct pin *pins_holding(const struct pins *p, enum pins_eco eco, const char *name,
                               const char *installed, const char *fixed);

/* Frees everything in p and empties it. */
void pins_done(struct pins *p);

/* "requirements", "pyproject", ... */
const char *pins_format_name(enum pins_format f);

#endif
