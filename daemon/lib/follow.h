/*
 * follow — an environment's `follow: patch|minor`: the ARG whose value is the
 * version part of a FROM's tag, and the value that yields a newer tag.
 *
 * refit rewrites no Dockerfile. Where a FROM writes its tag with one ARG
 * (`FROM python:${PY}-slim`, `FROM $R/py:v$PY`), the tag is a template: a
 * literal prefix, the ARG, a literal suffix. The ARG qualifies when its
 * value (the environment's build arg, else the ARG's default) spans the
 * version numbers of the tag as tagver reads it: `${PY}-slim` with PY=3.11.4
 * does, `3.11-${VARIANT}` does not (VARIANT is the flavour), and a tag made
 * of two ARGs (`${PY}-${VARIANT}`) or one ARG twice is refused as
 * ambiguous, as are ${NAME:-word} forms. A newer tag of the same flavour
 * (tagwatch) then gives the new value by stripping prefix and suffix:
 * `3.11.9-slim` with `${PY}-slim` -> PY=3.11.9.
 *
 * Pure: no I/O, no allocation beyond dockerfile_resolve's.
 */
#ifndef REFIT_FOLLOW_H
#define REFIT_FOLLOW_H

#include <stddef.h>

#include "ref.h"
#include "tagver.h"

#define FOLLOW_ARG_MAX 128

struct follow_tpl {
	char arg[FOLLOW_ARG_MAX];        /* the ARG's name */
	char prefix[TAGVER_MAX_LEN + 1]; /* the tag's literal text before it */
	char suffix[TAGVER_MAX_LEN + 1]; /* ... and after it */
	char value[TAGVER_MAX_LEN + 1];  /* its value in this environment */
};

/*
 * raw: a FROM's image as written; tag: the tag of the same reference after
 * substitution. 0 and *ret filled; -ENOENT when the written tag names no
 * variable (or no tag is written after ':'); -EINVAL when it does but cannot
 * be followed, with the reason in why.
 */
int follow_template(const char *raw, const char *tag, struct follow_tpl *ret, char *why,
                    size_t len);

/* The ARG value that yields tag under t: 0, or -EINVAL when tag does not match t or the
 * value would not be the version part of tag. */
int follow_derive(const struct follow_tpl *t, const char *tag, char *ret, size_t len);

/* t's tag with value for the ARG: prefix value suffix; -ENOSPC. */
int follow_tag(const struct follow_tpl *t, const char *value, char *ret, size_t len);

struct dockerfile;

/* A FROM that an environment may follow. */
struct follow_base {
	struct follow_tpl tpl;
	char ref[REF_STRING_MAX];     /* the base as resolved, normalised (what tagwatch lists) */
	char tag[TAGVER_MAX_LEN + 1]; /* its tag */
	int line;                     /* of the FROM */
};

/*
 * The first FROM (of the stages target needs; NULL target: the last stage's) whose tag
 * is an ARG's version, resolved with build_args ("K=V", NULL-terminated) for platform.
 * 0 and *ret; -ENOENT when there is none, with each candidate FROM and why it does not
 * qualify in why ("line 3: ..."); other negative errno from the resolution (why set).
 */
int follow_find(const struct dockerfile *df, const char *const *build_args, const char *target,
                const char *platform, struct follow_base *ret, char *why, size_t len);

#endif
