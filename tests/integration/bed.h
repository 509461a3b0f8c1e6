/*
 * bed — the test bed (tests/testbed/testbed.sh) from C integration tests:
 * starts the named components in a child shell, reads their addresses, and
 * stops them by that shell's pid.
 */
#ifndef REFIT_TEST_BED_H
#define REFIT_TEST_BED_H

#include <sys/types.h>

struct bed {
	pid_t pid;
	char envfile[128];
};

/* Starts components ("dockerd registry base"...); 0 or -1. Sets the TB_* variables in our env. */
int bed_start(struct bed *b, const char *components);
void bed_stop(struct bed *b);
/* Runs a testbed shell function with the bed's env, e.g. "tb_base_move refit-test/base:1". */
int bed_sh(const char *cmd);
/* Same, capturing the first line of its output into buf. */
int bed_sh_out(const char *cmd, char *buf, size_t len);

#endif
