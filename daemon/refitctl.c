/*
 * refitctl — command-line face of refit: offline tools built on the pure
 * modules, and a client of refitd's REST endpoint.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{"ref", ctl_ref, "ref [REF]                  parse and normalise image references"},
	{"bases", ctl_bases,
	 "bases DOCKERFILE [--build-arg K=V]... [--target T] [--platform P] [--json]"},
	{"vercmp", ctl_vercmp, "vercmp ECOSYSTEM [A B]     compare versions (debian ubuntu alpine pypi)"},
	{"ignore", ctl_ignore, "ignore CONTEXT_DIR [--dockerfile PATH]  files sent as build context"},
	{"lint", ctl_lint, "lint DOCKERFILE [--context DIR]  findings with line numbers and rule ids"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: refitctl COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nexit codes: 0 ok, 1 findings or failure, 2 usage\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CTL_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CTL_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("refitctl %s\n", REFIT_VERSION);
		return CTL_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "refitctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CTL_USAGE;
}
