/*
 * ctl_feeds — `refitctl feeds` (each security feed and the state of its scopes)
 * and `refitctl feeds poll` (poll them now, e.g. after a mirror was updated).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_client.h"

static void feed_rows(struct table *t, json_t *f)
{
	json_t *s;
	size_t i;
	char n[24], t1[40], t2[40];

	json_array_foreach(json_object_get(f, "scopes"), i, s)
	{
		snprintf(n, sizeof(n), "%lld",
		         (long long)json_integer_value(json_object_get(s, "advisories")));
		const char *v[] = {i ? "" : json_str(f, "name"),
		                   json_str(s, "scope"),
		                   n,
		                   json_when(s, "last_poll", t1, sizeof(t1)),
		                   json_when(s, "last_success", t2, sizeof(t2)),
		                   json_str(s, "error")};
		table_row(t, v);
	}
	if (!json_array_size(json_object_get(f, "scopes"))) {
		const char *v[] = {json_str(f, "name"), "(none polled yet)", "-", "-", "-", NULL};
		table_row(t, v);
	}
}

static int feeds_list(const struct client *c)
{
	static const char *const head[] = {"FEED",      "SCOPE",        "ADVISORIES",
	                                   "LAST POLL", "LAST SUCCESS", "ERROR"};
	json_t *doc, *f;
	struct table *t;
	size_t i;
	int code = client_get_json(c, "/v1/feeds", &doc);

	if (!doc)
		return code;
	t = table_new(6, head);
	json_array_foreach(json_object_get(doc, "feeds"), i, f)
	{
		if (t)
			feed_rows(t, f);
	}
	if (t)
		table_print(t);
	free(t);
	json_decref(doc);
	return t ? CTL_OK : CTL_FAIL;
}

static int feeds_poll(const struct client *c)
{
	struct reply r = {0};
	int code = CTL_OK;

	if (client_call(c, "POST", "/v1/feeds/poll", NULL, &r) < 0)
		return CTL_FAIL;
	if (r.status != 202)
		code = client_error(&r);
	else if (c->json)
		printf("%s\n", r.body ? r.body : "");
	else
		printf("feeds: polling now (see `refitctl feeds` for the outcome)\n");
	free(r.body);
	return code;
}

/* `refitctl feeds [poll]`. */
int ctl_feeds(int argc, char **argv)
{
	struct client c = {.cmd = "feeds"};
	int n = client_parse(&c, argc, argv, NULL, NULL, NULL);

	if (n < 0 || argc - n > 1 || (argc - n == 1 && strcmp(argv[n], "poll")))
		return client_usage(&c, " [poll]");
	return argc - n == 1 ? feeds_poll(&c) : feeds_list(&c);
}
