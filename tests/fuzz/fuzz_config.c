/* libFuzzer target: the YAML configuration parser (config_parse). */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {0};
	struct config *c = NULL;

	log_setup(LOG_LVL_ERR, LOG_FMT_TEXT, false);
	if (config_parse("fuzz.yaml", (const char *)data, size, &c, &errs) == 0)
		config_free(c);
	config_errors_done(&errs);
	return 0;
}
