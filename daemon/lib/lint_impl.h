/*
 * lint_impl — what lint.c (the rules) asks lint_run.c (RUN scripts).
 */
#ifndef REFIT_LINT_IMPL_H
#define REFIT_LINT_IMPL_H

#include <stdbool.h>

struct dfsyntax_node;

struct run_facts {
	bool apt_install, apt_update, apt_upgrade;
	bool apt_missing_yes, apt_missing_no_rec; /* some install lacks it */
	bool apt_lists_removed, apt_cache_mount;
	bool pip_install, pip_missing_no_cache, pip_cache_mount;
	bool pip_env_no_cache; /* export PIP_NO_CACHE_DIR=1 earlier in the RUN */
	bool cd;
};

/* pip's reading of PIP_NO_CACHE_DIR: 1, on, yes, true (any case). */
bool lint_truthy(const char *v);

/* Reads a RUN instruction (shell or exec form, heredoc scripts) into f. */
int lint_run_facts(const struct dfsyntax_node *n, struct run_facts *f);

#endif
