/*
 * tagver — image tags read as versions (see tagver.h for the grammar and
 * the rules; the parser is strict: anything it does not read as a version
 * is not one, so `latest` or `alpine3.19` never count as newer).
 */
#include "tagver.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Enough digits for any version number; more would overflow uint64_t. */
#define MAX_DIGITS 18

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The prefix before the first digit: "", "v", "V" or letters-and-dashes ending in '-'. */
static int parse_prefix(const char *s, size_t *ret_len)
{
	size_t i = 0;

	while (is_alpha(s[i]) || (i > 0 && s[i] == '-'))
		i++;
	if (!is_digit(s[i]))
		return -EINVAL;
	if (i > 0 && s[i - 1] != '-' && !(i == 1 && (s[0] == 'v' || s[0] == 'V')))
		return -EINVAL;
	*ret_len = i;
	return 0;
}

/* Reads up to MAX_DIGITS digits at s; returns how many (0: none, or too many). */
static size_t parse_number(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	while (is_digit(s[i])) {
		if (i == MAX_DIGITS)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	*ret = v;
	return i;
}

/* Components N(.N)* at s; returns the bytes read or -EINVAL. */
static int parse_components(const char *s, struct tagver *t)
{
	size_t i = 0;

	t->ncomp = 0;
	for (;;) {
		size_t n;

		if (t->ncomp == TAGVER_MAX_COMPONENTS)
			return -EINVAL;
		n = parse_number(s + i, &t->comp[t->ncomp]);
		if (n == 0)
			return -EINVAL;
		if (t->ncomp == 0)
			t->width = n < 3 ? 3 : (unsigned)n;
		t->ncomp++;
		i += n;
		if (s[i] != '.' || !is_digit(s[i + 1]))
			return (int)i;
		i++;
	}
}

static const struct {
	const char *word;
	enum tagver_pre kind;
} pre_words[] = {
        /* longer words first: "alpha" before "a" */
        {"alpha", TAGVER_ALPHA}, {"a", TAGVER_ALPHA}, {"beta", TAGVER_BETA}, {"b", TAGVER_BETA},
        {"preview", TAGVER_RC},  {"pre", TAGVER_RC},  {"rc", TAGVER_RC},     {"dev", TAGVER_DEV},
};

/*
 * A pre-release at s ([-.]word[N] followed by the end or '-'); returns the
 * bytes read, 0 when there is none.
 */
static size_t parse_pre(const char *s, struct tagver *t)
{
	size_t sep = (s[0] == '-' || s[0] == '.') ? 1 : 0;

	for (size_t w = 0; w < sizeof(pre_words) / sizeof(pre_words[0]); w++) {
		size_t len = strlen(pre_words[w].word), n;
		uint64_t num = 0;

		if (strncasecmp(s + sep, pre_words[w].word, len))
			continue;
		n = is_digit(s[sep + len]) ? parse_number(s + sep + len, &num) : 0;
		if (is_digit(s[sep + len]) && n == 0)
			return 0;
		if (s[sep + len + n] != '\0' && s[sep + len + n] != '-')
			continue;
		t->pre = pre_words[w].kind;
		t->pre_num = num;
		return sep + len + n;
	}
	return 0;
}

int tagver_parse(const char *tag, struct tagver *ret)
{
	struct tagver t = {.tag = tag, .pre = TAGVER_FINAL};
	size_t len, i;
	int n;

	if (!tag || (len = strnlen(tag, TAGVER_MAX_LEN + 1)) > TAGVER_MAX_LEN)
		return -EINVAL;
	if (parse_prefix(tag, &t.prefix_len) < 0)
		return -EINVAL;
	i = t.prefix_len;
	n = parse_components(tag + i, &t);
	if (n < 0)
		return -EINVAL;
	i += (size_t)n;
	i += parse_pre(tag + i, &t);
	if (tag[i] != '\0' && (tag[i] != '-' || tag[i + 1] == '\0'))
		return -EINVAL;
	t.suffix_off = i;
	*ret = t;
	return 0;
}

bool tagver_same_flavour(const struct tagver *a, const struct tagver *b)
{
	return a->ncomp == b->ncomp && a->width == b->width && a->prefix_len == b->prefix_len &&
	       !memcmp(a->tag, b->tag, a->prefix_len) &&
	       !strcmp(a->tag + a->suffix_off, b->tag + b->suffix_off);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Compares the first n components. */
static int cmp_comps(const struct tagver *a, const struct tagver *b, unsigned n)
{
	for (unsigned i = 0; i < n && i < a->ncomp && i < b->ncomp; i++) {
		int c = cmp_u64(a->comp[i], b->comp[i]);

		if (c)
			return c;
	}
	return 0;
}

int tagver_cmp(const struct tagver *a, const struct tagver *b)
{
	int c = cmp_comps(a, b, TAGVER_MAX_COMPONENTS);

	if (c)
		return c;
	c = cmp_u64(a->ncomp, b->ncomp);
	if (c)
		return c;
	c = cmp_u64(a->pre, b->pre);
	return c ? c : cmp_u64(a->pre_num, b->pre_num);
}

static unsigned fixed_components(enum tagver_policy p)
{
	return p == TAGVER_PATCH ? 2 : p == TAGVER_MINOR ? 1 : 0;
}

bool tagver_candidate(const struct tagver *pin, const struct tagver *cand,
                      enum tagver_policy policy)
{
	if (policy == TAGVER_OFF || policy > TAGVER_MAJOR || !tagver_same_flavour(pin, cand))
		return false;
	if (tagver_cmp(cand, pin) <= 0)
		return false;
	if (cmp_comps(pin, cand, fixed_components(policy)))
		return false;
	if (cand->pre != TAGVER_FINAL)
		return pin->pre != TAGVER_FINAL && !cmp_comps(pin, cand, TAGVER_MAX_COMPONENTS);
	return true;
}

int tagver_newest(const char *pin, enum tagver_policy policy, const char *const *tags, size_t n,
                  const char **ret_newest)
{
	struct tagver p, best = {0}, t;
	bool found = false;

	if (tagver_parse(pin, &p) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int c;

		if (tagver_parse(tags[i], &t) < 0 || !tagver_candidate(&p, &t, policy))
			continue;
		c = found ? tagver_cmp(&t, &best) : 1;
		if (c > 0 || (c == 0 && strcmp(t.tag, best.tag) < 0)) {
			best = t;
			found = true;
		}
	}
	if (!found)
		return 0;
	*ret_newest = best.tag;
	return 1;
}

static const char *const policy_names[] = {"off", "patch", "minor", "major"};

int tagver_policy_parse(const char *s, enum tagver_policy *ret)
{
	for (size_t i = 0; s && i < sizeof(policy_names) / sizeof(policy_names[0]); i++) {
		if (!strcmp(s, policy_names[i])) {
			*ret = (enum tagver_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *tagver_policy_name(enum tagver_policy p)
{
	return (unsigned)p < sizeof(policy_names) / sizeof(policy_names[0]) ? policy_names[p]
	                                                                    : NULL;
}
