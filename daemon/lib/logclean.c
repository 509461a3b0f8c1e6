#include "logclean.h"

#include <errno.h>
#include <stdlib.h>

enum { S_TEXT, S_ESC, S_ESC_INTER, S_CSI, S_STR };

enum act {
	A_NONE,    /* nothing visible */
	A_KEEP,    /* the byte is text */
	A_NEWLINE, /* \n */
	A_CR,      /* \r: back to the start of the line once more text comes */
};

static bool in(unsigned char c, unsigned char lo, unsigned char hi)
{
	return c >= lo && c <= hi;
}

/* One byte through the escape-sequence state machine (ECMA-48 in its common subset). */
static enum act step(unsigned char *state, unsigned char c)
{
	for (;;) {
		switch (*state) {
		case S_TEXT:
			if (c == 0x1b)
				*state = S_ESC;
			else if (c == '\n')
				return A_NEWLINE;
			else if (c == '\r')
				return A_CR;
			else if (c == '\t' || (c >= 0x20 && c != 0x7f))
				return A_KEEP;
			return A_NONE;
		case S_ESC:
			if (c == '[')
				*state = S_CSI;
			else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
				*state = S_STR;
			else if (in(c, 0x20, 0x2f))
				*state = S_ESC_INTER;
			else if (in(c, 0x30, 0x7e))
				*state = S_TEXT;
			else if (c != 0x1b)
				break; /* not a sequence after all: c is read as text */
			return A_NONE;
		case S_ESC_INTER:
			if (in(c, 0x20, 0x2f))
				return A_NONE;
			*state = S_TEXT;
			if (in(c, 0x30, 0x7e))
				return A_NONE;
			continue;
		case S_CSI:
			if (in(c, 0x20, 0x3f))
				return A_NONE;
			*state = S_TEXT;
			if (in(c, 0x40, 0x7e))
				return A_NONE;
			continue; /* a control byte ends it and acts (ESC starts another) */
		case S_STR:
			if (c == 0x1b) /* ESC \ (ST) ends it, any other ESC x starts anew */
				*state = S_ESC;
			else if (c == 0x07 || c == 0x18 || c == 0x1a)
				*state = S_TEXT;
			else if (c == '\n')
				break;
			return A_NONE;
		}
		*state = S_TEXT;
	}
}

/* Appends the line and a \n to out whole or not at all, and starts a new line. */
static int end_line(struct logclean *lc, struct strbuf *out, size_t max)
{
	size_t old = out->len;
	int r = -E2BIG;

	if (out->len <= max && lc->line.len < max - out->len) {
		r = strbuf_put(out, lc->line.p, lc->line.len, max);
		if (r == 0 && (r = strbuf_put(out, "\n", 1, max)) < 0) {
			out->len = old;
			out->p[old] = '\0';
		}
	}
	lc->line.len = 0;
	lc->cr = false;
	return r;
}

static int keep(struct logclean *lc, unsigned char c, struct strbuf *out, size_t max)
{
	int r = 0;

	if (lc->cr) {
		lc->line.len = 0;
		lc->cr = false;
	}
	if (lc->line.len >= LOGCLEAN_LINE_MAX)
		r = end_line(lc, out, max);
	return strbuf_put(&lc->line, (const char *)&c, 1, LOGCLEAN_LINE_MAX) < 0 ? -ENOMEM : r;
}

int logclean_feed(struct logclean *lc, const void *data, size_t len, struct strbuf *out, size_t max)
{
	const unsigned char *p = data;
	int r = 0, e = 0;

	for (size_t i = 0; i < len; i++) {
		switch (step(&lc->state, p[i])) {
		case A_NONE:
			continue;
		case A_CR:
			lc->cr = true;
			continue;
		case A_KEEP:
			e = keep(lc, p[i], out, max);
			break;
		case A_NEWLINE:
			e = end_line(lc, out, max);
			break;
		}
		if (e < 0 && r == 0)
			r = e;
	}
	return r;
}

int logclean_flush(struct logclean *lc, struct strbuf *out, size_t max)
{
	lc->cr = false;
	return lc->line.len ? end_line(lc, out, max) : 0;
}

size_t logclean_pending(const struct logclean *lc)
{
	return lc->line.len;
}

void logclean_done(struct logclean *lc)
{
	free(lc->line.p);
	*lc = (struct logclean){0};
}

size_t logclean_inplace(char *s, size_t len)
{
	unsigned char state = S_TEXT;
	size_t w = 0, start = 0;
	bool cr = false;

	for (size_t i = 0; i < len; i++) {
		switch (step(&state, (unsigned char)s[i])) {
		case A_NONE:
			break;
		case A_CR:
			cr = true;
			break;
		case A_KEEP:
			if (cr)
				w = start;
			cr = false;
			s[w++] = s[i];
			break;
		case A_NEWLINE:
			s[w++] = '\n';
			start = w;
			cr = false;
			break;
		}
	}
	return w;
}
