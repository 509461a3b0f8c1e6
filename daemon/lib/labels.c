#include "labels.h"

#include <stdlib.h>

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *keep(struct label_set *s, const char *v)
{
	size_t n = strlen(v) + 1;
	char *p;

	if (s->used + n > sizeof(s->buf))
		return NULL;
	p = s->buf + s->used;
	memcpy(p, v, n);
	s->used += n;
	return p;
}

static void add(struct label_set *s, const char *key, const char *value)
{
	const char *v;

	if (!value || !*value || s->n >= LABELS_MAX || !(v = keep(s, value)))
		return;
	s->kv[s->n].key = (char *)(uintptr_t)key;
	s->kv[s->n].value = (char *)(uintptr_t)v;
	s->n++;
}

int labels_build(struct label_set *set, const struct label_input *in)
{
	char created[32], reasons[1024];
	struct tm tm;

	memset(set, 0, sizeof(*set));
	if (!gmtime_r(&in->created, &tm))
		return -EINVAL;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* reasons are newline-separated in the store; one line in a label */
	snprintf(reasons, sizeof(reasons), "%s", in->reasons ? in->reasons : "");
	for (char *p = reasons; *p; p++)
		if (*p == '\n')
			*p = ';';
	add(set, "org.opencontainers.image.created", created);
	add(set, "org.opencontainers.image.revision", in->revision);
	add(set, "org.opencontainers.image.source", in->source);
	add(set, "org.opencontainers.image.base.name", in->base_name);
	add(set, "org.opencontainers.image.base.digest", in->base_digest);
	add(set, "io.refit.environment", in->environment);
	add(set, "io.refit.trigger", in->trigger);
	add(set, "io.refit.reasons", reasons);
	add(set, "io.refit.follow", in->follow);
	return 0;
}

int labels_timestamp_tag(const char *env, time_t t, char *buf, size_t len)
{
	struct tm tm;
	char stamp[32];

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	return snprintf(buf, len, "%s-%s", env, stamp) < (int)len ? 0 : -ENOSPC;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -ENOENT;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -ENOENT;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static bool is_sha(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return (n == 40 || n == 64) && !s[n];
}

/* Looks ref ("refs/heads/main") up in packed-refs. */
static int packed_ref(const char *dir, const char *ref, char *buf, size_t len)
{
	char path[4096], line[512];
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "%s/.git/packed-refs", dir);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		line[strcspn(line, "\r\n")] = '\0';
		if (sp && !strcmp(sp + 1, ref)) {
			*sp = '\0';
			if (is_sha(line) && strlen(line) < len) {
				strcpy(buf, line);
				r = 0;
			}
			break;
		}
	}
	fclose(f);
	return r;
}

int labels_git_revision(const char *dir, char *buf, size_t len)
{
	char path[4096], head[512], ref[512];

	snprintf(path, sizeof(path), "%s/.git/HEAD", dir);
	if (read_line(path, head, sizeof(head)) < 0)
		return -ENOENT;
	if (is_sha(head) && strlen(head) < len) {
		strcpy(buf, head);
		return 0;
	}
	if (strncmp(head, "ref: ", 5) || strstr(head, ".."))
		return -ENOENT;
	snprintf(ref, sizeof(ref), "%s", head + 5);
	snprintf(path, sizeof(path), "%s/.git/%s", dir, ref);
	if (read_line(path, head, sizeof(head)) == 0 && is_sha(head) && strlen(head) < len) {
		strcpy(buf, head);
		return 0;
	}
	return packed_ref(dir, ref, buf, len);
}

/* Drops "user:password@" from a URL: a label must never carry a secret. */
static void strip_userinfo(char *url)
{
	char *scheme = strstr(url, "://"), *at, *slash;

	if (!scheme)
		return;
	at = strchr(scheme + 3, '@');
	slash = strchr(scheme + 3, '/');
	if (at && (!slash || at < slash))
		memmove(scheme + 3, at + 1, strlen(at + 1) + 1);
}

int labels_git_source(const char *dir, char *buf, size_t len)
{
	char path[4096], line[1024];
	bool in_origin = false;
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "%s/.git/config", dir);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '[')
			in_origin = !strcmp(p, "[remote \"origin\"]");
		else if (in_origin && !strncmp(p, "url", 3) && strchr(p, '=')) {
			p = strchr(p, '=') + 1;
			p += strspn(p, " \t");
			if (strlen(p) < len) {
				strcpy(buf, p);
				strip_userinfo(buf);
				r = 0;
			}
		}
	}
	fclose(f);
	return r;
}

/* True when tag is ENV-YYYYMMDDTHHMMSSZ for env. */
static bool is_stamp_of(const char *tag, const char *env)
{
	size_t n = strlen(env);
	const char *t = tag + n + 1;

	return !strncmp(tag, env, n) && tag[n] == '-' && strlen(t) == 16 && t[8] == 'T' &&
	       t[15] == 'Z' && strspn(t, "0123456789") == 8 && strspn(t + 9, "0123456789") == 6;
}

static int cmp_desc(const void *a, const void *b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects repo:<env-stamp> tags of env from the /images/json answer. */
static size_t stamps_of(json_t *images, const char *repo, const char *env, char **out, size_t max)
{
	size_t i, j, n = 0, rl = strlen(repo);
	json_t *img, *tag;

	json_array_foreach(images, i, img)
	{
		json_array_foreach(json_object_get(img, "RepoTags"), j, tag)
		{
			const char *t = json_string_value(tag);
			if (n < max && t && !strncmp(t, repo, rl) && t[rl] == ':' &&
			    is_stamp_of(t + rl + 1, env))
				out[n++] = strdup(t);
		}
	}
	return n;
}

int labels_prune(const char *images_json, size_t len, const char *repo, const char *const *envs,
                 int keep, char ***ret)
{
	json_t *images = json_loadb(images_json, len, 0, NULL);
	char **all = calloc(1024, sizeof(char *)), **out = calloc(1024, sizeof(char *));
	size_t n_out = 0;

	if (!json_is_array(images) || !all || !out) {
		json_decref(images);
		free(all);
		free(out);
		return -EINVAL;
	}
	for (size_t e = 0; envs[e]; e++) {
		size_t n = stamps_of(images, repo, envs[e], all, 1023);
		qsort(all, n, sizeof(char *), cmp_desc); /* newest first */
		for (size_t i = 0; i < n; i++) {
			if ((int)i >= keep && n_out < 1023)
				out[n_out++] = all[i];
			else
				free(all[i]);
		}
	}
	json_decref(images);
	free(all);
	*ret = out;
	return (int)n_out;
}
