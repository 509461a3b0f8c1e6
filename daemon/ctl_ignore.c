#include "ctl.h"

#include <stdio.h>

/* Placeholder until the ignore module lands: refuses clearly. */
int ctl_ignore(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "refitctl: %s: not implemented yet\n", argv[0]);
	return CTL_FAIL;
}
