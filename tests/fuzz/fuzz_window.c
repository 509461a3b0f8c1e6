/* libFuzzer target: promotion windows (window_parse) and their next opening. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tzif.h"
#include "window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct window w;
	struct tz *tz;
	char err[128], *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (window_parse(s, &w, err, sizeof(err)) == 0 &&
	    tzif_parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", &tz) == 0) {
		window_next_open(&w, tz, 1796688000000u);
		window_next_open(&w, tz, 0);
		window_is_open(&w, tz, UINT64_MAX);
		tz_free(tz);
	}
	free(s);
	return 0;
}
