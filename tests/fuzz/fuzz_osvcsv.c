/*
 * fuzz_osvcsv — libFuzzer target for the modified_id.csv reader and the
 * RFC 3339 parser (feed input from the network).
 *
 * The first line up to its comma is the watermark, the rest is the file.
 * Every line handed to the callback must be strictly newer than the
 * watermark and no newer than the line before it, its id free of commas;
 * the walk with a watermark may only stop earlier than the one without.
 */
#include "osv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

struct walk {
	const char *since;
	char prev[OSV_TIME_MAX];
	size_t n;
};

static int line_cb(const char *when, const char *id, void *arg)
{
	struct walk *w = arg;
	int c = 0;

	check(strlen(when) < OSV_TIME_MAX && *id && !strchr(id, ',') && !strchr(id, '\n'));
	if (w->since)
		check(osv_time_cmp(when, w->since, &c) == 0 && c > 0);
	if (w->n)
		check(osv_time_cmp(when, w->prev, &c) == 0 && c <= 0);
	memcpy(w->prev, when, strlen(when) + 1);
	w->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nl = memchr(text, '\n', size);
	size_t first = nl ? (size_t)(nl - text) : size, rest = nl ? size - first - 1 : 0;
	size_t sl = memchr(text, ',', first) ? (size_t)((char *)memchr(text, ',', first) - text)
	                                     : first;
	struct walk all = {0}, since = {0};
	char watermark[64], err[256];
	int64_t sec;
	int32_t ns;
	int r, s;

	if (sl >= sizeof(watermark))
		sl = sizeof(watermark) - 1;
	memcpy(watermark, text, sl);
	watermark[sl] = '\0';
	r = osv_modified_each(nl ? nl + 1 : text + size, rest, NULL, line_cb, &all, err,
	                      sizeof(err));
	check(r == -EINVAL || r == -E2BIG || (r >= 0 && (size_t)r == all.n));
	if (osv_time_parse(watermark, &sec, &ns) < 0)
		return 0;
	check(ns >= 0 && ns < 1000000000);
	since.since = watermark;
	s = osv_modified_each(nl ? nl + 1 : text + size, rest, watermark, line_cb, &since, err,
	                      sizeof(err));
	/* Stopping at the watermark reads a prefix of what the full walk read. */
	check(since.n <= all.n || r < 0);
	if (r >= 0)
		check(s >= 0 && (size_t)s == since.n);
	return 0;
}
