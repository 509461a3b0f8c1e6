/*
 * test_tagver — tags read as versions, flavours, and the newest tag a pin
 * may move to, on the real tag sets of nine official images
 * (tests/fixtures/tags/, see ORIGIN.md there). The expected answers were
 * worked out by reading those lists (grep + sort -V by hand), not by running
 * this code. The ordering is cross-checked against the version module's
 * PEP 440 order on every pair of plain python tags. Run from the repository root.
 */
#include "tagver.h"
#include "version.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define FIXTURES "tests/fixtures/tags/"
#define MAX_TAGS 4096
#define MAX_LINE 256

struct tagset {
	char *buf[MAX_TAGS];
	const char *tags[MAX_TAGS];
	size_t n;
};

static void load(struct tagset *s, const char *name)
{
	char path[256], line[MAX_LINE];
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s.txt", name);
	f = fopen(path, "r");
	assert_non_null(f);
	s->n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		assert_true(s->n < MAX_TAGS);
		s->buf[s->n] = strdup(line);
		assert_non_null(s->buf[s->n]);
		s->tags[s->n] = s->buf[s->n];
		s->n++;
	}
	fclose(f);
	assert_true(s->n > 50);
}

static void unload(struct tagset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->buf[i]);
	s->n = 0;
}

/* pin, then the expected newer tag under patch, minor, major ("" = none, NULL = not a version). */
struct pin_case {
	const char *pin;
	const char *want[3];
};

static void check_pins(const char *repo, const struct pin_case *cases, size_t n)
{
	static struct tagset s;

	load(&s, repo);
	for (size_t i = 0; i < n; i++) {
		for (int p = 0; p < 3; p++) {
			const char *got = NULL, *want = cases[i].want[p];
			int r = tagver_newest(cases[i].pin, (enum tagver_policy)(TAGVER_PATCH + p),
			                      s.tags, s.n, &got);

			if (!want) {
				assert_int_equal(r, -EINVAL);
				continue;
			}
			if (r != (want[0] ? 1 : 0) || (r == 1 && strcmp(got, want)))
				fail_msg("%s:%s under %s: got %d %s, want %s", repo, cases[i].pin,
				         tagver_policy_name((enum tagver_policy)(TAGVER_PATCH + p)),
				         r, r == 1 ? got : "-", want[0] ? want : "none");
		}
	}
	unload(&s);
}

#define CHECK_PINS(repo, cases) check_pins(repo, cases, sizeof(cases) / sizeof(cases[0]))

static void test_python(void **state)
{
	static const struct pin_case c[] = {
	        {"3.11.4-slim", {"3.11.16-slim", "3.14.7-slim", "3.14.7-slim"}},
	        {"3.11.4", {"3.11.16", "3.14.7", "3.14.7"}},
	        {"3.12.2-alpine3.19",
	         {"3.12.6-alpine3.19", "3.12.6-alpine3.19", "3.12.6-alpine3.19"}},
	        {"3.11.10-alpine3.19", {"", "3.12.6-alpine3.19", "3.12.6-alpine3.19"}},
	        {"3.9.21-slim-bookworm",
	         {"3.9.23-slim-bookworm", "3.14.7-slim-bookworm", "3.14.7-slim-bookworm"}},
	        /* two components: the digest already follows patches; 3.15-rc-slim is a pre-release
	         */
	        {"3.14-slim", {"", "", ""}},
	        {"3.9-slim", {"", "3.14-slim", "3.14-slim"}},
	        {"2.7.16", {"2.7.17", "2.7.17", "3.14.7"}},
	        /* pre-release pins: their own pre-releases and any final */
	        {"3.14.0rc2-slim", {"3.14.7-slim", "3.14.7-slim", "3.14.7-slim"}},
	        {"3.15.0a5", {"3.15.0rc1", "3.15.0rc1", "3.15.0rc1"}},
	        {"3.13.0rc2", {"3.13.15", "3.14.7", "3.14.7"}},
	        {"3.14.7", {"", "", ""}},
	        {"latest", {NULL, NULL, NULL}},
	        {"slim-bookworm", {NULL, NULL, NULL}},
	};
	CHECK_PINS("python", c);
}

static void test_node(void **state)
{
	static const struct pin_case c[] = {
	        {"18.20.4-alpine", {"18.20.8-alpine", "18.20.8-alpine", "26.7.0-alpine"}},
	        {"20.11.1-bookworm-slim", {"", "20.20.0-bookworm-slim", "26.7.0-bookworm-slim"}},
	        {"22.5.1-alpine3.20", {"", "22.14.0-alpine3.20", "23.10.0-alpine3.20"}},
	        {"20-alpine", {"", "", "26-alpine"}},
	        {"25.6-slim", {"", "25.9-slim", "26.7-slim"}},
	        {"26.7.0", {"", "", ""}},
	        {"alpine3.20", {NULL, NULL, NULL}},
	        {"argon-slim", {NULL, NULL, NULL}},
	};
	CHECK_PINS("node", c);
}

static void test_nginx(void **state)
{
	static const struct pin_case c[] = {
	        {"1.25.3-alpine3.19", {"", "1.27.0-alpine3.19", "1.27.0-alpine3.19"}},
	        {"1.26.1-alpine3.19-perl",
	         {"", "1.27.0-alpine3.19-perl", "1.27.0-alpine3.19-perl"}},
	        {"1.29.0-alpine", {"1.29.4-alpine", "1.31.4-alpine", "1.31.4-alpine"}},
	        {"1.27.0-perl", {"", "1.31.4-perl", "1.31.4-perl"}},
	        {"1.29-alpine-slim", {"", "1.31-alpine-slim", "1.31-alpine-slim"}},
	        {"1.29.4-trixie", {"", "1.31.4-trixie", "1.31.4-trixie"}},
	        {"mainline", {NULL, NULL, NULL}},
	};
	CHECK_PINS("nginx", c);
}

static void test_alpine(void **state)
{
	static const struct pin_case c[] = {
	        /* the dated snapshots (20260805) are another flavour, never "newer" than 3.x */
	        {"3.19.1", {"3.19.7", "3.24.1", "3.24.1"}},
	        {"3.18", {"", "3.24", "3.24"}},
	        {"3", {"", "", ""}},
	        {"20230329", {"", "", "20260805"}},
	        {"3.24.1", {"", "", ""}},
	        {"edge", {NULL, NULL, NULL}},
	};
	CHECK_PINS("alpine", c);
}

static void test_postgres(void **state)
{
	static const struct pin_case c[] = {
	        {"16.3", {"", "16.15", "18.6"}},
	        {"9.6.14", {"9.6.24", "9.6.24", "9.6.24"}},
	        {"15.7-bookworm", {"", "15.19-bookworm", "18.6-bookworm"}},
	        {"16.3-alpine3.19", {"", "", ""}},
	        /* 19beta3-alpine is a pre-release: not offered to a final pin */
	        {"16-alpine", {"", "", "18-alpine"}},
	        {"19beta1-alpine", {"19beta3-alpine", "19beta3-alpine", "19beta3-alpine"}},
	};
	CHECK_PINS("postgres", c);
}

static void test_debian(void **state)
{
	static const struct pin_case c[] = {
	        {"12.8", {"", "12.15", "13.6"}},
	        {"12.8-slim", {"", "12.15-slim", "13.6-slim"}},
	        {"bookworm-20241223-slim", {"", "", "bookworm-20260803-slim"}},
	        {"sid-20241223-slim", {"", "", "sid-20260803-slim"}},
	        {"12", {"", "", "13"}},
	        {"11-slim", {"", "", "13-slim"}},
	        {"bookworm-slim", {NULL, NULL, NULL}},
	};
	CHECK_PINS("debian", c);
}

static void test_ubuntu(void **state)
{
	static const struct pin_case c[] = {
	        /* CalVer read by position: 22.10 is a "minor" step of 22.04 */
	        {"22.04", {"", "22.10", "26.10"}},
	        {"14.04.4", {"14.04.5", "14.04.5", "14.04.5"}},
	        {"jammy-20240427", {"", "", "jammy-20260810"}},
	        /* resolute-20260811.1 has two components: another flavour */
	        {"resolute-20251208", {"", "", ""}},
	        {"noble", {NULL, NULL, NULL}},
	};
	CHECK_PINS("ubuntu", c);
}

static void test_golang(void **state)
{
	static const struct pin_case c[] = {
	        {"1.21.0", {"1.21.7", "1.27.0", "1.27.0"}},
	        {"1.25.3-alpine", {"1.25.11-alpine", "1.27.0-alpine", "1.27.0-alpine"}},
	        {"1.21.7-alpine3.19", {"", "1.23.3-alpine3.19", "1.23.3-alpine3.19"}},
	        {"1.24-alpine", {"", "1.27-alpine", "1.27-alpine"}},
	        {"1.22.0-bookworm", {"1.22.9-bookworm", "1.27.0-bookworm", "1.27.0-bookworm"}},
	        {"1.26rc1", {"1.26", "1.27", "1.27"}},
	        {"1-alpine", {"", "", ""}},
	        {"tip-alpine3.21", {NULL, NULL, NULL}},
	};
	CHECK_PINS("golang", c);
}

static void test_julia(void **state)
{
	static const struct pin_case c[] = {
	        {"1.10.4", {"1.10.12", "1.12.7", "1.12.7"}},
	        {"1.11.0-beta2-bookworm",
	         {"1.11.9-bookworm", "1.12.7-bookworm", "1.12.7-bookworm"}},
	        {"1.13.0-rc1-bookworm",
	         {"1.13.0-rc3-bookworm", "1.13.0-rc3-bookworm", "1.13.0-rc3-bookworm"}},
	        {"1.6.7-alpine3.19", {"", "1.10.4-alpine3.19", "1.10.4-alpine3.19"}},
	        {"1.8", {"", "1.12", "1.12"}},
	};
	CHECK_PINS("julia", c);
}

struct parse_case {
	const char *tag;
	unsigned ncomp;
	const char *prefix, *suffix;
	enum tagver_pre pre;
	uint64_t pre_num;
};

static void test_parse(void **state)
{
	static const struct parse_case c[] = {
	        {"3.11.4-slim", 3, "", "-slim", TAGVER_FINAL, 0},
	        {"1.25.3-alpine3.19", 3, "", "-alpine3.19", TAGVER_FINAL, 0},
	        {"2024.10.1", 3, "", "", TAGVER_FINAL, 0},
	        {"v1.2", 2, "v", "", TAGVER_FINAL, 0},
	        {"3.12.0rc1-slim-bullseye", 3, "", "-slim-bullseye", TAGVER_RC, 1},
	        {"3.14.0a6", 3, "", "", TAGVER_ALPHA, 6},
	        {"3.13.0b2", 3, "", "", TAGVER_BETA, 2},
	        {"1.14beta1", 2, "", "", TAGVER_BETA, 1},
	        {"1.11.0-beta2-bookworm", 3, "", "-bookworm", TAGVER_BETA, 2},
	        {"1.17-rc-windowsservercore-1809", 2, "", "-windowsservercore-1809", TAGVER_RC, 0},
	        {"19beta3-alpine", 1, "", "-alpine", TAGVER_BETA, 3},
	        {"2.0.0-alpha", 3, "", "", TAGVER_ALPHA, 0},
	        {"1.0.0.dev3", 3, "", "", TAGVER_DEV, 3},
	        {"jammy-20240427", 1, "jammy-", "", TAGVER_FINAL, 0},
	        {"sid-20200720-slim", 1, "sid-", "-slim", TAGVER_FINAL, 0},
	        {"3.9-alpine", 2, "", "-alpine", TAGVER_FINAL, 0},
	        {"3.9-bookworm", 2, "", "-bookworm", TAGVER_FINAL, 0},
	        {"1.2.3.4.5.6", 6, "", "", TAGVER_FINAL, 0},
	};
	static const char *const bad[] = {"latest",
	                                  "bookworm",
	                                  "alpine3.19",
	                                  "",
	                                  "3.",
	                                  "3..1",
	                                  "3.11x",
	                                  "3.11-",
	                                  "-3.11",
	                                  "1.2.3.4.5.6.7",
	                                  "1234567890123456789",
	                                  "3.11rc99999999999999999999",
	                                  "v",
	                                  "ab1.2",
	                                  "3.11_slim",
	                                  "3.11.4-"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tagver t = {.ncomp = 99};

		if (tagver_parse(bad[i], &t) != -EINVAL)
			fail_msg("%s: accepted", bad[i]);
		assert_int_equal(t.ncomp, 99);
	}
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct tagver t = {.ncomp = 99};
		int r = tagver_parse(c[i].tag, &t);

		if (r != 0)
			fail_msg("%s: refused", c[i].tag);
		assert_int_equal(t.ncomp, c[i].ncomp);
		assert_int_equal(t.prefix_len, strlen(c[i].prefix));
		assert_memory_equal(t.tag, c[i].prefix, t.prefix_len);
		assert_string_equal(t.tag + t.suffix_off, c[i].suffix);
		assert_int_equal(t.pre, c[i].pre);
		assert_int_equal(t.pre_num, c[i].pre_num);
	}
	assert_int_equal(tagver_parse(NULL, &(struct tagver){0}), -EINVAL);
}

/* '<', '=', '>' of two tags of the same flavour; '!' when not comparable. */
static char order(const char *a, const char *b)
{
	struct tagver x, y;
	int c;

	if (tagver_parse(a, &x) || tagver_parse(b, &y) || !tagver_same_flavour(&x, &y))
		return '!';
	c = tagver_cmp(&x, &y);
	return c < 0 ? '<' : c > 0 ? '>' : '=';
}

static void test_order(void **state)
{
	assert_int_equal(order("3.11.9", "3.11.10"), '<');
	assert_int_equal(order("3.14.0a6", "3.14.0b1"), '<');
	assert_int_equal(order("3.14.0b9", "3.14.0rc1"), '<');
	assert_int_equal(order("3.14.0rc2", "3.14.0"), '<');
	assert_int_equal(order("3.14.0.dev1", "3.14.0a1"), '<');
	assert_int_equal(order("1.13-rc", "1.13"), '<');
	assert_int_equal(order("24.04", "24.4"), '=');
	assert_int_equal(order("v1.10", "v1.9"), '>');
	assert_int_equal(order("3.11.4-slim", "3.11.4"), '!');
	assert_int_equal(order("3.11", "3.11.4"), '!');
	assert_int_equal(order("3.21", "2025.1"), '!');
	assert_int_equal(order("3", "20250108"), '!');
	assert_int_equal(order("v1.2", "1.3"), '!');
	assert_int_equal(order("jammy-20240427", "noble-20240429"), '!');
}

static void test_policy(void **state)
{
	static const char *const tags[] = {"v1.2.3",     "v1.2.9", "v1.3.0", "v2.0.0",
	                                   "v2.1.0-rc1", "1.2.10", "v24.04", "v24.4"};
	const char *got = NULL;
	enum tagver_policy p;

	assert_int_equal(tagver_newest("v1.2.3", TAGVER_PATCH, tags, 8, &got), 1);
	assert_string_equal(got, "v1.2.9");
	assert_int_equal(tagver_newest("v1.2.3", TAGVER_MINOR, tags, 8, &got), 1);
	assert_string_equal(got, "v1.3.0");
	assert_int_equal(tagver_newest("v1.2.3", TAGVER_MAJOR, tags, 8, &got), 1);
	assert_string_equal(got, "v2.0.0");
	got = NULL;
	assert_int_equal(tagver_newest("v1.2.3", TAGVER_OFF, tags, 8, &got), 0);
	assert_null(got);
	/* equal versions spelled differently: the smaller string, whatever the order */
	assert_int_equal(tagver_newest("v22.04", TAGVER_MAJOR, tags, 8, &got), 1);
	assert_string_equal(got, "v24.04");
	assert_int_equal(tagver_newest("v22.04", TAGVER_MAJOR, tags + 6, 1, &got), 1);
	assert_string_equal(got, "v24.04");
	assert_int_equal(tagver_newest("v2.1.0-rc0", TAGVER_PATCH, tags, 8, &got), 1);
	assert_string_equal(got, "v2.1.0-rc1");
	assert_int_equal(tagver_newest("latest", TAGVER_MAJOR, tags, 8, &got), -EINVAL);
	assert_int_equal(tagver_newest("v1.2.3", TAGVER_MAJOR, NULL, 0, &got), 0);

	for (int i = TAGVER_OFF; i <= TAGVER_MAJOR; i++) {
		assert_int_equal(tagver_policy_parse(tagver_policy_name((enum tagver_policy)i), &p),
		                 0);
		assert_int_equal(p, i);
	}
	assert_null(tagver_policy_name((enum tagver_policy)9));
	assert_int_equal(tagver_policy_parse("Major", &p), -EINVAL);
	assert_int_equal(tagver_policy_parse(NULL, &p), -EINVAL);
}

/* Every pair of plain python tags (no prefix, no suffix) ordered as PEP 440 orders them. */
static void test_pep440_agrees(void **state)
{
	static struct tagset s;
	static struct tagver v[MAX_TAGS];
	size_t n = 0, pairs = 0;

	load(&s, "python");
	for (size_t i = 0; i < s.n; i++)
		if (tagver_parse(s.tags[i], &v[n]) == 0 && !v[n].prefix_len &&
		    !v[n].tag[v[n].suffix_off])
			n++;
	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int pep = 9, ours;

			if (!tagver_same_flavour(&v[i], &v[j]))
				continue;
			assert_int_equal(version_cmp(VERSION_PYPI, v[i].tag, v[j].tag, &pep), 0);
			ours = tagver_cmp(&v[i], &v[j]);
			if (ours != pep)
				fail_msg("%s vs %s: ours %d, PEP 440 %d", v[i].tag, v[j].tag, ours,
				         pep);
			pairs++;
		}
	}
	print_message("tagver: %zu python tag pairs agree with PEP 440\n", pairs);
	unload(&s);
}

/* Every tag of every set parses or is refused without touching the output; no crash. */
static void test_all_sets(void **state)
{
	static const char *const repos[] = {"python", "node",   "nginx",  "alpine", "postgres",
	                                    "debian", "ubuntu", "golang", "julia"};
	static struct tagset s;

	for (size_t r = 0; r < sizeof(repos) / sizeof(repos[0]); r++) {
		size_t ok = 0;

		load(&s, repos[r]);
		for (size_t i = 0; i < s.n; i++) {
			struct tagver t;

			if (tagver_parse(s.tags[i], &t) == 0) {
				assert_true(t.ncomp >= 1);
				assert_true(t.suffix_off <= strlen(s.tags[i]));
				ok++;
			}
		}
		print_message("tagver: %s: %zu of %zu tags are versions\n", repos[r], ok, s.n);
		assert_true(ok > 0);
		unload(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),         cmocka_unit_test(test_order),
	        cmocka_unit_test(test_policy),        cmocka_unit_test(test_python),
	        cmocka_unit_test(test_node),          cmocka_unit_test(test_nginx),
	        cmocka_unit_test(test_alpine),        cmocka_unit_test(test_postgres),
	        cmocka_unit_test(test_debian),        cmocka_unit_test(test_ubuntu),
	        cmocka_unit_test(test_golang),        cmocka_unit_test(test_julia),
	        cmocka_unit_test(test_pep440_agrees), cmocka_unit_test(test_all_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
