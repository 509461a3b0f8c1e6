/*
 * api_outdated — newer tags of version-pinned bases (store_tags) in the API:
 * each base of a project's detail gets an "outdated" object (null when its
 * tag is not a version or the project's policy is off).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "api_impl.h"
#include "store_tags.h"

static int attach_cb(const struct store_tags_row *r, void *arg)
{
	json_t *list = json_object_get(arg, r->project), *b;
	size_t i;

	json_array_foreach(list, i, b)
	{
		const char *ref = json_string_value(json_object_get(b, "ref"));
		json_t *o;

		if (!ref || strcmp(ref, r->ref))
			continue;
		o = json_pack("{s:o,s:o,s:o,s:o,s:o}", "tag", api_jstr(r->tag), "policy",
		              api_jstr(r->policy), "newest", api_jstr(r->newest), "checked_at",
		              api_jtime(r->checked_at), "error", api_jstr(r->error));
		if (!o || json_object_set_new(b, "outdated", o) < 0)
			return -ENOMEM;
	}
	return 0;
}

int api_outdated_attach(struct store *s, const char *only, struct json_t *bases)
{
	const char *project;
	json_t *list, *b;
	size_t i;

	json_object_foreach(bases, project, list)
	{
		json_array_foreach(list, i, b)
		{
			if (json_object_set_new(b, "outdated", json_null()) < 0)
				return -ENOMEM;
		}
	}
	return store_tags_each(s, only, attach_cb, bases);
}
