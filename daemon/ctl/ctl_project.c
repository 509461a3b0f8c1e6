/*
 * ctl_project — the refitctl commands about one project: `projects [NAME]` (the
 * list, or one project in detail), `rebuild NAME [--wait]`, `hold NAME [ENV]` and
 * `release NAME [ENV]`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_client.h"

#define WAIT_POLL_MS 1000

static bool valid_name(const char *s, size_t max)
{
	return *s && strlen(s) <= max &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s);
}

/* ---- projects ---- */

static void project_rows(struct table *t, json_t *p)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		json_t *cur = json_object_get(e, "current");
		char t1[40];
		const char *v[] = {i ? "" : json_str(p, "name"),
		                   i ? "" : json_str(p, "state"),
		                   json_str(e, "name"),
		                   json_str(e, "state"),
		                   cur ? json_when(cur, "built_at", t1, sizeof(t1)) : "-",
		                   cur ? json_str(cur, "tag") : "-"};
		table_row(t, v);
	}
}

static int projects_list(const struct client *c)
{
	static const char *const head[] = {"PROJECT", "STATE", "ENV", "ENV STATE", "BUILT", "TAG"};
	json_t *doc, *p;
	struct table *t;
	size_t i;
	int code = client_get_json(c, "/v1/projects", &doc);

	if (!doc)
		return code;
	t = table_new(6, head);
	json_array_foreach(json_object_get(doc, "projects"), i, p)
	{
		if (t)
			project_rows(t, p);
	}
	if (t)
		table_print(t);
	free(t);
	json_decref(doc);
	return t ? CTL_OK : CTL_FAIL;
}

/* A build waiting for the environment's window (pending_promotion), when there is one. */
static void env_waiting(json_t *w, json_t *e)
{
	char t1[40];

	if (!json_is_object(w))
		return;
	if (!strcmp(json_str(w, "state") ?: "", "held"))
		printf("    waiting  build %lld (%s): held, promotes once released\n",
		       (long long)json_integer_value(json_object_get(w, "build_id")),
		       json_str(w, "stamp_tag") ?: "-");
	else
		printf("    waiting  build %lld (%s): waiting for window, promotes at %s\n",
		       (long long)json_integer_value(json_object_get(w, "build_id")),
		       json_str(w, "stamp_tag") ?: "-",
		       json_when(e, "next_promotion", t1, sizeof(t1)));
}

/* What one environment is: its image, and what is wrong when something is. */
/* follow: the value builds pass, or the policy until a newer tag is found. */
static void env_follow(json_t *f)
{
	if (!json_is_object(f))
		return;
	if (json_str(f, "value"))
		printf("    follows %s: %s (Dockerfile says %s), policy %s\n", json_str(f, "arg"),
		       json_str(f, "value"), json_str(f, "own") ?: "-",
		       json_str(f, "policy") ?: "-");
	else
		printf("    follow   %s: nothing newer yet\n", json_str(f, "policy") ?: "-");
}

static void env_detail(json_t *e)
{
	json_t *cur = json_object_get(e, "current"), *hold = json_object_get(e, "hold");
	char t1[40], t2[40];

	printf("  %s: %s\n", json_str(e, "name"), json_str(e, "state"));
	if (cur)
		printf("    image    %s (%s), built %s\n", json_str(cur, "tag") ?: "-",
		       json_str(cur, "digest") ?: "no digest",
		       json_when(cur, "built_at", t1, sizeof(t1)));
	if (cur && json_object_get(cur, "base"))
		printf("    base     %s %s\n",
		       json_str(json_object_get(cur, "base"), "name") ?: "-",
		       json_str(json_object_get(cur, "base"), "digest") ?: "");
	if (json_is_object(hold))
		printf("    held     since %s: %s\n", json_when(hold, "since", t1, sizeof(t1)),
		       json_str(hold, "reason") ?: "-");
	if (json_str(e, "window"))
		printf("    window   %s%s\n", json_str(e, "window"),
		       json_is_true(json_object_get(e, "urgent_advisories"))
		               ? " (urgent advisories promote at once)"
		               : "");
	env_follow(json_object_get(e, "follow"));
	env_waiting(json_object_get(e, "pending_promotion"), e);
	if (!strcmp(json_str(e, "state") ?: "", "failing")) {
		printf("    failing  since %s, %lld attempt(s), next retry %s\n",
		       json_when(e, "failing_since", t1, sizeof(t1)),
		       (long long)json_integer_value(json_object_get(e, "attempts")),
		       json_when(e, "next_retry", t2, sizeof(t2)));
		if (json_str(e, "failed_step"))
			printf("    step     %s\n", json_str(e, "failed_step"));
		printf("    error    %s\n", json_str(e, "error") ?: "-");
	}
}

/* "test,prod" from an advisory's environments (older servers: its environment). */
static const char *envs_of(json_t *a, char *buf, size_t len)
{
	json_t *e;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(a, "environments"), i, e)
	{
		n += (size_t)snprintf(buf + n, len > n ? len - n : 0, "%s%s", i ? "," : "",
		                      json_string_value(e) ?: "");
	}
	return buf[0] ? buf : json_str(a, "environment");
}

static void advisories_detail(json_t *list)
{
	static const char *const head[] = {"  ADVISORY", "STATE", "ENVS",  "PACKAGE",
	                                   "INSTALLED",  "FIXED", "ACTION"};
	struct table *t;
	json_t *a;
	size_t i;

	if (!json_array_size(list))
		return;
	printf("advisories:\n");
	t = table_new(7, head);
	json_array_foreach(list, i, a)
	{
		char id[160], envs[256];
		snprintf(id, sizeof(id), "  %s", json_str(a, "id") ?: "-");
		const char *v[] = {id,
		                   json_str(a, "state"),
		                   envs_of(a, envs, sizeof(envs)),
		                   json_str(a, "package"),
		                   json_str(a, "installed"),
		                   json_str(a, "fixed"),
		                   json_str(a, "action")};
		if (t)
			table_row(t, v);
	}
	if (t)
		table_print(t);
	free(t);
}

static void project_detail(json_t *p)
{
	json_t *e, *b, *trig = json_object_get(p, "pending_trigger");
	size_t i;
	char t1[40];

	printf("%s: %s\n", json_str(p, "name"), json_str(p, "state"));
	printf("image    %s\ncontext  %s (%s)\n", json_str(p, "image"), json_str(p, "context"),
	       json_str(p, "dockerfile") ?: "Dockerfile");
	if (json_is_object(trig))
		printf("pending  %s trigger %lld, due %s\n", json_str(trig, "kind"),
		       (long long)json_integer_value(json_object_get(trig, "id")),
		       json_when(p, "next_rebuild", t1, sizeof(t1)));
	else
		printf("next     %s\n", json_when(p, "next_rebuild", t1, sizeof(t1)));
	printf("environments:\n");
	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		env_detail(e);
	}
	if (json_array_size(json_object_get(p, "bases")))
		printf("bases:\n");
	json_array_foreach(json_object_get(p, "bases"), i, b)
	{
		printf("  %s  %s  checked %s%s%s\n", json_str(b, "ref"),
		       json_str(b, "digest") ?: "-", json_when(b, "checked_at", t1, sizeof(t1)),
		       json_str(b, "error") ? "  error: " : "", json_str(b, "error") ?: "");
		if (json_str(json_object_get(b, "outdated"), "newest"))
			printf("    newer    %s (policy %s)\n",
			       json_str(json_object_get(b, "outdated"), "newest"),
			       json_str(json_object_get(b, "outdated"), "policy"));
	}
	advisories_detail(json_object_get(p, "advisories"));
}

/* `refitctl projects [NAME]`: every project, or one in detail. */
int ctl_projects(int argc, char **argv)
{
	struct client c = {.cmd = "projects"};
	char path[128];
	json_t *doc;
	int n = client_parse(&c, argc, argv, NULL, NULL, NULL), code;

	if (n < 0 || argc - n > 1 || (n < argc && !valid_name(argv[n], 64)))
		return client_usage(&c, " [NAME]");
	if (n == argc)
		return projects_list(&c);
	snprintf(path, sizeof(path), "/v1/projects/%s", argv[n]);
	code = client_get_json(&c, path, &doc);
	if (!doc)
		return code;
	project_detail(doc);
	json_decref(doc);
	return CTL_OK;
}

/* ---- rebuild, hold, release ---- */

/* POSTs path (body may be NULL); the parsed answer in *ret when its status is want. */
static int post(const struct client *c, const char *path, const char *body, long want, json_t **ret)
{
	struct reply r = {0};
	int code = CTL_OK;

	*ret = NULL;
	if (client_call(c, "POST", path, body, &r) < 0)
		return CTL_FAIL;
	if (r.status != want)
		code = client_error(&r);
	else if (c->json)
		printf("%s\n", r.body ? r.body : "");
	else
		*ret = json_loads(r.body ? r.body : "", 0, NULL);
	free(r.body);
	return code;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The id of each environment's last build, joined with ','. */
static void last_ids(json_t *p, char *buf, size_t len)
{
	json_t *e;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		n += (size_t)snprintf(buf + n, len > n ? len - n : 0, "%lld,",
		                      (long long)json_integer_value(json_object_get(
		                              json_object_get(e, "last_build"), "id")));
	}
}

/* The i-th entry of a last_ids list. */
static const char *before_at(const char *list, size_t i)
{
	while (i-- && strchr(list, ','))
		list = strchr(list, ',') + 1;
	return list;
}

/* Whether the rebuild asked for is over: its trigger no longer pending, every
 * environment built anew and none building. */
static bool rebuild_over(json_t *p, long long trigger, const char *before)
{
	json_t *t = json_object_get(p, "pending_trigger"), *e;
	char now[1024];
	size_t i;

	if (json_is_object(t) && json_integer_value(json_object_get(t, "id")) == trigger)
		return false;
	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		if (!strcmp(json_str(e, "state") ?: "", "building"))
			return false;
	}
	last_ids(p, now, sizeof(now));
	return strcmp(now, before) != 0;
}

/*
 * --wait: polls the project until the rebuild is over, then prints each
 * environment's last build. 0 when each succeeded (or was skipped), 1 otherwise.
 */
static int wait_rebuild(const struct client *c, const char *name, long long trigger,
                        const char *before)
{
	struct client quiet = *c;
	char path[128];
	json_t *p = NULL, *e;
	size_t i;
	int code = CTL_OK;

	quiet.json = false;
	snprintf(path, sizeof(path), "/v1/projects/%s", name);
	for (;;) {
		if (client_get_json(&quiet, path, &p) != CTL_OK || !p)
			return CTL_FAIL;
		if (rebuild_over(p, trigger, before))
			break;
		if (!strcmp(json_str(p, "state") ?: "", "held") &&
		    json_is_object(json_object_get(p, "pending_trigger"))) {
			fprintf(stderr,
			        "refitctl: %s is held: the rebuild waits for `refitctl "
			        "release %s`\n",
			        name, name);
			json_decref(p);
			return CTL_FAIL;
		}
		json_decref(p);
		sleep_ms(WAIT_POLL_MS);
	}
	json_array_foreach(json_object_get(p, "environments"), i, e)
	{
		json_t *last = json_object_get(e, "last_build");
		const char *st = json_str(last, "status") ?: "not built";
		char id[32];
		snprintf(id, sizeof(id), "%lld,",
		         (long long)json_integer_value(json_object_get(last, "id")));
		if (!strncmp(before_at(before, i), id, strlen(id)))
			continue; /* not rebuilt this time (another environment was asked for) */
		printf("%s: build %lld %s%s%s\n", json_str(e, "name"),
		       (long long)json_integer_value(json_object_get(last, "id")), st,
		       json_str(last, "error") ? ": " : "", json_str(last, "error") ?: "");
		if (strcmp(st, "succeeded") && strcmp(st, "skipped"))
			code = CTL_FAIL;
	}
	json_decref(p);
	return code;
}

static int rebuild_opt(int opt, const char *arg, void *ctx)
{
	(void)arg;
	if (opt != 'w')
		return -1;
	*(bool *)ctx = true;
	return 0;
}

/*
 * `refitctl rebuild NAME [ENV] [--wait]`: a manual trigger of the project, or of one
 * environment and those it requires; it cuts a failure's backoff short.
 */
int ctl_rebuild(int argc, char **argv)
{
	static const struct option extra[] = {{"wait", no_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
	struct client c = {.cmd = "rebuild"};
	bool wait = false;
	char path[128], before[1024] = "";
	json_t *doc;
	long long id;
	int n = client_parse(&c, argc, argv, extra, rebuild_opt, &wait), code;

	if (n < 0 || argc - n < 1 || argc - n > 2 || !valid_name(argv[n], 64) ||
	    (argc - n == 2 && !valid_name(argv[n + 1], 32)))
		return client_usage(&c, " NAME [ENV] [--wait]");
	if (wait && !c.json) { /* what "built anew" is measured against */
		snprintf(path, sizeof(path), "/v1/projects/%s", argv[n]);
		if (client_get_json(&c, path, &doc) != CTL_OK || !doc)
			return CTL_FAIL;
		last_ids(doc, before, sizeof(before));
		json_decref(doc);
	}
	snprintf(path, sizeof(path), "/v1/projects/%s/rebuild%s%s", argv[n],
	         argc - n == 2 ? "?env=" : "", argc - n == 2 ? argv[n + 1] : "");
	code = post(&c, path, NULL, 202, &doc);
	if (code != CTL_OK || c.json)
		return code;
	id = json_integer_value(json_object_get(doc, "trigger_id"));
	if (json_is_true(json_object_get(doc, "merged")))
		printf("rebuild of %s merged into the pending one (trigger %lld); it runs as soon "
		       "as an engine is free\n",
		       argv[n], id);
	else
		printf("rebuild of %s requested (trigger %lld)\n", argv[n], id);
	json_decref(doc);
	return wait ? wait_rebuild(&c, argv[n], id, before) : CTL_OK;
}

struct hold_opts {
	char reason[256];
};

static int hold_opt(int opt, const char *arg, void *ctx)
{
	struct hold_opts *h = ctx;

	if (opt != 'r')
		return -1;
	snprintf(h->reason, sizeof(h->reason), "%s", arg);
	return 0;
}

/* hold or release NAME [ENV]. */
static int hold_or_release(int argc, char **argv, const char *action)
{
	static const struct option extra[] = {{"reason", required_argument, NULL, 'r'},
	                                      {NULL, 0, NULL, 0}};
	struct client c = {.cmd = action};
	struct hold_opts h = {""};
	bool hold = !strcmp(action, "hold");
	char path[200], *body = NULL;
	json_t *doc, *o;
	int n = client_parse(&c, argc, argv, hold ? extra : NULL, hold ? hold_opt : NULL, &h), code;

	if (n < 0 || argc - n < 1 || argc - n > 2 || !valid_name(argv[n], 64) ||
	    (argc - n == 2 && !valid_name(argv[n + 1], 32)))
		return client_usage(&c, hold ? " NAME [ENV] [--reason TEXT]" : " NAME [ENV]");
	snprintf(path, sizeof(path), "/v1/projects/%s/%s%s%s", argv[n], action,
	         argc - n == 2 ? "?env=" : "", argc - n == 2 ? argv[n + 1] : "");
	if (h.reason[0]) {
		o = json_pack("{s:s}", "reason", h.reason);
		body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
	}
	code = post(&c, path, body, 200, &doc);
	free(body);
	if (code == CTL_OK && !c.json)
		printf(hold ? "%s%s%s held: no rebuild until `refitctl release`\n"
		            : "%s%s%s released\n",
		       argv[n], argc - n == 2 ? " " : "", argc - n == 2 ? argv[n + 1] : "");
	json_decref(doc);
	return code;
}

/* `refitctl hold NAME [ENV] [--reason TEXT]`: not rebuilt until released. */
int ctl_hold(int argc, char **argv)
{
	return hold_or_release(argc, argv, "hold");
}

/* `refitctl release NAME [ENV]`: rebuilt again. */
int ctl_release(int argc, char **argv)
{
	return hold_or_release(argc, argv, "release");
}
