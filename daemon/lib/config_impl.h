/*
 * config_impl — what config.c (the schema walk) and config_check.c (the
 * semantic checks) share. Internal to the config module.
 */
#ifndef REFIT_CONFIG_IMPL_H
#define REFIT_CONFIG_IMPL_H

#include <stdbool.h>
#include <yaml.h>

#include "config.h"

/* The state of one load: the file name for messages, the document, the errors. */
struct ctx {
	const char *file;
	yaml_document_t *doc;
	struct config_errors *errs;
	unsigned visits;
	bool deep; /* config_load_checked: look at the files the configuration names */
	bool oom;  /* an allocation failed: the load fails, and no check runs on half a tree */
};

/* Records that an allocation failed at node n: the load fails with -ENOMEM. */
void config_oom(struct ctx *x, const yaml_node_t *n);

/* Adds "file:line:col: message" at node n (NULL: 1:1). */
__attribute__((format(printf, 3, 4))) void config_add_err(struct ctx *x, const yaml_node_t *n,
                                                          const char *fmt, ...);

/* The same, as a problem or a warning (see struct config_errors). */
__attribute__((format(printf, 3, 4))) void config_add_problem(struct ctx *x, const yaml_node_t *n,
                                                              const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void config_add_warning(struct ctx *x, const yaml_node_t *n,
                                                              const char *fmt, ...);

/* The value node of key in mapping n, or n itself when absent (for positions). */
const yaml_node_t *config_child(struct ctx *x, const yaml_node_t *n, const char *key);

/* The file system checks of one project and of the top-level files (config_files.c). */
void config_check_project_files(struct ctx *x, const yaml_node_t *n,
                                const struct config_project *p);
void config_check_top_files(struct ctx *x, const yaml_node_t *n, const struct config *c);

/* The text of a scalar node, NULL for anything else. */
const char *config_scalar(const yaml_node_t *n);

/* Checks of one parsed element (schema check callbacks); n is its mapping node. */
void config_check_engine(struct ctx *x, const yaml_node_t *n, void *elem);
void config_check_registry(struct ctx *x, const yaml_node_t *n, void *elem);
void config_check_feed(struct ctx *x, const yaml_node_t *n, void *elem);
void config_check_notify(struct ctx *x, const yaml_node_t *n, void *elem);
void config_check_env(struct ctx *x, const yaml_node_t *n, void *elem);
void config_check_project(struct ctx *x, const yaml_node_t *n, void *elem);
void config_check_top(struct ctx *x, const yaml_node_t *n, void *elem);

/* With no engines configured, the local Docker socket is the one engine. */
int config_default_engine(struct config *c);

#endif
