/*
 * ignore_walk — the directory walk of the ignore module: sorted, never
 * following symlinks, skipping excluded directories that no exception can
 * reach into, reporting what a build context would send.
 */
#include "ignore.h"
#include "array.h"
#include "ignore_impl.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the walk ---- */

struct walk_level {
	size_t len; /* of the directory's relative path */
	struct stat st;
	bool sent;
};

struct walker {
	int rootfd;
	const struct ignore *ig;
	const char *dir; /* for messages, without trailing '/' */
	int dirlen;
	const char *force; /* the Dockerfile's clean relative path, or NULL */
	ignore_entry_cb cb;
	void *arg;
	bool dirs;
	unsigned depth;
	size_t len;
	char path[IGNORE_PATH_MAX];
	char force_buf[IGNORE_PATH_MAX + 2];
	struct walk_level levels[IGNORE_DEPTH_MAX + 1];
	char *err;
	size_t errlen;
};

struct dent {
	char *name;
	struct stat st;
};

/* Writes "DIR/path[/name]: reason" into the error buffer and returns -e; a
 * long relative path keeps its head and tail around "...". */
static int walk_error(struct walker *w, const char *name, int e, const char *reason)
{
	char rel[2 * QUOTE_MAX + 8];
	int n;

	if (!w->err || !w->errlen)
		return -e;
	n = snprintf(rel, sizeof(rel), "%s%s%s%s", w->len ? "/" : "", w->path, name ? "/" : "",
	             name ? name : "");
	if (n >= (int)sizeof(rel))
		snprintf(rel, sizeof(rel), "/%.*s...%s", QUOTE_MAX, w->path,
		         name ? name : w->path + w->len - QUOTE_MAX);
	snprintf(w->err, w->errlen, "%.*s%s: %s", w->dirlen, w->dir, rel,
	         reason ? reason : strerror(e));
	return -e;
}

static void free_dents(struct dent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

static int add_dent(struct walker *w, DIR *d, const char *name, struct dent **v, size_t *n,
                    size_t *cap)
{
	struct stat st;

	if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : walk_error(w, name, errno, NULL); /* gone: skip */
	switch (ARRAY_GROW(*v, *cap, *n, DIR_ENTRIES_MAX)) {
	case -E2BIG:
		return walk_error(w, NULL, EFBIG, "too many directory entries");
	case -ENOMEM:
		return walk_error(w, NULL, ENOMEM, NULL);
	}
	(*v)[*n].name = strdup(name);
	if (!(*v)[*n].name)
		return walk_error(w, NULL, ENOMEM, NULL);
	(*v)[(*n)++].st = st;
	return 0;
}

/* Reads, lstats and sorts the entries of the directory at w->path. */
static int read_dir(struct walker *w, struct dent **ret, size_t *ret_n)
{
	int fd = openat(w->rootfd, w->len ? w->path : ".",
	                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;
	DIR *d;

	if (fd < 0)
		return walk_error(w, NULL, errno, NULL);
	if (!(d = fdopendir(fd))) {
		r = walk_error(w, NULL, errno, NULL);
		close(fd);
		return r;
	}
	while (r == 0) {
		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				r = walk_error(w, NULL, errno, NULL);
			break;
		}
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			r = add_dent(w, d, de->d_name, &v, &n, &cap);
	}
	closedir(d);
	if (r < 0) {
		free_dents(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), dent_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Reports the directories on the current path not reported yet. */
static int send_pending(struct walker *w)
{
	int r;

	if (!w->dirs)
		return 0;
	for (unsigned d = 1; d <= w->depth; d++) {
		struct walk_level *lv = &w->levels[d];
		char c = w->path[lv->len];

		if (lv->sent)
			continue;
		lv->sent = true;
		w->path[lv->len] = '\0';
		r = w->cb(w->path, &lv->st, w->arg);
		w->path[lv->len] = c;
		if (r)
			return r;
	}
	return 0;
}

static bool is_forced(const struct walker *w)
{
	return (w->force && !strcmp(w->path, w->force)) || !strcmp(w->path, ".dockerignore");
}

static bool forced_under(const struct walker *w)
{
	return w->force && !strncmp(w->force, w->path, w->len) && w->force[w->len] == '/';
}

static int walk_dir(struct walker *w);

static int visit_dir(struct walker *w, const struct stat *st)
{
	bool excluded = ignore_excluded(w->ig, w->path);
	struct walk_level *lv;
	int r = 0;

	if (excluded && !forced_under(w) && ignore_prunable(w->ig, w->path))
		return 0;
	if (w->depth == IGNORE_DEPTH_MAX)
		return walk_error(w, NULL, ELOOP, "directory tree too deep");
	lv = &w->levels[++w->depth];
	*lv = (struct walk_level){.len = w->len, .st = *st};
	if (!excluded)
		r = send_pending(w);
	if (r == 0)
		r = walk_dir(w);
	w->depth--;
	return r;
}

static int visit(struct walker *w, const struct dent *e)
{
	size_t save = w->len, nl = strlen(e->name);
	int r;

	if (save + 1 + nl >= IGNORE_PATH_MAX)
		return walk_error(w, e->name, ENAMETOOLONG, NULL);
	if (save)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, e->name, nl + 1);
	w->len += nl;
	if (S_ISDIR(e->st.st_mode)) {
		r = visit_dir(w, &e->st);
	} else if (!is_forced(w) && ignore_excluded(w->ig, w->path)) {
		r = 0;
	} else {
		r = send_pending(w);
		if (r == 0)
			r = w->cb(w->path, &e->st, w->arg);
	}
	w->len = save;
	w->path[save] = '\0';
	return r;
}

static int walk_dir(struct walker *w)
{
	struct dent *v = NULL;
	size_t n = 0;
	int r = read_dir(w, &v, &n);

	for (size_t i = 0; r == 0 && i < n; i++)
		r = visit(w, &v[i]);
	free_dents(v, n);
	return r;
}

/* The Dockerfile to always send: NULL picks "Dockerfile", or "dockerfile"
 * when only that exists (as the CLI does); none when outside the context. */
static void set_forced(struct walker *w, const char *dockerfile)
{
	struct stat st;
	size_t n;

	if (!dockerfile) {
		dockerfile = "Dockerfile";
		if (fstatat(w->rootfd, "Dockerfile", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT &&
		    fstatat(w->rootfd, "dockerfile", &st, AT_SYMLINK_NOFOLLOW) == 0)
			dockerfile = "dockerfile";
	}
	n = strlen(dockerfile);
	if (n >= IGNORE_PATH_MAX)
		return;
	n = ignore_clean_path(dockerfile, n, w->force_buf);
	if (w->force_buf[0] == '/' || !strcmp(w->force_buf, ".") || !strcmp(w->force_buf, "..") ||
	    !strncmp(w->force_buf, "../", 3))
		return; /* outside the context: sent apart, if at all */
	w->force = w->force_buf;
}

/* Reads a whole regular file (following symlinks, as os.Open does). */
static int read_at(int dirfd_, const char *name, char **ret, size_t *ret_len)
{
	int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	ssize_t k;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if (st.st_size > IGNORE_FILE_MAX)
		r = -EFBIG;
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		r = -ENOMEM;
	while (r == 0 && len < (size_t)st.st_size) {
		k = read(fd, buf + len, (size_t)st.st_size - len);
		if (k < 0 && errno != EINTR)
			r = -errno;
		else if (k == 0)
			break;
		else if (k > 0)
			len += (size_t)k;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* "DIR/NAME[:LINE]: reason" for the ignore file NAME (absolute names as is). */
static int file_error(struct walker *w, const char *name, unsigned line, const char *why, int r)
{
	char at[16] = "";

	if (!w->err || !w->errlen)
		return r;
	if (line)
		snprintf(at, sizeof(at), ":%u", line);
	if (name[0] == '/')
		snprintf(w->err, w->errlen, "%s%s: %s", name, at, why);
	else
		snprintf(w->err, w->errlen, "%.*s/%s%s: %s", w->dirlen, w->dir, name, at, why);
	return r;
}

static const char *read_reason(int r)
{
	if (r == -EINVAL)
		return "not a regular file";
	if (r == -EFBIG)
		return "file too large";
	return strerror(-r);
}

/* Loads <dockerfile>.dockerignore, else .dockerignore; neither: *ret = NULL. */
static int load_ignore(struct walker *w, const char *dockerfile, struct ignore **ret)
{
	char name[IGNORE_PATH_MAX + 16], why[REASON_MAX];
	const char *df = dockerfile ? dockerfile : w->force;
	char *text = NULL;
	size_t len = 0;
	unsigned line;
	int r = -ENOENT;

	*ret = NULL;
	if (df && (size_t)snprintf(name, sizeof(name), "%s.dockerignore", df) < sizeof(name))
		r = read_at(w->rootfd, name, &text, &len);
	if (r == -ENOENT || r == -ENOTDIR) {
		snprintf(name, sizeof(name), ".dockerignore");
		r = read_at(w->rootfd, name, &text, &len);
		if (r == -ENOENT)
			return 0;
	}
	if (r < 0)
		return file_error(w, name, 0, read_reason(r), r);
	r = ignore_parse_text(text, len, ret, &line, why);
	free(text);
	return r < 0 ? file_error(w, name, line, why, r) : 0;
}

static int walk(const char *dir, const char *dockerfile, bool dirs, ignore_entry_cb cb, void *arg,
                char *err, size_t errlen)
{
	struct walker *w = calloc(1, sizeof(*w));
	struct ignore *ig = NULL;
	size_t dl = strlen(dir);
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!w) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", dir, strerror(ENOMEM));
		return -ENOMEM;
	}
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	*w = (struct walker){.dir = dir,
	                     .dirlen = dl > 4096 ? 4096 : (int)dl,
	                     .cb = cb,
	                     .arg = arg,
	                     .dirs = dirs,
	                     .err = err,
	                     .errlen = errlen};
	w->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->rootfd < 0) {
		r = walk_error(w, NULL, errno, NULL);
		goto out;
	}
	set_forced(w, dockerfile);
	r = load_ignore(w, dockerfile, &ig);
	w->ig = ig;
	if (r == 0)
		r = walk_dir(w);
	close(w->rootfd);
out:
	ignore_free(ig);
	free(w);
	return r;
}

int ignore_walk_entries(const char *dir, const char *dockerfile, ignore_entry_cb cb, void *arg,
                        char *err, size_t errlen)
{
	return walk(dir, dockerfile, true, cb, arg, err, errlen);
}

struct files_only {
	ignore_walk_cb cb;
	void *arg;
};

static int files_only_cb(const char *relpath, const struct stat *st, void *arg)
{
	const struct files_only *f = arg;

	(void)st;
	return f->cb(relpath, f->arg);
}

int ignore_walk(const char *dir, const char *dockerfile, ignore_walk_cb cb, void *arg, char *err,
                size_t errlen)
{
	struct files_only f = {cb, arg};

	return walk(dir, dockerfile, false, files_only_cb, &f, err, errlen);
}
