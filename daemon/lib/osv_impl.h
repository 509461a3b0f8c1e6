/*
 * osv_impl.h — helpers shared by the files of the osv module only (osv.c,
 * osv_export.c). Nobody else includes it.
 */
#ifndef REFIT_OSV_IMPL_H
#define REFIT_OSV_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A callback's negative errno as text; it may return anything. */
const char *osv_errstr(int r);
/* An advisory id: [A-Za-z0-9][A-Za-z0-9._:-]{0,127}. */
bool osv_id_ok(const char *s, size_t n);
/* An ecosystem directory of the bulk export ("PyPI", "Debian"). */
bool osv_dir_ok(const char *s, size_t n);
/* Orders two instants (seconds, nanoseconds). */
int osv_instant_cmp(int64_t as, int32_t an, int64_t bs, int32_t bn);

#endif
