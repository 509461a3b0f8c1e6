/* fuzz_pins_req — libFuzzer target for pip requirements/constraints files (see fuzz_pins.h). */
#include <errno.h>

#include "fuzz_pins.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_pins(PINS_REQUIREMENTS, NULL, data, size);
	return 0;
}
