/*
 * api_html_build — GET /builds/ID: a build (status, trigger and reasons,
 * times, image and base digests, the whole error) and the tail of its log,
 * escaped in <pre>. Rendered from the body of /v1/builds/ID; the log file
 * is opened like GET /v1/builds/ID/log opens it (only inside state_dir/logs).
 */
#include "api_html.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "store_query.h"

#define PAGE_LOG_MAX (1u << 20) /* the tail of a log shown in a page */

struct log_ref {
	char path[PATH_MAX];
	bool has_log;
};

static int log_cb(int64_t id, const struct store_build *b, void *arg)
{
	struct log_ref *l = arg;

	(void)id;
	l->has_log = b->log_path && !b->pruned_at &&
	             snprintf(l->path, sizeof(l->path), "%s", b->log_path) < (int)sizeof(l->path);
	return 0;
}

/* The tail of the build's log (at most PAGE_LOG_MAX bytes), escaped into <pre id="log">. */
static void log_tail(FILE *f, const struct api_view *v, int64_t id)
{
	struct log_ref l = {.has_log = false};
	struct stat st;
	char chunk[8192];
	off_t off = 0;
	ssize_t n;
	int fd = -ENOENT;

	if (store_build_get(v->store, id, log_cb, &l) == 0 && l.has_log)
		fd = api_log_open(v->cfg->state_dir, l.path, &st);
	if (fd < 0) {
		fputs("<p class=\"muted\" id=\"nolog\">no log for this build</p>\n", f);
		return;
	}
	if (st.st_size > (off_t)PAGE_LOG_MAX) {
		off = st.st_size - (off_t)PAGE_LOG_MAX;
		fprintf(f, "<p class=\"muted\">the first %lld bytes are left out</p>\n",
		        (long long)off);
	}
	fputs("<pre id=\"log\">", f);
	while (off < st.st_size && (n = pread(fd, chunk, sizeof(chunk) - 1, off)) > 0) {
		chunk[n] = '\0';
		html_esc(f, chunk); /* a NUL byte in a log ends its chunk early: shown short */
		off += n;
	}
	fputs("</pre>\n", f);
	close(fd);
}

static void build_facts(FILE *f, uint64_t now, json_t *b)
{
	json_t *d = json_object_get(b, "duration_seconds");

	fputs("<p>", f);
	html_state(f, html_str(b, "status"));
	fputs(" \xc2\xb7 ", f);
	html_esc(f, html_str(b, "trigger"));
	fputs(": ", f);
	html_reasons(f, html_str(b, "trigger"), json_object_get(b, "reasons"));
	fputs(" \xc2\xb7 queued ", f);
	html_time(f, now, html_str(b, "queued_at"));
	fputs(" \xc2\xb7 finished ", f);
	html_time(f, now, html_str(b, "finished_at"));
	if (json_is_number(d))
		fprintf(f, " \xc2\xb7 %.0f s", json_number_value(d));
	fputs(" \xc2\xb7 ", f);
	html_esc(f, html_str(b, "builder"));
	fputs(" on ", f);
	html_code(f, html_str(b, "engine"));
	fputs("</p>\n<p>image ", f);
	html_digest(f, html_str(b, "digest"));
	fputs(" \xc2\xb7 base ", f);
	html_code(f, html_str(json_object_get(b, "base"), "name"));
	fputs(" ", f);
	html_digest(f, html_str(json_object_get(b, "base"), "digest"));
	fputs("</p>\n", f);
	if (html_str(b, "error")) {
		fputs("<p>failed at ", f);
		html_esc(f, html_str(b, "failed_step"));
		fputs("</p><pre class=\"error\">", f);
		html_esc(f, html_str(b, "error"));
		fputs("</pre>\n", f);
	}
}

int api_render_build_page(const struct api_view *v, int64_t id, struct api_render *ret)
{
	int status = 0;
	json_t *b = html_route_json(v, R_BUILD, NULL, id, NULL, &status);
	const char *st = html_str(b, "status");
	char *buf = NULL, title[64];
	size_t len = 0;
	FILE *f = b ? open_memstream(&buf, &len) : NULL;

	if (!f) {
		json_decref(b);
		return b ? -ENOMEM : -EIO;
	}
	snprintf(title, sizeof(title), "build %lld", (long long)id);
	html_page_start(f, title);
	if (status == 404) {
		json_decref(b);
		return html_not_found(f, &buf, &len, "no such build", ret);
	}
	fprintf(f, "<h2>build #%lld of <a href=\"/projects/", (long long)id);
	html_esc(f, html_str(b, "project"));
	fputs("\">", f);
	html_esc(f, html_str(b, "project"));
	fputs("</a> ", f);
	html_esc(f, html_str(b, "env"));
	fprintf(f, "</h2>\n");
	build_facts(f, v->now_ms, b);
	fprintf(f, "<h2>Log <small><a href=\"/v1/builds/%lld/log\">raw</a></small></h2>\n",
	        (long long)id);
	log_tail(f, v, id);
	/* Only a build in progress changes: a finished one's page needs no refresh. */
	html_page_end(f, st && (!strcmp(st, "queued") || !strcmp(st, "running")));
	json_decref(b);
	return html_finish(f, &buf, &len, 200, ret);
}
