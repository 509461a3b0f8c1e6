#include "registry_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define BACKOFF_MIN_MS 2000
#define BACKOFF_MAX_MS (10 * 60 * 1000)
#define TOKEN_SKEW_MS  10000 /* renew this long before a token expires */

static void block(struct reg_host *h, uint64_t until, const char *why)
{
	if (until > h->blocked_until) {
		h->blocked_until = until;
		snprintf(h->blocked_why, sizeof(h->blocked_why), "%s", why);
	}
}

void reg_host_failed(struct reg_host *h, uint64_t now, const char *why)
{
	uint64_t jitter;

	h->backoff_ms = h->backoff_ms ? h->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (h->backoff_ms > BACKOFF_MAX_MS)
		h->backoff_ms = BACKOFF_MAX_MS;
	/* +-20 %: registries that failed together do not retry in lockstep. */
	jitter = h->backoff_ms / 5;
	block(h, now + h->backoff_ms - jitter + (uint64_t)rand() % (2 * jitter + 1), why);
	log_warn("registry %s: %s; backing off %llu s", h->host, why,
	         (unsigned long long)(h->backoff_ms / 1000));
}

void reg_host_count(struct reg_host *h, long status)
{
	size_t i = 0;

	while (i < h->n_counts && h->counts[i].status != status)
		i++;
	if (i == h->n_counts) {
		if (h->n_counts == REG_STATUS_SLOTS)
			return; /* an odd registry answering with many statuses: the rest go
			           uncounted */
		h->counts[h->n_counts++] = (struct registry_status_count){status, 0};
	}
	h->counts[i].requests++;
}

void reg_host_ok(struct reg_host *h)
{
	if (h->backoff_ms)
		log_info("registry %s: answering again", h->host);
	h->backoff_ms = 0;
}

/* Retry-After is delta-seconds or an IMF-fixdate (RFC 9110 10.2.3). */
static long retry_after_seconds(const char *v)
{
	struct tm tm = {0};
	char *end;
	long s;

	if (!v || !*v)
		return 60;
	s = strtol(v, &end, 10);
	if (end != v && !*end)
		return s < 1 ? 1 : s > 86400 ? 86400 : s;
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
		s = (long)(timegm(&tm) - time(NULL));
		return s < 1 ? 1 : s > 86400 ? 86400 : s;
	}
	return 60;
}

void reg_host_retry_after(struct reg_host *h, uint64_t now, const char *value)
{
	long s = retry_after_seconds(value);

	block(h, now + (uint64_t)s * 1000, "429 Too Many Requests");
	log_warn("registry %s: 429 Too Many Requests; pausing %ld s as asked", h->host, s);
}

int registry_parse_ratelimit(const char *v, long *ret_count, long *ret_window)
{
	char *end;
	long n, w = 0;
	const char *ws;

	if (!v)
		return -EINVAL;
	n = strtol(v, &end, 10);
	if (end == v || n < 0)
		return -EINVAL;
	ws = strstr(end, "w=");
	if (ws)
		w = strtol(ws + 2, NULL, 10);
	*ret_count = n;
	*ret_window = w > 0 ? w : 21600;
	return 0;
}

void reg_host_ratelimit(struct reg_host *h, uint64_t now, const char *remaining, const char *limit)
{
	long rem, lim, w;
	long reserve;

	if (registry_parse_ratelimit(remaining, &rem, &w) < 0)
		return;
	if (registry_parse_ratelimit(limit, &lim, &w) < 0)
		lim = rem;
	h->rl_remaining = rem;
	h->rl_limit = lim;
	h->rl_window = w;
	/* Keep a tenth of the quota (at least 2) for builds: spread the rest
	 * of the window's requests evenly instead of spending it now. */
	reserve = lim / 10 > 2 ? lim / 10 : 2;
	if (rem <= reserve) {
		uint64_t pause = (uint64_t)w * 1000 / (uint64_t)(rem + 1);
		block(h, now + pause, "rate limit nearly spent");
		log_warn("registry %s: %ld of %ld requests left in the window; slowing down "
		         "(next in %llu s)",
		         h->host, rem, lim, (unsigned long long)(pause / 1000));
	}
}

const char *reg_host_token(struct reg_host *h, const char *scope, uint64_t now)
{
	for (struct reg_token *t = h->tokens; t; t = t->next)
		if (!strcmp(t->scope, scope) && now + TOKEN_SKEW_MS < t->expires_ms)
			return t->token;
	return NULL;
}

static void token_free(struct reg_token *t)
{
	if (!t)
		return;
	if (t->token)
		explicit_bzero(t->token, strlen(t->token));
	free(t->token);
	free(t->scope);
	free(t);
}

void reg_host_token_drop(struct reg_host *h, const char *scope)
{
	for (struct reg_token **pp = &h->tokens; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->scope, scope)) {
			struct reg_token *t = *pp;
			*pp = t->next;
			token_free(t);
			return;
		}
	}
}

int reg_host_token_put(struct reg_host *h, const char *scope, const char *token, long expires_in,
                       uint64_t now)
{
	struct reg_token *t = calloc(1, sizeof(*t));

	if (!t || !(t->scope = strdup(scope)) || !(t->token = strdup(token))) {
		token_free(t);
		return -ENOMEM;
	}
	reg_host_token_drop(h, scope);
	t->expires_ms = now + (uint64_t)(expires_in < 60 ? 60 : expires_in) * 1000;
	t->next = h->tokens;
	h->tokens = t;
	return 0;
}

void reg_host_free(struct reg_host *h)
{
	if (!h)
		return;
	while (h->tokens) {
		struct reg_token *t = h->tokens;
		h->tokens = t->next;
		token_free(t);
	}
	free(h->host);
	free(h->base_url);
	free(h);
}
