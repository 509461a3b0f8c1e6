/*
 * logclean — build output made fit for a log file: what a terminal would
 * show, without the bytes that drive the terminal.
 *
 * Removed: CSI sequences (ESC [ params final), OSC and the other string
 * sequences (ESC ] / P / X / ^ / _ ... ended by BEL or ESC \), the other
 * ESC sequences (ESC, intermediates 0x20-0x2f, a final byte), and C0
 * control bytes and DEL except \n and \t. A bare \r (not followed by \n)
 * returns to the start of the line: only the text after the last one is
 * kept, as a progress bar ends up on screen; \r\n is an ordinary newline.
 *
 * Deliberate differences from a terminal: a string sequence also ends at \n
 * (a stray ESC ] must not swallow the rest of a log); bytes 0x80-0x9f are
 * UTF-8 continuation bytes, never C1 controls; other bytes, invalid UTF-8
 * included, are copied as they are.
 */
#ifndef REFIT_LOGCLEAN_H
#define REFIT_LOGCLEAN_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* A streamed line longer than this is cut: its first part goes out as a line of its own. */
#define LOGCLEAN_LINE_MAX 4096

struct logclean {           /* zero-initialised = ready; logclean_done frees the line */
	struct strbuf line; /* the visible text of the line not yet ended by \n */
	unsigned char state;
	bool cr; /* a \r whose meaning the next byte decides */
};

/*
 * Streams data[0..len) through lc: each line it completes is appended to out,
 * cleaned and ended by \n; the unfinished line stays in lc. -E2BIG when out
 * reached max bytes (the lines that did not fit are lost, lc stays usable),
 * -ENOMEM.
 */
int logclean_feed(struct logclean *lc, const void *data, size_t len, struct strbuf *out,
                  size_t max);

/* Ends the unfinished line, if it has any text, by appending it and a \n to out. */
int logclean_flush(struct logclean *lc, struct strbuf *out, size_t max);

/* Bytes of visible text on the unfinished line. */
size_t logclean_pending(const struct logclean *lc);

/* Frees lc's line and makes it ready for a new stream. */
void logclean_done(struct logclean *lc);

/* Cleans s[0..len) in place (the result is never longer) and returns its new length. */
size_t logclean_inplace(char *s, size_t len);

#endif
