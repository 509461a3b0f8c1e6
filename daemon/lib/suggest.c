#include "suggest.h"

#include <stdbool.h>
#include <string.h>

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

const char *suggest_closest(const char *word, size_t n,
                            const char *(*word_at)(size_t i, const void *arg), const void *arg)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		const char *w = word_at(i, arg);
		size_t d = suggest_distance(word, w);
		bool prefix = !strncmp(w, word, strlen(word));
		if (d < best_d || (d == best_d && best && prefix) ||
		    (!best && strstr(w, word) && strlen(word) > 3)) {
			best_d = d;
			best = w;
		}
	}
	return best;
}
