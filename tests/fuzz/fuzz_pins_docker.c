/* fuzz_pins_docker — libFuzzer target for the pins of a Dockerfile's RUN lines: every stage,
 * then the stage named "runtime" with a build arg set (see fuzz_pins.h). */
#include <errno.h>

#include "fuzz_pins.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = {"V=1.0-1", NULL};
	struct pins_opts all = {NULL, NULL}, target = {args, "runtime"};

	if (size > 256 * 1024)
		return 0;
	fuzz_pins(PINS_DOCKERFILE, &all, data, size);
	fuzz_pins(PINS_DOCKERFILE, &target, data, size);
	return 0;
}
