/*
 * fuzz_pins.h — the checks every pins fuzz target makes (one target per
 * parser: fuzz_pins_req, fuzz_pins_toml, fuzz_pins_lock, fuzz_pins_docker).
 *
 * The input is passed with its exact length in a buffer of its own (no NUL),
 * so ASan sees any read past it. Beyond the sanitizers: a failure adds
 * nothing and says why; every pin has a place (line >= 0, col >= 0), a name
 * and a version within bounds, Python names already in PEP 503 form; an
 * exact pin holds its own version; includes stay within their bound.
 */
#ifndef REFIT_FUZZ_PINS_H
#define REFIT_FUZZ_PINS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pins.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_pin(const struct pins *p, const struct pin *x)
{
	size_t n = strlen(x->name);

	check(x->file && !strcmp(x->file, "f"));
	check(x->line >= 0 && x->col >= 0);
	check(n > 0 && n < PINS_MAX_NAME);
	check(x->version[0] && strlen(x->version) < PINS_MAX_VERSION);
	if (x->eco == PINS_PYPI)
		for (size_t i = 0; i < n; i++)
			check(!strchr("_.ABCDEFGHIJKLMNOPQRSTUVWXYZ", x->name[i]));
	if (x->op == PINS_EXACT)
		check(pins_holding(p, x->eco, x->name, x->version, NULL) != NULL);
}

static void fuzz_pins(enum pins_format f, const struct pins_opts *o, const uint8_t *data,
                      size_t size)
{
	struct pins p = {0};
	char err[256] = "";
	char *text = malloc(size ? size : 1);
	int r;

	if (!text)
		return;
	memcpy(text, data, size);
	r = pins_parse(f, "f", text, size, o, &p, err, sizeof(err));
	if (r < 0) {
		check(p.n == 0 && p.n_inc == 0);
		check(r == -ENOMEM || err[0] != '\0');
	}
	check(p.n <= PINS_MAX && p.n_inc <= PINS_MAX_INCLUDES);
	for (size_t i = 0; i < p.n; i++)
		check_pin(&p, &p.v[i]);
	for (size_t i = 0; i < p.n_inc; i++)
		check(p.inc[i].path[0] != '\0' && p.inc[i].line > 0);
	pins_done(&p);
	free(text);
}

#endif
