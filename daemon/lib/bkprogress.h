/*
 * bkprogress — BuildKit's build progress made into the text that
 * `docker build --progress=plain` prints (BuildKit's progressui printer).
 *
 * POST /build?version=2 streams {"id":"moby.buildkit.trace","aux":"<base64>"}
 * lines, each one protobuf moby.buildkit.v1.StatusResponse (BUILDKIT.md C 16).
 * Messages are deltas: a vertex (a build step) comes back as it is created,
 * started, completed or cached, so its state is kept by digest and only the
 * changes are printed:
 *
 *   #5 [base 2/3] RUN make                 a vertex starts: numbered as first shown
 *   #5 0.312 cc -c main.c                  its output: seconds since it started
 *   #4 sha256:d60a... 1.06MB / 1.06MB 0.1s done    a status (pull, export)
 *   #5 DONE 1.2s | CACHED | ERROR: <error> | CANCELED, then a blank line
 *   #5 ...                                 another vertex interrupts an unfinished one
 *
 * Differences from docker's printer, on purpose: nothing is rate limited, so a
 * vertex that BuildKit runs twice is shown twice; a partial output line is
 * held until its newline or the vertex's end (docker prints it at once);
 * output and names go through logclean (no escape sequences, \r resolved).
 * Status updates are thinned as docker does: again only after 5% of the
 * total or 5 s, or at completion.
 *
 * Input is untrusted. A malformed message is refused whole (-EBADMSG) before
 * anything is applied. Memory is bounded: at most BKPROGRESS_MAX_VERTICES
 * vertices (more are ignored and counted), names and errors are cut, and a
 * vertex holds at most one LOGCLEAN_LINE_MAX partial line: at worst about
 * 12 KiB a vertex, 50 MiB in all; a real build needs a few hundred bytes a step.
 */
#ifndef REFIT_BKPROGRESS_H
#define REFIT_BKPROGRESS_H

#include <stddef.h>

#include "strbuf.h"

#define BKPROGRESS_MAX_VERTICES 4096
#define BKPROGRESS_MAX_STATUSES 4096       /* status ids remembered for thinning */
#define BKPROGRESS_DIGEST_MAX   128        /* a longer vertex digest is ignored */
#define BKPROGRESS_NAME_MAX     1024       /* a vertex name is cut here, "..." added */
#define BKPROGRESS_ERROR_MAX    2048       /* so is a vertex error */
#define BKPROGRESS_ID_MAX       256        /* and a status id */
#define BKPROGRESS_MSG_MAX      (1u << 20) /* one decoded StatusResponse */

struct bkprogress;

struct bkprogress_stats {
	size_t vertices;     /* distinct vertices seen */
	size_t shown;        /* of those, printed (numbered) */
	size_t cached;       /* printed CACHED at least once */
	size_t cached_steps; /* of those, Dockerfile steps ("[base 2/5] RUN ..."), FROM aside */
	size_t failed;       /* with an error that bkprogress_failure would report */
	size_t dropped;      /* vertex updates ignored: past the maximum, or a bad digest */
};

/* A decoder with no vertices yet; -ENOMEM. */
int bkprogress_new(struct bkprogress **ret);

/* Frees p and everything it holds; p may be NULL. */
void bkprogress_free(struct bkprogress *p);

/*
 * Decodes one StatusResponse msg[0..len), updates the build's state and
 * appends the lines it prints to out (whole lines; out may be NULL to keep
 * the state only). -EBADMSG: malformed, nothing applied; -EMSGSIZE: longer
 * than BKPROGRESS_MSG_MAX; -E2BIG: applied, but out reached max bytes and
 * the lines past it were dropped; -ENOMEM: applied in part.
 */
int bkprogress_feed(struct bkprogress *p, const void *msg, size_t len, struct strbuf *out,
                    size_t max);

/* bkprogress_feed of the base64 "aux" value of a trace line; bad base64 is -EBADMSG. */
int bkprogress_feed_aux(struct bkprogress *p, const char *b64, size_t len, struct strbuf *out,
                        size_t max);

/*
 * At the end of the stream: prints the partial output lines of vertices that
 * never completed (a build cut short). Same returns as bkprogress_feed.
 */
int bkprogress_finish(struct bkprogress *p, struct strbuf *out, size_t max);

/*
 * The step to blame when the build failed: the name and error of the last
 * vertex whose error is set, except those BuildKit survives or causes itself
 * (a cache import, "importing cache manifest ..."; "context canceled").
 * Whether the build failed at all is the final {"error":...} line's to say
 * (BUILDKIT.md 17). -ENOENT when there is none; the strings stay valid until
 * the next call that feeds p.
 */
int bkprogress_failure(const struct bkprogress *p, const char **ret_name, const char **ret_error);

/* Counts for the build report and checks ("a security rebuild has no CACHED step"). */
void bkprogress_stats(const struct bkprogress *p, struct bkprogress_stats *ret);

#endif
