/*
 * api_html.h — the pieces shared by the HTML pages of the api module
 * (api_html.c: the page frame; api_html_overview.c: GET /;
 * api_html_project.c: a project's page; api_html_build.c: a build's page). Every page is rendered
 * on the server from the JSON bodies the REST API serves, every value HTML-escaped, and works
 * without JavaScript; a short script only refreshes the page's <main> from the same URL and turns
 * times into "3 min ago".
 */
#ifndef REFIT_API_HTML_H
#define REFIT_API_HTML_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "api_impl.h"

/* Writes s HTML-escaped (text and attribute values alike); NULL writes nothing. */
void html_esc(FILE *f, const char *s);
/* Writes the first line of s escaped, with " …" when more lines follow. */
void html_esc_line(FILE *f, const char *s);
/* The string value of o[key], NULL when absent or not a string. */
const char *html_str(json_t *o, const char *key);
/* "3.11.4-slim -> 3.11.9-slim" (a <small class="outdated">, the base in its title) for
 * the base b when a newer tag of its pin is known; nothing otherwise. */
void html_outdated(FILE *f, json_t *b, const char *before);
/*
 * <time datetime=ISO title="YYYY-MM-DD HH:MM:SS UTC">3 min ago</time>, relative
 * to now_ms; dash when iso is NULL or not a time the API writes.
 */
void html_time(FILE *f, uint64_t now_ms, const char *iso);
/* Milliseconds of an RFC 3339 UTC time as the API writes it; 0 if it is not one. */
uint64_t html_time_ms(const char *iso);
/* <code title=FULL>sha256:0123456789ab…</code>: a digest short enough for a table. */
void html_digest(FILE *f, const char *digest);
/* <span class="st s-STATE">STATE</span>. */
void html_state(FILE *f, const char *state);
/* A reason without a repeated "TRIGGER: " prefix (stored reasons carry their kind). */
void html_reason(FILE *f, const char *trigger, const char *reason);
/* <code>s</code>, or a dash for NULL. */
void html_code(FILE *f, const char *s);
/* The reasons of a list joined with "; ", each without its "TRIGGER: " prefix. */
void html_reasons(FILE *f, const char *trigger, json_t *list);
/* "1 project", "2 projects": count, a space and word with "s" unless count is 1. */
void html_count(FILE *f, size_t count, const char *word);
/* The start of a page up to <main id="main">, with nav and the stale banner. */
void html_page_start(FILE *f, const char *title);
/* The end of <main>, the refresh script (when refresh) and the document end. */
void html_page_end(FILE *f, bool refresh);
/*
 * Closes the memstream f over buf and hands the body to ret with status; the
 * page is re-rendered after ret->ttl_ms so relative times stay near the truth.
 */
int html_finish(FILE *f, char **buf, size_t *len, int status, struct api_render *ret);
/* Ends the page opened on f with a "not found" message: a 404 into ret. */
int html_not_found(FILE *f, char **buf, size_t *len, const char *what, struct api_render *ret);
/* The JSON body of a GET route as the API serves it, parsed; NULL on failure. */
json_t *html_route_json(const struct api_view *v, enum api_route_id id, const char *name,
                        int64_t build_id, const struct api_builds_query *bq, int *ret_status);

/* api_html_project.c: GET /projects/NAME. */
int api_render_project_page(const struct api_view *v, const char *name, struct api_render *ret);
/* api_html_build.c: GET /builds/ID. */
int api_render_build_page(const struct api_view *v, int64_t id, struct api_render *ret);

#endif
