/*
 * pins_docker — versions pinned by RUN instructions of a Dockerfile:
 * "apt-get install pkg=V", "apk add pkg=V", "pip install name==V".
 *
 * The dockerfile module parses the file; ARG (defaults, build args, the
 * global ARGs a stage imports) and ENV are tracked per stage and expanded
 * with shellword as BuildKit would before the shell sees them. A RUN script
 * is cut into simple commands at the shell's operators (&& || ; | & and
 * newlines, outside quotes and $(...)), each split into words by shellword.
 * A pin is placed by finding its word as written in the instruction's
 * lines; when variables made it, at the instruction's first line.
 */
#include "pins_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfsyntax.h"
#include "dockerfile.h"
#include "shellword.h"
#include "version.h"

#define MAX_VARS 256

struct var {
	const char *name, *value; /* value NULL: declared without one */
	bool env;
};

struct vars {
	struct var v[MAX_VARS];
	size_t n;
	char *owned[MAX_VARS * 2]; /* strings this table allocated */
	size_t n_owned;
};

struct dstate {
	const char *file, *text;
	size_t len;
	size_t *bol; /* where each line begins: bol[0] is line 1's */
	int n_lines;
	const struct pins_opts *o;
	struct pins *p;
	struct vars *global, *cur;
	int line;        /* first line of the instruction being read */
	int end_line;    /* its last line */
	int find_line;   /* where the next word is looked for */
	size_t find_col; /* and from which byte of that line */
	char *err;
	size_t errlen;
};

static void vars_clear(struct vars *t)
{
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	t->n = t->n_owned = 0;
}

static char *own(struct vars *t, const char *s, size_t n)
{
	char *c;

	if (t->n_owned >= sizeof(t->owned) / sizeof(t->owned[0]) || !(c = strndup(s, n)))
		return NULL;
	return t->owned[t->n_owned++] = c;
}

static const struct var *var_get(const struct vars *t, const char *name, size_t len)
{
	for (size_t i = t->n; i-- > 0;)
		if (strlen(t->v[i].name) == len && !memcmp(t->v[i].name, name, len))
			return &t->v[i];
	return NULL;
}

/* Sets name (copied) to value (copied, NULL: declared only); a full table drops it. */
static int var_set(struct vars *t, const char *name, size_t nlen, const char *value, bool env)
{
	const char *n = own(t, name, nlen), *v = value ? own(t, value, strlen(value)) : NULL;

	if (!n || (value && !v))
		return t->n_owned >= sizeof(t->owned) / sizeof(t->owned[0]) ? 0 : -ENOMEM;
	if (t->n < MAX_VARS)
		t->v[t->n++] = (struct var){n, v, env};
	return 0;
}

static const char *lookup(const char *name, size_t len, void *arg)
{
	const struct var *v = var_get(arg, name, len);

	return v ? v->value : NULL;
}

/* The build arg K=V given for name, or NULL. */
static const char *build_arg(const struct pins_opts *o, const char *name, size_t n)
{
	for (const char *const *a = o->build_args; a && *a; a++)
		if (!strncmp(*a, name, n) && (*a)[n] == '=')
			return *a + n + 1;
	return NULL;
}

/* word expanded with the current variables (whole, not split) into a malloc'd string. */
static char *expand_word(struct dstate *d, const char *word, size_t n)
{
	struct shellword_opts so = {.escape = '\\', .lookup = lookup, .arg = d->cur};
	struct shellword_result r;
	char *out;

	if (shellword_expand(word, n, &so, &r, NULL, 0) < 0)
		return NULL;
	out = strdup(r.word);
	shellword_result_done(&r);
	return out;
}

/* ARG NAME[=default]: a build arg wins, then the default, then (in a stage) the global's. */
static int do_arg(struct dstate *d, const char *word)
{
	size_t n = strcspn(word, "=");
	const char *given = build_arg(d->o, word, n);
	char *def = word[n] == '=' ? expand_word(d, word + n + 1, strlen(word + n + 1)) : NULL;
	const struct var *g = d->cur != d->global ? var_get(d->global, word, n) : NULL;
	int r;

	if (word[n] == '=' && !def)
		return 0; /* a default we cannot expand: leave the ARG unset */
	r = var_set(d->cur, word, n, given ? given : def ? def : g ? g->value : NULL, false);
	free(def);
	return r;
}

static int do_env(struct dstate *d, const struct dfsyntax_node *x)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i + 1 < x->n_args; i += 3) { /* key, value, "=" or "" */
		char *v = expand_word(d, x->args[i + 1], x->arg_lens[i + 1]);
		if (v)
			r = var_set(d->cur, x->args[i], x->arg_lens[i], v, true);
		free(v);
	}
	return r;
}

/* FROM: a new stage; one built on an earlier stage keeps that stage's ENV. */
static int do_from(struct dstate *d, struct vars *stage_env, bool inherit)
{
	struct vars *keep = NULL;
	int r = 0;

	if (inherit && stage_env->n && !(keep = calloc(1, sizeof(*keep))))
		return -ENOMEM;
	for (size_t i = 0; keep && r == 0 && i < stage_env->n; i++)
		r = var_set(keep, stage_env->v[i].name, strlen(stage_env->v[i].name),
		            stage_env->v[i].value, true);
	vars_clear(d->cur);
	for (size_t i = 0; keep && r == 0 && i < keep->n; i++)
		r = var_set(d->cur, keep->v[i].name, strlen(keep->v[i].name), keep->v[i].value,
		            true);
	if (keep)
		vars_clear(keep);
	free(keep);
	return r;
}

/* ---- placing a word in the file ---- */

/* Start of line no (1-based) in the text, or NULL past the end. */
static const char *line_start(const struct dstate *d, int no)
{
	return no >= 1 && no <= d->n_lines ? d->text + d->bol[no - 1] : NULL;
}

static int index_lines(struct dstate *d)
{
	size_t n = 1;

	for (size_t i = 0; i < d->len; i++)
		n += d->text[i] == '\n';
	if (!(d->bol = malloc(n * sizeof(*d->bol))))
		return -ENOMEM;
	d->bol[0] = 0;
	d->n_lines = 1;
	for (size_t i = 0; i < d->len; i++)
		if (d->text[i] == '\n')
			d->bol[d->n_lines++] = i + 1;
	return 0;
}

/* Finds word in the instruction's lines from the last find on: its line and column. */
static bool place(struct dstate *d, const char *word, int *line, int *col)
{
	size_t wl = strlen(word);
	const char *end = d->text + d->len;

	for (int no = d->find_line; wl && no <= d->end_line; no++) {
		const char *ls = line_start(d, no), *le, *hit;
		if (!ls)
			break;
		le = memchr(ls, '\n', (size_t)(end - ls));
		le = le ? le : end;
		for (const char *s = ls + (no == d->find_line ? d->find_col : 0);
		     s + wl <= le && (hit = memmem(s, (size_t)(le - s), word, wl)); s = hit + 1) {
			*line = no;
			*col = (int)(hit - ls) + 1;
			d->find_line = no;
			d->find_col = (size_t)(hit - ls) + wl;
			return true;
		}
	}
	*line = d->line;
	*col = 0;
	return false;
}

/* ---- commands ---- */

static const char *base(const char *w)
{
	const char *b = strrchr(w, '/');
	return b ? b + 1 : w;
}

static bool is_assignment(const char *w)
{
	size_t n = strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	return n && !(w[0] >= '0' && w[0] <= '9') && w[n] == '=';
}

static bool is_wrapper(const char *w)
{
	static const char *const names[] = {"sudo",  "env",  "time",    "nice",
	                                    "nohup", "exec", "command", "xargs"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(w, names[i]))
			return true;
	return false;
}

static bool in_list(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(w, *list))
			return true;
	return false;
}

/* apt "pkg=V" / "pkg:arch=V", apk "pkg=V": a pin when V is a valid version. */
static int os_pin(struct dstate *d, enum pins_eco eco, const char *w, const char *raw)
{
	const char *eq = strchr(w, '=');
	size_t n = eq ? (size_t)(eq - w) : 0;
	char name[PINS_MAX_NAME];
	int line, col;

	if (!n || strchr(w, '$') || strchr(eq + 1, '*'))
		return 0;
	if (eco == PINS_DEB && memchr(w, ':', n))
		n = (size_t)((const char *)memchr(w, ':', n) - w); /* pkg:amd64=V */
	if (n >= sizeof(name) || memchr(w, '/', n) ||
	    version_valid(eco == PINS_DEB ? VERSION_DEBIAN : VERSION_ALPINE, eq + 1) < 0)
		return 0;
	memcpy(name, w, n);
	name[n] = '\0';
	place(d, raw, &line, &col);
	return pins_add(d->p, d->file, line, col, eco, PINS_EXACT, name, eq + 1);
}

/* The package words of "install"/"add" (options and their values skipped). */
static int packages(struct dstate *d, enum pins_eco eco, char **w, char **raw, size_t n,
                    size_t from, const char *const *with_value)
{
	int r = 0;

	for (size_t i = from; r == 0 && i < n; i++) {
		if (w[i][0] == '-') {
			i += in_list(w[i], with_value) && !strchr(w[i], '=');
			continue;
		}
		if (eco != PINS_PYPI) {
			r = os_pin(d, eco, w[i], raw[i]);
		} else {
			struct pins_req q;
			int line, col;
			pins_req_spec(w[i], strlen(w[i]), &q);
			if (!q.pinned || strchr(w[i], '$'))
				continue;
			place(d, raw[i], &line, &col);
			r = pins_add(d->p, d->file, line, col ? col + (int)q.name_at : 0, PINS_PYPI,
			             q.op, q.name, q.version);
		}
	}
	return r;
}

/* The first word from i on that is not an option (skipping option values). */
static size_t subcommand(char **w, size_t n, size_t i, const char *const *with_value)
{
	for (; i < n; i++) {
		if (w[i][0] != '-')
			return i;
		i += in_list(w[i], with_value) && !strchr(w[i], '=');
	}
	return n;
}

static int command(struct dstate *d, char **w, char **raw, size_t n)
{
	static const char *const apt_opts[] = {
	        "-o", "-c", "-t", "--target-release", "--option", "--config-file", NULL};
	static const char *const apk_opts[] = {"-X",        "--repository", "-t",
	                                       "--virtual", "-p",           "--root",
	                                       "--arch",    "--cache-dir",  NULL};
	static const char *const pip_opts[] = {"-r",
	                                       "--requirement",
	                                       "-c",
	                                       "--constraint",
	                                       "-i",
	                                       "--index-url",
	                                       "--extra-index-url",
	                                       "-f",
	                                       "--find-links",
	                                       "-t",
	                                       "--target",
	                                       "--prefix",
	                                       "--root",
	                                       "--platform",
	                                       "--python-version",
	                                       "--implementation",
	                                       "--abi",
	                                       "--trusted-host",
	                                       "--src",
	                                       "--upgrade-strategy",
	                                       "--progress-bar",
	                                       "--cache-dir",
	                                       "--log",
	                                       "--proxy",
	                                       "--timeout",
	                                       "--retries",
	                                       "--exists-action",
	                                       "--cert",
	                                       "--client-cert",
	                                       "--global-option",
	                                       "--config-settings",
	                                       "-C",
	                                       "-e",
	                                       "--editable",
	                                       "--python",
	                                       "-p",
	                                       NULL};
	size_t i = 0, s;

	while (i < n && (is_assignment(w[i]) || is_wrapper(w[i])))
		i++;
	if (i >= n)
		return 0;
	const char *cmd = base(w[i]);
	if (!strcmp(cmd, "apt-get") || !strcmp(cmd, "apt") || !strcmp(cmd, "aptitude")) {
		s = subcommand(w, n, i + 1, apt_opts);
		return s < n && !strcmp(w[s], "install")
		               ? packages(d, PINS_DEB, w, raw, n, s + 1, apt_opts)
		               : 0;
	}
	if (!strcmp(cmd, "apk")) {
		s = subcommand(w, n, i + 1, apk_opts);
		return s < n && !strcmp(w[s], "add")
		               ? packages(d, PINS_APK, w, raw, n, s + 1, apk_opts)
		               : 0;
	}
	if (!strncmp(cmd, "python", 6) && i + 2 < n && !strcmp(w[i + 1], "-m") &&
	    !strcmp(w[i + 2], "pip"))
		i += 2;
	else if (!strcmp(cmd, "uv") && i + 1 < n && !strcmp(w[i + 1], "pip"))
		i++;
	else if (strncmp(cmd, "pip", 3) || strspn(cmd + 3, "0123456789.") != strlen(cmd + 3))
		return 0;
	s = subcommand(w, n, i + 1, pip_opts);
	return s < n && !strcmp(w[s], "install")
	               ? packages(d, PINS_PYPI, w, raw, n, s + 1, pip_opts)
	               : 0;
}

/* One simple command's text: split (and expanded) into words, then judged. */
static int command_text(struct dstate *d, const char *s, size_t n)
{
	struct shellword_opts eo = {
	        .escape = '\\', .skip_unset = true, .lookup = lookup, .arg = d->cur};
	struct shellword_opts ro = {.escape = '\\', .skip_unset = true};
	struct shellword_result ex, raw;
	int r = 0;

	if (shellword_expand(s, n, &eo, &ex, NULL, 0) < 0)
		return 0; /* not something we can read: no pin from it */
	if (shellword_expand(s, n, &ro, &raw, NULL, 0) < 0) {
		shellword_result_done(&ex);
		return 0;
	}
	r = command(d, ex.words, raw.n_words == ex.n_words ? raw.words : ex.words, ex.n_words);
	shellword_result_done(&ex);
	shellword_result_done(&raw);
	return r;
}

/* Cuts a script at && || ; | & ( ) and newlines outside quotes, $(...) and `...`. */
static int script(struct dstate *d, const char *s, size_t n)
{
	char *buf = malloc(n + 1);
	size_t k = 0, depth = 0;
	char quote = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i <= n; i++) {
		char c = i < n ? s[i] : '\n';
		if (c == '\\' && i + 1 < n) { /* an escape, or a continuation */
			if (s[i + 1] == '\n' && quote != '\'') {
				buf[k++] = ' ';
			} else {
				buf[k++] = c;
				buf[k++] = s[i + 1];
			}
			i++;
			continue;
		}
		if (quote) {
			quote = c == quote ? 0 : quote;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == '$' && i + 1 < n && s[i + 1] == '(') {
			depth++;
		} else if (c == ')' && depth) {
			depth--;
		} else if (!depth && c == '#' && (k == 0 || strchr(" \t", buf[k - 1]))) {
			while (i + 1 < n && s[i + 1] != '\n')
				i++;
			continue;
		} else if (!depth && strchr("\n;&|()", c)) {
			r = command_text(d, buf, k);
			k = 0;
			continue;
		}
		buf[k++] = c;
	}
	free(buf);
	return r;
}

static bool is_shell(const char *w)
{
	const char *b = base(w);
	return !strcmp(b, "sh") || !strcmp(b, "bash") || !strcmp(b, "ash") || !strcmp(b, "dash");
}

static int do_run(struct dstate *d, const struct dfsyntax_node *x)
{
	int r = 0;

	d->find_line = x->start_line;
	d->find_col = 0;
	if (x->json) {
		if (x->n_args >= 3 && is_shell(x->args[0]) && !strcmp(x->args[1], "-c"))
			return script(d, x->args[2], x->arg_lens[2]);
		return command(d, (char **)(uintptr_t)x->args, (char **)(uintptr_t)x->args,
		               x->n_args);
	}
	if (!x->n_args)
		return 0;
	r = script(d, x->args[0], x->arg_lens[0]);
	/* a heredoc is the script when it feeds a shell: RUN <<EOF, RUN bash <<EOF */
	const char *a = x->args[0];
	char first[64] = "";
	size_t k = strcspn(a, " \t");
	memcpy(first, a, k < sizeof(first) - 1 ? k : sizeof(first) - 1);
	bool feeds_shell = !strncmp(a, "<<", 2) || is_shell(first);
	for (size_t i = 0; r == 0 && feeds_shell && i < x->n_heredocs; i++)
		r = script(d, x->heredocs[i].content, strlen(x->heredocs[i].content));
	return r;
}

/* The stages later stages build on keep their ENV for them. */
struct stages {
	const struct dockerfile_resolved *res; /* NULL: resolve failed; every stage counts */
	struct vars **snap;                    /* [n_stages], allocated for base stages only */
	int cur;                               /* the stage being read, -1 before FROM */
};

static bool is_base(const struct stages *st, int s)
{
	for (size_t i = 0; st->res && i < st->res->n_stages; i++)
		if (st->res->stages[i].base_stage == s)
			return true;
	return false;
}

static int enter_stage(struct dstate *d, struct stages *st, int s)
{
	int r = 0, from;

	if (st->cur >= 0 && is_base(st, st->cur) && !st->snap[st->cur]) {
		struct vars *v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		st->snap[st->cur] = v;
		for (size_t i = 0; r == 0 && i < d->cur->n; i++)
			if (d->cur->v[i].env)
				r = var_set(v, d->cur->v[i].name, strlen(d->cur->v[i].name),
				            d->cur->v[i].value, true);
	}
	from = st->res && s >= 0 && (size_t)s < st->res->n_stages ? st->res->stages[s].base_stage
	                                                          : -1;
	if (r == 0) {
		struct vars empty = {.n = 0};
		r = do_from(d, from >= 0 && st->snap[from] ? st->snap[from] : &empty, from >= 0);
	}
	st->cur = s;
	return r;
}

static int instruction(struct dstate *d, struct stages *st, const struct dfsyntax_node *x, int s)
{
	int r = 0;

	d->line = x->start_line;
	d->end_line = x->end_line;
	if (!strcmp(x->keyword, "from"))
		return enter_stage(d, st, s);
	if (!strcmp(x->keyword, "arg")) {
		struct vars *keep = d->cur;
		if (s < 0)
			d->cur = d->global;
		for (size_t i = 0; r == 0 && i < x->n_args; i++) {
			char *w = expand_word(d, x->args[i], strcspn(x->args[i], "="));
			/* NAME as written (quotes dropped), then "=default" unexpanded */
			if (!w)
				continue;
			const char *eq = strchr(x->args[i], '=');
			size_t wl = strlen(w), dl = eq ? strlen(eq) : 0;
			char *word = malloc(wl + dl + 1);
			if (word) {
				memcpy(word, w, wl);
				memcpy(word + wl, eq ? eq : "", dl + 1);
				r = do_arg(d, word);
			} else {
				r = -ENOMEM;
			}
			free(word);
			free(w);
		}
		d->cur = keep;
		return r;
	}
	if (!strcmp(x->keyword, "env"))
		return do_env(d, x);
	if (!strcmp(x->keyword, "run") &&
	    (!st->res || s < 0 || (size_t)s >= st->res->n_stages || st->res->stages[s].needed))
		return do_run(d, x);
	return 0;
}

int pins_parse_dockerfile(const char *file, const char *text, size_t len, const struct pins_opts *o,
                          struct pins *p, char *err, size_t errlen)
{
	struct dstate d = {file,
	                   text,
	                   len,
	                   NULL,
	                   0,
	                   o,
	                   p,
	                   calloc(1, sizeof(struct vars)),
	                   calloc(1, sizeof(struct vars)),
	                   0,
	                   0,
	                   0,
	                   0,
	                   err,
	                   errlen};
	struct dockerfile_opts dopts = {.build_args = o->build_args, .target = o->target};
	struct dockerfile_resolved *res = NULL;
	struct stages st = {NULL, NULL, -1};
	struct dockerfile *df = NULL;
	char msg[256];
	int r = -ENOMEM;

	if (!d.global || !d.cur || index_lines(&d) < 0)
		goto out;
	if ((r = dockerfile_parse(text, len, &df, msg, sizeof(msg))) < 0) {
		r = pins_fail(err, errlen, 0, r, "%s", msg);
		goto out;
	}
	if (dockerfile_resolve(df, &dopts, &res, msg, sizeof(msg)) < 0) {
		dopts.target = NULL; /* an unknown target: every stage counts */
		if (dockerfile_resolve(df, &dopts, &res, msg, sizeof(msg)) < 0)
			res = NULL;
	}
	st.res = res;
	r = -ENOMEM;
	if (res && !(st.snap = calloc(res->n_stages ? res->n_stages : 1, sizeof(*st.snap))))
		goto out;
	r = 0;
	for (size_t i = 0; r == 0 && i < dockerfile_instr_count(df); i++) {
		int s;
		const struct dfsyntax_node *x = dockerfile_instr(df, i, &s);
		r = instruction(&d, &st, x, s);
	}
out:
	for (size_t i = 0; st.snap && i < res->n_stages; i++) {
		if (st.snap[i])
			vars_clear(st.snap[i]);
		free(st.snap[i]);
	}
	free(st.snap);
	if (d.global)
		vars_clear(d.global);
	if (d.cur)
		vars_clear(d.cur);
	free(d.global);
	free(d.cur);
	free(d.bol);
	dockerfile_resolved_free(res);
	dockerfile_free(df);
	return r;
}
