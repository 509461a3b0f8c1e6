/*
 * dockerfile — from BuildKit's syntax tree to stages: the instruction-level
 * checks of BuildKit's instructions package that matter to refit (unknown
 * instructions, instructions before FROM, FROM's shape and stage names,
 * ONBUILD triggers), the global ARGs, COPY --from / RUN --mount from=
 * references, and the features the classic builder lacks.
 * Everything is allocated from the syntax tree's arena.
 */
#include "dockerfile.h"

#include "arena.h"
#include "dfsyntax.h"
#include "dockerfile_impl.h"
#include "shellword.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const df_platform_args[8] = {"TARGETPLATFORM", "TARGETOS",      "TARGETARCH",
                                         "TARGETVARIANT",  "BUILDPLATFORM", "BUILDOS",
                                         "BUILDARCH",      "BUILDVARIANT"};

static const char known[] = "add\0arg\0cmd\0copy\0entrypoint\0env\0expose\0from\0healthcheck\0"
                            "label\0maintainer\0onbuild\0run\0shell\0stopsignal\0user\0volume\0"
                            "workdir\0";

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int line,
                                                      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "line %d: %s", line, msg);
	return -EINVAL;
}

static bool is_known(const char *kw)
{
	for (const char *p = known; *p; p += strlen(p) + 1)
		if (!strcmp(p, kw))
			return true;
	return false;
}

static void upper(const char *s, char *buf, size_t size)
{
	size_t i = 0;

	for (; s[i] && i + 1 < size; i++)
		buf[i] = (char)toupper((unsigned char)s[i]);
	buf[i] = '\0';
}

int df_flag(const struct dfsyntax_node *n, const char *name, const char **ret, char *msg,
            size_t msglen)
{
	size_t len = strlen(name);

	*ret = NULL;
	for (size_t i = 0; i < n->n_flags; i++) {
		const char *f = n->flags[i] + 2;
		if (strncmp(f, name, len) || (f[len] != '=' && f[len]))
			continue;
		if (*ret || !f[len]) {
			snprintf(msg, msglen,
			         *ret ? "Duplicate flag specified: %s"
			              : "missing a value on flag: %s",
			         name);
			return -EINVAL;
		}
		*ret = f + len + 1;
	}
	return 0;
}

/* The checks of BuildKit's ParseInstruction that refit relies on. */
static int check_node(const struct dfsyntax_node *n, bool sub, char *err, size_t errlen)
{
	char up[32];
	int line = n->start_line;

	upper(n->keyword, up, sizeof(up));
	if (!is_known(n->keyword))
		return fail(err, errlen, line, "unknown instruction: %s", up);
	if (sub && (!strcmp(n->keyword, "onbuild")))
		return fail(err, errlen, line,
		            "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if (sub && (!strcmp(n->keyword, "from") || !strcmp(n->keyword, "maintainer")))
		return fail(err, errlen, line, "%s isn't allowed as an ONBUILD trigger", up);
	if (!strcmp(n->keyword, "onbuild"))
		return n->sub ? check_node(n->sub, true, err, errlen)
		              : fail(err, errlen, line, "ONBUILD requires at least one argument");
	if ((!strcmp(n->keyword, "arg") || !strcmp(n->keyword, "env") ||
	     !strcmp(n->keyword, "label")) &&
	    !n->n_args)
		return fail(err, errlen, line, "%s requires at least one argument", up);
	if ((!strcmp(n->keyword, "copy") || !strcmp(n->keyword, "add")) && n->n_args < 2)
		return fail(err, errlen, line,
		            "%s requires at least two arguments, but only one was provided. "
		            "Destination could not be determined.",
		            up);
	if ((!strcmp(n->keyword, "user") || !strcmp(n->keyword, "workdir")) && n->n_args != 1)
		return fail(err, errlen, line, "%s requires exactly one argument", up);
	if (!strcmp(n->keyword, "shell") && !n->json)
		return fail(err, errlen, line, "SHELL requires the arguments to be in JSON form");
	for (size_t i = 0; !strcmp(n->keyword, "arg") && i < n->n_args; i++)
		if (n->args[i][0] == '=')
			return fail(err, errlen, line, "ARG names can not be blank");
	return 0;
}

static bool valid_stage_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("-_.", *s)))
			return false;
	return true;
}

static int add_stage(struct dockerfile *df, const struct dfsyntax_node *n, char *err, size_t errlen)
{
	struct df_stage *st = &df->stages[df->n_stages];
	char msg[128];

	if (n->n_args != 1 && (n->n_args != 3 || strcasecmp(n->args[1], "as")))
		return fail(err, errlen, n->start_line,
		            "FROM requires either one or three arguments");
	for (size_t i = 0; i < n->n_flags; i++)
		if (strncmp(n->flags[i], "--platform", 10) ||
		    (n->flags[i][10] && n->flags[i][10] != '='))
			return fail(err, errlen, n->start_line, "unknown flag: %s",
			            n->flags[i] + 2);
	if (df_flag(n, "platform", &st->raw_platform, msg, sizeof(msg)))
		return fail(err, errlen, n->start_line, "%s", msg);
	if (st->raw_platform && !*st->raw_platform)
		st->raw_platform = NULL; /* --platform= is no platform (BuildKit) */
	st->from = n;
	st->raw_base = n->args[0];
	st->line = n->start_line;
	if (n->n_args == 3) {
		char *name = arena_strndup(df->syn->arena, n->args[2], strlen(n->args[2]));
		if (!name)
			return -ENOMEM;
		for (char *c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!valid_stage_name(name))
			return fail(err, errlen, n->start_line,
			            "invalid name for build stage: \"%s\", name can't start with a "
			            "number or contain symbols",
			            n->args[2]);
		st->name = name;
	}
	df->n_stages++;
	return 0;
}

static int add_meta(struct dockerfile *df, const struct dfsyntax_node *n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n->n_args; i++) {
		struct df_meta *m = &df->meta[df->n_meta++];
		const char *eq = strchr(n->args[i], '=');
		size_t klen = eq ? (size_t)(eq - n->args[i]) : strlen(n->args[i]);
		if (!klen)
			return fail(err, errlen, n->start_line, "ARG names can not be blank");
		if (!(m->key = arena_strndup(df->syn->arena, n->args[i], klen)))
			return -ENOMEM;
		m->value = eq ? eq + 1 : NULL;
		m->line = n->start_line;
	}
	return 0;
}

/* Go's encoding/csv for one record: fields split at ',', "quoted" fields
 * with "" for a quote. Calls fn(field, len) for each; -EINVAL on bad quotes. */
static int csv_fields(const char *s, int (*fn)(const char *, size_t, void *), void *arg)
{
	char field[4096];
	int rc = 0;

	for (;;) {
		size_t n = 0;
		if (*s == '"') {
			for (s++;; s++) {
				if (!*s)
					return -EINVAL;
				if (*s == '"' && s[1] != '"')
					break;
				if (*s == '"')
					s++;
				if (n + 1 >= sizeof(field))
					return -E2BIG;
				field[n++] = *s;
			}
			if (*++s && *s != ',')
				return -EINVAL;
		} else {
			for (; *s && *s != ','; s++) {
				if (*s == '"')
					return -EINVAL;
				if (n + 1 >= sizeof(field))
					return -E2BIG;
				field[n++] = *s;
			}
		}
		field[n] = '\0';
		if ((rc = fn(field, n, arg)))
			return rc;
		if (!*s++)
			return 0;
	}
}

struct mount_scan {
	struct dockerfile *df;
	const struct dfsyntax_node *n;
	int stage;
	bool have; /* this --mount named a from= already: a later one wins */
};

static int mount_field(const char *f, size_t len, void *arg)
{
	struct mount_scan *ms = arg;

	if (len < 5 || strncasecmp(f, "from=", 5))
		return 0;
	if (ms->have)
		ms->df->n_deps--;
	ms->have = len > 5;
	if (len == 5)
		return 0;
	struct df_dep *d = &ms->df->deps[ms->df->n_deps];
	if (!(d->from = arena_strndup(ms->df->syn->arena, f + 5, len - 5)))
		return -ENOMEM;
	d->line = ms->n->start_line;
	d->stage = ms->stage;
	d->kind = DOCKERFILE_BASE_MOUNT;
	ms->df->n_deps++;
	return 0;
}

static int add_deps(struct dockerfile *df, const struct dfsyntax_node *n, int stage, char *err,
                    size_t errlen)
{
	struct mount_scan ms = {.df = df, .n = n, .stage = stage};
	const char *from;
	char msg[128];

	if (!strcmp(n->keyword, "copy")) {
		if (df_flag(n, "from", &from, msg, sizeof(msg)))
			return fail(err, errlen, n->start_line, "%s", msg);
		if (from && *from)
			df->deps[df->n_deps++] =
			        (struct df_dep){from, n->start_line, stage, DOCKERFILE_BASE_COPY};
		return 0;
	}
	for (size_t i = 0; !strcmp(n->keyword, "run") && i < n->n_flags; i++) {
		if (strncmp(n->flags[i], "--mount=", 8))
			continue;
		ms.have = false;
		int rc = csv_fields(n->flags[i] + 8, mount_field, &ms);
		if (rc == -EINVAL || rc == -E2BIG)
			return fail(err, errlen, n->start_line,
			            "failed to parse csv mounts: %.200s", n->flags[i] + 8);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- what the classic builder cannot do ---- */

/* Keeps the first reason of a kind: *reason and *line, in df's arena. */
__attribute__((format(printf, 5, 6))) static void
note(struct dockerfile *df, const char **reason, int *ret_line, int line, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (*reason)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*reason = arena_strndup(df->syn->arena, msg, strlen(msg));
	*ret_line = line;
}

#define note_buildkit(df, line, ...) note(df, &(df)->bk_reason, &(df)->bk_line, line, __VA_ARGS__)
#define note_new(df, line, ...)      note(df, &(df)->new_reason, &(df)->new_line, line, __VA_ARGS__)

static int ssh_field(const char *f, size_t len, void *arg)
{
	bool *ssh = arg;

	(void)len;
	if (strcasecmp(f, "type=ssh"))
		return 0;
	*ssh = true;
	return 1; /* found: stop */
}

/* Flags of Dockerfile frontends after 1.2 (BuildKit 0.8, dockerd 20.10, Podman 4.3). */
static void newer_flags(struct dockerfile *df, const struct dfsyntax_node *n, const char *up)
{
	static const char newer[] = "link\0parents\0exclude\0checksum\0keep-git-dir\0security\0";
	bool ssh = false;

	for (size_t i = 0; i < n->n_flags; i++) {
		const char *name = n->flags[i] + 2;
		for (const char *f = newer; *f; f += strlen(f) + 1)
			if (!strncmp(name, f, strlen(f)) &&
			    (!name[strlen(f)] || name[strlen(f)] == '='))
				note_new(df, n->start_line, "%s --%s", up, f);
		if (!strcmp(n->keyword, "run") && !strncmp(name, "mount=", 6))
			csv_fields(name + 6, ssh_field, &ssh);
	}
	if (ssh)
		note(df, &df->ssh_reason, &df->ssh_line, n->start_line,
		     "RUN --mount=type=ssh: refit forwards no SSH agent to builds");
	if (n->n_heredocs)
		note_new(df, n->start_line, "%s with a heredoc (<<%s)", up, n->heredocs[0].name);
}

static void buildkit_node(struct dockerfile *df, const struct dfsyntax_node *n)
{
	static const char run_flags[] = "mount\0network\0security\0device\0";
	static const char copy_flags[] = "chmod\0link\0parents\0exclude\0checksum\0keep-git-dir\0"
	                                 "unpack\0";
	const char *set = !strcmp(n->keyword, "run")                                  ? run_flags
	                  : !strcmp(n->keyword, "copy") || !strcmp(n->keyword, "add") ? copy_flags
	                                                                              : "";
	char up[16];

	upper(n->keyword, up, sizeof(up));
	newer_flags(df, n, up);
	if (n->n_heredocs)
		note_buildkit(df, n->start_line, "%s with a heredoc (<<%s)", up,
		              n->heredocs[0].name);
	for (size_t i = 0; i < n->n_flags; i++)
		for (const char *f = set; *f; f += strlen(f) + 1) {
			size_t k = strlen(f);
			const char *name = n->flags[i] + 2;
			if (!strncmp(name, f, k) && (!name[k] || name[k] == '='))
				note_buildkit(df, n->start_line, "%s --%s", up, f);
		}
}

struct ref_scan {
	const struct dockerfile *df;
	size_t upto;      /* global ARGs [0, upto) are declared */
	const bool *uses; /* per global ARG: its default needs a platform ARG */
	const char *hit;  /* the platform ARG needed */
};

static const char *ref_lookup(const char *name, size_t len, void *arg)
{
	struct ref_scan *rs = arg;

	for (size_t j = rs->upto; j-- > 0;) {
		const struct df_meta *m = &rs->df->meta[j];
		if (m->value && strlen(m->key) == len && !memcmp(m->key, name, len)) {
			if (rs->uses[j] && !rs->hit)
				rs->hit = "a global ARG default";
			return NULL;
		}
	}
	for (size_t i = 0; i < 8 && !rs->hit; i++)
		if (strlen(df_platform_args[i]) == len && !memcmp(df_platform_args[i], name, len))
			rs->hit = df_platform_args[i];
	return NULL;
}

static const char *platform_ref(struct ref_scan *rs, const char *word)
{
	struct shellword_opts o = {
	        .escape = rs->df->syn->escape, .skip_unset = true, .lookup = ref_lookup, .arg = rs};
	struct shellword_result r;

	rs->hit = NULL;
	if (word && !shellword_expand(word, strlen(word), &o, &r, NULL, 0))
		shellword_result_done(&r);
	return rs->hit;
}

/* FROM lines that use BuildKit's automatic platform ARGs, which the classic
 * builder leaves empty (unless a global ARG gives them a default). */
static int buildkit_platform_args(struct dockerfile *df)
{
	bool *uses = calloc(df->n_meta + 1, sizeof(*uses));
	struct ref_scan rs = {df, 0, uses, NULL};
	const char *hit;

	if (!uses)
		return -ENOMEM;
	for (size_t j = 0; j < df->n_meta; j++) {
		rs.upto = j;
		uses[j] = platform_ref(&rs, df->meta[j].value) != NULL;
	}
	rs.upto = df->n_meta;
	for (size_t i = 0; i < df->n_stages; i++) {
		const struct df_stage *st = &df->stages[i];
		if ((hit = platform_ref(&rs, st->raw_base)) ||
		    (hit = platform_ref(&rs, st->raw_platform)))
			note_buildkit(df, st->line,
			              "FROM uses BuildKit's automatic platform ARG (%s)", hit);
	}
	free(uses);
	return 0;
}

/* ---- the walk ---- */

static int count_nodes(struct dockerfile *df, size_t *ret_meta, size_t *ret_deps)
{
	size_t stages = 0, meta = 0, deps = 0;

	for (size_t i = 0; i < df->syn->n_nodes; i++) {
		const struct dfsyntax_node *n = &df->syn->nodes[i];
		stages += !strcmp(n->keyword, "from");
		meta += !stages && !strcmp(n->keyword, "arg") ? n->n_args : 0;
		deps += !strcmp(n->keyword, "copy");
		for (size_t f = 0; !strcmp(n->keyword, "run") && f < n->n_flags; f++)
			deps += !strncmp(n->flags[f], "--mount=", 8);
	}
	if (stages > DOCKERFILE_MAX_STAGES || meta > DOCKERFILE_MAX_ARGS)
		return -E2BIG;
	df->stages = arena_alloc(df->syn->arena, (stages + 1) * sizeof(*df->stages));
	df->meta = arena_alloc(df->syn->arena, (meta + 1) * sizeof(*df->meta));
	df->deps = arena_alloc(df->syn->arena, (deps + 1) * sizeof(*df->deps));
	df->node_stage = arena_alloc(df->syn->arena, (df->syn->n_nodes + 1) * sizeof(int));
	*ret_meta = meta;
	*ret_deps = deps;
	return df->stages && df->meta && df->deps && df->node_stage ? 0 : -ENOMEM;
}

static int walk(struct dockerfile *df, char *err, size_t errlen)
{
	size_t meta, deps;
	int rc = count_nodes(df, &meta, &deps);

	if (rc == -E2BIG)
		snprintf(err, errlen, "more than %d stages or %d global ARGs",
		         DOCKERFILE_MAX_STAGES, DOCKERFILE_MAX_ARGS);
	for (size_t i = 0; !rc && i < df->syn->n_nodes; i++) {
		const struct dfsyntax_node *n = &df->syn->nodes[i];
		if ((rc = check_node(n, false, err, errlen)))
			break;
		if (!strcmp(n->keyword, "from")) {
			if (df->n_stages)
				df->stages[df->n_stages - 1].end = i;
			if (!(rc = add_stage(df, n, err, errlen)))
				df->stages[df->n_stages - 1].first = i + 1;
		} else if (!df->n_stages && !strcmp(n->keyword, "arg")) {
			rc = add_meta(df, n, err, errlen);
		} else if (!df->n_stages) {
			rc = fail(err, errlen, n->start_line, "no build stage in current context");
		} else {
			rc = add_deps(df, n, (int)df->n_stages - 1, err, errlen);
		}
		df->node_stage[i] = (int)df->n_stages - 1;
		buildkit_node(df, n);
	}
	if (!rc && !df->n_stages)
		rc = fail(err, errlen, 1, "no build stage in current context");
	if (rc)
		return rc;
	df->stages[df->n_stages - 1].end = df->syn->n_nodes;
	return buildkit_platform_args(df);
}

int dockerfile_parse(const char *text, size_t len, struct dockerfile **ret, char *err,
                     size_t errlen)
{
	struct dockerfile *df = calloc(1, sizeof(*df));
	char dummy[8];
	int rc;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!df)
		return -ENOMEM;
	if (!(rc = dfsyntax_parse(text, len, &df->syn, err, errlen)))
		rc = walk(df, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc) {
		dockerfile_free(df);
		return rc;
	}
	*ret = df;
	return 0;
}

const char *dockerfile_needs_buildkit(const struct dockerfile *df, int *ret_line)
{
	if (ret_line)
		*ret_line = df->bk_line;
	return df->bk_reason;
}

const char *dockerfile_refusal(const struct dockerfile *df, enum dockerfile_builder b,
                               int *ret_line)
{
	const char *why = df->ssh_reason;
	int line = df->ssh_line;

	if (!why && b == DOCKERFILE_CLASSIC) {
		why = df->bk_reason;
		line = df->bk_line;
	} else if (!why && (b == DOCKERFILE_PODMAN ||
	                    (b == DOCKERFILE_BUILDKIT_0_8 && !df->syn->syntax_v08))) {
		/* a # syntax= frontend parses the file instead of BuildKit 0.8's own */
		why = df->new_reason;
		line = df->new_line;
	}
	if (ret_line)
		*ret_line = why ? line : 0;
	return why;
}

static const char *const builder_names[] = {"classic", "buildkit-0.8", "buildkit", "podman"};

int dockerfile_builder_of(const char *name)
{
	for (size_t i = 0; i < sizeof(builder_names) / sizeof(builder_names[0]); i++)
		if (!strcmp(name, builder_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *dockerfile_builder_name(enum dockerfile_builder b)
{
	return (size_t)b < sizeof(builder_names) / sizeof(builder_names[0]) ? builder_names[b]
	                                                                    : "unknown";
}

const char *dockerfile_syntax(const struct dockerfile *df)
{
	return df->syn->syntax;
}

const char *dockerfile_frontend(const struct dockerfile *df, enum dockerfile_builder b,
                                int *ret_line)
{
	const char *image = NULL;
	int line = 0;

	if (b == DOCKERFILE_BUILDKIT_0_8) {
		image = df->syn->syntax_v08;
		line = df->syn->syntax_v08_line;
	} else if (b == DOCKERFILE_BUILDKIT) {
		image = df->syn->syntax;
		line = df->syn->syntax_line;
	}
	if (ret_line)
		*ret_line = line;
	return image;
}

size_t dockerfile_instr_count(const struct dockerfile *df)
{
	return df->syn->n_nodes;
}

const struct dfsyntax_node *dockerfile_instr(const struct dockerfile *df, size_t i, int *ret_stage)
{
	if (i >= df->syn->n_nodes)
		return NULL;
	if (ret_stage)
		*ret_stage = df->node_stage[i];
	return &df->syn->nodes[i];
}

void dockerfile_free(struct dockerfile *df)
{
	if (!df)
		return;
	dfsyntax_free(df->syn);
	free(df);
}
