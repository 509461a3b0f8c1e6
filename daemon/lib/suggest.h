/*
 * suggest — "did you mean": the closest of a few known words to a mistyped one
 * (Levenshtein distance below 3, or a known word that contains it), for unknown
 * configuration keys and refitctl subcommands.
 */
#ifndef REFIT_SUGGEST_H
#define REFIT_SUGGEST_H

#include <stddef.h>

/* The edit distance of a and b; 99 when either is 63 bytes or longer. */
size_t suggest_distance(const char *a, const char *b);

/* The closest of the n words (read at word_at(i, arg)), or NULL when none is close. */
const char *suggest_closest(const char *word, size_t n,
                            const char *(*word_at)(size_t i, const void *arg), const void *arg);

#endif
