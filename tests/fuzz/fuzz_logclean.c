/*
 * fuzz_logclean — libFuzzer target for logclean (build output as it comes
 * from containers: anything at all).
 *
 * The input is cleaned in place, and streamed in pieces whose sizes come
 * from the input itself; both must give the same text (streaming ends the
 * last line with a \n and cuts lines at LOGCLEAN_LINE_MAX, so the check
 * skips inputs with longer lines). The result never holds an ESC, a control
 * byte other than \n and \t, or DEL, and is never longer than the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logclean.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

static bool clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* No run of more than LOGCLEAN_LINE_MAX bytes without a newline. */
static bool short_lines(const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		run = s[i] == '\n' ? 0 : run + 1;
		if (run > LOGCLEAN_LINE_MAX)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	struct logclean lc = {0};
	struct strbuf out = {0};
	size_t n, step = size ? data[0] % 17 + 1 : 1;

	check(buf != NULL);
	if (size)
		memcpy(buf, data, size);
	n = logclean_inplace(buf, size);
	check(n <= size && clean(buf, n));
	for (size_t i = 0; i < size; i += step)
		check(logclean_feed(&lc, data + i, size - i < step ? size - i : step, &out,
		                    4 * size + 16) == 0);
	check(logclean_flush(&lc, &out, 4 * size + 16) == 0);
	check(logclean_pending(&lc) == 0 && clean(out.p, out.len));
	if (n && buf[n - 1] != '\n')
		buf[n++] = '\n';
	if (short_lines((const char *)data, size)) /* raw lines: what the stream buffers */
		check(out.len == n && (!n || !memcmp(out.p, buf, n)));
	logclean_done(&lc);
	free(out.p);
	free(buf);
	return 0;
}
