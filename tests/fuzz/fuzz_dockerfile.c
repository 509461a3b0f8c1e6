/*
 * libFuzzer target for the Dockerfile parsers: the syntax tree and its dump,
 * stage resolution with a few build-arg / target / platform variants, the
 * BuildKit detection, the # syntax= frontend and refusal per builder, the
 * lint rules, and the word expander on its own.
 */
#include "dfsyntax.h"
#include "dockerfile.h"
#include "lint.h"
#include "shellword.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(const struct lint_finding *f, void *arg)
{
	*(size_t *)arg += strlen(f->message) + (f->path != NULL);
}

static const char *lookup(const char *name, size_t len, void *arg)
{
	(void)arg;
	return len && name[0] == 'A' ? "a b" : len == 1 ? "" : NULL;
}

static void resolve_variants(const struct dockerfile *df)
{
	static const char *const args[] = {"A=x", "TAG=1", "BASE=scratch", "V=", NULL};
	struct dockerfile_opts opts[] = {
	        {0},
	        {.last_stage = true},
	        {.build_args = args, .platform = "linux/arm64/v8", .build_platform = "windows"},
	        {.target = "build"},
	};
	struct dockerfile_resolved *r;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (dockerfile_resolve(df, &opts[i], &r, NULL, 0))
			continue;
		if (i == 0 && r->n_stages && r->stages[0].name) {
			struct dockerfile_opts t = {.target = r->stages[0].name};
			struct dockerfile_resolved *r2;
			if (!dockerfile_resolve(df, &t, &r2, NULL, 0))
				dockerfile_resolved_free(r2);
		}
		dockerfile_resolved_free(r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dfsyntax *s;
	struct dockerfile *df;
	struct shellword_result w;
	char err[256], *dump;
	size_t n = 0;

	if (!dfsyntax_parse(text, size, &s, err, sizeof(err))) {
		if (!dfsyntax_dump(s, &dump))
			free(dump);
		dfsyntax_free(s);
	}
	if (!dockerfile_parse(text, size, &df, err, sizeof(err))) {
		resolve_variants(df);
		dockerfile_needs_buildkit(df, NULL);
		for (int b = DOCKERFILE_CLASSIC; b <= DOCKERFILE_PODMAN; b++) {
			dockerfile_frontend(df, (enum dockerfile_builder)b, NULL);
			dockerfile_refusal(df, (enum dockerfile_builder)b, NULL);
		}
		lint_dockerfile(df, (enum dockerfile_builder)(size % 4), count, &n);
		dockerfile_free(df);
	}
	struct shellword_opts o = {.escape = size && data[0] & 1 ? '`' : '\\',
	                           .raw_quotes = size > 1 && data[1] & 1,
	                           .raw_escapes = size > 1 && data[1] & 2,
	                           .skip_unset = size > 1 && data[1] & 4,
	                           .lookup = lookup};
	if (size <= 4096 && !shellword_expand(text, size, &o, &w, err, sizeof(err)))
		shellword_result_done(&w);
	return 0;
}
