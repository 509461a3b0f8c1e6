/*
 * version_pep440 — PyPI ordering: PEP 440 as pypa/packaging's Version does
 * it (its VERSION_PATTERN regex, matched case-insensitively with surrounding
 * whitespace, and its _cmpkey()).
 *
 *   [v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]
 *
 * with the spellings the regex also takes: alpha beta c pre preview for the
 * pre-release, rev r and a bare -N for post, optional '-', '_' or '.'
 * separators, omitted numbers meaning 0. The release compares with trailing
 * zeros ignored; a dev release of a final version sorts before its
 * pre-releases; a local version sorts after its public one, segment by
 * segment, numbers after words.
 *
 * Only ASCII is taken: the regex under re.IGNORECASE would also match a few
 * non-ASCII letters (U+0130, U+0131, U+017F, U+212A) and Unicode spaces,
 * which no real release uses. The "legacy" versions that packaging < 22
 * accepted are invalid, as in packaging today.
 */
#include "version_impl.h"

#include <errno.h>
#include <string.h>

enum pep_pre { PEP_PRE_NONE = -1, PEP_PRE_A, PEP_PRE_B, PEP_PRE_RC };

struct span {
	const char *p;
	size_t len;
};

struct pep440 {
	struct span epoch;   /* digits; empty means 0 */
	struct span release; /* digits and dots */
	enum pep_pre pre;
	struct span pre_n;
	bool post;
	struct span post_n;
	bool dev;
	struct span dev_n;
	struct span local; /* after '+'; empty means none */
};

struct cursor {
	const char *p;
	const char *end;
};

/* Python's \s on ASCII: the C spaces plus the four separator controls. */
static bool py_isspace(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool is_sep(int c)
{
	return c == '-' || c == '_' || c == '.';
}

static bool is_alnum(int c)
{
	return ver_isdigit(c) || ver_isalpha(c);
}

static int peek(const struct cursor *c, size_t off)
{
	return (size_t)(c->end - c->p) > off ? (unsigned char)c->p[off] : 0;
}

static struct span take(struct cursor *c, bool (*accept)(int))
{
	struct span s = {c->p, 0};

	while (c->p < c->end && accept((unsigned char)*c->p))
		c->p++;
	s.len = (size_t)(c->p - s.p);
	return s;
}

static void eat_sep(struct cursor *c)
{
	if (is_sep(peek(c, 0)))
		c->p++;
}

/* Consumes word (lower case) if the input starts with it in any case. */
static bool eat_word(struct cursor *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)c->p[i];

		if ((ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch) != word[i])
			return false;
	}
	c->p += n;
	return true;
}

static int parse_release(struct cursor *c, struct pep440 *v)
{
	struct span s = take(c, ver_isdigit);

	if (!s.len)
		return -EINVAL;
	if (peek(c, 0) == '!') {
		v->epoch = s;
		c->p++;
		s = take(c, ver_isdigit);
		if (!s.len)
			return -EINVAL;
	}
	while (peek(c, 0) == '.' && ver_isdigit(peek(c, 1))) {
		c->p++;
		take(c, ver_isdigit);
	}
	v->release = (struct span){s.p, (size_t)(c->p - s.p)};
	return 0;
}

/* [-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?N? — tried in the regex's order. */
static void parse_pre(struct cursor *c, struct pep440 *v)
{
	static const struct {
		const char *word;
		enum pep_pre kind;
	} words[] = {
	        {"alpha", PEP_PRE_A}, {"a", PEP_PRE_A},        {"beta", PEP_PRE_B},
	        {"b", PEP_PRE_B},     {"preview", PEP_PRE_RC}, {"pre", PEP_PRE_RC},
	        {"c", PEP_PRE_RC},    {"rc", PEP_PRE_RC},
	};
	struct cursor t = *c;

	eat_sep(&t);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (eat_word(&t, words[i].word)) {
			v->pre = words[i].kind;
			eat_sep(&t);
			v->pre_n = take(&t, ver_isdigit);
			*c = t;
			return;
		}
	}
}

/* -N | [-_.]?(post|rev|r)[-_.]?N? */
static void parse_post(struct cursor *c, struct pep440 *v)
{
	struct cursor t = *c;

	if (peek(&t, 0) == '-' && ver_isdigit(peek(&t, 1))) {
		t.p++;
	} else {
		eat_sep(&t);
		if (!eat_word(&t, "post") && !eat_word(&t, "rev") && !eat_word(&t, "r"))
			return;
		eat_sep(&t);
	}
	v->post = true;
	v->post_n = take(&t, ver_isdigit);
	*c = t;
}

/* [-_.]?dev[-_.]?N? */
static void parse_dev(struct cursor *c, struct pep440 *v)
{
	struct cursor t = *c;

	eat_sep(&t);
	if (!eat_word(&t, "dev"))
		return;
	eat_sep(&t);
	v->dev = true;
	v->dev_n = take(&t, ver_isdigit);
	*c = t;
}

/* \+[a-z0-9]+([-_.][a-z0-9]+)* */
static int parse_local(struct cursor *c, struct pep440 *v)
{
	const char *start;

	if (peek(c, 0) != '+')
		return 0;
	start = ++c->p;
	for (;;) {
		if (!take(c, is_alnum).len)
			return -EINVAL;
		if (!is_sep(peek(c, 0)))
			break;
		c->p++;
	}
	v->local = (struct span){start, (size_t)(c->p - start)};
	return 0;
}

static int pep440_parse(const char *s, struct pep440 *ret)
{
	struct pep440 v = {.pre = PEP_PRE_NONE};
	struct cursor c = {s, s + strlen(s)};

	while (c.p < c.end && py_isspace((unsigned char)*c.p))
		c.p++;
	while (c.end > c.p && py_isspace((unsigned char)c.end[-1]))
		c.end--;
	if (peek(&c, 0) == 'v' || peek(&c, 0) == 'V')
		c.p++;
	if (parse_release(&c, &v) < 0)
		return -EINVAL;
	parse_pre(&c, &v);
	parse_post(&c, &v);
	parse_dev(&c, &v);
	if (parse_local(&c, &v) < 0 || c.p != c.end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int span_digits_cmp(struct span a, struct span b)
{
	return version_digits_cmp(a.p, a.len, b.p, b.len);
}

/* Component by component, a missing one counting as 0: trailing zeros do not matter. */
static int release_cmp(struct span a, struct span b)
{
	struct cursor ca = {a.p, a.p + a.len}, cb = {b.p, b.p + b.len};

	while (ca.p < ca.end || cb.p < cb.end) {
		int r = span_digits_cmp(take(&ca, ver_isdigit), take(&cb, ver_isdigit));

		if (r)
			return r;
		eat_sep(&ca);
		eat_sep(&cb);
	}
	return 0;
}

/* packaging's pre key: a bare dev release is below every pre-release, no pre above. */
static int pre_rank(const struct pep440 *v)
{
	if (v->pre != PEP_PRE_NONE)
		return 1;
	return (!v->post && v->dev) ? 0 : 2;
}

static int pre_cmp(const struct pep440 *a, const struct pep440 *b)
{
	int ra = pre_rank(a), rb = pre_rank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra != 1)
		return 0;
	if (a->pre != b->pre)
		return a->pre < b->pre ? -1 : 1;
	return span_digits_cmp(a->pre_n, b->pre_n);
}

/* One local segment: numbers compare as numbers and after words; words case-blind. */
static int local_segment_cmp(struct span a, struct span b)
{
	bool na = true, nb = true;

	for (size_t i = 0; i < a.len; i++)
		na = na && ver_isdigit((unsigned char)a.p[i]);
	for (size_t i = 0; i < b.len; i++)
		nb = nb && ver_isdigit((unsigned char)b.p[i]);
	if (na && nb)
		return span_digits_cmp(a, b);
	if (na != nb)
		return na ? 1 : -1;
	for (size_t i = 0; i < a.len && i < b.len; i++) {
		int ca = a.p[i] | (ver_isalpha(a.p[i]) ? 0x20 : 0);
		int cb = b.p[i] | (ver_isalpha(b.p[i]) ? 0x20 : 0);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return (a.len > b.len) - (a.len < b.len);
}

static int local_cmp(struct span a, struct span b)
{
	struct cursor ca, cb;

	if (!a.len || !b.len) /* no local part: spans may be NULL */
		return (a.len != 0) - (b.len != 0);
	ca = (struct cursor){a.p, a.p + a.len};
	cb = (struct cursor){b.p, b.p + b.len};
	while (ca.p < ca.end && cb.p < cb.end) {
		int r = local_segment_cmp(take(&ca, is_alnum), take(&cb, is_alnum));

		if (r)
			return r;
		eat_sep(&ca);
		eat_sep(&cb);
	}
	return (ca.p < ca.end) - (cb.p < cb.end);
}

static int pep440_key_cmp(const struct pep440 *a, const struct pep440 *b)
{
	int r = span_digits_cmp(a->epoch, b->epoch);

	if (!r)
		r = release_cmp(a->release, b->release);
	if (!r)
		r = pre_cmp(a, b);
	if (!r && a->post != b->post)
		r = a->post ? 1 : -1;
	if (!r && a->post)
		r = span_digits_cmp(a->post_n, b->post_n);
	if (!r && a->dev != b->dev)
		r = a->dev ? -1 : 1;
	if (!r && a->dev)
		r = span_digits_cmp(a->dev_n, b->dev_n);
	if (!r)
		r = local_cmp(a->local, b->local);
	return r;
}

int version_pep440_valid(const char *v)
{
	struct pep440 pv;

	return pep440_parse(v, &pv);
}

int version_pep440_cmp(const char *a, const char *b, int *ret_cmp)
{
	struct pep440 va, vb;

	if (pep440_parse(a, &va) < 0 || pep440_parse(b, &vb) < 0)
		return -EINVAL;
	*ret_cmp = pep440_key_cmp(&va, &vb);
	return 0;
}
