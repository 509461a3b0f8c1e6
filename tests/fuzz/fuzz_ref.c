/*
 * fuzz_ref — libFuzzer target for the image reference parser.
 *
 * Beyond not crashing, every accepted reference must print forms (full,
 * familiar, name, with default tag) that parse back to the same reference,
 * and every refusal must carry a reason.
 */
#include "ref.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_INPUT_MAX 2048

typedef int (*parse_fn)(const char *s, struct image_ref *ret, const char **ret_err);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool same(const struct image_ref *a, const struct image_ref *b)
{
	return !strcmp(a->domain, b->domain) && !strcmp(a->path, b->path) &&
	       !strcmp(a->tag, b->tag) && !strcmp(a->digest, b->digest);
}

/* Parses the printed form back with the given parser and compares. */
static void round_trip(const struct image_ref *r, parse_fn parse,
                       int (*print)(const struct image_ref *, char *, size_t))
{
	char buf[REF_STRING_MAX];
	const char *err = NULL;
	struct image_ref back;
	int n = print(r, buf, sizeof(buf));

	check(n >= 0 && (size_t)n == strlen(buf));
	check(print(r, buf, (size_t)n) == -ENOSPC);
	check(print(r, buf, sizeof(buf)) == n);
	check(parse(buf, &back, &err) == 0);
	check(same(r, &back));
}

static void check_normalised(struct image_ref *r, const char *s)
{
	char name[REF_STRING_MAX];
	const char *err = NULL;
	struct image_ref back;

	check(r->domain[0] && r->path[0]);
	round_trip(r, ref_parse, ref_string);
	round_trip(r, ref_parse, ref_familiar);
	check(ref_name(r, name, sizeof(name)) > 0);
	check(ref_parse(name, &back, &err) == 0);
	check(!strcmp(back.domain, r->domain) && !strcmp(back.path, r->path));
	if (ref_with_tag(r, s) == 0)
		round_trip(r, ref_parse, ref_string);
	if (ref_with_digest(r, s) == 0)
		round_trip(r, ref_parse, ref_string);
	ref_tag_name_only(r);
	check(r->tag[0] || r->digest[0]);
	round_trip(r, ref_parse, ref_familiar);
	ref_docker_form(r);
	check(!r->tag[0] != !r->digest[0]);
	round_trip(r, ref_parse, ref_string);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_INPUT_MAX + 1];
	const char *err = NULL;
	struct image_ref r;

	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	memcpy(s, data, size);
	s[size] = '\0';

	if (ref_parse(s, &r, &err) == 0)
		check_normalised(&r, s);
	else
		check(err && *err);
	err = NULL;
	if (ref_parse_raw(s, &r, &err) == 0)
		round_trip(&r, ref_parse_raw, ref_string);
	else
		check(err && *err);
	err = NULL;
	if (ref_parse_any(s, &r, &err) == 0)
		round_trip(&r, ref_parse_any, ref_string);
	else
		check(err && *err);
	return 0;
}
