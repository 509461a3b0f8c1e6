/*
 * ctl — the sub-commands of refitctl, one function per command.
 *
 * Each takes argc/argv starting at the command name (argv[0] == "ref") and
 * returns the process exit code: 0 ok, 1 findings or failure, 2 usage.
 * Offline commands use the pure modules only; the others talk HTTP to refitd.
 */
#ifndef REFIT_CTL_H
#define REFIT_CTL_H

#include <stddef.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

int ctl_ref(int argc, char **argv);
int ctl_bases(int argc, char **argv);
int ctl_vercmp(int argc, char **argv);
int ctl_ignore(int argc, char **argv);
int ctl_lint(int argc, char **argv);
int ctl_scan(int argc, char **argv);
int ctl_status(int argc, char **argv);
int ctl_projects(int argc, char **argv);
int ctl_outdated(int argc, char **argv);
int ctl_builds(int argc, char **argv);
int ctl_rebuild(int argc, char **argv);
int ctl_rollback(int argc, char **argv);
int ctl_logs(int argc, char **argv);
int ctl_hold(int argc, char **argv);
int ctl_release(int argc, char **argv);
int ctl_feeds(int argc, char **argv);
int ctl_verify(int argc, char **argv);
int ctl_sbom(int argc, char **argv);

/* ctl_sbom.c: the SBOM of a package database file, offline, on stdout. */
int ctl_sbom_offline(const char *inventory, const char *os_release, const char *format,
                     const char *name);

/*
 * Reads a whole file (or stdin for "-") into a malloc'd NUL-terminated
 * buffer of at most max bytes: -EFBIG past it, -errno when it cannot be read.
 */
int ctl_read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* Reads a Dockerfile (or stdin for "-"), at most DFSYNTAX_MAX_FILE bytes; malloc'd. */
int ctl_read_dockerfile(const char *path, char **ret, size_t *ret_len);

#endif
