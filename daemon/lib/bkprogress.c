#include "bkprogress.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "base64.h"
#include "logclean.h"
#include "protobuf.h"
#include "strmap.h"

#define NO_EVENT UINT32_MAX
#define LINE_BUF 8192 /* longer than any line printed: the parts are bounded above */

/* ---- the messages (moby.buildkit.v1, BUILDKIT.md C 16) ---- */

enum { F_VERTEX = 1, F_STATUS = 2, F_LOG = 3 }; /* fields of StatusResponse */

struct bk_ts { /* google.protobuf.Timestamp */
	int64_t sec, nsec;
};

struct bk_str { /* into the message */
	const uint8_t *p;
	size_t len;
};

struct bk_vertex {
	struct bk_str digest, name, error;
	bool cached, has_started, has_completed;
	struct bk_ts started, completed;
};

struct bk_status {
	struct bk_str id, vertex;
	int64_t current, total;
	bool has_started, has_completed;
	struct bk_ts ts, started, completed;
};

struct bk_log {
	struct bk_str vertex, msg;
	bool has_ts;
	struct bk_ts ts;
};

/* ---- the state ---- */

struct vtx {
	char digest[BKPROGRESS_DIGEST_MAX + 1]; /* the key in by_digest */
	char *name, *error;                     /* cleaned, one line; NULL when empty */
	unsigned index;                         /* #N, 0 until shown */
	bool started, completed, cached;
	bool shown_cached;
	uint64_t failed_seq; /* when a blamable error was set (0: never) */
	struct bk_ts t_start, t_done;
	struct logclean lc; /* the output line not ended yet */
	double line_sec;    /* when that line began, in seconds after the start */
	/* while one message is printed (gen == the decoder's) */
	uint64_t gen;
	bool changed; /* started, completed, cached or failed anew: print it */
	uint32_t ev_first, ev_last;
	struct vtx *next_dirty;
};

struct status_rec { /* the last printed update of a status id */
	int64_t current;
	struct bk_ts ts;
	char id[]; /* the key in by_id */
};

struct event { /* a VertexStatus or VertexLog of the message being printed */
	const uint8_t *data;
	size_t len;
	uint32_t next;
	unsigned char field;
};

struct bkprogress {
	struct vtx **v;
	size_t nv, vcap, dropped;
	struct strmap by_digest;
	struct status_rec **st;
	size_t nst, stcap;
	struct strmap by_id;
	struct vtx *current;
	uint64_t failed_seq; /* blamable errors so far */
	unsigned next_index;
	bool need_blank; /* something printed since the last blank line */
	/* one message */
	uint64_t gen;
	struct vtx *dirty, **dirty_tail;
	struct event *ev;
	size_t nev, evcap;
	struct strbuf tmp; /* cleaned output lines */
	unsigned char *raw;
	size_t rawcap;
	/* where lines go */
	struct strbuf *out;
	size_t max;
	int err;
	char line[LINE_BUF];
};

/* ---- decoding ---- */

static int str_of(const struct pb_field *f, struct bk_str *ret)
{
	if (f->wire != PB_LEN)
		return -EBADMSG;
	*ret = (struct bk_str){f->data, f->len};
	return 0;
}

static int int_of(const struct pb_field *f, int64_t *ret)
{
	if (f->wire != PB_VARINT)
		return -EBADMSG;
	*ret = (int64_t)f->u64; /* two's complement, as protobuf's int64 */
	return 0;
}

static int ts_of(const struct pb_field *f, struct bk_ts *ret, bool *ret_has)
{
	struct bk_ts t = {0, 0};
	struct pb_reader r;
	struct pb_field g;
	int k;

	if (f->wire != PB_LEN)
		return -EBADMSG;
	r = pb_reader_of(f->data, f->len);
	while ((k = pb_next(&r, &g)) > 0)
		if (g.num <= 2 && int_of(&g, g.num == 1 ? &t.sec : &t.nsec) < 0)
			return -EBADMSG;
	if (k < 0)
		return k;
	t.nsec = (int32_t)(uint32_t)t.nsec; /* nanos is an int32 */
	*ret = t;
	*ret_has = true;
	return 0;
}

static int vertex_field(const struct pb_field *f, struct bk_vertex *v)
{
	int64_t i = 0;
	int r;

	switch (f->num) {
	case 1:
		return str_of(f, &v->digest);
	case 2: /* inputs */
		return f->wire == PB_LEN ? 0 : -EBADMSG;
	case 3:
		return str_of(f, &v->name);
	case 4:
		r = int_of(f, &i);
		v->cached = i != 0;
		return r;
	case 5:
		return ts_of(f, &v->started, &v->has_started);
	case 6:
		return ts_of(f, &v->completed, &v->has_completed);
	case 7:
		return str_of(f, &v->error);
	}
	return 0; /* newer fields (progressGroup) */
}

static int status_field(const struct pb_field *f, struct bk_status *s)
{
	bool has = false;

	switch (f->num) {
	case 1:
		return str_of(f, &s->id);
	case 2:
		return str_of(f, &s->vertex);
	case 3: /* name: docker's plain printer ignores it too */
		return f->wire == PB_LEN ? 0 : -EBADMSG;
	case 4:
		return int_of(f, &s->current);
	case 5:
		return int_of(f, &s->total);
	case 6:
		return ts_of(f, &s->ts, &has);
	case 7:
		return ts_of(f, &s->started, &s->has_started);
	case 8:
		return ts_of(f, &s->completed, &s->has_completed);
	}
	return 0;
}

static int log_field(const struct pb_field *f, struct bk_log *l)
{
	int64_t stream;

	switch (f->num) {
	case 1:
		return str_of(f, &l->vertex);
	case 2:
		return ts_of(f, &l->ts, &l->has_ts);
	case 3: /* stream: 1 stdout, 2 stderr, shown alike */
		return int_of(f, &stream);
	case 4:
		return str_of(f, &l->msg);
	}
	return 0;
}

/* Decodes a Vertex, VertexStatus or VertexLog into *ret (of the field's type). */
static int decode(unsigned char field, const uint8_t *data, size_t len, void *ret)
{
	struct pb_reader r = pb_reader_of(data, len);
	struct pb_field f;
	int k, e = 0;

	if (field == F_VERTEX)
		*(struct bk_vertex *)ret = (struct bk_vertex){0};
	else if (field == F_STATUS)
		*(struct bk_status *)ret = (struct bk_status){0};
	else
		*(struct bk_log *)ret = (struct bk_log){0};
	while (e == 0 && (k = pb_next(&r, &f)) > 0)
		e = field == F_VERTEX   ? vertex_field(&f, ret)
		    : field == F_STATUS ? status_field(&f, ret)
		                        : log_field(&f, ret);
	return e < 0 ? e : k;
}

/* Checks the whole message; *ret_events: how many statuses and logs it holds. */
static int validate(const uint8_t *msg, size_t len, size_t *ret_events)
{
	union {
		struct bk_vertex v;
		struct bk_status s;
		struct bk_log l;
	} any;
	struct pb_reader r = pb_reader_of(msg, len);
	struct pb_field f;
	size_t n = 0;
	int k;

	while ((k = pb_next(&r, &f)) > 0) {
		if (f.num < F_VERTEX || f.num > F_LOG)
			continue; /* warnings (BuildKit >= 0.10) and anything newer */
		if (f.wire != PB_LEN || decode((unsigned char)f.num, f.data, f.len, &any) < 0)
			return -EBADMSG;
		n += f.num != F_VERTEX;
	}
	if (k < 0)
		return k;
	*ret_events = n;
	return 0;
}

/* ---- text ---- */

static double ts_sub(struct bk_ts a, struct bk_ts b)
{
	/* in doubles: untrusted values must not overflow */
	return ((double)a.sec - (double)b.sec) + ((double)a.nsec - (double)b.nsec) / 1e9;
}

static bool ts_eq(struct bk_ts a, struct bk_ts b)
{
	return a.sec == b.sec && a.nsec == b.nsec;
}

/* n, or less so that s[0..n) does not end in the middle of a UTF-8 character. */
static size_t utf8_whole(const char *s, size_t n)
{
	size_t i = n, want;
	unsigned char lead;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || (lead = (unsigned char)s[i - 1]) < 0xc0)
		return n;
	want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	return n - (i - 1) < want ? i - 1 : n;
}

/*
 * Cleans raw text into one line (\n and \t become spaces) of at most max bytes
 * and a NUL in buf, which has room for CLEAN_ROOM(max). Text cut short ends
 * in "...". Returns the length.
 */
#define CLEAN_ROOM(max) ((max)*4 + 1) /* escapes are dropped before the cut */
static size_t clean_line(char *buf, size_t max, const uint8_t *raw, size_t len)
{
	size_t n = len < CLEAN_ROOM(max) - 1 ? len : CLEAN_ROOM(max) - 1;
	bool more = n < len;

	if (n)
		memcpy(buf, raw, n);
	n = logclean_inplace(buf, n);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\t')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	if (n > max || (more && n)) {
		n = utf8_whole(buf, n < max - 3 ? n : max - 3);
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return n;
}

/* Sets *dst to the cleaned text (NULL when nothing is left): 1 when it changed, 0, -ENOMEM. */
static int set_text(char **dst, struct bk_str src, size_t max)
{
	char *s = NULL, *q;
	size_t n = 0;

	if (src.len) {
		s = malloc(CLEAN_ROOM(max));
		if (!s)
			return -ENOMEM;
		n = clean_line(s, max, src.p, src.len);
	}
	if (!n || (*dst && !strcmp(*dst, s))) {
		int changed = !n && *dst;

		free(s);
		if (changed) {
			free(*dst);
			*dst = NULL;
		}
		return changed;
	}
	free(*dst);
	*dst = s;
	if ((q = realloc(s, n + 1))) /* shrinking to the text */
		*dst = q;
	return 1;
}

/* ---- output ---- */

/* Appends one whole line to the output; the first that does not fit ends the output. */
__attribute__((format(printf, 2, 3))) static void outf(struct bkprogress *p, const char *fmt, ...)
{
	va_list ap;
	int n;
	int r;

	if (!p->out)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->line, sizeof(p->line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(p->line)) { /* cannot happen with the limits; stay a line */
		n = sizeof(p->line) - 1;
		p->line[n - 1] = '\n';
	}
	r = strbuf_put(p->out, p->line, (size_t)n, p->max);
	if (r < 0) {
		p->err = p->err ? p->err : r;
		p->out = NULL;
	}
}

static void header(struct bkprogress *p, struct vtx *v)
{
	if (p->current == v)
		return;
	if (p->current) {
		outf(p, "#%u ...\n", p->current->index);
		p->need_blank = true;
	}
	if (p->need_blank)
		outf(p, "\n");
	if (!v->index)
		v->index = ++p->next_index;
	outf(p, "#%u %s\n", v->index, v->name ? v->name : "");
	p->current = v;
	p->need_blank = true;
}

/* Prints the lines in p->tmp as v's output: the first began at first_sec, the others at sec. */
static void print_lines(struct bkprogress *p, struct vtx *v, double first_sec, double sec)
{
	const char *s = p->tmp.p, *end;

	if (!p->tmp.len)
		return;
	end = s + p->tmp.len;
	for (double t = first_sec; s < end; t = sec) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		int prec = t < 10 ? 3 : t < 100 ? 2 : 1; /* as BuildKit */

		header(p, v);
		outf(p, "#%u %.*f %.*s\n", v->index, prec, t, (int)(nl - s), s);
		s = nl + 1;
	}
}

static void keep_err(struct bkprogress *p, int r)
{
	if (r < 0 && !p->err)
		p->err = r;
}

static void print_log(struct bkprogress *p, struct vtx *v, const struct bk_log *l)
{
	double sec = v->started && l->has_ts ? ts_sub(l->ts, v->t_start) : 0;
	bool had = logclean_pending(&v->lc) > 0;

	p->tmp.len = 0;
	keep_err(p, logclean_feed(&v->lc, l->msg.p, l->msg.len, &p->tmp, SIZE_MAX / 2));
	print_lines(p, v, had ? v->line_sec : sec, sec);
	if (logclean_pending(&v->lc) && (p->tmp.len || !had))
		v->line_sec = sec; /* the partial line left began in this message */
}

/* " 1.06MB" as BuildKit's units.Bytes prints it with %.2f. */
static void put_bytes(char *buf, size_t len, int64_t v)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, base = 1;
	int i = 0;

	while (i < 6 && m / base >= 1000) {
		base *= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRId64 "B", v);
	else
		snprintf(buf, len, "%.2f%s", (double)v / (double)base, unit[i]);
}

/* The thinning record of a status id; NULL past BKPROGRESS_MAX_STATUSES or out of memory. */
static struct status_rec *status_rec(struct bkprogress *p, const char *id, bool *ret_new)
{
	struct status_rec *s;
	size_t i, n = strlen(id);

	*ret_new = false;
	if (strmap_get(&p->by_id, id, &i))
		return p->st[i];
	if (ARRAY_GROW(p->st, p->stcap, p->nst, BKPROGRESS_MAX_STATUSES) < 0)
		return NULL;
	s = malloc(sizeof(*s) + n + 1);
	if (!s)
		return NULL;
	memcpy(s->id, id, n + 1);
	if (strmap_put(&p->by_id, s->id, p->nst) < 0) {
		free(s);
		return NULL;
	}
	p->st[p->nst++] = s;
	*ret_new = true;
	return s;
}

/* Whether docker's printer would show this update: the first, the last, or 5% or 5 s on. */
static bool status_due(struct bkprogress *p, const struct bk_status *s, const char *id)
{
	bool fresh;
	struct status_rec *rec = status_rec(p, id, &fresh);

	if (!rec)
		return s->has_completed; /* nothing to thin with: only the end */
	if (!fresh && !s->has_completed) {
		double dp = s->total > 0
		                    ? ((double)s->current - (double)rec->current) / (double)s->total
		                    : 0;

		if (dp < 0.05 && ts_sub(s->ts, rec->ts) < 5)
			return false;
	}
	rec->current = s->current;
	rec->ts = s->ts;
	return true;
}

static void print_status(struct bkprogress *p, struct vtx *v, const struct bk_status *s)
{
	char id[CLEAN_ROOM(BKPROGRESS_ID_MAX)], cur[32], total[32], bytes[80] = "", tm[48] = "";
	struct bk_ts end = s->has_completed ? s->completed : s->ts;

	if (!s->has_started) /* docker lists a status once it has started */
		return;
	clean_line(id, BKPROGRESS_ID_MAX, s->id.p, s->id.len);
	if (!status_due(p, s, id))
		return;
	put_bytes(cur, sizeof(cur), s->current);
	put_bytes(total, sizeof(total), s->total);
	if (s->total)
		snprintf(bytes, sizeof(bytes), " %s / %s", cur, total);
	else if (s->current)
		snprintf(bytes, sizeof(bytes), " %s", cur);
	if (ts_sub(end, s->started) > 0.01)
		snprintf(tm, sizeof(tm), " %.1fs", ts_sub(end, s->started));
	if (s->has_completed)
		strcat(tm, " done");
	header(p, v);
	outf(p, "#%u %s%s%s\n", v->index, id, bytes, tm);
}

/* Prints v's partial output line, if any, and forgets its output state. */
static void flush_log(struct bkprogress *p, struct vtx *v)
{
	p->tmp.len = 0;
	keep_err(p, logclean_flush(&v->lc, &p->tmp, SIZE_MAX / 2));
	print_lines(p, v, v->line_sec, v->line_sec);
	logclean_done(&v->lc);
}

static bool canceled(const char *error)
{
	static const char suffix[] = "context canceled";
	size_t n = strlen(error);

	return n >= sizeof(suffix) - 1 && !strcmp(error + n - (sizeof(suffix) - 1), suffix);
}

static void print_end(struct bkprogress *p, struct vtx *v)
{
	header(p, v);
	flush_log(p, v);
	if (v->error && canceled(v->error)) {
		outf(p, "#%u CANCELED\n", v->index);
	} else if (v->error) {
		outf(p, "#%u ERROR: %s\n", v->index, v->error);
	} else if (v->cached) {
		outf(p, "#%u CACHED\n", v->index);
		v->shown_cached = true;
	} else {
		outf(p, "#%u DONE %.1fs\n", v->index, ts_sub(v->t_done, v->t_start));
	}
	outf(p, "\n");
	p->need_blank = false;
	p->current = NULL;
}

/* Prints what one message changed of v: start, statuses and output, end. */
static void print_vertex(struct bkprogress *p, struct vtx *v)
{
	if (v->changed)
		header(p, v);
	for (uint32_t e = v->ev_first; e != NO_EVENT; e = p->ev[e].next) {
		union {
			struct bk_status s;
			struct bk_log l;
		} m;

		decode(p->ev[e].field, p->ev[e].data, p->ev[e].len, &m); /* validated */
		if (p->ev[e].field == F_STATUS)
			print_status(p, v, &m.s);
		else
			print_log(p, v, &m.l);
	}
	if (v->changed && v->completed)
		print_end(p, v);
}

/* ---- applying a message ---- */

/* The vertex of digest, or NULL; *ret_valid when the digest can be a key (then in key). */
static struct vtx *find(const struct bkprogress *p, struct bk_str digest, char *key,
                        bool *ret_valid)
{
	size_t i;

	*ret_valid = digest.len && digest.len <= BKPROGRESS_DIGEST_MAX &&
	             !memchr(digest.p, '\0', digest.len);
	if (!*ret_valid)
		return NULL;
	memcpy(key, digest.p, digest.len);
	key[digest.len] = '\0';
	return strmap_get(&p->by_digest, key, &i) ? p->v[i] : NULL;
}

/* A new vertex; -ENOSPC past BKPROGRESS_MAX_VERTICES, -ENOMEM. */
static int add(struct bkprogress *p, const char *key, struct vtx **ret)
{
	struct vtx *v;
	int r = ARRAY_GROW(p->v, p->vcap, p->nv, BKPROGRESS_MAX_VERTICES);

	if (r < 0)
		return r == -E2BIG ? -ENOSPC : r;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	strcpy(v->digest, key);
	/* named by its digest until its name comes */
	if (set_text(&v->name, (struct bk_str){(const uint8_t *)key, strlen(key)},
	             BKPROGRESS_NAME_MAX) < 0 ||
	    strmap_put(&p->by_digest, v->digest, p->nv) < 0) {
		free(v->name);
		free(v);
		return -ENOMEM;
	}
	p->v[p->nv++] = v;
	*ret = v;
	return 0;
}

/* Puts v on the list of vertices the message touches. */
static void touch(struct bkprogress *p, struct vtx *v)
{
	if (v->gen == p->gen)
		return;
	v->gen = p->gen;
	v->changed = false;
	v->ev_first = v->ev_last = NO_EVENT;
	v->next_dirty = NULL;
	*p->dirty_tail = v;
	p->dirty_tail = &v->next_dirty;
}

/* Errors BuildKit survives or causes itself: not the reason a build failed. */
static bool blamable(const struct vtx *v)
{
	static const char cache_import[] = "importing cache manifest";

	return v->error && !canceled(v->error) &&
	       !(v->name && !strncmp(v->name, cache_import, sizeof(cache_import) - 1));
}

/* The new state of v from a Vertex message m; v->changed when docker would print it. */
static void update(struct bkprogress *p, struct vtx *v, const struct bk_vertex *m)
{
	bool changed = false;
	int r = 0;

	if (m->name.len && (r = set_text(&v->name, m->name, BKPROGRESS_NAME_MAX)) != 0)
		changed = r > 0;
	keep_err(p, r);
	if (!m->has_started && v->started)
		return; /* a repeat of the vertex as first announced: keep the state */
	changed |= m->has_started && (!v->started || !ts_eq(m->started, v->t_start));
	changed |= m->has_completed && (!v->completed || !ts_eq(m->completed, v->t_done));
	changed |= m->cached != v->cached;
	r = set_text(&v->error, m->error, BKPROGRESS_ERROR_MAX);
	keep_err(p, r);
	if (r > 0 && blamable(v))
		v->failed_seq = ++p->failed_seq;
	changed |= r > 0;
	v->started = m->has_started;
	v->t_start = m->started;
	v->completed = m->has_completed;
	v->t_done = m->completed;
	v->cached = m->cached;
	v->changed |= changed && m->has_started;
}

static void apply_vertex(struct bkprogress *p, const uint8_t *data, size_t len)
{
	char key[BKPROGRESS_DIGEST_MAX + 1];
	struct bk_vertex m;
	struct vtx *v;
	bool valid;
	int r;

	decode(F_VERTEX, data, len, &m); /* validated */
	v = find(p, m.digest, key, &valid);
	if (!v && valid && (r = add(p, key, &v)) < 0)
		keep_err(p, r == -ENOSPC ? 0 : r);
	if (!v) {
		p->dropped++;
		return;
	}
	touch(p, v);
	update(p, v, &m);
}

/* Files a status or log under its vertex, to be printed with it; unknown vertices are skipped. */
static void add_event(struct bkprogress *p, unsigned char field, const uint8_t *data, size_t len)
{
	char key[BKPROGRESS_DIGEST_MAX + 1];
	union {
		struct bk_status s;
		struct bk_log l;
	} m;
	struct vtx *v;
	bool valid;
	uint32_t e = (uint32_t)p->nev;

	decode(field, data, len, &m); /* validated */
	v = find(p, field == F_STATUS ? m.s.vertex : m.l.vertex, key, &valid);
	if (!v) /* docker's printer: "shouldn't happen" */
		return;
	touch(p, v);
	p->ev[p->nev++] = (struct event){data, len, NO_EVENT, field};
	if (v->ev_last == NO_EVENT)
		v->ev_first = e;
	else
		p->ev[v->ev_last].next = e;
	v->ev_last = e;
}

/* Room for n events; the array shrinks again after an unusually large message. */
static int reserve_events(struct bkprogress *p, size_t n)
{
	struct event *q;

	if (n <= p->evcap && p->evcap <= 4096)
		return 0;
	if (n > UINT32_MAX - 1)
		return -EMSGSIZE;
	q = realloc(p->ev, (n ? n : 1) * sizeof(*q));
	if (!q)
		return n <= p->evcap ? 0 : -ENOMEM;
	p->ev = q;
	p->evcap = n ? n : 1;
	return 0;
}

int bkprogress_feed(struct bkprogress *p, const void *msg, size_t len, struct strbuf *out,
                    size_t max)
{
	struct pb_reader r = pb_reader_of(msg, len);
	struct pb_field f;
	size_t events;
	int k;

	if (len > BKPROGRESS_MSG_MAX)
		return -EMSGSIZE;
	if (!len)
		return 0;
	if ((k = validate(msg, len, &events)) < 0 || (k = reserve_events(p, events)) < 0)
		return k;
	p->gen++;
	p->dirty = NULL;
	p->dirty_tail = &p->dirty;
	p->nev = 0;
	p->err = 0;
	while (pb_next(&r, &f) > 0) {
		if (f.num == F_VERTEX)
			apply_vertex(p, f.data, f.len);
		else if (f.num == F_STATUS || f.num == F_LOG)
			add_event(p, (unsigned char)f.num, f.data, f.len);
	}
	p->out = out;
	p->max = max;
	for (struct vtx *v = p->dirty; v; v = v->next_dirty)
		print_vertex(p, v);
	p->out = NULL;
	return p->err;
}

int bkprogress_feed_aux(struct bkprogress *p, const char *b64, size_t len, struct strbuf *out,
                        size_t max)
{
	size_t need = BASE64_DECODED_MAX(len), n;

	if (len > (size_t)BKPROGRESS_MSG_MAX / 3 * 4 + 4)
		return -EMSGSIZE;
	if (need > p->rawcap) {
		unsigned char *q = realloc(p->raw, need);

		if (!q)
			return -ENOMEM;
		p->raw = q;
		p->rawcap = need;
	}
	if (base64_decode(b64, len, false, p->raw, p->rawcap, &n) < 0)
		return -EBADMSG;
	return bkprogress_feed(p, p->raw, n, out, max);
}

int bkprogress_finish(struct bkprogress *p, struct strbuf *out, size_t max)
{
	p->out = out;
	p->max = max;
	p->err = 0;
	for (size_t i = 0; i < p->nv; i++)
		if (logclean_pending(&p->v[i]->lc))
			flush_log(p, p->v[i]);
	p->out = NULL;
	return p->err;
}

int bkprogress_failure(const struct bkprogress *p, const char **ret_name, const char **ret_error)
{
	const struct vtx *last = NULL;

	for (size_t i = 0; i < p->nv; i++)
		if (blamable(p->v[i]) && (!last || p->v[i]->failed_seq > last->failed_seq))
			last = p->v[i];
	if (!last)
		return -ENOENT;
	*ret_name = last->name ? last->name : "";
	*ret_error = last->error;
	return 0;
}

/* "[stage 2/5] RUN ..." or "[2/5] COPY ...": a Dockerfile instruction, FROM aside. */
static bool is_step(const char *name)
{
	const char *end = name[0] == '[' ? strstr(name, "] ") : NULL, *s;

	if (!end)
		return false;
	for (s = end; s > name + 1 && s[-1] != ' ' && s[-1] != '['; s--)
		;
	/* s..end is the last word in the brackets: digits/digits */
	if (s == end || strspn(s, "0123456789/") != (size_t)(end - s) ||
	    !memchr(s, '/', (size_t)(end - s)))
		return false;
	return strncasecmp(end + 2, "FROM ", 5) != 0;
}

void bkprogress_stats(const struct bkprogress *p, struct bkprogress_stats *ret)
{
	*ret = (struct bkprogress_stats){.vertices = p->nv, .dropped = p->dropped};
	for (size_t i = 0; i < p->nv; i++) {
		const struct vtx *v = p->v[i];

		ret->shown += v->index != 0;
		ret->cached += v->shown_cached;
		ret->cached_steps += v->shown_cached && v->name && is_step(v->name);
		ret->failed += blamable(v);
	}
}

int bkprogress_new(struct bkprogress **ret)
{
	struct bkprogress *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->dirty_tail = &p->dirty;
	*ret = p;
	return 0;
}

void bkprogress_free(struct bkprogress *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nv; i++) {
		free(p->v[i]->name);
		free(p->v[i]->error);
		logclean_done(&p->v[i]->lc);
		free(p->v[i]);
	}
	for (size_t i = 0; i < p->nst; i++)
		free(p->st[i]);
	free(p->v);
	free(p->st);
	strmap_done(&p->by_digest);
	strmap_done(&p->by_id);
	free(p->ev);
	free(p->tmp.p);
	free(p->raw);
	free(p);
}
