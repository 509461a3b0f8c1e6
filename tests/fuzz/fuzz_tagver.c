/*
 * fuzz_tagver — libFuzzer target for the tag-as-version parser and the
 * newest-tag choice.
 *
 * The input is lines: the first is the pin, the rest are a repository's tags.
 * Beyond not crashing: what parses keeps its fields inside the tag, the order
 * is antisymmetric, flavours are symmetric, and the tag chosen under each
 * policy is a candidate that no other candidate beats.
 */
#include "tagver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_INPUT_MAX 4096
#define MAX_TAGS       64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_parsed(const char *s)
{
	struct tagver t;

	if (tagver_parse(s, &t) < 0)
		return;
	check(t.tag == s && t.ncomp >= 1 && t.ncomp <= TAGVER_MAX_COMPONENTS);
	check(t.prefix_len < t.suffix_off && t.suffix_off <= strlen(s));
	check(!s[t.suffix_off] || s[t.suffix_off] == '-');
	check(t.pre <= TAGVER_FINAL && tagver_cmp(&t, &t) == 0 && tagver_same_flavour(&t, &t));
}

static void check_pair(const char *a, const char *b)
{
	struct tagver x, y;

	if (tagver_parse(a, &x) < 0 || tagver_parse(b, &y) < 0)
		return;
	check(tagver_cmp(&x, &y) == -tagver_cmp(&y, &x));
	check(tagver_same_flavour(&x, &y) == tagver_same_flavour(&y, &x));
	for (int p = TAGVER_OFF; p <= TAGVER_MAJOR; p++)
		if (tagver_candidate(&x, &y, (enum tagver_policy)p))
			check(tagver_cmp(&y, &x) > 0 && tagver_same_flavour(&x, &y));
}

static void check_newest(const char *pin, const char *const *tags, size_t n)
{
	struct tagver p, best, t;

	for (int pol = TAGVER_OFF; pol <= TAGVER_MAJOR; pol++) {
		const char *got = NULL;
		int r = tagver_newest(pin, (enum tagver_policy)pol, tags, n, &got);

		check(r == -EINVAL || r == 0 || r == 1);
		check((r == 1) == (got != NULL));
		if (r != 1)
			continue;
		check(tagver_parse(pin, &p) == 0 && tagver_parse(got, &best) == 0);
		check(tagver_candidate(&p, &best, (enum tagver_policy)pol));
		for (size_t i = 0; i < n; i++)
			if (tagver_parse(tags[i], &t) == 0 &&
			    tagver_candidate(&p, &t, (enum tagver_policy)pol))
				check(tagver_cmp(&t, &best) <= 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_INPUT_MAX + 1], *save = NULL, *line;
	const char *tags[MAX_TAGS];
	size_t n = 0;

	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	memcpy(s, data, size);
	s[size] = '\0';
	for (line = strtok_r(s, "\n", &save); line && n < MAX_TAGS;
	     line = strtok_r(NULL, "\n", &save))
		tags[n++] = line;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		check_parsed(tags[i]);
		check_pair(tags[0], tags[i]);
		if (i > 0)
			check_pair(tags[i - 1], tags[i]);
	}
	check_newest(tags[0], tags + 1, n - 1);
	return 0;
}
