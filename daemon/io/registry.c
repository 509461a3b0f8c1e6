/*
 * registry — operations: one struct reg_op per lookup, a small state machine
 * (credentials -> HEAD -> maybe GET index -> done) with one authentication
 * retry. Ops wait in a FIFO when max_active requests are in flight.
 */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "challenge.h"
#include "digest.h"
#include "http_client.h"
#include "log.h"
#include "ref.h"
#include "registry_impl.h"

const char *registry_api_host(const char *domain)
{
	if (!strcmp(domain, "docker.io") || !strcmp(domain, "index.docker.io"))
		return "registry-1.docker.io";
	return domain;
}

static bool is_loopback(const char *host)
{
	size_t n = strcspn(host, ":");

	if (host[0] == '[')
		return !strncmp(host, "[::1]", 5);
	return (n == 9 && !strncmp(host, "localhost", 9)) || !strncmp(host, "127.", 4);
}

bool registry_plain_http(const struct registry_pool *p, const char *host)
{
	if (is_loopback(host))
		return true;
	for (size_t i = 0; p->insecure && p->insecure[i]; i++)
		if (!strcmp(p->insecure[i], host))
			return true;
	return false;
}

static struct reg_host *host_get(struct registry_pool *p, const char *domain)
{
	struct reg_host *h;

	for (h = p->hosts; h; h = h->next)
		if (!strcmp(h->host, domain))
			return h;
	h = calloc(1, sizeof(*h));
	if (!h || !(h->host = strdup(domain)) ||
	    asprintf(&h->base_url, "%s://%s", registry_plain_http(p, domain) ? "http" : "https",
	             registry_api_host(domain)) < 0) {
		if (h)
			h->base_url = NULL;
		reg_host_free(h);
		return NULL;
	}
	h->next = p->hosts;
	p->hosts = h;
	return h;
}

static void kick_cb(uv_timer_t *t)
{
	reg_pump(t->data);
}

int registry_pool_new(uv_loop_t *loop, struct http_client *http, struct creds *creds,
                      const struct registry_opts *o, struct registry_pool **ret)
{
	struct registry_pool *p = calloc(1, sizeof(*p));
	size_t n = 0;

	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->http = http;
	uv_timer_init(loop, &p->kick);
	p->kick.data = p;
	p->creds = creds;
	p->max_active = o && o->max_active ? o->max_active : 8;
	p->timeout_ms = o && o->timeout_ms ? o->timeout_ms : 30000;
	while (o && o->insecure_hosts && o->insecure_hosts[n])
		n++;
	p->insecure = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; p->insecure && i < n; i++)
		if (!(p->insecure[i] = strdup(o->insecure_hosts[i])))
			n = 0;
	if (!p->insecure || (n && !p->insecure[n - 1])) {
		registry_pool_free(p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

static void op_free(struct reg_op *op)
{
	reg_tags_done(op);
	creds_entry_done(&op->creds);
	reg_raw_free(op->raw);
	free(op);
}

void reg_op_free(struct reg_op *op)
{
	op_free(op);
}

static void unlink_running(struct reg_op *op)
{
	struct registry_pool *p = op->p;

	if (op->prev)
		op->prev->next = op->next;
	else
		p->running = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->next = op->prev = NULL;
	p->active--;
}

void reg_op_finish(struct reg_op *op, int status)
{
	struct registry_pool *p = op->p;
	struct registry_result r = {0};

	unlink_running(op);
	if (op->raw) {
		reg_raw_deliver(op, status);
		op_free(op);
		reg_pump(p);
		return;
	}
	if (status == 0) {
		r.digest = op->digest;
		r.index_digest = op->index_digest[0] ? op->index_digest : NULL;
		r.media_type = op->media_type;
		r.index_unchanged =
		        op->known_index[0] && !strcmp(op->known_index, op->index_digest);
	} else {
		r.error = op->error[0] ? op->error : strerror(-status);
	}
	if (op->tags && status == 0) {
		r.tags = (const char *const *)op->list.tags;
		r.n_tags = op->list.n;
		r.etag = op->etag[0] ? op->etag : NULL;
		r.not_modified = op->not_modified;
	}
	r.pages = op->pages;
	op->cb(status, &r, op->arg);
	op_free(op);
	reg_pump(p);
}

void reg_op_fail(struct reg_op *op, int status, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(op->error, sizeof(op->error), "%s: ", op->h ? op->h->host : "registry");

	va_start(ap, fmt);
	vsnprintf(op->error + n, sizeof(op->error) - (size_t)n, fmt, ap);
	va_end(ap);
	reg_op_finish(op, status);
}

static void pool_closed(uv_handle_t *h)
{
	free(h->data);
}

void registry_pool_stats(const struct registry_pool *p, registry_stats_cb cb, void *arg)
{
	for (const struct reg_host *h = p ? p->hosts : NULL; h; h = h->next)
		cb(h->host, h->counts, h->n_counts, h->rl_limit ? h->rl_remaining : -1,
		   h->rl_limit ? h->rl_limit : -1, arg);
}

void registry_pool_forget_tokens(struct registry_pool *p)
{
	for (struct reg_host *h = p ? p->hosts : NULL; h; h = h->next)
		while (h->tokens)
			reg_host_token_drop(h, h->tokens->scope);
}

void registry_pool_free(struct registry_pool *p)
{
	if (!p)
		return;
	while (p->running) {
		struct reg_op *op = p->running;
		p->running = op->next;
		reg_op_abort(op);
		op_free(op);
	}
	while (p->queue) {
		struct reg_op *op = p->queue;
		p->queue = op->next;
		op_free(op);
	}
	while (p->hosts) {
		struct reg_host *h = p->hosts;
		p->hosts = h->next;
		reg_host_free(h);
	}
	for (size_t i = 0; p->insecure && p->insecure[i]; i++)
		free(p->insecure[i]);
	free(p->insecure);
	uv_close((uv_handle_t *)&p->kick, pool_closed);
}

static bool op_matches(const struct reg_op *op, registry_cb cb, registry_request_cb rcb, void *arg)
{
	if (op->arg != arg)
		return false;
	return op->raw ? rcb && op->raw->cb == rcb : cb && op->cb == cb;
}

static void cancel_matching(struct registry_pool *p, registry_cb cb, registry_request_cb rcb,
                            void *arg)
{
	struct reg_op **pp = &p->queue, *op, *next;

	while ((op = *pp)) {
		if (op_matches(op, cb, rcb, arg)) {
			*pp = op->next;
			if (p->queue_tail == op)
				p->queue_tail = NULL;
			op_free(op);
		} else {
			pp = &op->next;
		}
	}
	for (p->queue_tail = p->queue; p->queue_tail && p->queue_tail->next;)
		p->queue_tail = p->queue_tail->next;
	for (op = p->running; op; op = next) {
		next = op->next;
		if (op_matches(op, cb, rcb, arg)) {
			reg_op_abort(op);
			unlink_running(op);
			op_free(op);
		}
	}
}

void registry_cancel(struct registry_pool *p, registry_cb cb, void *arg)
{
	cancel_matching(p, cb, NULL, arg);
}

void registry_request_cancel(struct registry_pool *p, registry_request_cb cb, void *arg)
{
	cancel_matching(p, NULL, cb, arg);
}

void reg_pump(struct registry_pool *p)
{
	while (p->queue && p->active < p->max_active) {
		struct reg_op *op = p->queue;

		p->queue = op->next;
		if (!p->queue)
			p->queue_tail = NULL;
		op->next = p->running;
		op->prev = NULL;
		if (p->running)
			p->running->prev = op;
		p->running = op;
		p->active++;
		reg_op_start(op);
	}
}

int reg_enqueue(struct registry_pool *p, struct reg_op *op, const char *domain)
{
	op->p = p;
	op->h = host_get(p, domain);
	if (!op->h) {
		op_free(op);
		return -ENOMEM;
	}
	if (p->queue_tail)
		p->queue_tail->next = op;
	else
		p->queue = op;
	p->queue_tail = op;
	/* Started from the loop, never from inside the caller. */
	uv_timer_start(&p->kick, kick_cb, 0, 0);
	return 0;
}

static int copy_field(char *dst, size_t len, const char *src)
{
	if (!src)
		src = "";
	if (strlen(src) >= len)
		return -EINVAL;
	strcpy(dst, src);
	return 0;
}

int registry_digest(struct registry_pool *p, const struct registry_lookup *l, registry_cb cb,
                    void *arg)
{
	const struct image_ref *ref = l->ref;
	struct reg_op *op = calloc(1, sizeof(*op));

	if (!op)
		return -ENOMEM;
	op->cb = cb;
	op->arg = arg;
	if (copy_field(op->name, sizeof(op->name), ref->path) < 0 ||
	    copy_field(op->reference, sizeof(op->reference),
	               ref->digest[0] ? ref->digest
	               : ref->tag[0]  ? ref->tag
	                              : "latest") < 0 ||
	    copy_field(op->platform, sizeof(op->platform), l->platform) < 0 ||
	    copy_field(op->known_index, sizeof(op->known_index), l->known_index) < 0 ||
	    copy_field(op->known_digest, sizeof(op->known_digest), l->known_digest) < 0 ||
	    !ref->path[0] || !ref->domain[0]) {
		op_free(op);
		return -EINVAL;
	}
	snprintf(op->scope, sizeof(op->scope), "repository:%s:pull", op->name);
	return reg_enqueue(p, op, ref->domain);
}

int registry_tags(struct registry_pool *p, const struct registry_tags_req *q, registry_cb cb,
                  void *arg)
{
	struct reg_op *op = calloc(1, sizeof(*op));

	if (!op)
		return -ENOMEM;
	op->cb = cb;
	op->arg = arg;
	op->tags = true;
	op->page_size = q->page_size ? q->page_size : 1000;
	strcpy(op->reference, "tags/list"); /* for messages */
	if (copy_field(op->name, sizeof(op->name), q->ref->path) < 0 ||
	    copy_field(op->known_etag, sizeof(op->known_etag), q->known_etag) < 0 ||
	    !q->ref->path[0] || !q->ref->domain[0]) {
		op_free(op);
		return -EINVAL;
	}
	snprintf(op->scope, sizeof(op->scope), "repository:%s:pull", op->name);
	return reg_enqueue(p, op, q->ref->domain);
}

int registry_ping(struct registry_pool *p, const char *host, registry_cb cb, void *arg)
{
	struct reg_op *op = calloc(1, sizeof(*op));

	if (!op)
		return -ENOMEM;
	op->cb = cb;
	op->arg = arg;
	op->ping = true;
	return reg_enqueue(p, op, host);
}
