/*
 * follow — the ARG of a FROM's tag an environment follows (see follow.h).
 */
#include "follow.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dockerfile.h"

#define VAR_PLAIN    '\x01' /* ${NAME} or $NAME in the mask */
#define VAR_MODIFIED '\x02' /* ${NAME:-word} and the like */
#define MASK_MAX     (REF_STRING_MAX + 64)

/* raw with every variable replaced by one marker byte; the plain variables' names. */
struct mask {
	char text[MASK_MAX];
	size_t len;
	char names[4][FOLLOW_ARG_MAX]; /* of the first plain variables, in order */
	size_t n_names;
};

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static int put(struct mask *m, char c)
{
	if (m->len + 1 >= sizeof(m->text))
		return -ENAMETOOLONG;
	m->text[m->len++] = c;
	m->text[m->len] = '\0';
	return 0;
}

/* A plain variable's name starting at s, n bytes long. */
static int put_var(struct mask *m, const char *s, size_t n)
{
	if (n >= FOLLOW_ARG_MAX)
		return -ENAMETOOLONG;
	if (m->n_names < sizeof(m->names) / sizeof(m->names[0]))
		snprintf(m->names[m->n_names], FOLLOW_ARG_MAX, "%.*s", (int)n, s);
	m->n_names++;
	return put(m, VAR_PLAIN);
}

/* ${...} at raw[i] ("${" seen): advances *i past it. */
static int braced(struct mask *m, const char *raw, size_t *i)
{
	size_t k = *i + 2, n = 0;
	int depth = 1;

	while (name_char(raw[k + n]))
		n++;
	if (n && name_start(raw[k]) && raw[k + n] == '}') {
		*i = k + n + 1;
		return put_var(m, raw + k, n);
	}
	for (k += n; raw[k] && depth; k++)
		depth += raw[k] == '{' ? 1 : raw[k] == '}' ? -1 : 0;
	*i = k;
	return put(m, VAR_MODIFIED);
}

static int mask_of(const char *raw, struct mask *m)
{
	int r = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; r == 0 && raw[i];) {
		if (raw[i] == '\\' && raw[i + 1]) {
			r = put(m, raw[i + 1]);
			i += 2;
		} else if (raw[i] == '$' && raw[i + 1] == '{') {
			r = braced(m, raw, &i);
		} else if (raw[i] == '$' && name_start(raw[i + 1])) {
			size_t n = 1;
			while (name_char(raw[i + 1 + n]))
				n++;
			r = put_var(m, raw + i + 1, n);
			i += 1 + n;
		} else {
			r = put(m, raw[i++]);
		}
	}
	return r;
}

/* Whether value, at [a, b) of tag, spans the version numbers of tag. */
static bool spans_version(const char *tag, size_t a, size_t b)
{
	struct tagver v;

	return tagver_parse(tag, &v) == 0 && a <= v.prefix_len && b >= v.suffix_off;
}

/* The variable of the written tag (mask text after ':'): its index among plain ones. */
static int tag_part(const struct mask *m, const char **ret, char *why, size_t len)
{
	const char *slash = strrchr(m->text, '/'), *colon, *at;
	const char *name = slash ? slash + 1 : m->text;
	size_t before = 0;

	at = strchr(name, '@');
	colon = strrchr(name, ':');
	if (at || !colon) {
		snprintf(why, len, at ? "pinned by digest" : "no tag written after ':'");
		return -ENOENT;
	}
	for (const char *p = m->text; p < colon + 1; p++)
		before += *p == VAR_PLAIN;
	*ret = colon + 1;
	return (int)before;
}

int follow_template(const char *raw, const char *tag, struct follow_tpl *ret, char *why, size_t len)
{
	struct mask m;
	const char *t, *var;
	size_t plain = 0, modified = 0, pre, suf, tlen = strlen(tag);
	int idx;

	if (mask_of(raw, &m) < 0) {
		snprintf(why, len, "the image is too long");
		return -EINVAL;
	}
	if ((idx = tag_part(&m, &t, why, len)) < 0)
		return idx;
	for (const char *p = t; *p; p++) {
		plain += *p == VAR_PLAIN;
		modified += *p == VAR_MODIFIED;
	}
	if (!plain && !modified) {
		snprintf(why, len, "its tag '%s' names no ARG", t);
		return -ENOENT;
	}
	if (modified) {
		snprintf(why, len,
		         "its tag uses ${NAME:...}: only ${NAME} or $NAME can be followed");
		return -EINVAL;
	}
	if (plain > 1 || (size_t)idx >= sizeof(m.names) / sizeof(m.names[0])) {
		snprintf(why, len, "its tag is made of %zu variables: ambiguous", plain);
		return -EINVAL;
	}
	var = strchr(t, VAR_PLAIN);
	pre = (size_t)(var - t);
	suf = strlen(var + 1);
	if (pre >= sizeof(ret->prefix) || suf >= sizeof(ret->suffix) || tlen < pre + suf ||
	    strncmp(tag, t, pre) || strcmp(tag + tlen - suf, var + 1)) {
		snprintf(why, len, "its tag '%s' does not read as the written one", tag);
		return -EINVAL;
	}
	if (tlen == pre + suf || !spans_version(tag, pre, tlen - suf)) {
		snprintf(why, len, "%s (%.*s) is not the version part of tag %s", m.names[idx],
		         (int)(tlen - pre - suf), tag + pre, tag);
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->arg, sizeof(ret->arg), "%s", m.names[idx]);
	snprintf(ret->prefix, sizeof(ret->prefix), "%.*s", (int)pre, t);
	snprintf(ret->suffix, sizeof(ret->suffix), "%s", var + 1);
	snprintf(ret->value, sizeof(ret->value), "%.*s", (int)(tlen - pre - suf), tag + pre);
	return 0;
}

int follow_derive(const struct follow_tpl *t, const char *tag, char *ret, size_t len)
{
	size_t pre = strlen(t->prefix), suf = strlen(t->suffix), tlen = strlen(tag);

	if (tlen <= pre + suf || strncmp(tag, t->prefix, pre) ||
	    strcmp(tag + tlen - suf, t->suffix) || !spans_version(tag, pre, tlen - suf) ||
	    tlen - pre - suf >= len)
		return -EINVAL;
	snprintf(ret, len, "%.*s", (int)(tlen - pre - suf), tag + pre);
	return 0;
}

int follow_tag(const struct follow_tpl *t, const char *value, char *ret, size_t len)
{
	int n = snprintf(ret, len, "%s%s%s", t->prefix, value, t->suffix);

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* Appends "; line N: what" to why. */
static void note(char *why, size_t len, int line, const char *what)
{
	size_t used = strlen(why);

	if (used < len)
		snprintf(why + used, len - used, "%sline %d: %s", used ? "; " : "", line, what);
}

/* Stage st as a followed base in *ret: 0, or -ENOENT with the reason noted. */
static int try_stage(const struct dockerfile_stage *st, struct follow_base *ret, char *why,
                     size_t len)
{
	struct image_ref ref;
	char what[512];

	if (!strchr(st->raw_base, '$'))
		return -ENOENT;
	if (st->base_unset) {
		note(why, len, st->line, "a variable in the image has no value");
		return -ENOENT;
	}
	if (ref_parse(st->base, &ref, NULL) < 0 || !ref.tag[0]) {
		note(why, len, st->line, "the image has no usable tag");
		return -ENOENT;
	}
	if (follow_template(st->raw_base, ref.tag, &ret->tpl, what, sizeof(what)) < 0) {
		note(why, len, st->line, what);
		return -ENOENT;
	}
	if (ref_string(&ref, ret->ref, sizeof(ret->ref)) < 0)
		return -ENOENT;
	snprintf(ret->tag, sizeof(ret->tag), "%s", ref.tag);
	ret->line = st->line;
	return 0;
}

int follow_find(const struct dockerfile *df, const char *const *build_args, const char *target,
                const char *platform, struct follow_base *ret, char *why, size_t len)
{
	struct dockerfile_opts o = {.build_args = build_args,
	                            .target = target,
	                            .last_stage = !target,
	                            .platform = platform};
	struct dockerfile_resolved *res = NULL;
	int r = dockerfile_resolve(df, &o, &res, why, len);

	if (r < 0)
		return r;
	why[0] = '\0';
	r = -ENOENT;
	for (size_t i = 0; r < 0 && i < res->n_stages; i++)
		if (res->stages[i].needed && res->stages[i].base_stage < 0)
			r = try_stage(&res->stages[i], ret, why, len);
	if (r < 0 && !why[0])
		snprintf(why, len, "no FROM of the build names an ARG");
	dockerfile_resolved_free(res);
	return r;
}
