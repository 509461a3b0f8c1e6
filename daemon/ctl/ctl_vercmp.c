/*
 * ctl_vercmp — `refitctl vercmp ECOSYSTEM [A B]`: the version module from the
 * command line. One pair from the arguments, or "A B" pairs from stdin (one
 * per line, separated by a space or a tab), so that scripts and tests can
 * check thousands of pairs against a native tool in one process.
 */
#include "ctl.h"
#include "version.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Two versions, their separator and a CR: any longer line cannot be valid. */
#define LINE_MAX_LEN (2 * VERSION_MAX_LEN + 2)

static void usage(FILE *f)
{
	fputs("usage: refitctl vercmp ECOSYSTEM [A B]\n"
	      "  ECOSYSTEM is debian, ubuntu, alpine or pypi. Prints <, = or > for A against B.\n"
	      "  Without A and B, reads \"A B\" pairs from stdin, one per line, and prints one\n"
	      "  answer per line, ! for a line that is not two valid versions.\n"
	      "  Exit: 0 ok, 1 an invalid version, 2 usage.\n",
	      f);
}

static const char *cmp_symbol(int cmp)
{
	return cmp < 0 ? "<" : cmp > 0 ? ">" : "=";
}

static void report_invalid(enum version_eco eco, const char *a, const char *b, const char *where)
{
	const char *bad = version_valid(eco, a) < 0 ? a : b;

	fprintf(stderr, "refitctl vercmp: %sinvalid %s version '%.*s'\n", where,
	        version_eco_name(eco), VERSION_MAX_LEN, bad);
}

/*
 * Reads one line, without its newline, into buf. Returns false at end of
 * input. A line too long for buf or holding a NUL byte is read to its end
 * and flagged in *ret_bad.
 */
static bool read_line(FILE *in, char *buf, size_t size, bool *ret_bad)
{
	size_t n = 0;
	bool bad = false;
	int c;

	while ((c = getc(in)) != EOF && c != '\n') {
		if (c == '\0' || n + 1 >= size)
			bad = true;
		else
			buf[n++] = (char)c;
	}
	if (c == EOF && n == 0 && !bad)
		return false;
	buf[n] = '\0';
	*ret_bad = bad;
	return true;
}

static int compare_line(enum version_eco eco, char *line, unsigned long lineno)
{
	char where[48], *sep;
	int cmp;

	snprintf(where, sizeof(where), "line %lu: ", lineno);
	sep = strpbrk(line, " \t");
	if (!sep) {
		fprintf(stderr, "refitctl vercmp: %sexpected two versions\n", where);
		return -1;
	}
	*sep = '\0';
	if (version_cmp(eco, line, sep + 1, &cmp) < 0) {
		report_invalid(eco, line, sep + 1, where);
		return -1;
	}
	puts(cmp_symbol(cmp));
	return 0;
}

static int run_stdin(enum version_eco eco)
{
	char line[LINE_MAX_LEN + 1];
	unsigned long lineno = 0, invalid = 0;
	bool bad;

	while (read_line(stdin, line, sizeof(line), &bad)) {
		size_t len = strlen(line);

		lineno++;
		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (bad)
			fprintf(stderr, "refitctl vercmp: line %lu: too long or holds a NUL byte\n",
			        lineno);
		if (bad || compare_line(eco, line, lineno) < 0) {
			puts("!");
			invalid++;
		}
	}
	if (ferror(stdin)) {
		fprintf(stderr, "refitctl vercmp: reading stdin failed\n");
		return CTL_FAIL;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "refitctl vercmp: writing stdout failed\n");
		return CTL_FAIL;
	}
	return invalid ? CTL_FAIL : CTL_OK;
}

/* Entry point of `refitctl vercmp`; argv[0] is "vercmp". */
int ctl_vercmp(int argc, char **argv)
{
	enum version_eco eco;
	int cmp;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return CTL_OK;
	}
	if (argc != 2 && argc != 4) {
		usage(stderr);
		return CTL_USAGE;
	}
	if (version_eco_parse(argv[1], &eco) < 0) {
		fprintf(stderr,
		        "refitctl vercmp: unknown ecosystem '%s' (debian, ubuntu, alpine, pypi)\n",
		        argv[1]);
		return CTL_USAGE;
	}
	if (argc == 2)
		return run_stdin(eco);
	if (version_cmp(eco, argv[2], argv[3], &cmp) < 0) {
		report_invalid(eco, argv[2], argv[3], "");
		return CTL_FAIL;
	}
	puts(cmp_symbol(cmp));
	return fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}
