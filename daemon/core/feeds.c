#include "feeds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "config.h"
#include "feed.h"
#include "feed_batch.h"
#include "feed_debian.h"
#include "feed_secdb.h"
#include "http_client.h"
#include "log.h"
#include "osv.h"
#include "store_feed.h"
#include "url.h"
#include "wallclock.h"

/* Bounds of what one poll may fetch and keep. */
#define MAX_CSV          (64u << 20)   /* modified_id.csv */
#define MAX_ZIP          (1024u << 20) /* all.zip of one ecosystem */
#define MAX_RECORD       (4u << 20)    /* one OSV record */
#define MAX_SECDB        (64u << 20)   /* one secdb document */
#define MAX_INCREMENTAL  2000          /* more changed records than this: reload all.zip */
#define PARALLEL         8             /* record fetches in flight */
#define START_DELAY_MS   2000          /* first round after start */
#define FETCH_TIMEOUT_MS (600 * 1000)  /* big documents over slow links */

enum task_kind { T_OSV, T_SECDB, T_TRACKER };

struct task {
	enum task_kind kind;
	char name[64], url[1024]; /* copies: a reload may free the config mid-round */
	char scope[128];          /* "PyPI", "v3.18/main", "json" */
	char want[8][16];         /* tracker: codenames wanted */
	size_t n_want;
};

struct fetch; /* one HTTP GET of the current task */

struct feeds {
	uv_loop_t *loop;
	struct store *store;
	struct http_client *http;
	feeds_changed_cb cb;
	void *cb_arg;
	struct config *cfg;
	uv_timer_t timer;
	struct task *tasks;
	size_t n_tasks, tasks_cap, at;
	bool running, again;
	size_t changed; /* rows changed this round */
	uint64_t last_round, next_round;
	/* the task in progress */
	struct store_feed_state st;
	struct feed_batch b;
	struct fetch *fetches[PARALLEL];
	char **ids; /* OSV: records to fetch */
	size_t n_ids, ids_cap, ids_at, inflight;
	char newest[64];
	char error[4096];
	struct feed_debian *tracker;
	FILE *zip; /* all.zip on its way to disk (never held in memory) */
	char zip_path[4200];
	uint64_t zip_bytes;
	char *known; /* the inventories' ecosystems at the last plan, '\n'-joined */
};

struct fetch {
	struct feeds *f;
	struct http_request *req;
	char url[2048];
	void (*done)(struct feeds *f, struct fetch *x, const struct http_response *r);
	size_t slot;
};

static void task_next(struct feeds *f);
static void task_end(struct feeds *f, const char *error);

/*
 * A round runs the tasks planned from the configuration it started with; a reload that
 * takes a feed out meanwhile drops the feed's advisories (forget_stale), and what its
 * tasks still bring must not put them back.
 */
static bool feed_configured(const struct feeds *f, const char *name)
{
	for (size_t i = 0; f->cfg && i < f->cfg->n_feeds; i++)
		if (!strcmp(f->cfg->feeds[i].name, name))
			return true;
	return false;
}

/* Writes the batch and the scope's new state in one transaction. */
static int batch_apply(struct feeds *f, bool replace)
{
	struct store_feed_batch sb = {.feed = f->b.feed,
	                              .scope = f->b.scope,
	                              .replace = replace,
	                              .rows = f->b.rows,
	                              .n_rows = f->b.n,
	                              .clear_ids = (const char *const *)f->b.clear,
	                              .n_clear = f->b.n_clear,
	                              .state = &f->st,
	                              .now = wallclock_ms()};
	int r;

	if (!feed_configured(f, sb.feed))
		return 0; /* taken out of the configuration while it was polled */
	r = store_feed_apply(f->store, &sb);

	if (r > 0) {
		f->changed += (size_t)r;
		log_info("feed %s/%s: %d advisory rows changed (%zu read)", sb.feed, sb.scope, r,
		         f->b.n);
	}
	return r < 0 ? r : 0;
}

/* ---- HTTP ---- */

static bool is_file_url(const char *url)
{
	return !strncmp(url, "file://", 7);
}

/* Records the task's failure as "URL: message". */
__attribute__((format(printf, 3, 4))) static void fail_at(struct feeds *f, const char *url,
                                                          const char *fmt, ...)
{
	char u[2048];
	size_t n;
	va_list ap;

	url_redact(url, true, u, sizeof(u));
	n = (size_t)snprintf(f->error, sizeof(f->error), "%.1024s: ", u);
	va_start(ap, fmt);
	vsnprintf(f->error + n, sizeof(f->error) - n, fmt, ap);
	va_end(ap);
}

/* 200, or a file:// read (curl reports no status for those). */
static bool got_body(const struct fetch *x, const struct http_response *r)
{
	return r->error == 0 && (r->status == 200 || (r->status == 0 && is_file_url(x->url)));
}

static void describe(struct feeds *f, const struct fetch *x, const struct http_response *r)
{
	if (r->error)
		fail_at(f, x->url, "%s", r->error_msg[0] ? r->error_msg : strerror(-r->error));
	else
		fail_at(f, x->url, "HTTP %ld", r->status);
}

static void fetch_cb(const struct http_response *r, void *arg)
{
	struct fetch *x = arg;
	struct feeds *f = x->f;

	f->fetches[x->slot] = NULL;
	f->inflight--;
	x->req = NULL;
	x->done(f, x, r);
	free(x);
}

/* GETs url; conditional on the scope's validators when conditional is set. */
static int fetch(struct feeds *f, const char *url, size_t max, bool conditional,
                 void (*done)(struct feeds *, struct fetch *, const struct http_response *),
                 http_data_cb data_cb)
{
	char inm[300], ims[100];
	const char *hdrs[3] = {NULL, NULL, NULL};
	struct http_request_opts o = {.url = url,
	                              .headers = hdrs,
	                              .max_body = max,
	                              .timeout_ms = FETCH_TIMEOUT_MS,
	                              .follow_redirects = true,
	                              .data_cb = data_cb,
	                              .stream_arg = f};
	struct fetch *x = calloc(1, sizeof(*x));
	size_t n = 0, slot = 0;
	int r;

	if (!x)
		return -ENOMEM;
	while (slot < PARALLEL && f->fetches[slot])
		slot++;
	if (conditional && f->st.etag[0] &&
	    snprintf(inm, sizeof(inm), "If-None-Match: %s", f->st.etag) < (int)sizeof(inm))
		hdrs[n++] = inm;
	if (conditional && f->st.last_modified[0])
		snprintf(ims, sizeof(ims), "If-Modified-Since: %s", f->st.last_modified),
		        hdrs[n++] = ims;
	snprintf(x->url, sizeof(x->url), "%s", url);
	x->f = f;
	x->done = done;
	x->slot = slot;
	r = http_request_start(f->http, &o, fetch_cb, x, &x->req);
	if (r < 0) {
		free(x);
		return r;
	}
	f->fetches[slot] = x;
	f->inflight++;
	return 0;
}

/* Keeps the validators of a 200 answer for the next conditional request. */
static void keep_validators(struct feeds *f, const struct http_response *r)
{
	if (!http_response_header(r, "ETag", f->st.etag, sizeof(f->st.etag)))
		f->st.etag[0] = '\0';
	if (!http_response_header(r, "Last-Modified", f->st.last_modified,
	                          sizeof(f->st.last_modified)))
		f->st.last_modified[0] = '\0';
}

/*
 * The answer to a conditional GET: true with the validators kept when a new
 * body came; otherwise the task is over (304: nothing changed; an error:
 * the last good state stays).
 */
static bool fresh_body(struct feeds *f, struct fetch *x, const struct http_response *r)
{
	if (r->error == 0 && r->status == 304) {
		task_end(f, NULL);
		return false;
	}
	if (!got_body(x, r)) {
		describe(f, x, r);
		task_end(f, f->error);
		return false;
	}
	keep_validators(f, r);
	return true;
}

static void url_of(char *buf, size_t len, const struct feeds *f, const char *path)
{
	const char *base = f->tasks[f->at].url;
	size_t n = strlen(base);

	snprintf(buf, len, "%.*s/%s", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, path);
}

/* ---- OSV: modified_id.csv, all.zip, records ---- */

static int first_line_cb(const char *when, const char *id, void *arg)
{
	struct feeds *f = arg;

	(void)id;
	snprintf(f->newest, sizeof(f->newest), "%s", when);
	return -ECANCELED;
}

static int changed_id_cb(const char *when, const char *id, void *arg)
{
	struct feeds *f = arg;
	int r;

	if (!f->newest[0])
		snprintf(f->newest, sizeof(f->newest), "%s", when);
	if ((r = ARRAY_GROW(f->ids, f->ids_cap, f->n_ids, MAX_INCREMENTAL)) < 0)
		return r;
	f->ids[f->n_ids] = strdup(id);
	return f->ids[f->n_ids++] ? 0 : -ENOMEM;
}

static int zip_data(const char *chunk, size_t len, void *arg)
{
	struct feeds *f = arg;

	f->zip_bytes += len;
	if (f->zip_bytes > MAX_ZIP || fwrite(chunk, 1, len, f->zip) != len)
		return 1; /* abort: over the bound, or the disk is full */
	return 0;
}

static void zip_close(struct feeds *f)
{
	if (!f->zip)
		return;
	fclose(f->zip);
	f->zip = NULL;
	unlink(f->zip_path);
}

static void zip_cb(struct feeds *f, struct fetch *x, const struct http_response *r)
{
	char err[512];
	int rc = fflush(f->zip) == 0 ? 0 : -EIO;

	if (f->zip_bytes > MAX_ZIP)
		fail_at(f, x->url, "larger than %u MiB", MAX_ZIP >> 20);
	else if (rc < 0)
		fail_at(f, x->url, "%s: %s", f->zip_path, strerror(errno));
	else if (!got_body(x, r))
		describe(f, x, r);
	else if ((rc = osv_zip_each_file(f->zip_path, feed_batch_row_cb, &f->b, err, sizeof(err))) <
	         0)
		fail_at(f, x->url, "%s", err);
	zip_close(f);
	if (f->error[0]) {
		task_end(f, f->error);
		return;
	}
	snprintf(f->st.watermark, sizeof(f->st.watermark), "%s", f->newest);
	rc = batch_apply(f, true);
	task_end(f, rc < 0 ? "the store refused the advisories" : NULL);
}

/* all.zip goes to state_dir/tmp as it arrives, then libarchive reads it from there. */
static void full_load(struct feeds *f)
{
	char url[2048], path[200];
	int r;

	snprintf(path, sizeof(path), "%s/all.zip", f->tasks[f->at].scope);
	url_of(url, sizeof(url), f, path);
	snprintf(f->zip_path, sizeof(f->zip_path), "%s/tmp/feed-%s-%s.zip", f->cfg->state_dir,
	         f->tasks[f->at].name, f->tasks[f->at].scope);
	for (char *p = strrchr(f->zip_path, '/') + 1; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	f->zip_bytes = 0;
	f->zip = fopen(f->zip_path, "we");
	if (!f->zip) {
		fail_at(f, f->zip_path, "%s", strerror(errno));
		task_end(f, f->error);
		return;
	}
	r = fetch(f, url, 0, false, zip_cb, zip_data);
	if (r < 0) {
		zip_close(f);
		task_end(f, strerror(-r));
	}
}

static void records_start(struct feeds *f);

static void record_cb(struct feeds *f, struct fetch *x, const struct http_response *r)
{
	char err[512];
	const char *id = strrchr(x->url, '/') + 1;
	char bare[200];
	int rc = 0;

	snprintf(bare, sizeof(bare), "%.*s", (int)(strlen(id) - 5), id); /* drop ".json" */
	if (r->error == 0 && r->status == 404) {
		rc = feed_batch_clear(&f->b, bare); /* gone from the feed: close it */
	} else if (!got_body(x, r)) {
		describe(f, x, r);
	} else if ((rc = osv_parse(r->body, r->body_len, feed_batch_row_cb, &f->b, err,
	                           sizeof(err))) < 0) {
		fail_at(f, x->url, "%s", err);
	} else {
		rc = feed_batch_clear(&f->b, bare); /* rows the new version no longer has go */
	}
	if (rc < 0 && !f->error[0])
		fail_at(f, x->url, "%s", strerror(-rc));
	records_start(f);
}

/* Keeps PARALLEL record fetches going; applies the batch when all are in. */
static void records_start(struct feeds *f)
{
	char url[2048], path[300];
	int r;

	while (!f->error[0] && f->ids_at < f->n_ids && f->inflight < PARALLEL) {
		snprintf(path, sizeof(path), "%s/%s.json", f->tasks[f->at].scope,
		         f->ids[f->ids_at++]);
		url_of(url, sizeof(url), f, path);
		r = fetch(f, url, MAX_RECORD, false, record_cb, NULL);
		if (r < 0)
			fail_at(f, url, "%s", strerror(-r));
	}
	if (f->inflight)
		return;
	if (f->error[0]) {
		task_end(f, f->error);
		return;
	}
	snprintf(f->st.watermark, sizeof(f->st.watermark), "%s", f->newest);
	r = batch_apply(f, false);
	task_end(f, r < 0 ? "the store refused the advisories" : NULL);
}

static bool safe_id(const char *id)
{
	return id[0] && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                           "0123456789._:-") == strlen(id);
}

static void csv_cb(struct feeds *f, struct fetch *x, const struct http_response *r)
{
	char err[512], since[64];
	int rc;

	if (!fresh_body(f, x, r))
		return;
	snprintf(since, sizeof(since), "%s", f->st.watermark);
	rc = osv_modified_each(r->body, r->body_len, since[0] ? since : NULL,
	                       since[0] ? changed_id_cb : first_line_cb, f, err, sizeof(err));
	if (rc == -E2BIG || (!since[0] && (rc == 0 || rc == -ECANCELED))) {
		if (rc == -E2BIG) /* newest is the first line already: the full load's watermark */
			log_info("feed %s/%s: over %d records changed; reloading all.zip",
			         f->b.feed, f->b.scope, MAX_INCREMENTAL);
		full_load(f);
		return;
	}
	if (rc < 0) {
		fail_at(f, x->url, "%s", err);
		task_end(f, f->error);
		return;
	}
	for (size_t i = 0; i < f->n_ids; i++)
		if (!safe_id(f->ids[i])) {
			fail_at(f, x->url, "bad record id \"%.64s\"", f->ids[i]);
			task_end(f, f->error);
			return;
		}
	if (!f->newest[0])
		snprintf(f->newest, sizeof(f->newest), "%s", since);
	records_start(f);
}

static int osv_start(struct feeds *f)
{
	char url[2048], path[200];

	snprintf(path, sizeof(path), "%s/modified_id.csv", f->tasks[f->at].scope);
	url_of(url, sizeof(url), f, path);
	return fetch(f, url, MAX_CSV, true, csv_cb, NULL);
}

/* ---- Alpine secdb ---- */

static void secdb_cb(struct feeds *f, struct fetch *x, const struct http_response *r)
{
	char err[512];
	int rc;

	if (!fresh_body(f, x, r))
		return;
	rc = feed_secdb_parse(r->body, r->body_len, feed_batch_row_cb, &f->b, err, sizeof(err));
	if (rc < 0) {
		fail_at(f, x->url, "%s", err);
		task_end(f, f->error);
		return;
	}
	rc = batch_apply(f, true);
	task_end(f, rc < 0 ? "the store refused the advisories" : NULL);
}

static int secdb_start(struct feeds *f)
{
	char url[2048], path[200];

	snprintf(path, sizeof(path), "%s.json", f->tasks[f->at].scope);
	url_of(url, sizeof(url), f, path);
	return fetch(f, url, MAX_SECDB, true, secdb_cb, NULL);
}

/* ---- Debian security tracker: streamed, never held whole ---- */

static int tracker_data(const char *chunk, size_t len, void *arg)
{
	struct feeds *f = arg;

	return feed_debian_push(f->tracker, chunk, len) < 0; /* abort on bad data */
}

static void tracker_cb(struct feeds *f, struct fetch *x, const struct http_response *r)
{
	char err[512];
	int rc;

	if (r->error == 0 && r->status == 304) {
		task_end(f, NULL);
		return;
	}
	rc = feed_debian_finish(f->tracker, err, sizeof(err));
	if (!got_body(x, r) && !(rc < 0 && r->error)) {
		describe(f, x, r);
	} else if (rc < 0) {
		fail_at(f, x->url, "%s", err);
	} else {
		keep_validators(f, r);
		rc = batch_apply(f, true);
		if (rc < 0)
			snprintf(f->error, sizeof(f->error), "the store refused the advisories");
	}
	task_end(f, f->error[0] ? f->error : NULL);
}

static int tracker_start(struct feeds *f)
{
	const struct task *t = &f->tasks[f->at];

	f->tracker = feed_debian_new(feed_batch_row_cb, &f->b);
	if (!f->tracker)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_want; i++)
		feed_debian_want(f->tracker, t->want[i]);
	/* streamed: the body is never buffered, so max_body does not bound it */
	return fetch(f, t->url, 0, true, tracker_cb, tracker_data);
}

/* ---- rounds and tasks ---- */

static const char *const codenames[] = {"jessie",   "stretch", "buster", "bullseye",
                                        "bookworm", "trixie",  "forky"};

struct plan {
	struct feeds *f;
	const struct config_feed *cf;
	int error;
};

static struct task *task_add(struct plan *p, enum task_kind kind, const char *scope)
{
	struct feeds *f = p->f;
	struct task *t;

	for (size_t i = 0; i < f->n_tasks; i++)
		if (!strcmp(f->tasks[i].name, p->cf->name) && !strcmp(f->tasks[i].scope, scope))
			return &f->tasks[i];
	if (ARRAY_GROW(f->tasks, f->tasks_cap, f->n_tasks, ARRAY_NO_MAX) < 0) {
		p->error = -ENOMEM;
		return NULL;
	}
	t = &f->tasks[f->n_tasks++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	snprintf(t->name, sizeof(t->name), "%s", p->cf->name);
	snprintf(t->url, sizeof(t->url), "%s", p->cf->url);
	snprintf(t->scope, sizeof(t->scope), "%s", scope);
	return t;
}

static void plan_tracker(struct plan *p, const char *eco)
{
	unsigned n;
	struct task *t;

	if (sscanf(eco, "Debian:%u", &n) != 1 || n < 8 || n > 14)
		return;
	t = task_add(p, T_TRACKER, "json");
	if (!t || t->n_want >= 8)
		return;
	for (size_t i = 0; i < t->n_want; i++)
		if (!strcmp(t->want[i], codenames[n - 8]))
			return;
	snprintf(t->want[t->n_want++], sizeof(t->want[0]), "%s", codenames[n - 8]);
}

/* Which scopes of the feed being planned the ecosystem needs. */
static int plan_eco(const char *eco, void *arg)
{
	struct plan *p = arg;
	char dir[64], scope[128];
	unsigned major, minor;

	switch (p->cf->type) {
	case FEED_OSV:
		if (osv_ecosystem_dir(eco, dir, sizeof(dir)))
			task_add(p, T_OSV, dir);
		break;
	case FEED_ALPINE_SECDB:
		if (sscanf(eco, "Alpine:v%u.%u", &major, &minor) != 2)
			break;
		snprintf(scope, sizeof(scope), "v%u.%u/main", major, minor);
		task_add(p, T_SECDB, scope);
		snprintf(scope, sizeof(scope), "v%u.%u/community", major, minor);
		task_add(p, T_SECDB, scope);
		break;
	case FEED_DEBIAN_TRACKER:
		plan_tracker(p, eco);
		break;
	}
	return p->error;
}

static int join_cb(const char *eco, void *arg)
{
	char **acc = arg;
	char *v;

	if (asprintf(&v, "%s%s\n", *acc ? *acc : "", eco) < 0)
		return -ENOMEM;
	free(*acc);
	*acc = v;
	return 0;
}

/* The ecosystems of the current images, '\n'-joined ("" when none); NULL on failure. */
static char *ecosystems_joined(struct feeds *f)
{
	char *acc = strdup("");

	if (acc && store_inventory_ecosystems(f->store, join_cb, &acc) < 0) {
		free(acc);
		return NULL;
	}
	return acc;
}

static int plan_round(struct feeds *f)
{
	struct plan p = {f, NULL, 0};
	int r = 0;

	free(f->known);
	f->known = ecosystems_joined(f);

	f->n_tasks = 0;
	for (size_t i = 0; r == 0 && f->cfg && i < f->cfg->n_feeds; i++) {
		p.cf = &f->cfg->feeds[i];
		r = store_inventory_ecosystems(f->store, plan_eco, &p);
	}
	return r;
}

static void task_reset(struct feeds *f)
{
	for (size_t i = 0; i < f->n_ids; i++)
		free(f->ids[i]);
	free(f->ids);
	f->ids = NULL;
	f->n_ids = f->ids_cap = f->ids_at = 0;
	feed_batch_done(&f->b);
	feed_debian_free(f->tracker);
	f->tracker = NULL;
	zip_close(f);
	f->newest[0] = f->error[0] = '\0';
}

static void task_end(struct feeds *f, const char *error)
{
	const struct task *t = &f->tasks[f->at];
	bool kept = feed_configured(f, t->name);

	f->st.polled_at = wallclock_ms();
	if (!kept)
		log_info("feed %s (%s): no longer configured; its poll is dropped", t->name,
		         t->scope);
	else if (error)
		log_warn("feed %s (%s): %s; the last good state is kept", t->name, t->scope, error);
	if (kept)
		store_feed_polled(f->store, t->name, t->scope, &f->st, error);
	task_reset(f);
	f->at++;
	task_next(f);
}

static int task_begin(struct feeds *f)
{
	const struct task *t = &f->tasks[f->at];

	task_reset(f);
	if (store_feed_get(f->store, t->name, t->scope, &f->st) < 0)
		memset(&f->st, 0, sizeof(f->st));
	f->b.feed = t->name;
	f->b.scope = t->scope;
	log_debug("feed %s: polling %s", t->name, t->scope);
	switch (t->kind) {
	case T_OSV:
		return osv_start(f);
	case T_SECDB:
		return secdb_start(f);
	case T_TRACKER:
		return tracker_start(f);
	}
	return -EINVAL;
}

static void arm(struct feeds *f, uint64_t delay);

static void round_end(struct feeds *f)
{
	size_t changed = f->changed;

	f->running = false;
	f->last_round = wallclock_ms();
	f->changed = 0;
	if (f->again) {
		f->again = false;
		arm(f, 0);
	} else if (f->cfg) {
		arm(f, f->cfg->poll.feeds_ms);
	}
	if (changed && f->cb)
		f->cb(changed, f->cb_arg);
}

static void task_next(struct feeds *f)
{
	int r;

	while (f->at < f->n_tasks && !feed_configured(f, f->tasks[f->at].name))
		f->at++; /* planned before a reload took its feed out */
	if (f->at >= f->n_tasks) {
		round_end(f);
		return;
	}
	r = task_begin(f);
	if (r < 0)
		task_end(f, strerror(-r)); /* goes on with the next task */
}

static void round_cb(uv_timer_t *t)
{
	struct feeds *f = t->data;
	int r;

	if (f->running) {
		f->again = true;
		return;
	}
	f->running = true;
	f->at = 0;
	r = plan_round(f);
	if (r < 0)
		log_err("feeds: cannot plan a poll: %s", strerror(-r));
	task_next(f);
}

/* delay +- jitter% so that hosts sharing a mirror do not poll in step. */
static void arm(struct feeds *f, uint64_t delay)
{
	unsigned pct = f->cfg ? f->cfg->poll.jitter_pct : 0;

	if (delay && pct) {
		uint64_t span = delay * pct / 100;
		delay = delay - span + (uint64_t)rand() % (2 * span + 1);
	}
	f->next_round = wallclock_ms() + delay;
	uv_timer_start(&f->timer, round_cb, delay, 0);
}

int feeds_new(uv_loop_t *loop, struct store *store, struct http_client *http, feeds_changed_cb cb,
              void *arg, struct feeds **ret)
{
	struct feeds *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	r = uv_timer_init(loop, &f->timer);
	if (r < 0) {
		free(f);
		return r;
	}
	f->timer.data = f;
	f->loop = loop;
	f->store = store;
	f->http = http;
	f->cb = cb;
	f->cb_arg = arg;
	*ret = f;
	return 0;
}

struct stale {
	const struct config *cfg;
	char names[16][64];
	size_t n;
};

static int stale_cb(const char *feed, const char *scope, const struct store_feed_state *st,
                    void *arg)
{
	struct stale *x = arg;

	(void)scope;
	(void)st;
	for (size_t i = 0; i < x->cfg->n_feeds; i++)
		if (!strcmp(x->cfg->feeds[i].name, feed))
			return 0;
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->names[i], feed))
			return 0;
	if (x->n < 16)
		snprintf(x->names[x->n++], sizeof(x->names[0]), "%s", feed);
	return 0;
}

/* Advisories of a feed taken out of the configuration must not match any more. */
static void forget_stale(struct feeds *f, const struct config *cfg)
{
	struct stale x = {.cfg = cfg};

	if (store_feeds_each(f->store, stale_cb, &x) < 0)
		return;
	for (size_t i = 0; i < x.n; i++)
		if (store_feed_drop(f->store, x.names[i]) == 0)
			log_info("feed %s: no longer configured; its advisories are forgotten",
			         x.names[i]);
	if (x.n && f->cb) /* the images' matches change with it */
		f->cb(x.n, f->cb_arg);
}

void feeds_configure(struct feeds *f, struct config *cfg)
{
	bool first = !f->cfg;

	forget_stale(f, cfg);
	config_free(f->cfg);
	f->cfg = config_ref(cfg);
	if (!f->running)
		arm(f, first ? START_DELAY_MS : cfg->poll.feeds_ms);
}

void feeds_poll_now(struct feeds *f)
{
	if (f->running)
		f->again = true;
	else
		arm(f, 0);
}

void feeds_inventory_changed(struct feeds *f)
{
	char *now = ecosystems_joined(f);

	if (now && f->known && !strcmp(now, f->known)) {
		free(now);
		return;
	}
	free(f->known);
	f->known = now;
	log_debug("feeds: the images' ecosystems changed; polling now");
	feeds_poll_now(f);
}

void feeds_times(const struct feeds *f, uint64_t *ret_last, uint64_t *ret_next)
{
	*ret_last = f->last_round;
	*ret_next = f->running ? 0 : f->next_round;
}

static void feeds_closed(uv_handle_t *h)
{
	struct feeds *f = h->data;

	free(f->tasks);
	free(f->known);
	free(f);
}

void feeds_free(struct feeds *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < PARALLEL; i++)
		if (f->fetches[i]) {
			http_request_cancel(f->fetches[i]->req);
			free(f->fetches[i]);
			f->fetches[i] = NULL;
		}
	task_reset(f);
	config_free(f->cfg);
	f->cfg = NULL;
	uv_close((uv_handle_t *)&f->timer, feeds_closed);
}
