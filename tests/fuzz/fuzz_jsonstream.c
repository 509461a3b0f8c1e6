/* libFuzzer target: the Engine API stream decoder, fed in pieces whose sizes come from the input.
 */
#include <stdint.h>

#include "jsonstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(json_t *obj, void *arg)
{
	(void)obj;
	(*(int *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n = 0;
	struct jsonstream *js = jsonstream_new(count, &n);
	size_t step, off = 1;

	if (!js || size < 1)
		goto out;
	step = (size_t)data[0] % 17 + 1;
	while (off < size) {
		size_t k = size - off < step ? size - off : step;
		if (jsonstream_feed(js, (const char *)data + off, k))
			break;
		off += k;
	}
	jsonstream_finish(js);
out:
	jsonstream_free(js);
	return 0;
}
