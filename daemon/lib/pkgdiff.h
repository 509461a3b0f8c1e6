/*
 * pkgdiff — the package changes between an environment's previous image and
 * this one, from the two stored inventories (evdoc.h: prev_pkgs, pkgs):
 * added, removed, upgraded and downgraded (old -> new version, ordered by
 * the ecosystem's version rules), each upgrade with the advisories it fixed
 * (this build's "fixed" rows naming the package or its source).
 *
 * A package is identified by (ecosystem, name, arch): the two copies of a
 * multi-arch library are two packages. Pure: no I/O.
 */
#ifndef REFIT_PKGDIFF_H
#define REFIT_PKGDIFF_H

#include <stddef.h>

#include "evdoc.h"

struct json_t;

/*
 * {"previous_build": ID|null, "added": [{name, ecosystem, version, purl}],
 *  "removed": [...], "upgraded": [{name, ecosystem, from, to, purl, fixes: [ID]}],
 *  "downgraded": [...], "unchanged": N}
 * With no previous build every package counts as added. NULL on OOM.
 */
struct json_t *pkgdiff_json(const struct evdoc_build *b);

/* The counts alone (for a one-line summary): returns 0, or -ENOMEM. */
struct pkgdiff_counts {
	size_t added, removed, upgraded, downgraded, unchanged;
};
int pkgdiff_count(const struct evdoc_build *b, struct pkgdiff_counts *ret);

#endif
