/*
 * api_html_overview — GET /: engines and their load, the queue, the feeds,
 * then the projects with failing ones first, each environment's state with
 * what it needs to say (the error and next retry of a failing one, the
 * reason of a hold). Rendered from the bodies of /v1/status, /v1/feeds and
 * /v1/projects, so the page never says something the API does not.
 */
#include "api_html.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_order[] = {"failing", "held", "building", "pending", "ok", "new"};

static size_t rank(json_t *p)
{
	const char *st = html_str(p, "state");
	size_t i = 0;

	while (st && i < sizeof(state_order) / sizeof(state_order[0]) && strcmp(st, state_order[i]))
		i++;
	return i;
}

/* Projects in state order (failing first), the configuration's order within a state. */
static json_t *sorted_projects(json_t *projects)
{
	json_t *out = json_array();

	for (size_t r = 0; out && r <= sizeof(state_order) / sizeof(state_order[0]); r++) {
		json_t *p;
		size_t i;
		json_array_foreach(projects, i, p)
		{
			if (rank(p) == r)
				json_array_append(out, p);
		}
	}
	return out;
}

static void engines(FILE *f, uint64_t now, json_t *status)
{
	json_t *e, *list = json_object_get(status, "engines");
	size_t i;

	fputs("<section id=\"engines\"><h2>Engines</h2>\n<table><thead><tr><th>engine</th>"
	      "<th>load</th><th>state</th><th>version</th><th>checked</th></tr></thead><tbody>\n",
	      f);
	json_array_foreach(list, i, e)
	{
		bool up = json_is_true(json_object_get(e, "reachable"));
		fputs("<tr data-engine=\"", f);
		html_esc(f, html_str(e, "host"));
		fputs("\"><td><code>", f);
		html_esc(f, html_str(e, "host"));
		fprintf(f,
		        "</code></td><td class=\"load\">%lld/%lld running</td><td class=\"s-%s\">",
		        (long long)json_integer_value(json_object_get(e, "running_builds")),
		        (long long)json_integer_value(json_object_get(e, "max_builds")),
		        up ? "ok" : "failing");
		fputs(up ? "reachable" : "unreachable", f);
		if (!up && html_str(e, "error")) {
			fputs("<br><small class=\"err\">", f);
			html_reason(f, "unreachable", html_str(e, "error"));
			fputs("</small>", f);
		}
		fputs("</td><td>", f);
		html_esc(f, html_str(e, "engine_version"));
		if (html_str(e, "builder")) {
			fputs(" <small>", f);
			html_esc(f, html_str(e, "builder"));
			fputs("</small>", f);
		}
		fputs("</td><td>", f);
		html_time(f, now, html_str(e, "checked_at"));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

/* The pending triggers, from the projects (one per project at most). */
static void queue(FILE *f, uint64_t now, json_t *status, json_t *projects)
{
	json_t *p;
	size_t i;

	fputs("<section id=\"queue\"><h2>Queue</h2>\n<p>", f);
	html_count(f,
	           (size_t)json_integer_value(
	                   json_object_get(json_object_get(status, "queue"), "pending")),
	           "pending trigger");
	fputs("</p>\n<ul>\n", f);
	json_array_foreach(projects, i, p)
	{
		json_t *t = json_object_get(p, "pending_trigger"), *r;
		size_t j;
		if (!json_is_object(t))
			continue;
		fputs("<li data-project=\"", f);
		html_esc(f, html_str(p, "name"));
		fputs("\"><a href=\"/projects/", f);
		html_esc(f, html_str(p, "name"));
		fputs("\">", f);
		html_esc(f, html_str(p, "name"));
		fputs("</a> \xc2\xb7 ", f);
		html_esc(f, html_str(t, "kind"));
		json_array_foreach(json_object_get(t, "reasons"), j, r)
		{
			fputs(j ? "; " : ": ", f);
			html_reason(f, html_str(t, "kind"), json_string_value(r));
		}
		fputs(" \xc2\xb7 queued ", f);
		html_time(f, now, html_str(t, "created_at"));
		if (html_str(t, "not_before")) {
			fputs(" \xc2\xb7 not before ", f);
			html_time(f, now, html_str(t, "not_before"));
		}
		fputs("</li>\n", f);
	}
	fputs("</ul></section>\n", f);
}

static void feed_row(FILE *f, uint64_t now, json_t *feed)
{
	json_t *s, *scopes = json_object_get(feed, "scopes");
	const char *last = NULL;
	size_t i, errors = 0;

	json_array_foreach(scopes, i, s)
	{
		const char *at = html_str(s, "last_poll");
		if (at && (!last || strcmp(at, last) > 0))
			last = at; /* RFC 3339 UTC strings sort as times */
		errors += html_str(s, "error") != NULL;
	}
	fputs("<tr data-feed=\"", f);
	html_esc(f, html_str(feed, "name"));
	fputs("\"><td>", f);
	html_esc(f, html_str(feed, "name"));
	fputs(" <small>", f);
	html_esc(f, html_str(feed, "type"));
	fprintf(f, "</small></td><td>%lld</td><td>",
	        (long long)json_integer_value(json_object_get(feed, "advisories")));
	html_time(f, now, last);
	fprintf(f, "</td><td class=\"%s\">", errors ? "s-failing" : "");
	json_array_foreach(scopes, i, s)
	{
		if (!html_str(s, "error"))
			continue;
		fputs("<div class=\"err\">", f);
		html_esc(f, html_str(s, "scope"));
		fputs(": ", f);
		html_esc_line(f, html_str(s, "error"));
		fputs("</div>", f);
	}
	fputs("</td></tr>\n", f);
}

static void feeds(FILE *f, uint64_t now, json_t *status, json_t *feeds)
{
	json_t *fd, *st = json_object_get(status, "feeds");
	size_t i;

	fputs("<section id=\"feeds\"><h2>Feeds</h2>\n<p>", f);
	html_count(f, json_array_size(json_object_get(feeds, "feeds")), "feed");
	fputs(" \xc2\xb7 last poll ", f);
	html_time(f, now, html_str(st, "last_poll"));
	fputs(" \xc2\xb7 next ", f);
	html_time(f, now, html_str(st, "next_poll"));
	fputs(" \xc2\xb7 bases checked ", f);
	html_time(f, now, html_str(json_object_get(status, "bases"), "last_poll"));
	fputs("</p>\n<table><thead><tr><th>feed</th><th>advisories</th><th>last poll</th>"
	      "<th>errors</th></tr></thead><tbody>\n",
	      f);
	json_array_foreach(json_object_get(feeds, "feeds"), i, fd)
	{
		feed_row(f, now, fd);
	}
	fputs("</tbody></table></section>\n", f);
}

/*
 * "1 pending-upstream advisory" per state, counting advisory ids, not
 * environments: the API lists an advisory once per environment it affects.
 */
static void advisories_note(FILE *f, json_t *adv)
{
	json_t *by_state = json_object(), *a, *ids;
	const char *state;
	size_t i;

	json_array_foreach(adv, i, a)
	{
		const char *st = html_str(a, "state"), *id = html_str(a, "id");
		if (!st || !id || !by_state)
			continue;
		if (!(ids = json_object_get(by_state, st)))
			json_object_set_new(by_state, st, ids = json_object());
		json_object_set_new(ids, id, json_true());
	}
	json_object_foreach(by_state, state, ids)
	{
		const char *id;
		json_t *unused;
		fputs("<br><small class=\"adv\" data-state=\"", f);
		html_esc(f, state);
		fputs("\" title=\"", f);
		bool first = true;
		json_object_foreach(ids, id, unused)
		{
			fputs(first ? "" : " ", f);
			html_esc(f, id);
			first = false;
		}
		fprintf(f, "\">%zu ", json_object_size(ids));
		html_esc(f, state);
		fprintf(f, " advisor%s</small>", json_object_size(ids) == 1 ? "y" : "ies");
	}
	json_decref(by_state);
}

static void failing_detail(FILE *f, uint64_t now, json_t *e)
{
	fputs("<div class=\"err\" title=\"", f);
	html_esc(f, html_str(e, "error"));
	fputs("\">", f);
	html_esc_line(f, html_str(e, "error") ? html_str(e, "error") : "failed (no message)");
	fputs("</div><small class=\"retry\">", f);
	if (html_str(e, "failed_step")) {
		fputs("at ", f);
		html_esc(f, html_str(e, "failed_step"));
		fputs(" \xc2\xb7 ", f);
	}
	html_count(f, (size_t)json_integer_value(json_object_get(e, "attempts")), "attempt");
	fputs(" since ", f);
	html_time(f, now, html_str(e, "failing_since"));
	fputs(" \xc2\xb7 next retry ", f);
	if (html_str(e, "next_retry"))
		html_time(f, now, html_str(e, "next_retry"));
	else
		fputs("none scheduled", f);
	fputs("</small>", f);
}

/* One environment's cell: its state and only what concerns this environment. */
static void env_cell(FILE *f, uint64_t now, json_t *e)
{
	const char *st = html_str(e, "state");
	json_t *cur = json_object_get(e, "current"), *hold = json_object_get(e, "hold");
	json_t *last = json_object_get(e, "last_build");

	fputs("<td class=\"s-", f);
	html_esc(f, st);
	fputs("\" data-env=\"", f);
	html_esc(f, html_str(e, "name"));
	fputs("\"><span class=\"st\">", f);
	html_esc(f, st);
	fputs("</span>", f);
	if (st && !strcmp(st, "failing"))
		failing_detail(f, now, e);
	if (json_is_object(hold)) {
		fputs("<div class=\"hold\">held ", f);
		html_time(f, now, html_str(hold, "since"));
		fputs(": ", f);
		html_esc_line(f, html_str(hold, "reason"));
		fputs("</div>", f);
	}
	if (json_is_object(cur)) {
		fputs("<div><small class=\"built\">built ", f);
		html_time(f, now, html_str(cur, "built_at"));
		fputs("</small></div><div><small class=\"digests\">", f);
		html_digest(f, html_str(cur, "digest"));
		fputs(" on ", f);
		html_digest(f, html_str(json_object_get(cur, "base"), "digest"));
		fputs("</small></div>", f);
	}
	if (st && !strcmp(st, "building") && last) {
		fputs("<div><small>", f);
		html_esc(f, html_str(last, "status"));
		fputs(" since ", f);
		html_time(f, now,
		          html_str(last, "started_at") ? html_str(last, "started_at")
		                                       : html_str(last, "queued_at"));
		fputs("</small></div>", f);
	}
	if (html_str(last, "log_url")) {
		fputs(" <a class=\"log\" href=\"/builds/", f);
		fprintf(f, "%lld\">log</a>",
		        (long long)json_integer_value(json_object_get(last, "id")));
	}
	fputs("</td>", f);
}

static json_t *find_env(json_t *p, json_t *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		if (json_equal(json_object_get(e, "name"), name))
			return e;
	}
	return NULL;
}

/* When the project is rebuilt next; a pending trigger's time is past: it is due. */
static void next_rebuild(FILE *f, uint64_t now, json_t *p)
{
	const char *next = html_str(p, "next_rebuild");

	fputs("<br><small class=\"next\">next rebuild ", f);
	if (next && html_time_ms(next) <= now) {
		fputs("due (queued ", f);
		html_time(f, now, next);
		fputs(")", f);
	} else {
		html_time(f, now, next);
	}
	fputs("</small>", f);
}

static void project_row(FILE *f, uint64_t now, json_t *p, json_t *names)
{
	json_t *n;
	size_t i;

	fputs("<tr data-project=\"", f);
	html_esc(f, html_str(p, "name"));
	fputs("\"><td class=\"name\"><a href=\"/projects/", f);
	html_esc(f, html_str(p, "name"));
	fputs("\">", f);
	html_esc(f, html_str(p, "name"));
	fputs("</a></td><td class=\"s-", f);
	html_esc(f, html_str(p, "state"));
	fputs("\">", f);
	html_esc(f, html_str(p, "state"));
	advisories_note(f, json_object_get(p, "advisories"));
	json_array_foreach(json_object_get(p, "bases"), i, n)
	{
		html_outdated(f, n, "<br>");
	}
	next_rebuild(f, now, p);
	fputs("</td>", f);
	json_array_foreach(names, i, n)
	{
		json_t *e = find_env(p, n);
		if (e)
			env_cell(f, now, e);
		else
			fputs("<td class=\"s-none\"></td>", f);
	}
	fputs("</tr>\n", f);
}

/* The environment names of all projects, in order of first appearance. */
static json_t *env_names(json_t *projects)
{
	json_t *names = json_array(), *p, *e;
	size_t i, j;

	json_array_foreach(projects, i, p)
	{
		json_array_foreach(json_object_get(p, "environments"), j, e)
		{
			bool found = false;
			for (size_t k = 0; k < json_array_size(names); k++)
				found |= json_equal(json_array_get(names, k),
				                    json_object_get(e, "name"));
			if (!found)
				json_array_append(names, json_object_get(e, "name"));
		}
	}
	return names;
}

static void projects_table(FILE *f, uint64_t now, json_t *projects)
{
	json_t *sorted = sorted_projects(projects), *names = env_names(sorted), *p, *n;
	size_t i;

	fputs("<section id=\"projects-list\"><h2>Projects</h2>\n<table id=\"projects\"><thead>"
	      "<tr><th>project</th><th>state</th>",
	      f);
	json_array_foreach(names, i, n)
	{
		fputs("<th>", f);
		html_esc(f, json_string_value(n));
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	json_array_foreach(sorted, i, p)
	{
		project_row(f, now, p, names);
	}
	fputs("</tbody></table></section>\n", f);
	json_decref(names);
	json_decref(sorted);
}

/* "3 projects: 1 failing, 2 ok". */
static void summary(FILE *f, json_t *projects)
{
	bool first = true;

	fputs("<p class=\"summary\">", f);
	html_count(f, json_array_size(projects), "project");
	for (size_t r = 0; r < sizeof(state_order) / sizeof(state_order[0]); r++) {
		json_t *p;
		size_t i, n = 0;
		json_array_foreach(projects, i, p)
		{
			n += rank(p) == r;
		}
		if (!n)
			continue;
		fprintf(f, "%s%zu <span class=\"s-%s\">%s</span>", first ? ": " : ", ", n,
		        state_order[r], state_order[r]);
		first = false;
	}
	fputs("</p>\n", f);
}

int api_render_html(const struct api_view *v, struct api_render *ret)
{
	json_t *projects = api_projects_json(v, NULL);
	json_t *status = html_route_json(v, R_STATUS_BASE, NULL, 0, NULL, NULL);
	json_t *fd = html_route_json(v, R_FEEDS, NULL, 0, NULL, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = projects && status && fd ? open_memstream(&buf, &len) : NULL;

	if (!f) {
		json_decref(projects);
		json_decref(status);
		json_decref(fd);
		return projects && status && fd ? -ENOMEM : -EIO;
	}
	html_page_start(f, "refit");
	summary(f, projects);
	fputs("<div class=\"top\">\n", f);
	engines(f, v->now_ms, status);
	queue(f, v->now_ms, status, projects);
	feeds(f, v->now_ms, status, fd);
	fputs("</div>\n", f);
	projects_table(f, v->now_ms, projects);
	html_page_end(f, true);
	json_decref(projects);
	json_decref(status);
	json_decref(fd);
	return html_finish(f, &buf, &len, 200, ret);
}
