/*
 * version — ordering of package versions, per ecosystem.
 *
 * Feed matching asks one question: is the installed version older than the
 * version that fixed an advisory? Each ecosystem answers with its own rules:
 * Debian and Ubuntu with dpkg's (epoch:upstream-revision, verrevcmp), Alpine
 * with apk-tools' (digits, letter, _suffixes, ~hash, -rN), PyPI with PEP 440
 * as pypa/packaging implements it. A string that is not a valid version of
 * its ecosystem is an error, never a guess: a wrong guess hides a
 * vulnerability or rebuilds for nothing.
 *
 * Pure: no I/O, no allocation, bounded work. Inputs longer than
 * VERSION_MAX_LEN bytes are rejected. Where we are stricter than the native
 * tool, the back end says so next to the rule (version.c for dpkg,
 * version_apk.c, version_pep440.c).
 */
#ifndef REFIT_VERSION_H
#define REFIT_VERSION_H

enum version_eco { VERSION_DEBIAN, VERSION_UBUNTU, VERSION_ALPINE, VERSION_PYPI };

/* Longest accepted version string, in bytes, leading/trailing blanks included. */
#define VERSION_MAX_LEN 256

/* Maps "debian", "ubuntu", "alpine" or "pypi" (any case) to its ecosystem; -EINVAL otherwise. */
int version_eco_parse(const char *name, enum version_eco *ret);

/* The canonical lower-case name of an ecosystem, or NULL for a value out of range. */
const char *version_eco_name(enum version_eco eco);

/*
 * Compares a and b under eco's rules; *ret_cmp becomes -1, 0 or 1. Returns 0,
 * or -EINVAL (and leaves *ret_cmp alone) when either is not a valid version.
 */
int version_cmp(enum version_eco eco, const char *a, const char *b, int *ret_cmp);

/* Returns 0 when v is a valid version of eco, -EINVAL when it is not. */
int version_valid(enum version_eco eco, const char *v);

#endif
