/*
 * refitctl — command-line face of refit: offline tools built on the pure
 * modules, and a client of refitd's REST endpoint.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

#include "suggest.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
        {"ref", ctl_ref, "ref [REF]                  parse and normalise image references"},
        {"bases", ctl_bases,
         "bases DOCKERFILE [--build-arg K=V]... [--target T] [--platform P] [--json]"},
        {"vercmp", ctl_vercmp,
         "vercmp ECOSYSTEM [A B]     compare versions (debian ubuntu alpine pypi)"},
        {"ignore", ctl_ignore,
         "ignore CONTEXT_DIR [--dockerfile PATH]  files sent as build context"},
        {"lint", ctl_lint,
         "lint DOCKERFILE [--context DIR] [--builder B]  findings with line numbers and rule ids"},
        {"scan", ctl_scan,
         "scan --inventory FILE [--os-release FILE] --feed DIR  advisories affecting packages"},
        {"status", ctl_status,
         "status                     what refitd is doing (engines, queue, polls)"},
        {"projects", ctl_projects, "projects [NAME]            projects, or one in detail"},
        {"outdated", ctl_outdated,
         "outdated [NAME]            pinned bases with a newer tag (policy per project)"},
        {"builds", ctl_builds,
         "builds [ID | --project P] [--env E] [--status S] [--limit N] [--before ID]"},
        {"sbom", ctl_sbom,
         "sbom BUILD|PROJECT/ENV [--format spdx|cyclonedx]  (or --inventory FILE "
         "[--os-release FILE])"},
        {"rebuild", ctl_rebuild,
         "rebuild NAME [ENV] [--wait]  request a rebuild (needs the API token)"},
        {"hold", ctl_hold, "hold NAME [ENV] [--reason T]  no rebuild until released"},
        {"release", ctl_release, "release NAME [ENV]         rebuilt again"},
        {"rollback", ctl_rollback,
         "rollback NAME [ENV]        ENV (prod) back to :ENV-previous, held"},
        {"logs", ctl_logs, "logs BUILD_ID [-f]         the log of a build (-f: follow it)"},
        {"feeds", ctl_feeds, "feeds [poll]               the security feeds (poll: now)"},
        {"verify", ctl_verify,
         "verify IMAGE --key PUB     check an image's signature and attestations in its registry"},
};

/*
 * Client options may come before the command (refitctl --url U status):
 * returns the command's index; with a value, --url/--token-file/--config
 * take the next argument.
 */
static int command_index(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-h") &&
	       strcmp(argv[i], "--help") && strcmp(argv[i], "--version")) {
		if (!strcmp(argv[i], "--url") || !strcmp(argv[i], "--token-file") ||
		    !strcmp(argv[i], "--config"))
			i++;
		i++;
	}
	return i;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: refitctl COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nclient options (status, projects, outdated, builds, sbom, rebuild, rollback, "
	           "hold, "
	           "release, "
	           "logs):\n"
	           "  --url URL (or $REFIT_URL; unix:/path), --token-file FILE (or "
	           "$REFIT_TOKEN_FILE),\n"
	           "  --config FILE (listen and api_token_file from refit.yaml), --json\n");
	fprintf(f, "\nexit codes: 0 ok, 1 findings or failure, 2 usage\n");
}

static const char *command_name(size_t i, const void *arg)
{
	(void)arg;
	return commands[i].name;
}

/* A mistyped command gets the closest one suggested, and the list. */
static void unknown(const char *cmd)
{
	const char *best =
	        suggest_closest(cmd, sizeof(commands) / sizeof(commands[0]), command_name, NULL);

	if (best)
		fprintf(stderr, "refitctl: unknown command '%s' (did you mean '%s'?)\n", cmd, best);
	else
		fprintf(stderr, "refitctl: unknown command '%s'\n", cmd);
	usage(stderr);
}

int main(int argc, char **argv)
{
	int ci = command_index(argc, argv);

	if (ci > 1 && ci < argc) { /* the command first, its client options after it */
		char *cmd = argv[ci];
		memmove(&argv[2], &argv[1], (size_t)(ci - 1) * sizeof(char *));
		argv[1] = cmd;
	}
	if (argc < 2 || ci >= argc) {
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
	unknown(argv[1]);
	return CTL_USAGE;
}
