/*
 * api_html — the frame shared by the HTML pages: escaping, relative times,
 * states, digests, the page's head and the refresh script, and the JSON
 * bodies of the API parsed back for the pages to render from. The pages:
 * api_html_overview.c (GET /), api_html_project.c (GET /projects/NAME),
 * api_html_build.c (GET /builds/ID).
 */
#include "api_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTML_TTL_MS 10000 /* a page's relative times are redone this often without JS */

static const char page_css[] =
        "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}\n"
        "header{display:flex;gap:1.2em;align-items:baseline;padding:.6em 1.5em;"
        "background:#263238;color:#fff}header a{color:#cfe3ff}h1{font-size:1.2em;margin:0}\n"
        "main{padding:0 1.5em 2em}.top{display:flex;flex-wrap:wrap;gap:0 "
        "2.5em}h2{font-size:1.05em;margin:1.4em 0 .4em}\n"
        "table{border-collapse:collapse;background:#fff}th,td{border:1px solid #d5d5d5;"
        "padding:.35em .6em;text-align:left;vertical-align:top}th{background:#f0f0f0}\n"
        "small,.muted{color:#555}code{font:12px ui-monospace,monospace}[hidden]{display:none}\n"
        ".stale{position:sticky;top:0;margin:0;padding:.5em 1.5em;background:#b00020;"
        "color:#fff;font-weight:600}\n.err{color:#8b0000;font-weight:600;max-width:42em}\n"
        "pre{background:#111;color:#eee;padding:1em;overflow:auto;white-space:pre-wrap;"
        "font:12px/1.4 ui-monospace,monospace}pre.error{background:#fff3f3;color:#8b0000;"
        "margin:.2em 0;padding:.5em}.st{font-weight:600}\n"
        ".s-ok,.s-succeeded{background:#d9f2d9}.s-failing,.s-failed,.s-interrupted"
        "{background:#f8d4d4}.s-held{background:#fde9c4}\n.s-building,.s-running,.s-queued"
        "{background:#fff0c2}.s-pending{background:#e2ecfb}.s-new,.s-none,.s-skipped"
        "{background:#eee}\n";

/*
 * Refreshes <main> from the same URL every 15 s (?refresh=N seconds), through
 * DOM nodes: the fetched page is parsed by DOMParser (scripts in it never
 * run) and its <main>, escaped by the server, replaces ours. A failed refresh
 * keeps the last good render and shows the banner until one succeeds.
 */
static const char page_script[] =
        "<script>\n'use strict';\n(()=>{const q=new URLSearchParams(location.search),"
        "every=Math.max(1,Number(q.get('refresh'))||15)*1000;let good=Date.now(),fails=0;\n"
        "function ago(ms){const d=Math.round((Date.now()-ms)/1000),a=Math.abs(d);"
        "if(a<5)return'just now';const s=a<60?a+' s':a<3600?Math.round(a/60)+' min':"
        "a<172800?Math.round(a/3600)+' h':Math.round(a/86400)+' d';"
        "return d<0?'in '+s:s+' ago'}\n"
        "function times(){document.querySelectorAll('time[datetime]').forEach(t=>{"
        "const ms=Date.parse(t.dateTime);if(!isNaN(ms))t.textContent=ago(ms)})}\n"
        "function stale(on){document.getElementById('stale').hidden=!on;if(on)document."
        "getElementById('since').textContent=new Date(good).toISOString().slice(11,19)"
        "+' UTC'}\n"
        "function swap(text){const m=new DOMParser().parseFromString(text,'text/html')."
        "getElementById('main');if(!m)throw new Error('no main');"
        "document.getElementById('main').replaceWith(document.adoptNode(m))}\n"
        "function refresh(){fetch(location.pathname,{cache:'no-store'}).then(r=>{"
        "if(!r.ok)throw new Error('HTTP '+r.status);return r.text()}).then(t=>{swap(t);"
        "good=Date.now();stale(false);times();document.body.dataset.refreshed="
        "(+document.body.dataset.refreshed||0)+1}).catch(()=>{document.body.dataset."
        "failures=++fails;stale(true)})}\n"
        "times();refresh();setInterval(refresh,every)})();\n</script>\n";

void html_esc(FILE *f, const char *s)
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

void html_esc_line(FILE *f, const char *s)
{
	size_t n = s ? strcspn(s, "\n") : 0;
	char *line = s ? strndup(s, n) : NULL;

	html_esc(f, line ? line : s);
	if (s && s[n] && s[n + 1])
		fputs(" \xe2\x80\xa6", f);
	free(line);
}

const char *html_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

uint64_t html_time_ms(const char *iso)
{
	struct tm tm = {0};
	unsigned ms = 0;
	int n = 0;
	time_t t;

	if (!iso ||
	    sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d.%3uZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n) != 7 ||
	    n == 0 || iso[n])
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	return t > 0 ? (uint64_t)t * 1000 + ms : 0;
}

/* "just now", "42 s ago", "3 min ago", "in 2 h": the same words as the script's ago(). */
static void relative(char *buf, size_t len, uint64_t now_ms, uint64_t ms)
{
	int64_t d = ((int64_t)now_ms - (int64_t)ms + (now_ms >= ms ? 500 : -500)) / 1000;
	long long a = d < 0 ? -d : d;
	char n[32];

	if (a < 5) {
		snprintf(buf, len, "just now");
		return;
	}
	if (a < 60)
		snprintf(n, sizeof(n), "%lld s", a);
	else if (a < 3600)
		snprintf(n, sizeof(n), "%lld min", (a + 30) / 60);
	else if (a < 172800)
		snprintf(n, sizeof(n), "%lld h", (a + 1800) / 3600);
	else
		snprintf(n, sizeof(n), "%lld d", (a + 43200) / 86400);
	snprintf(buf, len, d < 0 ? "in %s" : "%s ago", n);
}

void html_time(FILE *f, uint64_t now_ms, const char *iso)
{
	uint64_t ms = html_time_ms(iso);
	char rel[48];

	if (!ms) {
		fputs("<span class=\"muted\">\xe2\x80\x94</span>", f);
		return;
	}
	relative(rel, sizeof(rel), now_ms, ms);
	fputs("<time datetime=\"", f);
	html_esc(f, iso);
	/* "2026-12-08T01:02:03.456Z" -> "2026-12-08 01:02:03 UTC" */
	fprintf(f, "\" title=\"%.10s %.8s UTC\">%s</time>", iso, iso + 11, rel);
}

void html_digest(FILE *f, const char *digest)
{
	const char *colon = digest ? strchr(digest, ':') : NULL;

	if (!digest) {
		fputs("<span class=\"muted\">\xe2\x80\x94</span>", f);
		return;
	}
	fputs("<code class=\"digest\" title=\"", f);
	html_esc(f, digest);
	fputs("\">", f);
	if (colon && strlen(colon + 1) > 16) {
		char *s = strndup(digest, (size_t)(colon + 1 - digest) + 12);
		html_esc(f, s ? s : digest);
		fputs("\xe2\x80\xa6", f);
		free(s);
	} else {
		html_esc(f, digest);
	}
	fputs("</code>", f);
}

void html_state(FILE *f, const char *state)
{
	fputs("<span class=\"st s-", f);
	html_esc(f, state ? state : "none");
	fputs("\">", f);
	html_esc(f, state ? state : "none");
	fputs("</span>", f);
}

void html_reason(FILE *f, const char *trigger, const char *reason)
{
	size_t n = trigger ? strlen(trigger) : 0;

	if (reason && n && !strncmp(reason, trigger, n) && reason[n] == ':' && reason[n + 1] == ' ')
		reason += n + 2;
	html_esc(f, reason);
}

void html_count(FILE *f, size_t count, const char *word)
{
	fprintf(f, "%zu ", count);
	html_esc(f, word);
	if (count != 1)
		fputc('s', f);
}

void html_page_start(FILE *f, const char *title)
{
	fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      f);
	html_esc(f, title);
	fprintf(f, "</title>\n<style>\n%s</style></head><body>\n", page_css);
	fputs("<header><h1><a href=\"/\">refit</a></h1><nav><a href=\"/\">overview</a> \xc2\xb7 "
	      "<a href=\"/v1/status\">status</a> \xc2\xb7 <a href=\"/v1/projects\">projects</a>"
	      " \xc2\xb7 <a href=\"/metrics\">metrics</a></nav></header>\n"
	      "<p id=\"stale\" class=\"stale\" hidden role=\"alert\">not updated since "
	      "<span id=\"since\"></span>: refitd does not answer; this is the last state "
	      "received</p>\n<main id=\"main\">\n",
	      f);
}

void html_page_end(FILE *f, bool refresh)
{
	fputs("</main>\n", f);
	if (refresh)
		fputs(page_script, f);
	fputs("</body></html>\n", f);
}

int html_finish(FILE *f, char **buf, size_t *len, int status, struct api_render *ret)
{
	/* open_memstream sets *buf and *len at fclose: read them after it only */
	if (ferror(f) | (fclose(f) != 0)) {
		free(*buf);
		return -ENOMEM;
	}
	ret->status = status;
	ret->content_type = "text/html; charset=utf-8";
	ret->body = *buf;
	ret->len = *len;
	ret->ttl_ms = HTML_TTL_MS;
	return 0;
}

void html_code(FILE *f, const char *s)
{
	if (!s) {
		fputs("<span class=\"muted\">\xe2\x80\x94</span>", f);
		return;
	}
	fputs("<code>", f);
	html_esc(f, s);
	fputs("</code>", f);
}

void html_reasons(FILE *f, const char *trigger, json_t *list)
{
	json_t *r;
	size_t i;

	json_array_foreach(list, i, r)
	{
		fputs(i ? "; " : "", f);
		html_reason(f, trigger, json_string_value(r));
	}
}

int html_not_found(FILE *f, char **buf, size_t *len, const char *what, struct api_render *ret)
{
	fputs("<h2>Not found</h2>\n<p>", f);
	html_esc(f, what);
	fputs("</p>\n", f);
	html_page_end(f, false);
	return html_finish(f, buf, len, 404, ret);
}

json_t *html_route_json(const struct api_view *v, enum api_route_id id, const char *name,
                        int64_t build_id, const struct api_builds_query *bq, int *ret_status)
{
	struct api_route rt = {.id = id, .build_id = build_id};
	struct api_render r;
	json_t *o = NULL;

	if (name)
		snprintf(rt.name, sizeof(rt.name), "%s", name);
	if (api_render_route(v, &rt, bq, &r) == 0) {
		o = json_loadb(r.body, r.len, 0, NULL);
		if (ret_status)
			*ret_status = r.status;
	}
	free(r.body);
	return o;
}

void html_outdated(FILE *f, json_t *b, const char *before)
{
	json_t *o = json_object_get(b, "outdated");

	if (!json_is_string(json_object_get(o, "newest")))
		return;
	fputs(before, f);
	fputs("<small class=\"outdated\" title=\"", f);
	html_esc(f, html_str(b, "ref"));
	fputs("\">", f);
	html_esc(f, html_str(o, "tag"));
	fputs(" &#8594; ", f);
	html_esc(f, html_str(o, "newest"));
	fputs("</small>", f);
}
