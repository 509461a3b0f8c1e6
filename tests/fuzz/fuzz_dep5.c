/*
 * fuzz_dep5 — libFuzzer target for a Debian copyright file read out of an
 * image (/usr/share/doc/PACKAGE/copyright): whatever the bytes, the licence
 * fits its buffer, is NUL-terminated and printable when the call succeeds.
 */
#include "dep5.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[257], small[8];

	if (dep5_license((const char *)data, size, out, sizeof(out)) == 0 &&
	    (!out[0] || strlen(out) >= sizeof(out)))
		abort();
	if (dep5_license((const char *)data, size, small, sizeof(small)) == 0 &&
	    strlen(small) >= sizeof(small))
		abort();
	return 0;
}
