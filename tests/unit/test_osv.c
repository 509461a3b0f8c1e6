/*
 * test_osv — the osv module against real OSV records (tests/fixtures/feeds/osv,
 * origins in ORIGIN.md there): the exact rows of every record, range
 * evaluation on their own versions[] lists and on hand-made vectors, the
 * RFC 3339 and modified_id.csv readers, zips written here with libarchive,
 * and the whole PyPA advisory database (tests/fixtures/feeds/pypa) converted
 * by tests/testbed/osvmirror.py into an osv.dev bucket and read back through
 * osv_zip_each and osv_modified_each. Run from the repository root.
 */
#include "osv.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "testutil.h"
#include <jansson.h>

#define FIX       "tests/fixtures/feeds/osv/"
#define PYPA_TAR  "tests/fixtures/feeds/pypa/pypa-advisory-database.tar.xz"
#define N(a)      (sizeof(a) / sizeof((a)[0]))
#define CANCELLED (-ECANCELED)

/* ---- helpers ---- */

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return j;
}

/*
 * "TYPE:kind=v,kind=v;TYPE:..." for the ranges of an affected object, after
 * checking that it has exactly the shape osv.h promises. Returns the number
 * of versions[] strings.
 */
static size_t affected_text(const json_t *aff, FILE *out)
{
	const json_t *ranges = json_object_get(aff, "ranges");
	json_t *r, *e; /* non-const for json_object_foreach */
	size_t i, k;
	const char *key;
	json_t *val;

	assert_int_equal(json_object_size(aff), 2);
	assert_true(json_is_array(ranges));
	assert_true(json_is_array(json_object_get(aff, "versions")));
	json_array_foreach(ranges, i, r)
	{
		assert_int_equal(json_object_size(r), 2);
		fprintf(out, "%s%s:", i ? ";" : "", json_string_value(json_object_get(r, "type")));
		json_array_foreach(json_object_get(r, "events"), k, e)
		{
			assert_int_equal(json_object_size(e), 1);
			json_object_foreach(e, key, val)
			        fprintf(out, "%s%s=%s", k ? "," : "", key, json_string_value(val));
		}
	}
	return json_array_size(json_object_get(aff, "versions"));
}

/* What a parse handed to its callback: one "eco|pkg|ranges|nversions" line per row. */
struct rows {
	size_t n;
	char *text;
	size_t len;
	FILE *f;
	char id[OSV_ID_MAX + 1], modified[OSV_TIME_MAX], summary[256], aliases[1024];
	bool has_summary, has_aliases, withdrawn;
	bool many;        /* rows of several records: do not compare them with the first */
	size_t cancel_at; /* return CANCELLED at this row (1-based); 0: never */
};

static void rows_open(struct rows *r)
{
	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->text, &r->len);
	assert_non_null(r->f);
}

static void rows_close(struct rows *r)
{
	fclose(r->f);
	r->f = NULL;
}

static void rows_free(struct rows *r)
{
	if (r->f)
		fclose(r->f);
	free(r->text);
}

/* Copies the record-wide fields from the first row, checks every other row repeats them. */
static void record_fields(struct rows *c, const struct feed_row *row)
{
	char *al = row->aliases ? json_dumps(row->aliases, JSON_COMPACT) : NULL;

	if (c->n == 1 || c->many) {
		snprintf(c->id, sizeof(c->id), "%s", row->id);
		snprintf(c->modified, sizeof(c->modified), "%s", row->modified);
		c->has_summary = row->summary != NULL;
		snprintf(c->summary, sizeof(c->summary), "%s", row->summary ? row->summary : "");
		c->has_aliases = al != NULL;
		snprintf(c->aliases, sizeof(c->aliases), "%s", al ? al : "");
		c->withdrawn = row->withdrawn;
	} else {
		assert_string_equal(c->id, row->id);
		assert_string_equal(c->modified, row->modified);
		assert_int_equal(c->has_summary, row->summary != NULL);
		assert_int_equal(c->has_aliases, al != NULL);
		if (al)
			assert_string_equal(c->aliases, al);
		assert_int_equal(c->withdrawn, row->withdrawn);
	}
	free(al);
}

static int rows_cb(const struct feed_row *row, void *arg)
{
	struct rows *c = arg;

	c->n++;
	if (c->cancel_at && c->n == c->cancel_at)
		return CANCELLED;
	record_fields(c, row);
	if (!row->affected) {
		assert_null(row->ecosystem);
		assert_null(row->package);
		assert_true(row->withdrawn);
		fprintf(c->f, "-|-|-|-\n");
		return 0;
	}
	fprintf(c->f, "%s|%s|", row->ecosystem, row->package);
	fprintf(c->f, "|%zu\n", affected_text(row->affected, c->f));
	return 0;
}

static int parse_text(const char *text, struct rows *c, char *err, size_t errlen)
{
	int r;

	rows_open(c);
	r = osv_parse(text, strlen(text), rows_cb, c, err, errlen);
	rows_close(c);
	return r;
}

/* Deep copy of the affected object of row `index` of a fixture, with its ecosystem. */
struct pick {
	size_t want, n;
	json_t *affected;
	char ecosystem[64];
};

static int pick_cb(const struct feed_row *row, void *arg)
{
	struct pick *p = arg;

	if (p->n++ == p->want) {
		p->affected = json_deep_copy(row->affected);
		snprintf(p->ecosystem, sizeof(p->ecosystem), "%s", row->ecosystem);
	}
	return 0;
}

static json_t *fixture_affected(const char *file, size_t index, enum version_eco *ret_eco)
{
	struct pick p = {.want = index};
	char path[256], err[256];
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), FIX "%s", file);
	buf = test_read_file(path, &len);
	assert_true(osv_parse(buf, len, pick_cb, &p, err, sizeof(err)) > 0);
	free(buf);
	assert_non_null(p.affected);
	assert_int_equal(osv_ecosystem_eco(p.ecosystem, ret_eco), 0);
	return p.affected;
}

/* osv_eval must say affected/fixed exactly. */
static void expect(const json_t *aff, enum version_eco eco, const char *v, bool affected,
                   const char *fixed)
{
	struct osv_verdict r = {.affected = !affected, .fixed = "untouched"};
	int rc = osv_eval(aff, eco, v, &r);

	if (rc != 0)
		fail_msg("'%s': osv_eval returned %d", v, rc);
	if (r.affected != affected || (fixed ? !r.fixed || strcmp(r.fixed, fixed) : !!r.fixed))
		fail_msg("'%s': expected %s, fixed %s; got %s, fixed %s", v,
		         affected ? "affected" : "not affected", fixed ? fixed : "NULL",
		         r.affected ? "affected" : "not affected", r.fixed ? r.fixed : "NULL");
}

static void expect_text(const char *aff_json, enum version_eco eco, const char *v, bool affected,
                        const char *fixed)
{
	json_t *aff = js(aff_json);

	expect(aff, eco, v, affected, fixed);
	json_decref(aff);
}

/* ---- osv_parse on the real records ---- */

struct record_case {
	const char *file, *modified, *summary, *aliases;
	bool withdrawn;
	size_t rows;
	const char *text;
};

/* Expected rows, written from the fixtures by a separate Python script (not from osv.c). */
static const struct record_case records[] = {
        {"alpine/ALPINE-CVE-2025-26519.json", "2026-07-08T04:32:24.548042624Z", NULL,
         "[\"CVE-2025-26519\"]", false, 9,
         "Alpine:v3.16|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.3-r4|0\n"
         "Alpine:v3.17|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.3-r6|0\n"
         "Alpine:v3.18|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.4-r3|0\n"
         "Alpine:v3.19|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.4_git20230717-r5|0\n"
         "Alpine:v3.20|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.5-r1|0\n"
         "Alpine:v3.21|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.5-r9|0\n"
         "Alpine:v3.22|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.5-r10|0\n"
         "Alpine:v3.23|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.5-r10|0\n"
         "Alpine:v3.24|musl|ECOSYSTEM:introduced=0.9.13,fixed=1.2.5-r10|0\n"},
        {"debian/DLA-3008-1.json", "2026-03-09T01:23:33.375630Z", "openssl - security update",
         "[\"CVE-2022-1292\",\"DEBIAN-CVE-2022-1292\"]", false, 1,
         "Debian:9|openssl|ECOSYSTEM:introduced=0,fixed=1.1.0l-1~deb9u6|19\n"},
        {"debian/DLA-3012-1.json", "2026-03-09T01:20:46.878115Z", "libxml2 - security update",
         "[\"CVE-2022-29824\",\"DEBIAN-CVE-2022-29824\"]", false, 1,
         "Debian:9|libxml2|ECOSYSTEM:introduced=0,fixed=2.9.4+dfsg1-2.2+deb9u7|7\n"},
        {"debian/DLA-3022-1.json", "2026-03-09T01:23:37.553205Z", "dpkg - security update",
         "[\"CVE-2022-1664\",\"DEBIAN-CVE-2022-1664\"]", false, 1,
         "Debian:9|dpkg|ECOSYSTEM:introduced=0,fixed=1.18.26|2\n"},
        {"debian/DLA-3051-1.json", "2025-05-26T07:01:56.257796Z", "tzdata - new timezone database",
         NULL, false, 1, "Debian:9|tzdata|ECOSYSTEM:introduced=0,fixed=2021a-0+deb9u4|41\n"},
        {"debian/DSA-3029-1.json", "2014-09-20T08:18:07Z", "nginx - security update",
         "[\"CVE-2014-3616\"]", false, 1,
         "Debian:7|nginx|ECOSYSTEM:introduced=0,fixed=1.2.1-2.2+wheezy3|0\n"},
        {"pypi/GHSA-hvr8-466p-75rh.json", "2024-10-08T13:06:58Z",
         "Pillow Integer overflow in ImagingResampleHorizontal", "[\"CVE-2016-4009\"]", false, 1,
         "PyPI|pillow|ECOSYSTEM:introduced=0,fixed=3.1.1|0\n"},
        {"pypi/PYSEC-2020-148.json", "2023-11-08T04:03:14.251187Z", NULL,
         "[\"CVE-2020-26137\",\"GHSA-wqvq-5m8c-6g24\"]", false, 1,
         "PyPI|urllib3|ECOSYSTEM:introduced=0,fixed=1.25.9|59\n"},
        {"pypi/PYSEC-2020-43.json", "2025-10-09T07:22:50.566622Z", NULL,
         "[\"CVE-2020-25032\",\"GHSA-xc3p-ff3m-f46v\"]", false, 1,
         "PyPI|flask-cors|ECOSYSTEM:introduced=0,fixed=3.0.9|42\n"},
        {"pypi/PYSEC-2020-73.json", "2023-11-08T04:02:12.263851Z", NULL, "[\"CVE-2020-13091\"]",
         false, 1, "PyPI|pandas|ECOSYSTEM:introduced=0,fixed=1.0.4|75\n"},
        {"pypi/PYSEC-2021-98.json", "2023-12-06T01:01:16.755410Z", NULL,
         "[\"BIT-django-2021-33203\",\"CVE-2021-33203\",\"GHSA-68w8-qjq3-2gfm\"]", false, 1,
         "PyPI|django|ECOSYSTEM:introduced=0,fixed=2.2.24,introduced=3.0,fixed=3.1.12,"
         "introduced=3.2,fixed=3.2.4|266\n"},
        {"pypi/PYSEC-2023-62.json", "2023-11-08T04:12:28.231927Z", NULL,
         "[\"CVE-2023-30861\",\"GHSA-m2qf-hxjv-5gpq\"]", false, 1,
         "PyPI|flask|ECOSYSTEM:introduced=0,fixed=2.2.5,introduced=2.3.0,fixed=2.3.2|53\n"},
        {"pypi/PYSEC-2023-74.json", "2023-11-08T04:12:35.436175Z", NULL,
         "[\"CVE-2023-32681\",\"GHSA-j8r2-6x86-q33q\"]", false, 1,
         "PyPI|requests|ECOSYSTEM:introduced=2.3.0,fixed=2.31.0|66\n"},
        {"ubuntu/UBUNTU-CVE-2001-1593.json", "2025-07-16T04:49:52Z", NULL, "[\"CVE-2001-1593\"]",
         true, 1, "Ubuntu:14.04:LTS|a2ps|ECOSYSTEM:introduced=0,fixed=1:4.14-1.2|1\n"},
        {"ubuntu/UBUNTU-CVE-2005-1515.json", "2025-07-16T04:49:52Z", NULL, "[\"CVE-2005-1515\"]",
         false, 4,
         "Ubuntu:Pro:14.04:LTS|netqmail|ECOSYSTEM:introduced=0,fixed=1.06-6.2~deb10u1build0.14."
         "04.1+esm1|1\n"
         "Ubuntu:16.04:LTS|netqmail|ECOSYSTEM:introduced=0,fixed=1.06-6.2~deb10u1build0.16.04.1|"
         "1\n"
         "Ubuntu:18.04:LTS|netqmail|ECOSYSTEM:introduced=0,fixed=1.06-6.2~deb10u1build0.18.04.1|"
         "1\n"
         "Ubuntu:20.04:LTS|netqmail|ECOSYSTEM:introduced=0,fixed=1.06-6.2~deb10u1build0.20.04.1|"
         "1\n"},
        {"ubuntu/UBUNTU-CVE-2010-0751.json", "2025-07-16T04:49:56Z", NULL, "[\"CVE-2010-0751\"]",
         true, 2,
         "Ubuntu:14.04:LTS|libnids|ECOSYSTEM:introduced=0,fixed=1.23-2|0\n"
         "Ubuntu:16.04:LTS|libnids|ECOSYSTEM:introduced=0,fixed=1.23-2|0\n"},
        {"ubuntu/UBUNTU-CVE-2013-2208.json", "2025-07-16T04:50:15Z", NULL, "[\"CVE-2013-2208\"]",
         true, 1, "Ubuntu:14.04:LTS|tpp|ECOSYSTEM:introduced=0,fixed=1.3.1-3|0\n"},
        {"ubuntu/UBUNTU-CVE-2014-2901.json", "2025-08-01T04:49:26Z", NULL, "[\"CVE-2014-2901\"]",
         true, 1, "Ubuntu:Pro:16.04:LTS|wolfssl|ECOSYSTEM:introduced=0|1\n"},
        {"ubuntu/UBUNTU-CVE-2014-9913.json", "2025-09-08T16:43:17Z", NULL, "[\"CVE-2014-9913\"]",
         false, 2,
         "Ubuntu:Pro:14.04:LTS|unzip|ECOSYSTEM:introduced=0,fixed=6.0-9ubuntu1.6|6\n"
         "Ubuntu:16.04:LTS|unzip|ECOSYSTEM:introduced=0,fixed=6.0-20ubuntu1.1|4\n"},
        {"ubuntu/UBUNTU-CVE-2015-0209.json", "2025-09-08T16:43:18Z", NULL, "[\"CVE-2015-0209\"]",
         false, 1, "Ubuntu:14.04:LTS|openssl|ECOSYSTEM:introduced=0,fixed=1.0.1f-1ubuntu2.11|14\n"},
        {"ubuntu/UBUNTU-CVE-2016-20013.json", "2026-04-22T07:38:06Z", NULL, "[\"CVE-2016-20013\"]",
         false, 30,
         "Ubuntu:Pro:14.04:LTS|eglibc|ECOSYSTEM:introduced=0|29\n"
         "Ubuntu:14.04:LTS|syslinux|ECOSYSTEM:introduced=0|2\n"
         "Ubuntu:Pro:14.04:LTS|zabbix|ECOSYSTEM:introduced=0|9\n"
         "Ubuntu:Pro:16.04:LTS|glibc|ECOSYSTEM:introduced=0|23\n"
         "Ubuntu:16.04:LTS|sssd|ECOSYSTEM:introduced=0|19\n"
         "Ubuntu:16.04:LTS|syslinux|ECOSYSTEM:introduced=0|2\n"
         "Ubuntu:16.04:LTS|syslinux-legacy|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:16.04:LTS|dietlibc|ECOSYSTEM:introduced=0|2\n"
         "Ubuntu:Pro:16.04:LTS|zabbix|ECOSYSTEM:introduced=0|9\n"
         "Ubuntu:Pro:18.04:LTS|glibc|ECOSYSTEM:introduced=0|16\n"
         "Ubuntu:18.04:LTS|sssd|ECOSYSTEM:introduced=0|13\n"
         "Ubuntu:18.04:LTS|syslinux|ECOSYSTEM:introduced=0|2\n"
         "Ubuntu:18.04:LTS|syslinux-legacy|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:18.04:LTS|dietlibc|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:Pro:18.04:LTS|zabbix|ECOSYSTEM:introduced=0|6\n"
         "Ubuntu:Pro:20.04:LTS|glibc|ECOSYSTEM:introduced=0|18\n"
         "Ubuntu:20.04:LTS|sssd|ECOSYSTEM:introduced=0|18\n"
         "Ubuntu:20.04:LTS|syslinux|ECOSYSTEM:introduced=0|2\n"
         "Ubuntu:20.04:LTS|syslinux-legacy|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:20.04:LTS|dietlibc|ECOSYSTEM:introduced=0|3\n"
         "Ubuntu:Pro:20.04:LTS|zabbix|ECOSYSTEM:introduced=0|10\n"
         "Ubuntu:22.04:LTS|dietlibc|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:22.04:LTS|glibc|ECOSYSTEM:introduced=0|15\n"
         "Ubuntu:22.04:LTS|sssd|ECOSYSTEM:introduced=0|12\n"
         "Ubuntu:22.04:LTS|syslinux|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:22.04:LTS|zabbix|ECOSYSTEM:introduced=0|3\n"
         "Ubuntu:24.04:LTS|dietlibc|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:24.04:LTS|glibc|ECOSYSTEM:introduced=0|13\n"
         "Ubuntu:24.04:LTS|sssd|ECOSYSTEM:introduced=0|11\n"
         "Ubuntu:24.04:LTS|syslinux|ECOSYSTEM:introduced=0|2\n"},
        {"ubuntu/UBUNTU-CVE-2020-1944.json", "2025-10-24T04:48:15Z", NULL, "[\"CVE-2020-1944\"]",
         false, 4,
         "Ubuntu:16.04:LTS|trafficserver|ECOSYSTEM:introduced=0|2\n"
         "Ubuntu:18.04:LTS|trafficserver|ECOSYSTEM:introduced=0|4\n"
         "Ubuntu:Pro:20.04:LTS|trafficserver|ECOSYSTEM:introduced=0|6\n"
         "Ubuntu:Pro:22.04:LTS|trafficserver|ECOSYSTEM:introduced=0|3\n"},
        {"ubuntu/UBUNTU-CVE-2020-36325.json", "2021-04-26T18:15:00Z", NULL, NULL, true, 1,
         "Ubuntu:Pro:14.04:LTS|jansson|ECOSYSTEM:introduced=0|6\n"},
        {"ubuntu/UBUNTU-CVE-2021-3782.json", "2026-04-22T07:39:49Z", NULL, "[\"CVE-2021-3782\"]",
         false, 4,
         "Ubuntu:Pro:16.04:LTS|wayland|ECOSYSTEM:introduced=0,fixed=1.12.0-1~ubuntu16.04.3+esm1|"
         "5\n"
         "Ubuntu:18.04:LTS|wayland|ECOSYSTEM:introduced=0,fixed=1.16.0-1ubuntu1.1~18.04.4|4\n"
         "Ubuntu:20.04:LTS|wayland|ECOSYSTEM:introduced=0,fixed=1.18.0-1ubuntu0.1|4\n"
         "Ubuntu:22.04:LTS|wayland|ECOSYSTEM:introduced=0,fixed=1.20.0-1ubuntu0.1|2\n"},
        {"ubuntu/UBUNTU-CVE-2022-24823.json", "2026-06-08T16:11:47Z", NULL, "[\"CVE-2022-24823\"]",
         false, 8,
         "Ubuntu:Pro:14.04:LTS|netty|ECOSYSTEM:introduced=0|3\n"
         "Ubuntu:Pro:16.04:LTS|netty|ECOSYSTEM:introduced=0,fixed=1:4.0.34-1ubuntu0.1~esm2|5\n"
         "Ubuntu:Pro:18.04:LTS|netty|ECOSYSTEM:introduced=0,fixed=1:4.1.7-4ubuntu0.1+esm3|5\n"
         "Ubuntu:Pro:20.04:LTS|netty|ECOSYSTEM:introduced=0,fixed=1:4.1.45-1ubuntu0.1~esm2|5\n"
         "Ubuntu:Pro:22.04:LTS|netty|ECOSYSTEM:introduced=0,fixed=1:4.1.48-4+deb11u2ubuntu0.1~"
         "esm1|3\n"
         "Ubuntu:Pro:24.04:LTS|netty|ECOSYSTEM:introduced=0,fixed=1:4.1.48-9ubuntu0.1~esm1|3\n"
         "Ubuntu:25.10|netty|ECOSYSTEM:introduced=0|3\n"
         "Ubuntu:Pro:26.04:LTS|netty|ECOSYSTEM:introduced=0|7\n"},
        {"ubuntu/UBUNTU-CVE-2024-6387.json", "2024-07-01T00:00:00Z", NULL, NULL, false, 2,
         "Ubuntu:22.04:LTS|openssh|ECOSYSTEM:introduced=0,fixed=1:8.9p1-3ubuntu0.10|12\n"
         "Ubuntu:24.04:LTS|openssh|ECOSYSTEM:introduced=0,fixed=1:9.6p1-3ubuntu13.3|8\n"},
        {"ubuntu/UBUNTU-CVE-2025-14345.json", "2025-12-16T05:43:18Z", NULL, "[\"CVE-2025-14345\"]",
         false, 4,
         "Ubuntu:14.04:LTS|mongodb|ECOSYSTEM:introduced=0|7\n"
         "Ubuntu:16.04:LTS|mongodb|ECOSYSTEM:introduced=0|1\n"
         "Ubuntu:18.04:LTS|mongodb|ECOSYSTEM:introduced=0|10\n"
         "Ubuntu:20.04:LTS|mongodb|ECOSYSTEM:introduced=0|4\n"},
        {"ubuntu/UBUNTU-CVE-2025-38094.json", "2025-07-04T00:00:00Z", NULL, "[\"CVE-2025-38094\"]",
         false, 1, "Ubuntu:Pro:14.04:LTS|linux|ECOSYSTEM:introduced=0|180\n"},
        {"ubuntu/UBUNTU-CVE-2026-1403.json", "2026-04-09T00:00:00Z", NULL, "[\"CVE-2026-1403\"]",
         false, 1, "Ubuntu:16.04:LTS|gitlab|ECOSYSTEM:introduced=0|3\n"},
        {"ubuntu/USN-5614-1.json", "2026-04-22T07:37:02Z", "wayland vulnerability",
         "[\"UBUNTU-CVE-2021-3782\"]", false, 3,
         "Ubuntu:18.04:LTS|wayland|ECOSYSTEM:introduced=0,fixed=1.16.0-1ubuntu1.1~18.04.4|4\n"
         "Ubuntu:20.04:LTS|wayland|ECOSYSTEM:introduced=0,fixed=1.18.0-1ubuntu0.1|4\n"
         "Ubuntu:22.04:LTS|wayland|ECOSYSTEM:introduced=0,fixed=1.20.0-1ubuntu0.1|2\n"},
};

static void test_records(void **state)
{
	char path[256], err[256], id[128];
	struct rows c;
	size_t len;

	(void)state;
	for (size_t i = 0; i < N(records); i++) {
		const struct record_case *rc = &records[i];
		char *buf;
		int r;

		snprintf(path, sizeof(path), FIX "%s", rc->file);
		buf = test_read_file(path, &len);
		rows_open(&c);
		r = osv_parse(buf, len, rows_cb, &c, err, sizeof(err));
		rows_close(&c);
		if (r < 0)
			fail_msg("%s: %d %s", rc->file, r, err);
		assert_int_equal(r, rc->rows);
		assert_int_equal(c.n, rc->rows);
		assert_string_equal(c.text, rc->text);
		/* The id is the file name. */
		snprintf(id, sizeof(id), "%s", strrchr(rc->file, '/') + 1);
		*strrchr(id, '.') = '\0';
		assert_string_equal(c.id, id);
		assert_string_equal(c.modified, rc->modified);
		assert_int_equal(c.has_summary, rc->summary != NULL);
		if (rc->summary)
			assert_string_equal(c.summary, rc->summary);
		assert_int_equal(c.has_aliases, rc->aliases != NULL);
		if (rc->aliases)
			assert_string_equal(c.aliases, rc->aliases);
		assert_int_equal(c.withdrawn, rc->withdrawn);
		rows_free(&c);
		free(buf);
	}
}

/* One affected object in full: the shape and the versions[] copy, byte for byte. */
static void test_affected_json(void **state)
{
	enum version_eco eco;
	json_t *aff = fixture_affected("debian/DLA-3022-1.json", 0, &eco);
	char *text = json_dumps(aff, JSON_COMPACT);

	(void)state;
	assert_int_equal(eco, VERSION_DEBIAN);
	assert_string_equal(text,
	                    "{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":"
	                    "\"0\"},{\"fixed\":\"1.18.26\"}]}],\"versions\":[\"1.18.24\","
	                    "\"1.18.25\"]}");
	free(text);
	json_decref(aff);
	/* PYSEC-2020-148 has a GIT range before its ECOSYSTEM one: dropped. */
	aff = fixture_affected("pypi/PYSEC-2020-148.json", 0, &eco);
	assert_int_equal(json_array_size(json_object_get(aff, "ranges")), 1);
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(json_object_get(aff, "ranges"), 0), "type")),
	                    "ECOSYSTEM");
	json_decref(aff);
}

static void test_withdrawn_rows(void **state)
{
	char err[256];
	struct rows c;

	(void)state;
	/* Withdrawn, nothing usable: one closing row. */
	assert_int_equal(
	        parse_text("{\"id\":\"PYSEC-2022-15\",\"modified\":\"2024-01-01T00:00:00Z\","
	                   "\"withdrawn\":\"2023-12-31T10:00:00+02:00\",\"affected\":[{"
	                   "\"package\":{\"name\":\"loguru\",\"ecosystem\":\"PyPI\"}}]}",
	                   &c, err, sizeof(err)),
	        1);
	assert_string_equal(c.text, "-|-|-|-\n");
	assert_string_equal(c.id, "PYSEC-2022-15");
	rows_free(&c);
	/* Withdrawn, only a GIT range and no affected at all: the same. */
	assert_int_equal(
	        parse_text("{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\","
	                   "\"withdrawn\":\"2024-01-01T00:00:00Z\",\"affected\":[{"
	                   "\"package\":{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"ranges\":"
	                   "[{\"type\":\"GIT\",\"repo\":\"r\",\"events\":[{\"introduced\":"
	                   "\"abc\"}]}]}]}",
	                   &c, err, sizeof(err)),
	        1);
	assert_string_equal(c.text, "-|-|-|-\n");
	rows_free(&c);
	assert_int_equal(parse_text("{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\","
	                            "\"withdrawn\":\"2024-01-01T00:00:00Z\"}",
	                            &c, err, sizeof(err)),
	                 1);
	rows_free(&c);
	/* Not withdrawn, nothing usable (no package, empty versions): no row. */
	assert_int_equal(parse_text("{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\","
	                            "\"affected\":[{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":"
	                            "[{\"introduced\":\"0\"}]}]},{\"package\":{\"name\":\"a\","
	                            "\"ecosystem\":\"PyPI\"},\"versions\":[]}]}",
	                            &c, err, sizeof(err)),
	                 0);
	assert_int_equal(c.n, 0);
	rows_free(&c);
	/* versions[] alone is usable; SEMVER is kept; null members are absent ones. */
	assert_int_equal(
	        parse_text("{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\","
	                   "\"summary\":null,\"aliases\":null,\"affected\":[{\"package\":{"
	                   "\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"versions\":[\"0.5\"]},"
	                   "{\"package\":{\"name\":\"b\",\"ecosystem\":\"npm\"},\"ranges\":"
	                   "[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"1.0.0\"},"
	                   "{\"limit\":\"2.0.0\"}]}]}]}",
	                   &c, err, sizeof(err)),
	        2);
	assert_string_equal(c.text, "PyPI|a||1\nnpm|b|SEMVER:introduced=1.0.0,limit=2.0.0|0\n");
	assert_false(c.has_summary);
	assert_false(c.has_aliases);
	rows_free(&c);
}

static void test_aliases_merge(void **state)
{
	char err[256];
	struct rows c;

	(void)state;
	assert_int_equal(parse_text("{\"id\":\"DLA-1-1\",\"modified\":\"2024-01-01T00:00:00Z\","
	                            "\"aliases\":[\"CVE-1\",\"CVE-2\",\"CVE-1\"],\"upstream\":"
	                            "[\"CVE-2\",\"DEBIAN-CVE-2\"],\"affected\":[{\"package\":{"
	                            "\"name\":\"a\",\"ecosystem\":\"Debian:12\"},\"versions\":"
	                            "[\"1.0-1\"]}]}",
	                            &c, err, sizeof(err)),
	                 1);
	assert_string_equal(c.aliases, "[\"CVE-1\",\"CVE-2\",\"DEBIAN-CVE-2\"]");
	rows_free(&c);
}

struct bad_case {
	const char *json;
	int r;
	const char *msg; /* a substring of the message */
};

static const struct bad_case bad_records[] = {
        {"", -EINVAL, "line 1 column 0"},
        {"[]", -EINVAL, "not a JSON object"},
        {"{\"id\":\"A-1\",\"id\":\"A-2\",\"modified\":\"2024-01-01T00:00:00Z\"}", -EINVAL,
         "duplicate"},
        {"{\"modified\":\"2024-01-01T00:00:00Z\"}", -EINVAL, "id: missing"},
        {"{\"id\":\"../etc\",\"modified\":\"2024-01-01T00:00:00Z\"}", -EINVAL, "id:"},
        {"{\"id\":\"\",\"modified\":\"2024-01-01T00:00:00Z\"}", -EINVAL, "id:"},
        {"{\"id\":\"A 1\",\"modified\":\"2024-01-01T00:00:00Z\"}", -EINVAL, "id:"},
        {"{\"id\":\"PyPI/A-1\",\"modified\":\"2024-01-01T00:00:00Z\"}", -EINVAL, "id:"},
        {"{\"id\":1,\"modified\":\"2024-01-01T00:00:00Z\"}", -EINVAL, "id: not a string"},
        {"{\"id\":\"A-1\"}", -EINVAL, "modified: missing"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-02-30T00:00:00Z\"}", -EINVAL, "modified"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01\"}", -EINVAL, "modified"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"withdrawn\":\"yes\"}", -EINVAL,
         "withdrawn"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"summary\":[]}", -EINVAL,
         "summary"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":\"CVE-1\"}", -EINVAL,
         "aliases: not an array"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"upstream\":[1]}", -EINVAL,
         "upstream[0]"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":{}}", -EINVAL,
         "affected: not an array"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[1]}", -EINVAL,
         "affected[0]: not an object"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":7}}]}",
         -EINVAL, "affected[0].package"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\\nb\",\"ecosystem\":\"PyPI\"}}]}",
         -EINVAL, "affected[0].package"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"ranges\":{}}]}",
         -EINVAL, "affected[0].ranges: not an array"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"ranges\":[{\"events\":[]}]}]}",
         -EINVAL, "affected[0].ranges[0].type"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"ranges\":[{\"type\":\"ECOSYSTEM\"}]}]}",
         -EINVAL, "affected[0].ranges[0].events: not an array"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":"
         "[{\"introduced\":\"0\",\"fixed\":\"1\"}]}]}]}",
         -EINVAL, "affected[0].ranges[0].events[0]: both introduced and fixed"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":"
         "[{\"introduced\":\"0\"},{\"fixed\":\"\"}]}]}]}",
         -EINVAL, "events[1].fixed"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":"
         "[{\"introduce\":\"0\"}]}]}]}",
         -EINVAL, "events[0]: no introduced"},
        {"{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
         "{\"name\":\"a\",\"ecosystem\":\"PyPI\"},\"versions\":[\"1\",null]}]}",
         -EINVAL, "affected[0].versions[1]"},
};

static void test_bad_records(void **state)
{
	char err[256];
	struct rows c;

	(void)state;
	for (size_t i = 0; i < N(bad_records); i++) {
		int r = parse_text(bad_records[i].json, &c, err, sizeof(err));

		if (r != bad_records[i].r || !strstr(err, bad_records[i].msg))
			fail_msg("case %zu: %d '%s', expected %d '%s'", i, r, err, bad_records[i].r,
			         bad_records[i].msg);
		assert_int_equal(c.n, 0);
		rows_free(&c);
	}
}

/* A record cut short is malformed JSON, with the place it broke. */
static void test_truncated(void **state)
{
	char *buf, err[256];
	struct rows c;
	size_t len;

	(void)state;
	buf = test_read_file(FIX "debian/DLA-3008-1.json", &len);
	for (size_t cut = 0; cut < len - 2; cut += 37) {
		rows_open(&c);
		assert_int_equal(osv_parse(buf, cut, rows_cb, &c, err, sizeof(err)), -EINVAL);
		rows_close(&c);
		assert_int_equal(c.n, 0);
		assert_non_null(strstr(err, "line "));
		rows_free(&c);
	}
	rows_open(&c);
	assert_int_equal(osv_parse(buf, len / 2, rows_cb, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 28 column 11: "));
	rows_free(&c);
	free(buf);
}

/* A record with n affected entries of one version each, or one range of n events. */
static char *big_record(size_t entries, size_t events)
{
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	fprintf(f, "{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[");
	for (size_t i = 0; i < entries; i++)
		fprintf(f,
		        "%s{\"package\":{\"name\":\"p%zu\",\"ecosystem\":\"PyPI\"},\"versions\":"
		        "[\"1\"]}",
		        i ? "," : "", i);
	if (events) {
		fprintf(f,
		        "%s{\"package\":{\"name\":\"p\",\"ecosystem\":\"PyPI\"},\"ranges\":[{"
		        "\"type\":\"ECOSYSTEM\",\"events\":[",
		        entries ? "," : "");
		for (size_t i = 0; i < events; i++)
			fprintf(f, "%s{\"%s\":\"%zu\"}", i ? "," : "",
			        i % 2 ? "fixed" : "introduced", i);
		fprintf(f, "]}]}");
	}
	fprintf(f, "]}");
	fclose(f);
	return text;
}

static void test_bounds(void **state)
{
	char err[256], *text;
	struct rows c;

	(void)state;
	text = big_record(OSV_MAX_AFFECTED, 0);
	assert_int_equal(parse_text(text, &c, err, sizeof(err)), OSV_MAX_AFFECTED);
	rows_free(&c);
	free(text);
	text = big_record(OSV_MAX_AFFECTED + 1, 0);
	assert_int_equal(parse_text(text, &c, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "more than 1000 affected entries");
	rows_free(&c);
	free(text);
	/* The range counts as one, so 9,999 events fit and 10,000 do not. */
	text = big_record(0, OSV_MAX_EVENTS - 1);
	assert_int_equal(parse_text(text, &c, err, sizeof(err)), 1);
	rows_free(&c);
	free(text);
	text = big_record(0, OSV_MAX_EVENTS);
	assert_int_equal(parse_text(text, &c, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "more than 10000 ranges and events");
	assert_int_equal(c.n, 0);
	rows_free(&c);
	free(text);
	/* Over OSV_MAX_RECORD bytes: refused before parsing. */
	text = malloc(OSV_MAX_RECORD + 1);
	assert_non_null(text);
	memset(text, ' ', OSV_MAX_RECORD + 1);
	assert_int_equal(osv_parse(text, OSV_MAX_RECORD + 1, rows_cb, &c, err, sizeof(err)),
	                 -E2BIG);
	assert_string_equal(err, "record of 4194305 bytes, more than 4194304");
	free(text);
}

/* The callback's error stops the parse and comes back; a bad entry stops it before any row. */
static void test_callback_error(void **state)
{
	char *buf, err[256];
	struct rows c;
	size_t len;

	(void)state;
	buf = test_read_file(FIX "alpine/ALPINE-CVE-2025-26519.json", &len);
	rows_open(&c);
	c.cancel_at = 3;
	assert_int_equal(osv_parse(buf, len, rows_cb, &c, err, sizeof(err)), CANCELLED);
	assert_int_equal(c.n, 3);
	assert_string_equal(err, "callback: Operation canceled");
	rows_free(&c);
	free(buf);
	assert_int_equal(parse_text("{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\","
	                            "\"affected\":[{\"package\":{\"name\":\"a\",\"ecosystem\":"
	                            "\"PyPI\"},\"versions\":[\"1\"]},{\"package\":{\"name\":\"b\","
	                            "\"ecosystem\":\"PyPI\"},\"versions\":[2]}]}",
	                            &c, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(c.n, 0);
	rows_free(&c);
}

/* ---- osv_eval ---- */

static const char *const django_ranges =
        "{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[%s]}],\"versions\":[]}";

static void check_django(const json_t *aff)
{
	static const struct {
		const char *v;
		bool affected;
		const char *fixed;
	} cases[] = {
	        {"0.1", true, "2.2.24"},       {"1.0.1", true, "2.2.24"},
	        {"2.2.23", true, "2.2.24"},    {"2.2.24", false, NULL},
	        {"2.2.24.post1", false, NULL}, {"2.2.99", false, NULL},
	        {"3.0a1", false, NULL},        {"3.0", true, "3.1.12"},
	        {"3.0.0", true, "3.1.12"},     {"3.1.11", true, "3.1.12"},
	        {"3.1.12", false, NULL},       {"3.2rc1", false, NULL},
	        {"3.2", true, "3.2.4"},        {"3.2.3", true, "3.2.4"},
	        {"3.2.4rc1", true, "3.2.4"},   {"3.2.4", false, NULL},
	        {"4.0", false, NULL},          {"1!0.1", false, NULL},
	};

	for (size_t i = 0; i < N(cases); i++)
		expect(aff, VERSION_PYPI, cases[i].v, cases[i].affected, cases[i].fixed);
}

static void test_eval_pairs(void **state)
{
	enum version_eco eco;
	json_t *aff = fixture_affected("pypi/PYSEC-2021-98.json", 0, &eco);
	char text[512];

	(void)state;
	assert_int_equal(eco, VERSION_PYPI);
	check_django(aff);
	json_decref(aff);
	/* The same range with its events shuffled, and without versions[]. */
	snprintf(text, sizeof(text), django_ranges,
	         "{\"fixed\":\"3.2.4\"},{\"introduced\":\"3.2\"},{\"fixed\":\"2.2.24\"},"
	         "{\"introduced\":\"0\"},{\"fixed\":\"3.1.12\"},{\"introduced\":\"3.0\"}");
	aff = js(text);
	check_django(aff);
	json_decref(aff);
	/* One range per interval gives the same answers. */
	aff = js("{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"3.2\"},"
	         "{\"fixed\":\"3.2.4\"}]},{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":"
	         "\"0\"},"
	         "{\"fixed\":\"2.2.24\"}]},{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":"
	         "\"3.0\"},{\"fixed\":\"3.1.12\"}]}]}");
	check_django(aff);
	json_decref(aff);
}

/* Every version a record lists is affected; its fixed version is not. */
static void check_listed(const char *file, size_t row, const char *fixed)
{
	enum version_eco eco;
	json_t *aff = fixture_affected(file, row, &eco);
	const json_t *v;
	size_t i;

	assert_true(json_array_size(json_object_get(aff, "versions")) > 0);
	json_array_foreach(json_object_get(aff, "versions"), i, v)
	        expect(aff, eco, json_string_value(v), true, fixed);
	expect(aff, eco, fixed, false, NULL);
	json_decref(aff);
}

static void test_eval_listed(void **state)
{
	(void)state;
	check_listed("debian/DLA-3008-1.json", 0, "1.1.0l-1~deb9u6");
	check_listed("debian/DLA-3012-1.json", 0, "2.9.4+dfsg1-2.2+deb9u7");
	check_listed("debian/DLA-3022-1.json", 0, "1.18.26");
	check_listed("debian/DLA-3051-1.json", 0, "2021a-0+deb9u4");
	check_listed("pypi/PYSEC-2020-148.json", 0, "1.25.9");
	check_listed("pypi/PYSEC-2020-43.json", 0, "3.0.9");
	check_listed("pypi/PYSEC-2020-73.json", 0, "1.0.4");
	check_listed("pypi/PYSEC-2023-74.json", 0, "2.31.0");
	check_listed("ubuntu/UBUNTU-CVE-2015-0209.json", 0, "1.0.1f-1ubuntu2.11");
	check_listed("ubuntu/UBUNTU-CVE-2024-6387.json", 0, "1:8.9p1-3ubuntu0.10");
	check_listed("ubuntu/UBUNTU-CVE-2024-6387.json", 1, "1:9.6p1-3ubuntu13.3");
	check_listed("ubuntu/UBUNTU-CVE-2022-24823.json", 1, "1:4.0.34-1ubuntu0.1~esm2");
}

/* ALPINE-CVE-2025-26519: introduced is upstream's 0.9.13, fixed an apk version. */
static void test_eval_alpine(void **state)
{
	static const struct {
		size_t row; /* 0 = Alpine:v3.16 ... 8 = Alpine:v3.24 */
		const char *v;
		bool affected;
		const char *fixed;
	} cases[] = {
	        /* musl of the alpine:3.16 nginx image and of the 3.18 base
	           (tests/fixtures/feeds/osv/ORIGIN.md) */
	        {0, "1.2.3-r1", true, "1.2.3-r4"},
	        {2, "1.2.4-r0", true, "1.2.4-r3"},
	        {0, "1.2.3-r4", false, NULL},
	        {0, "1.2.3-r5", false, NULL},
	        {0, "0.9.12", false, NULL},
	        {0, "0.9.12-r3", false, NULL},
	        {0, "0.9.13", true, "1.2.3-r4"},
	        {0, "0.9.13-r0", true, "1.2.3-r4"},
	        {0, "1.2.3_git20220101-r0", false, NULL},
	        {3, "1.2.4_git20230717-r4", true, "1.2.4_git20230717-r5"},
	        {3, "1.2.4_git20230717-r5", false, NULL},
	        {3, "1.2.4-r2", true, "1.2.4_git20230717-r5"},
	        {5, "1.2.5-r8", true, "1.2.5-r9"},
	        {5, "1.2.5-r9", false, NULL},
	        {6, "1.2.5-r9", true, "1.2.5-r10"},
	        {8, "1.2.6-r0", false, NULL},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		enum version_eco eco;
		json_t *aff =
		        fixture_affected("alpine/ALPINE-CVE-2025-26519.json", cases[i].row, &eco);

		assert_int_equal(eco, VERSION_ALPINE);
		expect(aff, eco, cases[i].v, cases[i].affected, cases[i].fixed);
		json_decref(aff);
	}
}

static void test_eval_open_ended(void **state)
{
	enum version_eco eco;
	json_t *aff;

	(void)state;
	/* Ubuntu introduced-only: not fixed yet, every version affected. */
	aff = fixture_affected("ubuntu/UBUNTU-CVE-2016-20013.json", 3, &eco);
	assert_int_equal(eco, VERSION_UBUNTU);
	expect(aff, eco, "2.23-0ubuntu11.3", true, NULL);
	expect(aff, eco, "0", true, NULL);
	expect(aff, eco, "99:1", true, NULL);
	expect(aff, eco, "0~1", true, NULL); /* below "0" for dpkg, not below introduced "0" */
	json_decref(aff);
	aff = fixture_affected("ubuntu/UBUNTU-CVE-2022-24823.json", 1, &eco);
	expect(aff, eco, "1:4.0.34-1", true, "1:4.0.34-1ubuntu0.1~esm2");
	expect(aff, eco, "4.0.34-9", true, "1:4.0.34-1ubuntu0.1~esm2"); /* epoch 0 < 1 */
	expect(aff, eco, "1:4.0.34-1ubuntu0.1~esm2", false, NULL);
	json_decref(aff);
}

struct eval_case {
	const char *affected;
	const char *v;
	bool is_affected;
	const char *fixed;
};

#define EV(events) "{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[" events "]}]}"

static const struct eval_case pypi_cases[] = {
        /* last_affected: inclusive end, no fix to offer. */
        {EV("{\"introduced\":\"0\"},{\"last_affected\":\"2.1.214\"}"), "2.1.214", true, NULL},
        {EV("{\"introduced\":\"0\"},{\"last_affected\":\"2.1.214\"}"), "2.1.0", true, NULL},
        {EV("{\"introduced\":\"0\"},{\"last_affected\":\"2.1.214\"}"), "2.1.215", false, NULL},
        {EV("{\"introduced\":\"1.0\"},{\"last_affected\":\"1.0\"}"), "1.0", true, NULL},
        /* limit: exclusive cap; '*' is infinity; several limits widen. */
        {EV("{\"introduced\":\"1.0\"},{\"limit\":\"2.0\"}"), "1.5", true, NULL},
        {EV("{\"introduced\":\"1.0\"},{\"limit\":\"2.0\"}"), "2.0", false, NULL},
        {EV("{\"introduced\":\"1.0\"},{\"limit\":\"2.0\"}"), "0.5", false, NULL},
        {EV("{\"introduced\":\"1.0\"},{\"limit\":\"*\"}"), "99", true, NULL},
        {EV("{\"introduced\":\"0\"},{\"fixed\":\"5.0\"},{\"limit\":\"1.0\"},{\"limit\":\"3.0\"}"),
         "2.0", true, "5.0"},
        {EV("{\"introduced\":\"0\"},{\"fixed\":\"5.0\"},{\"limit\":\"1.0\"},{\"limit\":\"3.0\"}"),
         "3.0", false, NULL},
        /* Same version: introduced sorts before fixed, so nothing is affected. */
        {EV("{\"introduced\":\"1.0\"},{\"fixed\":\"1.0\"}"), "1.0", false, NULL},
        {EV("{\"fixed\":\"1.0\"},{\"introduced\":\"1.0\"}"), "1.0", false, NULL},
        /* Version equality, not string equality: 1.0 is 1.0.0. */
        {EV("{\"introduced\":\"1.0.0\"},{\"fixed\":\"2\"}"), "1.0", true, "2"},
        {EV("{\"introduced\":\"0\"},{\"fixed\":\"2.0.0\"}"), "2", false, NULL},
        /* An event that is not a version is skipped, the others still count. */
        {EV("{\"introduced\":\"0\"},{\"fixed\":\"not a version\"}"), "1.0", true, NULL},
        {EV("{\"introduced\":\"not a version\"},{\"fixed\":\"2.0\"}"), "1.0", false, NULL},
        {EV("{\"introduced\":\"0\"},{\"fixed\":\"2.0\"},{\"limit\":\"bad limit\"}"), "1.0", true,
         "2.0"},
        /* Redundant events. */
        {EV("{\"introduced\":\"0\"},{\"introduced\":\"1.0\"},{\"fixed\":\"2.0\"},"
            "{\"fixed\":\"3.0\"}"),
         "1.5", true, "2.0"},
        {EV("{\"introduced\":\"0\"},{\"last_affected\":\"1.0\"},{\"introduced\":\"2.0\"},"
            "{\"fixed\":\"3.0\"}"),
         "0.5", true, NULL},
        {EV("{\"introduced\":\"0\"},{\"last_affected\":\"1.0\"},{\"introduced\":\"2.0\"},"
            "{\"fixed\":\"3.0\"}"),
         "1.5", false, NULL},
        {EV("{\"introduced\":\"0\"},{\"last_affected\":\"1.0\"},{\"introduced\":\"2.0\"},"
            "{\"fixed\":\"3.0\"}"),
         "2.5", true, "3.0"},
        /* No introduced at all: nothing is affected. */
        {EV("{\"fixed\":\"2.0\"}"), "1.0", false, NULL},
        {EV(""), "1.0", false, NULL},
        /* versions[] only; a listed string that is no version still matches itself. */
        {"{\"ranges\":[],\"versions\":[\"1.0\",\"1.1\"]}", "1.0", true, NULL},
        {"{\"ranges\":[],\"versions\":[\"1.0\",\"1.1\"]}", "1.0.0", true, NULL},
        {"{\"ranges\":[],\"versions\":[\"1.0\",\"1.1\"]}", "1.2", false, NULL},
        {"{\"versions\":[\"1.0-beta\",\"weird\"]}", "1.0b0", true, NULL},
        /* Listed but outside the range: the lowest fix above it. */
        {"{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"2.0\"},{\"fixed\":"
         "\"2.5\"},{\"introduced\":\"3.0\"},{\"fixed\":\"3.5\"}]}],\"versions\":[\"1.0\","
         "\"2.7\",\"4.0\"]}",
         "1.0", true, "2.5"},
        {"{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"2.0\"},{\"fixed\":"
         "\"2.5\"},{\"introduced\":\"3.0\"},{\"fixed\":\"3.5\"}]}],\"versions\":[\"1.0\","
         "\"2.7\",\"4.0\"]}",
         "2.7", true, "3.5"},
        {"{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"2.0\"},{\"fixed\":"
         "\"2.5\"},{\"introduced\":\"3.0\"},{\"fixed\":\"3.5\"}]}],\"versions\":[\"1.0\","
         "\"2.7\",\"4.0\"]}",
         "4.0", true, NULL},
        /* Several ranges hold the version: the highest fix; one unfixed range wins. */
        {"{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
         "\"1.5\"}]},{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2.0\"}"
         "]}]}",
         "1.0", true, "2.0"},
        {"{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
         "\"1.5\"}]},{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2.0\"}"
         "]}]}",
         "1.7", true, "2.0"},
        {"{\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
         "\"1.5\"}]},{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"1.0\"}]}]}",
         "1.2", true, NULL},
        /* GIT ranges and unknown types are not evaluated; unknown keys are ignored. */
        {"{\"ranges\":[{\"type\":\"GIT\",\"repo\":\"r\",\"events\":[{\"introduced\":\"0\"}]},"
         "{\"type\":\"FUTURE\"}],\"database_specific\":{}}",
         "1.0", false, NULL},
};

static void test_eval_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(pypi_cases); i++) {
		expect_text(pypi_cases[i].affected, VERSION_PYPI, pypi_cases[i].v,
		            pypi_cases[i].is_affected, pypi_cases[i].fixed);
	}
	/* dpkg: "0" introduced is below "~" versions too. */
	expect_text(EV("{\"introduced\":\"0\"},{\"fixed\":\"1.0-1\"}"), VERSION_DEBIAN, "0~1", true,
	            "1.0-1");
	expect_text(EV("{\"introduced\":\"0\"},{\"fixed\":\"1:1.0-1\"}"), VERSION_DEBIAN, "9.9-9",
	            true, "1:1.0-1");
}

static void test_eval_errors(void **state)
{
	struct osv_verdict v = {.affected = true, .fixed = "untouched"};
	json_t *aff = js(EV("{\"introduced\":\"0\"}"));

	(void)state;
	assert_int_equal(osv_eval(aff, VERSION_PYPI, "not a version", &v), -EINVAL);
	assert_int_equal(osv_eval(aff, VERSION_ALPINE, "1.0 ", &v), -EINVAL);
	assert_int_equal(osv_eval(aff, VERSION_PYPI, NULL, &v), -EINVAL);
	assert_int_equal(osv_eval(NULL, VERSION_PYPI, "1.0", &v), -EINVAL);
	json_decref(aff);
	static const char *const malformed[] = {
	        "[]",
	        "{\"ranges\":{}}",
	        "{\"versions\":\"1.0\"}",
	        "{\"versions\":[1]}",
	        "{\"ranges\":[1]}",
	        "{\"ranges\":[{\"events\":[]}]}",
	        "{\"ranges\":[{\"type\":\"ECOSYSTEM\"}]}",
	        EV("1"),
	        EV("{\"introduce\":\"0\"}"),
	        EV("{\"introduced\":0}"),
	};
	for (size_t i = 0; i < N(malformed); i++) {
		aff = js(malformed[i]);
		if (osv_eval(aff, VERSION_PYPI, "1.0", &v) != -EINVAL)
			fail_msg("accepted %s", malformed[i]);
		json_decref(aff);
	}
	assert_true(v.affected);
	assert_string_equal(v.fixed, "untouched");
	/* Bounds: OSV_MAX_EVENTS counts the range itself. */
	aff = js(EV(""));
	for (size_t i = 0; i < OSV_MAX_EVENTS; i++)
		json_array_append_new(
		        json_object_get(json_array_get(json_object_get(aff, "ranges"), 0),
		                        "events"),
		        json_pack("{s:s}", i % 2 ? "fixed" : "introduced", i % 2 ? "2" : "1"));
	assert_int_equal(osv_eval(aff, VERSION_PYPI, "1.0", &v), -E2BIG);
	json_array_remove(
	        json_object_get(json_array_get(json_object_get(aff, "ranges"), 0), "events"), 0);
	assert_int_equal(osv_eval(aff, VERSION_PYPI, "1.0", &v), 0);
	assert_true(v.affected);
	assert_string_equal(v.fixed, "2");
	json_decref(aff);
}

/* ---- ecosystems ---- */

static void test_ecosystems(void **state)
{
	static const struct {
		const char *name;
		int r;
		enum version_eco eco;
		const char *dir;
	} cases[] = {
	        {"Debian", 0, VERSION_DEBIAN, "Debian"},
	        {"Debian:12", 0, VERSION_DEBIAN, "Debian"},
	        {"Debian:sid", 0, VERSION_DEBIAN, "Debian"},
	        {"Ubuntu:22.04:LTS", 0, VERSION_UBUNTU, "Ubuntu"},
	        {"Ubuntu:Pro:FIPS:16.04:LTS", 0, VERSION_UBUNTU, "Ubuntu"},
	        {"Ubuntu:25.10", 0, VERSION_UBUNTU, "Ubuntu"},
	        {"Alpine:v3.18", 0, VERSION_ALPINE, "Alpine"},
	        {"PyPI", 0, VERSION_PYPI, "PyPI"},
	        {"PyPI:x", -ENOTSUP, 0, "PyPI"},
	        {"Debian:", -ENOTSUP, 0, "Debian"},
	        {"debian", -ENOTSUP, 0, "debian"},
	        {"DebianX", -ENOTSUP, 0, "DebianX"},
	        {"pypi", -ENOTSUP, 0, "pypi"},
	        {"npm", -ENOTSUP, 0, "npm"},
	        {"GitHub Actions", -ENOTSUP, 0, "GitHub Actions"},
	        {"Maven:https://maven.google.com", -ENOTSUP, 0, "Maven"},
	        {"", -ENOTSUP, 0, NULL},
	        {":12", -ENOTSUP, 0, NULL},
	        {"a/b", -ENOTSUP, 0, NULL},
	        {"..", -ENOTSUP, 0, NULL},
	        {".:1", -ENOTSUP, 0, NULL},
	        {"a\tb", -ENOTSUP, 0, NULL},
	};
	enum version_eco eco;
	char buf[16];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *dir = osv_ecosystem_dir(cases[i].name, buf, sizeof(buf));

		eco = (enum version_eco)99;
		assert_int_equal(osv_ecosystem_eco(cases[i].name, &eco), cases[i].r);
		if (cases[i].r == 0)
			assert_int_equal(eco, cases[i].eco);
		else
			assert_int_equal(eco, 99);
		if (cases[i].dir)
			assert_string_equal(dir, cases[i].dir);
		else
			assert_null(dir);
	}
	assert_int_equal(osv_ecosystem_eco(NULL, &eco), -ENOTSUP);
	assert_null(osv_ecosystem_dir(NULL, buf, sizeof(buf)));
	assert_null(osv_ecosystem_dir("Debian:12", buf, 6)); /* no room for the NUL */
	assert_string_equal(osv_ecosystem_dir("Debian:12", buf, 7), "Debian");
}

/* ---- times ---- */

static void test_time_parse(void **state)
{
	static const struct {
		const char *s;
		int64_t sec;
		int32_t nsec;
	} good[] = {
	        {"1970-01-01T00:00:00Z", 0, 0},
	        {"1970-01-01T01:00:00+01:00", 0, 0},
	        {"1969-12-31T19:00:00-05:00", 0, 0},
	        {"1970-01-01T00:00:00-00:00", 0, 0},
	        {"2026-07-08T04:32:24.548042624Z", 1783485144, 548042624},
	        {"2026-03-09T01:23:33.375630Z", 1773019413, 375630000},
	        {"2024-10-10t17:22:00.5z", 1728580920, 500000000},
	        {"2024-02-29T12:00:00Z", 1709208000, 0},
	        {"2000-02-29T00:00:00Z", 951782400, 0},
	        {"2016-12-31T23:59:60Z", 1483228800, 0},   /* leap second: the next one */
	        {"0001-01-01T00:00:00Z", -62135596800, 0}, /* PYSEC-2024-55 */
	        {"9999-12-31T23:59:59.999999999Z", 253402300799, 999999999},
	};
	static const char *const bad[] = {
	        "",
	        "2024-01-01",
	        "2024-01-01T00:00:00",
	        "2024-01-01 00:00:00Z",
	        "2024-01-01T00:00Z",
	        "2024-1-01T00:00:00Z",
	        "2024-01-01T00:00:00.Z",
	        "2024-01-01T00:00:00.1234567890Z",
	        "2024-01-01T00:00:00ZZ",
	        "2024-01-01T00:00:00+0100",
	        "2024-01-01T00:00:00+24:00",
	        "2024-01-01T00:00:00+01:60",
	        "2023-02-29T00:00:00Z",
	        "1900-02-29T00:00:00Z",
	        "2024-04-31T00:00:00Z",
	        "2024-13-01T00:00:00Z",
	        "2024-00-01T00:00:00Z",
	        "2024-01-00T00:00:00Z",
	        "2024-01-01T24:00:00Z",
	        "2024-01-01T00:60:00Z",
	        "2024-01-01T00:00:61Z",
	        " 2024-01-01T00:00:00Z",
	        "2024-01-01T00:00:00Z ",
	        "+2024-01-01T00:00:00Z",
	        "2024-01-01T00:00:00.000000000000000000000000Z",
	};
	int64_t sec = 42;
	int32_t nsec = 42;

	(void)state;
	for (size_t i = 0; i < N(good); i++) {
		if (osv_time_parse(good[i].s, &sec, &nsec) != 0)
			fail_msg("'%s' rejected", good[i].s);
		if (sec != good[i].sec || nsec != good[i].nsec)
			fail_msg("'%s': %lld.%09d", good[i].s, (long long)sec, nsec);
	}
	sec = nsec = 42;
	for (size_t i = 0; i < N(bad); i++)
		if (osv_time_parse(bad[i], &sec, &nsec) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(osv_time_parse(NULL, &sec, &nsec), -EINVAL);
	assert_int_equal(sec, 42);
	assert_int_equal(nsec, 42);
}

static void test_time_cmp(void **state)
{
	static const struct {
		const char *a, *b;
		int cmp;
	} cases[] = {
	        /* As strings 'Z' > '.', as instants :05 < :05.3. */
	        {"2024-08-15T00:00:05Z", "2024-08-15T00:00:05.3Z", -1},
	        {"2024-08-15T00:00:05.30Z", "2024-08-15T00:00:05.3Z", 0},
	        {"2024-08-15T00:00:05.000000001Z", "2024-08-15T00:00:05Z", 1},
	        {"2024-08-15T02:00:00+02:00", "2024-08-15T00:00:00Z", 0},
	        {"2024-08-15T01:00:00+02:00", "2024-08-15T00:00:00Z", -1},
	        {"2026-08-28T04:10:58.243285085Z", "2026-08-27T12:01:44Z", 1},
	};
	int r = 42;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_int_equal(osv_time_cmp(cases[i].a, cases[i].b, &r), 0);
		assert_int_equal(r, cases[i].cmp);
		assert_int_equal(osv_time_cmp(cases[i].b, cases[i].a, &r), 0);
		assert_int_equal(r, -cases[i].cmp);
	}
	r = 42;
	assert_int_equal(osv_time_cmp("2024-01-01T00:00:00Z", "x", &r), -EINVAL);
	assert_int_equal(osv_time_cmp("x", "2024-01-01T00:00:00Z", &r), -EINVAL);
	assert_int_equal(r, 42);
}

/* ---- modified_id.csv ---- */

struct lines {
	size_t n;
	char text[4096];
	int fail_at;
};

static int lines_cb(const char *when, const char *id, void *arg)
{
	struct lines *l = arg;
	size_t len = strlen(l->text);

	if (l->fail_at && (int)l->n + 1 == l->fail_at)
		return CANCELLED;
	l->n++;
	snprintf(l->text + len, sizeof(l->text) - len, "%s %s\n", when, id);
	return 0;
}

static int csv_run(const char *csv, const char *since, struct lines *l, char *err, size_t errlen)
{
	int fail_at = l->fail_at;

	memset(l, 0, sizeof(*l));
	l->fail_at = fail_at;
	err[0] = '\0';
	return osv_modified_each(csv, strlen(csv), since, lines_cb, l, err, errlen);
}

static const char mixed_csv[] = "2026-08-28T04:10:58.243285085Z,PYSEC-2024-104\n"
                                "2026-08-28T04:10:58.2Z,PYSEC-2024-103\n"
                                "2026-08-28T04:10:58Z,PYSEC-2023-262\n"
                                "2026-08-28T04:10:58Z,PYSEC-2023-261\n"
                                "2026-08-27T12:01:44Z,GHSA-hvr8-466p-75rh\n"
                                "2003-07-06T00:00:00Z,DSA-340\n";

static void test_csv_since(void **state)
{
	char err[256];
	struct lines l = {0};

	(void)state;
	assert_int_equal(csv_run(mixed_csv, NULL, &l, err, sizeof(err)), 6);
	assert_string_equal(l.text, "2026-08-28T04:10:58.243285085Z PYSEC-2024-104\n"
	                            "2026-08-28T04:10:58.2Z PYSEC-2024-103\n"
	                            "2026-08-28T04:10:58Z PYSEC-2023-262\n"
	                            "2026-08-28T04:10:58Z PYSEC-2023-261\n"
	                            "2026-08-27T12:01:44Z GHSA-hvr8-466p-75rh\n"
	                            "2003-07-06T00:00:00Z DSA-340\n");
	/* A watermark between two lines of the same second. */
	assert_int_equal(csv_run(mixed_csv, "2026-08-28T04:10:58.1Z", &l, err, sizeof(err)), 2);
	assert_string_equal(l.text, "2026-08-28T04:10:58.243285085Z PYSEC-2024-104\n"
	                            "2026-08-28T04:10:58.2Z PYSEC-2024-103\n");
	/* Equal to a line: that line is not newer. */
	assert_int_equal(csv_run(mixed_csv, "2026-08-28T04:10:58.200Z", &l, err, sizeof(err)), 1);
	assert_int_equal(csv_run(mixed_csv, "2026-08-28T04:10:58Z", &l, err, sizeof(err)), 2);
	assert_int_equal(csv_run(mixed_csv, "2026-08-28T06:10:58.5+02:00", &l, err, sizeof(err)),
	                 0);
	assert_int_equal(csv_run(mixed_csv, "2026-08-28T04:10:59Z", &l, err, sizeof(err)), 0);
	assert_int_equal(csv_run(mixed_csv, "1970-01-01T00:00:00Z", &l, err, sizeof(err)), 6);
	assert_int_equal(csv_run(mixed_csv, "2026-08-28", &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "since: not an RFC 3339 time");
	/* The stop is early: what follows the watermark is not read. */
	assert_int_equal(csv_run("2024-01-02T00:00:00Z,A-2\n2024-01-01T00:00:00Z,A-1\ngarbage\n",
	                         "2024-01-01T00:00:00Z", &l, err, sizeof(err)),
	                 1);
	l.fail_at = 2;
	assert_int_equal(csv_run(mixed_csv, NULL, &l, err, sizeof(err)), CANCELLED);
	assert_int_equal(l.n, 1);
	assert_string_equal(err, "line 2: callback: Operation canceled");
}

static void test_csv_format(void **state)
{
	static const struct {
		const char *csv;
		int r;
		const char *err;
	} cases[] = {
	        {"", 0, ""},
	        {"2024-01-01T00:00:00Z,A-1", 1, ""},
	        {"2024-01-01T00:00:00Z,A-1\r\n2024-01-01T00:00:00Z,A-2\r\n", 2, ""},
	        {"2024-01-01T00:00:00Z,PyPI/PYSEC-2021-98\n2023-01-01T00:00:00Z,GitHub Actions/"
	         "GHSA-1\n2022-01-01T00:00:00Z,[EMPTY]/X-1\n2021-01-01T00:00:00Z,Ubuntu/UBUNTU-CVE-"
	         "2024-6387\n",
	         4, ""},
	        {"\n", -EINVAL, "line 1: empty"},
	        {"2024-01-01T00:00:00Z,A-1\n\n2024-01-01T00:00:00Z,A-1\n", -EINVAL,
	         "line 2: empty"},
	        {"2024-01-01T00:00:00Z A-1\n", -EINVAL, "line 1: no comma"},
	        {"2024-01-01T00:00:00Z,A-1\n2024-01-01,A-2\n", -EINVAL,
	         "line 2: \"2024-01-01\" is not an RFC 3339 time"},
	        {"2024-01-01T00:00:00Z,\n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,A-1,x\n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,a/b/C-1\n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,/C-1\n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,PyPI/\n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,../C-1\n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,./C-1\n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,A-1 \n", -EINVAL, "line 1: not an OSV id"},
	        {"2024-01-01T00:00:00Z,A-1\n2024-01-01T00:00:00.5Z,A-2\n", -EINVAL,
	         "line 2: 2024-01-01T00:00:00.5Z is newer than the line above (not newest first)"},
	        {"2024-01-01T00:00:00Z,A-1\n2024-01-01T00:00:00.000000000000Z,A-2\n", -EINVAL,
	         "line 2: \"2024-01-01T00:00:00.000000000000Z\" is not an RFC 3339 time"},
	};
	char err[256];
	struct lines l = {0};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		int r = csv_run(cases[i].csv, NULL, &l, err, sizeof(err));

		if (r != cases[i].r || strcmp(err, cases[i].err))
			fail_msg("case %zu: %d '%s', expected %d '%s'", i, r, err, cases[i].r,
			         cases[i].err);
	}
	/* A NUL inside a line, and a line past OSV_CSV_MAX_LINE bytes. */
	assert_int_equal(osv_modified_each("2024-01-01T00:00:00Z\0,A-1\n", 26, NULL, lines_cb, &l,
	                                   err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "line 1: NUL byte");
	{
		char line[OSV_CSV_MAX_LINE + 8];

		memset(line, 'A', sizeof(line));
		memcpy(line, "2024-01-01T00:00:00Z,", 21);
		assert_int_equal(
		        osv_modified_each(line, sizeof(line), NULL, lines_cb, &l, err, sizeof(err)),
		        -EINVAL);
		assert_string_equal(err, "line 1: longer than 512 bytes");
	}
}

/* ---- all.zip ---- */

struct zentry {
	const char *name;
	const char *data;
	size_t len;
	bool dir;
};

static void *zip_make(const struct zentry *e, size_t n, size_t *ret_len)
{
	size_t cap = 1 << 16, used = 0;
	struct archive *a = archive_write_new();
	void *buf;

	for (size_t i = 0; i < n; i++)
		cap += e[i].len + 512;
	buf = malloc(cap);
	assert_non_null(buf);
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();

		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_filetype(ae, e[i].dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)e[i].len);
		archive_entry_set_mtime(ae, 1728518400, 0);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].len)
			assert_int_equal(archive_write_data(a, e[i].data, e[i].len),
			                 (la_ssize_t)e[i].len);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*ret_len = used;
	return buf;
}

/* The file variant (all.zip downloaded to disk): same rows; truncated is an error. */
static void zip_file_checks(const char *zip, size_t zlen)
{
	char path[] = "/tmp/refit-osvzip-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct rows c;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, zip, zlen), (ssize_t)zlen);
	rows_open(&c);
	c.many = true;
	assert_int_equal(osv_zip_each_file(path, rows_cb, &c, err, sizeof(err)), 11);
	rows_free(&c);
	assert_int_equal(ftruncate(fd, (off_t)(zlen - 10)), 0);
	rows_open(&c);
	assert_int_equal(osv_zip_each_file(path, rows_cb, &c, err, sizeof(err)), -EINVAL);
	rows_free(&c);
	close(fd);
	unlink(path);
	rows_open(&c);
	assert_int_equal(osv_zip_each_file(path, rows_cb, &c, err, sizeof(err)), -ENOENT);
	rows_free(&c);
}

static void test_zip(void **state)
{
	size_t l1, l2, l3, zlen;
	char *dla = test_read_file(FIX "debian/DLA-3008-1.json", &l1);
	char *pysec = test_read_file(FIX "pypi/PYSEC-2021-98.json", &l2);
	char *alp = test_read_file(FIX "alpine/ALPINE-CVE-2025-26519.json", &l3);
	const struct zentry entries[] = {
	        {"DLA-3008-1.json", dla, l1, false},
	        {"README", "not a record", 12, false},
	        {"sub/", NULL, 0, true},
	        {"sub/PYSEC-2021-98.json", pysec, l2, false},
	        {"ALPINE-CVE-2025-26519.json", alp, l3, false},
	};
	char err[256], *zip = zip_make(entries, N(entries), &zlen);
	unsigned char *z;
	struct rows c;

	(void)state;
	rows_open(&c);
	c.many = true;
	assert_int_equal(osv_zip_each(zip, zlen, rows_cb, &c, err, sizeof(err)), 11);
	rows_close(&c);
	assert_int_equal(c.n, 11);
	assert_non_null(strstr(c.text,
	                       "Debian:9|openssl|ECOSYSTEM:introduced=0,fixed=1.1.0l-1~deb9u6|19\n"
	                       "PyPI|django|"));
	rows_free(&c);
	/* Truncated anywhere (the central directory is at the end): an error, never fewer rows. */
	for (size_t cut = 0; cut < zlen; cut += zlen / 7 + 1) {
		int r;

		rows_open(&c);
		r = osv_zip_each(zip, cut, rows_cb, &c, err, sizeof(err));
		rows_close(&c);
		if (r != -EINVAL)
			fail_msg("cut at %zu of %zu: %d", cut, zlen, r);
		assert_non_null(strstr(err, "zip"));
		rows_free(&c);
	}
	rows_open(&c);
	assert_int_equal(osv_zip_each(zip, zlen - 1, rows_cb, &c, err, sizeof(err)), -EINVAL);
	rows_free(&c);
	zip_file_checks(zip, zlen);
	/* A flipped byte in the first entry's compressed data (after its local header). */
	z = (unsigned char *)zip;
	assert_memory_equal(z, "PK\3\4", 4);
	z[30 + (z[26] | z[27] << 8) + (z[28] | z[29] << 8) + 10] ^= 0x55;
	rows_open(&c);
	assert_int_equal(osv_zip_each(zip, zlen, rows_cb, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "DLA-3008-1.json: "));
	rows_free(&c);
	free(zip);
	/* The callback's error comes back as it is. */
	zip = zip_make(entries, N(entries), &zlen);
	rows_open(&c);
	c.many = true;
	c.cancel_at = 5;
	assert_int_equal(osv_zip_each(zip, zlen, rows_cb, &c, err, sizeof(err)), CANCELLED);
	assert_string_equal(err, "ALPINE-CVE-2025-26519.json: callback: Operation canceled");
	rows_free(&c);
	free(zip);
	free(dla);
	free(pysec);
	free(alp);
}

static void test_zip_errors(void **state)
{
	static const char ok[] = "{\"id\":\"A-0\",\"modified\":\"2024-01-01T00:00:00Z\"}";
	static const char bad[] = "{\"id\":\"A-1\",\"modified\":\"2024-01-01T00:00:00Z\"";
	const struct zentry one_bad[] = {{"ok/A-0.json", ok, sizeof(ok) - 1, false},
	                                 {"odd\nname.json", bad, sizeof(bad) - 1, false}};
	char err[256], *zip, *big;
	struct rows c;
	size_t zlen;

	(void)state;
	zip = zip_make(one_bad, N(one_bad), &zlen);
	rows_open(&c);
	assert_int_equal(osv_zip_each(zip, zlen, rows_cb, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "odd?name.json: line 1 column 45: '}' expected near end of file");
	rows_free(&c);
	free(zip);
	/* An entry past OSV_MAX_RECORD once inflated. */
	big = malloc(OSV_MAX_RECORD + 1);
	assert_non_null(big);
	memset(big, ' ', OSV_MAX_RECORD + 1);
	zip = zip_make(&(struct zentry){"big.json", big, OSV_MAX_RECORD + 1, false}, 1, &zlen);
	assert_true(zlen < 100000);
	rows_open(&c);
	assert_int_equal(osv_zip_each(zip, zlen, rows_cb, &c, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "big.json: 4194305 bytes, more than 4194304");
	rows_free(&c);
	free(zip);
	free(big);
	/* An empty zip is no record at all; no bytes and other formats are errors. */
	zip = zip_make(NULL, 0, &zlen);
	assert_int_equal(osv_zip_each(zip, zlen, rows_cb, &c, err, sizeof(err)), 0);
	free(zip);
	assert_int_equal(osv_zip_each("", 0, rows_cb, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "zip: empty");
	assert_int_equal(osv_zip_each("{\"id\":\"A-1\"}", 12, rows_cb, &c, err, sizeof(err)),
	                 -EINVAL);
}

/* ---- the whole PyPA advisory database ---- */

struct db {
	size_t rows, records, closing, versions_only, with_range, listed, listed_invalid;
	size_t fixed_checked, fixed_affected;
	char last_id[OSV_ID_MAX + 1];
};

static void db_row_eval(struct db *d, const json_t *aff)
{
	const json_t *v, *r, *e, *fixed;
	size_t i, k;

	/* Every listed version is affected... */
	json_array_foreach(json_object_get(aff, "versions"), i, v)
	{
		struct osv_verdict out;
		const char *s = json_string_value(v);

		d->listed++;
		if (version_valid(VERSION_PYPI, s) < 0) {
			d->listed_invalid++;
			continue;
		}
		assert_int_equal(osv_eval(aff, VERSION_PYPI, s, &out), 0);
		if (!out.affected)
			fail_msg("listed version %s not affected", s);
	}
	/* ...and no fixed version is, unless the record lists it too (counted). */
	json_array_foreach(json_object_get(aff, "ranges"), i, r)
	{
		json_array_foreach(json_object_get(r, "events"), k, e)
		{
			struct osv_verdict out;

			fixed = json_object_get(e, "fixed");
			if (!fixed || version_valid(VERSION_PYPI, json_string_value(fixed)) < 0)
				continue;
			d->fixed_checked++;
			assert_int_equal(
			        osv_eval(aff, VERSION_PYPI, json_string_value(fixed), &out), 0);
			d->fixed_affected += out.affected;
		}
	}
}

static int db_row(const struct feed_row *row, void *arg)
{
	struct db *d = arg;
	enum version_eco eco;

	d->rows++;
	if (strcmp(row->id, d->last_id)) {
		d->records++;
		snprintf(d->last_id, sizeof(d->last_id), "%s", row->id);
	}
	if (!row->affected) {
		d->closing++;
		return 0;
	}
	assert_int_equal(osv_ecosystem_eco(row->ecosystem, &eco), 0);
	assert_int_equal(eco, VERSION_PYPI);
	if (json_array_size(json_object_get(row->affected, "ranges")))
		d->with_range++;
	else
		d->versions_only++;
	db_row_eval(d, row->affected);
	return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_pypa_database(void **state)
{
	char dir[] = "/tmp/test_osv.XXXXXX", cmd[512], path[256], err[512];
	struct lines l = {0};
	struct db d = {0};
	size_t zlen = 0, clen = 0;
	char *zip, *csv;
	int r;

	(void)state;
	if (system("python3 -c 'import yaml' >/dev/null 2>&1") != 0) {
		printf("PyPA database: SKIPPED, needs python3 and python3-yaml\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "python3 tests/testbed/osvmirror.py %s %s >/dev/null", PYPA_TAR,
	         dir);
	r = system(cmd);
	snprintf(path, sizeof(path), "%s/PyPI/all.zip", dir);
	zip = r == 0 ? test_read_file(path, &zlen) : NULL;
	snprintf(path, sizeof(path), "%s/PyPI/modified_id.csv", dir);
	csv = r == 0 ? test_read_file(path, &clen) : NULL;
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	if (r != 0)
		fail_msg("%s: exit status %d", cmd, r);
	r = osv_zip_each(zip, zlen, db_row, &d, err, sizeof(err));
	if (r < 0)
		fail_msg("all.zip: %s", err);
	printf("PyPA database: %zu rows from %zu records (%zu withdrawn without a range, %zu "
	       "versions[] only), %zu listed versions (%zu not PEP 440) affected, %zu of %zu fixed "
	       "versions listed as affected too\n",
	       d.rows, d.records, d.closing, d.versions_only, d.listed, d.listed_invalid,
	       d.fixed_affected, d.fixed_checked);
	/* Counted independently with Python from the converted JSON (see ORIGIN.md there). */
	assert_int_equal(r, 2661);
	assert_int_equal(d.rows, 2661);
	assert_int_equal(d.records, 2661);
	assert_int_equal(d.closing, 1);       /* PYSEC-2022-15: withdrawn, package only */
	assert_int_equal(d.versions_only, 1); /* PYSEC-2024-1: versions ["0.5"], no range */
	assert_int_equal(d.with_range, 2659);
	assert_int_equal(d.listed, 140847);
	/* PYSEC-2021-114, PYSEC-2022-236, PYSEC-2023-177 and PYSEC-2023-72 list their fixed
	 * version in versions[] too: affected, as the schema says. */
	assert_int_equal(d.fixed_affected, 4);
	/* modified_id.csv: every record, newest first (the reader checks the order). */
	assert_int_equal(osv_modified_each(csv, clen, NULL, lines_cb, &l, err, sizeof(err)), 2661);
	assert_int_equal(osv_modified_each(csv, clen, "2024-10-09T19:20:24.594458Z", lines_cb, &l,
	                                   err, sizeof(err)),
	                 2);
	free(zip);
	free(csv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_records),        cmocka_unit_test(test_affected_json),
	        cmocka_unit_test(test_withdrawn_rows), cmocka_unit_test(test_aliases_merge),
	        cmocka_unit_test(test_bad_records),    cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_bounds),         cmocka_unit_test(test_callback_error),
	        cmocka_unit_test(test_eval_pairs),     cmocka_unit_test(test_eval_listed),
	        cmocka_unit_test(test_eval_alpine),    cmocka_unit_test(test_eval_open_ended),
	        cmocka_unit_test(test_eval_vectors),   cmocka_unit_test(test_eval_errors),
	        cmocka_unit_test(test_ecosystems),     cmocka_unit_test(test_time_parse),
	        cmocka_unit_test(test_time_cmp),       cmocka_unit_test(test_csv_since),
	        cmocka_unit_test(test_csv_format),     cmocka_unit_test(test_zip),
	        cmocka_unit_test(test_zip_errors),     cmocka_unit_test(test_pypa_database),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
