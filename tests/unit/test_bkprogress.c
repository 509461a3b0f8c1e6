/* bkprogress: the real dockerd recordings rendered as docker's plain printer does, the
 * failing step, CACHED counts; deltas, partial lines, statuses, limits and bad input
 * on messages built here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base64.h"
#include "bkprogress.h"
#include "logclean.h"
#include "protobuf.h"
#include "testutil.h"

#define FIX     "tests/fixtures/buildkit/"
#define OUT_MAX (1u << 20)
#define T0      1796680625 /* seconds of the recordings */

/* ---- the recordings ---- */

struct run {
	struct bkprogress *p;
	struct strbuf out;
	int traces;
};

/* Feeds every trace line of a recording; each must decode. */
static void run_fixture(const char *name, struct run *r)
{
	char path[256], *text, *line, *save = NULL;
	size_t len;

	snprintf(path, sizeof(path), FIX "%s.jsonl", name);
	text = test_read_file(path, &len);
	*r = (struct run){0};
	assert_int_equal(bkprogress_new(&r->p), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL), *aux = json_object_get(j, "aux");
		const char *id = json_string_value(json_object_get(j, "id"));

		assert_non_null(j);
		if (id && !strcmp(id, "moby.buildkit.trace")) {
			assert_true(json_is_string(aux));
			assert_int_equal(bkprogress_feed_aux(r->p, json_string_value(aux),
			                                     json_string_length(aux), &r->out,
			                                     OUT_MAX),
			                 0);
			r->traces++;
		}
		json_decref(j);
	}
	assert_int_equal(bkprogress_finish(r->p, &r->out, OUT_MAX), 0);
	assert_true(r->traces > 5);
	free(text);
}

static void run_done(struct run *r)
{
	bkprogress_free(r->p);
	free(r->out.p);
}

static void assert_has(const struct run *r, const char *s)
{
	if (!r->out.p || !strstr(r->out.p, s))
		fail_msg("no \"%s\" in:\n%s", s, r->out.p ? r->out.p : "");
}

static void test_ok_first(void **state)
{
	struct bkprogress_stats st;
	const char *name, *error;
	struct run r;
	size_t len;
	char *want = test_read_file(FIX "ok-first.plain", &len);

	(void)state;
	run_fixture("ok-first", &r);
	if (getenv("REFIT_WRITE_PLAIN")) { /* regenerates the expected text: review it by eye */
		FILE *f = fopen(FIX "ok-first.plain", "w");

		assert_non_null(f);
		assert_int_equal(fwrite(r.out.p, 1, r.out.len, f), r.out.len);
		assert_int_equal(fclose(f), 0);
		free(want);
		want = test_read_file(FIX "ok-first.plain", &len);
	}
	assert_has(&r, "#1 [internal] load remote build context\n#1 DONE 0.0s\n\n");
	assert_has(&r, "\n\n#5 [base 2/3] RUN echo hello && echo to-stderr >&2\n"
	               "#5 0.097 hello\n#5 0.098 to-stderr\n#5 DONE 0.1s\n\n");
	assert_has(&r, "#4 resolve 127.0.0.1:59233/refit-test/base:1@sha256:c8bd");
	assert_has(&r, "#7 0.129 1\n");
	assert_has(&r, "#8 naming to docker.io/rec/ok:1 done\n#8 DONE 0.0s\n\n");
	assert_null(strstr(r.out.p, "CACHED"));
	assert_null(strstr(r.out.p, "ERROR"));
	/* the whole rendering, reviewed by eye against docker's plain output */
	assert_int_equal(r.out.len, len);
	assert_string_equal(r.out.p, want);
	bkprogress_stats(r.p, &st);
	assert_int_equal(st.vertices, 8);
	assert_int_equal(st.shown, 8);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(bkprogress_failure(r.p, &name, &error), -ENOENT);
	run_done(&r);
	free(want);
}

static void test_ok_cached(void **state)
{
	struct bkprogress_stats st;
	struct run r;

	(void)state;
	run_fixture("ok-cached", &r);
	assert_has(&r, "#5 [base 2/3] RUN echo hello && echo to-stderr >&2\n#5 CACHED\n\n");
	assert_has(&r, "#6 [base 3/3] COPY f /f\n#6 CACHED\n\n");
	assert_has(&r, "#7 [test 1/1] RUN --mount=type=cache,target=/c sh -c \"echo $(($(cat /c/n "
	               "2>/dev/null || echo 0) + 1)) > /c/n; cat /c/n\"\n#7 CACHED\n\n");
	assert_has(&r, "#2 copy /context /\n#2 CACHED\n");
	assert_null(strstr(r.out.p, "hello\n#")); /* no output: nothing ran */
	bkprogress_stats(r.p, &st);
	assert_int_equal(st.vertices, 8);
	assert_int_equal(st.cached, 5);       /* context, copy /context, the three steps */
	assert_int_equal(st.cached_steps, 3); /* RUN, COPY, RUN */
	run_done(&r);
}

/* nocache=1: the RUN steps ran again; the FROM and the context still say CACHED. */
static void test_ok_nocache(void **state)
{
	struct bkprogress_stats st;
	struct run r;

	(void)state;
	run_fixture("ok-nocache", &r);
	assert_has(&r, "#4 CACHED\n");
	assert_has(&r, "#5 0.117 hello\n#5 0.117 to-stderr\n#5 DONE 0.1s\n");
	assert_has(&r, "#7 0.147 1\n#7 DONE 0.2s\n");
	bkprogress_stats(r.p, &st);
	assert_int_equal(st.cached, 3);
	assert_int_equal(st.cached_steps, 0);
	run_done(&r);
}

static void test_fail_run(void **state)
{
	struct bkprogress_stats st;
	const char *name = NULL, *error = NULL;
	struct run r;

	(void)state;
	run_fixture("fail-run", &r);
	assert_int_equal(bkprogress_failure(r.p, &name, &error), 0);
	assert_string_equal(name, "[3/3] RUN echo boom && exit 3");
	assert_string_equal(
	        error, "executor failed running [/bin/sh -c echo boom && exit 3]: exit code: 3");
	assert_has(&r, "#5 [2/3] RUN echo step-one\n#5 0.116 step-one\n#5 DONE 0.1s\n\n");
	assert_has(&r, "#6 [3/3] RUN echo boom && exit 3\n#6 0.125 boom\n#6 ERROR: executor failed "
	               "running [/bin/sh -c echo boom && exit 3]: exit code: 3\n\n");
	bkprogress_stats(r.p, &st);
	assert_int_equal(st.failed, 1);
	run_done(&r);
}

/* The frontend failed before any step: no vertex to blame. */
static void test_fail_target(void **state)
{
	const char *name, *error;
	struct run r;

	(void)state;
	run_fixture("fail-target", &r);
	assert_int_equal(bkprogress_failure(r.p, &name, &error), -ENOENT);
	assert_has(&r, "#2 copy /context /\n#2 CACHED\n\n");
	run_done(&r);
}

static void test_nosession_secret(void **state)
{
	const char *name, *error;
	struct run r;

	(void)state;
	run_fixture("nosession-secret", &r);
	assert_int_equal(bkprogress_failure(r.p, &name, &error), 0);
	assert_string_equal(error, "no active sessions");
	assert_string_equal(
	        name,
	        "[2/2] RUN --mount=type=secret,id=pipconf,required=true cat /run/secrets/pipconf");
	assert_has(&r, "#5 ERROR: no active sessions\n");
	run_done(&r);
}

/* ---- messages built here ---- */

#define MS(ms) ((int64_t)(ms)) /* milliseconds after T0; -1: absent */

static void put_ts(struct strbuf *b, uint32_t num, int64_t ms)
{
	struct strbuf t = {0};

	if (ms < 0)
		return;
	assert_int_equal(pb_put_varint(&t, 1, (uint64_t)(T0 + ms / 1000), OUT_MAX), 0);
	assert_int_equal(pb_put_varint(&t, 2, (uint64_t)(ms % 1000 * 1000000), OUT_MAX), 0);
	assert_int_equal(pb_put_bytes(b, num, t.p, t.len, OUT_MAX), 0);
	free(t.p);
}

static void put_str(struct strbuf *b, uint32_t num, const char *s)
{
	if (s)
		assert_int_equal(pb_put_bytes(b, num, s, strlen(s), OUT_MAX), 0);
}

static void put_sub(struct strbuf *msg, uint32_t num, struct strbuf *sub)
{
	assert_int_equal(pb_put_bytes(msg, num, sub->p, sub->len, OUT_MAX), 0);
	free(sub->p);
}

struct vx {
	const char *digest, *name, *error;
	int64_t started, completed;
	bool cached;
};

static void vertex(struct strbuf *msg, struct vx v)
{
	struct strbuf b = {0};

	put_str(&b, 1, v.digest);
	put_str(&b, 2, "sha256:input");
	put_str(&b, 3, v.name);
	if (v.cached)
		assert_int_equal(pb_put_varint(&b, 4, 1, OUT_MAX), 0);
	put_ts(&b, 5, v.started);
	put_ts(&b, 6, v.completed);
	put_str(&b, 7, v.error);
	assert_int_equal(pb_put_varint(&b, 99, 7, OUT_MAX), 0); /* a field from the future */
	put_sub(msg, 1, &b);
}

struct st {
	const char *vertex, *id;
	int64_t current, total, ts, started, completed;
};

static void vstatus(struct strbuf *msg, struct st s)
{
	struct strbuf b = {0};

	put_str(&b, 1, s.id);
	put_str(&b, 2, s.vertex);
	put_str(&b, 3, "a name");
	assert_int_equal(pb_put_varint(&b, 4, (uint64_t)s.current, OUT_MAX), 0);
	assert_int_equal(pb_put_varint(&b, 5, (uint64_t)s.total, OUT_MAX), 0);
	put_ts(&b, 6, s.ts);
	put_ts(&b, 7, s.started);
	put_ts(&b, 8, s.completed);
	put_sub(msg, 2, &b);
}

static void vlog(struct strbuf *msg, const char *vtx, int64_t ms, const char *data)
{
	struct strbuf b = {0};

	put_str(&b, 1, vtx);
	put_ts(&b, 2, ms);
	assert_int_equal(pb_put_varint(&b, 3, 1, OUT_MAX), 0);
	put_str(&b, 4, data);
	put_sub(msg, 3, &b);
}

/* Feeds msg (then empties it) and returns what it printed. */
static const char *feed(struct bkprogress *p, struct strbuf *msg, struct strbuf *out)
{
	out->len = 0;
	assert_int_equal(bkprogress_feed(p, msg->p, msg->len, out, OUT_MAX), 0);
	msg->len = 0;
	return out->p ? (out->p[out->len] = '\0', out->p) : "";
}

static void test_deltas_and_interleaving(void **state)
{
	struct strbuf m = {0}, out = {0};
	struct bkprogress *p;

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	vertex(&m, (struct vx){"sha256:a", "[1/2] RUN a", NULL, -1, -1, false});
	vertex(&m, (struct vx){"sha256:b", "[2/2] RUN b", NULL, -1, -1, false});
	assert_string_equal(feed(p, &m, &out), ""); /* announced, not started */
	vertex(&m, (struct vx){"sha256:b", "[2/2] RUN b", NULL, 100, -1, false});
	assert_string_equal(feed(p, &m, &out), "#1 [2/2] RUN b\n");
	vertex(&m, (struct vx){"sha256:a", "[1/2] RUN a", NULL, 200, -1, false});
	assert_string_equal(feed(p, &m, &out), "#1 ...\n\n#2 [1/2] RUN a\n");
	vlog(&m, "sha256:b", 1600, "from b\n");
	vlog(&m, "sha256:a", 1700, "from a\n");
	vlog(&m, "sha256:b", 1800, "b again\n");
	assert_string_equal(feed(p, &m, &out), "#2 ...\n\n#1 [2/2] RUN b\n#1 1.500 from b\n"
	                                       "#1 1.700 b again\n#1 ...\n\n#2 [1/2] RUN a\n"
	                                       "#2 1.500 from a\n");
	/* the announcement again changes nothing */
	vertex(&m, (struct vx){"sha256:a", "[1/2] RUN a", NULL, -1, -1, false});
	assert_string_equal(feed(p, &m, &out), "");
	vertex(&m, (struct vx){"sha256:a", "[1/2] RUN a", NULL, 200, 12300, false});
	assert_string_equal(feed(p, &m, &out), "#2 DONE 12.1s\n\n");
	vertex(&m, (struct vx){"sha256:a", "[1/2] RUN a", NULL, 200, 12300, false});
	assert_string_equal(feed(p, &m, &out), ""); /* a repeat */
	vertex(&m, (struct vx){"sha256:b", "[2/2] RUN b", NULL, 100, 150, true});
	assert_string_equal(feed(p, &m, &out), "#1 [2/2] RUN b\n#1 CACHED\n\n");
	bkprogress_free(p);
	free(m.p);
	free(out.p);
}

/* Partial lines wait for their newline or the end; each line keeps the time it began. */
static void test_partial_lines(void **state)
{
	struct strbuf m = {0}, out = {0};
	struct bkprogress *p;

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	vertex(&m, (struct vx){"sha256:a", "RUN", NULL, 0, -1, false});
	vlog(&m, "sha256:a", 100, "par");
	assert_string_equal(feed(p, &m, &out), "#1 RUN\n");
	vlog(&m, "sha256:a", 200, "tial\nnext ");
	assert_string_equal(feed(p, &m, &out), "#1 0.100 partial\n");
	vlog(&m, "sha256:a", 12360, "line\nx\n\nend");
	assert_string_equal(feed(p, &m, &out), "#1 0.200 next line\n#1 12.36 x\n#1 12.36 \n");
	vlog(&m, "sha256:a", 99000, "\n");
	assert_string_equal(feed(p, &m, &out), "#1 12.36 end\n");
	/* escapes go; after a \r only what follows it stays, as on a terminal */
	vlog(&m, "sha256:a", 123456, "\x1b[1mbold\x1b[0m\n10%\r 20%\r");
	vertex(&m, (struct vx){"sha256:a", "RUN", NULL, 0, 200000, false});
	assert_string_equal(feed(p, &m, &out), "#1 123.5 bold\n#1 123.5  20%\n#1 DONE 200.0s\n\n");
	/* cut short: the finish prints what is pending */
	vertex(&m, (struct vx){"sha256:b", "RUN b", NULL, 0, -1, false});
	vlog(&m, "sha256:b", 50, "no newline");
	assert_string_equal(feed(p, &m, &out), "#2 RUN b\n");
	out.len = 0;
	assert_int_equal(bkprogress_finish(p, &out, OUT_MAX), 0);
	assert_string_equal(out.p, "#2 0.050 no newline\n");
	bkprogress_free(p);
	free(m.p);
	free(out.p);
}

static void test_statuses(void **state)
{
	struct strbuf m = {0}, out = {0};
	struct bkprogress *p;
	const char *d = "sha256:d60a";

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	vertex(&m, (struct vx){"sha256:f", "[1/1] FROM x", NULL, 0, -1, false});
	vstatus(&m, (struct st){"sha256:f", d, 0, 1064338, 10, 10, -1});
	assert_string_equal(feed(p, &m, &out), "#1 [1/1] FROM x\n#1 sha256:d60a 0B / 1.06MB\n");
	vstatus(&m, (struct st){"sha256:f", d, 40000, 1064338, 500, 10, -1}); /* < 5%, < 5 s */
	assert_string_equal(feed(p, &m, &out), "");
	vstatus(&m, (struct st){"sha256:f", d, 600000, 1064338, 700, 10, -1});
	assert_string_equal(feed(p, &m, &out), "#1 sha256:d60a 600.00kB / 1.06MB 0.7s\n");
	vstatus(&m, (struct st){"sha256:f", d, 610000, 1064338, 5800, 10, -1}); /* 5 s on */
	assert_string_equal(feed(p, &m, &out), "#1 sha256:d60a 610.00kB / 1.06MB 5.8s\n");
	vstatus(&m, (struct st){"sha256:f", d, 1064338, 1064338, 5900, 10, 5900});
	vstatus(&m, (struct st){"sha256:f", "extracting sha256:d60a", 0, 0, 5900, 5900, -1});
	vstatus(&m, (struct st){"sha256:f", "not started", 0, 0, 5900, -1, -1});
	vstatus(&m, (struct st){"sha256:f", "bytes only", 999, 0, 5900, 5900, 5900});
	vstatus(&m, (struct st){"sha256:f", "big", INT64_MAX, INT64_MIN, 5900, 5900, 5900});
	vertex(&m, (struct vx){"sha256:f", "[1/1] FROM x", NULL, 0, 6000, false});
	assert_string_equal(feed(p, &m, &out), "#1 sha256:d60a 1.06MB / 1.06MB 5.9s done\n"
	                                       "#1 extracting sha256:d60a\n"
	                                       "#1 bytes only 999B done\n"
	                                       "#1 big 9.22EB / -9.22EB done\n"
	                                       "#1 DONE 6.0s\n\n");
	bkprogress_free(p);
	free(m.p);
	free(out.p);
}

/* The step to blame: the last real error, not a cache import or a cancellation. */
static void test_failure_choice(void **state)
{
	struct strbuf m = {0}, out = {0};
	struct bkprogress_stats st;
	struct bkprogress *p;
	const char *name, *error;

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	vertex(&m, (struct vx){"sha256:c", "importing cache manifest from r/cache:1",
	                       "r/cache:1: not found", 0, 10, false});
	assert_string_equal(feed(p, &m, &out), "#1 importing cache manifest from r/cache:1\n"
	                                       "#1 ERROR: r/cache:1: not found\n\n");
	assert_int_equal(bkprogress_failure(p, &name, &error), -ENOENT);
	vertex(&m, (struct vx){"sha256:x", "[a 2/2] RUN x", "exit code: 1", 0, 20, false});
	vertex(&m, (struct vx){"sha256:y", "[b 2/2] RUN y", "exit code: 2", 0, 30, false});
	vertex(&m, (struct vx){"sha256:z", "[c 2/2] RUN z", "rpc error: context canceled", 0, 40,
	                       false});
	feed(p, &m, &out);
	assert_non_null(strstr(out.p, "#3 ERROR: exit code: 2\n"));
	assert_non_null(strstr(out.p, "#4 CANCELED\n"));
	assert_int_equal(bkprogress_failure(p, &name, &error), 0);
	assert_string_equal(name, "[b 2/2] RUN y");
	assert_string_equal(error, "exit code: 2");
	bkprogress_stats(p, &st);
	assert_int_equal(st.failed, 2);
	bkprogress_free(p);
	free(m.p);
	free(out.p);
}

/* Malformed messages change nothing, and the decoder goes on. */
static void test_malformed(void **state)
{
	/* clang-format off */
#define BAD(s) {s, sizeof(s) - 1}
	/* clang-format on */
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
	        BAD("\x0a\x05\x0a\x04sha"),          /* a digest past its vertex */
	        BAD("\x08\x01"),                     /* vertexes as a varint */
	        BAD("\x0a\x02\x20\x01\x0b"),         /* a group */
	        BAD("\x0a\x04\x2a\x02\x08\x80"),     /* a Timestamp's varint cut */
	        BAD("\x12\x02\x22\x00"),             /* status current as bytes */
	        BAD("\x1a\x03\x22\x01"),             /* a log past the end */
	        BAD("\x0a\x03\x0a\x01\x61\xff"),     /* a key cut after a vertex */
	        BAD("\x0a\x04\x2a\x02\x0a\x00"),     /* Timestamp seconds as bytes */
	        BAD("\x1a\x02\x18\x0a\x12\x02\x08"), /* a good log, a status cut */
	        BAD("\x0a\x05\x0a\x01\x61\x22\x00"), /* cached as bytes */
	        BAD("\x0a\x02\x38\x01"),             /* error as a varint */
	        BAD("\x1a\x02\x0a\x80"),             /* a log's length cut */
	};
	struct strbuf m = {0}, out = {0};
	struct bkprogress_stats st;
	struct bkprogress *p;

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	vertex(&m, (struct vx){"sha256:a", "RUN a", NULL, 0, -1, false});
	feed(p, &m, &out);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out.len = 0;
		/* one good vertex in front: it must not be applied either */
		vertex(&m, (struct vx){"sha256:new", "RUN new", NULL, 0, 1, false});
		assert_int_equal(strbuf_put(&m, bad[i].s, bad[i].n, OUT_MAX), 0);
		assert_int_equal(bkprogress_feed(p, m.p, m.len, &out, OUT_MAX), -EBADMSG);
		assert_int_equal(out.len, 0);
		m.len = 0;
	}
	bkprogress_stats(p, &st);
	assert_int_equal(st.vertices, 1);
	assert_int_equal(bkprogress_feed_aux(p, "Zm9v!", 5, &out, OUT_MAX), -EBADMSG);
	assert_int_equal(bkprogress_feed(p, "", 0, &out, OUT_MAX), 0);
	assert_int_equal(bkprogress_feed(p, m.p, BKPROGRESS_MSG_MAX + 1, &out, OUT_MAX), -EMSGSIZE);
	assert_int_equal(bkprogress_feed_aux(p, "", BKPROGRESS_MSG_MAX / 3 * 4 + 8, &out, OUT_MAX),
	                 -EMSGSIZE);
	/* still working; a log for a vertex never announced is skipped */
	vlog(&m, "sha256:nobody", 5, "lost\n");
	vlog(&m, "sha256:a", 5, "kept\n");
	assert_string_equal(feed(p, &m, &out), "#1 0.005 kept\n");
	bkprogress_free(p);
	free(m.p);
	free(out.p);
}

/* Names and output are one clean line each; long ones are cut; a long line is split. */
static void test_text_limits(void **state)
{
	struct strbuf m = {0}, out = {0};
	struct bkprogress *p;
	char *name = malloc(3 * BKPROGRESS_NAME_MAX), *line = malloc(LOGCLEAN_LINE_MAX + 10);
	const char *o, *nl;

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	vertex(&m, (struct vx){"sha256:a", "[1/1] RUN \x1b[31mred\x1b[0m\tand\na\x07 bell  \n",
	                       NULL, 0, -1, false});
	assert_string_equal(feed(p, &m, &out), "#1 [1/1] RUN red and a bell\n");
	memset(name, 'n', 3 * BKPROGRESS_NAME_MAX - 1);
	name[3 * BKPROGRESS_NAME_MAX - 1] = '\0';
	name[BKPROGRESS_NAME_MAX - 4] = '\xc3'; /* a 2-byte character across the cut */
	name[BKPROGRESS_NAME_MAX - 3] = '\xa9';
	vertex(&m, (struct vx){"sha256:b", name, NULL, 0, -1, false});
	o = feed(p, &m, &out);
	nl = strchr(o, '\n');
	nl = strchr(nl + 1, '\n');
	nl = strchr(nl + 1, '\n'); /* "#1 ...", "", then the header */
	assert_int_equal(nl - strstr(o, "#2 "), 3 + BKPROGRESS_NAME_MAX - 4 + 3);
	assert_memory_equal(nl - 4, "n...", 4);
	memset(line, 'x', LOGCLEAN_LINE_MAX + 9);
	line[LOGCLEAN_LINE_MAX + 9] = '\0';
	vlog(&m, "sha256:b", 10, line);
	o = feed(p, &m, &out);
	assert_int_equal(strlen(o), strlen("#2 0.010 ") + LOGCLEAN_LINE_MAX + 1);
	vertex(&m, (struct vx){"sha256:b", name, NULL, 0, 20, false});
	o = feed(p, &m, &out);
	assert_string_equal(o, "#2 0.010 xxxxxxxxx\n#2 DONE 0.0s\n\n");
	bkprogress_free(p);
	free(name);
	free(line);
	free(m.p);
	free(out.p);
}

/* Past the output's maximum: whole lines only, -E2BIG, and the state is still kept. */
static void test_output_full(void **state)
{
	struct strbuf m = {0}, out = {0};
	struct bkprogress *p;
	const char *name, *error;

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	vertex(&m, (struct vx){"sha256:a", "[1/1] RUN a", NULL, 0, -1, false});
	vlog(&m, "sha256:a", 10, "one\ntwo\nthree\n");
	vertex(&m, (struct vx){"sha256:a", "[1/1] RUN a", "failed", 0, 20, false});
	assert_int_equal(bkprogress_feed(p, m.p, m.len, &out, 40), -E2BIG);
	assert_string_equal(out.p, "#1 [1/1] RUN a\n#1 0.010 one\n");
	assert_int_equal(bkprogress_failure(p, &name, &error), 0);
	assert_string_equal(error, "failed");
	assert_int_equal(bkprogress_feed(p, m.p, m.len, NULL, 0), 0); /* state only */
	bkprogress_free(p);
	free(m.p);
	free(out.p);
}

/* More vertices than BKPROGRESS_MAX_VERTICES: the rest are ignored and counted. */
static void test_too_many_vertices(void **state)
{
	struct strbuf m = {0};
	struct bkprogress_stats st;
	struct bkprogress *p;
	char digest[32];

	(void)state;
	assert_int_equal(bkprogress_new(&p), 0);
	for (int i = 0; i < BKPROGRESS_MAX_VERTICES + 10; i++) {
		snprintf(digest, sizeof(digest), "sha256:%d", i);
		vertex(&m, (struct vx){digest, "[1/1] RUN", NULL, 0, 1, true});
		if (m.len > 60000 || i == BKPROGRESS_MAX_VERTICES + 9) {
			assert_int_equal(bkprogress_feed(p, m.p, m.len, NULL, 0), 0);
			m.len = 0;
		}
	}
	vertex(&m, (struct vx){"", "no digest", NULL, 0, 1, false});
	assert_int_equal(bkprogress_feed(p, m.p, m.len, NULL, 0), 0);
	bkprogress_stats(p, &st);
	assert_int_equal(st.vertices, BKPROGRESS_MAX_VERTICES);
	assert_int_equal(st.cached_steps, BKPROGRESS_MAX_VERTICES);
	assert_int_equal(st.dropped, 11);
	bkprogress_free(p);
	bkprogress_free(NULL);
	free(m.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ok_first),
	        cmocka_unit_test(test_ok_cached),
	        cmocka_unit_test(test_ok_nocache),
	        cmocka_unit_test(test_fail_run),
	        cmocka_unit_test(test_fail_target),
	        cmocka_unit_test(test_nosession_secret),
	        cmocka_unit_test(test_deltas_and_interleaving),
	        cmocka_unit_test(test_partial_lines),
	        cmocka_unit_test(test_statuses),
	        cmocka_unit_test(test_failure_choice),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_text_limits),
	        cmocka_unit_test(test_output_full),
	        cmocka_unit_test(test_too_many_vertices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
