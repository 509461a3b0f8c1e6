/* fuzz_pins_lock — libFuzzer target for Pipfile.lock (see fuzz_pins.h). */
#include <errno.h>

#include "fuzz_pins.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_pins(PINS_PIPFILE_LOCK, NULL, data, size);
	return 0;
}
