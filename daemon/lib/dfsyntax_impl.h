/*
 * dfsyntax_impl — what dfsyntax.c (lines, continuations, directives) and
 * dfsyntax_args.c (per-instruction line parsers, JSON, heredoc words, the
 * AST dump) share. Not for other modules.
 */
#ifndef REFIT_DFSYNTAX_IMPL_H
#define REFIT_DFSYNTAX_IMPL_H

#include "dfsyntax.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>

#define DFS_VEC_MAX 65536

struct arena;

struct dfs_span {
	const char *p;
	size_t n;
};

struct dfs_vec { /* malloc'd arrays of arena strings and their lengths */
	const char **v;
	size_t *lens;
	size_t n, cap;
};

__attribute__((format(printf, 5, 6))) int dfs_fail(char *err, size_t errlen, int line, int rc,
                                                   const char *fmt, ...);
/* Appends to a buffer of at most 2 MiB (strbuf.h). */
int dfs_buf_put(struct strbuf *b, const char *s, size_t n);
int dfs_vec_push(struct arena *a, struct dfs_vec *v, const char *s, size_t n);

bool dfs_byte_space(unsigned char c); /* unicode.IsSpace(rune(byte)) */
bool dfs_tok_space(char c);           /* [\t\v\f\r ] */
struct dfs_span dfs_trim_left(struct dfs_span t);
struct dfs_span dfs_trim(struct dfs_span t); /* strings.TrimSpace */

/* Runs keyword's line parser on rest, pushing the arguments onto v. */
int dfs_line_parse(struct arena *a, struct dfs_vec *v, const char *keyword, struct dfs_span rest,
                   char escape, bool *ret_json, char *msg, size_t msglen);

/* Finds the heredocs a RUN/COPY/ADD line opens (at most
 * DFSYNTAX_MAX_HEREDOCS, stored in hd[0..*ret_n)); contents not read yet. */
int dfs_heredocs_from_line(struct arena *a, const char *line, struct dfsyntax_heredoc *hd,
                           size_t *ret_n, char *msg, size_t msglen);

#endif
