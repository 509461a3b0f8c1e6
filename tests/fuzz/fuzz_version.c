/*
 * fuzz_version — libFuzzer target for the version module (untrusted feed and
 * package-database input).
 *
 * The input is up to three versions separated by '\n', compared under every
 * ecosystem. Beyond the sanitizers it checks that version_cmp() succeeds
 * exactly when version_valid() accepts both sides, answers -1, 0 or 1, and is
 * an order: reflexive, antisymmetric and transitive over the three.
 */
#include "version.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOT (VERSION_MAX_LEN + 8) /* room to test the length bound itself */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

/* Compares, checking the contract; returns 2 when either side is invalid. */
static int cmp(enum version_eco eco, const char *a, const char *b)
{
	bool valid = version_valid(eco, a) == 0 && version_valid(eco, b) == 0;
	int c = 7, r = version_cmp(eco, a, b, &c);

	check(r == 0 || r == -EINVAL);
	check((r == 0) == valid);
	if (r < 0) {
		check(c == 7);
		return 2;
	}
	check(c == -1 || c == 0 || c == 1);
	return c;
}

static void check_order(enum version_eco eco, char v[3][SLOT], size_t n)
{
	int c[3][3];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			c[i][j] = cmp(eco, v[i], v[j]);
	for (size_t i = 0; i < n; i++) {
		if (c[i][i] == 2)
			return;
		check(c[i][i] == 0);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			check(c[i][j] == -c[j][i]);
	if (n < 3)
		return;
	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < 3; j++) {
			for (size_t k = 0; k < 3; k++) {
				if (c[i][j] == 0)
					check(c[i][k] == c[j][k]);
				if (c[i][j] <= 0 && c[j][k] <= 0)
					check(c[i][k] <= 0 &&
					      (c[i][k] < 0 || (c[i][j] == 0 && c[j][k] == 0)));
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum version_eco ecos[] = {VERSION_DEBIAN, VERSION_UBUNTU, VERSION_ALPINE,
	                                        VERSION_PYPI};
	char v[3][SLOT];
	size_t n = 0, len = 0;

	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < size && n < 3; i++) {
		if (data[i] == '\n') {
			n++;
			len = 0;
		} else if (len + 1 < SLOT) {
			v[n][len++] = (char)data[i];
		}
	}
	n = n < 3 ? n + 1 : 3;
	for (size_t e = 0; e < sizeof(ecos) / sizeof(ecos[0]); e++)
		check_order(ecos[e], v, n);
	return 0;
}
