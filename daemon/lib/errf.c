#include "errf.h"

#include <stdarg.h>
#include <stdio.h>

int errf(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}
