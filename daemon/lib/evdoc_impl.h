/*
 * evdoc_impl.h — the JSON building helpers of the evidence documents
 * (evdoc_json.c), shared by sbom, provenance, vex and pkgdiff only.
 *
 * A document is built node by node; any failed allocation sets jb.oom and
 * the document is dropped at the end, so the builders need no error path
 * per node. Nobody else includes this header.
 */
#ifndef REFIT_EVDOC_IMPL_H
#define REFIT_EVDOC_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "evdoc.h"

struct jb {
	bool oom;
};

/* Sets o[key] = v (stolen); a NULL v or o marks the build failed. */
void jb_set(struct jb *j, json_t *o, const char *key, json_t *v);
/* Sets o[key] = s when s is not NULL (a JSON string). */
void jb_set_str(struct jb *j, json_t *o, const char *key, const char *s);
/* Appends v (stolen) to a. */
void jb_push(struct jb *j, json_t *a, json_t *v);
/* A JSON string of s; bytes that are not UTF-8 become '?'. NULL only on OOM. */
json_t *jb_str(const char *s);
/* Returns o, or NULL (and o freed) when the build ran out of memory. */
json_t *jb_done(struct jb *j, json_t *o);
/* RFC 3339 time of ms as a JSON string. */
json_t *jb_time(uint64_t ms);

/* Whether an advisory row names package p (by binary or source name, same ecosystem). */
bool evdoc_adv_names(const struct evdoc_advisory *a, const struct evdoc_pkg *p);

#endif
