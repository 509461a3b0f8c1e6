/*
 * ctl_client — what the refitctl commands that talk to refitd share: options and
 * defaults, one HTTP request on a private loop, error reporting, tables.
 * Internal to daemon/ctl.
 */
#ifndef REFIT_CTL_CLIENT_H
#define REFIT_CTL_CLIENT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define DEFAULT_URL    "http://127.0.0.1:8787"
#define DEFAULT_CONFIG "/etc/refit/refit.yaml"
#define TOKEN_MAX      4096
#define TABLE_MAX_ROWS 2048
#define TABLE_MAX_COLS 12

struct client {
	char url[512];        /* base URL, no trailing slash */
	char unix_path[256];  /* set for unix:/path */
	char token_file[512]; /* "" = none */
	char config[512];
	bool json;
	const char *cmd;
};

struct reply {
	bool done;
	long status;
	int error;
	char err_msg[256];
	char *body;
	size_t len;
	bool stream;     /* the body goes to stdout as it comes */
	size_t max_body; /* a larger body than the default 4 MiB (logs) */
};

/*
 * Parses the common options (--url, --token-file, --config, --json) and the
 * command's own (extra, a getopt_long table ending in a zero row, handled by
 * on_opt). Returns optind, or -1 after printing the usage.
 */
int client_parse(struct client *c, int argc, char **argv, const struct option *extra,
                 int (*on_opt)(int opt, const char *arg, void *ctx), void *ctx);
/* Prints "usage: refitctl CMD [common options]ARGS" to stderr; returns CTL_USAGE. */
int client_usage(const struct client *c, const char *args);
/* Sends one request; POSTs carry the token. Returns 0 when an HTTP answer came. */
int client_call(const struct client *c, const char *method, const char *path, const char *body,
                struct reply *r);
/* Prints the server's error message for a failed answer; returns CTL_FAIL. */
int client_error(const struct reply *r);
/* GETs path and returns its JSON (or prints it with --json: *ret stays NULL). */
int client_get_json(const struct client *c, const char *path, json_t **ret);

struct table {
	size_t cols, rows;
	char *cells[TABLE_MAX_ROWS][TABLE_MAX_COLS];
};

/* A table with a header row; NULL (after a message) without memory. */
struct table *table_new(size_t cols, const char *const *header);
/* Adds a row (NULL cells print as "-"; a line break in a cell ends it with "..."). */
void table_row(struct table *t, const char *const *vals);
/* Prints the rows in aligned columns and empties the table. */
void table_print(struct table *t);

/* The string at key, NULL when absent or not a string. */
const char *json_str(json_t *o, const char *key);
/* The RFC 3339 time at key as "2025-01-02 03:04:05" in buf; "-" when absent. */
const char *json_when(json_t *o, const char *key, char *buf, size_t len);

/* ctl_evidence.c: `refitctl builds ID`, one build with its advisories and package changes. */
int ctl_build_show(struct client *c, const char *arg);

#endif
