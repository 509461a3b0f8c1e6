/*
 * ctl_evidence — the refitctl commands about a build's evidence:
 * `refitctl builds ID` (one build with its advisories and package changes)
 * and `refitctl sbom BUILD|PROJECT/ENV [--format spdx|cyclonedx]` (or, offline,
 * `--inventory FILE`: ctl_sbom.c).
 */
#include "ctl.h"
#include "ctl_client.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http_client.h"

/* A string member for printing: "-" when absent. */
static const char *sv(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "-";
}

/* Prints the package changes of a build detail (pkgdiff.h's JSON). */
static void print_changes(json_t *ch)
{
	static const char *const kinds[] = {"upgraded", "downgraded", "added", "removed"};
	size_t i;
	json_t *x;

	if (!json_is_object(ch)) {
		printf("package changes: none recorded (no earlier image with an inventory)\n");
		return;
	}
	printf("package changes since build %lld: %zu upgraded, %zu downgraded, %zu added, "
	       "%zu removed, %lld unchanged\n",
	       (long long)json_integer_value(json_object_get(ch, "previous_build")),
	       json_array_size(json_object_get(ch, "upgraded")),
	       json_array_size(json_object_get(ch, "downgraded")),
	       json_array_size(json_object_get(ch, "added")),
	       json_array_size(json_object_get(ch, "removed")),
	       (long long)json_integer_value(json_object_get(ch, "unchanged")));
	for (size_t k = 0; k < 4; k++)
		json_array_foreach(json_object_get(ch, kinds[k]), i, x)
		{
			json_t *fx = json_object_get(x, "fixes");
			printf("  %-10s %s %s%s%s", kinds[k], sv(x, "name"),
			       k < 2 ? sv(x, "from") : sv(x, "version"), k < 2 ? " -> " : "",
			       k < 2 ? sv(x, "to") : "");
			for (size_t j = 0; j < json_array_size(fx); j++)
				printf("%s%s", j ? ", " : " (fixes ",
				       json_string_value(json_array_get(fx, j)));
			printf("%s\n", json_array_size(fx) ? ")" : "");
		}
}

/* `refitctl builds ID`: one build, its advisories and its package changes. */
int ctl_build_show(struct client *c, const char *arg)
{
	char path[64], *end, t1[40], t2[40];
	long long id;
	json_t *b, *a;
	size_t i;
	int code;

	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno || *end || id <= 0)
		return client_usage(
		        c, " [ID | --project P] [--env E] [--status S] [--limit N] [--before ID]");
	snprintf(path, sizeof(path), "/v1/builds/%lld", id);
	code = client_get_json(c, path, &b);
	if (!b)
		return code;
	printf("build %lld: %s/%s %s (trigger %s)\n", id, sv(b, "project"), sv(b, "env"),
	       sv(b, "status"), sv(b, "trigger"));
	printf("queued %s, finished %s\n", json_when(b, "queued_at", t1, sizeof(t1)),
	       json_when(b, "finished_at", t2, sizeof(t2)));
	printf("digest %s, base %s@%s\n", sv(b, "digest"), sv(json_object_get(b, "base"), "name"),
	       sv(json_object_get(b, "base"), "digest"));
	if (json_string_value(json_object_get(b, "error")))
		printf("error: %s\n", sv(b, "error"));
	json_array_foreach(json_object_get(b, "advisories"), i, a)
	{
		printf("advisory %s %s %s -> %s: %s\n", sv(a, "id"), sv(a, "package"),
		       sv(a, "installed"), sv(a, "fixed"), sv(a, "state"));
	}
	print_changes(json_object_get(b, "package_changes"));
	json_decref(b);
	return CTL_OK;
}

struct sbom_opts {
	char format[16], inventory[512], os_release[512];
};

static int sbom_opt(int opt, const char *arg, void *ctx)
{
	struct sbom_opts *o = ctx;

	if (opt == 1)
		snprintf(o->format, sizeof(o->format), "%s", arg);
	else if (opt == 2)
		snprintf(o->inventory, sizeof(o->inventory), "%s", arg);
	else if (opt == 3)
		snprintf(o->os_release, sizeof(o->os_release), "%s", arg);
	else
		return -1;
	return 0;
}

/* The id of PROJECT/ENV's latest succeeded build; 0 when none (reported). */
static long long latest_build(const struct client *c, const char *arg)
{
	const char *slash = strchr(arg, '/');
	char path[512], *p = NULL, *e = NULL;
	json_t *doc = NULL;
	long long id = 0;
	struct client q = *c;

	q.json = false;
	p = strndup(arg, (size_t)(slash - arg));
	e = strdup(slash + 1);
	if (p && e && *p && *e && !strchr(e, '/')) {
		char *ep = http_escape(p), *ee = http_escape(e);
		if (ep && ee) {
			snprintf(path, sizeof(path),
			         "/v1/builds?project=%s&env=%s&status=succeeded&limit=1", ep, ee);
			if (client_get_json(&q, path, &doc) == CTL_OK)
				id = json_integer_value(json_object_get(
				        json_array_get(json_object_get(doc, "builds"), 0), "id"));
		}
		free(ep);
		free(ee);
	}
	if (!id && doc)
		fprintf(stderr, "refitctl: %s has no succeeded build\n", arg);
	json_decref(doc);
	free(p);
	free(e);
	return id;
}

/* `refitctl sbom BUILD|PROJECT/ENV [--format spdx|cyclonedx]`: the document on stdout. */
int ctl_sbom(int argc, char **argv)
{
	static const struct option extra[] = {{"format", required_argument, NULL, 1},
	                                      {"inventory", required_argument, NULL, 2},
	                                      {"os-release", required_argument, NULL, 3},
	                                      {NULL, 0, NULL, 0}};
	static const char *const args =
	        " BUILD|PROJECT/ENV [--format spdx|cyclonedx]\n"
	        "       refitctl sbom --inventory FILE [--os-release FILE] [--format F] [NAME]";
	struct client c = {.cmd = "sbom"};
	struct sbom_opts o = {"spdx", "", ""};
	struct reply r = {0};
	char path[160], *end;
	long long id;
	int n = client_parse(&c, argc, argv, extra, sbom_opt, &o);

	if (n >= 0 && o.inventory[0] && argc - n <= 1)
		return ctl_sbom_offline(o.inventory, o.os_release[0] ? o.os_release : NULL,
		                        o.format, argc - n == 1 ? argv[n] : "inventory");
	if (n < 0 || argc - n != 1 || (strcmp(o.format, "spdx") && strcmp(o.format, "cyclonedx")))
		return client_usage(&c, args);
	errno = 0;
	id = strchr(argv[n], '/') ? latest_build(&c, argv[n]) : strtoll(argv[n], &end, 10);
	if (!strchr(argv[n], '/') && (errno || *end || id <= 0))
		return client_usage(&c, args);
	if (id <= 0)
		return CTL_FAIL;
	snprintf(path, sizeof(path), "/v1/builds/%lld/sbom?format=%s", id, o.format);
	if (client_call(&c, "GET", path, NULL, &r) < 0)
		return CTL_FAIL;
	if (r.status != 200) {
		int code = client_error(&r);
		free(r.body);
		return code;
	}
	fwrite(r.body ? r.body : "", 1, r.len, stdout);
	putchar('\n');
	free(r.body);
	return fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}
