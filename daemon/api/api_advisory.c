/*
 * api_advisory — the security side of the REST API: advisories of the
 * current images, the matches of one build, and the feeds' poll state.
 * Part of the api module (api_impl.h); it only reads the store.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api_impl.h"
#include "config.h"
#include "store_feed.h"
#include "url.h"

/* What a project listing shows: what a rebuild will fix, and what needs a change. */
static bool listed(const char *state)
{
	return !strcmp(state, "open") || !strcmp(state, "triggered") ||
	       !strcmp(state, "pending-upstream") || !strcmp(state, "needs-change");
}

/* Where the context pins the package, or null. */
static json_t *pin_json(const struct store_match *m)
{
	if (!m->pin_file)
		return json_null();
	return json_pack("{s:o,s:i,s:o,s:o,s:o}", "file", api_jstr(m->pin_file), "line",
	                 m->pin_line, "column",
	                 m->pin_col > 0 ? json_integer(m->pin_col) : json_null(), "package",
	                 api_jstr(m->pin_package ? m->pin_package : m->package), "version",
	                 api_jstr(m->pin_version));
}

/* What to do, in words: needs-change only ("requirements.txt:3: change the pin ..."). */
static json_t *action_json(const struct store_match *m)
{
	char buf[1024];

	if (!m->pin_file || strcmp(m->state, "needs-change"))
		return json_null();
	snprintf(buf, sizeof(buf), "%s:%d: change the pin of %s from %s to %s or later",
	         m->pin_file, m->pin_line, m->pin_package ? m->pin_package : m->package,
	         m->pin_version ? m->pin_version : "?", m->fixed ? m->fixed : "a fixed version");
	return api_jstr(buf);
}

static json_t *match_json(const struct store_match *m, const char *env)
{
	json_t *o =
	        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", api_jstr(m->advisory),
	                  "package", api_jstr(m->package), "ecosystem", api_jstr(m->ecosystem),
	                  "installed", api_jstr(m->installed), "fixed", api_jstr(m->fixed), "state",
	                  api_jstr(m->state), "pin", pin_json(m), "action", action_json(m));

	if (o && env &&
	    (json_object_set_new(o, "environment", json_string(env)) < 0 ||
	     json_object_set_new(o, "environments", json_pack("[s]", env)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct adv_walk {
	struct store *s;
	json_t *by_project, *list;
	const char *only, *env;
	int error;
};

static bool same_str(json_t *o, const char *key, const char *v)
{
	const char *x = json_string_value(json_object_get(o, key));
	return x && v ? !strcmp(x, v) : !x && !v;
}

/* The listing's entry for the same advisory, package, state, versions and pin, or NULL. */
static json_t *same_entry(json_t *list, const struct store_match *m)
{
	json_t *e, *pin;
	size_t i;

	json_array_foreach(list, i, e)
	{
		pin = json_object_get(e, "pin");
		if (same_str(e, "id", m->advisory) && same_str(e, "package", m->package) &&
		    same_str(e, "state", m->state) && same_str(e, "installed", m->installed) &&
		    same_str(e, "fixed", m->fixed) &&
		    (json_is_null(pin) ? !m->pin_file
		                       : m->pin_file && same_str(pin, "file", m->pin_file) &&
		                                 json_integer_value(json_object_get(pin, "line")) ==
		                                         m->pin_line))
			return e;
	}
	return NULL;
}

static int match_cb(const struct store_match *m, void *arg)
{
	struct adv_walk *w = arg;
	json_t *e;

	if (w->env && !listed(m->state))
		return 0;
	if (w->env && (e = same_entry(w->list, m))) /* one entry per advisory, its environments */
		return json_array_append_new(json_object_get(e, "environments"),
		                             json_string(w->env)) < 0
		               ? -ENOMEM
		               : 0;
	if (json_array_append_new(w->list, match_json(m, w->env)) < 0)
		return -ENOMEM;
	return 0;
}

static int current_cb(const struct store_current *c, void *arg)
{
	struct adv_walk *w = arg;

	if (w->only && strcmp(w->only, c->project))
		return 0;
	w->list = json_object_get(w->by_project, c->project);
	if (!w->list) {
		w->list = json_array();
		if (json_object_set_new(w->by_project, c->project, w->list) < 0)
			return -ENOMEM;
	}
	w->env = c->env;
	return store_matches_each(w->s, c->build_id, match_cb, w);
}

json_t *api_advisory_counts(json_t *list)
{
	static const char *const states[] = {"needs-change", "open", "triggered",
	                                     "pending-upstream"};
	json_t *o = json_object(), *seen = json_object(), *e;
	size_t i;

	for (size_t k = 0; o && k < sizeof(states) / sizeof(states[0]); k++)
		json_object_set_new(o, states[k], json_integer(0));
	json_array_foreach(list, i, e)
	{
		const char *id = json_string_value(json_object_get(e, "id")),
		           *st = json_string_value(json_object_get(e, "state"));
		char key[512];
		if (!o || !seen || !id || !st)
			continue;
		snprintf(key, sizeof(key), "%s\n%s", st, id);
		if (json_object_get(seen, key))
			continue; /* one advisory in several environments or packages counts once */
		json_object_set_new(seen, key, json_true());
		json_object_set_new(o, st,
		                    json_integer(json_integer_value(json_object_get(o, st)) + 1));
	}
	json_decref(seen);
	return o;
}

json_t *api_advisories_json(struct store *s, const char *only)
{
	struct adv_walk w = {s, json_object(), NULL, only, NULL, 0};

	if (!w.by_project || store_current_each(s, current_cb, &w) < 0) {
		json_decref(w.by_project);
		return NULL;
	}
	return w.by_project;
}

json_t *api_build_advisories_json(struct store *s, int64_t build_id)
{
	struct adv_walk w = {s, NULL, json_array(), NULL, NULL, 0};

	if (!w.list || store_matches_each(s, build_id, match_cb, &w) < 0) {
		json_decref(w.list);
		return NULL;
	}
	return w.list;
}

struct feeds_walk {
	const char *feed;
	json_t *scopes;
	int error;
};

static int scope_cb(const char *feed, const char *scope, const struct store_feed_state *st,
                    void *arg)
{
	struct feeds_walk *w = arg;
	json_t *o;

	if (strcmp(feed, w->feed))
		return 0;
	o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:I}", "scope", scope, "last_poll",
	              api_jtime(st->polled_at), "last_success", api_jtime(st->ok_at), "changed_at",
	              api_jtime(st->changed_at), "watermark",
	              st->watermark[0] ? json_string(st->watermark) : json_null(), "error",
	              st->error[0] ? api_jstr(st->error) : json_null(), "advisories",
	              (json_int_t)st->records);
	return json_array_append_new(w->scopes, o) < 0 ? -ENOMEM : 0;
}

/* One configured feed with the state of each scope polled so far. */
static json_t *feed_json(const struct api_view *v, const struct config_feed *f)
{
	static const char *const types[] = {"osv", "alpine-secdb", "debian-tracker"};
	struct feeds_walk w = {f->name, json_array(), 0};
	char url[1024];

	if (!w.scopes || store_feeds_each(v->store, scope_cb, &w) < 0) {
		json_decref(w.scopes);
		return NULL;
	}
	url_redact(f->url, true, url, sizeof(url));
	return json_pack("{s:o,s:s,s:o,s:I,s:o}", "name", api_jstr(f->name), "type",
	                 f->type >= 0 && f->type < 3 ? types[f->type] : "unknown", "url",
	                 api_jstr(url), "advisories",
	                 (json_int_t)store_feed_count(v->store, f->name), "scopes", w.scopes);
}

int api_render_feeds(const struct api_view *v, struct api_render *ret)
{
	json_t *list = json_array();
	bool oom = !list;

	for (size_t i = 0; !oom && i < v->cfg->n_feeds; i++)
		oom = json_array_append_new(list, feed_json(v, &v->cfg->feeds[i])) < 0;
	if (oom) {
		json_decref(list);
		return -ENOMEM;
	}
	return api_render_json(json_pack("{s:o,s:I}", "feeds", list, "interval_seconds",
	                                 (json_int_t)(v->cfg->poll.feeds_ms / 1000)),
	                       200, ret);
}
