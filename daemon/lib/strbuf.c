#include "strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int strbuf_put(struct strbuf *b, const char *s, size_t n, size_t max)
{
	if (n > max || b->len + n > max)
		return -E2BIG;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q)
			return -ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}
