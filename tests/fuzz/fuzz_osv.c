/*
 * fuzz_osv — libFuzzer target for the OSV record parser, the range
 * evaluation and the all.zip reader (feed input from the network).
 *
 * The input goes through osv_parse; every row it yields is checked against
 * osv.h's promises (a valid id and time, the affected object's shape) and
 * evaluated against a few versions of its ecosystem plus every version
 * string the row itself carries. A verdict must be consistent: a fix only
 * for an affected version, and above it. The same bytes then go through
 * osv_zip_each (the corpus holds small zips too).
 */
#include "osv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OWN 24 /* version strings taken from a row, at most */

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void eval_one(const json_t *aff, enum version_eco eco, const char *v)
{
	struct osv_verdict out = {.affected = true, .fixed = "untouched"};
	int r = osv_eval(aff, eco, v, &out), c = 0;

	if (r < 0) {
		check(r == -EINVAL || r == -E2BIG);
		check(out.affected && !strcmp(out.fixed, "untouched"));
		return;
	}
	check(version_valid(eco, v) == 0);
	if (!out.fixed)
		return;
	/* A fix is offered only for an affected version, and is a valid version above it. */
	check(out.affected);
	check(version_cmp(eco, v, out.fixed, &c) == 0 && c < 0);
}

/* Every string the affected object holds (event values, versions[]), a bounded number. */
static size_t own_versions(const json_t *aff, const char **out)
{
	const json_t *r, *v;
	json_t *e; /* json_object_iter() wants it non-const */
	size_t n = 0, i, k;

	json_array_foreach(json_object_get(aff, "versions"), i, v)
	{
		if (n < MAX_OWN)
			out[n++] = json_string_value(v);
	}
	json_array_foreach(json_object_get(aff, "ranges"), i, r)
	{
		json_array_foreach(json_object_get(r, "events"), k, e)
		{
			/* Each event has exactly one key: its first value is the one. */
			void *it = json_object_iter(e);

			if (it && n < MAX_OWN)
				out[n++] = json_string_value(json_object_iter_value(it));
		}
	}
	return n;
}

static void check_shape(const json_t *aff)
{
	const json_t *r, *e;
	size_t i, k;

	check(json_object_size(aff) == 2);
	check(json_is_array(json_object_get(aff, "ranges")));
	check(json_is_array(json_object_get(aff, "versions")));
	json_array_foreach(json_object_get(aff, "ranges"), i, r)
	{
		const char *t = json_string_value(json_object_get(r, "type"));

		check(json_object_size(r) == 2 && t &&
		      (!strcmp(t, "ECOSYSTEM") || !strcmp(t, "SEMVER")));
		json_array_foreach(json_object_get(r, "events"), k, e)
		{
			check(json_object_size(e) == 1);
		}
	}
}

static int row_cb(const struct feed_row *row, void *arg)
{
	static const char *const fixed[][6] = {
	        [VERSION_DEBIAN] = {"0", "1.0-1", "1:2.3-4+deb12u1", "0~1", "2021a-0+deb9u4", NULL},
	        [VERSION_UBUNTU] = {"1.0", "1:8.9p1-3ubuntu0.10", "6.0-9ubuntu1.6", NULL},
	        [VERSION_ALPINE] = {"0.9.13", "1.2.3-r4", "1.2.4_git20230717-r5", "1.2.5", NULL},
	        [VERSION_PYPI] = {"0", "1.0", "2.2.24", "3.2rc1", "1!0.1", NULL},
	};
	const char *own[MAX_OWN];
	enum version_eco eco;
	int64_t sec;
	int32_t ns;
	size_t n;

	(void)arg;
	check(row->id && strlen(row->id) <= OSV_ID_MAX);
	check(row->modified && osv_time_parse(row->modified, &sec, &ns) == 0);
	check(!row->aliases || (json_is_array(row->aliases) && json_array_size(row->aliases)));
	if (!row->affected) {
		check(row->withdrawn && !row->ecosystem && !row->package);
		return 0;
	}
	check(row->ecosystem && row->package);
	check_shape(row->affected);
	n = own_versions(row->affected, own);
	for (int x = VERSION_DEBIAN; x <= VERSION_PYPI; x++) {
		/* Its own ecosystem, or all four when it is another one. */
		if (osv_ecosystem_eco(row->ecosystem, &eco) == 0 && eco != (enum version_eco)x)
			continue;
		for (size_t i = 0; fixed[x][i]; i++)
			eval_one(row->affected, (enum version_eco)x, fixed[x][i]);
		for (size_t i = 0; i < n; i++)
			eval_one(row->affected, (enum version_eco)x, own[i]);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	int r;

	r = osv_parse((const char *)data, size, row_cb, NULL, err, sizeof(err));
	check(r >= 0 || r == -EINVAL || r == -E2BIG || r == -ENOMEM);
	check(r >= 0 || memchr(err, '\0', sizeof(err)));
	r = osv_zip_each(data, size, row_cb, NULL, err, sizeof(err));
	check(r >= 0 || r == -EINVAL || r == -E2BIG || r == -ENOMEM);
	return 0;
}
