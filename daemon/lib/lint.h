/*
 * lint — refit's rules for a Dockerfile and its build context: the habits
 * that keep data-science images small, reproducible, patched and free of
 * secrets. Pure: the Dockerfile rules read a parsed dockerfile; the context
 * rules judge one path and size at a time (the caller walks the directory
 * with the ignore module, so only files .dockerignore lets through count).
 *
 * id    severity  what                                      hadolint
 * RF000 error     the Dockerfile cannot be built (parse,      -
 *                 ARG substitution, target/stage errors)
 * RF001 error     the final stage runs as root: no USER in    DL3002
 *                 it or its parent stages, or USER root/0
 *                 (root:grp, 0:grp); an unresolvable USER
 *                 (from the base image's ENV) is not judged
 * RF002 info      a FROM image is not pinned by digest        -
 * RF003 warning   a FROM image has no tag or uses :latest     DL3006, DL3007
 * RF004 warning   ADD of local files or directories: COPY     DL3020 (error there)
 *                 does that; ADD is for URLs and tar archives
 * RF005 warning   apt-get/apt install without -y (or -qq,     DL3014
 *                 --yes, --assume-yes)
 * RF006 info      apt-get/apt install without                 DL3015
 *                 --no-install-recommends
 * RF007 info      apt lists not removed in the same RUN       DL3009
 *                 (rm -rf /var/lib/apt/lists/...); a cache
 *                 mount on /var/lib/apt also counts
 * RF008 warning   apt-get upgrade/dist-upgrade (apt           DL3005 (retired)
 *                 full-upgrade): rebuild on a patched base
 *                 instead, which is what refit does
 * RF009 warning   pip install without --no-cache-dir (unless  DL3042
 *                 ENV PIP_NO_CACHE_DIR or a cache mount)
 * RF010 warning   cd in RUN: use WORKDIR                      DL3003
 * RF011 warning   an ENV or ARG name looks like a secret:     DL3064 (BuildKit's
 *                 a word (split at _ - . and camelCase) is   SecretsUsedInArgOrEnv)
 *                 password, passwd, pass, secret, token,
 *                 apikey, key, credential(s), auth or
 *                 private, and none is public, pub, gpg,
 *                 pgp, file, path, dir, url, uri, name, id,
 *                 type, host, port, user, username, version
 *                 (so KEYRING, GPG_KEY, PASSWORD_FILE pass)
 * RF012 warning   Python on an Alpine (musl) base: PyPI       -
 *                 wheels are glibc builds, pip compiles
 * RF013 error     context: a file that looks like a secret   -
 *                 (.env*, .envrc, id_rsa/id_dsa/id_ecdsa/
 *                 id_ed25519, *.pem, *.key, *.p12, *.pfx,
 *                 .npmrc, .pypirc, .netrc, .git-credentials,
 *                 credentials.json, .aws/credentials,
 *                 .docker/config.json) is not excluded
 * RF014 warning   context: a data file (*.csv, *.tsv,        -
 *                 *.parquet, *.feather, *.arrow, *.h5,
 *                 *.hdf5, *.pt, *.pth, *.ckpt, *.pkl,
 *                 *.pickle, *.joblib, *.npy, *.npz, *.onnx,
 *                 *.safetensors, *.tfrecord) or any file
 *                 over 50 MiB is not excluded
 * RF015 info      the Dockerfile needs BuildKit (RUN --mount, -
 *                 heredocs, COPY --chmod/--link, automatic
 *                 platform ARGs...): refit builds it so
 * RF016 warning   a FROM uses an ARG that has no value       BuildKit UndefinedArgInFrom
 * RF017 error     the chosen builder cannot build it: a      -
 *                 RUN --mount=type=ssh (no agent is
 *                 forwarded), heredocs or COPY --link on
 *                 BuildKit 0.8 (dockerd 20.10; unless a
 *                 # syntax= frontend parses the file) or
 *                 Podman 4.3, BuildKit syntax on the
 *                 classic builder; refitd refuses the same
 * RF018 warning   a # syntax= frontend on BuildKit: the      -
 *                 engine must pull it (refitd checks it is
 *                 in the engine or its registry and refuses
 *                 the build otherwise); info on classic and
 *                 Podman, which ignore the line
 */
#ifndef REFIT_LINT_H
#define REFIT_LINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dockerfile.h"

#define LINT_CONTEXT_BIG      (50ull * 1024 * 1024) /* RF014's size limit */
#define LINT_CONTEXT_PER_RULE 20 /* context findings listed per rule, then counted */

enum lint_severity { LINT_ERROR, LINT_WARNING, LINT_INFO };

struct lint_finding {
	int line;         /* Dockerfile line; 0 for a context file */
	const char *path; /* the context file, NULL for Dockerfile findings */
	const char *rule; /* "RF001" */
	enum lint_severity severity;
	const char *message;
};

/* Receives findings one at a time; its return value is ignored. */
typedef void (*lint_report_cb)(const struct lint_finding *f, void *arg);

/* Runs the Dockerfile rules for builder b, reporting findings in line order. Returns the
 * number of findings or a negative errno. */
int lint_dockerfile(const struct dockerfile *df, enum dockerfile_builder b, lint_report_cb cb,
                    void *arg);

struct lint_context; /* counts context findings per rule */

/* Returns a context checker, or NULL when out of memory. */
struct lint_context *lint_context_new(lint_report_cb cb, void *arg);

/* Judges one file that would be sent (path relative to the context). */
void lint_context_file(struct lint_context *lc, const char *relpath, uint64_t size);

/* Reports the findings over LINT_CONTEXT_PER_RULE as a count, frees lc and
 * returns the number of context findings. */
size_t lint_context_done(struct lint_context *lc);

/* "error", "warning" or "info". */
const char *lint_severity_name(enum lint_severity s);

/*
 * True when a variable name looks like it holds a secret (RF011's words:
 * password, token, key, auth... and none of public, path, url, user...):
 * its value is kept out of logs and evidence documents.
 */
bool lint_secret_name(const char *name);

#endif
