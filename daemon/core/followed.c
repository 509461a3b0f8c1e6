/*
 * followed — the followed value an environment builds with (see followed.h).
 */
#include "followed.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bases.h"
#include "config.h"
#include "store_follow.h"

struct find {
	const char *env, *arg;
	char value[TAGVER_MAX_LEN + 1];
};

static int find_cb(const struct store_follow_row *r, void *arg)
{
	struct find *f = arg;

	if (strcmp(r->env, f->env) || strcmp(r->arg, f->arg))
		return 0;
	snprintf(f->value, sizeof(f->value), "%s", r->value);
	return 1;
}

/* The tag value yields under fb is newer than fb's own, and of its flavour. */
static bool newer(const struct follow_base *fb, const char *value)
{
	char tag[3 * TAGVER_MAX_LEN + 4];
	struct tagver a, b;

	return follow_tag(&fb->tpl, value, tag, sizeof(tag)) == 0 && tagver_parse(tag, &a) == 0 &&
	       tagver_parse(fb->tag, &b) == 0 && tagver_same_flavour(&a, &b) &&
	       tagver_cmp(&a, &b) > 0;
}

/* fb's reference with the followed tag. */
static void followed_ref(const struct follow_base *fb, struct followed *f)
{
	char tag[3 * TAGVER_MAX_LEN + 4];
	struct image_ref r;

	if (ref_parse(fb->ref, &r, NULL) < 0 ||
	    follow_tag(&fb->tpl, f->value, tag, sizeof(tag)) < 0 || ref_with_tag(&r, tag) < 0 ||
	    ref_string(&r, f->ref, sizeof(f->ref)) < 0)
		f->ref[0] = '\0';
}

static int with_value(const struct config_env *e, struct followed *f)
{
	size_t n = e->n_build_args;

	f->args = calloc(n + 1, sizeof(*f->args));
	if (!f->args)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		f->args[i] = e->build_args[i];
	f->n_args = n;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f->args[i].key, f->arg)) {
			f->args[i].value = f->value;
			return 0;
		}
	f->args[f->n_args++] = (struct config_kv){f->arg, f->value};
	return 0;
}

int followed_of(struct store *s, const struct config_project *p, const struct config_env *e,
                const char *platform, struct followed *ret)
{
	struct follow_base fb;
	struct find q = {e->name, NULL, ""};
	char err[1024];

	memset(ret, 0, sizeof(*ret));
	if (e->follow == TAGVER_OFF || bases_follow(p, e, platform, &fb, err, sizeof(err)) < 0)
		return 0;
	q.arg = fb.tpl.arg;
	if (store_follow_each(s, p->name, find_cb, &q) < 0 || !q.value[0] || !newer(&fb, q.value))
		return 0;
	snprintf(ret->arg, sizeof(ret->arg), "%s", fb.tpl.arg);
	snprintf(ret->value, sizeof(ret->value), "%s", q.value);
	snprintf(ret->own, sizeof(ret->own), "%s", fb.tpl.value);
	snprintf(ret->label, sizeof(ret->label), "%s=%s", ret->arg, ret->value);
	snprintf(ret->own_ref, sizeof(ret->own_ref), "%s", fb.ref);
	followed_ref(&fb, ret);
	return with_value(e, ret);
}

char *followed_reasons(const struct followed *f, const char *reasons)
{
	char *out = NULL;

	if (!f->label[0] || (reasons && strstr(reasons, f->label)))
		return strdup(reasons ? reasons : "");
	if (asprintf(&out, "%s%sfollow: %s (Dockerfile: %s)", reasons ? reasons : "",
	             reasons && reasons[0] ? "\n" : "", f->label, f->own) < 0)
		return NULL;
	return out;
}

void followed_done(struct followed *f)
{
	free(f->args);
	f->args = NULL;
	f->n_args = 0;
}
