/*
 * config — table-driven YAML configuration.
 *
 * The YAML document is loaded with libyaml's document API, then walked with
 * one schema per mapping. Values are parsed by type into the fields the
 * schema names by offset, so adding a key is one table row. Semantic checks
 * that span several keys (requires, unique names) run after the walk.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config_impl.h"
#include "suggest.h"
#include "tzif.h"

#define CONFIG_MAX_BYTES  (4u << 20)
#define CONFIG_MAX_VISITS 200000 /* bounds alias fan-out ("billion laughs") */
#define CONFIG_MAX_ERRORS 100

enum opt_type {
	T_STR,      /* any string */
	T_PATH,     /* an absolute or relative file system path */
	T_DURATION, /* uint64_t ms */
	T_PERCENT,  /* unsigned 0..100 */
	T_INT,      /* int within [min,max] */
	T_BOOL,
	T_ENUM,    /* int: index into choices */
	T_STRLIST, /* char ** NULL-terminated */
	T_STRMAP,  /* struct config_kv * + count */
	T_LIST,    /* array of sub structs + count */
	T_MAP,     /* mapping name -> sub struct, array + count, key into name_off */
	T_STRUCT,  /* nested mapping into an embedded struct */
};

struct schema;

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	const char *def; /* default, parsed like input */
	long long min, max;
	const char *const *choices;
	const struct schema *sub;
	size_t count_off;
	bool required;
	const char *help;
};

struct schema {
	const char *what;
	size_t size;
	const struct opt *opts;
	size_t n_opts;
	size_t name_off; /* T_MAP: where the key goes */
	/* Semantic checks of one parsed element; n is its mapping node. */
	void (*check)(struct ctx *x, const yaml_node_t *n, void *elem);
};

static const char *const policy_choices[] = {"off", "warn", "fail", NULL};
static const char *const level_choices[] = {"error", "warning", "info", "debug", NULL};
static const char *const format_choices[] = {"text", "json", NULL};
static const char *const feed_types[] = {"osv", "alpine-secdb", "debian-tracker", NULL};
static const char *const builder_choices[] = {"auto", "buildkit", "classic", NULL};
static const char *const network_choices[] = {"default", "host", "none", NULL};
/* in the order of enum tagver_policy */
static const char *const outdated_choices[] = {"off", "patch", "minor", "major", NULL};
static const char *const follow_choices[] = {"off", "patch", "minor", NULL};

#define O(type, field) offsetof(type, field)
#define N(a)           (sizeof(a) / sizeof((a)[0]))

static const struct opt engine_opts[] = {
        {"host", T_STR, O(struct config_engine, host), NULL, 0, 0, NULL, NULL, 0, true,
         "unix:///path/docker.sock, tcp://host:port (TLS with tls_*), or "
         "ssh://user@host[:port][/remote.sock] (OpenSSH with ssh_*)"},
        {"max_builds", T_INT, O(struct config_engine, max_builds), "2", 1, 64, NULL, NULL, 0, false,
         "concurrent builds on this engine"},
        {"tls_ca", T_PATH, O(struct config_engine, tls_ca), NULL, 0, 0, NULL, NULL, 0, false,
         "CA bundle for tcp:// engines"},
        {"tls_cert", T_PATH, O(struct config_engine, tls_cert), NULL, 0, 0, NULL, NULL, 0, false,
         "client certificate for tcp:// engines"},
        {"tls_key", T_PATH, O(struct config_engine, tls_key), NULL, 0, 0, NULL, NULL, 0, false,
         "client key for tcp:// engines"},
        {"ssh_key", T_PATH, O(struct config_engine, ssh_key), NULL, 0, 0, NULL, NULL, 0, false,
         "private key file for ssh:// engines (default: the user's ssh keys)"},
        {"ssh_known_hosts", T_PATH, O(struct config_engine, ssh_known_hosts), NULL, 0, 0, NULL,
         NULL, 0, false,
         "known_hosts file the ssh:// engine's host key must be in (default: ~/.ssh/known_hosts)"},
        {"builder", T_ENUM, O(struct config_engine, builder), "auto", 0, 0, builder_choices, NULL,
         0, false,
         "auto (BuildKit on dockerd, Podman's own builder on Podman), buildkit or classic"},
};
static const struct schema engine_schema = {"engine",    sizeof(struct config_engine),
                                            engine_opts, N(engine_opts),
                                            0,           config_check_engine};

static const struct opt registry_opts[] = {
        {"host", T_STR, O(struct config_registry, host), NULL, 0, 0, NULL, NULL, 0, true,
         "registry host[:port]"},
        {"username_file", T_PATH, O(struct config_registry, username_file), NULL, 0, 0, NULL, NULL,
         0, false, "file holding the user name"},
        {"password_file", T_PATH, O(struct config_registry, password_file), NULL, 0, 0, NULL, NULL,
         0, false, "file holding the password or token (never logged)"},
        {"insecure", T_BOOL, O(struct config_registry, insecure), "false", 0, 0, NULL, NULL, 0,
         false, "allow plain HTTP to this registry"},
};
static const struct schema registry_schema = {
        "registry", sizeof(struct config_registry), registry_opts, N(registry_opts),
        0,          config_check_registry};

static const struct opt feed_opts[] = {
        {"name", T_STR, O(struct config_feed, name), NULL, 0, 0, NULL, NULL, 0, true, "feed name"},
        {"type", T_ENUM, O(struct config_feed, type), NULL, 0, 0, feed_types, NULL, 0, true,
         "osv, alpine-secdb or debian-tracker"},
        {"url", T_STR, O(struct config_feed, url), NULL, 0, 0, NULL, NULL, 0, true,
         "base URL (https://, http:// or file://)"},
};
static const struct schema feed_schema = {
        "feed", sizeof(struct config_feed), feed_opts, N(feed_opts), 0, config_check_feed};

static const struct opt env_opts[] = {
        {"target", T_STR, O(struct config_env, target), NULL, 0, 0, NULL, NULL, 0, false,
         "Dockerfile stage to build (default: the last)"},
        {"check", T_STRLIST, O(struct config_env, check), NULL, 0, 0, NULL, NULL, 0, false,
         "command run in a container from the new image; must exit 0"},
        {"requires", T_STR, O(struct config_env, requires), NULL, 0, 0, NULL, NULL, 0, false,
         "environment that must pass first in the same rebuild, and/or 'evidence': promoted "
         "only once signature and attestations are pushed (\"test, evidence\")"},
        {"build_args", T_STRMAP, O(struct config_env, build_args), NULL, 0, 0, NULL, NULL,
         O(struct config_env, n_build_args), false, "build arguments"},
        {"user_policy", T_ENUM, O(struct config_env, user_policy), NULL, 0, 0, policy_choices, NULL,
         0, false, "final USER is root: off, warn or fail (default fail for prod)"},
        {"check_timeout", T_DURATION, O(struct config_env, check_timeout_ms), "10m", 1000, 86400000,
         NULL, NULL, 0, false, "time limit of the check command"},
        {"window", T_STR, O(struct config_env, window_text), NULL, 0, 0, NULL, NULL, 0, false,
         "promotion window (\"Mon-Fri 02:00-05:00 Europe/Berlin\"): outside it the build is "
         "pushed under its stamp tag and IMAGE:ENV moves when the window opens"},
        {"urgent_advisories", T_BOOL, O(struct config_env, urgent_advisories), "false", 0, 0, NULL,
         NULL, 0, false, "a security rebuild of a fixable advisory promotes outside the window"},
        {"follow", T_ENUM, O(struct config_env, follow), "off", 0, 0, follow_choices, NULL, 0,
         false,
         "build with the newer value (patch or minor) of the ARG that makes up a FROM's "
         "version tag (FROM python:${PY}-slim): off, patch or minor"},
};
static const struct schema env_schema = {
        "environment", sizeof(struct config_env),  env_opts,
        N(env_opts),   O(struct config_env, name), config_check_env};

static const struct opt project_opts[] = {
        {"name", T_STR, O(struct config_project, name), NULL, 0, 0, NULL, NULL, 0, true,
         "project name"},
        {"context", T_PATH, O(struct config_project, context), NULL, 0, 0, NULL, NULL, 0, true,
         "build context directory"},
        {"dockerfile", T_PATH, O(struct config_project, dockerfile), "Dockerfile", 0, 0, NULL, NULL,
         0, false, "Dockerfile path relative to the context"},
        {"image", T_STR, O(struct config_project, image), NULL, 0, 0, NULL, NULL, 0, true,
         "image repository the builds are tagged and pushed as"},
        {"max_age", T_DURATION, O(struct config_project, max_age_ms), "7d", 60000, 31622400000LL,
         NULL, NULL, 0, false, "rebuild at least this often"},
        {"enabled", T_BOOL, O(struct config_project, enabled), "true", 0, 0, NULL, NULL, 0, false,
         "false: never rebuilt (its history and pending triggers are kept)"},
        {"keep_images", T_INT, O(struct config_project, keep_images), "3", 1, 100, NULL, NULL, 0,
         false, "local images kept per environment (older stamp tags are removed)"},
        {"environments", T_MAP, O(struct config_project, envs), NULL, 0, 0, NULL, &env_schema,
         O(struct config_project, n_envs), true, "environments in build order"},
        {"network", T_ENUM, O(struct config_project, network), "default", 0, 0, network_choices,
         NULL, 0, false, "network of RUN steps: default, host or none"},
        {"requires_evidence", T_BOOL, O(struct config_project, requires_evidence), "false", 0, 0,
         NULL, NULL, 0, false,
         "every environment is promoted only once its signature and attestations are pushed"},
        {"secrets", T_STRMAP, O(struct config_project, secrets), NULL, 0, 0, NULL, NULL,
         O(struct config_project, n_secrets), false,
         "RUN --mount=type=secret ids -> files holding them (read at build time, never stored)"},
        {"outdated", T_ENUM, O(struct config_project, outdated), "patch", 0, 0, outdated_choices,
         NULL, 0, false, "report newer tags of version-pinned bases: off, patch, minor or major"},
};
static const struct schema project_schema = {
        "project", sizeof(struct config_project), project_opts, N(project_opts),
        0,         config_check_project};

static const struct opt notify_opts[] = {
        {"webhook", T_STR, O(struct config_notify, webhook), NULL, 0, 0, NULL, NULL, 0, true,
         "URL receiving a JSON POST per event"},
        {"events", T_STRLIST, O(struct config_notify, events), NULL, 0, 0, NULL, NULL, 0, false,
         "events to send (built, pushed, promoted, failed, recovered); all when absent"},
        {"secret_file", T_PATH, O(struct config_notify, secret_file), NULL, 0, 0, NULL, NULL, 0,
         false, "file holding the key that signs each body (X-Refit-Signature: sha256=HMAC)"},
        {"headers", T_STRMAP, O(struct config_notify, headers), NULL, 0, 0, NULL, NULL,
         O(struct config_notify, n_headers), false,
         "extra HTTP headers sent with each delivery (values are never logged)"},
};
static const struct schema notify_schema = {"notify",    sizeof(struct config_notify),
                                            notify_opts, N(notify_opts),
                                            0,           config_check_notify};

static const struct opt poll_opts[] = {
        {"bases", T_DURATION, O(struct config, poll.bases_ms), "15m", 1000, 86400000, NULL, NULL, 0,
         false, "base digest poll interval"},
        {"feeds", T_DURATION, O(struct config, poll.feeds_ms), "1h", 60000, 604800000, NULL, NULL,
         0, false, "security feed poll interval"},
        {"jitter", T_PERCENT, O(struct config, poll.jitter_pct), "10%", 0, 50, NULL, NULL, 0, false,
         "random spread of each poll"},
        {"settle", T_DURATION, O(struct config, poll.settle_ms), "10m", 0, 86400000, NULL, NULL, 0,
         false, "how long a new digest must hold before it triggers"},
        {"engines", T_DURATION, O(struct config, poll.engines_ms), "30s", 1000, 3600000, NULL, NULL,
         0, false, "how often a reachable engine is checked"},
        {"tags", T_DURATION, O(struct config, poll.tags_ms), "6h", 60000, 604800000, NULL, NULL, 0,
         false, "how often the tags of version-pinned bases are listed"},
};
/* poll is embedded: its offsets are relative to struct config itself. */
static const struct schema poll_schema = {"poll", 0, poll_opts, N(poll_opts), 0, NULL};

static const struct opt api_opts[] = {
        {"cors_origins", T_STRLIST, O(struct config, api.cors_origins), NULL, 0, 0, NULL, NULL, 0,
         false, "origins browsers may call the API from (\"*\" = any); none by default"},
        {"max_connections", T_INT, O(struct config, api.max_connections), "256", 1, 10000, NULL,
         NULL, 0, false, "concurrent connections"},
        {"per_ip_connections", T_INT, O(struct config, api.per_ip_connections), "64", 1, 10000,
         NULL, NULL, 0, false, "concurrent connections from one address"},
        {"timeout", T_DURATION, O(struct config, api.timeout_ms), "30s", 1000, 3600000, NULL, NULL,
         0, false, "an idle or stalled connection is closed after this"},
        {"max_body", T_INT, O(struct config, api.max_body), "1048576", 1024, 67108864, NULL, NULL,
         0, false, "largest request body in bytes"},
        {"engine_grace", T_DURATION, O(struct config, api.engine_grace_ms), "5m", 1000, 86400000,
         NULL, NULL, 0, false, "an engine down this long makes /healthz say degraded"},
        {"rate_limit", T_INT, O(struct config, api.rate_limit), "0", 0, 1000000, NULL, NULL, 0,
         false, "requests per second from one client address, bursts of twice that; 0 = none"},
        {"auth_failure_limit", T_INT, O(struct config, api.auth_failure_limit), "1", 0, 10000, NULL,
         NULL, 0, false,
         "failed POST authorizations per second from one address (bursts of 10x) before its "
         "POSTs get 429; 0 = none"},
};
static const struct opt signing_opts[] = {
        {"key_file", T_PATH, O(struct config, signing.key_file), NULL, 0, 0, NULL, NULL, 0, false,
         "ECDSA P-256 private key (PEM) signing every pushed image and its attestations, "
         "cosign-compatible (never logged)"},
};
/* signing is embedded: its offsets are relative to struct config itself. */
static const struct schema signing_schema = {"signing", 0, signing_opts, N(signing_opts), 0, NULL};

/* api is embedded: its offsets are relative to struct config itself. */
static const struct schema api_schema = {"api", 0, api_opts, N(api_opts), 0, NULL};

static const struct opt top_opts[] = {
        {"state_dir", T_PATH, O(struct config, state_dir), "/var/lib/refit", 0, 0, NULL, NULL, 0,
         false, "state.db and logs/"},
        {"listen", T_STR, O(struct config, listen), "127.0.0.1:8787", 0, 0, NULL, NULL, 0, false,
         "REST endpoint: host:port, [v6]:port, unix:/path or systemd"},
        {"api_token_file", T_PATH, O(struct config, api_token_file), NULL, 0, 0, NULL, NULL, 0,
         false, "bearer token for POSTs; none = POSTs refused"},
        {"api", T_STRUCT, 0, NULL, 0, 0, NULL, &api_schema, 0, false, "REST API limits and CORS"},
        {"log_level", T_ENUM, O(struct config, log_level), "info", 0, 0, level_choices, NULL, 0,
         false, "error, warning, info or debug"},
        {"log_format", T_ENUM, O(struct config, log_format), "text", 0, 0, format_choices, NULL, 0,
         false, "text or json"},
        {"stop_timeout", T_DURATION, O(struct config, stop_timeout_ms), "2m", 0, 3600000, NULL,
         NULL, 0, false, "on SIGTERM: how long running rebuilds may finish (below TimeoutStopSec)"},
        {"retention", T_DURATION, O(struct config, retention_ms), "90d", 0, 3650LL * 86400000, NULL,
         NULL, 0, false, "build logs and inventories older than this go (0: kept for ever)"},
        {"engines", T_LIST, O(struct config, engines), NULL, 0, 0, NULL, &engine_schema,
         O(struct config, n_engines), false, "Docker-API engines (a build pool)"},
        {"registries", T_LIST, O(struct config, registries), NULL, 0, 0, NULL, &registry_schema,
         O(struct config, n_registries), false, "registry credentials and options"},
        {"poll", T_STRUCT, 0, NULL, 0, 0, NULL, &poll_schema, 0, false, "poll intervals"},
        {"signing", T_STRUCT, 0, NULL, 0, 0, NULL, &signing_schema, 0, false,
         "signatures and attestations of pushed images"},
        {"feeds", T_LIST, O(struct config, feeds), NULL, 0, 0, NULL, &feed_schema,
         O(struct config, n_feeds), false, "security feeds"},
        {"projects", T_LIST, O(struct config, projects), NULL, 0, 0, NULL, &project_schema,
         O(struct config, n_projects), false, "registered projects"},
        {"notify", T_LIST, O(struct config, notify), NULL, 0, 0, NULL, &notify_schema,
         O(struct config, n_notify), false, "webhooks"},
};
static const struct schema top_schema = {
        "configuration", sizeof(struct config), top_opts, N(top_opts), 0, config_check_top};

/* Appends "file:line:col: message" at node n (NULL: 1:1) to a list of lines. */
__attribute__((format(printf, 6, 0))) static void add_line(struct ctx *x, char ***lines,
                                                           size_t *n_lines, const yaml_node_t *n,
                                                           const char *kind, const char *fmt,
                                                           va_list ap)
{
	char msg[512], *line, **grown;

	if (*n_lines >= CONFIG_MAX_ERRORS)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (asprintf(&line, "%s:%zu:%zu: %s%s", x->file, n ? n->start_mark.line + 1 : 1,
	             n ? n->start_mark.column + 1 : 1, kind, msg) < 0) {
		x->oom = true;
		return;
	}
	grown = realloc(*lines, (*n_lines + 1) * sizeof(*grown));
	if (!grown) {
		free(line);
		x->oom = true;
		return;
	}
	*lines = grown;
	(*lines)[(*n_lines)++] = line;
}

void config_oom(struct ctx *x, const yaml_node_t *n)
{
	x->oom = true;
	config_add_err(x, n, "out of memory");
}

void config_add_err(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(x, &x->errs->lines, &x->errs->n, n, "", fmt, ap);
	va_end(ap);
}

void config_add_problem(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(x, &x->errs->problems, &x->errs->n_problems, n, "", fmt, ap);
	va_end(ap);
}

void config_add_warning(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(x, &x->errs->warnings, &x->errs->n_warnings, n, "warning: ", fmt, ap);
	va_end(ap);
}

const char *config_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *opt_name(size_t i, const void *arg)
{
	const struct schema *s = arg;

	return s->opts[i].name;
}

static void unknown_key(struct ctx *x, const yaml_node_t *k, const struct schema *s)
{
	const char *key = config_scalar(k);
	const char *best = suggest_closest(key, s->n_opts, opt_name, s);

	if (best)
		config_add_err(x, k, "unknown key '%s' in %s (did you mean '%s'?)", key, s->what,
		               best);
	else
		config_add_err(x, k, "unknown key '%s' in %s", key, s->what);
}

/* Parses a duration: a sequence of NUMBER UNIT with units ms s m h d w. */
int config_parse_duration(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *u;
		uint64_t ms;
	} units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
	             {"h", 3600000}, {"d", 86400000}, {"w", 604800000}};
	uint64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "0")) { /* zero needs no unit: "retention: 0" keeps everything */
		*ret_ms = 0;
		return 0;
	}
	while (*s) {
		char *end;
		size_t i;
		unsigned long long v;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || v > 1000000000ULL)
			return -ERANGE;
		for (i = 0; i < N(units); i++) {
			size_t ul = strlen(units[i].u);
			if (!strncmp(end, units[i].u, ul) && !isalpha((unsigned char)end[ul]))
				break;
		}
		if (i == N(units))
			return -EINVAL;
		total += v * units[i].ms;
		s = end + strlen(units[i].u);
	}
	*ret_ms = total;
	return 0;
}

/* Parses a byte size with an optional unit: B, KB/KiB, MB/MiB, GB/GiB. */
int config_parse_size(const char *s, uint64_t *ret_bytes)
{
	static const struct {
		const char *u;
		uint64_t mult;
	} units[] = {{"", 1},           {"B", 1},           {"K", 1024},        {"KB", 1000},
	             {"KiB", 1024},     {"M", 1 << 20},     {"MB", 1000000},    {"MiB", 1 << 20},
	             {"G", 1ULL << 30}, {"GB", 1000000000}, {"GiB", 1ULL << 30}};
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > (1ULL << 40))
		return -ERANGE;
	for (size_t i = 0; i < N(units); i++)
		if (!strcmp(end, units[i].u)) {
			*ret_bytes = v * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

static char *dup_or_oom(struct ctx *x, const yaml_node_t *n, const char *s)
{
	char *d = strdup(s);
	if (!d)
		config_oom(x, n);
	return d;
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*ret = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static void set_duration(struct ctx *x, const struct opt *o, const yaml_node_t *n, const char *s,
                         void *field)
{
	uint64_t ms;

	if (config_parse_duration(s, &ms) < 0)
		config_add_err(x, n, "%s: invalid duration '%s' (use e.g. 90s, 15m, 1h30m, 7d)",
		               o->name, s);
	else if ((long long)ms < o->min || (long long)ms > o->max)
		config_add_err(x, n, "%s: %s is out of range (%lld ms .. %lld ms)", o->name, s,
		               o->min, o->max);
	else
		*(uint64_t *)field = ms;
}

static void set_number(struct ctx *x, const struct opt *o, const yaml_node_t *n, const char *s,
                       void *field)
{
	char *end;
	long long v;
	size_t len = strlen(s);
	bool pct = o->type == T_PERCENT;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (pct && len > 0 && s[len - 1] == '%' && end == s + len - 1)
		end++;
	if (errno || end == s || *end) {
		config_add_err(x, n, "%s: '%s' is not %s", o->name, s,
		               pct ? "a percentage like 10%" : "an integer");
		return;
	}
	if (v < o->min || v > o->max) {
		config_add_err(x, n, "%s: %lld is out of range (%lld..%lld)", o->name, v, o->min,
		               o->max);
		return;
	}
	if (pct)
		*(unsigned *)field = (unsigned)v;
	else
		*(int *)field = (int)v;
}

static void set_enum(struct ctx *x, const struct opt *o, const yaml_node_t *n, const char *s,
                     void *field)
{
	char list[256] = "";

	for (int i = 0; o->choices[i]; i++) {
		if (!strcmp(s, o->choices[i])) {
			*(int *)field = i;
			return;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
		         o->choices[i]);
	}
	config_add_err(x, n, "%s: '%s' is not one of %s", o->name, s, list);
}

/* Stores the scalar s into field according to o->type. */
static void set_scalar(struct ctx *x, const struct opt *o, const yaml_node_t *n, const char *s,
                       void *field)
{
	bool b;

	switch (o->type) {
	case T_STR:
	case T_PATH:
		if (!*s) {
			config_add_err(x, n, "%s: must not be empty", o->name);
			return;
		}
		free(*(char **)field);
		*(char **)field = dup_or_oom(x, n, s);
		return;
	case T_DURATION:
		set_duration(x, o, n, s, field);
		return;
	case T_PERCENT:
	case T_INT:
		set_number(x, o, n, s, field);
		return;
	case T_BOOL:
		if (parse_bool(s, &b) < 0)
			config_add_err(x, n, "%s: '%s' is not a boolean (true or false)", o->name,
			               s);
		else
			*(bool *)field = b;
		return;
	case T_ENUM:
		set_enum(x, o, n, s, field);
		return;
	default:
		config_add_err(x, n, "%s: expected a %s, not a scalar", o->name,
		               o->type == T_STRLIST ? "list" : "mapping");
	}
}

static yaml_node_t *node(struct ctx *x, int idx)
{
	x->visits++;
	return yaml_document_get_node(x->doc, idx);
}

static void parse_mapping(struct ctx *x, const yaml_node_t *n, const struct schema *s, void *base);

static void parse_strlist(struct ctx *x, const struct opt *o, const yaml_node_t *n, void *field)
{
	char ***out = field;
	size_t cnt, i = 0;

	if (n->type == YAML_SCALAR_NODE) { /* a single string runs through the shell */
		const char *argv[] = {"/bin/sh", "-c", config_scalar(n), NULL};
		cnt = 3;
		*out = calloc(cnt + 1, sizeof(char *));
		if (!*out) {
			config_oom(x, n);
			return;
		}
		/* a failed copy is left out: the list stays NULL-terminated for free_strv */
		for (size_t k = 0; k < cnt; k++)
			if (((*out)[i] = dup_or_oom(x, n, argv[k])))
				i++;
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		config_add_err(x, n, "%s: expected a list of strings", o->name);
		return;
	}
	cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	*out = calloc(cnt + 1, sizeof(char *));
	if (!*out) {
		config_oom(x, n);
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = node(x, *it);
		if (!config_scalar(e))
			config_add_err(x, e, "%s: list items must be strings", o->name);
		else if (((*out)[i] = dup_or_oom(x, e, config_scalar(e))))
			i++;
	}
}

static void parse_strmap(struct ctx *x, const struct opt *o, const yaml_node_t *n, void *base)
{
	struct config_kv **out = (void *)((char *)base + o->off);
	size_t *count = (void *)((char *)base + o->count_off);
	size_t cap;

	if (n->type != YAML_MAPPING_NODE) {
		config_add_err(x, n, "%s: expected a mapping of names to strings", o->name);
		return;
	}
	cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	*out = calloc(cap ? cap : 1, sizeof(**out));
	if (!*out) {
		config_oom(x, n);
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(x, p->key), *v = node(x, p->value);
		if (!config_scalar(k) || !config_scalar(v)) {
			config_add_err(x, config_scalar(k) ? v : k,
			               "%s: keys and values must be strings", o->name);
			continue;
		}
		(*out)[*count].key = dup_or_oom(x, k, config_scalar(k));
		(*out)[*count].value = dup_or_oom(x, v, config_scalar(v));
		(*count)++;
	}
}

/* T_LIST (a sequence of mappings) and T_MAP (a mapping of name -> mapping). */
static void parse_array(struct ctx *x, const struct opt *o, const yaml_node_t *n, void *base)
{
	const struct schema *s = o->sub;
	bool is_map = o->type == T_MAP;
	void **arr = (void *)((char *)base + o->off);
	size_t *count = (void *)((char *)base + o->count_off), cap;

	if (n->type != (is_map ? YAML_MAPPING_NODE : YAML_SEQUENCE_NODE)) {
		config_add_err(x, n, "%s: expected a %s", o->name,
		               is_map ? "mapping of names to settings" : "list");
		return;
	}
	cap = is_map ? (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start)
	             : (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	*arr = calloc(cap ? cap : 1, s->size);
	if (!*arr) {
		config_oom(x, n);
		return;
	}
	for (size_t i = 0; i < cap; i++) {
		char *elem = (char *)*arr + i * s->size;
		yaml_node_t *v;
		if (is_map) {
			yaml_node_pair_t *p = n->data.mapping.pairs.start + i;
			yaml_node_t *k = node(x, p->key);
			v = node(x, p->value);
			if (!config_scalar(k)) {
				config_add_err(x, k, "%s: names must be strings", o->name);
				continue;
			}
			*(char **)(elem + s->name_off) = dup_or_oom(x, k, config_scalar(k));
		} else {
			v = node(x, n->data.sequence.items.start[i]);
		}
		(*count)++;
		parse_mapping(x, v, s, elem);
	}
}

static void apply_defaults(struct ctx *x, const struct schema *s, void *base)
{
	for (size_t i = 0; i < s->n_opts; i++) {
		const struct opt *o = &s->opts[i];
		if (o->def)
			set_scalar(x, o, NULL, o->def, (char *)base + o->off);
		else if (o->type == T_STRUCT)
			apply_defaults(x, o->sub, base);
		else if (o->type == T_ENUM)
			*(int *)((char *)base + o->off) = -1;
	}
}

static const struct opt *find_opt(const struct schema *s, const char *key)
{
	for (size_t i = 0; i < s->n_opts; i++)
		if (!strcmp(s->opts[i].name, key))
			return &s->opts[i];
	return NULL;
}

static void parse_value(struct ctx *x, const struct opt *o, const yaml_node_t *v, void *base)
{
	void *field = (char *)base + o->off;

	switch (o->type) {
	case T_STRLIST:
		parse_strlist(x, o, v, field);
		break;
	case T_STRMAP:
		parse_strmap(x, o, v, base);
		break;
	case T_LIST:
	case T_MAP:
		parse_array(x, o, v, base);
		break;
	case T_STRUCT:
		parse_mapping(x, v, o->sub, base);
		break;
	default:
		if (!config_scalar(v))
			config_add_err(x, v, "%s: expected a single value, not a %s", o->name,
			               v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
		else
			set_scalar(x, o, v, config_scalar(v), field);
	}
}

static void parse_mapping(struct ctx *x, const yaml_node_t *n, const struct schema *s, void *base)
{
	unsigned seen = 0; /* bit per option: duplicates and required keys */

	if (x->visits > CONFIG_MAX_VISITS)
		return;
	if (n->type != YAML_MAPPING_NODE) {
		config_add_err(x, n, "%s: expected a mapping of settings", s->what);
		return;
	}
	apply_defaults(x, s, base);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(x, p->key), *v = node(x, p->value);
		const struct opt *o = config_scalar(k) ? find_opt(s, config_scalar(k)) : NULL;
		if (!config_scalar(k)) {
			config_add_err(x, k, "keys must be plain strings");
			continue;
		}
		if (!o) {
			unknown_key(x, k, s);
			continue;
		}
		if (seen & (1u << (o - s->opts))) {
			config_add_err(x, k, "duplicate key '%s'", o->name);
			continue;
		}
		seen |= 1u << (o - s->opts);
		parse_value(x, o, v, base);
	}
	for (size_t i = 0; i < s->n_opts; i++)
		if (s->opts[i].required && !(seen & (1u << i)))
			config_add_err(x, n, "%s: missing required key '%s'", s->what,
			               s->opts[i].name);
	if (s->check && !x->oom)
		s->check(x, n, base);
}

static void load_error(struct ctx *x, const yaml_parser_t *p)
{
	yaml_node_t fake = {0};

	fake.start_mark = p->problem_mark;
	if (p->context)
		config_add_err(x, &fake, "YAML syntax error: %s %s", p->problem, p->context);
	else
		config_add_err(x, &fake, "YAML syntax error: %s",
		               p->problem ? p->problem : "unknown");
}

static int load_doc(struct ctx *x, const char *text, size_t len, struct config *c)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		load_error(x, &parser);
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	/* x lives in our caller but x->doc is only used until this function returns */
	x->doc = &doc; // cppcheck-suppress autoVariables
	root = yaml_document_get_root_node(&doc);
	if (!root) /* an empty file: every default */
		apply_defaults(x, &top_schema, c);
	else
		parse_mapping(x, root, &top_schema, c);
	if (x->visits > CONFIG_MAX_VISITS) {
		config_add_err(x, root, "document too complex (aliases expand beyond %d nodes)",
		               CONFIG_MAX_VISITS);
		r = -EINVAL;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	x->doc = NULL;
	return r;
}

static int index_projects(struct config *c);

static int parse_text(const char *name, const char *text, size_t len, bool deep,
                      struct config **ret, struct config_errors *errs)
{
	struct ctx x = {.file = name, .errs = errs, .deep = deep};
	struct config *c;
	size_t before = errs->n;
	int r;

	if (len > CONFIG_MAX_BYTES) {
		config_add_err(&x, NULL, "file too large (over %u bytes)", CONFIG_MAX_BYTES);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->refs = 1;
	r = load_doc(&x, text, len, c);
	if (r == 0 && x.oom)
		r = -ENOMEM;
	if (r == 0 && errs->n == before)
		r = config_default_engine(c);
	if (r == 0 && errs->n == before && !(c->path = strdup(name)))
		r = -ENOMEM;
	if (r == 0 && errs->n == before)
		r = index_projects(c);
	if (r < 0 || errs->n > before) {
		config_free(c);
		return r < 0 ? r : -EINVAL;
	}
	*ret = c;
	return 0;
}

int config_parse(const char *name, const char *text, size_t len, struct config **ret,
                 struct config_errors *errs)
{
	return parse_text(name, text, len, false, ret, errs);
}

static int load_file(const char *path, bool deep, struct config **ret, struct config_errors *errs)
{
	struct ctx x = {.file = path, .errs = errs, .deep = deep};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		config_add_err(&x, NULL, "cannot open: %s", strerror(errno));
		return -errno;
	}
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r < 0)
		config_add_err(&x, NULL, "read error");
	else
		r = parse_text(path, buf, len, deep, ret, errs);
	free(buf);
	return r;
}

int config_load(const char *path, struct config **ret, struct config_errors *errs)
{
	return load_file(path, false, ret, errs);
}

int config_load_checked(const char *path, struct config **ret, struct config_errors *errs)
{
	return load_file(path, true, ret, errs);
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void free_kvs(struct config_kv *kv, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(kv[k].key);
		free(kv[k].value);
	}
	free(kv);
}

static void free_project(struct config_project *p)
{
	free(p->name);
	free(p->context);
	free(p->dockerfile);
	free(p->image);
	for (size_t j = 0; j < p->n_envs; j++) {
		struct config_env *e = &p->envs[j];
		free(e->name);
		free(e->target);
		free(e->requires);
		free_strv(e->check);
		free_kvs(e->build_args, e->n_build_args);
		free(e->window_text);
		free(e->window);
		tz_free(e->tz);
	}
	free(p->envs);
	free_kvs(p->secrets, p->n_secrets);
}

struct config *config_ref(struct config *c)
{
	c->refs++;
	return c;
}

void config_free(struct config *c)
{
	if (!c || --c->refs > 0)
		return;
	strmap_done(&c->project_index);
	free(c->path);
	free(c->state_dir);
	free(c->listen);
	free(c->api_token_file);
	free(c->signing.key_file);
	for (size_t i = 0; i < c->n_engines; i++) {
		free(c->engines[i].host);
		free(c->engines[i].tls_ca);
		free(c->engines[i].tls_cert);
		free(c->engines[i].tls_key);
		free(c->engines[i].ssh_key);
		free(c->engines[i].ssh_known_hosts);
	}
	free(c->engines);
	for (size_t i = 0; i < c->n_registries; i++) {
		free(c->registries[i].host);
		free(c->registries[i].username_file);
		free(c->registries[i].password_file);
	}
	free(c->registries);
	for (size_t i = 0; i < c->n_feeds; i++) {
		free(c->feeds[i].name);
		free(c->feeds[i].url);
	}
	free(c->feeds);
	for (size_t i = 0; i < c->n_projects; i++)
		free_project(&c->projects[i]);
	free(c->projects);
	for (size_t i = 0; i < c->n_notify; i++) {
		free(c->notify[i].webhook);
		free_strv(c->notify[i].events);
		free(c->notify[i].secret_file);
		free_kvs(c->notify[i].headers, c->notify[i].n_headers);
	}
	free(c->notify);
	free_strv(c->api.cors_origins);
	free(c);
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

void config_errors_done(struct config_errors *errs)
{
	free_lines(errs->lines, errs->n);
	free_lines(errs->problems, errs->n_problems);
	free_lines(errs->warnings, errs->n_warnings);
	*errs = (struct config_errors){0};
}

const struct config_project *config_project_find(const struct config *c, const char *name)
{
	size_t i;

	if (c->project_index.n == c->n_projects) /* the index is built once the load worked */
		return strmap_get(&c->project_index, name, &i) ? &c->projects[i] : NULL;
	for (i = 0; i < c->n_projects; i++)
		if (!strcmp(c->projects[i].name, name))
			return &c->projects[i];
	return NULL;
}

/* The name index of a configuration that loaded (names are unique by then). */
static int index_projects(struct config *c)
{
	for (size_t i = 0; i < c->n_projects; i++)
		if (strmap_put(&c->project_index, c->projects[i].name, i) < 0)
			return -ENOMEM;
	return 0;
}

static void print_schema(const struct schema *s, const char *prefix)
{
	static const char *const tn[] = {"string",  "path", "duration", "percent",
	                                 "integer", "bool", "enum",     "list",
	                                 "map",     "list", "map",      "section"};
	char sub[128];

	for (size_t i = 0; i < s->n_opts; i++) {
		const struct opt *o = &s->opts[i];
		printf("%s%-16s %-9s %-16s %s\n", prefix, o->name, tn[o->type],
		       o->def ? o->def : (o->required ? "(required)" : "-"), o->help);
		if (o->sub) {
			snprintf(sub, sizeof(sub), "%s  ", prefix);
			print_schema(o->sub, sub);
		}
	}
}

void config_print_schema(void)
{
	print_schema(&top_schema, "");
}

int config_resolve_path(const char *path, char *buf, size_t len)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	int n;

	if (path[0] == '/' || !dir || !*dir)
		n = snprintf(buf, len, "%s", path);
	else
		n = snprintf(buf, len, "%s/%s", dir, path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
