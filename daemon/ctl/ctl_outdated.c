/*
 * ctl_outdated — `refitctl outdated [NAME]`: the bases pinned to a version tag
 * that have a newer tag their project's `outdated` policy allows (with NAME:
 * every pinned base of that project, the newest ones marked).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_client.h"

static void outdated_rows(struct table *t, json_t *p, bool all)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(p, "bases"), i, b)
	{
		json_t *o = json_object_get(b, "outdated");
		bool newer = json_is_string(json_object_get(o, "newest"));
		char t1[40];

		if (!json_is_object(o) || (!all && !newer))
			continue;
		const char *v[] = {
		        json_str(p, "name"),   json_str(b, "ref"),
		        json_str(o, "tag"),    newer ? json_str(o, "newest") : "(newest)",
		        json_str(o, "policy"), json_when(o, "checked_at", t1, sizeof(t1))};
		table_row(t, v);
	}
}

int ctl_outdated(int argc, char **argv)
{
	static const char *const head[] = {"PROJECT", "BASE", "TAG", "NEWEST", "POLICY", "CHECKED"};
	struct client c = {.cmd = "outdated"};
	char path[128];
	json_t *doc, *list, *p;
	struct table *t;
	size_t i;
	int n = client_parse(&c, argc, argv, NULL, NULL, NULL), code;

	if (n < 0 || argc - n > 1 || (n < argc && (strchr(argv[n], '/') || strlen(argv[n]) > 64)))
		return client_usage(&c, " [NAME]");
	snprintf(path, sizeof(path), "/v1/projects%s%s", n < argc ? "/" : "",
	         n < argc ? argv[n] : "");
	code = client_get_json(&c, path, &doc);
	if (!doc)
		return code;
	list = n < argc ? json_pack("[O]", doc) : json_incref(json_object_get(doc, "projects"));
	t = table_new(6, head);
	json_array_foreach(list, i, p)
	{
		if (t)
			outdated_rows(t, p, n < argc);
	}
	if (t)
		table_print(t);
	free(t);
	json_decref(list);
	json_decref(doc);
	return t ? CTL_OK : CTL_FAIL;
}
