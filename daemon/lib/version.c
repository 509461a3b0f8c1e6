/*
 * version — the public entry points, the helpers the back ends share, and
 * the dpkg back end (Debian, Ubuntu). apk is in version_apk.c, PEP 440 in
 * version_pep440.c.
 */
#include "version.h"
#include "version_impl.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

static const char *const eco_names[] = {
        [VERSION_DEBIAN] = "debian",
        [VERSION_UBUNTU] = "ubuntu",
        [VERSION_ALPINE] = "alpine",
        [VERSION_PYPI] = "pypi",
};

#define N_ECOS (sizeof(eco_names) / sizeof(eco_names[0]))

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool ascii_caseeq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return false;
	return *a == *b;
}

int version_eco_parse(const char *name, enum version_eco *ret)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < N_ECOS; i++) {
		if (ascii_caseeq(name, eco_names[i])) {
			*ret = (enum version_eco)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *version_eco_name(enum version_eco eco)
{
	if ((unsigned)eco >= N_ECOS)
		return NULL;
	return eco_names[eco];
}

static bool bad_input(const char *s)
{
	return !s || strnlen(s, VERSION_MAX_LEN + 1) > VERSION_MAX_LEN;
}

int version_valid(enum version_eco eco, const char *v)
{
	if (bad_input(v))
		return -EINVAL;
	switch (eco) {
	case VERSION_DEBIAN:
	case VERSION_UBUNTU:
		return version_dpkg_valid(v);
	case VERSION_ALPINE:
		return version_apk_valid(v);
	case VERSION_PYPI:
		return version_pep440_valid(v);
	}
	return -EINVAL;
}

int version_cmp(enum version_eco eco, const char *a, const char *b, int *ret_cmp)
{
	if (bad_input(a) || bad_input(b))
		return -EINVAL;
	switch (eco) {
	case VERSION_DEBIAN:
	case VERSION_UBUNTU:
		return version_dpkg_cmp(a, b, ret_cmp);
	case VERSION_ALPINE:
		return version_apk_cmp(a, b, ret_cmp);
	case VERSION_PYPI:
		return version_pep440_cmp(a, b, ret_cmp);
	}
	return -EINVAL;
}

int version_digits_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	while (alen > 0 && *a == '0')
		a++, alen--;
	while (blen > 0 && *b == '0')
		b++, blen--;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return alen ? ver_sign(memcmp(a, b, alen)) : 0;
}

int version_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int r = n ? memcmp(a, b, n) : 0;

	if (r)
		return ver_sign(r);
	return (alen > blen) - (alen < blen);
}

/*
 * dpkg: [epoch:]upstream[-revision], parsed as dpkg's parseversion() does
 * (blanks around the string ignored, the first ':' ends the epoch, the last
 * '-' starts the revision), with two deliberate differences:
 *  - what parseversion() only warns about is an error here: an upstream
 *    version that does not start with a digit, and characters outside
 *    [A-Za-z0-9.+~-:] (upstream) or [A-Za-z0-9.+~] (revision). dpkg itself
 *    refuses to build or install packages with such versions, so a feed that
 *    carries one is wrong and guessing would be worse than saying so;
 *  - the epoch is plain decimal digits (dpkg's strtol() also takes a sign).
 * Like dpkg, an epoch above INT_MAX is an error.
 */
struct dpkg_version {
	unsigned int epoch;
	const char *upstream;
	size_t upstream_len;
	const char *revision;
	size_t revision_len;
};

static bool dpkg_isblank(int c)
{
	return c == ' ' || c == '\t';
}

static int dpkg_parse_epoch(const char *s, const char *colon, unsigned int *ret)
{
	unsigned long v = 0;

	if (s == colon)
		return -EINVAL;
	for (; s < colon; s++) {
		if (!ver_isdigit(*s))
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*ret = (unsigned int)v;
	return 0;
}

static bool dpkg_chars_ok(const char *s, size_t len, const char *extra)
{
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (!ver_isdigit(c) && !ver_isalpha(c) && (c == '\0' || !strchr(extra, c)))
			return false;
	}
	return true;
}

static int dpkg_parse(const char *s, struct dpkg_version *ret)
{
	struct dpkg_version v = {0};
	const char *end, *colon, *hyphen;

	while (dpkg_isblank(*s))
		s++;
	for (end = s; *end && !dpkg_isblank(*end); end++)
		;
	for (const char *p = end; *p; p++)
		if (!dpkg_isblank(*p))
			return -EINVAL; /* embedded blank */
	colon = memchr(s, ':', (size_t)(end - s));
	if (colon) {
		if (dpkg_parse_epoch(s, colon, &v.epoch) < 0)
			return -EINVAL;
		s = colon + 1;
	}
	hyphen = memrchr(s, '-', (size_t)(end - s));
	v.upstream = s;
	v.upstream_len = (size_t)((hyphen ? hyphen : end) - s);
	v.revision = hyphen ? hyphen + 1 : end;
	v.revision_len = (size_t)(end - v.revision);
	if (v.upstream_len == 0 || (hyphen && v.revision_len == 0))
		return -EINVAL;
	if (!ver_isdigit(*v.upstream) || !dpkg_chars_ok(v.upstream, v.upstream_len, ".-+~:") ||
	    !dpkg_chars_ok(v.revision, v.revision_len, ".+~"))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* dpkg's weight of a non-digit: '~' before the end, the end before letters, letters first. */
static int dpkg_order(int c)
{
	if (ver_isdigit(c))
		return 0;
	if (ver_isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* dpkg's verrevcmp(): alternating non-digit and digit runs, digits numerically. */
static int dpkg_verrevcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	while (i < alen || j < blen) {
		int first_diff = 0;

		while ((i < alen && !ver_isdigit(a[i])) || (j < blen && !ver_isdigit(b[j]))) {
			int ac = i < alen ? dpkg_order((unsigned char)a[i]) : 0;
			int bc = j < blen ? dpkg_order((unsigned char)b[j]) : 0;

			if (ac != bc)
				return ver_sign(ac - bc);
			i += i < alen;
			j += j < blen;
		}
		while (i < alen && a[i] == '0')
			i++;
		while (j < blen && b[j] == '0')
			j++;
		for (; i < alen && j < blen && ver_isdigit(a[i]) && ver_isdigit(b[j]); i++, j++)
			if (!first_diff)
				first_diff = a[i] - b[j];
		if (i < alen && ver_isdigit(a[i]))
			return 1;
		if (j < blen && ver_isdigit(b[j]))
			return -1;
		if (first_diff)
			return ver_sign(first_diff);
	}
	return 0;
}

int version_dpkg_valid(const char *v)
{
	struct dpkg_version dv;

	return dpkg_parse(v, &dv);
}

int version_dpkg_cmp(const char *a, const char *b, int *ret_cmp)
{
	struct dpkg_version va, vb;
	int r;

	if (dpkg_parse(a, &va) < 0 || dpkg_parse(b, &vb) < 0)
		return -EINVAL;
	if (va.epoch != vb.epoch)
		r = va.epoch < vb.epoch ? -1 : 1;
	else
		r = dpkg_verrevcmp(va.upstream, va.upstream_len, vb.upstream, vb.upstream_len);
	if (r == 0)
		r = dpkg_verrevcmp(va.revision, va.revision_len, vb.revision, vb.revision_len);
	*ret_cmp = r;
	return 0;
}
