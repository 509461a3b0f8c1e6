/*
 * libFuzzer target: the streaming Debian tracker parser. The first byte is
 * the piece size (1-256); the rest is pushed in pieces of that size, then
 * whole into a second parser. Both must agree on everything: return value,
 * error message, rows (count and a hash of their text) and counts. The
 * entry bound is lowered so that inputs can cross it (the osvdev excerpt in
 * the seed corpus has entries of up to 1.4 KB, the others stay under 1 KB).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed_debian.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEMBER_MAX 1024

struct seen {
	int n;
	uint64_t hash;
};

static void mix(uint64_t *h, const char *s)
{
	for (; s && *s; s++)
		*h = (*h ^ (unsigned char)*s) * 1099511628211u;
	*h = (*h ^ 0xff) * 1099511628211u;
}

static int on_row(const struct feed_row *row, void *arg)
{
	struct seen *s = arg;
	char *aff = json_dumps(row->affected, JSON_COMPACT | JSON_SORT_KEYS);

	if (!aff || strncmp(row->ecosystem, "Debian:", 7) || !*row->id || !*row->package ||
	    (row->summary && strlen(row->summary) > FEED_DEBIAN_SUMMARY_MAX))
		abort();
	mix(&s->hash, row->ecosystem);
	mix(&s->hash, row->package);
	mix(&s->hash, row->id);
	mix(&s->hash, row->summary);
	mix(&s->hash, aff);
	free(aff);
	s->n++;
	return 0;
}

/* Pushes data in pieces of step bytes (0 = all at once); finish()'s value. */
static int run(const uint8_t *data, size_t size, size_t step, struct seen *s,
               struct feed_debian_stats *st, char *err, size_t errlen)
{
	struct feed_debian *f = feed_debian_new(on_row, s);
	int r = 0, ret;

	if (!f)
		abort();
	feed_debian_set_member_max(f, MEMBER_MAX);
	for (size_t off = 0; off < size && r == 0;) {
		size_t k = step && step < size - off ? step : size - off;

		r = feed_debian_push(f, (const char *)data + off, k);
		off += k;
	}
	ret = feed_debian_finish(f, err, errlen);
	if (r && ret != r) /* a failed push and finish() tell the same error */
		abort();
	feed_debian_stats(f, st);
	feed_debian_free(f);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a = {0, 14695981039346656037u}, b = {0, 14695981039346656037u};
	struct feed_debian_stats sa, sb;
	char ea[256] = "", eb[256] = "";
	int ra, rb;

	if (size < 1)
		return 0;
	ra = run(data + 1, size - 1, (size_t)data[0] + 1, &a, &sa, ea, sizeof(ea));
	rb = run(data + 1, size - 1, 0, &b, &sb, eb, sizeof(eb));
	if (ra != rb || a.n != b.n || a.hash != b.hash || strcmp(ea, eb) ||
	    memcmp(&sa, &sb, sizeof(sa)))
		abort();
	if (ra >= 0 && (ra != a.n || sa.rows != (size_t)a.n))
		abort();
	if (ra < 0 && !ea[0])
		abort();
	return 0;
}
