/*
 * api_follow — `follow:` in the API: each environment of a project's detail
 * gets a "follow" object (null when the environment does not follow): its
 * policy and, once a newer tag was found, the ARG, the value builds pass, the
 * tag it yields and the ARG's own value (store_follow).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "api_impl.h"
#include "config.h"
#include "store_follow.h"
#include "tagver.h"

struct find {
	const char *env;
	json_t *o;
};

static int find_cb(const struct store_follow_row *r, void *arg)
{
	struct find *f = arg;

	if (strcmp(r->env, f->env))
		return 0;
	json_object_set_new(f->o, "arg", api_jstr(r->arg));
	json_object_set_new(f->o, "value", api_jstr(r->value));
	json_object_set_new(f->o, "tag", api_jstr(r->tag));
	json_object_set_new(f->o, "own", api_jstr(r->own));
	json_object_set_new(f->o, "base", api_jstr(r->ref));
	json_object_set_new(f->o, "updated_at", api_jtime(r->updated_at));
	return 1;
}

json_t *api_follow_json(struct store *s, const char *project, const struct config_env *e)
{
	struct find f = {e->name, NULL};

	if (e->follow == TAGVER_OFF)
		return json_null();
	f.o = json_pack("{s:s,s:n,s:n,s:n,s:n,s:n,s:n}", "policy",
	                tagver_policy_name((enum tagver_policy)e->follow), "arg", "value", "tag",
	                "own", "base", "updated_at");
	if (f.o && store_follow_each(s, project, find_cb, &f) < 0) {
		json_decref(f.o);
		return NULL;
	}
	return f.o;
}
