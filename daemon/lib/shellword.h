/*
 * shellword — variable expansion and word splitting as BuildKit's Dockerfile
 * frontend does it (frontend/dockerfile/shell/lex.go).
 *
 * This is not a shell: it understands '...' and "..." quoting, the escape
 * character (backslash or the "# escape=" backtick), $VAR, ${VAR} and the
 * modifiers ${VAR:-x} ${VAR-x} ${VAR:+x} ${VAR+x} ${VAR:?x} ${VAR?x}
 * ${VAR#p} ${VAR##p} ${VAR%p} ${VAR%%p} ${VAR/p/r} ${VAR//p/r}, and nothing
 * else (no command substitution, no arithmetic). Pure: no I/O, no globals.
 * Every output is bounded (SHELLWORD_MAX_OUT bytes, SHELLWORD_MAX_DEPTH
 * nested ${...}); going past a bound is an error, never a truncation.
 *
 * Byte-level differences from Go's rune scanner, on purpose: invalid UTF-8 is
 * copied through instead of becoming U+FFFD, and every non-ASCII character
 * counts as a letter in variable names.
 */
#ifndef REFIT_SHELLWORD_H
#define REFIT_SHELLWORD_H

#include <stdbool.h>
#include <stddef.h>

#define SHELLWORD_MAX_OUT   (256 * 1024)
#define SHELLWORD_MAX_DEPTH 32
#define SHELLWORD_MAX_WORDS 4096

/* Returns the value of variable name[0..len), or NULL when it is not set. */
typedef const char *(*shellword_lookup_cb)(const char *name, size_t len, void *arg);

struct shellword_opts {
	char escape;                /* '\\' or '`' */
	bool raw_quotes;            /* keep quote characters in the output */
	bool raw_escapes;           /* keep escape characters in the output */
	bool skip_unset;            /* leave references to unset variables as written */
	shellword_lookup_cb lookup; /* NULL: no variable is set */
	void *arg;
};

struct shellword_result {
	char *word;   /* the whole input expanded (BuildKit's ProcessWord) */
	char **words; /* the same split into fields (ProcessWords), NULL-terminated */
	size_t n_words;
	unsigned unset;      /* how many references named a variable that is not set */
	unsigned unset_bare; /* of those, plain $V or ${V} (no :- :+ ... default) */
};

/* Expands in[0..len) into ret (zeroed first); on failure writes a message
 * to err and returns -EINVAL, -E2BIG or -ENOMEM, leaving ret empty. */
int shellword_expand(const char *in, size_t len, const struct shellword_opts *o,
                     struct shellword_result *ret, char *err, size_t errlen);

/* Length of the Unicode white-space character at s (Go's unicode.IsSpace), 0 if none. */
size_t shellword_space_len(const char *s, size_t len);

/* Frees what shellword_expand stored in r; r may be zeroed or NULL. */
void shellword_result_done(struct shellword_result *r);

#endif
