/*
 * test_context — the build context tar on a temporary tree: extra files from
 * outside the project (Podman's build secrets) follow the walked entries as
 * root-owned 0400 regular files; their errors name them and never show their
 * bytes; a relative path is resolved in $CREDENTIALS_DIRECTORY; the tar is
 * created 0600 whatever the umask and replaces an older file; the thread-pool
 * job copies the extras it is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <uv.h>

#include "context.h"

#define CANARY "canary-7f3a9c1e5b"

struct tree {
	char dir[64];   /* the temporary root */
	char proj[128]; /* the project directory */
	char out[128];  /* the tar */
	char sec[128];  /* a secret file outside the project */
};

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char path[256];

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/refit-test-context.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->proj, sizeof(t->proj), "%s/proj", t->dir);
	snprintf(t->out, sizeof(t->out), "%s/ctx.tar", t->dir);
	snprintf(t->sec, sizeof(t->sec), "%s/pipconf", t->dir);
	assert_int_equal(mkdir(t->proj, 0755), 0);
	snprintf(path, sizeof(path), "%s/Dockerfile", t->proj);
	write_file(path, "FROM scratch\n", 13, 0644);
	snprintf(path, sizeof(path), "%s/app.py", t->proj);
	write_file(path, "print(1)\n", 9, 0644);
	write_file(t->sec, CANARY "\n", sizeof(CANARY), 0600);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("CREDENTIALS_DIRECTORY");
	free(t);
	return 0;
}

/* The tar's entries: names in order ("a,b,"); the entry called name is returned. */
struct found {
	char names[512];
	bool have;
	mode_t type, perm;
	la_int64_t uid, gid;
	char data[1024];
	size_t len;
};

static void read_tar(const char *path, const char *name, struct found *f)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	memset(f, 0, sizeof(*f));
	assert_non_null(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(e);
		size_t at = strlen(f->names);

		snprintf(f->names + at, sizeof(f->names) - at, "%s,", n);
		if (strcmp(n, name))
			continue;
		f->have = true;
		f->type = archive_entry_filetype(e);
		f->perm = archive_entry_perm(e);
		f->uid = archive_entry_uid(e);
		f->gid = archive_entry_gid(e);
		f->len = (size_t)archive_read_data(a, f->data, sizeof(f->data));
	}
	archive_read_free(a);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static int write_with(struct tree *t, const struct context_extra *x, size_t n, char *err,
                      size_t errlen)
{
	uint64_t bytes = 0, entries = 0;

	err[0] = '\0';
	return context_tar_write(t->proj, "Dockerfile", x, n, t->out, NULL, &bytes, &entries, err,
	                         errlen);
}

/* The extra comes last, as a root-owned 0400 file holding exactly the bytes; tar 0600. */
static void test_extra_written(void **state)
{
	struct tree *t = *state;
	struct context_extra x = {".refit-secret-0123", t->sec, "secret pipconf"};
	uint64_t bytes = 0, entries = 0;
	struct found f;
	char err[512];
	mode_t old = umask(022);

	write_file(t->out, "old", 3, 0644); /* an older file is replaced, not reused */
	assert_int_equal(context_tar_write(t->proj, "Dockerfile", &x, 1, t->out, NULL, &bytes,
	                                   &entries, err, sizeof(err)),
	                 0);
	umask(old);
	assert_int_equal(file_mode(t->out), 0600);
	assert_int_equal(entries, 3);
	assert_int_equal(bytes, 13 + 9 + sizeof(CANARY));
	read_tar(t->out, ".refit-secret-0123", &f);
	assert_string_equal(f.names, "Dockerfile,app.py,.refit-secret-0123,");
	assert_true(f.have);
	assert_int_equal(f.type, AE_IFREG);
	assert_int_equal(f.perm, 0400);
	assert_int_equal(f.uid, 0);
	assert_int_equal(f.gid, 0);
	assert_int_equal(f.len, sizeof(CANARY));
	assert_memory_equal(f.data, CANARY "\n", sizeof(CANARY));
}

/* Without extras the tar is what it was, and 0600 too. */
static void test_no_extra(void **state)
{
	struct tree *t = *state;
	struct found f;
	char err[512];
	mode_t old = umask(0);

	assert_int_equal(write_with(t, NULL, 0, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(file_mode(t->out), 0600);
	read_tar(t->out, "none", &f);
	assert_string_equal(f.names, "Dockerfile,app.py,");
}

/* A relative path is a file in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=). */
static void test_credentials_directory(void **state)
{
	struct tree *t = *state;
	struct context_extra x = {"s", "pipconf", NULL};
	struct found f;
	char err[512];

	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", t->dir, 1), 0);
	assert_int_equal(write_with(t, &x, 1, err, sizeof(err)), 0);
	read_tar(t->out, "s", &f);
	assert_true(f.have);
	assert_memory_equal(f.data, CANARY, sizeof(CANARY) - 1);
}

/* Empty is fine; 500 KiB is the most; one byte more fails, naming the secret only. */
static void test_sizes(void **state)
{
	struct tree *t = *state;
	struct context_extra x = {"s", t->sec, "secret big"};
	size_t max = CONTEXT_EXTRA_MAX;
	char *big = malloc(max + 1), err[512];
	struct found f;

	assert_non_null(big);
	write_file(t->sec, "", 0, 0600);
	assert_int_equal(write_with(t, &x, 1, err, sizeof(err)), 0);
	read_tar(t->out, "s", &f);
	assert_true(f.have);
	assert_int_equal(f.len, 0);

	memset(big, 'x', max + 1);
	memcpy(big, CANARY, strlen(CANARY));
	write_file(t->sec, big, max, 0600);
	assert_int_equal(write_with(t, &x, 1, err, sizeof(err)), 0);
	write_file(t->sec, big, max + 1, 0600);
	assert_int_equal(write_with(t, &x, 1, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "secret big"));
	assert_non_null(strstr(err, "larger than 500 KiB"));
	assert_null(strstr(err, CANARY));
	free(big);
}

/* Missing, a directory, a FIFO (not waited on): errors that say which and why. */
static void test_errors(void **state)
{
	struct tree *t = *state;
	char fifo[192], err[512];
	struct context_extra x = {"s", "/nonexistent/refit-secret", "secret gone"};

	assert_int_equal(write_with(t, &x, 1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "secret gone: No such file"));
	assert_null(strstr(err, "/nonexistent")); /* a secret's path is never told */

	x = (struct context_extra){"s", t->proj, "secret dir"};
	assert_int_equal(write_with(t, &x, 1, err, sizeof(err)), -EBADFD);
	assert_non_null(strstr(err, "secret dir"));
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(fifo, sizeof(fifo), "%s/fifo", t->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	x = (struct context_extra){"s", fifo, NULL};
	assert_int_equal(write_with(t, &x, 1, err, sizeof(err)), -EBADFD);
	assert_non_null(strstr(err, "s: not a regular file"));
	assert_null(strstr(err, fifo));
	assert_null(strstr(err, CANARY));
}

/* The tar cannot be created: the error names it. */
static void test_out_error(void **state)
{
	struct tree *t = *state;
	uint64_t bytes, entries;
	char err[512], out[192];

	snprintf(out, sizeof(out), "%s/no/such/dir.tar", t->dir);
	assert_int_equal(context_tar_write(t->proj, NULL, NULL, 0, out, NULL, &bytes, &entries, err,
	                                   sizeof(err)),
	                 -EIO);
	assert_non_null(strstr(err, "no/such/dir.tar: No such file"));
	assert_int_equal(context_tar_single(out, "Dockerfile", "FROM x\n", 7), -EIO);
}

struct job_result {
	int status, calls;
	uint64_t entries;
	char error[512];
};

static void job_done(const struct context_result *r, void *arg)
{
	struct job_result *jr = arg;

	jr->calls++;
	jr->status = r->status;
	jr->entries = r->entries;
	snprintf(jr->error, sizeof(jr->error), "%s", r->error);
}

/* The job copies the extras: the caller's strings may go as soon as the call returns. */
static void test_job_copies(void **state)
{
	struct tree *t = *state;
	char name[32] = "one", path[128], what[32] = "secret one", name2[32] = "two";
	struct context_extra x[2] = {{name, path, what}, {name2, path, NULL}};
	struct job_result jr = {0};
	struct found f;
	uv_loop_t loop;

	snprintf(path, sizeof(path), "%s", t->sec);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(
	        context_tar_start(&loop, t->proj, "Dockerfile", x, 2, t->out, job_done, &jr, NULL),
	        0);
	memset(name, 'X', sizeof(name) - 1);
	memset(path, 'X', sizeof(path) - 1);
	memset(what, 'X', sizeof(what) - 1);
	memset(x, 0, sizeof(x));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(jr.calls, 1);
	assert_int_equal(jr.status, 0);
	assert_int_equal(jr.entries, 4);
	read_tar(t->out, "two", &f);
	assert_string_equal(f.names, "Dockerfile,app.py,one,two,");
	assert_memory_equal(f.data, CANARY, sizeof(CANARY) - 1);
}

/* A failing extra fails the job with its name in the error. */
static void test_job_error(void **state)
{
	struct tree *t = *state;
	struct context_extra x = {"s", "/nonexistent/x", "secret pipconf"};
	struct job_result jr = {0};
	uv_loop_t loop;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(
	        context_tar_start(&loop, t->proj, NULL, &x, 1, t->out, job_done, &jr, NULL), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(jr.status, -ENOENT);
	assert_non_null(strstr(jr.error, "secret pipconf: No such file"));
	assert_null(strstr(jr.error, "/nonexistent"));
}

/* The one-file tar (a generated Dockerfile) is 0600 too. */
static void test_single(void **state)
{
	struct tree *t = *state;
	struct found f;
	mode_t old = umask(022);

	assert_int_equal(context_tar_single(t->out, "Dockerfile", "FROM x\n", 7), 0);
	umask(old);
	assert_int_equal(file_mode(t->out), 0600);
	read_tar(t->out, "Dockerfile", &f);
	assert_string_equal(f.names, "Dockerfile,");
	assert_int_equal(f.perm, 0644);
	assert_memory_equal(f.data, "FROM x\n", 7);
}

/* The raw name of the first entry whose name holds needle, in buf; false when none. */
static bool tar_raw_name(const char *path, const char *needle, char *buf, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	bool found = false;

	assert_non_null(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	while (!found && archive_read_next_header(a, &e) == ARCHIVE_OK)
		if (strstr(archive_entry_pathname(e), needle)) {
			snprintf(buf, len, "%s", archive_entry_pathname(e));
			found = true;
		}
	archive_read_free(a);
	return found;
}

/* File names that are not UTF-8 go into the tar as their bytes, as the Docker CLI sends
 * them (Go's archive/tar takes a PAX path record as bytes). */
static void test_non_utf8_names(void **state)
{
	struct tree *t = *state;
	const char raw[] = "caf\xe9-\xff.txt";
	char path[256], err[512], name[256], head[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->proj, raw);
	write_file(path, "x", 1, 0644);
	assert_int_equal(write_with(t, NULL, 0, err, sizeof(err)), 0);
	assert_true(tar_raw_name(t->out, "caf", name, sizeof(name)));
	assert_string_equal(name, raw);
	/* no PAX header first: BuildKit reads the first KiB to tell a tar from a Dockerfile */
	fd = open(t->out, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, head, sizeof(head)), (ssize_t)sizeof(head));
	close(fd);
	assert_memory_equal(head, "Dockerfile", 11);
	assert_int_equal(head[156], '0');
}

/* A tree 1000 directories deep (Docker takes it: its paths stay under PATH_MAX). */
static void test_deep_tree(void **state)
{
	struct tree *t = *state;
	char err[512], name[4096];
	int fd, nfd;

	fd = open(t->proj, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	nfd = openat(fd, "bottom", O_WRONLY | O_CREAT, 0644);
	assert_true(nfd >= 0);
	close(nfd);
	close(fd);
	assert_int_equal(write_with(t, NULL, 0, err, sizeof(err)), 0);
	assert_true(tar_raw_name(t->out, "bottom", name, sizeof(name)));
	assert_int_equal(strlen(name), 1000 * 2 + strlen("bottom"));
}

/* What the policy says of such a file reaches the log and the API escaped, never raw. */
static void test_raw_names_escaped(void **state)
{
	struct tree *t = *state;
	struct context_policy policy = {0};
	uint64_t bytes = 0, entries = 0;
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/keys-\xff\x1b[2J", t->proj);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/keys-\xff\x1b[2J/id_rsa", t->proj);
	write_file(path, "k", 1, 0600);
	assert_int_equal(context_tar_write(t->proj, "Dockerfile", NULL, 0, t->out, &policy, &bytes,
	                                   &entries, err, sizeof(err)),
	                 0);
	print_message("policy: %s", policy.text);
	assert_int_equal(policy.secrets, 1);
	assert_non_null(strstr(policy.text, "keys-\\xff\\x1b[2J/id_rsa"));
	for (size_t i = 0; i < policy.text_len; i++)
		assert_true((unsigned char)policy.text[i] < 0x80 && policy.text[i] != 0x1b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_extra_written, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_extra, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_credentials_directory, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_out_error, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_copies, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_job_error, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_single, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_non_utf8_names, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_deep_tree, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_raw_names_escaped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
