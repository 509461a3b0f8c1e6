#include "notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "array.h"
#include "config.h"
#include "digest.h"
#include "fileread.h"
#include "http_client.h"
#include "log.h"
#include "store.h"
#include "url.h"
#include "wallclock.h"

#ifndef REFIT_VERSION
#define REFIT_VERSION "unknown"
#endif

#define PARALLEL   4
#define TIMEOUT_MS 10000
static const uint64_t retry_ms[] = {2000, 10000, 60000};
#define MAX_ATTEMPTS (1 + sizeof(retry_ms) / sizeof(retry_ms[0]))

#define SECRET_MAX  4096
#define MAX_HEADERS 16

struct hook {
	char *url;
	char **events;           /* NULL-terminated; NULL = every event */
	char id[DIGEST_STR_MAX]; /* sha256 of the URL: names it in the store */
	char *secret_file;       /* read at each delivery, never kept */
	char **headers;          /* "Name: value", NULL-terminated; values never logged */
};

struct delivery {
	struct notify *n;
	int64_t id;                /* its row in the store's outbox; 0 when it has none */
	char hook[DIGEST_STR_MAX]; /* the webhook's id, for its signing key and headers */
	char *url, *body, *event;
	unsigned attempts;
	uint64_t due; /* loop time */
	struct http_request *req;
	struct delivery *next;
};

struct notify {
	uv_loop_t *loop;
	struct http_client *http;
	struct store *store;
	bool loaded; /* the outbox of the previous run is queued */
	struct hook *hooks;
	size_t n_hooks;
	struct delivery *queue; /* oldest first */
	size_t pending;
	unsigned inflight;
	uv_timer_t timer;
};

static void pump(struct notify *n);

static void delivery_free(struct delivery *d)
{
	if (!d)
		return;
	free(d->url);
	free(d->body);
	free(d->event);
	free(d);
}

static void unlink_delivery(struct notify *n, struct delivery *d)
{
	for (struct delivery **p = &n->queue; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			n->pending--;
			return;
		}
}

/* The delivery is over, made or given up: out of the queue and the store. */
static void forget(struct notify *n, struct delivery *d)
{
	if (d->id && store_outbox_delete(n->store, d->id) < 0)
		log_warn("webhook: a %s event could not be removed from the store: it may be "
		         "delivered again after a restart",
		         d->event);
	unlink_delivery(n, d);
	delivery_free(d);
}

static void drop(struct notify *n, struct delivery *d, const char *why)
{
	char url[512];

	url_redact(d->url, false, url, sizeof(url));
	log_warn("webhook %s: %s event dropped: %s", url, d->event, why);
	forget(n, d);
}

static void hooks_free(struct hook *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].url);
		for (size_t j = 0; h[i].events && h[i].events[j]; j++)
			free(h[i].events[j]);
		free(h[i].events);
		free(h[i].secret_file);
		for (size_t j = 0; h[i].headers && h[i].headers[j]; j++) {
			explicit_bzero(h[i].headers[j], strlen(h[i].headers[j]));
			free(h[i].headers[j]);
		}
		free(h[i].headers);
	}
	free(h);
}

static char **strv_copy(char *const *v)
{
	size_t n = 0;
	char **out;

	if (!v)
		return NULL;
	while (v[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(v[i]))) {
			while (i--)
				free(out[i]);
			free(out);
			return NULL;
		}
	return out;
}

static void enqueue(struct notify *n, const struct hook *h, const char *body, const char *event,
                    int64_t id);

/* The outbox of the last run, read whole before anything is queued or deleted. */
struct outbox_row {
	int64_t id;
	char *hook, *event, *body;
};

struct outbox_rows {
	struct outbox_row *v;
	size_t n, cap;
};

static int read_row(int64_t id, const char *hook, const char *event, const char *body, void *arg)
{
	struct outbox_rows *l = arg;
	struct outbox_row *r;

	if (ARRAY_GROW(l->v, l->cap, l->n, ARRAY_NO_MAX) < 0)
		return -ENOMEM;
	r = &l->v[l->n++];
	*r = (struct outbox_row){id, strdup(hook), strdup(event), strdup(body)};
	return r->hook && r->event && r->body ? 0 : -ENOMEM;
}

/* Each delivery pending at the last stop: queued again for its webhook, if still there. */
static void load_outbox(struct notify *n)
{
	struct outbox_rows l = {NULL, 0, 0};
	size_t again = 0;

	if (store_outbox_each(n->store, read_row, &l) < 0)
		log_warn("webhook: the deliveries pending at the last stop could not all be read");
	for (size_t k = 0; k < l.n; k++) {
		struct outbox_row *r = &l.v[k];
		size_t i = 0;

		while (r->hook && i < n->n_hooks && strcmp(n->hooks[i].id, r->hook))
			i++;
		if (!r->hook || !r->event || !r->body) {
			/* out of memory: the row stays for the next start */
		} else if (i < n->n_hooks) {
			enqueue(n, &n->hooks[i], r->body, r->event, r->id);
			again++;
		} else {
			log_warn("webhook: a %s event pending at the last stop is dropped: its "
			         "webhook is no longer configured",
			         r->event);
			store_outbox_delete(n->store, r->id);
		}
		free(r->hook);
		free(r->event);
		free(r->body);
	}
	free(l.v);
	if (again)
		log_info("webhook: %zu event delivery(ies) pending at the last stop are sent again",
		         again);
}

/* The extra headers of a webhook as "Name: value" lines; 0 or -ENOMEM. */
static int headers_copy(const struct config_notify *w, struct hook *h)
{
	size_t n = w->n_headers < MAX_HEADERS ? w->n_headers : MAX_HEADERS;

	if (!n)
		return 0;
	h->headers = calloc(n + 1, sizeof(*h->headers));
	for (size_t i = 0; h->headers && i < n; i++)
		if (asprintf(&h->headers[i], "%s: %s", w->headers[i].key, w->headers[i].value) <
		    0) {
			h->headers[i] = NULL;
			return -ENOMEM;
		}
	return h->headers ? 0 : -ENOMEM;
}

/* The webhooks of cfg, whole or not at all (-ENOMEM). */
static int hooks_new(const struct config *cfg, struct hook **ret)
{
	struct hook *h = calloc(cfg->n_notify ? cfg->n_notify : 1, sizeof(*h));
	size_t i = 0;

	for (; h && i < cfg->n_notify; i++) {
		const struct config_notify *w = &cfg->notify[i];
		h[i].url = strdup(w->webhook);
		h[i].events = strv_copy(w->events);
		if (!h[i].url || (w->events && !h[i].events) ||
		    (w->secret_file && !(h[i].secret_file = strdup(w->secret_file))) ||
		    headers_copy(w, &h[i]) < 0 ||
		    digest_sha256(h[i].url, strlen(h[i].url), h[i].id) < 0)
			break;
	}
	if (!h || i < cfg->n_notify) {
		hooks_free(h, h ? i + 1 : 0);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

int notify_configure(struct notify *n, const struct config *cfg)
{
	struct hook *h;

	if (hooks_new(cfg, &h) < 0)
		return -ENOMEM; /* the webhooks stay as they were */
	hooks_free(n->hooks, n->n_hooks);
	n->hooks = h;
	n->n_hooks = cfg->n_notify;
	if (!n->loaded && n->store) {
		n->loaded = true;
		load_outbox(n);
		pump(n);
	}
	return 0;
}

static bool wants(const struct hook *h, const char *event)
{
	for (size_t i = 0; h->events && h->events[i]; i++)
		if (!strcmp(h->events[i], event))
			return true;
	return !h->events;
}

/* Queues a delivery; id is its outbox row, or 0 to give it one now. */
static void enqueue(struct notify *n, const struct hook *h, const char *body, const char *event,
                    int64_t id)
{
	struct delivery *d = calloc(1, sizeof(*d)), **tail = &n->queue;

	if (!d || !(d->url = strdup(h->url)) || !(d->body = strdup(body)) ||
	    !(d->event = strdup(event))) {
		delivery_free(d);
		log_err("webhook: out of memory: %s event dropped", event);
		if (id)
			store_outbox_delete(n->store, id);
		return;
	}
	if (!id && n->store &&
	    store_outbox_add(n->store, h->id, event, body, wallclock_ms(), &id) < 0)
		log_warn("webhook: a %s event could not be stored: a restart before its delivery "
		         "loses it",
		         event);
	d->id = id;
	d->n = n;
	snprintf(d->hook, sizeof(d->hook), "%s", h->id);
	d->due = uv_now(n->loop);
	for (struct delivery *o = n->queue; n->pending >= NOTIFY_MAX_PENDING && o; o = o->next)
		if (!o->req) { /* the oldest that is not on the wire makes room */
			drop(n, o, "too many deliveries pending");
			break;
		}
	while (*tail)
		tail = &(*tail)->next;
	*tail = d;
	n->pending++;
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The reasons, one per line in the store, as the API shows them: a list. */
static json_t *reasons_json(const char *reasons)
{
	json_t *a = json_array();
	const char *p = reasons, *nl;

	while (a && p && *p) {
		nl = strchr(p, '\n');
		json_array_append_new(a, json_stringn(p, nl ? (size_t)(nl - p) : strlen(p)));
		p = nl ? nl + 1 : NULL;
	}
	return a;
}

/* Encodes o (taken) and queues it for every webhook that wants event. */
static void send_event(struct notify *n, const char *event, const char *project, json_t *o)
{
	char *body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	for (size_t i = 0; body && i < n->n_hooks; i++)
		if (wants(&n->hooks[i], event))
			enqueue(n, &n->hooks[i], body, event, 0);
	if (!body)
		log_err("webhook: cannot encode the %s event of %s", event, project);
	free(body);
	pump(n);
}

/* ms since the epoch as "2025-01-02T03:04:05Z" in at (40 bytes). */
static const char *iso_time(uint64_t ms, char *at)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(at, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return at;
}

void notify_build(struct notify *n, const struct notify_build *b)
{
	char at[40];
	json_t *o;

	if (!n || !n->n_hooks)
		return;
	iso_time(b->at, at);
	o = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s}", "event",
	              b->event, "project", b->project, "environment", b->environment, "build_id",
	              (json_int_t)b->build_id, "trigger", jstr(b->trigger), "reasons",
	              reasons_json(b->reasons), "image", jstr(b->image), "image_id",
	              jstr(b->image_id), "digest", jstr(b->digest), "fixes", jstr(b->fixes),
	              "error", jstr(b->error), "failed_step", jstr(b->failed_step), "refit",
	              json_string(REFIT_VERSION), "at", at);
	send_event(n, b->event, b->project, o);
}

void notify_outdated(struct notify *n, const struct notify_outdated *x)
{
	char at[40];

	if (!n || !n->n_hooks)
		return;
	iso_time(x->at, at);
	send_event(n, "outdated", x->project,
	           json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "event", "outdated", "project",
	                     x->project, "base", x->base, "tag", x->tag, "newest", x->newest,
	                     "policy", x->policy, "refit", REFIT_VERSION, "at", at));
}

void notify_advisory(struct notify *n, const struct notify_advisory *x)
{
	char at[40];

	if (!n || !n->n_hooks)
		return;
	iso_time(x->at, at);
	send_event(n, "advisory", x->project,
	           json_pack("{s:s,s:s,s:s,s:I,s:{s:s,s:o,s:o,s:o,s:s,s:o},s:s,s:s}", "event",
	                     "advisory", "project", x->project, "environment", x->environment,
	                     "build_id", (json_int_t)x->build_id, "advisory", "id", x->id,
	                     "package", jstr(x->package), "installed", jstr(x->installed), "fixed",
	                     jstr(x->fixed), "state", x->state, "action", jstr(x->action), "refit",
	                     REFIT_VERSION, "at", at));
}

static void sent(const struct http_response *r, void *arg)
{
	struct delivery *d = arg;
	struct notify *n = d->n;
	char why[160];

	d->req = NULL;
	n->inflight--;
	if (r->error == 0 && r->status >= 200 && r->status < 300) {
		forget(n, d);
	} else if (r->error == 0 && r->status != 429 && r->status < 500) {
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
		drop(n, d, why); /* the receiver refuses it: sending again will not help */
	} else if (++d->attempts >= MAX_ATTEMPTS) {
		snprintf(why, sizeof(why), "%s after %u attempts",
		         r->error ? strerror(-r->error) : "no success", d->attempts);
		drop(n, d, why);
	} else {
		d->due = uv_now(n->loop) + retry_ms[d->attempts - 1];
	}
	pump(n);
}

static const struct hook *hook_of(const struct notify *n, const struct delivery *d)
{
	for (size_t i = 0; i < n->n_hooks; i++)
		if (!strcmp(n->hooks[i].id, d->hook))
			return &n->hooks[i];
	return NULL;
}

/*
 * "X-Refit-Signature: sha256=<HMAC-SHA256 of the body>" with the key in the webhook's
 * secret_file (read now: a new key applies from the next delivery; trailing newlines
 * are not part of it). 0 without a secret_file; negative when the key cannot be read.
 */
static int sign(const struct hook *h, const struct delivery *d, char *out, size_t len)
{
	char path[4096], mac[DIGEST_STR_MAX], why[96], *key = NULL;
	size_t klen = 0;
	int r;

	out[0] = '\0';
	if (!h || !h->secret_file)
		return 0;
	if (config_resolve_path(h->secret_file, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = fileread_small(path, SECRET_MAX, &key, &klen, NULL);
	if (r < 0) {
		log_warn("webhook: %s event: cannot read secret_file %s: %s", d->event, path,
		         fileread_error(r, why, sizeof(why), SECRET_MAX));
		return r;
	}
	while (klen && (key[klen - 1] == '\n' || key[klen - 1] == '\r'))
		klen--;
	r = digest_hmac_sha256(key, klen, d->body, strlen(d->body), mac);
	explicit_bzero(key, klen);
	free(key);
	if (r == 0)
		snprintf(out, len, "X-Refit-Signature: %s", mac);
	return r;
}

static int send_one(struct notify *n, struct delivery *d)
{
	char id[48], event[64], signature[128];
	const struct hook *h = hook_of(n, d);
	const char *headers[4 + MAX_HEADERS + 1] = {"Content-Type: application/json", event};
	size_t k = 2;
	struct http_request_opts o = {.method = "POST",
	                              .url = d->url,
	                              .headers = headers,
	                              .body = d->body,
	                              .body_len = strlen(d->body),
	                              .timeout_ms = TIMEOUT_MS,
	                              .max_body = 64 * 1024};
	int r;

	snprintf(event, sizeof(event), "X-Refit-Event: %s", d->event);
	/* The same on every attempt, before and after a restart: receivers can drop repeats. */
	snprintf(id, sizeof(id), "X-Refit-Delivery: %lld", (long long)d->id);
	if (d->id)
		headers[k++] = id;
	if (sign(h, d, signature, sizeof(signature)) < 0)
		return -EACCES; /* unsigned bodies would be refused, or worse, trusted */
	if (signature[0])
		headers[k++] = signature;
	for (size_t i = 0; h && h->headers && h->headers[i]; i++)
		headers[k++] = h->headers[i];
	headers[k] = NULL;
	r = http_request_start(n->http, &o, sent, d, &d->req);
	if (r == 0)
		n->inflight++;
	return r;
}

static void timer_cb(uv_timer_t *t)
{
	pump(t->data);
}

/* Starts what is due (at most PARALLEL at once) and waits for the next one due. */
static void pump(struct notify *n)
{
	uint64_t now = uv_now(n->loop), next = UINT64_MAX;
	struct delivery *d = n->queue, *after;
	int r;

	for (; d; d = after) {
		after = d->next;
		if (d->req)
			continue;
		if (d->due > now) {
			next = d->due < next ? d->due : next;
			continue;
		}
		if (n->inflight >= PARALLEL)
			break;
		r = send_one(n, d);
		if (r == -EACCES && ++d->attempts < MAX_ATTEMPTS) { /* the key may come back */
			d->due = now + retry_ms[d->attempts - 1];
			next = d->due < next ? d->due : next;
		} else if (r == -EACCES)
			drop(n, d, "its secret_file could not be read");
		else if (r < 0)
			drop(n, d, "the request could not start");
	}
	if (next != UINT64_MAX)
		uv_timer_start(&n->timer, timer_cb, next - now, 0);
}

int notify_new(uv_loop_t *loop, struct http_client *http, struct store *store, struct notify **ret)
{
	struct notify *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	r = uv_timer_init(loop, &n->timer);
	if (r < 0) {
		free(n);
		return r;
	}
	n->timer.data = n;
	n->loop = loop;
	n->http = http;
	n->store = store;
	*ret = n;
	return 0;
}

static void closed(uv_handle_t *h)
{
	free(h->data);
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	if (n->pending && n->store)
		log_info("webhook: %zu event delivery(ies) pending, kept for the next start",
		         n->pending);
	else if (n->pending)
		log_warn("webhook: %zu event delivery(ies) dropped at stop", n->pending);
	while (n->queue) {
		struct delivery *d = n->queue;
		if (d->req)
			http_request_cancel(d->req);
		n->queue = d->next;
		delivery_free(d);
	}
	n->pending = 0;
	hooks_free(n->hooks, n->n_hooks);
	n->hooks = NULL;
	n->n_hooks = 0;
	uv_close((uv_handle_t *)&n->timer, closed);
}
