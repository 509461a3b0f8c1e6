#include "array.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 16

int array_grow(void *pv, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t c = *cap ? *cap : FIRST_CAP / 2;
	void *v, *grown;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -E2BIG;
	do
		c = c > SIZE_MAX / 2 ? SIZE_MAX : c * 2;
	while (c <= n);
	if (c > max)
		c = max;
	if (!size || c > SIZE_MAX / size)
		return -ENOMEM;
	/* the owner's pointer is a T *, read and written as bytes (POSIX: same representation) */
	memcpy(&v, pv, sizeof(v));
	grown = realloc(v, c * size);
	if (!grown)
		return -ENOMEM;
	memcpy(pv, &grown, sizeof(grown));
	*cap = c;
	return 0;
}
