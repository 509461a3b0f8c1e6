/*
 * lint — the rules listed in lint.h. Dockerfile findings are collected,
 * sorted by line and handed to the caller's callback; context findings go
 * out as they come, up to LINT_CONTEXT_PER_RULE per rule.
 */
#include "lint.h"

#include "array.h"
#include "dfsyntax.h"
#include "dockerfile.h"
#include "lint_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX   320
#define MAX_ITEMS 100000 /* findings of one Dockerfile */

struct item {
	size_t seq;
	int line;
	const char *rule;
	enum lint_severity severity;
	char message[MSG_MAX];
};

struct lint {
	const struct dockerfile *df;
	enum dockerfile_builder builder;
	struct dockerfile_resolved *r; /* every stage; NULL when it does not resolve */
	struct item *v;
	size_t n, cap;
	bool *pip_stage; /* per stage: a RUN pip installs */
	bool *pip_env;   /* per stage: ENV PIP_NO_CACHE_DIR is set */
	int rc;
};

const char *lint_severity_name(enum lint_severity s)
{
	return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" : "info";
}

__attribute__((format(printf, 5, 6))) static void add(struct lint *l, int line, const char *rule,
                                                      enum lint_severity sev, const char *fmt, ...)
{
	va_list ap;
	struct item *it;

	if (l->rc || (l->rc = ARRAY_GROW(l->v, l->cap, l->n, MAX_ITEMS)) < 0)
		return;
	it = &l->v[l->n];
	it->seq = l->n++;
	it->line = line;
	it->rule = rule;
	it->severity = sev;
	va_start(ap, fmt);
	vsnprintf(it->message, sizeof(it->message), fmt, ap);
	va_end(ap);
}

/* ---- FROM images ---- */

/* The last path component of an image reference, tag included. */
static const char *image_name(const char *image)
{
	const char *slash = strrchr(image, '/');

	return slash ? slash + 1 : image;
}

static void rule_tags(struct lint *l)
{
	for (size_t i = 0; i < l->r->n_bases; i++) {
		const struct dockerfile_base *b = &l->r->bases[i];
		const char *name = image_name(b->image), *tag = strchr(name, ':');
		if (strchr(b->image, '@'))
			continue;
		add(l, b->line, "RF002", LINT_INFO,
		    "%s is not pinned by digest: builds are not reproducible (refit records the "
		    "digest it built on)",
		    b->image);
		if (!tag)
			add(l, b->line, "RF003", LINT_WARNING,
			    "%s has no tag, which means :latest; name the version you test with",
			    b->image);
		else if (!strcmp(tag + 1, "latest"))
			add(l, b->line, "RF003", LINT_WARNING,
			    "%s uses :latest; name the version you test with", b->image);
	}
	for (size_t i = 0; i < l->r->n_stages; i++)
		if (l->r->stages[i].base_unset)
			add(l, l->r->stages[i].line, "RF016", LINT_WARNING,
			    "FROM %s: a variable in it has no value (declare the ARG with a "
			    "default "
			    "before the first FROM)",
			    l->r->stages[i].base);
}

static int root_stage(const struct dockerfile_resolved *r, size_t i)
{
	for (unsigned hops = 0; r->stages[i].base_stage >= 0 && hops < r->n_stages; hops++)
		i = (size_t)r->stages[i].base_stage;
	return r->stages[i].base_stage >= 0 ? -1 : (int)i;
}

static bool contains_ci(const char *s, const char *word)
{
	for (size_t n = strlen(word); *s; s++)
		if (!strncasecmp(s, word, n))
			return true;
	return false;
}

/* Python on Alpine: a python/pypy image, or pip used on top of it. */
static void rule_alpine_python(struct lint *l)
{
	size_t n = l->r->n_stages;
	bool *py = calloc(n + 1, sizeof(*py));

	if (!py) {
		l->rc = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int root = root_stage(l->r, i);
		if (root >= 0 && l->pip_stage[i])
			py[root] = true;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dockerfile_stage *st = &l->r->stages[i];
		const char *name = image_name(st->base);
		if (st->base_stage >= 0 || !contains_ci(name, "alpine"))
			continue;
		if (py[i] || !strncasecmp(name, "python", 6) || !strncasecmp(name, "pypy", 4))
			add(l, st->line, "RF012", LINT_WARNING,
			    "Python on %s: Alpine's musl cannot use PyPI's manylinux wheels, so "
			    "pip "
			    "compiles from source (slow, large images); prefer a -slim Debian base",
			    st->base);
	}
	free(py);
}

static bool is_root(const char *user)
{
	return !strcmp(user, "root") || !strcmp(user, "0") || !strncmp(user, "root:", 5) ||
	       !strncmp(user, "0:", 2);
}

static void rule_root(struct lint *l)
{
	const struct dockerfile_stage *st = &l->r->stages[l->r->n_stages - 1];

	if (!st->user)
		add(l, st->line, "RF001", LINT_ERROR,
		    "the final stage has no USER, so the image runs as root unless its base "
		    "image sets a user; add USER with a non-root user");
	else if (!st->user_unresolved && is_root(st->user))
		add(l, st->user_line, "RF001", LINT_ERROR,
		    "the final stage runs as root (USER %s); switch to a non-root user at the end",
		    st->user);
}

/* ---- instructions ---- */

static bool archive_or_url(const char *src)
{
	static const char *const ext[] = {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2",
	                                  ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst",
	                                  ".gz",  ".bz2",    ".xz",  ".zst",     NULL};
	size_t n = strlen(src);

	if (n >= 2 && (src[0] == '"' || src[0] == '\'') && src[n - 1] == src[0]) {
		char *unquoted = strndup(src + 1, n - 2); /* shell form keeps quotes */
		bool yes = unquoted && archive_or_url(unquoted);
		free(unquoted);
		return yes;
	}
	if (strstr(src, "://") || !strncmp(src, "git@", 4) || strchr(src, '$') ||
	    !strncmp(src, "<<", 2))
		return true;
	for (size_t i = 0; ext[i]; i++) {
		size_t k = strlen(ext[i]);
		if (n > k && !strcasecmp(src + n - k, ext[i]))
			return true;
	}
	return false;
}

static void rule_add(struct lint *l, const struct dfsyntax_node *n)
{
	for (size_t i = 0; i < n->n_flags; i++)
		if (!strncmp(n->flags[i], "--checksum", 10) ||
		    !strncmp(n->flags[i], "--keep-git-dir", 14) ||
		    !strncmp(n->flags[i], "--unpack", 8))
			return;
	for (size_t i = 0; i + 1 < n->n_args; i++)
		if (archive_or_url(n->args[i]))
			return;
	add(l, n->start_line, "RF004", LINT_WARNING,
	    "ADD of local files: use COPY (ADD also fetches URLs and unpacks archives, which "
	    "makes it surprising)");
}

static void rule_run(struct lint *l, const struct dfsyntax_node *n, int stage)
{
	struct run_facts f;
	int line = n->start_line;

	if ((l->rc = lint_run_facts(n, &f)))
		return;
	if (stage >= 0)
		l->pip_stage[stage] |= f.pip_install;
	if (f.apt_missing_yes)
		add(l, line, "RF005", LINT_WARNING,
		    "apt-get install without -y: the build waits for an answer nobody gives");
	if (f.apt_missing_no_rec)
		add(l, line, "RF006", LINT_INFO,
		    "apt-get install without --no-install-recommends pulls in packages you did not "
		    "ask for");
	if ((f.apt_install || f.apt_update) && !f.apt_lists_removed && !f.apt_cache_mount)
		add(l, line, "RF007", LINT_INFO,
		    "apt lists stay in the layer: end this RUN with rm -rf /var/lib/apt/lists/*");
	if (f.apt_upgrade)
		add(l, line, "RF008", LINT_WARNING,
		    "apt-get upgrade in a Dockerfile: rebuild on a patched base image instead "
		    "(what "
		    "refit does), so the packages match the base you pinned");
	if (f.pip_missing_no_cache && !f.pip_cache_mount && !(stage >= 0 && l->pip_env[stage]))
		add(l, line, "RF009", LINT_WARNING,
		    "pip install without --no-cache-dir keeps pip's download cache in the image");
	if (f.cd)
		add(l, line, "RF010", LINT_WARNING,
		    "cd in RUN: use WORKDIR, which later instructions see too");
}

/* Words of a variable name: split at _ - . and at camelCase humps. */
static bool name_has_word(const char *name, const char *const *words)
{
	char w[64];
	size_t n = 0;

	for (const char *p = name;; p++) {
		bool hump = n && islower((unsigned char)p[-1]) && isupper((unsigned char)*p);
		if (!isalnum((unsigned char)*p) || hump) {
			w[n] = '\0';
			for (size_t i = 0; n && words[i]; i++)
				if (!strcmp(w, words[i]))
					return true;
			n = 0;
		}
		if (!*p)
			return false;
		if (isalnum((unsigned char)*p) && n + 1 < sizeof(w))
			w[n++] = (char)tolower((unsigned char)*p);
	}
}

bool lint_secret_name(const char *name)
{
	static const char *const secret[] = {"password", "passwd",  "pass",       "secret",
	                                     "secrets",  "token",   "tokens",     "apikey",
	                                     "key",      "keys",    "credential", "credentials",
	                                     "auth",     "private", NULL};
	static const char *const benign[] = {"public",   "pub",     "gpg",  "pgp",  "file",
	                                     "path",     "dir",     "url",  "uri",  "name",
	                                     "id",       "type",    "host", "port", "user",
	                                     "username", "version", "warn", NULL};

	return name_has_word(name, secret) && !name_has_word(name, benign);
}

static void rule_secret_name(struct lint *l, const char *kw, const char *name, int line)
{
	if (lint_secret_name(name))
		add(l, line, "RF011", LINT_WARNING,
		    "%s %s looks like a secret: ENV and ARG values stay in the image's config or "
		    "history; use RUN --mount=type=secret",
		    kw, name);
}

static void rule_names(struct lint *l, const struct dfsyntax_node *n, int stage)
{
	bool env = !strcmp(n->keyword, "env");
	char key[256];

	for (size_t i = 0; i < n->n_args; i += env ? 3 : 1) {
		size_t k = env ? strlen(n->args[i]) : strcspn(n->args[i], "=");
		snprintf(key, sizeof(key), "%.*s", (int)k, n->args[i]);
		rule_secret_name(l, env ? "ENV" : "ARG", key, n->start_line);
		if (env && stage >= 0 && !strcmp(key, "PIP_NO_CACHE_DIR")) {
			char v[16];
			const char *raw = n->args[i + 1];
			size_t q = raw[0] == '"' || raw[0] == '\'';
			snprintf(v, sizeof(v), "%.*s", (int)(strlen(raw) - 2 * q), raw + q);
			l->pip_env[stage] = lint_truthy(v);
		}
	}
}

static void walk(struct lint *l)
{
	for (size_t i = 0; !l->rc && i < dockerfile_instr_count(l->df); i++) {
		int stage;
		const struct dfsyntax_node *n = dockerfile_instr(l->df, i, &stage);
		if (!strcmp(n->keyword, "onbuild") && n->sub)
			n = n->sub;
		if (!strcmp(n->keyword, "from") && l->r && stage >= 0 &&
		    l->r->stages[stage].base_stage >= 0)
			l->pip_env[stage] = l->pip_env[l->r->stages[stage].base_stage];
		else if (!strcmp(n->keyword, "add"))
			rule_add(l, n);
		else if (!strcmp(n->keyword, "run"))
			rule_run(l, n, stage);
		else if (!strcmp(n->keyword, "env") || !strcmp(n->keyword, "arg"))
			rule_names(l, n, stage);
	}
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	int c = strcmp(x->rule, y->rule);

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* RF018: a # syntax= frontend is an image the engine pulls and runs (BuildKit), or a line
 * the builder ignores (classic, Podman). Offline, lint cannot tell whether it can be had. */
static void rule_frontend(struct lint *l)
{
	const char *b = dockerfile_builder_name(l->builder);
	int line;
	const char *image = dockerfile_frontend(l->df, l->builder, &line);

	if (image)
		add(l, line, "RF018", LINT_WARNING,
		    "the %s builder parses this file with the frontend image \"%s\" (# syntax=): "
		    "the engine must be able to pull it; refitd checks that it is in the engine "
		    "or its registry before building, and refuses the build when it is not",
		    b, image);
	else if ((l->builder == DOCKERFILE_CLASSIC || l->builder == DOCKERFILE_PODMAN) &&
	         (image = dockerfile_frontend(l->df, DOCKERFILE_BUILDKIT, &line)))
		add(l, line, "RF018", LINT_INFO,
		    "the %s builder ignores # syntax=%s and parses the file itself", b, image);
}

static void rules(struct lint *l)
{
	char err[512] = "";
	int line = 0, off = 0;

	if (dockerfile_resolve(l->df, NULL, &l->r, err, sizeof(err))) {
		l->r = NULL;
		if (sscanf(err, "line %d: %n", &line, &off) != 1)
			off = 0;
		add(l, line, "RF000", LINT_ERROR, "%s", err + off);
	}
	walk(l);
	if (l->r && !l->rc) {
		rule_root(l);
		rule_tags(l);
		rule_alpine_python(l);
	}
	const char *why = dockerfile_needs_buildkit(l->df, &line);
	if (why && l->builder != DOCKERFILE_CLASSIC)
		add(l, line, "RF015", LINT_INFO,
		    "needs BuildKit (%s); refit builds it with BuildKit or Podman, docker's "
		    "classic "
		    "builder would refuse it",
		    why);
	why = dockerfile_refusal(l->df, l->builder, &line);
	if (why)
		add(l, line, "RF017", LINT_ERROR, "the %s builder cannot build this: %s",
		    dockerfile_builder_name(l->builder), why);
	rule_frontend(l);
}

int lint_dockerfile(const struct dockerfile *df, enum dockerfile_builder b, lint_report_cb cb,
                    void *arg)
{
	size_t stages = DOCKERFILE_MAX_STAGES + 1;
	struct lint l = {.df = df,
	                 .builder = b,
	                 .pip_stage = calloc(stages, sizeof(bool)),
	                 .pip_env = calloc(stages, sizeof(bool))};
	int rc;

	if (!l.pip_stage || !l.pip_env)
		l.rc = -ENOMEM;
	else
		rules(&l);
	if (!(rc = l.rc)) {
		if (l.n)
			qsort(l.v, l.n, sizeof(*l.v), cmp_item);
		for (size_t i = 0; i < l.n; i++) {
			struct lint_finding f = {l.v[i].line, NULL, l.v[i].rule, l.v[i].severity,
			                         l.v[i].message};
			cb(&f, arg);
		}
		rc = (int)l.n;
	}
	dockerfile_resolved_free(l.r);
	free(l.v);
	free(l.pip_stage);
	free(l.pip_env);
	return rc;
}

/* ---- the build context ---- */

struct lint_context {
	lint_report_cb cb;
	void *arg;
	size_t shown[2], hidden[2]; /* RF013, RF014 */
};

struct lint_context *lint_context_new(lint_report_cb cb, void *arg)
{
	struct lint_context *lc = calloc(1, sizeof(*lc));

	if (lc) {
		lc->cb = cb;
		lc->arg = arg;
	}
	return lc;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

static bool is_secret_file(const char *path, const char *base)
{
	static const char *const names[] = {
	        ".npmrc",           ".pypirc", ".netrc", ".git-credentials",
	        "credentials.json", "id_rsa",  "id_dsa", "id_ecdsa",
	        "id_ed25519",       ".envrc",  NULL};
	static const char *const ext[] = {".pem", ".key", ".p12", ".pfx", NULL};
	static const char *const templates[] = {".example", ".sample", ".template", ".dist", NULL};

	for (size_t i = 0; names[i]; i++)
		if (!strcmp(base, names[i]))
			return true;
	for (size_t i = 0; ext[i]; i++)
		if (ends_with_ci(base, ext[i]))
			return true;
	if (!strcmp(base, ".env") || !strncmp(base, ".env.", 5)) {
		for (size_t i = 0; templates[i]; i++)
			if (ends_with_ci(base, templates[i]))
				return false;
		return true;
	}
	return ends_with_ci(path, ".aws/credentials") || ends_with_ci(path, ".docker/config.json");
}

static bool is_data_file(const char *base)
{
	static const char *const ext[] = {
	        ".csv", ".tsv",  ".parquet",     ".feather",  ".arrow",  ".h5",     ".hdf5",
	        ".pt",  ".pth",  ".ckpt",        ".pkl",      ".pickle", ".joblib", ".npy",
	        ".npz", ".onnx", ".safetensors", ".tfrecord", NULL};

	for (size_t i = 0; ext[i]; i++)
		if (ends_with_ci(base, ext[i]))
			return true;
	return false;
}

static void context_report(struct lint_context *lc, int k, const char *path, const char *msg)
{
	static const char *const rule[] = {"RF013", "RF014"};

	if (lc->shown[k] >= LINT_CONTEXT_PER_RULE) {
		lc->hidden[k]++;
		return;
	}
	lc->shown[k]++;
	struct lint_finding f = {0, path, rule[k], k ? LINT_WARNING : LINT_ERROR, msg};
	lc->cb(&f, lc->arg);
}

void lint_context_file(struct lint_context *lc, const char *relpath, uint64_t size)
{
	const char *slash = strrchr(relpath, '/'), *base = slash ? slash + 1 : relpath;
	char msg[MSG_MAX];

	if (is_secret_file(relpath, base)) {
		snprintf(msg, sizeof(msg),
		         "looks like a secret and would be sent to the builder; add it to "
		         ".dockerignore");
		context_report(lc, 0, relpath, msg);
	} else if (is_data_file(base) || size > LINT_CONTEXT_BIG) {
		snprintf(msg, sizeof(msg),
		         "%s (%llu MiB) would be sent to the builder and may end up in the image; "
		         "add "
		         "it to .dockerignore and mount data at run time",
		         is_data_file(base) ? "a data file" : "a large file",
		         (unsigned long long)((size + (1 << 20) - 1) >> 20));
		context_report(lc, 1, relpath, msg);
	}
}

size_t lint_context_done(struct lint_context *lc)
{
	char msg[MSG_MAX];
	size_t total = 0;

	if (!lc)
		return 0;
	for (int k = 0; k < 2; k++) {
		total += lc->shown[k] + lc->hidden[k];
		if (!lc->hidden[k])
			continue;
		snprintf(msg, sizeof(msg), "and %zu more files like those above", lc->hidden[k]);
		struct lint_finding f = {0, NULL, k ? "RF014" : "RF013",
		                         k ? LINT_WARNING : LINT_ERROR, msg};
		lc->cb(&f, lc->arg);
	}
	free(lc);
	return total;
}
