/* libFuzzer target: TZif files and POSIX TZ strings (tzif_parse, tzif_parse_posix). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tzif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(const struct tz *tz)
{
	static const int64_t t[] = {INT64_MIN,  -(INT64_C(1) << 40), 0,
	                            1796688000, 2500000000,          INT64_MAX};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		tz_offset(tz, t[i]);
		tz_to_utc(tz, t[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz *tz;
	char *s;

	if (tzif_parse(data, size, &tz) == 0) {
		use(tz);
		tz_free(tz);
	}
	if (!(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tzif_parse_posix(s, &tz) == 0) {
		use(tz);
		tz_free(tz);
	}
	free(s);
	return 0;
}
