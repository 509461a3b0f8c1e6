/*
 * spdx — the SPDX licence and exception identifiers refit writes into SBOMs,
 * and the Debian copyright-format names that stand for them.
 *
 * Not the whole SPDX list (600 ids): the licences found in the package
 * databases of Debian, Alpine and PyPI images, deprecated spellings
 * included ("GPL-2.0+"), which a validator still accepts. An id outside
 * the table is not guessed at: the SBOM keeps the text as a comment.
 */
#ifndef REFIT_SPDX_H
#define REFIT_SPDX_H

#include <stddef.h>

/* The canonical spelling of licence id s[0..n), matched without regard to case; NULL if unknown. */
const char *spdx_license(const char *s, size_t n);

/* The same for an exception id (after WITH). */
const char *spdx_exception(const char *s, size_t n);

/*
 * The SPDX id for a licence name of Debian's copyright format (DEP-5 short
 * names: "GPL-2+", "Expat", "BSD-3-clause", "Artistic"), or for an SPDX id
 * written in any case; NULL when there is none.
 */
const char *spdx_from_debian(const char *s, size_t n);

#endif
