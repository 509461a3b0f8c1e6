/*
 * libFuzzer target: the Alpine secdb parser. Besides not crashing, every row
 * must be what feed_secdb.h promises: an Alpine:v3.N ecosystem, a fixed
 * version apk accepts (never "0"), rows in strictly increasing (package, id)
 * order (a repeat would be a missed merge), and the return value equal to
 * the rows seen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed_secdb.h"
#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	int n;
	char *pkg, id[FEED_SECDB_MAX_ID + 1];
};

static int check_row(const struct feed_row *row, void *arg)
{
	struct seen *s = arg;
	const json_t *r0 = json_array_get(json_object_get(row->affected, "ranges"), 0);
	const json_t *ev = json_object_get(r0, "events");
	const char *intro = json_string_value(json_object_get(json_array_get(ev, 0), "introduced"));
	const char *fixed = json_string_value(json_object_get(json_array_get(ev, 1), "fixed"));

	if (strncmp(row->ecosystem, "Alpine:v3.", 10) || !intro || strcmp(intro, "0") || !fixed ||
	    !strcmp(fixed, "0") || version_valid(VERSION_ALPINE, fixed) < 0 ||
	    json_array_size(ev) != 2 || !*row->id || strlen(row->id) > FEED_SECDB_MAX_ID ||
	    row->summary || row->modified || row->aliases || row->withdrawn)
		abort();
	if (s->pkg && (strcmp(s->pkg, row->package) > 0 ||
	               (!strcmp(s->pkg, row->package) && strcmp(s->id, row->id) >= 0)))
		abort();
	free(s->pkg);
	s->pkg = strdup(row->package);
	if (!s->pkg)
		abort();
	strcpy(s->id, row->id);
	s->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = {0};
	struct feed_secdb_stats st;
	char err[256];
	int r = feed_secdb_parse_stats((const char *)data, size, check_row, &s, &st, err,
	                               sizeof(err));

	free(s.pkg);
	if (r >= 0 && (r != s.n || st.rows != (size_t)s.n))
		abort();
	if (r < 0 && !err[0])
		abort();
	return 0;
}
