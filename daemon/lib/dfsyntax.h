/*
 * dfsyntax — the syntax tree of a Dockerfile, built exactly as BuildKit's
 * parser (frontend/dockerfile/parser) builds it: parser directives at the
 * top, line continuations with the escape character, comment and blank
 * lines inside continuations, heredocs, builder flags, and each
 * instruction's argument shape (JSON exec form, key=value pairs, words).
 *
 * It does not know what instructions mean: unknown instructions parse (as
 * BuildKit's parser accepts them) and the dockerfile module rejects them.
 * dfsyntax_dump() prints BuildKit's AST dump, which is how the vectors in
 * buildkit/parser/testfiles prove this parser byte for byte.
 * Pure: parses a memory buffer, no I/O; bounded by the DFSYNTAX_MAX_* limits.
 */
#ifndef REFIT_DFSYNTAX_H
#define REFIT_DFSYNTAX_H

#include <stdbool.h>
#include <stddef.h>

#define DFSYNTAX_MAX_FILE     (1024 * 1024) /* bytes of one Dockerfile */
#define DFSYNTAX_MAX_LINE     65535         /* bytes of one physical line (BuildKit's) */
#define DFSYNTAX_MAX_NODES    20000         /* instructions */
#define DFSYNTAX_MAX_HEREDOCS 64            /* heredocs of one instruction */

struct arena;

struct dfsyntax_heredoc {
	const char *name;    /* the delimiter word, quotes removed */
	const char *content; /* the lines up to the delimiter, newlines kept */
	unsigned fd;         /* 2<<EOF: 2; default 0 */
	bool expand;         /* unquoted delimiter: variables expand in content */
	bool chomp;          /* <<-EOF: leading tabs are stripped */
};

struct dfsyntax_node {
	const char *keyword;      /* lower-cased instruction word: "from", "run" */
	const char *line;         /* the logical line: continuations joined */
	const char *const *flags; /* "--name=value" as BuildKit extracts them */
	size_t n_flags;
	const char *const *args; /* the arguments, shaped per instruction (below) */
	const size_t *arg_lens;  /* their lengths: JSON "\u0000" may hide a NUL */
	size_t n_args;
	bool json;                       /* written in JSON (exec) form */
	const struct dfsyntax_node *sub; /* ONBUILD: the triggered instruction */
	const struct dfsyntax_heredoc *heredocs;
	size_t n_heredocs;
	int start_line, end_line; /* 1-based, continuation lines included */
};

/*
 * Argument shapes, as BuildKit's line parsers produce them:
 *   env, label    triples: key, value, "=" (KEY=VALUE form) or "" (KEY VALUE)
 *   arg           words "NAME" or "NAME=value", quotes kept
 *   from, expose  whitespace-separated words
 *   add, copy, volume          JSON elements, else whitespace-separated words
 *   run, cmd, entrypoint, shell  JSON elements, else one string (the command)
 *   healthcheck   the type ("CMD", "NONE"), then as run
 *   maintainer, stopsignal, user, workdir  one string
 *   onbuild       none (see sub); unknown instructions: one empty string
 */

struct dfsyntax {
	const struct dfsyntax_node *nodes;
	size_t n_nodes;
	char escape;        /* '\\' or '`' (# escape=) */
	const char *syntax; /* # syntax= image as BuildKit >= 0.9 finds it, NULL when absent */
	int syntax_line;
	/* ... and as BuildKit 0.8 (dockerd 20.10) finds it: any "# key=value" lines at the
	 * very top (no BOM, no #! line skipped), the last syntax= among them */
	const char *syntax_v08;
	int syntax_v08_line;
	unsigned empty_continuations; /* blank lines inside continuations */
	struct arena *arena;
};

/* Parses text[0..len) into *ret. On failure writes "line N: reason" (or just
 * "reason") to err and returns -EINVAL, -E2BIG or -ENOMEM. */
int dfsyntax_parse(const char *text, size_t len, struct dfsyntax **ret, char *err, size_t errlen);

/* Writes BuildKit's AST dump plus a newline into a malloc'd string. */
int dfsyntax_dump(const struct dfsyntax *s, char **ret);

/* Writes s[0..n) as a Go strconv.Quote literal into buf (NUL-terminated, cut
 * at size); returns the length the full quoting needs. */
size_t dfsyntax_quote(const char *s, size_t n, char *buf, size_t size);

/* Frees a parsed tree; s may be NULL. */
void dfsyntax_free(struct dfsyntax *s);

#endif
