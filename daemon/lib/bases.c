#include "bases.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dockerfile.h"
#include "follow.h"
#include "log.h"

#define DOCKERFILE_READ_MAX (1u << 20)
#define MAX_BASES           512

static int read_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	buf = malloc(DOCKERFILE_READ_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, DOCKERFILE_READ_MAX + 1, f);
	fclose(f);
	if (n > DOCKERFILE_READ_MAX) {
		free(buf);
		snprintf(err, errlen, "%s: larger than %u bytes", path, DOCKERFILE_READ_MAX);
		return -EFBIG;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* Adds (or merges into) the list the reference image used by env. */
static void add_use(struct base_use *list, size_t *n, const struct config_project *p,
                    const char *env, const struct dockerfile_base *b, const char *platform)
{
	struct image_ref r;
	const char *why = NULL;
	char full[REF_STRING_MAX];
	const char *plat = b->platform ? b->platform : platform;

	if (b->unset || ref_parse(b->image, &r, &why) < 0) {
		log_warn("project %s (%s): skipping base '%s': %s", p->name, env, b->image,
		         b->unset ? "a variable in it has no value" : why);
		return;
	}
	ref_tag_name_only(&r);
	if (ref_string(&r, full, sizeof(full)) < 0)
		return;
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(list[i].ref, full) || strcmp(list[i].platform, plat))
			continue;
		if (!strstr(list[i].envs, env))
			snprintf(list[i].envs + strlen(list[i].envs),
			         sizeof(list[i].envs) - strlen(list[i].envs), ",%s", env);
		list[i].copy_only &= b->kind != DOCKERFILE_BASE_FROM;
		return;
	}
	if (*n >= MAX_BASES)
		return;
	snprintf(list[*n].ref, sizeof(list[*n].ref), "%s", full);
	list[*n].parsed = r;
	snprintf(list[*n].platform, sizeof(list[*n].platform), "%s", plat);
	snprintf(list[*n].envs, sizeof(list[*n].envs), "%s", env);
	list[*n].copy_only = b->kind != DOCKERFILE_BASE_FROM;
	(*n)++;
}

static int env_args(const struct config_env *e, char ***ret)
{
	char **argv = calloc(e->n_build_args + 1, sizeof(char *));

	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_build_args; i++)
		if (asprintf(&argv[i], "%s=%s", e->build_args[i].key, e->build_args[i].value) < 0) {
			argv[i] = NULL;
			for (size_t j = 0; j < i; j++)
				free(argv[j]);
			free(argv);
			return -ENOMEM;
		}
	*ret = argv;
	return 0;
}

static int resolve_env(const struct dockerfile *df, const struct config_project *p,
                       const struct config_env *e, const char *platform, struct base_use *list,
                       size_t *n, char *err, size_t errlen)
{
	struct dockerfile_resolved *res = NULL;
	char **args = NULL;
	struct dockerfile_opts o = {
	        .target = e->target, .last_stage = !e->target, .platform = platform};
	int r = env_args(e, &args);

	if (r < 0)
		return r;
	o.build_args = (const char *const *)args;
	r = dockerfile_resolve(df, &o, &res, err, errlen);
	for (size_t i = 0; args[i]; i++)
		free(args[i]);
	free(args);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res->n_bases; i++)
		add_use(list, n, p, e->name, &res->bases[i], platform);
	for (size_t i = 0; i < res->n_deps; i++)
		add_use(list, n, p, e->name, &res->deps[i], platform);
	dockerfile_resolved_free(res);
	return 0;
}

/* Reads and parses p's Dockerfile; path receives its location for messages. */
static int load(const struct config_project *p, struct dockerfile **ret, char *path, size_t plen,
                char *err, size_t errlen)
{
	char *text = NULL, why[256] = "";
	size_t len = 0;
	int r;

	if (p->dockerfile[0] == '/')
		snprintf(path, plen, "%s", p->dockerfile);
	else
		snprintf(path, plen, "%s/%s", p->context, p->dockerfile);
	r = read_file(path, &text, &len, err, errlen);
	if (r < 0)
		return r;
	r = dockerfile_parse(text, len, ret, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	free(text);
	return r;
}

int bases_final(const struct config_project *p, const struct config_env *e, const char *platform,
                char *ret_ref, size_t len, char *err, size_t errlen)
{
	char path[4096], **args = NULL;
	struct dockerfile *df = NULL;
	struct dockerfile_resolved *res = NULL;
	struct dockerfile_opts o = {
	        .target = e->target, .last_stage = !e->target, .platform = platform};
	struct image_ref ref;
	size_t k;
	int r = load(p, &df, path, sizeof(path), err, errlen);

	if (r == 0)
		r = env_args(e, &args);
	if (r == 0) {
		o.build_args = (const char *const *)args;
		r = dockerfile_resolve(df, &o, &res, err, errlen);
	}
	if (r == 0) {
		for (k = res->target; res->stages[k].base_stage >= 0;)
			k = (size_t)res->stages[k].base_stage;
		if (res->stages[k].base_unset || ref_parse(res->stages[k].base, &ref, NULL) < 0)
			r = -ENOENT; /* scratch, or not a usable name */
	}
	if (r == 0) {
		ref_tag_name_only(&ref);
		r = ref_string(&ref, ret_ref, len) < 0 ? -ENOSPC : 0;
	}
	for (size_t i = 0; args && args[i]; i++)
		free(args[i]);
	free(args);
	dockerfile_resolved_free(res);
	dockerfile_free(df);
	return r;
}

int bases_refusal(const struct config_project *p, enum dockerfile_builder b, char *why, size_t len)
{
	char path[4096], err[256];
	struct dockerfile *df = NULL;
	const char *reason;
	int line = 0, r = load(p, &df, path, sizeof(path), err, sizeof(err));

	if (r < 0) {
		snprintf(why, len, "%s", err);
		return r;
	}
	reason = dockerfile_refusal(df, b, &line);
	if (reason)
		snprintf(why, len, "%s:%d: %s", path, line, reason);
	dockerfile_free(df);
	return reason ? 1 : 0;
}

/* BuildKit's "build-arg:BUILDKIT_SYNTAX": it takes over the directive (dockerd 20.10.24:
 * "failed with build-arg:BUILDKIT_SYNTAX = ..."), up to the first space of its trimmed value. */
static const char *syntax_arg(const struct config_env *e, size_t *ret_len)
{
	for (size_t i = 0; i < e->n_build_args; i++) {
		const char *v = e->build_args[i].value;
		if (strcmp(e->build_args[i].key, "BUILDKIT_SYNTAX"))
			continue;
		v += strspn(v, " \t\r\n");
		*ret_len = strcspn(v, " \t\r\n");
		return v;
	}
	return NULL;
}

int bases_frontend(const struct config_project *p, const struct config_env *e,
                   enum dockerfile_builder b, char *ret_image, size_t len, char *why, size_t whylen)
{
	char path[4096];
	struct dockerfile *df = NULL;
	const char *image;
	size_t n = 0;
	int line = 0, r;

	if ((b == DOCKERFILE_BUILDKIT_0_8 || b == DOCKERFILE_BUILDKIT) &&
	    (image = syntax_arg(e, &n))) {
		snprintf(ret_image, len, "%.*s", (int)n, image);
		snprintf(why, whylen, "build arg BUILDKIT_SYNTAX of environment %s", e->name);
		return 1;
	}
	if ((r = load(p, &df, path, sizeof(path), why, whylen)) < 0)
		return r;
	image = dockerfile_frontend(df, b, &line);
	if (image) {
		snprintf(ret_image, len, "%s", image);
		snprintf(why, whylen, "%s:%d (# syntax=)", path, line);
	}
	dockerfile_free(df);
	return image ? 1 : 0;
}

int bases_of_project(const struct config_project *p, const char *platform, struct base_use **ret,
                     size_t *ret_n, char *err, size_t errlen)
{
	char path[4096], why[256] = "";
	struct dockerfile *df = NULL;
	struct base_use *list = NULL;
	size_t n = 0;
	int r = load(p, &df, path, sizeof(path), err, errlen);

	if (r < 0)
		return r;
	/* not zeroed: add_use fills an entry whole before counting it (zeroing 512 entries
	 * per project was most of the start-up time at 10,000 projects) */
	list = malloc(MAX_BASES * sizeof(*list));
	if (!list) {
		dockerfile_free(df);
		return -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < p->n_envs; i++) {
		r = resolve_env(df, p, &p->envs[i], platform, list, &n, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "%s (environment %s): %s", path, p->envs[i].name,
			         why);
	}
	if (r == 0) {
		*ret = list;
		*ret_n = n;
		list = NULL;
	}
	free(list);
	dockerfile_free(df);
	return r;
}

int bases_follow(const struct config_project *p, const struct config_env *e, const char *platform,
                 struct follow_base *ret, char *err, size_t errlen)
{
	char path[4096], **args = NULL;
	struct dockerfile *df = NULL;
	int r = load(p, &df, path, sizeof(path), err, errlen);

	if (r == 0)
		r = env_args(e, &args);
	if (r == 0)
		r = follow_find(df, (const char *const *)args, e->target, platform, ret, err,
		                errlen);
	for (size_t i = 0; args && args[i]; i++)
		free(args[i]);
	free(args);
	dockerfile_free(df);
	return r;
}
