/* logclean: escape sequences and control bytes removed, \r resolved as a terminal shows it,
 * the same result in place and streamed in pieces, bounded lines and output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logclean.h"

#define BIG (1u << 20)

/* clang-format off */
#define C(in, want) {in, sizeof(in) - 1, want}
/* clang-format on */
static const struct {
	const char *in;
	size_t len; /* NULs inside count */
	const char *want;
} cases[] = {
        C("plain text\n", "plain text\n"),
        C("tab\tkept\n", "tab\tkept\n"),
        C("\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[m\n", "red bold green\n"),
        C("\x1b[2K\x1b[1G\x1b[?25lcursor\x1b[?25h\n", "cursor\n"),
        C("\x1b]0;window title\aafter\n", "after\n"),
        C("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\\n", "link\n"),
        C("\x1bPq#0;2;0;0;0\x1b\\dcs gone\n", "dcs gone\n"),
        C("\x1b_apc\x07\x1b^pm\x1b\\\x1bXsos\x1b\\ok\n", "ok\n"),
        C("\033(B\033)0\0337\0338\033=\033>\033c2-byte\n", "2-byte\n"),
        C("nul\0bs\b bell\a vt\v ff\f del\x7f esc-alone\x1b\n", "nulbs bell vt ff del esc-alone\n"),
        C("crlf\r\nline\n", "crlf\nline\n"),
        C("10%\r20%\r30%\n", "30%\n"),
        C("abc\r\n", "abc\n"),
        C("abc\r\r\n", "abc\n"),
        C("progress\r\x1b[Kdone\n", "done\n"),
        C("one\rtwo\nthree\rfour\n", "two\nfour\n"),
        C("caf\xc3\xa9 \xe2\x9c\x93 \x9b \xff\xfe\n", "caf\xc3\xa9 \xe2\x9c\x93 \x9b \xff\xfe\n"),
        C("\x1b]0;unterminated title\nnext\n", "\nnext\n"),
        C("\x1b[12\nX\n", "\nX\n"),
        C("\x1b[1;\x1b[32mgreen\n", "green\n"),
        C("\x1b\x1b[0mx\n", "x\n"),
        C("\x1b]0;a\x1b]0;b\ac\n", "c\n"),
        C("\x1b[1\x18x\n", "x\n"),
        C("no newline", "no newline"),
        C("end with cr\r", "end with cr"),
        C("", ""),
};

static size_t inplace(const char *in, size_t len, char *buf)
{
	memcpy(buf, in, len);
	return logclean_inplace(buf, len);
}

/* What streaming gives: the in-place result, its last line ended by the flush. */
static void streamed_want(const char *want, char *buf)
{
	size_t n = strlen(want);

	memcpy(buf, want, n + 1);
	if (n && want[n - 1] != '\n')
		strcpy(buf + n, "\n");
}

static void test_cases(void **state)
{
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = inplace(cases[i].in, cases[i].len, buf);

		buf[n] = '\0';
		assert_string_equal(buf, cases[i].want);
	}
}

/* Streamed in two pieces at every split point, the result is the same. */
static void test_every_split(void **state)
{
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len;

		streamed_want(cases[i].want, want);
		for (size_t cut = 0; cut <= len; cut++) {
			struct logclean lc = {0};
			struct strbuf out = {0};

			assert_int_equal(logclean_feed(&lc, cases[i].in, cut, &out, BIG), 0);
			assert_int_equal(
			        logclean_feed(&lc, cases[i].in + cut, len - cut, &out, BIG), 0);
			assert_int_equal(logclean_flush(&lc, &out, BIG), 0);
			assert_int_equal(logclean_pending(&lc), 0);
			assert_int_equal(out.len, strlen(want));
			assert_memory_equal(out.p ? out.p : "", want, out.len);
			logclean_done(&lc);
			free(out.p);
		}
	}
}

/* All cases one after another, byte by byte. */
static void test_byte_by_byte(void **state)
{
	struct logclean lc = {0};
	struct strbuf out = {0};
	char all[4096] = "", want[4096] = "", again[4096];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len;

		if (!len || cases[i].in[len - 1] != '\n')
			continue; /* unfinished lines run into the next case */
		memcpy(all + n, cases[i].in, len);
		n += len;
		strcat(want, cases[i].want);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(logclean_feed(&lc, all + i, 1, &out, BIG), 0);
	assert_string_equal(out.p, want);
	n = inplace(all, n, again);
	assert_int_equal(n, out.len);
	assert_memory_equal(again, want, n);
	logclean_done(&lc);
	free(out.p);
}

static void test_pending_and_long_lines(void **state)
{
	struct logclean lc = {0};
	struct strbuf out = {0};
	char *line = malloc(2 * LOGCLEAN_LINE_MAX + 10);

	(void)state;
	assert_int_equal(logclean_feed(&lc, "part", 4, &out, BIG), 0);
	assert_int_equal(logclean_pending(&lc), 4);
	assert_int_equal(out.len, 0);
	assert_int_equal(logclean_feed(&lc, "\x1b[1m", 4, &out, BIG), 0);
	assert_int_equal(logclean_pending(&lc), 4);
	assert_int_equal(logclean_feed(&lc, "ial\n", 4, &out, BIG), 0);
	assert_string_equal(out.p, "partial\n");
	assert_int_equal(logclean_pending(&lc), 0);
	assert_int_equal(logclean_flush(&lc, &out, BIG), 0);
	assert_string_equal(out.p, "partial\n");
	/* a line with no end is cut into lines of LOGCLEAN_LINE_MAX */
	memset(line, 'y', 2 * LOGCLEAN_LINE_MAX + 10);
	out.len = 0;
	assert_int_equal(logclean_feed(&lc, line, 2 * LOGCLEAN_LINE_MAX + 10, &out, BIG), 0);
	assert_int_equal(out.len, 2 * (LOGCLEAN_LINE_MAX + 1));
	assert_int_equal(out.p[LOGCLEAN_LINE_MAX], '\n');
	assert_int_equal(logclean_pending(&lc), 10);
	/* a progress bar redrawn forever stays one line */
	out.len = 0;
	for (int i = 0; i < 100000; i++)
		assert_int_equal(logclean_feed(&lc, "\r 42% [=====>    ]", 18, &out, BIG), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(logclean_pending(&lc), 17);
	logclean_done(&lc);
	assert_int_equal(logclean_pending(&lc), 0);
	logclean_done(&lc);
	free(line);
	free(out.p);
}

/* Past max: the lines that do not fit are dropped whole, and the stream goes on. */
static void test_output_max(void **state)
{
	struct logclean lc = {0};
	struct strbuf out = {0};

	(void)state;
	assert_int_equal(logclean_feed(&lc, "12345\n12345\n", 12, &out, 10), -E2BIG);
	assert_string_equal(out.p, "12345\n");
	assert_int_equal(logclean_feed(&lc, "123\n", 4, &out, 10), 0);
	assert_string_equal(out.p, "12345\n123\n");
	assert_int_equal(logclean_feed(&lc, "x", 1, &out, 10), 0);
	assert_int_equal(logclean_flush(&lc, &out, 10), -E2BIG);
	assert_string_equal(out.p, "12345\n123\n");
	assert_int_equal(logclean_pending(&lc), 0);
	logclean_done(&lc);
	free(out.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),        cmocka_unit_test(test_every_split),
	        cmocka_unit_test(test_byte_by_byte), cmocka_unit_test(test_pending_and_long_lines),
	        cmocka_unit_test(test_output_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
