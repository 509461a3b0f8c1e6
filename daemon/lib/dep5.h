/*
 * dep5 — the licence a Debian package declares in its machine-readable
 * copyright file (/usr/share/doc/PACKAGE/copyright in copyright-format 1.0,
 * "DEP-5"). dpkg's database has no licence field; this file is where Debian
 * keeps it, and what SBOM tools read.
 *
 * The licence is the distinct License: synopses of the header and Files
 * paragraphs (standalone License paragraphs only hold texts), in order: one
 * SPDX expression when every name has an SPDX id ("GPL-2+ or Artistic" and
 * "Expat" give "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND MIT"), otherwise
 * the synopses as Debian wrote them, joined by "; ". Files in free form (no
 * Format: field naming the copyright format) have no licence here.
 */
#ifndef REFIT_DEP5_H
#define REFIT_DEP5_H

#include <stddef.h>

#define DEP5_MAX_SYNOPSES 32 /* distinct licences of one package */

/*
 * Writes the licence of copyright file data[0..len) into out: 0, or -ENOENT
 * (not machine-readable, or no licence), -E2BIG (longer than outlen - 1 or
 * more than DEP5_MAX_SYNOPSES licences), -EINVAL (outlen < 2).
 */
int dep5_license(const char *data, size_t len, char *out, size_t outlen);

#endif
