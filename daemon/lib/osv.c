/*
 * osv — OSV records to feed rows and range evaluation; osv.dev's bulk
 * export (all.zip, modified_id.csv) is in osv_export.c. See osv.h.
 */
#include "osv.h"
#include "errf.h"
#include "osv_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A callback's negative errno as text; it may return anything. */
const char *osv_errstr(int r)
{
	return r < 0 && r > INT_MIN ? strerror(-r) : "unknown error";
}

/* ---- RFC 3339 times ---- */

static bool digits(const char *s, int n, int *ret)
{
	int v = 0;

	/* Stops at the first non-digit, so a short string is never read past its NUL. */
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Reads ".ddd" (1-9 digits) at *p, if any, into nanoseconds. */
static bool fraction(const char **p, int32_t *ret)
{
	const char *s = *p;
	int32_t ns = 0;
	int n = 0;

	if (*s != '.') {
		*ret = 0;
		return true;
	}
	for (s++; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == 9)
			return false;
		ns = ns * 10 + (*s - '0');
	}
	if (n == 0)
		return false;
	for (int i = n; i < 9; i++)
		ns *= 10;
	*p = s;
	*ret = ns;
	return true;
}

/* Reads "Z" or "+hh:mm" / "-hh:mm", which must end the string, into seconds east of UTC. */
static bool zone(const char *s, int *ret)
{
	int h, m;

	if ((s[0] == 'Z' || s[0] == 'z') && !s[1]) {
		*ret = 0;
		return true;
	}
	if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &h) || s[3] != ':' ||
	    !digits(s + 4, 2, &m) || s[6] || h > 23 || m > 59)
		return false;
	*ret = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return true;
}

int osv_time_parse(const char *s, int64_t *ret_sec, int32_t *ret_nsec)
{
	int y, mo, d, h, mi, sec, off;
	const char *p;
	int32_t ns;

	if (!s || strnlen(s, OSV_TIME_MAX) >= OSV_TIME_MAX)
		return -EINVAL;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return -EINVAL;
	p = s + 19;
	if (!fraction(&p, &ns) || !zone(p, &off))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	*ret_sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	*ret_nsec = ns;
	return 0;
}

int osv_instant_cmp(int64_t as, int32_t an, int64_t bs, int32_t bn)
{
	if (as != bs)
		return as < bs ? -1 : 1;
	return (an > bn) - (an < bn);
}

int osv_time_cmp(const char *a, const char *b, int *ret)
{
	int64_t as, bs;
	int32_t an, bn;

	if (osv_time_parse(a, &as, &an) < 0 || osv_time_parse(b, &bs, &bn) < 0)
		return -EINVAL;
	*ret = osv_instant_cmp(as, an, bs, bn);
	return 0;
}

/* ---- ids, names, ecosystems ---- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$: ids end up in URLs and file names. */
bool osv_id_ok(const char *s, size_t n)
{
	if (n == 0 || n > OSV_ID_MAX || !is_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && (!s[i] || !strchr("._:-", s[i])))
			return false;
	return true;
}

/* An ecosystem or package name: 1..OSV_MAX_NAME bytes, no control character. */
static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > OSV_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A bucket directory: a name without '/' that is not "." or "..". */
bool osv_dir_ok(const char *s, size_t n)
{
	if (!name_ok(s, n) || memchr(s, '/', n))
		return false;
	return !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* e is name, or name ":" something when a suffix is allowed. */
static bool eco_is(const char *e, const char *name, bool suffix)
{
	size_t n = strlen(name);

	if (strncmp(e, name, n))
		return false;
	return !e[n] || (suffix && e[n] == ':' && e[n + 1]);
}

int osv_ecosystem_eco(const char *ecosystem, enum version_eco *ret)
{
	if (!ecosystem)
		return -ENOTSUP;
	if (eco_is(ecosystem, "Debian", true))
		*ret = VERSION_DEBIAN;
	else if (eco_is(ecosystem, "Ubuntu", true))
		*ret = VERSION_UBUNTU;
	else if (eco_is(ecosystem, "Alpine", true))
		*ret = VERSION_ALPINE;
	else if (eco_is(ecosystem, "PyPI", false))
		*ret = VERSION_PYPI;
	else
		return -ENOTSUP;
	return 0;
}

const char *osv_ecosystem_dir(const char *ecosystem, char *buf, size_t n)
{
	size_t len;

	if (!ecosystem)
		return NULL;
	len = strcspn(ecosystem, ":");
	if (len >= n || !osv_dir_ok(ecosystem, len))
		return NULL;
	memcpy(buf, ecosystem, len);
	buf[len] = '\0';
	return buf;
}

/* ---- osv_parse ---- */

struct parse {
	const char *id, *modified, *summary;
	json_t *aliases; /* owned; NULL when the record has none */
	bool withdrawn;
	size_t events, versions; /* budgets: OSV_MAX_EVENTS, OSV_MAX_VERSIONS */
	char *err;
	size_t errlen;
};

/* One usable affected[] entry, built before any callback runs. */
struct built {
	const char *ecosystem, *package;
	json_t *affected;
};

static const char *const event_keys[] = {"introduced", "fixed", "last_affected", "limit"};

#define N_EVENT_KEYS (sizeof(event_keys) / sizeof(event_keys[0]))

static bool short_string(const json_t *v, size_t max)
{
	return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max;
}

/* An optional string member: absent or null gives NULL. */
static int opt_string(const json_t *obj, const char *key, const char **ret, struct parse *p)
{
	const json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return errf(p->err, p->errlen, -EINVAL, "%s: not a string", key);
	*ret = json_string_value(v);
	return 0;
}

static bool array_has(const json_t *a, const char *s)
{
	size_t i;
	const json_t *v;

	json_array_foreach(a, i, v)
	{
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/* Appends the strings of obj[key] to p->aliases, skipping those already there. */
static int aliases_add(const json_t *obj, const char *key, struct parse *p)
{
	const json_t *list = json_object_get(obj, key);
	size_t i;
	json_t *v;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return errf(p->err, p->errlen, -EINVAL, "%s: not an array", key);
	/* Bounds the duplicate search too: at most OSV_MAX_ALIASES squared compares. */
	if (json_array_size(list) > OSV_MAX_ALIASES)
		return errf(p->err, p->errlen, -E2BIG, "more than %d aliases", OSV_MAX_ALIASES);
	json_array_foreach(list, i, v)
	{
		if (!short_string(v, OSV_MAX_STR))
			return errf(p->err, p->errlen, -EINVAL,
			            "%s[%zu]: not a string of 1 to %d bytes", key, i, OSV_MAX_STR);
		if (array_has(p->aliases, json_string_value(v)))
			continue;
		if (json_array_size(p->aliases) >= OSV_MAX_ALIASES)
			return errf(p->err, p->errlen, -E2BIG, "more than %d aliases",
			            OSV_MAX_ALIASES);
		if (json_array_append(p->aliases, v))
			return errf(p->err, p->errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The record-wide fields: id, modified, withdrawn, summary, aliases + upstream. */
static int record_head(const json_t *root, struct parse *p)
{
	const char *withdrawn;
	int r;

	if (!json_is_object(root))
		return errf(p->err, p->errlen, -EINVAL, "not a JSON object");
	if ((r = opt_string(root, "id", &p->id, p)) < 0)
		return r;
	if (!p->id || !osv_id_ok(p->id, strlen(p->id)))
		return errf(p->err, p->errlen, -EINVAL,
		            "id: missing or not [A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
	if ((r = opt_string(root, "modified", &p->modified, p)) < 0 ||
	    (r = opt_string(root, "withdrawn", &withdrawn, p)) < 0 ||
	    (r = opt_string(root, "summary", &p->summary, p)) < 0)
		return r;
	if (!p->modified || osv_time_parse(p->modified, &(int64_t){0}, &(int32_t){0}) < 0)
		return errf(p->err, p->errlen, -EINVAL, "%s: modified: missing or not RFC 3339",
		            p->id);
	if (withdrawn && osv_time_parse(withdrawn, &(int64_t){0}, &(int32_t){0}) < 0)
		return errf(p->err, p->errlen, -EINVAL, "%s: withdrawn: not RFC 3339", p->id);
	p->withdrawn = withdrawn != NULL;
	p->aliases = json_array();
	if (!p->aliases)
		return errf(p->err, p->errlen, -ENOMEM, "out of memory");
	if ((r = aliases_add(root, "aliases", p)) < 0 || (r = aliases_add(root, "upstream", p)) < 0)
		return r;
	if (json_array_size(p->aliases) == 0) {
		json_decref(p->aliases);
		p->aliases = NULL;
	}
	return 0;
}

/* Appends {key: value} for the one event key ev holds. */
static int event_copy(const json_t *ev, json_t *out, const char *where, size_t k, struct parse *p)
{
	const char *key = NULL;
	json_t *val = NULL, *obj;

	if (!json_is_object(ev))
		return errf(p->err, p->errlen, -EINVAL, "%s.events[%zu]: not an object", where, k);
	for (size_t i = 0; i < N_EVENT_KEYS; i++) {
		json_t *v = json_object_get(ev, event_keys[i]);

		if (!v)
			continue;
		if (key)
			return errf(p->err, p->errlen, -EINVAL, "%s.events[%zu]: both %s and %s",
			            where, k, key, event_keys[i]);
		if (!short_string(v, OSV_MAX_STR))
			return errf(p->err, p->errlen, -EINVAL,
			            "%s.events[%zu].%s: not a string of 1 to %d bytes", where, k,
			            event_keys[i], OSV_MAX_STR);
		key = event_keys[i];
		val = v;
	}
	if (!key)
		return errf(p->err, p->errlen, -EINVAL,
		            "%s.events[%zu]: no introduced, fixed, last_affected or limit", where,
		            k);
	if (++p->events > OSV_MAX_EVENTS)
		return errf(p->err, p->errlen, -E2BIG, "more than %d ranges and events",
		            OSV_MAX_EVENTS);
	obj = json_object();
	if (obj && json_object_set(obj, key, val)) {
		json_decref(obj);
		obj = NULL;
	}
	/* json_array_append_new() drops obj when it fails. */
	if (!obj || json_array_append_new(out, obj))
		return errf(p->err, p->errlen, -ENOMEM, "out of memory");
	return 0;
}

/* Appends a copy of an ECOSYSTEM or SEMVER range to out; other types are skipped. */
static int range_copy(const json_t *range, json_t *out, const char *where, struct parse *p)
{
	const json_t *events, *ev;
	json_t *type, *copy, *evs;
	size_t k;
	int r;

	if (!json_is_object(range))
		return errf(p->err, p->errlen, -EINVAL, "%s: not an object", where);
	type = json_object_get(range, "type");
	if (!json_is_string(type))
		return errf(p->err, p->errlen, -EINVAL, "%s.type: not a string", where);
	if (strcmp(json_string_value(type), "ECOSYSTEM") &&
	    strcmp(json_string_value(type), "SEMVER"))
		return 0;
	events = json_object_get(range, "events");
	if (!json_is_array(events))
		return errf(p->err, p->errlen, -EINVAL, "%s.events: not an array", where);
	if (++p->events > OSV_MAX_EVENTS)
		return errf(p->err, p->errlen, -E2BIG, "more than %d ranges and events",
		            OSV_MAX_EVENTS);
	copy = json_object();
	if (!copy || json_object_set(copy, "type", type) ||
	    json_object_set_new(copy, "events", json_array())) {
		json_decref(copy);
		return errf(p->err, p->errlen, -ENOMEM, "out of memory");
	}
	evs = json_object_get(copy, "events");
	json_array_foreach(events, k, ev)
	{
		if ((r = event_copy(ev, evs, where, k, p)) < 0) {
			json_decref(copy);
			return r;
		}
	}
	if (json_array_append_new(out, copy))
		return errf(p->err, p->errlen, -ENOMEM, "out of memory");
	return 0;
}

/* Checks versions[] (absent, null or strings); *ret is the array or NULL. */
static int versions_check(const json_t *a, size_t ai, json_t **ret, struct parse *p)
{
	json_t *list = json_object_get(a, "versions");
	size_t i;
	const json_t *v;

	*ret = NULL;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return errf(p->err, p->errlen, -EINVAL, "affected[%zu].versions: not an array", ai);
	json_array_foreach(list, i, v)
	{
		if (!short_string(v, OSV_MAX_STR))
			return errf(p->err, p->errlen, -EINVAL,
			            "affected[%zu].versions[%zu]: not a string of 1 to %d bytes",
			            ai, i, OSV_MAX_STR);
	}
	p->versions += json_array_size(list);
	if (p->versions > OSV_MAX_VERSIONS)
		return errf(p->err, p->errlen, -E2BIG, "more than %d versions", OSV_MAX_VERSIONS);
	*ret = list;
	return 0;
}

/* The package of an affected[] entry; 0 with ret->ecosystem NULL when it names none. */
static int entry_package(const json_t *a, size_t ai, struct built *ret, struct parse *p)
{
	const json_t *pkg = json_object_get(a, "package"), *eco, *name;

	ret->ecosystem = ret->package = NULL;
	if (!pkg || json_is_null(pkg))
		return 0;
	if (!json_is_object(pkg))
		return errf(p->err, p->errlen, -EINVAL, "affected[%zu].package: not an object", ai);
	eco = json_object_get(pkg, "ecosystem");
	name = json_object_get(pkg, "name");
	if (!eco || json_is_null(eco) || !name || json_is_null(name))
		return 0;
	if (!json_is_string(eco) || !name_ok(json_string_value(eco), json_string_length(eco)) ||
	    !json_is_string(name) || !name_ok(json_string_value(name), json_string_length(name)))
		return errf(p->err, p->errlen, -EINVAL,
		            "affected[%zu].package: ecosystem and name must be strings of 1 to %d "
		            "bytes without control characters",
		            ai, OSV_MAX_NAME);
	ret->ecosystem = json_string_value(eco);
	ret->package = json_string_value(name);
	return 0;
}

/* Builds the row of affected[ai]; ret->affected stays NULL when the entry is of no use. */
static int entry_build(const json_t *a, size_t ai, struct built *ret, struct parse *p)
{
	const json_t *ranges, *range;
	json_t *versions, *out, *rs;
	char where[64];
	size_t ri;
	int r;

	ret->affected = NULL;
	if (!json_is_object(a))
		return errf(p->err, p->errlen, -EINVAL, "affected[%zu]: not an object", ai);
	if ((r = entry_package(a, ai, ret, p)) < 0 || !ret->ecosystem)
		return r;
	ranges = json_object_get(a, "ranges");
	if (ranges && !json_is_null(ranges) && !json_is_array(ranges))
		return errf(p->err, p->errlen, -EINVAL, "affected[%zu].ranges: not an array", ai);
	if ((r = versions_check(a, ai, &versions, p)) < 0)
		return r;
	out = json_object();
	if (!out || json_object_set_new(out, "ranges", json_array()) ||
	    json_object_set_new(out, "versions", versions ? json_incref(versions) : json_array())) {
		json_decref(out);
		return errf(p->err, p->errlen, -ENOMEM, "out of memory");
	}
	rs = json_object_get(out, "ranges");
	json_array_foreach(ranges, ri, range)
	{
		snprintf(where, sizeof(where), "affected[%zu].ranges[%zu]", ai, ri);
		if ((r = range_copy(range, rs, where, p)) < 0) {
			json_decref(out);
			return r;
		}
	}
	if (json_array_size(rs) == 0 && json_array_size(versions) == 0)
		json_decref(out);
	else
		ret->affected = out;
	return 0;
}

/* Builds every usable entry into b (n of them in *ret_n), then nothing else. */
static int entries_build(const json_t *root, struct built *b, size_t *ret_n, struct parse *p)
{
	const json_t *list = json_object_get(root, "affected"), *a;
	size_t i, n = 0;
	int r;

	json_array_foreach(list, i, a)
	{
		if ((r = entry_build(a, i, &b[n], p)) < 0)
			return r;
		if (b[n].affected)
			n++;
		*ret_n = n;
	}
	return 0;
}

static int rows_emit(const struct built *b, size_t n, const struct parse *p, feed_row_cb cb,
                     void *arg)
{
	struct feed_row row = {
	        .id = p->id,
	        .modified = p->modified,
	        .summary = p->summary,
	        .aliases = p->aliases,
	        .withdrawn = p->withdrawn,
	};
	int r;

	for (size_t i = 0; i < n; i++) {
		row.ecosystem = b[i].ecosystem;
		row.package = b[i].package;
		row.affected = b[i].affected;
		if ((r = cb(&row, arg)) < 0)
			return errf(p->err, p->errlen, r, "callback: %s", osv_errstr(r));
	}
	if (n == 0 && p->withdrawn) {
		/* The closing row: ecosystem, package and affected NULL. */
		if ((r = cb(&row, arg)) < 0)
			return errf(p->err, p->errlen, r, "callback: %s", osv_errstr(r));
		return 1;
	}
	return (int)n;
}

/* The rows of a record whose head is read: all built first, so a bad entry emits none. */
static int record_rows(const json_t *root, struct parse *p, feed_row_cb cb, void *arg)
{
	const json_t *list = json_object_get(root, "affected");
	struct built *b = NULL;
	size_t n = 0;
	int r;

	if (list && !json_is_null(list) && !json_is_array(list))
		return errf(p->err, p->errlen, -EINVAL, "affected: not an array");
	if (json_array_size(list) > OSV_MAX_AFFECTED)
		return errf(p->err, p->errlen, -E2BIG, "more than %d affected entries",
		            OSV_MAX_AFFECTED);
	if (json_array_size(list)) {
		b = calloc(json_array_size(list), sizeof(*b));
		if (!b)
			return errf(p->err, p->errlen, -ENOMEM, "out of memory");
	}
	r = entries_build(root, b, &n, p);
	if (r == 0)
		r = rows_emit(b, n, p, cb, arg);
	for (size_t i = 0; i < n; i++)
		json_decref(b[i].affected);
	free(b);
	return r;
}

int osv_parse(const char *buf, size_t len, feed_row_cb cb, void *arg, char *err, size_t errlen)
{
	struct parse p = {.err = err, .errlen = errlen};
	json_error_t jerr;
	json_t *root;
	int r;

	if (!buf && len)
		return errf(err, errlen, -EINVAL, "no buffer");
	if (len > OSV_MAX_RECORD)
		return errf(err, errlen, -E2BIG, "record of %zu bytes, more than %u", len,
		            OSV_MAX_RECORD);
	root = json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return errf(err, errlen,
		            json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : -EINVAL,
		            "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	r = record_head(root, &p);
	if (r == 0)
		r = record_rows(root, &p, cb, arg);
	json_decref(p.aliases);
	json_decref(root);
	return r;
}

/* ---- osv_eval ---- */

/* Same-version events sort in this order (see osv.h). */
enum ev_kind { EV_INTRODUCED, EV_LAST_AFFECTED, EV_FIXED, EV_LIMIT };

struct ev {
	enum ev_kind kind;
	const char *v;
	bool bottom;   /* introduced "0": before every version */
	bool infinity; /* a limit holding '*' */
};

/* The one event key e holds (the first, for a malformed one with several); -EINVAL. */
static int ev_get(const json_t *e, struct ev *ret)
{
	static const struct {
		const char *key;
		enum ev_kind kind;
	} keys[] = {{"introduced", EV_INTRODUCED},
	            {"last_affected", EV_LAST_AFFECTED},
	            {"fixed", EV_FIXED},
	            {"limit", EV_LIMIT}};

	if (!json_is_object(e))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(e, keys[i].key);

		if (!v)
			continue;
		if (!json_is_string(v))
			return -EINVAL;
		ret->kind = keys[i].kind;
		ret->v = json_string_value(v);
		ret->bottom = ret->kind == EV_INTRODUCED && !strcmp(ret->v, "0");
		ret->infinity = ret->kind == EV_LIMIT && strchr(ret->v, '*');
		return 0;
	}
	return -EINVAL;
}

/* Reads one event: 1 usable, 0 skipped (its version is not valid for eco), -EINVAL. */
static int ev_read(const json_t *e, enum version_eco eco, struct ev *ret)
{
	if (ev_get(e, ret) < 0)
		return -EINVAL;
	if (ret->bottom || ret->infinity)
		return 1;
	return version_valid(eco, ret->v) == 0;
}

/* The event's version against v (both valid): <0, 0, >0. */
static int ev_vs(enum version_eco eco, const struct ev *e, const char *v)
{
	int c = 0;

	if (e->bottom)
		return -1;
	if (e->infinity)
		return 1;
	version_cmp(eco, e->v, v, &c);
	return c;
}

/* The order of the schema's sorted(range.events), ties broken by kind. */
static int ev_order(enum version_eco eco, const struct ev *a, const struct ev *b)
{
	int c = 0;

	if (a->bottom || b->bottom)
		c = (int)b->bottom - (int)a->bottom;
	else
		version_cmp(eco, a->v, b->v, &c);
	if (c)
		return c;
	return (a->kind > b->kind) - (a->kind < b->kind);
}

struct range_verdict {
	bool affected;
	const char *fixed;
};

/*
 * One range. Walking the sorted events as the pseudocode does leaves the
 * state set by the last event that changed it: an introduced or fixed at or
 * below v, or a last_affected below v. So no sort is needed: the latest such
 * event decides, and the earliest fixed/last_affected above that is the end
 * of the interval v is in.
 */
static void range_eval(const json_t *events, enum version_eco eco, const char *v,
                       struct range_verdict *ret)
{
	struct ev e, last = {0}, next = {0};
	bool have_last = false, have_next = false, limited = false, below = false;
	const json_t *j;
	size_t i;

	json_array_foreach(events, i, j)
	{
		int c;

		if (ev_read(j, eco, &e) <= 0)
			continue; /* structure checked by eval_check; invalid versions skipped */
		c = ev_vs(eco, &e, v);
		if (e.kind == EV_LIMIT) {
			limited = true;
			below |= c > 0;
		} else if (e.kind == EV_LAST_AFFECTED ? c < 0 : c <= 0) {
			if (!have_last || ev_order(eco, &e, &last) > 0) {
				last = e;
				have_last = true;
			}
		} else if (e.kind != EV_INTRODUCED) {
			if (!have_next || ev_order(eco, &e, &next) < 0) {
				next = e;
				have_next = true;
			}
		}
	}
	ret->affected = have_last && last.kind == EV_INTRODUCED && (!limited || below);
	ret->fixed = ret->affected && have_next && next.kind == EV_FIXED ? next.v : NULL;
}

/* The events of a range osv_eval looks at (ECOSYSTEM, SEMVER), else NULL. */
static const json_t *eval_events(const json_t *range)
{
	const char *type = json_string_value(json_object_get(range, "type"));

	if (!type || (strcmp(type, "ECOSYSTEM") && strcmp(type, "SEMVER")))
		return NULL;
	/* A missing events member is caught by eval_check. */
	return json_object_get(range, "events");
}

/* Checks the shape and the bounds once, so the walks below need not. */
static int eval_check(const json_t *ranges, const json_t *versions)
{
	const json_t *range, *events, *e;
	size_t i, k, n = 0;
	const char *type;
	struct ev ev;

	json_array_foreach(ranges, i, range)
	{
		if (!json_is_object(range) || !json_is_string(json_object_get(range, "type")))
			return -EINVAL;
		type = json_string_value(json_object_get(range, "type"));
		if (strcmp(type, "ECOSYSTEM") && strcmp(type, "SEMVER"))
			continue;
		if (!json_is_array(events = json_object_get(range, "events")))
			return -EINVAL;
		n += 1 + json_array_size(events);
		if (n > OSV_MAX_EVENTS)
			return -E2BIG;
		json_array_foreach(events, k, e)
		{
			if (ev_get(e, &ev) < 0)
				return -EINVAL;
		}
	}
	if (json_array_size(versions) > OSV_MAX_VERSIONS)
		return -E2BIG;
	json_array_foreach(versions, i, e)
	{
		if (!json_is_string(e))
			return -EINVAL;
	}
	return 0;
}

/* Is v in versions[], by string or by version equality? */
static bool listed(const json_t *versions, enum version_eco eco, const char *v)
{
	const json_t *j;
	size_t i;

	json_array_foreach(versions, i, j)
	{
		int c = 1;

		if (!strcmp(json_string_value(j), v) ||
		    (version_cmp(eco, json_string_value(j), v, &c) == 0 && c == 0))
			return true;
	}
	return false;
}

/* The ranges' verdict: the highest fix of the ranges holding v, NULL if one is unfixed. */
static bool ranges_eval(const json_t *ranges, enum version_eco eco, const char *v,
                        const char **ret_fixed)
{
	const json_t *range, *events;
	bool in = false, unfixed = false;
	const char *fix = NULL;
	struct range_verdict rv;
	size_t i;
	int c;

	json_array_foreach(ranges, i, range)
	{
		if (!(events = eval_events(range)))
			continue;
		range_eval(events, eco, v, &rv);
		if (!rv.affected)
			continue;
		in = true;
		if (!rv.fixed)
			unfixed = true;
		else if (!fix || (version_cmp(eco, rv.fixed, fix, &c) == 0 && c > 0))
			fix = rv.fixed;
	}
	*ret_fixed = unfixed ? NULL : fix;
	return in;
}

/* The lowest fixed event above v in any range, for a version held by versions[] only. */
static const char *lowest_fix(const json_t *ranges, enum version_eco eco, const char *v)
{
	const json_t *range, *events, *j;
	const char *best = NULL;
	struct ev e;
	size_t i, k;
	int c;

	json_array_foreach(ranges, i, range)
	{
		if (!(events = eval_events(range)))
			continue;
		json_array_foreach(events, k, j)
		{
			if (ev_read(j, eco, &e) <= 0 || e.kind != EV_FIXED ||
			    ev_vs(eco, &e, v) <= 0)
				continue;
			if (!best || (version_cmp(eco, e.v, best, &c) == 0 && c < 0))
				best = e.v;
		}
	}
	return best;
}

int osv_eval(const json_t *affected, enum version_eco eco, const char *version,
             struct osv_verdict *ret)
{
	const json_t *ranges, *versions;
	struct osv_verdict v = {false, NULL};
	int r;

	if (!json_is_object(affected) || version_valid(eco, version) < 0)
		return -EINVAL;
	ranges = json_object_get(affected, "ranges");
	versions = json_object_get(affected, "versions");
	if (json_is_null(ranges))
		ranges = NULL;
	if (json_is_null(versions))
		versions = NULL;
	if ((ranges && !json_is_array(ranges)) || (versions && !json_is_array(versions)))
		return -EINVAL;
	if ((r = eval_check(ranges, versions)) < 0)
		return r;
	if (ranges_eval(ranges, eco, version, &v.fixed))
		v.affected = true;
	else if (listed(versions, eco, version))
		v = (struct osv_verdict){true, lowest_fix(ranges, eco, version)};
	*ret = v;
	return 0;
}
