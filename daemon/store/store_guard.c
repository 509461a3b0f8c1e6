/*
 * store_guard.c — what store_open makes sure of before refitd writes a byte of state.db:
 * the file is refit's (its application_id, or a refit schema from before the mark existed),
 * it is not damaged (PRAGMA quick_check), and it can be written. A foreign or damaged file
 * is left exactly as it was found; refitd never builds new history over a broken one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_impl.h"

/* "Rfit": the mark in the database header (offset 68) that says the file is refit's. */
#define STORE_APPLICATION_ID 0x52666974u

/* Every table refit's migrations create; a file with any other is somebody else's. */
static const char refit_tables[] =
        "'engines','projects','bases','builds','triggers','events','project_bases','feeds',"
        "'advisories','inventories','inventory_pkgs','build_advisories','advisory_changes',"
        "'outbox','current_images','inventory_ecosystems','holds','build_inputs','base_tags',"
        "'build_counts','build_durations','promotions','last_success','follows',"
        "'sqlite_sequence'";

static const char what_to_do_damaged[] =
        "refitd will not write over damaged history: stop it, restore state.db from a backup "
        "(with its -wal file), or move state.db aside to start fresh (the build history, "
        "pending triggers and image inventories are then lost; images already pushed stay "
        "in the registry)";

static const char what_to_do_foreign[] =
        "refitd leaves it untouched: point state_dir at a directory of refit's own, or move "
        "the file away";

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Reads the 100-byte header with plain read(): SQLite itself could roll a hot journal back
 * or create -shm files beside a file that is not ours. ret_kind: 0 new or empty, 1 marked
 * as refit's, 2 an SQLite file without a mark (looked at further).
 */
static int header_kind(const char *path, int *ret_kind, char *err, size_t errlen)
{
	unsigned char h[100];
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	ssize_t n;
	uint32_t app;

	if (fd < 0 && errno == ENOENT) {
		*ret_kind = 0;
		return 0;
	}
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	n = read(fd, h, sizeof(h));
	e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (n == 0) {
		*ret_kind = 0;
		return 0;
	}
	if (n < (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0) {
		snprintf(err, errlen, "%s is not a database (no SQLite header): %s", path,
		         what_to_do_foreign);
		return -EPROTO;
	}
	app = be32(h + 68);
	if (app != 0 && app != STORE_APPLICATION_ID) {
		snprintf(err, errlen,
		         "%s belongs to another application (SQLite application_id 0x%08x), not "
		         "refit: %s",
		         path, app, what_to_do_foreign);
		return -EPROTO;
	}
	*ret_kind = app ? 1 : 2;
	return 0;
}

/* file:PATH?immutable=1 — SQLite reads it without locks, journals, -wal or -shm files. */
static char *immutable_uri(const char *path)
{
	size_t n = strlen(path);
	char *u = malloc(n * 3 + 32), *p = u;

	if (!u)
		return NULL;
	p += sprintf(p, "file:");
	for (const char *c = path; *c; c++)
		p += strchr("%?#", *c) ? sprintf(p, "%%%02X", (unsigned char)*c)
		                       : sprintf(p, "%c", *c);
	strcpy(p, "?immutable=1");
	return u;
}

/* Runs a one-value query; ret gets the integer or, with buf, the text. */
static int one_value(sqlite3 *db, const char *sql, int64_t *ret, char *buf, size_t len)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && ret)
		*ret = sqlite3_column_int64(st, 0);
	if (buf) {
		const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
		snprintf(buf, len, "%s", t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static bool corrupt(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* An SQLite file without refit's mark: empty, refit's schema from before the mark, or not
 * ours (tables refit never creates, or a schema version refit never wrote). */
static int unmarked_is_ours(const char *path, int *ret_kind, char *err, size_t errlen)
{
	char *uri = immutable_uri(path), other[256] = "";
	sqlite3 *db = NULL;
	int64_t version = -1, tables = -1, builds = -1;
	int rc, r = 0;

	if (!uri) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (rc == SQLITE_OK)
		rc = one_value(db, "PRAGMA user_version", &version, NULL, 0);
	if (rc == SQLITE_OK)
		rc = one_value(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
		               &tables, NULL, 0);
	if (rc == SQLITE_OK)
		rc = one_value(db,
		               "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND"
		               " name = 'builds'",
		               &builds, NULL, 0);
	if (rc == SQLITE_OK) {
		char sql[1024];
		snprintf(sql, sizeof(sql),
		         "SELECT group_concat(name, ', ') FROM (SELECT name FROM sqlite_schema"
		         " WHERE type = 'table' AND name NOT IN (%s) ORDER BY name LIMIT 5)",
		         refit_tables);
		rc = one_value(db, sql, NULL, other, sizeof(other));
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory",
		         corrupt(rc) ? what_to_do_damaged : "cannot read it");
		r = corrupt(rc) ? -EUCLEAN : -EIO;
	} else if (tables == 0 && version == 0) {
		*ret_kind = 0;
	} else if (other[0] || builds != 1 || version < 1) {
		char why[320];
		if (other[0])
			snprintf(why, sizeof(why), "tables %s", other);
		else if (builds != 1)
			snprintf(why, sizeof(why), "no builds table");
		else
			snprintf(why, sizeof(why), "schema version %lld", (long long)version);
		snprintf(err, errlen,
		         "%s is an SQLite database that is not refit's state (%s; no refit mark): "
		         "%s",
		         path, why, what_to_do_foreign);
		r = -EPROTO;
	}
	sqlite3_close(db);
	free(uri);
	return r;
}

int store_guard_file(const char *path, bool *ret_fresh, char *err, size_t errlen)
{
	int kind = 0, r = header_kind(path, &kind, err, errlen);

	if (r == 0 && kind == 2)
		r = unmarked_is_ours(path, &kind, err, errlen);
	if (r == 0)
		*ret_fresh = kind == 0;
	return r;
}

/* Refuses a file SQLite could only open read-only (chattr +i, mode, a read-only mount). */
static int check_writable(struct store *s, const char *path, char *err, size_t errlen)
{
	if (sqlite3_db_readonly(s->db, "main") != 1)
		return 0;
	snprintf(err, errlen,
	         "%s cannot be opened for writing (read-only file or filesystem, or the immutable "
	         "attribute: lsattr): refitd needs to write its state there",
	         path);
	return -EROFS;
}

int store_guard_open(struct store *s, const char *path, bool fresh, char *err, size_t errlen)
{
	char verdict[512] = "";
	int rc, r = check_writable(s, path, err, errlen);

	if (r < 0 || fresh)
		return r;
	rc = one_value(s->db, "PRAGMA quick_check(1)", NULL, verdict, sizeof(verdict));
	if (rc == SQLITE_OK && strcmp(verdict, "ok") == 0)
		return 0;
	if (rc == SQLITE_OK || corrupt(rc)) {
		snprintf(err, errlen, "%s is damaged (quick_check: %s): %s", path,
		         rc == SQLITE_OK ? verdict : sqlite3_errmsg(s->db), what_to_do_damaged);
		return -EUCLEAN;
	}
	snprintf(err, errlen,
	         "%s cannot be read: %s (SQLite needs to create state.db-wal and state.db-shm "
	         "beside it: is the directory writable?)",
	         path, sqlite3_errmsg(s->db));
	return rc == SQLITE_FULL ? -ENOSPC : -EIO;
}

int store_guard_mark(struct store *s, const char *path, char *err, size_t errlen)
{
	char sql[64];
	int rc;

	/* Written on every start: it marks the file as refit's and proves a commit goes through
	 * before anything runs (an immutable directory, a full disk). */
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", (int)STORE_APPLICATION_ID);
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s cannot be written: %s%s", path, sqlite3_errmsg(s->db),
	         (rc & 0xff) == SQLITE_FULL ? " (the filesystem is full)" : "");
	return (rc & 0xff) == SQLITE_FULL ? -ENOSPC : -EROFS;
}
