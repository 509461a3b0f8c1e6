/*
 * version_apk — Alpine's apk-tools ordering (apk_version_compare() of
 * apk-tools 3, whose test/unit/version.data is among our fixtures; apk 2.x
 * has no ~hash and orders a few invalid strings differently).
 *
 * Grammar: digits{.digits}...{letter}{_suffix{digits}}...{~hexhash}{-rdigits}
 * with suffix one of alpha beta pre rc (before the bare version) or cvs svn
 * git hg p (after it). A version is a sequence of tokens whose kinds must
 * follow that order; two versions are compared token by token while the
 * kinds agree, then by which kind comes next.
 *
 * Differences from apk-tools, on purpose:
 *  - an invalid version is an error; apk compares the valid prefix and
 *    orders the rest by kind, so `1.0 < 1.0bc` there;
 *  - digit runs compare exactly at any length; apk parses them into a
 *    fixed-width integer that wraps (at 2^32 in the apk_blob_pull_uint() we
 *    read), which only numbers of ten digits or more could notice.
 */
#include "version_impl.h"

#include <errno.h>
#include <string.h>

/* Token kinds, in the order they may appear; the order is also the tie-break. */
enum apk_kind {
	APK_INITIAL_DIGIT,
	APK_DIGIT,
	APK_LETTER,
	APK_SUFFIX,
	APK_SUFFIX_NO,
	APK_COMMIT_HASH,
	APK_REVISION_NO,
	APK_END,
	APK_INVALID,
};

/* Suffix ranks: those below APK_SUF_NONE are pre-releases. */
enum apk_suffix {
	APK_SUF_INVALID,
	APK_SUF_ALPHA,
	APK_SUF_BETA,
	APK_SUF_PRE,
	APK_SUF_RC,
	APK_SUF_NONE,
	APK_SUF_CVS,
	APK_SUF_SVN,
	APK_SUF_GIT,
	APK_SUF_HG,
	APK_SUF_P,
};

static const char *const suffix_names[] = {
        [APK_SUF_ALPHA] = "alpha", [APK_SUF_BETA] = "beta", [APK_SUF_PRE] = "pre",
        [APK_SUF_RC] = "rc",       [APK_SUF_CVS] = "cvs",   [APK_SUF_SVN] = "svn",
        [APK_SUF_GIT] = "git",     [APK_SUF_HG] = "hg",     [APK_SUF_P] = "p",
};

struct apk_token {
	enum apk_kind kind;
	enum apk_suffix suffix;
	const char *text; /* the digits, letter, suffix name or hash */
	size_t len;
};

struct apk_lexer {
	const char *p;
	struct apk_token tok;
};

static bool is_hex(int c)
{
	return ver_isdigit(c) || (c >= 'a' && c <= 'f');
}

static size_t span(const char *p, bool (*accept)(int))
{
	size_t n = 0;

	while (p[n] && accept((unsigned char)p[n]))
		n++;
	return n;
}

/* Takes a run of characters accepted by accept as a token of kind k; empty is invalid. */
static void take(struct apk_lexer *lx, enum apk_kind k, bool (*accept)(int))
{
	lx->tok.text = lx->p;
	lx->tok.len = span(lx->p, accept);
	lx->tok.kind = lx->tok.len ? k : APK_INVALID;
	lx->p += lx->tok.len;
}

static enum apk_suffix suffix_value(const char *s, size_t len)
{
	for (int i = APK_SUF_ALPHA; i <= APK_SUF_P; i++) {
		const char *name = suffix_names[i];

		if (name && version_bytes_cmp(s, len, name, strlen(name)) == 0)
			return (enum apk_suffix)i;
	}
	return APK_SUF_INVALID;
}

static void apk_first(struct apk_lexer *lx, const char *s)
{
	lx->p = s;
	take(lx, APK_INITIAL_DIGIT, ver_isdigit);
}

/* Reads the token after lx->tok, or marks the version invalid if none may follow. */
static void apk_next(struct apk_lexer *lx)
{
	enum apk_kind prev = lx->tok.kind;
	int c = (unsigned char)*lx->p;

	if (c == '\0') {
		lx->tok.kind = APK_END;
	} else if (ver_islower(c) && prev <= APK_DIGIT) {
		lx->p++;
		lx->tok = (struct apk_token){.kind = APK_LETTER, .text = lx->p - 1, .len = 1};
	} else if (c == '.' && prev <= APK_DIGIT) {
		lx->p++;
		take(lx, APK_DIGIT, ver_isdigit);
	} else if (ver_isdigit(c) && prev == APK_SUFFIX) {
		take(lx, APK_SUFFIX_NO, ver_isdigit);
	} else if (c == '_' && prev <= APK_SUFFIX_NO) {
		lx->p++;
		take(lx, APK_SUFFIX, ver_islower);
		lx->tok.suffix = suffix_value(lx->tok.text, lx->tok.len);
		if (lx->tok.suffix == APK_SUF_INVALID)
			lx->tok.kind = APK_INVALID;
	} else if (c == '~' && prev < APK_COMMIT_HASH) {
		lx->p++;
		take(lx, APK_COMMIT_HASH, is_hex);
	} else if (c == '-' && lx->p[1] == 'r' && prev < APK_REVISION_NO) {
		lx->p += 2;
		take(lx, APK_REVISION_NO, ver_isdigit);
	} else {
		lx->tok.kind = APK_INVALID;
	}
}

int version_apk_valid(const char *v)
{
	struct apk_lexer lx;

	for (apk_first(&lx, v); lx.tok.kind < APK_END; apk_next(&lx))
		;
	return lx.tok.kind == APK_END ? 0 : -EINVAL;
}

/* Two tokens of the same kind. */
static int apk_token_cmp(const struct apk_token *a, const struct apk_token *b)
{
	switch (a->kind) {
	case APK_DIGIT:
		/* A leading zero makes it a fraction-like string: compared as bytes. */
		if (a->text[0] == '0' || b->text[0] == '0')
			return version_bytes_cmp(a->text, a->len, b->text, b->len);
		return version_digits_cmp(a->text, a->len, b->text, b->len);
	case APK_INITIAL_DIGIT:
	case APK_SUFFIX_NO:
	case APK_REVISION_NO:
		return version_digits_cmp(a->text, a->len, b->text, b->len);
	case APK_LETTER:
		return ver_sign((unsigned char)a->text[0] - (unsigned char)b->text[0]);
	case APK_SUFFIX:
		return ver_sign((long)a->suffix - (long)b->suffix);
	default:
		return version_bytes_cmp(a->text, a->len, b->text, b->len);
	}
}

/* Equal so far, next tokens of different kinds: the longer version wins unless its
 * extra part is a pre-release suffix; otherwise the earlier kind is the newer one. */
static int apk_tail_cmp(const struct apk_token *a, const struct apk_token *b)
{
	if (a->kind == b->kind)
		return 0;
	if (a->kind == APK_SUFFIX && a->suffix < APK_SUF_NONE)
		return -1;
	if (b->kind == APK_SUFFIX && b->suffix < APK_SUF_NONE)
		return 1;
	return a->kind > b->kind ? -1 : 1;
}

int version_apk_cmp(const char *a, const char *b, int *ret_cmp)
{
	struct apk_lexer la, lb;

	if (version_apk_valid(a) < 0 || version_apk_valid(b) < 0)
		return -EINVAL;
	apk_first(&la, a);
	apk_first(&lb, b);
	while (la.tok.kind == lb.tok.kind && la.tok.kind < APK_END) {
		int r = apk_token_cmp(&la.tok, &lb.tok);

		if (r) {
			*ret_cmp = r;
			return 0;
		}
		apk_next(&la);
		apk_next(&lb);
	}
	*ret_cmp = apk_tail_cmp(&la.tok, &lb.tok);
	return 0;
}
