/*
 * api_html — GET /: a small self-contained status page (no external assets,
 * no build step). The table is rendered on the server from the same data as
 * GET /v1/projects, every value HTML-escaped; a short script then refreshes
 * it from /v1/projects, writing only through textContent.
 */
#include "api_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"

static const char page_head[] =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>refit</title>\n<style>\n"
        "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.35em .6em;"
        "text-align:left;vertical-align:top}\nth{background:#f3f3f3}small{color:#555}\n"
        ".s-ok,.s-succeeded{background:#d9f2d9}.s-failed,.s-failing,.s-interrupted{background:#"
        "f8d4d4}.s-held{background:#fde9c4}\n"
        ".s-building,.s-running,.s-queued{background:#fff0c2}.s-pending{background:#e2ecfb}\n"
        ".s-new,.s-none,.s-skipped{background:#eee}\n</style></head><body>\n<h1>refit</h1>\n";

/* Refreshes the table from /v1/projects every 15 s; builds DOM nodes, never HTML strings. */
static const char page_script[] =
        "<script>\n"
        "'use strict';\n"
        "function el(t,c,x){const e=document.createElement(t);if(c)e.className=c;"
        "if(x!==undefined)e.textContent=x;return e}\n"
        "function cell(e){const b=e.last_build,td=el('td','s-'+(b?b.status:'none'));"
        "td.dataset.env=e.name;td.appendChild(el('span','st',b?b.status:'never built'));"
        "if(b){td.appendChild(el('br'));td.appendChild(el('small','when',"
        "(b.finished_at||b.queued_at||'')+' \\u00b7 '+b.trigger+(b.reasons.length?': '+"
        "b.reasons[0]:'')+(b.builder?' \\u00b7 '+b.builder:'')));if(b.failed_step){"
        "td.appendChild(el('br'));td.appendChild(el('small','step','failed at '+b.failed_step))}"
        "if(b.log_url){const a=el('a','log','log');"
        "a.href=b.log_url;td.append(' ',a)}}return td}\n"
        "function render(d){const envs=[];d.projects.forEach(p=>p.environments.forEach(e=>"
        "{if(!envs.includes(e.name))envs.push(e.name)}));const h=document.querySelector("
        "'#projects thead tr');h.replaceChildren(el('th',null,'project'),el('th',null,'state'),"
        "...envs.map(n=>el('th',null,n)));const tb=document.querySelector('#projects tbody');"
        "tb.replaceChildren(...d.projects.map(p=>{const tr=el('tr');tr.dataset.project=p.name;"
        "tr.appendChild(el('td','name',p.name));const st=el('td','s-'+p.state,p.state);"
        "const adv=p.advisories||[];if(adv.length){const s=el('small','adv',adv.length+"
        "' fixable advisor'+(adv.length===1?'y':'ies'));s.title=adv.map(a=>a.id+' ('+a.state+"
        "')').join(' ');st.append(el('br'),s)}(p.bases||[]).forEach(b=>{const o=b.outdated;"
        "if(o&&o.newest)st.append(el('br'),el('small','outdated',o.tag+' \\u2192 '+o.newest))});"
        "tr.appendChild(st);"
        "envs.forEach(n=>{const e=p.environments.find(x=>x.name===n);"
        "tr.appendChild(e?cell(e):el('td','s-none',''))});return tr}));"
        "document.getElementById('updated').textContent=new Date().toISOString();"
        "document.body.dataset.refreshed=(+document.body.dataset.refreshed||0)+1}\n"
        "function refresh(){fetch('/v1/projects').then(r=>r.json()).then(render)"
        ".catch(()=>{})}\nrefresh();setInterval(refresh,15000);\n</script>\n";

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* One environment's cell: status, when and why, a link to the log. */
static void env_cell(FILE *f, json_t *env)
{
	json_t *b = json_object_get(env, "last_build");
	const char *when = b ? str(b, "finished_at") : NULL;
	json_t *reasons = json_object_get(b, "reasons");

	fputs("<td class=\"s-", f);
	esc(f, b ? str(b, "status") : "none");
	fputs("\" data-env=\"", f);
	esc(f, str(env, "name"));
	fputs("\"><span class=\"st\">", f);
	esc(f, b ? str(b, "status") : "never built");
	fputs("</span>", f);
	if (b) {
		fputs("<br><small class=\"when\">", f);
		esc(f, when ? when : str(b, "queued_at"));
		fputs(" \xc2\xb7 ", f);
		esc(f, str(b, "trigger"));
		if (json_array_size(reasons)) {
			fputs(": ", f);
			esc(f, json_string_value(json_array_get(reasons, 0)));
		}
		if (str(b, "builder")) {
			fputs(" \xc2\xb7 ", f);
			esc(f, str(b, "builder"));
		}
		fputs("</small>", f);
		if (str(b, "failed_step")) {
			fputs("<br><small class=\"step\">failed at ", f);
			esc(f, str(b, "failed_step"));
			fputs("</small>", f);
		}
	}
	if (b && str(b, "log_url")) {
		fputs(" <a class=\"log\" href=\"", f);
		esc(f, str(b, "log_url"));
		fputs("\">log</a>", f);
	}
	fputs("</td>", f);
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

static json_t *find_env(json_t *p, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		if (!strcmp(str(e, "name"), name))
			return e;
	}
	return NULL;
}

/* "N fixable advisories" under the state, the ids in its title. */
static void advisories_note(FILE *f, json_t *adv)
{
	json_t *a;
	size_t i;

	if (!json_array_size(adv))
		return;
	fputs("<br><small class=\"adv\" title=\"", f);
	json_array_foreach(adv, i, a)
	{
		esc(f, i ? " " : "");
		esc(f, str(a, "id"));
		fputs(" (", f);
		esc(f, str(a, "state"));
		fputs(")", f);
	}
	fprintf(f, "\">%zu fixable advisor%s</small>", json_array_size(adv),
	        json_array_size(adv) == 1 ? "y" : "ies");
}

/* "3.11.4-slim -> 3.11.9-slim" under the state, per pinned base with a newer tag. */
static void outdated_note(FILE *f, json_t *bases)
{
	json_t *b;
	size_t i;

	json_array_foreach(bases, i, b)
	{
		json_t *o = json_object_get(b, "outdated");

		if (!json_is_string(json_object_get(o, "newest")))
			continue;
		fputs("<br><small class=\"outdated\" title=\"", f);
		esc(f, str(b, "ref"));
		fputs("\">", f);
		esc(f, str(o, "tag"));
		fputs(" &#8594; ", f);
		esc(f, str(o, "newest"));
		fputs("</small>", f);
	}
}

static void table(FILE *f, json_t *projects)
{
	json_t *names = env_names(projects), *p, *n;
	size_t i, j;

	fputs("<table id=\"projects\"><thead><tr><th>project</th><th>state</th>", f);
	json_array_foreach(names, i, n)
	{
		fputs("<th>", f);
		esc(f, json_string_value(n));
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	json_array_foreach(projects, i, p)
	{
		fputs("<tr data-project=\"", f);
		esc(f, str(p, "name"));
		fputs("\"><td class=\"name\">", f);
		esc(f, str(p, "name"));
		fputs("</td><td class=\"s-", f);
		esc(f, str(p, "state"));
		fputs("\">", f);
		esc(f, str(p, "state"));
		advisories_note(f, json_object_get(p, "advisories"));
		outdated_note(f, json_object_get(p, "bases"));
		fputs("</td>", f);
		json_array_foreach(names, j, n)
		{
			json_t *e = find_env(p, json_string_value(n));
			if (e)
				env_cell(f, e);
			else
				fputs("<td class=\"s-none\"></td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	json_decref(names);
}

int api_render_html(const struct api_view *v, struct api_render *ret)
{
	json_t *projects = api_projects_json(v, NULL);
	char *buf = NULL, when[40];
	size_t len = 0;
	FILE *f;

	if (!projects)
		return -EIO;
	f = open_memstream(&buf, &len);
	if (!f) {
		json_decref(projects);
		return -ENOMEM;
	}
	api_time_format(v->now_ms, when, sizeof(when));
	fputs(page_head, f);
	fprintf(f,
	        "<p>%zu projects \xc2\xb7 updated <span id=\"updated\">%s</span> \xc2\xb7 "
	        "<a href=\"/v1/status\">status</a> \xc2\xb7 <a href=\"/metrics\">metrics</a></p>\n",
	        json_array_size(projects), when);
	table(f, projects);
	fputs(page_script, f);
	fputs("</body></html>\n", f);
	json_decref(projects);
	if (ferror(f) | (fclose(f) != 0)) {
		free(buf);
		return -ENOMEM;
	}
	ret->status = 200;
	ret->content_type = "text/html; charset=utf-8";
	ret->body = buf;
	ret->len = len;
	return 0;
}
