/*
 * lint_run — what a RUN instruction does, as far as the lint rules care:
 * its shell script is split into simple commands (quotes, escapes, $(...),
 * comments, the && || ; | & operators), assignments and wrappers such as
 * sudo or env are skipped, and apt-get/apt, rm, pip and cd are recognised.
 * This is a scanner for lint heuristics, not a shell.
 */
#include "lint_impl.h"

#include "dfsyntax.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 4096 /* words of one command kept; the rest are dropped */

struct cmdbuf {
	char *buf; /* unquoted words, NUL-separated */
	size_t len;
	const char **w; /* the words of the current command */
	size_t n;
};

static bool is_shell(const char *w)
{
	const char *b = strrchr(w, '/');

	b = b ? b + 1 : w;
	return !strcmp(b, "sh") || !strcmp(b, "bash") || !strcmp(b, "ash") || !strcmp(b, "dash") ||
	       !strcmp(b, "zsh");
}

static const char *base(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

static bool is_assignment(const char *w)
{
	if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') || *w == '_'))
		return false;
	while ((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9') ||
	       *w == '_')
		w++;
	return *w == '=';
}

static bool has_word(const char *const *w, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w[i], word))
			return true;
	return false;
}

/* The subcommand of apt-get/apt: the first word that is not an option
 * (-o takes the next word as its value). */
static const char *apt_subcommand(const char *const *w, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(w[i], "-o") || !strcmp(w[i], "-c") || !strcmp(w[i], "-t")) {
			i++;
			continue;
		}
		if (w[i][0] != '-')
			return w[i];
	}
	return "";
}

static bool apt_yes(const char *const *w, size_t n)
{
	size_t quiet = 0;

	for (size_t i = 1; i < n; i++) {
		quiet += !strcmp(w[i], "-q") || !strcmp(w[i], "--quiet");
		if (quiet >= 2)
			return true; /* quiet level 2 implies -y */
		if (!strcmp(w[i], "--yes") || !strcmp(w[i], "--assume-yes") ||
		    !strcmp(w[i], "-qq") || !strcmp(w[i], "-q=2") || !strcmp(w[i], "--quiet=2"))
			return true;
		if (w[i][0] == '-' && w[i][1] != '-' && strchr(w[i], 'y') && !strchr(w[i], '='))
			return true; /* -y, -yq, -qy */
	}
	return false;
}

static bool apt_no_recommends(const char *const *w, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(w[i], "--no-install-recommends"))
			return true;
		const char *o = !strncmp(w[i], "-o", 2) && w[i][2] ? w[i] + 2
		                : !strcmp(w[i], "-o") && i + 1 < n ? w[i + 1]
		                                                   : NULL;
		if (o && (!strcasecmp(o, "APT::Install-Recommends=false") ||
		          !strcmp(o, "APT::Install-Recommends=0")))
			return true;
	}
	return false;
}

static void apt(struct run_facts *f, const char *cmd, const char *const *w, size_t n)
{
	const char *sub = apt_subcommand(w, n);

	if (!strcmp(sub, "install")) {
		f->apt_install = true;
		f->apt_missing_yes |= !apt_yes(w, n);
		if (strcmp(cmd, "aptitude")) /* aptitude says -R, and is rare */
			f->apt_missing_no_rec |= !apt_no_recommends(w, n);
	} else if (!strcmp(sub, "update")) {
		f->apt_update = true;
	} else if (!strcmp(sub, "upgrade") || !strcmp(sub, "dist-upgrade") ||
	           !strcmp(sub, "full-upgrade")) {
		f->apt_upgrade = true;
	}
}

bool lint_truthy(const char *v)
{
	return !strcmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
	       !strcasecmp(v, "true");
}

/* PIP_NO_CACHE_DIR=truthy among assignments. */
static bool no_cache_assigned(const char *const *w, size_t n)
{
	bool on = false;

	for (size_t i = 0; i < n; i++)
		if (!strncmp(w[i], "PIP_NO_CACHE_DIR=", 17))
			on = lint_truthy(w[i] + 17);
	return on;
}

/* pip, pip3, pip3.12 install ...; python[3[.12]] -m pip install ... */
static void pip(struct run_facts *f, const char *cmd, const char *const *w, size_t n, bool no_cache)
{
	size_t sub = 1;

	if (!strncmp(cmd, "python", 6) && strspn(cmd + 6, "0123456789.") == strlen(cmd + 6)) {
		while (sub < n && strcmp(w[sub], "-m"))
			sub++;
		if (sub + 1 >= n || strcmp(w[sub + 1], "pip"))
			return;
		sub += 2;
	} else if (strncmp(cmd, "pip", 3) || strspn(cmd + 3, "0123456789.") != strlen(cmd + 3)) {
		return;
	}
	while (sub < n && w[sub][0] == '-')
		sub++;
	if (sub < n && !strcmp(w[sub], "install")) {
		f->pip_install = true;
		f->pip_missing_no_cache |=
		        !has_word(w, n, "--no-cache-dir") && !no_cache && !f->pip_env_no_cache;
	}
}

static void judge_command(struct run_facts *f, const char *const *w, size_t n)
{
	size_t i = 0;

	for (;;) { /* assignments and wrappers before the command itself */
		while (i < n && is_assignment(w[i]))
			i++;
		if (i < n &&
		    (!strcmp(w[i], "sudo") || !strcmp(w[i], "env") || !strcmp(w[i], "time") ||
		     !strcmp(w[i], "nice") || !strcmp(w[i], "nohup") || !strcmp(w[i], "exec") ||
		     !strcmp(w[i], "command"))) {
			for (i++; i < n && w[i][0] == '-';)
				i++;
			continue;
		}
		break;
	}
	if (i >= n)
		return;
	const char *cmd = base(w[i]);
	bool no_cache = no_cache_assigned(w, i);
	if (!strcmp(cmd, "apt-get") || !strcmp(cmd, "apt") || !strcmp(cmd, "aptitude"))
		apt(f, cmd, w + i, n - i);
	else if (!strcmp(cmd, "export"))
		f->pip_env_no_cache |= no_cache_assigned(w + i + 1, n - i - 1);
	else if (!strcmp(cmd, "cd"))
		f->cd = true;
	else if (!strcmp(cmd, "rm"))
		for (size_t k = i + 1; k < n; k++)
			f->apt_lists_removed |= !strncmp(w[k], "/var/lib/apt/lists", 18);
	else
		pip(f, cmd, w + i, n - i, no_cache);
}

static void end_command(struct run_facts *f, struct cmdbuf *c)
{
	if (c->n)
		judge_command(f, c->w, c->n);
	c->n = 0;
}

static void push_word(struct cmdbuf *c, size_t start)
{
	c->buf[c->len++] = '\0';
	if (c->n < MAX_WORDS)
		c->w[c->n++] = c->buf + start;
}

/* One word from s[i]: quotes removed, \x kept as x, $(...) kept whole.
 * Returns the index after it. */
static size_t scan_word(const char *s, size_t n, size_t i, struct cmdbuf *c)
{
	size_t start = c->len, depth = 0;
	char quote = 0;

	for (; i < n; i++) {
		char ch = s[i];
		if (quote) {
			if (ch == quote)
				quote = 0;
			else if (ch == '\\' && quote == '"' && i + 1 < n)
				c->buf[c->len++] = s[++i];
			else
				c->buf[c->len++] = ch;
			continue;
		}
		if (!depth && (strchr(" \t\r\n;&|()<>", ch)))
			break;
		if (ch == '\'' || ch == '"') {
			quote = ch;
		} else if (ch == '\\' && i + 1 < n) {
			if (s[++i] != '\n')
				c->buf[c->len++] = s[i];
		} else {
			if (ch == '$' && i + 1 < n && s[i + 1] == '(')
				depth++;
			else if (ch == ')' && depth)
				depth--;
			c->buf[c->len++] = ch;
		}
	}
	push_word(c, start);
	return i;
}

static void scan_script(struct run_facts *f, const char *s, size_t n, struct cmdbuf *c)
{
	for (size_t i = 0; i < n;) {
		char ch = s[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '<' || ch == '>') {
			i++;
		} else if (ch == '\\' && i + 1 < n && s[i + 1] == '\n') {
			i += 2;
		} else if (ch == '#' && (i == 0 || strchr(" \t\n;&|(", s[i - 1]))) {
			while (i < n && s[i] != '\n')
				i++;
		} else if (strchr("\n;&|()", ch)) {
			end_command(f, c);
			i++;
		} else {
			i = scan_word(s, n, i, c);
		}
	}
	end_command(f, c);
}

static int scan(struct run_facts *f, const char *s, size_t n)
{
	struct cmdbuf c = {.buf = malloc(n + 1), .w = malloc(MAX_WORDS * sizeof(*c.w))};
	int rc = -ENOMEM;

	if (c.buf && c.w) {
		scan_script(f, s, n, &c);
		rc = 0;
	}
	free(c.buf);
	free(c.w);
	return rc;
}

static void mount_facts(struct run_facts *f, const struct dfsyntax_node *n)
{
	for (size_t i = 0; i < n->n_flags; i++) {
		const char *m = n->flags[i];
		if (strncmp(m, "--mount=", 8) ||
		    (!strstr(m, "type=cache") && !strstr(m, "type=tmpfs")))
			continue;
		f->apt_cache_mount |= strstr(m, "=/var/lib/apt") != NULL;
		f->pip_cache_mount |= strstr(m, "/.cache") != NULL;
	}
}

int lint_run_facts(const struct dfsyntax_node *n, struct run_facts *f)
{
	int rc = 0;

	memset(f, 0, sizeof(*f));
	mount_facts(f, n);
	if (n->json && n->n_args >= 3 && is_shell(n->args[0]) && !strcmp(n->args[1], "-c"))
		return scan(f, n->args[2], strlen(n->args[2]));
	if (n->json) {
		judge_command(f, n->args, n->n_args);
		return 0;
	}
	if (!n->n_args)
		return 0;
	rc = scan(f, n->args[0], strlen(n->args[0]));
	/* a heredoc is the script when it feeds a shell: RUN <<EOF, RUN bash <<EOF */
	const char *a = n->args[0];
	char first[64] = "";
	size_t k = strcspn(a, " \t");
	memcpy(first, a, k < sizeof(first) - 1 ? k : sizeof(first) - 1);
	bool script = !strncmp(a, "<<", 2) || is_shell(first);
	for (size_t i = 0; !rc && script && i < n->n_heredocs; i++)
		rc = scan(f, n->heredocs[i].content, strlen(n->heredocs[i].content));
	return rc;
}
