/*
 * ref — Docker image references, a hand-written parser for the grammar of
 * github.com/distribution/reference (no regex engine, no allocation):
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path          domain := host [":" port]
 *   host      := label ("." label)* | "[" [0-9a-fA-F:]+ "]"
 *   path      := component ("/" component)* component := [a-z0-9]+ (sep [a-z0-9]+)*
 *   sep       := "." | "_" | "__" | "-"+    tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := alg ":" hex{32,}, then only sha256/sha384/sha512 of the exact length
 *
 * Checks run in upstream's order so the same input yields the same kind of
 * error: syntax, then uppercase, then length, then digest semantics.
 */
#include "ref.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_DOMAIN  "docker.io"
#define LEGACY_DOMAIN   "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define DEFAULT_TAG     "latest"
/* Longest input looked at: above the longest valid reference (REF_STRING_MAX). */
#define INPUT_MAX 1024

static const char err_empty[] = "empty reference";
static const char err_input_long[] = "reference longer than 1024 characters";
static const char err_id[] =
        "a 64-character hexadecimal string is an image ID, not a repository name";
static const char err_no_name[] = "missing repository name";
static const char err_domain[] = "invalid registry domain";
static const char err_domain_long[] = "registry domain longer than 255 characters";
static const char err_component_empty[] = "empty path component";
static const char err_component_start[] =
        "path component must start with a lowercase letter or digit";
static const char err_component_end[] = "path component must end with a lowercase letter or digit";
static const char err_separator[] =
        "invalid separator in path component (allowed: '.', '_', '__', dashes)";
static const char err_char[] = "invalid character in repository name";
static const char err_upper[] = "repository name must be lowercase";
static const char err_path_long[] = "repository path longer than 255 characters";
static const char err_tag[] = "invalid tag (allowed: letters, digits, '_', '.', '-'; "
                              "not starting with '.' or '-')";
static const char err_tag_long[] = "tag longer than 128 characters";
static const char err_digest_format[] = "invalid digest format (expected algorithm:hex)";
static const char err_digest_algo[] = "unsupported digest algorithm (sha256, sha384, sha512)";
static const char err_digest_len[] = "digest has the wrong length for its algorithm";
static const char err_digest_hex[] = "digest must be lowercase hexadecimal";

struct span {
	const char *p;
	size_t n;
};

/* A reference cut into its four parts, each pointing into the input. */
struct parts {
	struct span domain, path, tag, digest;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

static bool is_alpha(char c)
{
	return is_upper(c) || (c >= 'a' && c <= 'z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool span_is(struct span s, const char *lit)
{
	return s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

/* A 64-character lowercase hex string: an image ID (upstream IdentifierRegexp). */
static bool is_identifier(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

/* Host label: [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]. */
static bool valid_label(const char *p, size_t n)
{
	if (n == 0 || !is_alnum(p[0]) || !is_alnum(p[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(p[i]) && p[i] != '-')
			return false;
	return true;
}

static bool valid_host_name(const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '.')
			continue;
		if (!valid_label(p + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/* IPv6 in brackets, compressed or not; zones and dotted IPv4 tails are excluded. */
static size_t ipv6_host_len(const char *p, size_t n)
{
	size_t i = 1;

	while (i < n && (is_hex(p[i]) || p[i] == ':'))
		i++;
	if (i == 1 || i >= n || p[i] != ']')
		return 0;
	return i + 1;
}

/* Upstream domainAndPort: a host name or bracketed IPv6, then an optional ":port". */
static bool valid_domain(const char *p, size_t n)
{
	size_t host_n;

	if (n > 0 && p[0] == '[') {
		host_n = ipv6_host_len(p, n);
		if (!host_n)
			return false;
	} else {
		const char *colon = memchr(p, ':', n);
		host_n = colon ? (size_t)(colon - p) : n;
		if (!valid_host_name(p, host_n))
			return false;
	}
	if (host_n == n)
		return true;
	if (p[host_n] != ':' || host_n + 1 == n)
		return false;
	for (size_t i = host_n + 1; i < n; i++)
		if (!is_digit(p[i]))
			return false;
	return true;
}

static bool is_separator(char c)
{
	return c == '.' || c == '_' || c == '-';
}

/* A run of separator characters is one of ".", "_", "__" or any number of dashes. */
static bool valid_separator(const char *p, size_t n)
{
	if (n == 1 || (n == 2 && p[0] == '_' && p[1] == '_'))
		return true;
	for (size_t i = 0; i < n; i++)
		if (p[i] != '-')
			return false;
	return true;
}

/* Checks one path component; uppercase letters pass but are flagged, as upstream
 * reports them only when the lowercased input would be valid. */
static const char *check_component(const char *p, size_t n, bool *upper)
{
	size_t i = 0;

	if (n == 0)
		return err_component_empty;
	while (i < n) {
		size_t run = 0;
		while (i + run < n && is_separator(p[i + run]))
			run++;
		if (run) {
			if (i == 0)
				return err_component_start;
			if (i + run == n)
				return err_component_end;
			if (!valid_separator(p + i, run))
				return err_separator;
			i += run;
			continue;
		}
		if (is_upper(p[i]))
			*upper = true;
		else if (!is_lower_alnum(p[i]))
			return err_char;
		i++;
	}
	return NULL;
}

static const char *check_path(struct span path, bool *upper)
{
	size_t start = 0;

	for (size_t i = 0; i <= path.n; i++) {
		if (i < path.n && path.p[i] != '/')
			continue;
		const char *err = check_component(path.p + start, i - start, upper);
		if (err)
			return err;
		start = i + 1;
	}
	return NULL;
}

/* Characters that only make sense in a registry host: used to word errors. */
static bool has_host_char(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '.' || p[i] == ':' || p[i] == '[' || p[i] == ']')
			return true;
	return false;
}

/* Splits a name into domain and path: the first of several components is the
 * domain whenever it is a valid one (upstream anchoredNameRegexp). */
static const char *split_name(struct span name, struct parts *pt, bool *upper)
{
	const char *slash = memchr(name.p, '/', name.n);
	size_t first_n = slash ? (size_t)(slash - name.p) : 0;
	bool ignored = false;
	const char *err;

	if (slash && valid_domain(name.p, first_n)) {
		pt->domain = (struct span){name.p, first_n};
		pt->path = (struct span){slash + 1, name.n - first_n - 1};
		return check_path(pt->path, upper);
	}
	pt->domain = (struct span){name.p, 0};
	pt->path = name;
	err = check_path(name, upper);
	if (err && slash && has_host_char(name.p, first_n) &&
	    check_component(name.p, first_n, &ignored))
		return err_domain;
	return err;
}

static const char *check_tag(const char *p, size_t n)
{
	if (n == 0 || !(is_alnum(p[0]) || p[0] == '_'))
		return err_tag;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(p[i]) && p[i] != '_' && p[i] != '.' && p[i] != '-')
			return err_tag;
	return n > REF_TAG_MAX ? err_tag_long : NULL;
}

/* Digest grammar: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" hex{32,}. */
static bool valid_digest_syntax(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	bool want_alpha = true;

	if (!colon || colon == p || n - (size_t)(colon - p) - 1 < 32)
		return false;
	for (const char *c = p; c < colon; c++) {
		if (want_alpha && !is_alpha(*c))
			return false;
		if (want_alpha)
			want_alpha = false;
		else if (*c == '-' || *c == '_' || *c == '+' || *c == '.')
			want_alpha = true;
		else if (!is_alnum(*c))
			return false;
	}
	if (want_alpha)
		return false;
	for (const char *c = colon + 1; c < p + n; c++)
		if (!is_hex(*c))
			return false;
	return true;
}

/* Digest semantics after the grammar (go-digest Validate with sha256/384/512). */
static const char *check_digest(const char *p, size_t n)
{
	static const struct {
		const char *name;
		size_t hex_len;
	} algos[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
	const char *colon = memchr(p, ':', n);
	struct span alg = {p, (size_t)(colon - p)};
	size_t hex_n = n - alg.n - 1;

	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		if (!span_is(alg, algos[i].name))
			continue;
		if (hex_n != algos[i].hex_len)
			return err_digest_len;
		for (size_t j = 0; j < hex_n; j++)
			if (!is_lower_hex(colon[1 + j]))
				return err_digest_hex;
		return NULL;
	}
	return err_digest_algo;
}

/* Cuts "name[:tag][@digest]" and checks the syntax of every part. */
static const char *split_reference(const char *s, size_t len, struct parts *pt, bool *upper)
{
	struct span name = {s, len};
	const char *at = memchr(s, '@', len);
	const char *slash, *colon, *err;

	memset(pt, 0, sizeof(*pt));
	if (at) {
		pt->digest = (struct span){at + 1, len - (size_t)(at - s) - 1};
		name.n = (size_t)(at - s);
	}
	slash = memrchr(name.p, '/', name.n);
	slash = slash ? slash + 1 : name.p;
	colon = memchr(slash, ':', name.n - (size_t)(slash - name.p));
	if (colon) {
		pt->tag = (struct span){colon + 1, name.n - (size_t)(colon - name.p) - 1};
		name.n = (size_t)(colon - name.p);
	}
	if (name.n == 0)
		return err_no_name;
	err = split_name(name, pt, upper);
	if (!err && colon)
		err = check_tag(pt->tag.p, pt->tag.n);
	if (!err && at && !valid_digest_syntax(pt->digest.p, pt->digest.n))
		err = err_digest_format;
	return err;
}

static void copy_span(char *dst, struct span s)
{
	if (s.n)
		memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
}

/* Upstream Parse: syntax, uppercase, path length, then the digest's algorithm. */
static const char *parse_raw(const char *s, struct image_ref *out)
{
	size_t len = strnlen(s, INPUT_MAX + 1);
	bool upper = false;
	struct parts pt;
	const char *err;

	if (len == 0)
		return err_empty;
	if (len > INPUT_MAX)
		return err_input_long;
	err = split_reference(s, len, &pt, &upper);
	if (err)
		return err;
	if (upper)
		return err_upper;
	if (pt.path.n > REF_PATH_MAX)
		return err_path_long;
	if (pt.domain.n > REF_DOMAIN_MAX)
		return err_domain_long;
	if (pt.digest.n && (err = check_digest(pt.digest.p, pt.digest.n)))
		return err;
	memset(out, 0, sizeof(*out));
	copy_span(out->domain, pt.domain);
	copy_span(out->path, pt.path);
	copy_span(out->tag, pt.tag);
	copy_span(out->digest, pt.digest);
	return NULL;
}

/* Upstream splitDockerDomain: is this first component a registry rather than a namespace? */
static bool is_domain_like(struct span first)
{
	if (span_is(first, "localhost") || has_host_char(first.p, first.n))
		return true;
	for (size_t i = 0; i < first.n; i++)
		if (is_upper(first.p[i]))
			return true;
	return false;
}

/* Rewrites s as "domain/[library/]remainder" into buf (at least 2 * INPUT_MAX + 16 bytes),
 * refusing an uppercase repository path as upstream does before parsing. */
static const char *docker_split(const char *s, size_t len, char *buf)
{
	const char *slash = memchr(s, '/', len);
	struct span domain = {DEFAULT_DOMAIN, strlen(DEFAULT_DOMAIN)};
	struct span rest = {s, len};
	const char *colon;
	size_t pos = 0;

	if (slash && is_domain_like((struct span){s, (size_t)(slash - s)})) {
		domain = (struct span){s, (size_t)(slash - s)};
		rest = (struct span){slash + 1, len - domain.n - 1};
		if (span_is(domain, LEGACY_DOMAIN))
			domain = (struct span){DEFAULT_DOMAIN, strlen(DEFAULT_DOMAIN)};
	}
	colon = memchr(rest.p, ':', rest.n);
	for (size_t i = 0; i < (colon ? (size_t)(colon - rest.p) : rest.n); i++)
		if (is_upper(rest.p[i]))
			return err_upper;
	memcpy(buf, domain.p, domain.n);
	pos = domain.n;
	buf[pos++] = '/';
	if (span_is(domain, DEFAULT_DOMAIN) && !memchr(rest.p, '/', rest.n)) {
		memcpy(buf + pos, OFFICIAL_PREFIX, strlen(OFFICIAL_PREFIX));
		pos += strlen(OFFICIAL_PREFIX);
	}
	memcpy(buf + pos, rest.p, rest.n);
	buf[pos + rest.n] = '\0';
	return NULL;
}

/* Upstream ParseNormalizedNamed. */
static const char *parse_normalized(const char *s, struct image_ref *out)
{
	char buf[2 * INPUT_MAX + 16];
	size_t len = strnlen(s, INPUT_MAX + 1);
	const char *err;

	if (len == 0)
		return err_empty;
	if (len > INPUT_MAX)
		return err_input_long;
	if (is_identifier(s, len))
		return err_id;
	err = docker_split(s, len, buf);
	if (!err)
		err = parse_raw(buf, out);
	/* Upstream would return a name with an empty domain here ("foo_bar.com/x"):
	 * the first component was taken for a host but is not a valid one. */
	if (!err && !out->domain[0])
		err = err_domain;
	return err;
}

static int finish(const char *err, const struct image_ref *tmp, struct image_ref *ret,
                  const char **ret_err)
{
	if (err) {
		if (ret_err)
			*ret_err = err;
		return -EINVAL;
	}
	*ret = *tmp;
	return 0;
}

int ref_parse(const char *s, struct image_ref *ret, const char **ret_err)
{
	struct image_ref tmp;

	return finish(parse_normalized(s, &tmp), &tmp, ret, ret_err);
}

int ref_parse_raw(const char *s, struct image_ref *ret, const char **ret_err)
{
	struct image_ref tmp;

	return finish(parse_raw(s, &tmp), &tmp, ret, ret_err);
}

int ref_parse_any(const char *s, struct image_ref *ret, const char **ret_err)
{
	size_t len = strnlen(s, REF_DIGEST_MAX + 1);
	struct image_ref tmp;

	memset(&tmp, 0, sizeof(tmp));
	if (is_identifier(s, len)) {
		memcpy(tmp.digest, "sha256:", 7);
		memcpy(tmp.digest + 7, s, len + 1);
		return finish(NULL, &tmp, ret, ret_err);
	}
	if (len <= REF_DIGEST_MAX && valid_digest_syntax(s, len) && !check_digest(s, len)) {
		memcpy(tmp.digest, s, len + 1);
		return finish(NULL, &tmp, ret, ret_err);
	}
	return ref_parse(s, ret, ret_err);
}

int ref_with_tag(struct image_ref *r, const char *tag)
{
	size_t n = strnlen(tag, REF_TAG_MAX + 1);

	if (check_tag(tag, n))
		return -EINVAL;
	memcpy(r->tag, tag, n + 1);
	return 0;
}

int ref_with_digest(struct image_ref *r, const char *digest)
{
	size_t n = strnlen(digest, REF_DIGEST_MAX + 1);

	if (n > REF_DIGEST_MAX || !valid_digest_syntax(digest, n) || check_digest(digest, n))
		return -EINVAL;
	memcpy(r->digest, digest, n + 1);
	return 0;
}

void ref_tag_name_only(struct image_ref *r)
{
	if (!r->tag[0] && !r->digest[0])
		memcpy(r->tag, DEFAULT_TAG, sizeof(DEFAULT_TAG));
}

void ref_docker_form(struct image_ref *r)
{
	if (r->digest[0])
		r->tag[0] = '\0';
	ref_tag_name_only(r);
}

/* Prints [domain "/"] path [":" tag] ["@" digest]; a digest-only reference is its digest. */
static int format(char *buf, size_t len, const char *domain, const char *path, const char *tag,
                  const char *digest)
{
	int n = snprintf(buf, len, "%s%s%s%s%s%s%s", domain, *domain ? "/" : "", path,
	                 *tag ? ":" : "", tag, *digest && *path ? "@" : "", digest);

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int ref_name(const struct image_ref *r, char *buf, size_t len)
{
	return format(buf, len, r->domain, r->path, "", "");
}

int ref_string(const struct image_ref *r, char *buf, size_t len)
{
	return format(buf, len, r->domain, r->path, r->tag, r->digest);
}

/* Upstream familiarizeName: drops "docker.io/" and an official "library/" prefix, except
 * where the shorter form would parse back to a different reference. */
static void familiarize(const struct image_ref *r, const char **domain, const char **path)
{
	const char *p = r->path, *slash = strchr(p, '/');
	size_t plen = strlen(OFFICIAL_PREFIX);

	*domain = r->domain;
	*path = p;
	if (strcmp(r->domain, DEFAULT_DOMAIN) != 0 || !slash)
		return;
	if (!strncmp(p, OFFICIAL_PREFIX, plen) && !strchr(p + plen, '/') &&
	    !is_identifier(p + plen, strlen(p + plen))) {
		*domain = "";
		*path = p + plen;
		return;
	}
	if (is_domain_like((struct span){p, (size_t)(slash - p)}))
		return;
	*domain = "";
}

int ref_familiar(const struct image_ref *r, char *buf, size_t len)
{
	const char *domain, *path;

	familiarize(r, &domain, &path);
	return format(buf, len, domain, path, r->tag, r->digest);
}
