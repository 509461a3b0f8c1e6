/*
 * bench_tracker — the Debian tracker JSON streamed through feed_debian, with
 * jq reading the same file as the reference in the same run.
 *
 *   python3 tests/bench/tracker_gen.py /tmp/tracker.json        (~90 MB)
 *   bench_tracker /tmp/tracker.json [--no-jq]
 *
 * Reads the file in 64 KiB pieces, as a download would arrive, counts the
 * rows and prints rows, seconds (wall clock, and CPU from getrusage: the
 * machine may be shared), MB/s and the process's peak RSS. Then runs
 * `jq length FILE` (a parse tree of the whole document, what a naive reader
 * does) and prints the same for it from wait4(), and the ratios. jq's
 * answer (the number of packages) must match ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "feed_debian.h"

#define PIECE (64 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static int count_row(const struct feed_row *row, void *arg)
{
	size_t *n = arg;

	(*n) += row->id[0] != '\0'; /* touch the row as a consumer would */
	return 0;
}

/* Streams path through feed_debian; 0 or -1. */
static int run_ours(const char *path, struct feed_debian_stats *st, double *secs)
{
	struct feed_debian *f;
	char *buf = malloc(PIECE), err[256];
	size_t rows = 0;
	double t0 = now();
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	f = feed_debian_new(count_row, &rows);
	if (fd < 0 || !buf || !f) {
		fprintf(stderr, "bench_tracker: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (r == 0 && (n = read(fd, buf, PIECE)) > 0)
		r = feed_debian_push(f, buf, (size_t)n);
	r = feed_debian_finish(f, err, sizeof(err));
	*secs = now() - t0;
	feed_debian_stats(f, st);
	if (r < 0 || (size_t)r != rows)
		fprintf(stderr, "bench_tracker: %s: %s\n", path, r < 0 ? err : "row count");
	feed_debian_free(f);
	free(buf);
	close(fd);
	return r < 0 ? -1 : 0;
}

/* Runs `jq length path`; its answer, seconds, CPU seconds and peak RSS (KiB). */
static int run_jq(const char *path, long *ret_len, double *secs, double *cpu, long *rss_kb)
{
	int fds[2], status;
	struct rusage ru;
	char out[64] = "";
	double t0 = now();
	pid_t pid;
	ssize_t n;

	if (pipe(fds) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("jq", "jq", "length", path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) || n <= 0)
		return -1;
	*secs = now() - t0;
	*ret_len = strtol(out, NULL, 10);
	*rss_kb = ru.ru_maxrss;
	*cpu = cpu_seconds(&ru);
	return 0;
}

int main(int argc, char **argv)
{
	struct feed_debian_stats st;
	struct rusage self;
	struct stat sb;
	double ours, theirs, jq_cpu;
	long jq_len, jq_rss;

	if (argc < 2 || stat(argv[1], &sb) < 0) {
		fprintf(stderr, "usage: bench_tracker FILE [--no-jq]\n");
		return 2;
	}
	if (run_ours(argv[1], &st, &ours) < 0)
		return 1;
	getrusage(RUSAGE_SELF, &self);
	printf("file %.1f MB, %zu packages, %zu entries, largest entry %.1f KB\n",
	       (double)sb.st_size / 1e6, st.packages, st.entries, (double)st.largest_member / 1e3);
	printf("feed_debian: rows %zu (not affected %zu, other releases %zu) seconds %.3f "
	       "(%.0f MB/s) cpu %.3f peak_rss %.1f MB\n",
	       st.rows, st.not_affected, st.other_release, ours, (double)sb.st_size / 1e6 / ours,
	       cpu_seconds(&self), (double)self.ru_maxrss / 1024);
	if (argc > 2 && !strcmp(argv[2], "--no-jq"))
		return 0;
	if (run_jq(argv[1], &jq_len, &theirs, &jq_cpu, &jq_rss) < 0) {
		fprintf(stderr, "bench_tracker: jq failed (is it installed?)\n");
		return 1;
	}
	printf("jq length:   packages %ld seconds %.3f cpu %.3f peak_rss %.1f MB\n", jq_len, theirs,
	       jq_cpu, (double)jq_rss / 1024);
	printf("ratio feed_debian/jq: time %.2f, cpu %.2f, peak RSS %.3f\n", ours / theirs,
	       cpu_seconds(&self) / jq_cpu, (double)self.ru_maxrss / (double)jq_rss);
	return (size_t)jq_len == st.packages ? 0 : 1;
}
