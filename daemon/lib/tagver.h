/*
 * tagver — image tags read as versions, and the newest tag a pin may move to.
 *
 * A pinned base (`python:3.11.4-slim`) keeps getting rebuilds of 3.11.4 but
 * never 3.11.9; to say so, refit reads each tag of the repository as
 *
 *   [prefix] N(.N)* [pre-release] [suffix]
 *
 * prefix: "", "v"/"V", or letters ending in '-' (`jammy-20240101`);
 * components: 1 to TAGVER_MAX_COMPONENTS decimal numbers joined by '.';
 * pre-release: a/alpha, b/beta, c/rc/pre/preview, dev, optionally after '-'
 * or '.', optionally numbered (`rc1`, `-beta2`, `-rc`), ordered as PEP 440
 * orders them (dev < a < b < rc < final);
 * suffix: empty or starting with '-' (`-slim`, `-alpine3.19`, `-bookworm`).
 *
 * Two tags have the same flavour when prefix, suffix and the number of
 * components are equal, and their first components are of the same kind
 * (up to 3 digits, or the exact digit count from 4 on), so a year or a
 * date stamp (`2024.10.1`, `20250108`) never counts as newer than `3.21`.
 * Tags that are not versions (`latest`, `bookworm`, `alpine3.19`) have no
 * flavour and are skipped.
 *
 * Policies fix components by position: patch keeps the first two (so a
 * two-component pin such as `3.11-slim`, whose digest already follows its
 * patches, has nothing newer under patch), minor keeps the first, major
 * keeps none. Pre-releases are candidates only when the pin is one, and
 * then only those of the pin's own numbers (3.14.0rc1 -> 3.14.0rc2, never
 * 3.15.0a1); final releases are always candidates.
 *
 * Pure: no I/O, no allocation. A parsed tag borrows its string.
 */
#ifndef REFIT_TAGVER_H
#define REFIT_TAGVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAGVER_MAX_COMPONENTS 6
/* Longest tag the distribution spec allows. */
#define TAGVER_MAX_LEN 128

enum tagver_policy { TAGVER_OFF, TAGVER_PATCH, TAGVER_MINOR, TAGVER_MAJOR };

/* Pre-release kinds in PEP 440 order; TAGVER_FINAL sorts after all of them. */
enum tagver_pre { TAGVER_DEV, TAGVER_ALPHA, TAGVER_BETA, TAGVER_RC, TAGVER_FINAL };

struct tagver {
	const char *tag; /* borrowed */
	uint64_t comp[TAGVER_MAX_COMPONENTS];
	unsigned ncomp;
	unsigned width;      /* digits of the first component, 3 for anything shorter */
	size_t prefix_len;   /* tag[0 .. prefix_len) */
	size_t suffix_off;   /* tag + suffix_off to the end */
	enum tagver_pre pre; /* TAGVER_FINAL when no pre-release */
	uint64_t pre_num;
};

/* Reads tag as a version; 0, or -EINVAL when it is not one (leaving *ret alone). */
int tagver_parse(const char *tag, struct tagver *ret);

/* True when a and b are versions of the same flavour (prefix, suffix, components). */
bool tagver_same_flavour(const struct tagver *a, const struct tagver *b);

/* Orders two versions by number then pre-release: -1, 0 or 1 (the flavour is not compared). */
int tagver_cmp(const struct tagver *a, const struct tagver *b);

/* True when cand is newer than pin, of its flavour, and allowed by policy. */
bool tagver_candidate(const struct tagver *pin, const struct tagver *cand,
                      enum tagver_policy policy);

/*
 * The newest of tags[0..n) that pin may move to under policy. Returns 1 and
 * sets *ret_newest (one of tags) when there is one, 0 when the pin is the
 * newest of its flavour (or policy is off), -EINVAL when pin is not a
 * version. Equal versions spelled differently (`24.04`, `24.4`) resolve to
 * the smaller string, so the answer does not depend on the order of tags.
 */
int tagver_newest(const char *pin, enum tagver_policy policy, const char *const *tags, size_t n,
                  const char **ret_newest);

/* "off", "patch", "minor", "major" -> policy; -EINVAL otherwise. */
int tagver_policy_parse(const char *s, enum tagver_policy *ret);
/* The policy's name, or NULL for a value out of range. */
const char *tagver_policy_name(enum tagver_policy p);

#endif
