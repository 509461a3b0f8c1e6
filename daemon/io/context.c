#include "context.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "config.h"
#include "fileread.h"
#include "ignore.h"
#include "lint.h"

struct tar_state {
	struct archive *a;
	const char *dir, *out;
	uint64_t bytes, entries;
	char err[512];
	struct lint_context *lc;
	struct context_policy *policy;
};

struct context_job {
	uv_work_t work;
	char *dir, *dockerfile, *out;
	struct context_extra *extra; /* copies, pointing into strings */
	size_t n_extra;
	char *strings;
	context_cb cb;
	void *arg;
	int status;
	uint64_t bytes, entries;
	char err[512];
	struct context_policy policy;
};

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 when there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80                    ? 1
	             : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
	             : s[0] >= 0xe0 && s[0] <= 0xef ? 3
	             : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
	                                            : 0;

	if (!len || len > n)
		return 0;
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * File names are bytes: what is not UTF-8, and control bytes, go into messages (the log, the
 * build record, the API's JSON) as \xNN, never raw. In place; cut short to fit cap.
 */
static void escape_raw(char *s, size_t cap)
{
	char out[4096];
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;

	for (size_t i = 0; i < n && o + 5 < sizeof(out);) {
		size_t k = utf8_len(p + i, n - i);
		if (k && (p[i] >= 0x20 || p[i] == '\n' || p[i] == '\t') && p[i] != 0x7f) {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		} else {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", p[i++]);
		}
	}
	out[o] = '\0';
	snprintf(s, cap, "%s", out);
}

/* Secret-looking files fail the policy; data files are reported as warnings. */
static void on_finding(const struct lint_finding *f, void *arg)
{
	struct context_policy *p = arg;
	char *line;

	if (f->severity == LINT_ERROR)
		p->secrets++;
	else if (f->severity == LINT_WARNING)
		p->data++;
	else
		return;
	if (p->text_len + 256 >= sizeof(p->text))
		return;
	line = p->text + p->text_len;
	p->text_len += (size_t)snprintf(line, sizeof(p->text) - p->text_len, "%s %s %s: %s\n",
	                                f->rule, lint_severity_name(f->severity),
	                                f->path ? f->path : "", f->message);
}

/*
 * libarchive failed on what: when writing the archive out failed (a full disk), the error
 * says so, since it is no fault of the context ("Write error" alone blamed the file).
 */
static int archive_failed(struct tar_state *t, const char *what)
{
	int e = archive_errno(t->a);

	if (e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS) {
		snprintf(t->err, sizeof(t->err),
		         "writing the build context to %s failed at %s: %s%s", t->out, what,
		         strerror(e),
		         e == ENOSPC || e == EDQUOT ? " (the filesystem of state_dir is full)"
		                                    : "");
		return -e;
	}
	snprintf(t->err, sizeof(t->err), "%s: %s", what, archive_error_string(t->a));
	return -EIO;
}

static int copy_data(struct tar_state *t, const char *rel, int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(t->a, buf, (size_t)n) < 0)
			return archive_failed(t, rel);
	if (n < 0) {
		snprintf(t->err, sizeof(t->err), "%s: %s", rel, strerror(errno));
		return -errno;
	}
	return 0;
}

static int set_link(struct tar_state *t, struct archive_entry *e, const char *rel)
{
	char path[8192], target[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		snprintf(t->err, sizeof(t->err), "%s: %s", rel, strerror(errno));
		return -errno;
	}
	target[n] = '\0';
	archive_entry_set_symlink(e, target);
	return 0;
}

/* Adds one entry; file contents are read through a descriptor opened with O_NOFOLLOW. */
static int add_entry(const char *rel, const struct stat *st, void *arg)
{
	struct tar_state *t = arg;
	struct archive_entry *e = archive_entry_new();
	char path[8192];
	int fd = -1, r = 0;

	if (!e)
		return -ENOMEM;
	if (++t->entries > CONTEXT_MAX_ENTRIES ||
	    (t->bytes += (uint64_t)st->st_size) > CONTEXT_MAX_BYTES) {
		snprintf(t->err, sizeof(t->err), "the build context is too large");
		archive_entry_free(e);
		return -EFBIG;
	}
	if (t->lc && !S_ISDIR(st->st_mode))
		lint_context_file(t->lc, rel, (uint64_t)st->st_size);
	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, rel);
	archive_entry_set_uid(e, 0); /* as the Docker CLI: the daemon chowns to root anyway */
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "");
	archive_entry_set_gname(e, "");
	if (S_ISLNK(st->st_mode))
		r = set_link(t, e, rel);
	if (!S_ISREG(st->st_mode))
		archive_entry_set_size(e, 0);
	if (r == 0 && S_ISREG(st->st_mode)) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			snprintf(t->err, sizeof(t->err), "%s: %s", rel, strerror(errno));
			r = -errno;
		}
	}
	/* ARCHIVE_WARN: a name that is not UTF-8 went into its PAX path record as bytes (with
	 * hdrcharset=BINARY), which is what the Docker CLI sends and dockerd reads. Only such
	 * entries get a PAX header: one on the first entry would make BuildKit, which looks at
	 * the first KiB, take the tar for a Dockerfile. */
	if (r == 0 && archive_write_header(t->a, e) < ARCHIVE_WARN)
		r = archive_failed(t, rel);
	if (r == 0 && fd >= 0)
		r = copy_data(t, rel, fd);
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return r;
}

/* Reads an extra file whole: a regular file of at most CONTEXT_EXTRA_MAX bytes. */
static int read_extra(const char *path, char **ret, size_t *ret_len)
{
	char full[4096];

	if (config_resolve_path(path, full, sizeof(full)) < 0)
		return -ENAMETOOLONG;
	return fileread_small(full, CONTEXT_EXTRA_MAX, ret, ret_len, NULL);
}

/* Adds an extra file as a 0400 root-owned entry; errors name it (what), never show its bytes
 * nor say where it is (a secret's path is nobody's business). */
static int add_extra(struct tar_state *t, const struct context_extra *x)
{
	const char *what = x->what ? x->what : x->name;
	struct archive_entry *e = NULL;
	char *data = NULL;
	size_t len = 0;
	int r = read_extra(x->path, &data, &len);

	if (r < 0) {
		snprintf(t->err, sizeof(t->err), "%s: %s", what,
		         r == -EFBIG    ? "larger than 500 KiB (or it grew while it was read)"
		         : r == -EBADFD ? "not a regular file"
		                        : strerror(-r));
		return r;
	}
	t->entries++;
	t->bytes += len;
	if (!(e = archive_entry_new())) {
		r = -ENOMEM;
		goto out;
	}
	archive_entry_set_pathname(e, x->name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0400);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(t->a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(t->a, data, len) != (la_ssize_t)len))
		r = archive_failed(t, what);
out:
	archive_entry_free(e);
	if (data)
		explicit_bzero(data, len);
	free(data);
	return r;
}

/*
 * A fresh out_path (an old file is replaced), 0600 whatever the umask: the tar
 * may carry secrets, and no earlier opener of the old file sees them.
 */
static int open_out(const char *path)
{
	int fd;

	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

/* A pax writer on out_path's descriptor; the caller closes *ret_fd after the writer. */
static struct archive *writer_open(const char *out_path, int *ret_fd, char *err, size_t errlen)
{
	struct archive *a = archive_write_new();
	int fd;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	archive_write_set_format_pax_restricted(a);
	fd = open_out(out_path);
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", out_path, strerror(-fd));
	else if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
		snprintf(err, errlen, "%s: %s", out_path, archive_error_string(a));
	else {
		*ret_fd = fd;
		return a;
	}
	if (fd >= 0)
		close(fd);
	archive_write_free(a);
	return NULL;
}

int context_tar_write(const char *dir, const char *dockerfile, const struct context_extra *extra,
                      size_t n_extra, const char *out_path, struct context_policy *policy,
                      uint64_t *ret_bytes, uint64_t *ret_entries, char *err, size_t errlen)
{
	struct tar_state t = {.dir = dir, .out = out_path, .policy = policy};
	int fd = -1, r = -EIO;

	if (policy && !(t.lc = lint_context_new(on_finding, policy))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!(t.a = writer_open(out_path, &fd, err, errlen)))
		goto out;
	r = ignore_walk_entries(dir, dockerfile, add_entry, &t, err, errlen);
	for (size_t i = 0; r == 0 && i < n_extra; i++)
		r = add_extra(&t, &extra[i]);
	if (r != 0 && t.err[0])
		snprintf(err, errlen, "%s", t.err);
	if (archive_write_close(t.a) != ARCHIVE_OK && r == 0) {
		r = archive_failed(&t, "its end");
		snprintf(err, errlen, "%s", t.err);
	}
out:
	archive_write_free(t.a);
	if (fd >= 0 && close(fd) < 0 && r == 0) {
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
		r = -EIO;
	}
	if (t.lc)
		lint_context_done(t.lc);
	if (policy) {
		escape_raw(policy->text, sizeof(policy->text));
		policy->text_len = strlen(policy->text);
	}
	if (r != 0)
		escape_raw(err, errlen);
	if (r == 0) {
		*ret_bytes = t.bytes;
		*ret_entries = t.entries;
	}
	return r < 0 ? r : r > 0 ? -EIO : 0;
}

static void work_cb(uv_work_t *w)
{
	struct context_job *j = w->data;

	j->status = context_tar_write(j->dir, j->dockerfile, j->extra, j->n_extra, j->out,
	                              &j->policy, &j->bytes, &j->entries, j->err, sizeof(j->err));
}

static void job_free(struct context_job *j)
{
	free(j->extra);
	free(j->strings);
	free(j->dir);
	free(j->dockerfile);
	free(j->out);
	free(j);
}

static void after_cb(uv_work_t *w, int status)
{
	struct context_job *j = w->data;
	struct context_result r = {.status = status < 0 ? -ECANCELED : j->status,
	                           .error = j->err,
	                           .path = j->out,
	                           .bytes = j->bytes,
	                           .entries = j->entries,
	                           .policy = &j->policy};

	j->cb(&r, j->arg);
	job_free(j);
}

/* Appends a copy of str to the block at *at; NULL stays NULL. */
static const char *put(char **at, const char *str)
{
	char *p = *at;
	size_t n;

	if (!str)
		return NULL;
	n = strlen(str) + 1;
	memcpy(p, str, n);
	*at += n;
	return p;
}

/* The extras and their strings in one allocation (j->strings). */
static int copy_extra(struct context_job *j, const struct context_extra *extra, size_t n)
{
	size_t size = 0;
	char *at;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		size += strlen(extra[i].name) + strlen(extra[i].path) +
		        (extra[i].what ? strlen(extra[i].what) : 0) + 3;
	j->extra = calloc(n, sizeof(*j->extra));
	j->strings = at = malloc(size);
	if (!j->extra || !j->strings)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		j->extra[i].name = put(&at, extra[i].name);
		j->extra[i].path = put(&at, extra[i].path);
		j->extra[i].what = put(&at, extra[i].what);
	}
	j->n_extra = n;
	return 0;
}

int context_tar_start(uv_loop_t *loop, const char *dir, const char *dockerfile,
                      const struct context_extra *extra, size_t n_extra, const char *out_path,
                      context_cb cb, void *arg, struct context_job **ret)
{
	struct context_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->dir = strdup(dir);
	j->dockerfile = dockerfile ? strdup(dockerfile) : NULL;
	j->out = strdup(out_path);
	j->cb = cb;
	j->arg = arg;
	j->work.data = j;
	if (!j->dir || !j->out || (dockerfile && !j->dockerfile) ||
	    copy_extra(j, extra, n_extra) < 0) {
		job_free(j);
		return -ENOMEM;
	}
	r = uv_queue_work(loop, &j->work, work_cb, after_cb);
	if (r < 0) {
		job_free(j);
		return -EIO;
	}
	if (ret)
		*ret = j;
	return 0;
}

int context_tar_first_file(const void *tar, size_t len, size_t max, char **ret, size_t *ret_len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *buf = NULL;
	la_int64_t size;
	ssize_t got;
	int r = -EBADMSG;

	if (!a)
		return -ENOMEM;
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, tar, len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK)
		goto out;
	if (archive_entry_filetype(e) != AE_IFREG) {
		r = -EISDIR;
		goto out;
	}
	size = archive_entry_size(e);
	if (size < 0 || (uint64_t)size > max) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	got = archive_read_data(a, buf, (size_t)size);
	if (got != (ssize_t)size)
		goto out;
	buf[size] = '\0';
	*ret = buf;
	*ret_len = (size_t)size;
	buf = NULL;
	r = 0;
out:
	free(buf);
	archive_read_free(a);
	return r;
}

int context_tar_single(const char *out_path, const char *name, const char *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	struct archive *a = NULL;
	char err[256];
	int fd = -1, r = -EIO;

	if (!e)
		return -ENOMEM;
	if (!(a = writer_open(out_path, &fd, err, sizeof(err))))
		goto out;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(a, e) == ARCHIVE_OK &&
	    archive_write_data(a, data, len) == (la_ssize_t)len)
		r = 0;
	if (archive_write_close(a) != ARCHIVE_OK)
		r = -EIO;
out:
	archive_entry_free(e);
	archive_write_free(a);
	if (fd >= 0 && close(fd) < 0)
		r = -EIO;
	return r;
}
