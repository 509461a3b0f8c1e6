/*
 * evdoc_json — JSON building with one out-of-memory flag per document
 * (evdoc_impl.h).
 */
#include "evdoc_impl.h"

#include <stdlib.h>
#include <string.h>

void jb_set(struct jb *j, json_t *o, const char *key, json_t *v)
{
	if (!o) {
		json_decref(v);
		j->oom = true;
	} else if (!v || json_object_set_new(o, key, v) < 0) { /* set_new drops v on failure */
		j->oom = true;
	}
}

void jb_set_str(struct jb *j, json_t *o, const char *key, const char *s)
{
	if (s)
		jb_set(j, o, key, jb_str(s));
}

void jb_push(struct jb *j, json_t *a, json_t *v)
{
	if (!a) {
		json_decref(v);
		j->oom = true;
	} else if (!v || json_array_append_new(a, v) < 0) {
		j->oom = true;
	}
}

json_t *jb_str(const char *s)
{
	json_t *v = json_string(s ? s : "");
	char *copy;

	if (v || !s)
		return v;
	copy = strdup(s); /* not UTF-8: keep the ASCII, mark the rest */
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

json_t *jb_done(struct jb *j, json_t *o)
{
	if (j->oom || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *jb_time(uint64_t ms)
{
	char buf[40];

	evdoc_time(ms, buf, sizeof(buf));
	return json_string(buf);
}

bool evdoc_adv_names(const struct evdoc_advisory *a, const struct evdoc_pkg *p)
{
	if (!a->package || !p->name ||
	    strcmp(a->ecosystem ? a->ecosystem : "", p->ecosystem ? p->ecosystem : ""))
		return false;
	return !strcmp(a->package, p->name) || (p->source && !strcmp(a->package, p->source));
}
