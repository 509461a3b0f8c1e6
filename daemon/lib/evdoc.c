/*
 * evdoc — the helpers the evidence documents share: package URLs,
 * distro qualifiers, times and licence expressions (see evdoc.h).
 */
#include "evdoc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "spdx.h"

/* Appends s percent-encoded (everything but the purl spec's unreserved set). */
static size_t put_enc(char *buf, size_t len, size_t at, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '~';

		if (plain) {
			if (at + 1 < len)
				buf[at] = (char)c;
			at++;
		} else {
			if (at + 3 < len) {
				buf[at] = '%';
				buf[at + 1] = hex[c >> 4];
				buf[at + 2] = hex[c & 15];
			}
			at += 3;
		}
	}
	return at;
}

static size_t put_raw(char *buf, size_t len, size_t at, const char *s)
{
	size_t n = strlen(s);

	if (at + n < len)
		memcpy(buf + at, s, n);
	return at + n;
}

void evdoc_distro(const char *ecosystem, char *buf, size_t len)
{
	static const struct {
		const char *prefix, *name;
	} os[] = {{"Debian:", "debian"}, {"Ubuntu:", "ubuntu"}, {"Alpine:v", "alpine"}};
	const char *e = ecosystem ? ecosystem : "";

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(os) / sizeof(os[0]); i++) {
		size_t n = strlen(os[i].prefix);
		if (!strncmp(e, os[i].prefix, n) && e[n]) {
			/* "Ubuntu:22.04:LTS": the release only */
			snprintf(buf, len, "%s-%.*s", os[i].name, (int)strcspn(e + n, ":"), e + n);
			return;
		}
	}
}

/* The purl type and namespace of an ecosystem. */
static void purl_type(const char *eco, const char **type, const char **ns)
{
	*ns = NULL;
	if (!strncmp(eco, "Debian:", 7) || !strcmp(eco, "Debian")) {
		*type = "deb";
		*ns = "debian";
	} else if (!strncmp(eco, "Ubuntu:", 7) || !strcmp(eco, "Ubuntu")) {
		*type = "deb";
		*ns = "ubuntu";
	} else if (!strncmp(eco, "Alpine:", 7) || !strcmp(eco, "Alpine")) {
		*type = "apk";
		*ns = "alpine";
	} else if (!strcmp(eco, "PyPI")) {
		*type = "pypi";
	} else {
		*type = "generic";
	}
}

int evdoc_purl(const struct evdoc_pkg *p, char *buf, size_t len)
{
	const char *type, *ns, *eco = p->ecosystem ? p->ecosystem : "";
	char distro[64];
	size_t at = 0;
	char sep = '?';

	purl_type(eco, &type, &ns);
	evdoc_distro(eco, distro, sizeof(distro));
	at = put_raw(buf, len, at, "pkg:");
	at = put_raw(buf, len, at, type);
	at = put_raw(buf, len, at, "/");
	if (ns) {
		at = put_raw(buf, len, at, ns);
		at = put_raw(buf, len, at, "/");
	}
	at = put_enc(buf, len, at, p->name);
	if (p->version) {
		at = put_raw(buf, len, at, "@");
		at = put_enc(buf, len, at, p->version);
	}
	/* qualifiers sorted by key, as the spec's canonical form */
	if (ns && p->arch && *p->arch) {
		at = put_raw(buf, len, at, "?arch=");
		at = put_enc(buf, len, at, p->arch);
		sep = '&';
	}
	if (ns && distro[0]) {
		at = put_raw(buf, len, at, sep == '?' ? "?distro=" : "&distro=");
		at = put_enc(buf, len, at, distro);
	}
	if (at >= len) {
		if (len)
			buf[0] = '\0';
		return -ENOSPC;
	}
	buf[at] = '\0';
	return (int)at;
}

void evdoc_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == ':';
}

/* An id SPDX knows (spdx.h), a LicenseRef, or after WITH an exception id. */
static bool known_id(const char *p, size_t n, bool exception)
{
	if (exception)
		return spdx_exception(p, n) != NULL;
	return spdx_license(p, n) || (n > 11 && !strncmp(p, "LicenseRef-", 11));
}

/* Alternating known ids and operators: id (op id)*; parentheses are skipped over. */
bool evdoc_license_is_expression(const char *lic)
{
	bool want_id = true, with = false;
	const char *p = lic;
	int depth = 0;

	if (!lic || !*lic)
		return false;
	while (*p) {
		size_t n;

		while (*p == ' ' || (want_id && *p == '(') || (!want_id && *p == ')'))
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0, p++;
		if (!*p || depth < 0)
			break;
		for (n = 0; id_char(p[n]); n++)
			;
		if (!n)
			return false;
		bool op = (n == 3 && !strncmp(p, "AND", 3)) || (n == 2 && !strncmp(p, "OR", 2)) ||
		          (n == 4 && !strncmp(p, "WITH", 4));
		if (want_id == op || (want_id && !known_id(p, n, with)))
			return false; /* an operator where an id belongs, or the other way */
		with = op && n == 4;
		want_id = !want_id;
		p += n;
	}
	return !want_id && depth == 0;
}

const char *evdoc_sha256_hex(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 7 + 64 ||
	    strspn(digest + 7, "0123456789abcdef") != 64)
		return NULL;
	return digest + 7;
}
