/*
 * config_check — the semantic checks of refit.yaml that span several keys
 * (engine and registry forms, requires, unique names, the listen address),
 * run by the schema walk in config.c with the YAML node for positions.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "config_impl.h"
#include "ref.h"
#include "sshurl.h"
#include "window.h"

/* The value node of key in mapping n, or n itself when absent (for positions). */
const yaml_node_t *config_child(struct ctx *x, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return n;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = config_scalar(yaml_document_get_node(x->doc, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(x->doc, p->value);
	}
	return n;
}

static bool has_prefix(const char *s, const char *p)
{
	return s && !strncmp(s, p, strlen(p));
}

/* The address and the files reach ssh's command line: only what it takes verbatim. */
static void check_ssh_engine(struct ctx *x, const yaml_node_t *n, const struct config_engine *e)
{
	struct sshurl u;
	char err[200];

	if (sshurl_parse(e->host, &u, err, sizeof(err)) < 0)
		config_add_err(x, config_child(x, n, "host"), "host: %s", err);
	if (e->tls_ca || e->tls_cert || e->tls_key)
		config_add_err(x, n, "engine: tls_* are for tcp:// engines, not ssh://");
	if (e->ssh_key && sshurl_check_file(e->ssh_key) < 0)
		config_add_err(x, config_child(x, n, "ssh_key"),
		               "ssh_key: no spaces, quotes, '%%', or a leading '~' or '-'");
	if (e->ssh_known_hosts && sshurl_check_file(e->ssh_known_hosts) < 0)
		config_add_err(x, config_child(x, n, "ssh_known_hosts"),
		               "ssh_known_hosts: no spaces, quotes, '%%', or a leading '~' or '-'");
}

void config_check_engine(struct ctx *x, const yaml_node_t *n, void *elem)
{
	struct config_engine *e = elem;

	if (!e->host)
		return;
	if (has_prefix(e->host, "unix://")) {
		if (e->host[7] != '/')
			config_add_err(x, config_child(x, n, "host"),
			               "host: unix:// needs an absolute path");
	} else if (has_prefix(e->host, "tcp://")) {
		if (!e->host[6])
			config_add_err(x, config_child(x, n, "host"),
			               "host: tcp:// needs host:port");
		if ((e->tls_cert != NULL) != (e->tls_key != NULL))
			config_add_err(x, n, "engine: tls_cert and tls_key go together");
	} else if (has_prefix(e->host, "ssh://")) {
		check_ssh_engine(x, n, e);
	} else {
		config_add_err(x, config_child(x, n, "host"),
		               "host: '%s' must start with unix://, tcp:// or ssh://", e->host);
	}
	if (!has_prefix(e->host, "ssh://") && (e->ssh_key || e->ssh_known_hosts))
		config_add_err(x, config_child(x, n, e->ssh_key ? "ssh_key" : "ssh_known_hosts"),
		               "engine: ssh_key and ssh_known_hosts are for ssh:// engines");
}

void config_check_registry(struct ctx *x, const yaml_node_t *n, void *elem)
{
	struct config_registry *r = elem;

	if (r->host && (strchr(r->host, '/') || strchr(r->host, ' ')))
		config_add_err(x, config_child(x, n, "host"),
		               "host: '%s' must be a registry host[:port], without scheme or path",
		               r->host);
	if ((r->username_file != NULL) != (r->password_file != NULL))
		config_add_err(x, n, "registry: username_file and password_file go together");
}

void config_check_notify(struct ctx *x, const yaml_node_t *n, void *elem)
{
	static const char *const known[] = {"built",     "pushed",   "promoted", "failed",
	                                    "recovered", "outdated", "advisory", NULL};
	struct config_notify *w = elem;

	if (w->webhook && !has_prefix(w->webhook, "https://") && !has_prefix(w->webhook, "http://"))
		config_add_err(x, config_child(x, n, "webhook"),
		               "webhook: must be an https:// or http:// URL");
	for (size_t i = 0; w->events && w->events[i]; i++) {
		size_t k = 0;
		while (known[k] && strcmp(known[k], w->events[i]))
			k++;
		if (!known[k])
			config_add_err(
			        x, config_child(x, n, "events"),
			        "events: unknown event '%s' (built, pushed, promoted, failed, "
			        "recovered, outdated, advisory)",
			        w->events[i]);
	}
	for (size_t i = 0; i < w->n_headers; i++) {
		const char *k = w->headers[i].key, *v = w->headers[i].value;
		if (!*k ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		              "!#$%&'*+-.^_`|~") != strlen(k))
			config_add_err(x, config_child(x, n, "headers"),
			               "headers: '%s' is not an HTTP header name", k);
		else if (strpbrk(v, "\r\n"))
			config_add_err(x, config_child(x, n, "headers"),
			               "headers: the value of %s must be one line", k);
		else if (!strcasecmp(k, "Content-Type") || !strncasecmp(k, "X-Refit-", 8))
			config_add_err(x, config_child(x, n, "headers"),
			               "headers: %s is set by refit", k);
	}
}

void config_check_feed(struct ctx *x, const yaml_node_t *n, void *elem)
{
	struct config_feed *f = elem;

	if (f->url && !has_prefix(f->url, "https://") && !has_prefix(f->url, "http://") &&
	    !has_prefix(f->url, "file://"))
		config_add_err(x, config_child(x, n, "url"),
		               "url: '%s' must be https://, http:// or file://", f->url);
}

/* Environment names become tag components: keep them tag-safe and short. */
/* window: parsed here; its zone is read by config_files.c (config_load_checked). */
static void check_window(struct ctx *x, const yaml_node_t *n, struct config_env *e)
{
	char err[160];

	if (!e->window_text)
		return;
	e->window = calloc(1, sizeof(*e->window));
	if (!e->window) {
		config_oom(x, n);
		return;
	}
	if (window_parse(e->window_text, e->window, err, sizeof(err)) < 0) {
		config_add_err(x, config_child(x, n, "window"), "window: '%s': %s", e->window_text,
		               err);
		free(e->window);
		e->window = NULL;
	}
}

void config_check_env(struct ctx *x, const yaml_node_t *n, void *elem)
{
	struct config_env *e = elem;
	size_t len = e->name ? strlen(e->name) : 0;

	if (e->name && (len == 0 || len > 32 ||
	                strspn(e->name, "abcdefghijklmnopqrstuvwxyz"
	                                "0123456789_-") != len))
		config_add_err(x, n, "environment '%s': names are 1-32 characters of a-z 0-9 _ -",
		               e->name);
	if (e->check && !e->check[0])
		config_add_err(x, config_child(x, n, "check"),
		               "check: the command must not be empty");
	check_window(x, n, e);
}

static ssize_t env_index(const struct config_project *p, const char *name)
{
	for (size_t i = 0; i < p->n_envs; i++)
		if (p->envs[i].name && !strcmp(p->envs[i].name, name))
			return (ssize_t)i;
	return -1;
}

/*
 * The image is a repository refit tags per environment: a valid reference (the
 * parser `refitctl ref` uses), without a tag or digest of its own.
 */
static void check_image(struct ctx *x, const yaml_node_t *n, const char *image)
{
	const yaml_node_t *at = config_child(x, n, "image");
	struct image_ref r;
	const char *why = NULL;

	if (!image)
		return;
	if (ref_parse(image, &r, &why) < 0)
		config_add_err(x, at, "image: '%s' is not a valid image reference: %s", image,
		               why ? why : "invalid");
	else if (r.tag[0] || r.digest[0])
		config_add_err(x, at,
		               "image: '%s' names a %s; give the repository alone, refit tags "
		               "it per environment",
		               image, r.digest[0] ? "digest" : "tag");
}

/* The context is absolute (the daemon's working directory is /); the Dockerfile
 * is a path inside it. */
static void check_paths(struct ctx *x, const yaml_node_t *n, const struct config_project *p)
{
	const char *df = p->dockerfile;

	if (p->context && p->context[0] != '/')
		config_add_err(x, config_child(x, n, "context"),
		               "context: '%s' must be an absolute path", p->context);
	if (df && (df[0] == '/' || !strcmp(df, "..") || !strncmp(df, "../", 3) ||
	           strstr(df, "/../") || (strlen(df) >= 3 && !strcmp(df + strlen(df) - 3, "/.."))))
		config_add_err(x, config_child(x, n, "dockerfile"),
		               "dockerfile: '%s' must be a path inside the context", df);
}

static void trim(char **s)
{
	char *end;

	*s += strspn(*s, " \t");
	end = *s + strlen(*s);
	while (end > *s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
}

/*
 * "evidence" in requires (alone or beside an environment: "test, evidence") asks for the
 * signature and attestations before promotion; what remains is the environment's name.
 */
static void split_requires(struct ctx *x, const yaml_node_t *n, struct config_env *e)
{
	char *copy, *tok, *save = NULL, *env = NULL;

	if (!e->requires || !(copy = strdup(e->requires)))
		return;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		trim(&tok);
		if (!strcmp(tok, "evidence"))
			e->requires_evidence = true;
		else if (env || !*tok)
			config_add_err(x, n,
			               "environment '%s': requires names one environment "
			               "(and/or evidence), not '%s'",
			               e->name ? e->name : "?", e->requires);
		else
			env = tok;
	}
	free(e->requires);
	e->requires = env ? strdup(env) : NULL;
	free(copy);
}

/* requires must name an environment declared earlier: builds run in order. */
void config_check_project(struct ctx *x, const yaml_node_t *n, void *elem)
{
	struct config_project *p = elem;
	const yaml_node_t *envs = config_child(x, n, "environments");
	size_t len = p->name ? strlen(p->name) : 0;

	check_image(x, n, p->image);
	check_paths(x, n, p);

	if (p->name &&
	    (len > 64 || strspn(p->name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != len))
		config_add_err(x, config_child(x, n, "name"),
		               "name: '%s' must be 1-64 characters of a-z 0-9 . _ -", p->name);
	for (size_t i = 0; i < p->n_secrets; i++) {
		const char *id = p->secrets[i].key;
		if (!*id || strlen(id) > 128 ||
		    strspn(id,
		           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		            strlen(id))
			config_add_err(
			        x, config_child(x, n, "secrets"),
			        "secrets: id '%s' must be 1-128 characters of A-Z a-z 0-9 . _ -",
			        id);
	}
	if (envs != n && envs->type == YAML_MAPPING_NODE && p->n_envs == 0)
		config_add_err(x, envs, "environments: at least one environment is needed");
	for (size_t i = 0; i < p->n_envs; i++) {
		split_requires(x, envs, &p->envs[i]);
		p->envs[i].requires_evidence |= p->requires_evidence;
	}
	for (size_t i = 0; i < p->n_envs; i++) {
		const struct config_env *e = &p->envs[i];
		ssize_t r;
		if (!e->requires || !e->name)
			continue;
		r = env_index(p, e->requires);
		if (r < 0 || (size_t)r >= i)
			config_add_err(x, envs, "environment '%s' requires '%s', which is not %s",
			               e->name, e->requires,
			               r < 0 ? "defined" : "declared before it");
		if (env_index(p, e->name) != (ssize_t)i)
			config_add_err(x, envs, "environment '%s' is defined twice", e->name);
	}
	if (x->deep)
		config_check_project_files(x, n, p);
}

static void check_listen(struct ctx *x, const yaml_node_t *n, const char *l)
{
	const char *colon = strrchr(l, ':');

	if (has_prefix(l, "unix:")) {
		if (l[5] != '/')
			config_add_err(x, n, "listen: unix: needs an absolute path");
		return;
	}
	if (!strcmp(l, "systemd"))
		return;
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) > 65535)
		config_add_err(x, n,
		               "listen: '%s' must be host:port, [ipv6]:port, unix:/path or systemd",
		               l);
}

/* Each project name once (a map, not a comparison of every pair: 10,000 projects). */
static void check_unique_projects(struct ctx *x, const yaml_node_t *projects,
                                  const struct config *c)
{
	struct strmap seen = {0};
	size_t at;

	for (size_t i = 0; i < c->n_projects; i++) {
		const char *name = c->projects[i].name;
		if (!name)
			continue;
		if (strmap_get(&seen, name, &at))
			config_add_err(x, projects, "project '%s' is defined twice", name);
		else if (strmap_put(&seen, name, i) < 0)
			config_oom(x, projects);
	}
	strmap_done(&seen);
}

void config_check_top(struct ctx *x, const yaml_node_t *n, void *elem)
{
	struct config *c = elem;
	const yaml_node_t *projects = config_child(x, n, "projects");

	check_listen(x, config_child(x, n, "listen"), c->listen);
	for (size_t i = 0; i < c->n_projects && !c->signing.key_file; i++)
		for (size_t j = 0; j < c->projects[i].n_envs; j++)
			if (c->projects[i].envs[j].requires_evidence) {
				config_add_err(x, projects,
				               "project '%s': environment '%s' requires evidence, "
				               "which needs signing: { key_file: ... }",
				               c->projects[i].name, c->projects[i].envs[j].name);
				break;
			}
	check_unique_projects(x, projects, c);
	for (size_t i = 0; i < c->n_registries; i++)
		for (size_t j = 0; j < i; j++)
			if (c->registries[i].host && c->registries[j].host &&
			    !strcmp(c->registries[i].host, c->registries[j].host))
				config_add_err(x, config_child(x, n, "registries"),
				               "registry '%s' is listed twice",
				               c->registries[i].host);
	if (x->deep)
		config_check_top_files(x, n, c);
}

/* With no engines configured, the local Docker socket is the one engine. */
int config_default_engine(struct config *c)
{
	if (c->n_engines)
		return 0;
	c->engines = calloc(1, sizeof(*c->engines));
	if (!c->engines || !(c->engines->host = strdup("unix:///var/run/docker.sock")))
		return -ENOMEM;
	c->engines->max_builds = 2;
	c->n_engines = 1;
	return 0;
}
