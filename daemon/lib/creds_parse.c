/*
 * creds_parse — the pure half of creds (see creds.h and creds_parse.h):
 * secrets in memory, host names, Docker's config.json, helper output and the
 * X-Registry-Auth / X-Registry-Config encoders (base64 is base64.c). No I/O.
 */
#include "creds_parse.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base64.h"
#include "errf.h"

static const char hub_key[] = "https://index.docker.io/v1/";

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void creds_secret_free(char *s)
{
	wipe_free(s);
}

void creds_entry_done(struct creds_entry *e)
{
	wipe_free(e->username);
	wipe_free(e->secret);
	e->username = NULL;
	e->secret = NULL;
	e->kind = CREDS_ANONYMOUS;
}

/* Fills e (anonymous on entry) with copies of user and secret. */
static int entry_set(struct creds_entry *e, enum creds_kind kind, const char *user,
                     const char *secret)
{
	e->kind = kind;
	if (user && !(e->username = strdup(user)))
		goto oom;
	if (secret && !(e->secret = strdup(secret)))
		goto oom;
	return 0;
oom:
	creds_entry_done(e);
	return -ENOMEM;
}

int creds_entry_copy(struct creds_entry *dst, const struct creds_entry *src)
{
	struct creds_entry e = {.kind = CREDS_ANONYMOUS};

	memcpy(e.source, src->source, sizeof(e.source));
	if (entry_set(&e, src->kind, src->username, src->secret) < 0)
		return -ENOMEM;
	*dst = e;
	return 0;
}

/* ---- host names ---- */

static bool host_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr(".-_:[]", ch));
}

static bool is_hub(const char *h)
{
	return !strcasecmp(h, "docker.io") || !strcasecmp(h, "index.docker.io") ||
	       !strcasecmp(h, "registry-1.docker.io");
}

int creds_canon_host(const char *host, char *buf, size_t len)
{
	const char *p = host;
	size_t n;

	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	n = strcspn(p, "/");
	if (n == 0 || n >= len)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!host_char_ok(p[i]))
			return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (is_hub(buf))
		snprintf(buf, len, "docker.io");
	return 0;
}

/* The key Docker files host's credentials under; canon is canonical. */
static const char *server_key(const char *canon)
{
	return strcmp(canon, "docker.io") ? canon : hub_key;
}

const char *creds_server_address(const char *host)
{
	char canon[CREDS_HOST_MAX];

	if (creds_canon_host(host, canon, sizeof(canon)) == 0 && !strcmp(canon, "docker.io"))
		return hub_key;
	return host;
}

/* ---- config.json and helper output ---- */

/*
 * Zeroes every string in a parsed document before it is freed: jansson
 * keeps its own copies of the secrets it parsed. The strings are jansson's
 * heap memory, so writing through the const pointer is sound.
 */
static void json_wipe(json_t *j)
{
	if (json_is_string(j)) {
		explicit_bzero((char *)(uintptr_t)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it))
			json_wipe(json_object_iter_value(it));
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++)
			json_wipe(json_array_get(j, i));
	}
}

static void json_wipe_decref(json_t *j)
{
	if (!j)
		return;
	json_wipe(j);
	json_decref(j);
}

/* Member name of obj, with JSON null taken as absent. */
static json_t *member(const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_null(v) ? NULL : v;
}

/* The string member name of obj in *ret (NULL when absent); -EINVAL when not a string. */
static int string_member(const json_t *obj, const char *name, const char **ret)
{
	json_t *v = member(obj, name);

	if (v && !json_is_string(v))
		return -EINVAL;
	*ret = v ? json_string_value(v) : NULL;
	return 0;
}

/* The value under the key of obj that names canon: the exact key first, else any key
 * naming the same host once normalised. */
static json_t *find_host_key(json_t *obj, const char *canon)
{
	const char *exact = server_key(canon);
	char kc[CREDS_HOST_MAX];
	json_t *found = NULL;

	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *key = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		if (!strcasecmp(key, exact))
			return v;
		if (!found && creds_canon_host(key, kc, sizeof(kc)) == 0 && !strcasecmp(kc, canon))
			found = v;
	}
	return found;
}

static bool helper_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CREDS_HELPER_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!host_char_ok(*s) || *s == ':' || *s == '[' || *s == ']')
			return false;
	return true;
}

/* 1 with the helper's name when one holds canon's credentials, 0 when none, or -EINVAL. */
static int find_helper(const json_t *root, const char *canon, char *name, char *err, size_t errlen)
{
	json_t *helpers = member(root, "credHelpers"), *store = member(root, "credsStore"), *v;
	const char *s = NULL;

	if ((helpers && !json_is_object(helpers)) || (store && !json_is_string(store))) {
		errf(err, errlen, 0, "'credHelpers' must be an object and 'credsStore' a string");
		return -EINVAL;
	}
	v = helpers ? find_host_key(helpers, canon) : NULL;
	if (v && !json_is_string(v)) {
		errf(err, errlen, 0, "credHelpers entry for %s is not a string", canon);
		return -EINVAL;
	}
	/* Like docker/cli: an empty credHelpers value means the file itself. */
	s = v ? json_string_value(v) : store ? json_string_value(store) : NULL;
	if (!s || !*s)
		return 0;
	if (!helper_name_ok(s)) {
		errf(err, errlen, 0, "credential helper name for %s is not a plain name", canon);
		return -EINVAL;
	}
	snprintf(name, CREDS_HELPER_NAME_MAX + 1, "%s", s);
	return 1;
}

/* Splits base64(user:password) at the first ':'. */
static int decode_auth(const char *auth, char **ret_user, char **ret_pass)
{
	size_t len = strlen(auth), n;
	unsigned char *buf = malloc(BASE64_DECODED_MAX(len));
	char *colon, *user = NULL, *pass = NULL;
	int r = -ENOMEM;

	if (!buf)
		return -ENOMEM;
	if (base64_decode(auth, len, false, buf, BASE64_DECODED_MAX(len), &n) < 0 ||
	    memchr(buf, '\0', n) || !(colon = memchr(buf, ':', n))) {
		r = -EINVAL;
		goto out;
	}
	user = strndup((char *)buf, (size_t)(colon - (char *)buf));
	pass = strndup(colon + 1, n - (size_t)(colon + 1 - (char *)buf));
	if (!user || !pass)
		goto out;
	*ret_user = user;
	*ret_pass = pass;
	user = pass = NULL;
	r = 0;
out:
	wipe_free(user);
	wipe_free(pass);
	explicit_bzero(buf, len / 4 * 3 + 3);
	free(buf);
	return r;
}

/* An auths entry: registrytoken, else identitytoken, else auth / username+password, as in
 * Docker's registry client; an entry with none of these is a helper's marker. */
static int parse_auth_entry(const json_t *v, const char *canon, struct creds_entry *e, char *err,
                            size_t errlen)
{
	const char *auth, *idt, *rt, *u, *p;
	char *user = NULL, *pass = NULL;
	int r;

	if (string_member(v, "auth", &auth) < 0 || string_member(v, "identitytoken", &idt) < 0 ||
	    string_member(v, "registrytoken", &rt) < 0 || string_member(v, "username", &u) < 0 ||
	    string_member(v, "password", &p) < 0) {
		errf(err, errlen, 0, "auths entry for %s has a field that is not a string", canon);
		return -EINVAL;
	}
	if (auth && *auth) {
		r = decode_auth(auth, &user, &pass);
		if (r < 0) {
			errf(err, errlen, 0, "'auth' for %s is not base64 of user:password", canon);
			return r;
		}
		u = user;
		p = pass;
	}
	if (rt && *rt)
		r = entry_set(e, CREDS_REGISTRY_TOKEN, NULL, rt);
	else if (idt && *idt)
		r = entry_set(e, CREDS_IDENTITY_TOKEN, u && *u ? u : NULL, idt);
	else if (u && p)
		r = entry_set(e, CREDS_BASIC, u, p);
	else
		r = 0;
	wipe_free(user);
	wipe_free(pass);
	if (r < 0)
		errf(err, errlen, 0, "out of memory");
	return r;
}

static int find_auth(json_t *root, const char *canon, struct creds_entry *e, char *err,
                     size_t errlen)
{
	json_t *auths = member(root, "auths"), *v;

	if (auths && !json_is_object(auths)) {
		errf(err, errlen, 0, "'auths' is not an object");
		return -EINVAL;
	}
	v = auths ? find_host_key(auths, canon) : NULL;
	if (!v)
		return 0;
	if (!json_is_object(v)) {
		errf(err, errlen, 0, "auths entry for %s is not an object", canon);
		return -EINVAL;
	}
	snprintf(e->source, sizeof(e->source), "config.json");
	return parse_auth_entry(v, canon, e, err, errlen);
}

int creds_parse_dockercfg(const char *text, size_t len, const char *canon_host,
                          struct creds_dockercfg *ret, char *err, size_t errlen)
{
	struct creds_dockercfg out = {.entry.kind = CREDS_ANONYMOUS};
	json_error_t jerr;
	json_t *root;
	int r = -EINVAL;

	snprintf(out.entry.source, sizeof(out.entry.source), "none");
	root = json_loadb(text, len, 0, &jerr);
	/* Only the position: jansson's own text quotes the input, which may be a secret. */
	if (!root) {
		errf(err, errlen, 0, "not valid JSON (line %d, column %d)", jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		errf(err, errlen, 0, "not a JSON object");
		goto out;
	}
	r = find_helper(root, canon_host, out.helper, err, errlen);
	if (r == 0)
		r = find_auth(root, canon_host, &out.entry, err, errlen);
	if (r < 0)
		goto out;
	*ret = out;
	r = 0;
out:
	json_wipe_decref(root);
	return r;
}

int creds_parse_helper_output(const char *text, size_t len, struct creds_entry *ret, char *err,
                              size_t errlen)
{
	struct creds_entry e = {.kind = CREDS_ANONYMOUS};
	const char *user = NULL, *secret = NULL;
	json_t *root = json_loadb(text, len, 0, NULL);
	int r = -EBADMSG;

	if (!root || !json_is_object(root)) {
		errf(err, errlen, 0, "output is not a JSON object");
		goto out;
	}
	if (string_member(root, "Username", &user) < 0 ||
	    string_member(root, "Secret", &secret) < 0 || !secret) {
		errf(err, errlen, 0, "output lacks the \"Username\" and \"Secret\" strings");
		goto out;
	}
	/* docker-credential-helpers: the user name "<token>" marks an identity token. */
	if (!*secret)
		r = 0;
	else if (user && !strcmp(user, "<token>"))
		r = entry_set(&e, CREDS_IDENTITY_TOKEN, NULL, secret);
	else
		r = entry_set(&e, CREDS_BASIC, user ? user : "", secret);
	if (r < 0) {
		errf(err, errlen, 0, "out of memory");
		goto out;
	}
	*ret = e;
out:
	json_wipe_decref(root);
	return r;
}

/* ---- what the engine sends to dockerd ---- */

/* A growing string; it carries secrets, so growth copies and wipes instead of realloc. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *np;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		while (cap < b->len + n + 1 && cap <= SIZE_MAX / 2)
			cap *= 2;
		np = cap >= b->len + n + 1 ? malloc(cap) : NULL;
		if (!np) {
			b->oom = true;
			return;
		}
		if (b->p) {
			memcpy(np, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s, or 0 (RFC 3629: no overlong forms, surrogates or
 * code points past U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A JSON string. A byte that is not UTF-8 becomes U+FFFD, as Go's encoding/json does, so
 * the text always parses (a secret file may hold any bytes). */
static void sb_json_str(struct sbuf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];
	size_t n;

	sb_puts(b, "\"");
	while (*s) {
		n = utf8_len(s);
		if (*s == '"' || *s == '\\') {
			snprintf(esc, sizeof(esc), "\\%c", *s);
			sb_puts(b, esc);
		} else if (*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			sb_puts(b, esc);
		} else if (n == 0) {
			sb_puts(b, "\\ufffd");
			n = 1;
		} else {
			sb_put(b, (const char *)s, n);
		}
		s += n;
	}
	explicit_bzero(esc, sizeof(esc));
	sb_puts(b, "\"");
}

static void sb_field(struct sbuf *b, bool *first, const char *name, const char *value)
{
	sb_puts(b, *first ? "\"" : ",\"");
	sb_puts(b, name);
	sb_puts(b, "\":");
	sb_json_str(b, value);
	*first = false;
}

/* Docker's AuthConfig, fields in the order Go marshals them. */
static void sb_auth(struct sbuf *b, const struct creds_entry *e, const char *host)
{
	bool first = true;

	sb_puts(b, "{");
	if (e->kind == CREDS_BASIC || (e->kind == CREDS_IDENTITY_TOKEN && e->username))
		sb_field(b, &first, "username", e->username ? e->username : "");
	if (e->kind == CREDS_BASIC)
		sb_field(b, &first, "password", e->secret ? e->secret : "");
	if (host)
		sb_field(b, &first, "serveraddress", creds_server_address(host));
	if (e->kind == CREDS_IDENTITY_TOKEN)
		sb_field(b, &first, "identitytoken", e->secret ? e->secret : "");
	if (e->kind == CREDS_REGISTRY_TOKEN)
		sb_field(b, &first, "registrytoken", e->secret ? e->secret : "");
	sb_puts(b, "}");
}

static int sb_finish_base64url(struct sbuf *b, char **ret)
{
	char *out = b->oom ? NULL : base64_encode(b->p, b->len, true);

	if (b->p) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

int creds_x_registry_auth(const struct creds_entry *e, const char *host, char **ret)
{
	struct sbuf b = {0};

	if (!e || e->kind == CREDS_ANONYMOUS)
		sb_puts(&b, "{}");
	else
		sb_auth(&b, e, host);
	return sb_finish_base64url(&b, ret);
}

static bool has_auth(const struct creds_host_entry *he)
{
	return he->host && he->entry && he->entry->kind != CREDS_ANONYMOUS;
}

int creds_x_registry_config(const struct creds_host_entry *list, size_t n, char **ret)
{
	struct sbuf b = {0};
	bool first = true;

	sb_puts(&b, "{");
	for (size_t i = 0; i < n; i++) {
		const char *key = has_auth(&list[i]) ? creds_server_address(list[i].host) : NULL;
		bool dup = false;
		for (size_t j = 0; key && j < i && !dup; j++)
			dup = has_auth(&list[j]) &&
			      !strcasecmp(creds_server_address(list[j].host), key);
		if (!key || dup)
			continue;
		sb_puts(&b, first ? "" : ",");
		sb_json_str(&b, key);
		sb_puts(&b, ":");
		sb_auth(&b, list[i].entry, NULL);
		first = false;
	}
	sb_puts(&b, "}");
	return sb_finish_base64url(&b, ret);
}
