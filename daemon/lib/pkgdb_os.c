/*
 * pkgdb_os — os-release(5) and /etc/debian_version, and the OSV ecosystem
 * they map to. Part of the pkgdb module (pkgdb.h).
 */
#include "pkgdb.h"
#include "errf.h"
#include "pkgdb_impl.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define OSR_VALUE_MAX 512 /* longest os-release value we unquote */

/* The values of the keys we use, unquoted. */
struct osr {
	char id[OSR_VALUE_MAX], version_id[OSR_VALUE_MAX], codename[OSR_VALUE_MAX];
	char pretty[OSR_VALUE_MAX], id_like[OSR_VALUE_MAX];
};

/* One character of a value in state q ('\0', '\'' or '"'); returns bytes consumed. */
static size_t unquote_char(const char *p, const char *end, char *q, char *out, bool *ret_emit)
{
	*ret_emit = false;
	if (*q == '\'') {
		if (*p == '\'')
			*q = '\0';
		else
			*out = *p, *ret_emit = true;
		return 1;
	}
	if (*q == '"' && *p == '"') {
		*q = '\0';
		return 1;
	}
	if (!*q && (*p == '\'' || *p == '"')) {
		*q = *p;
		return 1;
	}
	if (*p == '\\' && p + 1 < end && (!*q || strchr("\"\\$`", p[1]))) {
		*out = p[1], *ret_emit = true;
		return 2;
	}
	*out = *p, *ret_emit = true;
	return 1;
}

/*
 * Unquotes a value (shell rules, as os-release(5) asks) into out, cut at
 * OSR_VALUE_MAX - 1 bytes (a long value of a key we ignore is no error);
 * -EINVAL when malformed.
 */
static int unquote(const char *p, size_t n, size_t no, size_t col, char *out, char *err,
                   size_t errlen)
{
	const char *end = p + n, *open = NULL, *s = p;
	size_t o = 0;
	char q = '\0';

	while (p < end) {
		char c;
		bool emit_c;
		char before = q;

		if ((unsigned char)*p < ' ' && *p != '\t') {
			errf(err, errlen, 0, "line %zu:%zu: control character", no,
			     col + (size_t)(p - s));
			return -EINVAL;
		}
		if (!before && *p == '\\' && p + 1 == end) {
			errf(err, errlen, 0, "line %zu:%zu: trailing backslash", no, col + n - 1);
			return -EINVAL;
		}
		p += unquote_char(p, end, &q, &c, &emit_c);
		if (!before && q)
			open = p - 1;
		if (emit_c && o + 1 < OSR_VALUE_MAX)
			out[o++] = c; /* cut: what we keep is shorter, or rejected when longer */
	}
	if (q) {
		errf(err, errlen, 0, "line %zu:%zu: unterminated quote", no,
		     col + (size_t)(open - s));
		return -EINVAL;
	}
	out[o] = '\0';
	return 0;
}

static char *osr_slot(struct osr *v, const char *k, size_t n)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	        {"ID", offsetof(struct osr, id)},
	        {"VERSION_ID", offsetof(struct osr, version_id)},
	        {"VERSION_CODENAME", offsetof(struct osr, codename)},
	        {"PRETTY_NAME", offsetof(struct osr, pretty)},
	        {"ID_LIKE", offsetof(struct osr, id_like)},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].key) == n && !memcmp(k, keys[i].key, n))
			return (char *)v + keys[i].off;
	return NULL;
}

/* One KEY=value line (already trimmed, not a comment); later lines win, as in a shell. */
static int osr_line(struct osr *v, const char *l, size_t n, size_t no, size_t col, char *err,
                    size_t errlen)
{
	char scratch[OSR_VALUE_MAX], *slot;
	size_t k = 0;

	while (k < n && (pkgdb_is_alnum(l[k]) || l[k] == '_'))
		k++;
	if (!k || k == n || l[k] != '=' || pkgdb_is_digit(l[0])) {
		errf(err, errlen, 0, "line %zu:%zu: expected KEY=value", no,
		     pkgdb_is_digit(l[0]) ? col : col + k);
		return -EINVAL;
	}
	slot = osr_slot(v, l, k);
	return unquote(l + k + 1, n - k - 1, no, col + k + 1, slot ? slot : scratch, err, errlen);
}

static int osr_parse(const char *buf, size_t len, struct osr *v, char *err, size_t errlen)
{
	struct lines it = {buf, len, 0, 0};
	const char *l, *start;
	size_t n;
	int r;

	while (pkgdb_next_line(&it, &l, &n)) {
		start = l;
		pkgdb_trim(&l, &n);
		if (!n || l[0] == '#')
			continue;
		r = osr_line(v, l, n, it.no, (size_t)(l - start) + 1, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct {
	const char *name, *major;
} debian_codenames[] = {
        {"jessie", "8"},    {"stretch", "9"}, {"buster", "10"}, {"bullseye", "11"},
        {"bookworm", "12"}, {"trixie", "13"}, {"forky", "14"},
};

static const char *debian_major(const char *codename)
{
	for (size_t i = 0; i < sizeof(debian_codenames) / sizeof(debian_codenames[0]); i++)
		if (!strcmp(codename, debian_codenames[i].name))
			return debian_codenames[i].major;
	return NULL;
}

/* Length of the leading run of digits of s. */
static size_t digits(const char *s)
{
	size_t i = 0;

	while (pkgdb_is_digit(s[i]))
		i++;
	return i;
}

static void map_debian(struct pkgdb_os *os, char *err, size_t errlen)
{
	size_t d = digits(os->version_id);
	const char *major;

	if (d && (!os->version_id[d] || os->version_id[d] == '.')) {
		snprintf(os->ecosystem, sizeof(os->ecosystem), "Debian:%.*s", (int)d,
		         os->version_id);
	} else if (os->version_id[0]) {
		errf(err, errlen, 0, "debian VERSION_ID '%s' is not a release number",
		     os->version_id);
	} else if ((major = debian_major(os->codename))) {
		snprintf(os->ecosystem, sizeof(os->ecosystem), "Debian:%s", major);
	} else {
		errf(err, errlen, 0, "debian without VERSION_ID and with %s VERSION_CODENAME '%s'",
		     os->codename[0] ? "an unknown" : "no", os->codename);
	}
}

/* Ubuntu YY.MM; LTS releases are the .04 of even years. */
static void map_ubuntu(struct pkgdb_os *os, char *err, size_t errlen)
{
	const char *v = os->version_id;
	bool lts;

	if (digits(v) != 2 || v[2] != '.' || digits(v + 3) != 2 || v[5]) {
		errf(err, errlen, 0, "ubuntu VERSION_ID '%s' is not YY.MM", v);
		return;
	}
	lts = (v[1] - '0') % 2 == 0 && v[3] == '0' && v[4] == '4';
	snprintf(os->ecosystem, sizeof(os->ecosystem), "Ubuntu:%s%s", v, lts ? ":LTS" : "");
}

/* Alpine MAJOR.MINOR[.PATCH]; edge ("3.21_alpha20240923") has no OSV ecosystem. */
static void map_alpine(struct pkgdb_os *os, char *err, size_t errlen)
{
	const char *v = os->version_id;
	size_t a = digits(v), b = a && v[a] == '.' ? digits(v + a + 1) : 0;
	const char *rest = v + a + 1 + b;

	if (!b || (*rest && (*rest != '.' || !digits(rest + 1) || rest[1 + digits(rest + 1)]))) {
		errf(err, errlen, 0, "alpine VERSION_ID '%s' is not a release (edge?)", v);
		return;
	}
	snprintf(os->ecosystem, sizeof(os->ecosystem), "Alpine:v%.*s", (int)(a + 1 + b), v);
}

static int osr_copy(char *dst, size_t cap, const char *src, const char *key, char *err,
                    size_t errlen)
{
	size_t n = strlen(src);

	if (n >= cap) {
		errf(err, errlen, 0, "%s longer than %zu bytes", key, cap - 1);
		return -EINVAL;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

/* Copies src, cut to fit cap but not inside a UTF-8 sequence. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap) {
		n = cap - 1;
		while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int pkgdb_os_release(const char *buf, size_t len, struct pkgdb_os *ret, char *err, size_t errlen)
{
	struct osr v = {.id = "linux"};
	struct pkgdb_os os;
	int r;

	if ((!buf && len) || !ret)
		return -EINVAL;
	memset(&os, 0, sizeof(os));
	if ((r = osr_parse(buf, len, &v, err, errlen)) < 0)
		return r;
	if ((r = osr_copy(os.id, sizeof(os.id), v.id, "ID", err, errlen)) < 0 ||
	    (r = osr_copy(os.version_id, sizeof(os.version_id), v.version_id, "VERSION_ID", err,
	                  errlen)) < 0 ||
	    (r = osr_copy(os.codename, sizeof(os.codename), v.codename, "VERSION_CODENAME", err,
	                  errlen)) < 0)
		return r;
	copy_cut(os.pretty, sizeof(os.pretty), v.pretty); /* display only */
	errf(err, errlen, 0, "%s", "");
	if (!strcmp(os.id, "debian"))
		map_debian(&os, err, errlen);
	else if (!strcmp(os.id, "ubuntu"))
		map_ubuntu(&os, err, errlen);
	else if (!strcmp(os.id, "alpine"))
		map_alpine(&os, err, errlen);
	else if (v.id_like[0])
		errf(err, errlen, 0, "ID=%s (like %s) has no OSV ecosystem of its own", os.id,
		     v.id_like);
	else
		errf(err, errlen, 0, "ID=%s has no OSV ecosystem", os.id);
	*ret = os;
	return 0;
}

int pkgdb_debian_version(const char *buf, size_t len, struct pkgdb_os *ret)
{
	struct lines it = {buf, len, 0, 0};
	char word[32];
	const char *l, *major;
	char *slash;
	size_t n, d;

	if (!ret || !pkgdb_next_line(&it, &l, &n))
		return -EINVAL;
	pkgdb_trim(&l, &n);
	if (!n || n >= sizeof(word) || memchr(l, '\0', n))
		return -EINVAL;
	memcpy(word, l, n);
	word[n] = '\0';
	d = digits(word);
	if (d) {
		if (d > 2 || (word[d] && (word[d] != '.' || !digits(word + d + 1))))
			return -EINVAL;
		word[d] = '\0';
		snprintf(ret->version_id, sizeof(ret->version_id), "%s", word);
		snprintf(ret->ecosystem, sizeof(ret->ecosystem), "Debian:%s", word);
	} else {
		if ((slash = strchr(word, '/')))
			*slash = '\0'; /* "trixie/sid": testing's codename */
		if (!(major = debian_major(word)))
			return -EINVAL;
		ret->version_id[0] = '\0';
		snprintf(ret->codename, sizeof(ret->codename), "%s", word);
		snprintf(ret->ecosystem, sizeof(ret->ecosystem), "Debian:%s", major);
	}
	snprintf(ret->id, sizeof(ret->id), "debian");
	return 0;
}
