/*
 * ignore — which files of a build context are sent, by .dockerignore rules.
 *
 * Semantics are the Docker CLI's (github.com/moby/patternmatcher and its
 * ignorefile reader): '#' comment lines, blank lines, a UTF-8 BOM, surrounding
 * white space, filepath.Clean and a leading '/' are handled as there; '*', '?',
 * '**', classes ([a-z], [^a], [[:digit:]]; '!' in a class is a literal, as in
 * Docker) and '\' escapes match as in Docker's compiled expressions. A path is
 * excluded when it or one of its parent directories matches; the last matching
 * pattern wins and '!' patterns re-include. Matching simulates the pattern as an NFA in
 * O(path x pattern) steps, so hostile patterns cannot stall the daemon.
 *
 * Where Docker would hand a pattern to its regexp engine with a meaning nobody
 * writes on purpose ('*' inside a class, "\d", "src\main") or keep a NUL byte,
 * we reject the pattern with its line number instead of guessing; a pattern
 * Docker rejects only at its first match (a reversed range) is rejected when
 * parsing. tests/unit/test_ignore.c lists every divergence.
 *
 * The walk is synchronous (openat/readdir/fstatat, symlinks never followed) and
 * does not descend into an excluded directory unless an exception, the
 * Dockerfile or .dockerignore could be inside it; both are always sent.
 */
#ifndef REFIT_IGNORE_H
#define REFIT_IGNORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define IGNORE_PATTERN_MAX 4096      /* bytes of one cleaned pattern */
#define IGNORE_LINE_MAX    65536     /* bytes of one line (Go bufio.Scanner's limit) */
#define IGNORE_FILE_MAX    (4 << 20) /* bytes of a .dockerignore */
#define IGNORE_PATH_MAX    4096      /* bytes of a relative path, NUL included */
#define IGNORE_DEPTH_MAX   2000      /* directory levels: Docker's, as IGNORE_PATH_MAX allows */

struct ignore;

/* Parses .dockerignore text (len bytes). On a bad pattern returns -EINVAL and
 * writes "line N: reason" into err. */
int ignore_parse(const char *text, size_t len, struct ignore **ret, char *err, size_t errlen);

/* True when relpath (slash-separated, relative to the context root, no leading
 * ./) is excluded: it or a parent directory matches, the last match winning.
 * A NULL ig excludes nothing. */
bool ignore_excluded(const struct ignore *ig, const char *relpath);

/* True when directory reldir is excluded and no exception can re-include
 * anything beneath it, so a walker may skip it without reading it. */
bool ignore_prunable(const struct ignore *ig, const char *reldir);

/* Frees a parsed ignore list; accepts NULL. */
void ignore_free(struct ignore *ig);

typedef int (*ignore_walk_cb)(const char *relpath, void *arg);

/*
 * Walks dir and calls cb for every regular file, symlink (and other
 * non-directory) that would be sent, with its relative path. dockerfile is
 * relative to dir (NULL: "Dockerfile", or "dockerfile" when only that exists,
 * like the CLI); it and .dockerignore are always sent, unless the Dockerfile
 * lies outside dir (the caller adds it then, as the CLI does). Stops and
 * returns cb's value if non-zero. Loads <dockerfile>.dockerignore when it
 * exists (BuildKit's Dockerfile-specific ignore file), else dir/.dockerignore
 * (absent = nothing excluded). Names are visited sorted within each directory.
 * Errors are negative errnos with "PATH: reason" or
 * "PATH/.dockerignore:LINE: reason" in err.
 */
int ignore_walk(const char *dir, const char *dockerfile, ignore_walk_cb cb, void *arg, char *err,
                size_t errlen);

typedef int (*ignore_entry_cb)(const char *relpath, const struct stat *st, void *arg);

/*
 * Like ignore_walk, for the tar build context: cb also sees directories
 * (S_ISDIR(st->st_mode)) and gets each entry's lstat data. A directory comes
 * before its contents. A sent directory is reported when encountered; an
 * excluded directory is reported only if something inside it is re-included,
 * just before its first such entry, so the archive can recreate it with its
 * own mode and time (BuildKit does the same).
 */
int ignore_walk_entries(const char *dir, const char *dockerfile, ignore_entry_cb cb, void *arg,
                        char *err, size_t errlen);

#endif
