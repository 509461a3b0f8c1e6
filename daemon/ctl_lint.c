#include "ctl.h"

#include <stdio.h>

/* Placeholder until the lint module lands: refuses clearly. */
int ctl_lint(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "refitctl: %s: not implemented yet\n", argv[0]);
	return CTL_FAIL;
}
