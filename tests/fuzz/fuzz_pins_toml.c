/* fuzz_pins_toml — libFuzzer target for the TOML files: the first byte picks pyproject.toml,
 * Pipfile or poetry.lock (its value mod 3), the rest is the file (see fuzz_pins.h). */
#include <errno.h>

#include "fuzz_pins.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum pins_format f[] = {PINS_PYPROJECT, PINS_PIPFILE, PINS_POETRY_LOCK};

	if (size < 1)
		return 0;
	fuzz_pins(f[data[0] % 3], NULL, data + 1, size - 1);
	return 0;
}
