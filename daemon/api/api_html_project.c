/*
 * api_html_project — GET /projects/NAME (environments, images and bases
 * with their digests, advisories, package changes, the history of builds).
 * Rendered from the bodies of /v1/projects/NAME and /v1/builds?project=NAME.
 */
#include "api_html.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_MAX 50 /* builds in a project's history */

static void th(FILE *f, const char *const *cols)
{
	fputs("<thead><tr>", f);
	for (; *cols; cols++)
		fprintf(f, "<th>%s</th>", *cols);
	fputs("</tr></thead><tbody>\n", f);
}

static void td_code(FILE *f, const char *s)
{
	fputs("<td>", f);
	html_code(f, s);
	fputs("</td>", f);
}

static void td_text(FILE *f, const char *s)
{
	fputs("<td>", f);
	html_esc(f, s);
	fputs("</td>", f);
}

static void td_time(FILE *f, uint64_t now, const char *iso)
{
	fputs("<td>", f);
	html_time(f, now, iso);
	fputs("</td>", f);
}

static void summary(FILE *f, uint64_t now, json_t *p)
{
	json_t *t = json_object_get(p, "pending_trigger");

	fputs("<h2 class=\"project\">", f);
	html_esc(f, html_str(p, "name"));
	fputs(" ", f);
	html_state(f, html_str(p, "state"));
	fputs("</h2>\n<p>image ", f);
	html_code(f, html_str(p, "image"));
	fputs(" \xc2\xb7 context ", f);
	html_code(f, html_str(p, "context"));
	fputs(" \xc2\xb7 next rebuild ", f);
	html_time(f, now, html_str(p, "next_rebuild"));
	fputs("</p>\n", f);
	if (!json_is_object(t))
		return;
	fputs("<p class=\"trigger\">pending trigger: ", f);
	html_esc(f, html_str(t, "kind"));
	fputs(" (", f);
	html_reasons(f, html_str(t, "kind"), json_object_get(t, "reasons"));
	fputs(") queued ", f);
	html_time(f, now, html_str(t, "created_at"));
	if (html_str(t, "not_before")) {
		fputs(", not before ", f);
		html_time(f, now, html_str(t, "not_before"));
	}
	fputs("</p>\n", f);
}

/* A build pushed under its stamp tag whose IMAGE:ENV moves when the window opens. */
static void waiting_promotion(FILE *f, uint64_t now, json_t *e)
{
	json_t *w = json_object_get(e, "pending_promotion");
	const char *st = html_str(w, "state");

	if (!json_is_object(w))
		return;
	fputs("<div class=\"waiting\"><small>", f);
	html_esc(f, html_str(w, "stamp_tag"));
	if (st && !strcmp(st, "held")) {
		fputs(" waits: held, promotes once released", f);
	} else {
		fputs(" waiting for window, promotes at ", f);
		html_time(f, now, html_str(e, "next_promotion"));
	}
	if (html_str(e, "window")) {
		fputs(" (window ", f);
		html_esc(f, html_str(e, "window"));
		fputs(")", f);
	}
	fputs("</small></div>", f);
}

static void env_state_cell(FILE *f, uint64_t now, json_t *e)
{
	json_t *hold = json_object_get(e, "hold");

	fputs("<td class=\"s-", f);
	html_esc(f, html_str(e, "state"));
	fputs("\">", f);
	html_state(f, html_str(e, "state"));
	if (html_str(e, "error") ||
	    !strcmp(html_str(e, "state") ? html_str(e, "state") : "", "failing")) {
		fputs("<div><small class=\"retry\">", f);
		if (html_str(e, "failed_step")) {
			fputs("at ", f);
			html_esc(f, html_str(e, "failed_step"));
			fputs(" \xc2\xb7 ", f);
		}
		html_count(f, (size_t)json_integer_value(json_object_get(e, "attempts")),
		           "attempt");
		fputs(" \xc2\xb7 next retry ", f);
		html_time(f, now, html_str(e, "next_retry"));
		fputs("</small></div>", f);
	}
	if (json_is_object(hold)) {
		fputs("<div class=\"hold\">held ", f);
		html_time(f, now, html_str(hold, "since"));
		fputs(": ", f);
		html_esc(f, html_str(hold, "reason"));
		fputs("</div>", f);
	}
	waiting_promotion(f, now, e);
	fputs("</td>", f);
}

/* A failing environment's whole message, in a row of its own under the environment's. */
static void failure_row(FILE *f, json_t *e)
{
	if (!html_str(e, "error"))
		return;
	fputs("<tr class=\"failure\" data-failure=\"", f);
	html_esc(f, html_str(e, "name"));
	fputs("\"><td></td><td colspan=\"6\"><pre class=\"error\">", f);
	html_esc(f, html_str(e, "error"));
	fputs("</pre></td></tr>\n", f);
}

/* follow: "follows PY: 3.11.9 (Dockerfile says 3.11.4)", or the policy until a newer tag. */
static void follow_note(FILE *f, json_t *fo)
{
	if (!json_is_object(fo))
		return;
	fputs("<br><small class=\"follow\">", f);
	if (html_str(fo, "value")) {
		fputs("follows ", f);
		html_esc(f, html_str(fo, "arg"));
		fputs(": ", f);
		html_esc(f, html_str(fo, "value"));
		fputs(" (Dockerfile says ", f);
		html_esc(f, html_str(fo, "own"));
		fputs(")", f);
	} else {
		fputs("follow: ", f);
		html_esc(f, html_str(fo, "policy"));
		fputs(", nothing newer yet", f);
	}
	fputs("</small>", f);
}

static void environments(FILE *f, uint64_t now, json_t *p)
{
	static const char *const cols[] = {"environment", "state", "image",      "digest",
	                                   "base",        "built", "last build", NULL};
	json_t *e;
	size_t i;

	fputs("<section id=\"environments\"><h2>Environments</h2>\n<table>", f);
	th(f, cols);
	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		json_t *cur = json_object_get(e, "current"),
		       *last = json_object_get(e, "last_build");
		json_t *base = json_object_get(cur, "base");
		fputs("<tr data-env=\"", f);
		html_esc(f, html_str(e, "name"));
		fputs("\">", f);
		td_text(f, html_str(e, "name"));
		env_state_cell(f, now, e);
		td_code(f, html_str(cur, "tag"));
		fputs("<td>", f);
		html_digest(f, html_str(cur, "digest"));
		fputs("</td><td>", f);
		html_code(f, html_str(base, "name"));
		fputs("<br>", f);
		html_digest(f, html_str(base, "digest"));
		follow_note(f, json_object_get(e, "follow"));
		fputs("</td>", f);
		td_time(f, now, html_str(cur, "built_at"));
		fputs("<td>", f);
		if (json_is_object(last))
			fprintf(f, "<a href=\"/builds/%lld\">#%lld</a> ",
			        (long long)json_integer_value(json_object_get(last, "id")),
			        (long long)json_integer_value(json_object_get(last, "id")));
		html_esc(f, html_str(last, "status"));
		fputs("</td></tr>\n", f);
		failure_row(f, e);
	}
	fputs("</tbody></table></section>\n", f);
}

static void bases(FILE *f, uint64_t now, json_t *p)
{
	static const char *const cols[] = {"base",    "platform",     "digest", "checked",
	                                   "changed", "environments", NULL};
	json_t *b, *e;
	size_t i, j;

	fputs("<section id=\"bases\"><h2>Bases</h2>\n<table>", f);
	th(f, cols);
	json_array_foreach(json_object_get(p, "bases"), i, b)
	{
		fputs("<tr><td><code>", f);
		html_esc(f, html_str(b, "ref"));
		fputs("</code>", f);
		html_outdated(f, b, "<br>");
		fputs("</td>", f);
		td_text(f, html_str(b, "platform"));
		fputs("<td>", f);
		html_digest(f, html_str(b, "digest"));
		if (html_str(json_object_get(b, "candidate"), "digest")) {
			fputs("<br><small>candidate ", f);
			html_digest(f, html_str(json_object_get(b, "candidate"), "digest"));
			fputs("</small>", f);
		}
		if (html_str(b, "error")) {
			fputs("<div class=\"err\">", f);
			html_esc_line(f, html_str(b, "error"));
			fputs("</div>", f);
		}
		fputs("</td>", f);
		td_time(f, now, html_str(b, "checked_at"));
		td_time(f, now, html_str(b, "changed_at"));
		fputs("<td>", f);
		json_array_foreach(json_object_get(b, "envs"), j, e)
		{
			fputs(j ? ", " : "", f);
			html_esc(f, json_string_value(e));
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

/* Where a vulnerable version is pinned (when the advisory says): "file:line (version)". */
static void pinned(FILE *f, json_t *pin)
{
	if (json_is_string(pin)) {
		html_code(f, json_string_value(pin));
		return;
	}
	if (!json_is_object(pin))
		return;
	fputs("<code>", f);
	html_esc(f, html_str(pin, "file"));
	if (json_is_integer(json_object_get(pin, "line")))
		fprintf(f, ":%lld", (long long)json_integer_value(json_object_get(pin, "line")));
	fputs("</code> ", f);
	html_esc(f, html_str(pin, "version") ? html_str(pin, "version") : html_str(pin, "pinned"));
}

/* One row per advisory id and state, with the environments it concerns. */
static void advisories(FILE *f, json_t *p)
{
	static const char *const cols[] = {"advisory", "package", "installed",    "fixed in",
	                                   "state",    "pinned",  "environments", NULL};
	json_t *rows = json_object(), *a, *row;
	const char *key;
	size_t i;

	json_array_foreach(json_object_get(p, "advisories"), i, a)
	{
		char k[512];
		snprintf(k, sizeof(k), "%s\n%s\n%s", html_str(a, "id"), html_str(a, "state"),
		         html_str(a, "package"));
		if (!(row = json_object_get(rows, k)) &&
		    json_object_set_new(rows, k, row = json_pack("{s:O,s:[]}", "a", a, "envs")) < 0)
			continue;
		if (json_array_size(json_object_get(a, "environments")))
			json_array_extend(json_object_get(row, "envs"),
			                  json_object_get(a, "environments"));
		else
			json_array_append(json_object_get(row, "envs"),
			                  json_object_get(a, "environment"));
	}
	fprintf(f, "<section id=\"advisories\"><h2>Advisories</h2>\n");
	if (!json_object_size(rows))
		fputs("<p class=\"muted\">no open advisory in the current images</p>\n", f);
	else {
		fputs("<table>", f);
		th(f, cols);
	}
	json_object_foreach(rows, key, row)
	{
		json_t *e;
		size_t j;
		a = json_object_get(row, "a");
		fputs("<tr>", f);
		td_code(f, html_str(a, "id"));
		td_text(f, html_str(a, "package"));
		td_text(f, html_str(a, "installed"));
		td_text(f, html_str(a, "fixed") ? html_str(a, "fixed") : "not fixed yet");
		fputs("<td class=\"s-", f);
		html_esc(f, html_str(a, "state"));
		fputs("\">", f);
		html_esc(f, html_str(a, "state"));
		fputs("</td><td>", f);
		pinned(f, json_object_get(a, "pin"));
		if (html_str(a, "action")) {
			fputs("<br><small class=\"action\">", f);
			html_esc(f, html_str(a, "action"));
			fputs("</small>", f);
		}
		fputs("</td><td>", f);
		json_array_foreach(json_object_get(row, "envs"), j, e)
		{
			fputs(j ? ", " : "", f);
			html_esc(f, json_string_value(e));
		}
		fputs("</td></tr>\n", f);
	}
	if (json_object_size(rows))
		fputs("</tbody></table>", f);
	fputs("</section>\n", f);
	json_decref(rows);
}

/* One kind of change (added, removed, upgraded, downgraded) as table rows. */
static void change_rows(FILE *f, const char *kind, json_t *list)
{
	json_t *c, *x;
	size_t i, j;

	json_array_foreach(list, i, c)
	{
		fputs("<tr>", f);
		td_text(f, kind);
		td_text(f, html_str(c, "name"));
		td_text(f, html_str(c, "from") ? html_str(c, "from") : html_str(c, "version"));
		td_text(f, html_str(c, "to") ? html_str(c, "to") : "");
		fputs("<td>", f);
		json_array_foreach(json_object_get(c, "fixes"), j, x)
		{
			fputs(j ? ", " : "", f);
			html_esc(f, json_is_string(x) ? json_string_value(x) : html_str(x, "id"));
		}
		fputs("</td></tr>\n", f);
	}
}

/*
 * The package changes between the two last images: those of the newest succeeded build
 * against its environment's image before it, from the stored inventories.
 */
static void package_changes(FILE *f, const struct api_view *v, json_t *builds)
{
	static const char *const cols[] = {"change", "package", "from", "to", "fixes", NULL};
	static const char *const kinds[] = {"upgraded", "downgraded", "added", "removed"};
	json_t *b, *d = NULL, *with = NULL;
	size_t i, n = 0;

	json_array_foreach(builds, i, b)
	{
		if (strcmp(html_str(b, "status") ? html_str(b, "status") : "", "succeeded"))
			continue;
		d = api_build_changes_json(v->store, json_integer_value(json_object_get(b, "id")));
		with = b;
		break;
	}
	for (size_t k = 0; json_is_object(d) && k < 4; k++)
		n += json_array_size(json_object_get(d, kinds[k]));
	fputs("<section id=\"package-changes\"><h2>Package changes</h2>\n", f);
	if (!n) {
		fputs("<p class=\"muted\">no package changes recorded between the two last "
		      "images</p></section>\n",
		      f);
		json_decref(d);
		return;
	}
	fprintf(f, "<p>build <a href=\"/builds/%lld\">#%lld</a> (",
	        (long long)json_integer_value(json_object_get(with, "id")),
	        (long long)json_integer_value(json_object_get(with, "id")));
	html_esc(f, html_str(with, "env"));
	fprintf(f, ") against #%lld</p>\n<table>",
	        (long long)json_integer_value(json_object_get(d, "previous_build")));
	th(f, cols);
	for (size_t k = 0; k < 4; k++)
		change_rows(f, kinds[k], json_object_get(d, kinds[k]));
	fputs("</tbody></table></section>\n", f);
	json_decref(d);
}

static void history_row(FILE *f, uint64_t now, json_t *b)
{
	json_t *d = json_object_get(b, "duration_seconds");
	long long id = (long long)json_integer_value(json_object_get(b, "id"));

	fprintf(f, "<tr data-build=\"%lld\"><td><a href=\"/builds/%lld\">#%lld</a></td>", id, id,
	        id);
	td_text(f, html_str(b, "env"));
	td_text(f, html_str(b, "trigger"));
	fputs("<td>", f);
	html_reasons(f, html_str(b, "trigger"), json_object_get(b, "reasons"));
	fputs("</td><td class=\"s-", f);
	html_esc(f, html_str(b, "status"));
	fputs("\">", f);
	html_esc(f, html_str(b, "status"));
	fputs("</td>", f);
	td_time(f, now, html_str(b, "queued_at"));
	if (json_is_number(d))
		fprintf(f, "<td>%.0f s</td>", json_number_value(d));
	else
		fputs("<td></td>", f);
	td_text(f, html_str(b, "builder"));
	fputs("<td>", f);
	html_esc(f, html_str(b, "failed_step"));
	if (html_str(b, "error")) {
		fputs("<div class=\"err\">", f);
		html_esc_line(f, html_str(b, "error"));
		fputs("</div>", f);
	}
	fputs("</td><td>", f);
	if (html_str(b, "log_url"))
		fprintf(f,
		        "<a href=\"/builds/%lld\">log</a> (<a "
		        "href=\"/v1/builds/%lld/log\">raw</a>)",
		        id, id);
	fputs("</td></tr>\n", f);
}

static void history(FILE *f, uint64_t now, json_t *builds)
{
	static const char *const cols[] = {"build",       "env",    "trigger",  "reasons",
	                                   "status",      "queued", "duration", "builder",
	                                   "failed step", "log",    NULL};
	json_t *b;
	size_t i;

	fputs("<section id=\"history\"><h2>Builds</h2>\n<table id=\"builds\">", f);
	th(f, cols);
	json_array_foreach(builds, i, b)
	{
		history_row(f, now, b);
	}
	fputs("</tbody></table></section>\n", f);
}

int api_render_project_page(const struct api_view *v, const char *name, struct api_render *ret)
{
	struct api_builds_query bq = {.limit = HISTORY_MAX};
	int status = 0;
	json_t *p = html_route_json(v, R_PROJECT, name, 0, NULL, &status), *builds;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(bq.project, sizeof(bq.project), "%s", name);
	builds = html_route_json(v, R_BUILDS, NULL, 0, &bq, NULL);
	f = p && builds ? open_memstream(&buf, &len) : NULL;
	if (!f) {
		json_decref(p);
		json_decref(builds);
		return p && builds ? -ENOMEM : -EIO;
	}
	html_page_start(f, name);
	if (status == 404) {
		json_decref(p);
		json_decref(builds);
		return html_not_found(f, &buf, &len, "no such project in the configuration", ret);
	}
	summary(f, v->now_ms, p);
	environments(f, v->now_ms, p);
	bases(f, v->now_ms, p);
	advisories(f, p);
	package_changes(f, v, json_object_get(builds, "builds"));
	history(f, v->now_ms, json_object_get(builds, "builds"));
	html_page_end(f, true);
	json_decref(p);
	json_decref(builds);
	return html_finish(f, &buf, &len, 200, ret);
}
