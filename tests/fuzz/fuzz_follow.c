/*
 * fuzz_follow — libFuzzer target for follow's template reading (a FROM's
 * image as written in a Dockerfile) and value derivation.
 *
 * The input is lines: the FROM image as written, its tag after substitution,
 * then candidate newer tags. Beyond not crashing: a template read is
 * consistent (prefix + value + suffix is the tag), and a value derived for a
 * candidate rebuilds exactly that candidate.
 */
#include "follow.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_INPUT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[FUZZ_INPUT_MAX + 1], why[256], v[TAGVER_MAX_LEN + 1], tag[3 * TAGVER_MAX_LEN + 4];
	char *lines[16], *save = NULL;
	struct follow_tpl t;
	size_t n = 0;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *l = strtok_r(buf, "\n", &save); l && n < 16; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	if (n < 2 || follow_template(lines[0], lines[1], &t, why, sizeof(why)) < 0)
		return 0;
	check(follow_tag(&t, t.value, tag, sizeof(tag)) == 0 && !strcmp(tag, lines[1]));
	for (size_t i = 2; i < n; i++) {
		if (follow_derive(&t, lines[i], v, sizeof(v)) < 0)
			continue;
		check(follow_tag(&t, v, tag, sizeof(tag)) == 0 && !strcmp(tag, lines[i]));
	}
	return 0;
}
