/* libFuzzer target: what the registry client reads from registries: index
 * bodies (platform pick), RateLimit-* values and WWW-Authenticate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "challenge.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const platforms[] = {"linux/amd64", "linux/arm64/v8", "linux/arm/v7",
	                                        "windows/amd64"};
	char digest[80], *s = malloc(size + 1);
	struct challenge c[CHALLENGE_MAX];
	long n, w;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t i = 0; i < 4; i++)
		registry_index_pick(s, size, platforms[i], digest, sizeof(digest));
	registry_parse_ratelimit(s, &n, &w);
	challenge_parse(s, c, CHALLENGE_MAX);
	free(s);
	return 0;
}
