/*
 * store_evidence: a build loaded with its inventory, matches, previous image and the
 * inputs captured before it; the package changes; the errors; a real dpkg database.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "pkgdb.h"
#include "store.h"
#include "store_evidence.h"
#include "store_feed.h"
#include "testutil.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/refit-evidence-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[160];

	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	return rmdir(dir);
}

static struct store *open_ok(void)
{
	struct store *s = NULL;
	char err[256] = "";

	if (store_open(path, &s, err, sizeof(err)) < 0)
		print_message("store_open: %s\n", err);
	assert_non_null(s);
	return s;
}

static int64_t build(struct store *s, const char *status, const char *trigger,
                     const char *base_digest)
{
	struct store_build b = {.project = "p",
	                        .env = "prod",
	                        .trigger = trigger,
	                        .reasons = "security: PYSEC-1 requests 2.25.0 -> 2.31.0 (prod)",
	                        .status = "running",
	                        .queued_at = 1000,
	                        .started_at = 2000,
	                        .engine = "unix:///run/docker.sock",
	                        .builder = "buildkit"};
	int64_t id;

	assert_int_equal(store_build_insert(s, &b, &id), 0);
	b = (struct store_build){
	        .status = status,
	        .finished_at = 3000,
	        .digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                  "aaaaaaaa",
	        .image_id = "sha256:bbbb",
	        .base_name = "docker.io/library/debian:12",
	        .base_digest = base_digest};
	assert_int_equal(store_build_update(s, id, &b), 0);
	return id;
}

static void inventory(struct store *s, int64_t id, const char *requests)
{
	struct store_pkg pk[] = {
	        {"Debian:12", "libc6", "2.36-9", "glibc", "2.36-9", "amd64", NULL},
	        {"Alpine:v3.18", "musl", "1.2.4-r0", "musl", "1.2.4-r0", "x86_64", "MIT"},
	        {"PyPI", "requests", requests, "requests", requests, NULL, NULL},
	};
	struct store_inventory inv = {"debian", "12", "Debian:12", NULL, pk, 3, 2500};

	assert_int_equal(store_inventory_put(s, id, &inv), 0);
}

static void inputs(struct store *s, const char *df)
{
	struct store_build_inputs in = {
	        .project = "p",
	        .image = "reg.example/team/p",
	        .refit_version = "9.9",
	        .engine_version = "docker 24.0.7",
	        .platform = "linux/amd64",
	        .dockerfile = "Dockerfile",
	        .dockerfile_digest = df,
	        .git_commit = "0123456789abcdef0123456789abcdef01234567",
	        .envs_json =
	                "{\"prod\":{\"target\":\"runtime\",\"build_args\":{\"EXTRAS\":\"nb\"},"
	                "\"secret_args\":[\"API_TOKEN\"],\"bases\":[{\"ref\":\"docker.io/library/"
	                "debian:12\",\"digest\":\"sha256:cc\"}]},\"test\":{}}",
	        .at = 1500};

	assert_int_equal(store_build_inputs_put(s, &in), 0);
}

static void test_load(void **state)
{
	struct store *s = open_ok();
	struct store_evidence *e = NULL;
	struct store_match m = {"PYSEC-1", "requests", "PyPI", "2.25.0", "2.31.0", "fixed",
	                        1,         NULL,       0,      0,        NULL,     NULL};
	const struct evdoc_build *b;
	int64_t b1, b2, b3;
	json_t *ch = NULL;

	(void)state;
	inputs(s, "sha256:d1");
	b1 = build(s, "succeeded", "initial", "sha256:old");
	inventory(s, b1, "2.25.0");
	inputs(s, "sha256:d2"); /* the second rebuild's, not the first's */
	b2 = build(s, "succeeded", "security", "sha256:new");
	inventory(s, b2, "2.31.0");
	assert_int_equal(store_matches_put(s, b2, &m, 1), 0);
	b3 = build(s, "running", "manual", NULL);

	assert_int_equal(store_evidence_load(s, b2, STORE_EVIDENCE_ALL, &e), 0);
	b = store_evidence_build(e);
	assert_string_equal(b->project, "p");
	assert_string_equal(b->status, "succeeded");
	assert_string_equal(b->repository, "reg.example/team/p");
	assert_string_equal(b->dockerfile_digest, "sha256:d2");
	assert_string_equal(b->target, "runtime");
	assert_int_equal(b->n_build_args, 1);
	assert_string_equal(b->build_args[0].value, "nb");
	assert_string_equal(b->secret_args[0], "API_TOKEN");
	assert_int_equal(b->n_bases, 1);
	assert_string_equal(b->bases[0].digest, "sha256:cc");
	assert_string_equal(b->engine_version, "docker 24.0.7");
	assert_string_equal(b->prev_base_digest, "sha256:old");
	assert_true(b->have_inventory);
	assert_int_equal(b->n_pkgs, 3);
	assert_string_equal(b->pkgs[0].arch, "amd64");
	assert_string_equal(b->pkgs[1].license, "MIT");
	assert_null(b->pkgs[2].arch);
	assert_int_equal(b->n_advisories, 1);
	assert_string_equal(b->advisories[0].state, "fixed");
	assert_int_equal(b->prev_id, b1);
	assert_int_equal(b->n_prev_pkgs, 3);
	store_evidence_free(e);

	assert_int_equal(store_evidence_load(s, b1, STORE_EVIDENCE_ALL, &e), 0);
	assert_string_equal(store_evidence_build(e)->dockerfile_digest, "sha256:d1");
	assert_int_equal(store_evidence_build(e)->prev_id, 0);
	store_evidence_free(e);

	assert_int_equal(store_evidence_load(s, b3, STORE_EVIDENCE_ALL, &e),
	                 0); /* running, no inventory */
	assert_false(store_evidence_build(e)->have_inventory);
	assert_false(store_evidence_pruned(e));
	store_evidence_free(e);

	assert_int_equal(store_evidence_changes_json(s, b2, &ch), 0);
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(json_object_get(ch, "upgraded"), 0), "to")),
	                    "2.31.0");
	json_decref(ch);
	assert_int_equal(store_evidence_changes_json(s, b1, &ch), -ENODATA);
	assert_int_equal(store_evidence_changes_json(s, b3, &ch), -ENODATA);
	assert_int_equal(store_evidence_changes_json(s, 9999, &ch), -ENOENT);
	assert_int_equal(store_evidence_load(s, 9999, STORE_EVIDENCE_ALL, &e), -ENOENT);

	assert_int_equal(store_prune_builds(s, &b1, 1, 5000), 0);
	assert_int_equal(store_evidence_load(s, b1, STORE_EVIDENCE_ALL, &e), 0);
	assert_true(store_evidence_pruned(e));
	assert_false(store_evidence_build(e)->have_inventory);
	store_evidence_free(e);
	store_close(s);
}

/* A build of an older refit: no captured inputs; the engine's version as recorded now. */
static void test_no_inputs(void **state)
{
	struct store *s = open_ok();
	struct store_evidence *e = NULL;
	struct store_engine en = {.host = "unix:///run/docker.sock",
	                          .engine_version = "20.10.24",
	                          .reachable = true,
	                          .checked_at = 1};
	int64_t id;

	(void)state;
	assert_int_equal(store_engine_update(s, &en), 0);
	id = build(s, "succeeded", "age", "sha256:x");
	assert_int_equal(store_evidence_load(s, id, STORE_EVIDENCE_ALL, &e), 0);
	assert_false(store_evidence_build(e)->have_inputs);
	assert_null(store_evidence_build(e)->repository);
	assert_string_equal(store_evidence_build(e)->engine_version, "20.10.24");
	store_evidence_free(e);
	store_close(s);
}

struct real {
	struct store_pkg v[400];
	char *str[400][4];
	size_t n;
};

static int real_cb(const struct pkgdb_pkg *p, void *arg)
{
	struct real *r = arg;
	size_t i = r->n++;

	r->str[i][0] = strdup(p->name);
	r->str[i][1] = strdup(p->version);
	r->str[i][2] = strdup(p->source);
	r->str[i][3] = p->arch ? strdup(p->arch) : NULL;
	r->v[i] = (struct store_pkg){"Debian:12",  r->str[i][0], r->str[i][1], r->str[i][2],
	                             r->str[i][1], r->str[i][3], NULL};
	return 0;
}

/* The real python:3.12-slim dpkg database through pkgdb, the store and back. */
static void test_real_inventory(void **state)
{
	struct store *s = open_ok();
	struct store_evidence *e = NULL;
	struct real *r = calloc(1, sizeof(*r));
	size_t len;
	char *buf = test_read_file(
	        "tests/fixtures/feeds/pkgdb/debian12-python3.12-slim-image.dpkg-status", &len);
	int64_t id;
	struct store_inventory inv = {"debian", "12", "Debian:12", NULL, NULL, 0, 1};

	(void)state;
	assert_int_equal(pkgdb_dpkg_each(buf, len, real_cb, r, NULL, 0), 140);
	inv.pkgs = r->v;
	inv.n_pkgs = r->n;
	id = build(s, "succeeded", "initial", "sha256:x");
	assert_int_equal(store_inventory_put(s, id, &inv), 0);
	assert_int_equal(store_evidence_load(s, id, STORE_EVIDENCE_ALL, &e), 0);
	assert_int_equal(store_evidence_build(e)->n_pkgs, 140);
	for (size_t i = 0; i < r->n; i++) {
		assert_string_equal(store_evidence_build(e)->pkgs[i].name, r->v[i].name);
		assert_non_null(store_evidence_build(e)->pkgs[i].arch); /* every stanza has one */
	}
	store_evidence_free(e);
	for (size_t i = 0; i < r->n; i++)
		for (int k = 0; k < 4; k++)
			free(r->str[i][k]);
	free(r);
	free(buf);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_load, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_inputs, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_real_inventory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
