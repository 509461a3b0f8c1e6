/*
 * metrics — Prometheus text format from the store.
 *
 * Each family is written with its HELP and TYPE, its series contiguous. The
 * body is built in an open_memstream buffer; a write failure (out of memory)
 * shows at fclose and fails the whole render rather than serving half a scrape.
 */
#include "metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_html.h"
#include "api_impl.h"
#include "config.h"
#include "store_feed.h"
#include "store_query.h"
#include "store_tags.h"

#ifndef REFIT_VERSION
#define REFIT_VERSION "unknown"
#endif

/* Upper bounds (seconds) of the build duration histogram. */
static const double duration_buckets[] = {30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};
#define N_BUCKETS (sizeof(duration_buckets) / sizeof(duration_buckets[0]))
_Static_assert(N_BUCKETS + 1 == STORE_DURATION_BUCKETS, "the store keeps these buckets");

void metrics_label_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes name{k1="v1",k2="v2"} (pairs NULL-terminated) without the value. */
static void series(FILE *f, const char *name, const char *const *labels)
{
	fputs(name, f);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		fprintf(f, "%s%s=\"", i ? "," : "{", labels[i]);
		metrics_label_escape(f, labels[i + 1] ? labels[i + 1] : "");
		fputc('"', f);
	}
	if (labels && labels[0])
		fputc('}', f);
	fputc(' ', f);
}

static int build_count_cb(const char *project, const char *env, const char *status, int64_t n,
                          void *arg)
{
	const char *labels[] = {"project", project, "env", env, "result", status, NULL};

	if (!status || !strcmp(status, "queued") || !strcmp(status, "running"))
		return 0;
	series(arg, "refit_builds_total", labels);
	fprintf(arg, "%lld\n", (long long)n);
	return 0;
}

struct progress {
	int64_t queued, running;
};

static int progress_cb(const char *project, const char *env, const char *status, int64_t n,
                       void *arg)
{
	struct progress *p = arg;

	(void)project;
	(void)env;
	if (status && !strcmp(status, "queued"))
		p->queued += n;
	else if (status && !strcmp(status, "running"))
		p->running += n;
	return 0;
}

struct histo {
	FILE *f;
	char project[128], env[128];
	uint64_t counts[N_BUCKETS + 1]; /* the last is +Inf */
	double sum;
	bool open;
};

static void histo_flush(struct histo *h)
{
	const char *labels[] = {"project", h->project, "env", h->env, "le", NULL, NULL};
	char le[32];
	uint64_t cum = 0;

	if (!h->open)
		return;
	for (size_t i = 0; i <= N_BUCKETS; i++) {
		cum += h->counts[i];
		if (i < N_BUCKETS)
			snprintf(le, sizeof(le), "%g", duration_buckets[i]);
		labels[5] = i < N_BUCKETS ? le : "+Inf";
		series(h->f, "refit_build_duration_seconds_bucket", labels);
		fprintf(h->f, "%llu\n", (unsigned long long)cum);
	}
	labels[4] = NULL;
	series(h->f, "refit_build_duration_seconds_sum", labels);
	fprintf(h->f, "%.3f\n", h->sum);
	series(h->f, "refit_build_duration_seconds_count", labels);
	fprintf(h->f, "%llu\n", (unsigned long long)cum);
	h->open = false;
}

static int duration_cb(const char *project, const char *env, unsigned bucket, uint64_t n,
                       uint64_t sum_ms, void *arg)
{
	struct histo *h = arg;

	if (!project || !env || bucket > N_BUCKETS)
		return 0;
	if (h->open && (strcmp(h->project, project) || strcmp(h->env, env)))
		histo_flush(h);
	if (!h->open) {
		snprintf(h->project, sizeof(h->project), "%s", project);
		snprintf(h->env, sizeof(h->env), "%s", env);
		memset(h->counts, 0, sizeof(h->counts));
		h->sum = 0;
		h->open = true;
	}
	h->counts[bucket] += n;
	h->sum += (double)sum_ms / 1000.0;
	return 0;
}

static int builds_section(FILE *f, struct store *s)
{
	struct progress p = {0, 0};
	struct histo h = {.f = f};
	int r;

	family(f, "refit_builds_total", "counter",
	       "Finished builds by project, environment and result.");
	r = store_build_counts_each(s, build_count_cb, f);
	if (r == 0)
		r = store_build_counts_each(s, progress_cb, &p);
	if (r < 0)
		return r;
	family(f, "refit_builds_in_progress", "gauge", "Builds queued or running.");
	fprintf(f, "refit_builds_in_progress{state=\"queued\"} %lld\n", (long long)p.queued);
	fprintf(f, "refit_builds_in_progress{state=\"running\"} %lld\n", (long long)p.running);
	family(f, "refit_build_duration_seconds", "histogram",
	       "Duration of finished builds, from start to end.");
	r = store_build_durations_each(s, duration_cb, &h);
	histo_flush(&h);
	return r;
}

static int last_build_cb(int64_t id, const struct store_build *b, void *arg)
{
	const char *labels[] = {"project", b->project, "env", b->env, NULL};
	FILE *f = arg;

	(void)id;
	if (!b->status || strcmp(b->status, "succeeded") || !b->finished_at)
		return 0;
	series(f, "refit_last_success_timestamp_seconds", labels);
	fprintf(f, "%.3f\n", (double)b->finished_at / 1000.0);
	return 0;
}

static int trigger_count_cb(const char *kind, const char *state, int64_t n, void *arg)
{
	const char *labels[] = {"kind", kind, "state", state, NULL};

	series(arg, "refit_triggers_total", labels);
	fprintf(arg, "%lld\n", (long long)n);
	return 0;
}

static int triggers_section(FILE *f, struct store *s)
{
	int n = store_trigger_pending_count(s);

	if (n < 0)
		return n;
	family(f, "refit_triggers_pending", "gauge",
	       "Projects waiting for a rebuild (one pending trigger each).");
	fprintf(f, "refit_triggers_pending %d\n", n);
	family(f, "refit_triggers_total", "counter",
	       "Rebuild triggers recorded, by kind (a base digest change, and a newer value an "
	       "environment follows, are kind base) and state.");
	return store_trigger_counts_each(s, trigger_count_cb, f);
}

struct bases_acc {
	FILE *f;
	int pass; /* 0: checked, 1: ok, 2: changed */
	uint64_t last;
	int64_t n;
};

static int base_cb(const struct store_base_row *b, void *arg)
{
	struct bases_acc *a = arg;
	const char *labels[] = {"ref", b->ref, "platform", b->platform, NULL};
	static const char *const names[] = {"refit_base_last_check_timestamp_seconds",
	                                    "refit_base_check_ok",
	                                    "refit_base_last_change_timestamp_seconds"};

	a->n++;
	if (b->checked_at > a->last)
		a->last = b->checked_at;
	if (a->pass == 1) {
		series(a->f, names[1], labels);
		fprintf(a->f, "%d\n", b->error == NULL && b->digest != NULL);
		return 0;
	}
	uint64_t t = a->pass == 0 ? b->checked_at : b->changed_at;
	if (t) {
		series(a->f, names[a->pass], labels);
		fprintf(a->f, "%.3f\n", (double)t / 1000.0);
	}
	return 0;
}

static int outdated_cb(const struct store_tags_row *r, void *arg)
{
	const char *labels[] = {"project", r->project, "base",   r->ref,    "current", r->tag,
	                        "newest",  r->newest,  "policy", r->policy, NULL};

	if (!r->newest)
		return 0;
	series(arg, "refit_base_outdated", labels);
	fputs("1\n", (FILE *)arg);
	return 0;
}

/* One series per pinned base that has a newer tag its project's policy allows. */
static int outdated_section(FILE *f, struct store *s)
{
	family(f, "refit_base_outdated", "gauge",
	       "1 when a version-pinned base has a newer tag of its flavour (policy per project).");
	return store_tags_each(s, NULL, outdated_cb, f);
}

static int bases_section(FILE *f, struct store *s)
{
	static const char *const help[][2] = {
	        {"refit_base_last_check_timestamp_seconds", "When a base digest was last polled."},
	        {"refit_base_check_ok", "1 when the last poll of a base succeeded."},
	        {"refit_base_last_change_timestamp_seconds", "When a base digest last moved."},
	};
	struct bases_acc a = {f, 0, 0, 0};
	int r = 0;

	for (a.pass = 0; r == 0 && a.pass < 3; a.pass++) {
		family(f, help[a.pass][0], "gauge", help[a.pass][1]);
		a.n = 0;
		r = store_bases_each(s, base_cb, &a);
	}
	if (r < 0)
		return r;
	family(f, "refit_bases", "gauge", "Base image references watched (per platform).");
	fprintf(f, "refit_bases %lld\n", (long long)a.n);
	family(f, "refit_bases_last_poll_timestamp_seconds", "gauge",
	       "The most recent base digest poll.");
	fprintf(f, "refit_bases_last_poll_timestamp_seconds %.3f\n", (double)a.last / 1000.0);
	return 0;
}

struct engines_acc {
	const struct config *cfg;
	bool *up; /* per configured engine */
};

static int engine_cb(const struct store_engine *e, void *arg)
{
	struct engines_acc *a = arg;

	for (size_t i = 0; i < a->cfg->n_engines; i++)
		if (!strcmp(a->cfg->engines[i].host, e->host))
			a->up[i] = e->reachable;
	return 0;
}

/* Every configured engine, 0 until it answered (rows of removed engines are left out). */
static int engines_section(FILE *f, const struct metrics_view *v)
{
	struct engines_acc a = {v->cfg, calloc(v->cfg->n_engines + 1, sizeof(bool))};
	int r = a.up ? store_engines_each(v->store, engine_cb, &a) : -ENOMEM;

	family(f, "refit_engine_up", "gauge",
	       "1 when the engine answered its last probe, by configured engine.");
	for (size_t i = 0; r == 0 && i < v->cfg->n_engines; i++) {
		const char *labels[] = {"host", v->cfg->engines[i].host, NULL};
		series(f, "refit_engine_up", labels);
		fprintf(f, "%d\n", a.up[i]);
	}
	free(a.up);
	return r;
}

static void header_section(FILE *f, const struct metrics_view *v)
{
	family(f, "refit_up", "gauge", "1 while refitd serves this endpoint.");
	fputs("refit_up 1\n", f);
	family(f, "refit_build_info", "gauge", "The running refitd version.");
	fputs("refit_build_info{version=\"", f);
	metrics_label_escape(f, REFIT_VERSION);
	fputs("\"} 1\n", f);
	family(f, "process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.");
	fprintf(f, "process_start_time_seconds %.3f\n", (double)v->started_at_ms / 1000.0);
	family(f, "refit_projects", "gauge", "Projects in the configuration.");
	fprintf(f, "refit_projects %zu\n", v->cfg->n_projects);
	family(f, "refit_loop_lag_seconds", "gauge",
	       "The longest a 1 s timer ran late on the event loop over the last minute.");
	fprintf(f, "refit_loop_lag_seconds %.6f\n", (double)v->loop_lag_us / 1e6);
}

static const char *const adv_states[] = {"open", "triggered", "pending-upstream", "needs-change",
                                         "unfixed"};
#define N_ADV_STATES (sizeof(adv_states) / sizeof(adv_states[0]))

static int adv_count_cb(const struct store_match *m, void *arg)
{
	unsigned *counts = arg;

	for (size_t i = 0; i < N_ADV_STATES; i++)
		counts[i] += !strcmp(m->state, adv_states[i]);
	return 0;
}

struct adv_section {
	FILE *f;
	struct store *s;
};

static int adv_current_cb(const struct store_current *c, void *arg)
{
	struct adv_section *a = arg;
	unsigned counts[N_ADV_STATES] = {0};
	int r = store_matches_each(a->s, c->build_id, adv_count_cb, counts);

	for (size_t i = 0; r == 0 && i < N_ADV_STATES; i++) {
		const char *labels[] = {"project", c->project,    "environment", c->env,
		                        "state",   adv_states[i], NULL};
		series(a->f, "refit_advisories_open", labels);
		fprintf(a->f, "%u\n", counts[i]);
	}
	return r;
}

struct feed_pass {
	FILE *f;
	int which; /* 0 up, 1 rows, 2 last success */
};

static int feed_cb(const char *feed, const char *scope, const struct store_feed_state *st,
                   void *arg)
{
	static const char *const names[] = {"refit_feed_up", "refit_feed_advisories",
	                                    "refit_feed_last_success_timestamp_seconds"};
	struct feed_pass *p = arg;
	const char *labels[] = {"feed", feed, "scope", scope, NULL};

	if (p->which == 2 && !st->ok_at)
		return 0;
	series(p->f, names[p->which], labels);
	if (p->which == 0)
		fprintf(p->f, "%d\n", st->error[0] ? 0 : 1);
	else if (p->which == 1)
		fprintf(p->f, "%lld\n", (long long)st->records);
	else
		fprintf(p->f, "%.3f\n", (double)st->ok_at / 1000.0);
	return 0;
}

struct reg_pass {
	FILE *f;
	bool rate; /* the rate-limit gauge, else the request counter */
	const char *last_host;
};

static void reg_row(const struct metrics_registry_row *r, void *ctx)
{
	struct reg_pass *p = ctx;
	char status[24];
	const char *labels[] = {"registry", r->host, "status", status, NULL};

	if (!p->rate) {
		snprintf(status, sizeof(status), "%ld", r->status);
		series(p->f, "refit_registry_requests_total", labels);
		fprintf(p->f, "%llu\n", (unsigned long long)r->requests);
	} else if (r->rl_remaining >= 0 && (!p->last_host || strcmp(p->last_host, r->host))) {
		labels[2] = NULL;
		series(p->f, "refit_registry_ratelimit_remaining", labels);
		fprintf(p->f, "%ld\n", r->rl_remaining);
	}
	p->last_host = r->host;
}

/* Registry requests by status, and what their RateLimit-Remaining said last. */
static void registries_section(FILE *f, const struct metrics_view *v)
{
	struct reg_pass p = {f, false, NULL};

	family(f, "refit_registry_requests_total", "counter",
	       "Registry requests by registry and HTTP status (0: no answer).");
	if (v->registries)
		v->registries(reg_row, &p, v->registries_arg);
	family(f, "refit_registry_ratelimit_remaining", "gauge",
	       "Requests left in the registry's rate-limit window (RateLimit-Remaining).");
	p = (struct reg_pass){f, true, NULL};
	if (v->registries)
		v->registries(reg_row, &p, v->registries_arg);
}

/* Per project and state, each advisory id once however many environments have it. */
static int advisory_ids_section(FILE *f, struct store *s)
{
	json_t *by = api_advisories_json(s, NULL), *list;
	const char *project;

	if (!by)
		return -ENOMEM;
	family(f, "refit_advisories", "gauge",
	       "Advisories of a project's current images by state (needs-change, open, triggered, "
	       "pending-upstream), each advisory id counted once across environments.");
	json_object_foreach(by, project, list)
	{
		json_t *c = api_advisory_counts(list), *n;
		const char *st;
		json_object_foreach(c, st, n)
		{
			const char *labels[] = {"project", project, "state", st, NULL};
			series(f, "refit_advisories", labels);
			fprintf(f, "%lld\n", (long long)json_integer_value(n));
		}
		json_decref(c);
	}
	json_decref(by);
	return 0;
}

/* Advisories affecting the current images, and the feeds' state. */
static int advisories_section(FILE *f, struct store *s)
{
	struct adv_section a = {f, s};
	int r;

	family(f, "refit_advisories_open", "gauge",
	       "Advisories affecting the current image of an environment, by state.");
	r = store_current_each(s, adv_current_cb, &a);
	if (r == 0)
		r = advisory_ids_section(f, s);
	if (r < 0)
		return r;
	family(f, "refit_feed_up", "gauge", "1 when the last poll of a feed scope succeeded.");
	r = store_feeds_each(s, feed_cb, &(struct feed_pass){f, 0});
	family(f, "refit_feed_advisories", "gauge", "Advisory rows stored for a feed scope.");
	if (r == 0)
		r = store_feeds_each(s, feed_cb, &(struct feed_pass){f, 1});
	family(f, "refit_feed_last_success_timestamp_seconds", "gauge",
	       "When a feed scope was last polled successfully.");
	return r < 0 ? r : store_feeds_each(s, feed_cb, &(struct feed_pass){f, 2});
}

static int webhooks_section(FILE *f, struct store *s)
{
	int64_t n = store_outbox_count(s);

	if (n < 0)
		return (int)n;
	family(f, "refit_webhook_deliveries_pending", "gauge",
	       "Webhook deliveries not made yet (retrying, or waiting for a free slot).");
	fprintf(f, "refit_webhook_deliveries_pending %lld\n", (long long)n);
	family(f, "refit_store_write_failing", "gauge",
	       "1 while the state database cannot be written (a full disk, an I/O error).");
	fprintf(f, "refit_store_write_failing %d\n", store_write_error(s, NULL) ? 1 : 0);
	family(f, "refit_store_writes_waiting", "gauge",
	       "Build outcomes and trigger states waiting for the store to take writes.");
	fprintf(f, "refit_store_writes_waiting %zu\n", store_deferred_count(s));
	if (store_query_int(s, "SELECT count(*) FROM builds WHERE log_error IS NOT NULL", &n) ==
	    0) {
		family(f, "refit_builds_log_lost", "gauge",
		       "Builds whose log could not be written, whole or in part (log_error).");
		fprintf(f, "refit_builds_log_lost %lld\n", (long long)n);
	}
	return 0;
}

/* The state of each project and environment (see api_render.c): one series each. */
static void states_section(FILE *f, const json_t *projects)
{
	size_t i, k;
	json_t *p, *e;

	if (!projects)
		return;
	family(f, "refit_project_state", "gauge",
	       "1 for the state of each project: failing, held, building, pending, ok or new.");
	json_array_foreach(projects, i, p)
	{
		const char *l[] = {"project", json_string_value(json_object_get(p, "name")),
		                   "state", json_string_value(json_object_get(p, "state")), NULL};
		series(f, "refit_project_state", l);
		fputs(" 1\n", f);
	}
	family(f, "refit_environment_state", "gauge",
	       "1 for the state of each environment: failing, held, building, pending, ok or new.");
	json_array_foreach(projects, i, p)
	{
		json_array_foreach(json_object_get(p, "environments"), k, e)
		{
			const char *l[] = {
			        "project",     json_string_value(json_object_get(p, "name")),
			        "environment", json_string_value(json_object_get(e, "name")),
			        "state",       json_string_value(json_object_get(e, "state")),
			        NULL};
			series(f, "refit_environment_state", l);
			fputs(" 1\n", f);
		}
	}
}

/* Builds waiting for their environment's window, and when they promote (held: none). */
static void promotions_section(FILE *f, const json_t *projects)
{
	size_t i, k;
	json_t *p, *e;

	if (!projects)
		return;
	family(f, "refit_promotion_next_timestamp_seconds", "gauge",
	       "When a build waiting for its environment's promotion window moves IMAGE:ENV "
	       "(one series per environment with a build waiting and not held).");
	json_array_foreach(projects, i, p)
	{
		json_array_foreach(json_object_get(p, "environments"), k, e)
		{
			uint64_t at = html_time_ms(
			        json_string_value(json_object_get(e, "next_promotion")));
			const char *l[] = {"project", json_string_value(json_object_get(p, "name")),
			                   "environment",
			                   json_string_value(json_object_get(e, "name")), NULL};
			if (!at)
				continue;
			series(f, "refit_promotion_next_timestamp_seconds", l);
			fprintf(f, "%.3f\n", (double)at / 1000.0);
		}
	}
}

static int render(FILE *f, const struct metrics_view *v)
{
	int r;

	header_section(f, v);
	r = builds_section(f, v->store);
	if (r == 0) {
		family(f, "refit_last_success_timestamp_seconds", "gauge",
		       "When the latest successful build of an environment finished.");
		r = store_builds_latest_each(v->store, NULL, last_build_cb, f);
	}
	if (r == 0)
		r = triggers_section(f, v->store);
	if (r == 0)
		r = bases_section(f, v->store);
	if (r == 0)
		r = outdated_section(f, v->store);
	if (r == 0)
		r = engines_section(f, v);
	if (r == 0)
		r = advisories_section(f, v->store);
	if (r == 0)
		r = webhooks_section(f, v->store);
	if (r == 0)
		registries_section(f, v);
	if (r == 0)
		states_section(f, v->projects);
	if (r == 0)
		promotions_section(f, v->projects);
	return r;
}

int metrics_render(const struct metrics_view *v, char **ret_body, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = render(f, v);
	if (ferror(f) && r == 0)
		r = -ENOMEM;
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_body = buf;
	*ret_len = len;
	return 0;
}
