/* libFuzzer target: WWW-Authenticate parsing (challenge_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "challenge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct challenge c[CHALLENGE_MAX];
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	challenge_parse(s, c, CHALLENGE_MAX);
	free(s);
	return 0;
}
