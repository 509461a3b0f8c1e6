/*
 * config_files — the checks of refit.yaml that look at the files it names:
 * contexts, Dockerfiles, their stages and ARGs, secret and credential files.
 * Run only by config_load_checked (refitd at start, on reload and with
 * --check-config), never by config_parse: the fuzzer and refitctl read no
 * file through the configuration. Access is checked as this process, which
 * is the daemon's user when refitd runs under its unit.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_impl.h"
#include "dfsyntax.h"
#include "dockerfile.h"
#include "fileread.h"
#include "follow.h"
#include "suggest.h"
#include "tzif.h"
#include "window.h"

#define DOCKERFILE_READ_MAX (4u << 20)
#define ZONE_READ_MAX       (1u << 20)

/* refitd.service has ProtectHome=yes: these trees are empty for the daemon. */
static const char *hidden_tree(const char *path)
{
	static const char *const trees[] = {"/home/", "/root/", "/run/user/", NULL};

	for (size_t i = 0; trees[i]; i++)
		if (!strncmp(path, trees[i], strlen(trees[i])))
			return trees[i];
	return NULL;
}

/* The context is a directory this process can list and read. */
static bool check_context(struct ctx *x, const yaml_node_t *n, const char *dir)
{
	const yaml_node_t *at = config_child(x, n, "context");
	struct stat st;

	if (stat(dir, &st) < 0) {
		config_add_problem(x, at, "context: %s: %s", dir, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		config_add_problem(x, at, "context: %s is not a directory", dir);
		return false;
	}
	if (access(dir, R_OK | X_OK) < 0) {
		config_add_problem(x, at, "context: %s is not readable by uid %u: %s", dir,
		                   (unsigned)geteuid(), strerror(errno));
		return false;
	}
	if (hidden_tree(dir))
		config_add_warning(x, at,
		                   "context: %s is under %s, which refitd.service hides "
		                   "(ProtectHome=yes); move it or relax ProtectHome",
		                   dir, hidden_tree(dir));
	return true;
}

/* Reads and parses the project's Dockerfile; NULL after adding the problem. */
static struct dockerfile *load_dockerfile(struct ctx *x, const yaml_node_t *n,
                                          const struct config_project *p)
{
	const yaml_node_t *at = config_child(x, n, "dockerfile");
	struct dockerfile *df = NULL;
	char path[4096], err[256], why[128];
	char *text = NULL;
	size_t len = 0;
	int r, line;

	if (at == n) /* the default Dockerfile: point at the context */
		at = config_child(x, n, "context");
	if (snprintf(path, sizeof(path), "%s/%s", p->context, p->dockerfile) >= (int)sizeof(path)) {
		config_add_problem(x, at, "dockerfile: the path is too long");
		return NULL;
	}
	r = fileread_small(path, DOCKERFILE_READ_MAX, &text, &len, NULL);
	if (r < 0) {
		config_add_problem(x, at, "dockerfile: %s: %s", path,
		                   fileread_error(r, why, sizeof(why), DOCKERFILE_READ_MAX));
		return NULL;
	}
	r = dockerfile_parse(text, len, &df, err, sizeof(err));
	free(text);
	if (r < 0 && sscanf(err, "line %d:", &line) == 1 && strchr(err, ':'))
		config_add_problem(x, at, "dockerfile: %s:%d: %s", path, line,
		                   strchr(err, ':') + 2);
	else if (r < 0)
		config_add_problem(x, at, "dockerfile: %s: %s", path, err);
	return r < 0 ? NULL : df;
}

/* Whether an ARG instruction of df declares name ("NAME" or "NAME=default"). */
static bool declares_arg(const struct dockerfile *df, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < dockerfile_instr_count(df); i++) {
		const struct dfsyntax_node *in = dockerfile_instr(df, i, NULL);
		if (!in || strcmp(in->keyword, "arg"))
			continue;
		for (size_t a = 0; a < in->n_args; a++)
			if (!strncmp(in->args[a], name, len) &&
			    (in->args[a][len] == '\0' || in->args[a][len] == '='))
				return true;
	}
	return false;
}

/* Builder-provided ARGs need no declaration to be accepted. */
static bool predefined_arg(const char *name)
{
	static const char *const proxies[] = {"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY",
	                                      "NO_PROXY",   "ALL_PROXY",   NULL};

	for (size_t i = 0; proxies[i]; i++)
		if (!strcasecmp(name, proxies[i]))
			return true;
	return !strncmp(name, "BUILDKIT_", 9);
}

/* The node of environment i in the environments mapping (for positions). */
static const yaml_node_t *env_node(struct ctx *x, const yaml_node_t *n, const char *name)
{
	return config_child(x, config_child(x, n, "environments"), name);
}

static const char *stage_at(size_t i, const void *arg)
{
	const struct dockerfile_resolved *all = arg;

	return all->stages[i].name ? all->stages[i].name : "";
}

/* The target is not a stage: say which stages there are, and the closest. */
static void no_such_target(struct ctx *x, const yaml_node_t *at, const struct dockerfile *df,
                           const char *target, const char *err)
{
	struct dockerfile_opts o = {0};
	struct dockerfile_resolved *all = NULL;
	char names[256] = "";
	const char *close;
	size_t len = 0;

	if (dockerfile_resolve(df, &o, &all, NULL, 0) < 0) {
		config_add_problem(x, at, "target: %s", err);
		return;
	}
	for (size_t i = 0; i < all->n_stages && len < sizeof(names); i++)
		if (all->stages[i].name)
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
			                        len ? ", " : "", all->stages[i].name);
	close = suggest_closest(target, all->n_stages, stage_at, all);
	if (!names[0])
		config_add_problem(x, at, "target: '%s': the Dockerfile names no stage", target);
	else if (close)
		config_add_problem(x, at, "target: no stage '%s' (did you mean '%s'? stages: %s)",
		                   target, close, names);
	else
		config_add_problem(x, at, "target: no stage '%s' (stages: %s)", target, names);
	dockerfile_resolved_free(all);
}

/* follow: set: a FROM of the environment's build has its version tag in an ARG. */
static void check_follow(struct ctx *x, const yaml_node_t *at, const struct dockerfile *df,
                         const struct config_env *e)
{
	const char *args[DOCKERFILE_MAX_ARGS + 1] = {0};
	char kv[64][256], why[1024];
	struct follow_base fb;
	size_t n = 0;

	if (e->follow == TAGVER_OFF)
		return;
	for (size_t i = 0; i < e->n_build_args && n < 64; i++, n++) {
		snprintf(kv[n], sizeof(kv[n]), "%s=%s", e->build_args[i].key,
		         e->build_args[i].value);
		args[n] = kv[n];
	}
	if (follow_find(df, args, e->target, NULL, &fb, why, sizeof(why)) < 0)
		config_add_err(x, config_child(x, at, "follow"),
		               "follow: no FROM of environment %s has its version tag in an ARG "
		               "(%s)",
		               e->name, why);
}

static void check_env(struct ctx *x, const yaml_node_t *n, const struct dockerfile *df,
                      const struct config_env *e)
{
	const yaml_node_t *at = env_node(x, n, e->name);
	struct dockerfile_opts o = {.target = e->target};
	struct dockerfile_resolved *res = NULL;
	char err[256];

	if (e->target && dockerfile_resolve(df, &o, &res, err, sizeof(err)) < 0) {
		if (strstr(err, "could not be found"))
			no_such_target(x, config_child(x, at, "target"), df, e->target, err);
		else
			config_add_problem(x, config_child(x, at, "target"), "target: %s", err);
	}
	dockerfile_resolved_free(res);
	check_follow(x, at, df, e);
	for (size_t i = 0; i < e->n_build_args; i++)
		if (!declares_arg(df, e->build_args[i].key) &&
		    !predefined_arg(e->build_args[i].key))
			config_add_warning(x, config_child(x, at, "build_args"),
			                   "build_args: %s is not declared by an ARG in the "
			                   "Dockerfile, so the build ignores it",
			                   e->build_args[i].key);
}

/* A *_file setting names a regular file this process can read. */
static void check_readable(struct ctx *x, const yaml_node_t *at, const char *key, const char *file)
{
	char path[4096];
	struct stat st;

	if (!file)
		return;
	if (file[0] != '/' && !getenv("CREDENTIALS_DIRECTORY")) {
		config_add_warning(
		        x, at,
		        "%s: '%s' is looked up in $CREDENTIALS_DIRECTORY, which only the "
		        "unit's LoadCredential= sets: not checked here",
		        key, file);
		return;
	}
	if (config_resolve_path(file, path, sizeof(path)) < 0) {
		config_add_problem(x, at, "%s: the path is too long", key);
		return;
	}
	if (stat(path, &st) < 0 || access(path, R_OK) < 0)
		config_add_problem(x, at, "%s: %s: %s", key, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		config_add_problem(x, at, "%s: %s is not a regular file", key, path);
}

/*
 * The rules of a window's zone, from $TZDIR or /usr/share/zoneinfo, read once per
 * load: the daemon keeps them with the configuration. An unknown zone is an
 * error (the load fails): a window that cannot be computed would never open.
 */
static void load_zone(struct ctx *x, const yaml_node_t *at, struct config_env *e)
{
	const char *dir = getenv("TZDIR");
	char path[4096], why[128];
	char *data = NULL;
	size_t len = 0;
	int r;

	if (!dir || dir[0] != '/')
		dir = "/usr/share/zoneinfo";
	if (snprintf(path, sizeof(path), "%s/%s", dir, e->window->zone) >= (int)sizeof(path)) {
		config_add_err(x, at, "window: zone %s: the path is too long", e->window->zone);
		return;
	}
	r = fileread_small(path, ZONE_READ_MAX, &data, &len, NULL);
	if (r == -ENOENT && !strcmp(e->window->zone, "UTC"))
		r = tzif_parse_posix("UTC0", &e->tz); /* no tzdata installed: UTC needs none */
	else if (r == 0)
		r = tzif_parse(data, len, &e->tz);
	else
		fileread_error(r, why, sizeof(why), ZONE_READ_MAX);
	free(data);
	if (r == -ENOENT || r == -EACCES || r == -EFBIG || r == -EBADFD)
		config_add_err(x, at, "window: unknown time zone '%s' (%s: %s)", e->window->zone,
		               path, why);
	else if (r < 0)
		config_add_err(x, at, "window: time zone '%s' (%s): %s", e->window->zone, path,
		               r == -EINVAL ? "not a TZif file" : strerror(-r));
}

void config_check_project_files(struct ctx *x, const yaml_node_t *n, const struct config_project *p)
{
	struct dockerfile *df;

	for (size_t i = 0; i < p->n_envs; i++)
		if (p->envs[i].window && p->envs[i].name)
			load_zone(x, config_child(x, env_node(x, n, p->envs[i].name), "window"),
			          &p->envs[i]);

	for (size_t i = 0; i < p->n_secrets; i++)
		check_readable(x, config_child(x, config_child(x, n, "secrets"), p->secrets[i].key),
		               "secrets", p->secrets[i].value);
	if (!p->context || p->context[0] != '/' || !check_context(x, n, p->context))
		return;
	df = load_dockerfile(x, n, p);
	if (!df)
		return;
	for (size_t i = 0; i < p->n_envs; i++)
		if (p->envs[i].name)
			check_env(x, n, df, &p->envs[i]);
	dockerfile_free(df);
}

/* The node of element i of the sequence under key (n itself when absent). */
static const yaml_node_t *item(struct ctx *x, const yaml_node_t *n, const char *key, size_t i)
{
	const yaml_node_t *seq = config_child(x, n, key);

	if (seq->type != YAML_SEQUENCE_NODE ||
	    (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) <= i)
		return seq;
	return yaml_document_get_node(x->doc, seq->data.sequence.items.start[i]);
}

void config_check_top_files(struct ctx *x, const yaml_node_t *n, const struct config *c)
{
	check_readable(x, config_child(x, n, "api_token_file"), "api_token_file",
	               c->api_token_file);
	check_readable(x, config_child(x, config_child(x, n, "signing"), "key_file"), "key_file",
	               c->signing.key_file);
	for (size_t i = 0; i < c->n_registries; i++) {
		const yaml_node_t *r = item(x, n, "registries", i);
		check_readable(x, config_child(x, r, "username_file"), "username_file",
		               c->registries[i].username_file);
		check_readable(x, config_child(x, r, "password_file"), "password_file",
		               c->registries[i].password_file);
	}
	for (size_t i = 0; i < c->n_notify; i++)
		check_readable(x, config_child(x, item(x, n, "notify", i), "secret_file"),
		               "secret_file", c->notify[i].secret_file);
	for (size_t i = 0; i < c->n_engines; i++) {
		const yaml_node_t *e = item(x, n, "engines", i);
		check_readable(x, config_child(x, e, "tls_ca"), "tls_ca", c->engines[i].tls_ca);
		check_readable(x, config_child(x, e, "tls_cert"), "tls_cert",
		               c->engines[i].tls_cert);
		check_readable(x, config_child(x, e, "tls_key"), "tls_key", c->engines[i].tls_key);
		check_readable(x, config_child(x, e, "ssh_key"), "ssh_key", c->engines[i].ssh_key);
		check_readable(x, config_child(x, e, "ssh_known_hosts"), "ssh_known_hosts",
		               c->engines[i].ssh_known_hosts);
	}
}
