/*
 * pkgdb — the package inventory of an image, parsed from the files read out
 * of it: dpkg's /var/lib/dpkg/status (or one file of the distroless
 * /var/lib/dpkg/status.d/), apk's /lib/apk/db/installed, a pip-freeze list,
 * a wheel's METADATA or an egg's PKG-INFO, a .dist-info/.egg-info directory
 * name, /etc/os-release and /etc/debian_version. The advisory matcher needs
 * (name, version) per package plus the source package, since Debian and
 * Alpine advisories name source packages, and the OSV ecosystem of the OS.
 *
 * Pure: no I/O, no allocation, no globals. Buffers are (buf, len) and need
 * no NUL terminator; a NUL byte inside a kept value is an error. Limits:
 * PKGDB_MAX_PKGS packages reported per file (-E2BIG past it), names up to
 * PKGDB_NAME_MAX bytes, versions up to VERSION_MAX_LEN (version.h); the file
 * size is the caller's to bound. Names and versions are printable ASCII
 * without blanks (true of every ecosystem here, and safe for JSON and logs);
 * beyond that, versions are not checked: their syntax is the version
 * module's job when they are compared, so one odd package cannot hide all
 * the others. os-release's PRETTY_NAME is kept as its bytes are.
 *
 * Errors are a negative errno and a message in err: "line N: ..." (with
 * ":COL" where a column helps), lines counted from 1.
 */
#ifndef REFIT_PKGDB_H
#define REFIT_PKGDB_H

#include <stddef.h>

#define PKGDB_MAX_PKGS 100000
#define PKGDB_NAME_MAX 256

/*
 * One package, borrowed for the duration of the callback. The first four
 * are non-empty NUL-terminated strings: source defaults to name and
 * source_version to version where the database names no source. arch
 * (dpkg Architecture, apk A:) and license (apk L:, printable ASCII up to
 * PKGDB_LICENSE_MAX bytes) are NULL when the database does not say.
 */
struct pkgdb_pkg {
	const char *name, *version, *source, *source_version;
	const char *arch, *license;
};

#define PKGDB_ARCH_MAX    64
#define PKGDB_LICENSE_MAX 256

/* Called once per package; a negative return stops the walk and is returned. */
typedef int (*pkgdb_cb)(const struct pkgdb_pkg *p, void *arg);

enum pkgdb_format { PKGDB_DPKG = 1, PKGDB_APK, PKGDB_FREEZE };

/*
 * Walks the installed packages of a dpkg status file (deb822 stanzas).
 * Counted: Status "<want> <flag> installed", also triggers-awaited and
 * triggers-pending (configured, files all on disk: dpkg itself treats them
 * as installed for dependencies), and stanzas without Status (distroless
 * status.d files are `dpkg-deb --field` output, which has none). Skipped:
 * not-installed, config-files, half-installed, unpacked, half-configured.
 * Source is "name" or "name (version)". Field names are case-insensitive,
 * CRLF is accepted, a repeated field in a stanza is an error (as in dpkg).
 * Two stanzas of the same name (multi-arch: libc6:amd64 and libc6:i386) are
 * both reported: each is an installed copy the matcher must see.
 * Returns the number of packages reported, or a negative errno.
 */
int pkgdb_dpkg_each(const char *buf, size_t len, pkgdb_cb cb, void *arg, char *err, size_t errlen);

/*
 * Walks apk's installed database: "X:value" lines, a blank line between
 * packages; P: name, V: version, o: origin (the source; defaults to the
 * name). source_version is the version: an apk origin is built at the same
 * version. Any line not of the "X:" form is an error, as in apk-tools.
 * Returns the number of packages, or a negative errno.
 */
int pkgdb_apk_each(const char *buf, size_t len, pkgdb_cb cb, void *arg, char *err, size_t errlen);

/*
 * Walks a pip-freeze (or pinned requirements) list: "name==version" or
 * "name===version", optional [extras], "; markers", " # comment" and trailing
 * "--hash=..." options; names are returned PEP 503-normalised, source is the
 * name. Skipped: blank lines, # comments, option lines (-e, -r, --hash...),
 * direct references ("name @ url"), unpinned lines ("name", "name>=1",
 * "name==1.*"). A line with "==" whose name or version is malformed, or that
 * has a second specifier ("==1,<2"), is an error. Backslash continuations
 * need no support: a continued line holds options only. Returns the number
 * of packages, or a negative errno.
 */
int pkgdb_freeze_each(const char *buf, size_t len, pkgdb_cb cb, void *arg, char *err,
                      size_t errlen);

/*
 * Reads the first Name: and Version: of a dist-info METADATA or egg-info
 * PKG-INFO header (RFC 822 style, up to the first empty line or the first
 * line that is not a header, as Python's email parser reads it). The name
 * is returned PEP 503-normalised. -EINVAL when either is missing or
 * malformed, -ENOSPC when name_n or version_n is too small.
 */
int pkgdb_python_metadata(const char *buf, size_t len, char *name, size_t name_n, char *version,
                          size_t version_n, char *err, size_t errlen);

/*
 * Writes the PEP 503 form of a PEP 508 project name (lowercase, each run of
 * '-', '_', '.' one '-') to out. Returns its length, or 0 when name is not a
 * valid project name, is longer than PKGDB_NAME_MAX, or does not fit in n.
 */
size_t pkgdb_pep503(const char *name, char *out, size_t n);

/*
 * Splits a "NAME-VERSION.dist-info" or "NAME-VERSION[-pyX.Y[-PLATFORM]].egg-info"
 * directory name (what is left when METADATA is missing) into the
 * PEP 503-normalised name and the version. -EINVAL for any other shape, a
 * name without a version ("cryptography.egg-info") included; -ENOSPC when a
 * buffer is too small.
 */
int pkgdb_dist_dirname(const char *dirname, char *name, size_t nn, char *version, size_t vn);

/* What an os-release file says, and the OSV ecosystem it maps to. */
struct pkgdb_os {
	char id[32], version_id[32], codename[32], pretty[128];
	char ecosystem[64]; /* "Debian:12", "Ubuntu:22.04:LTS", "Alpine:v3.18" or "" */
};

/*
 * Parses os-release(5) KEY=value lines (values unquoted, 'single' or "double"
 * quoted with shell backslash escapes; '#' comments) and maps ID and
 * VERSION_ID to the OSV ecosystem: Debian:MAJOR (VERSION_CODENAME when there
 * is no VERSION_ID, as in testing), Ubuntu:YY.MM with ":LTS" for even-year
 * .04 releases, Alpine:vMAJOR.MINOR. Returns 0 on success; when no ecosystem
 * applies (a derivative, Alpine edge, an unknown codename) ecosystem is ""
 * and err says why. ID defaults to "linux" as os-release(5) says. A
 * PRETTY_NAME longer than pretty is cut; a longer ID, VERSION_ID or codename
 * is an error. -EINVAL with line:col on a malformed line.
 */
int pkgdb_os_release(const char *buf, size_t len, struct pkgdb_os *ret, char *err, size_t errlen);

/*
 * The fallback for a Debian os-release without VERSION_ID: /etc/debian_version
 * ("12.9" or "trixie/sid") gives Debian:12 / Debian:13. Sets id, version_id,
 * codename (when named) and ecosystem, leaving pretty alone. -EINVAL for
 * anything else (on Ubuntu the file names a Debian codename: do not use it
 * there).
 */
int pkgdb_debian_version(const char *buf, size_t len, struct pkgdb_os *ret);

/*
 * Guesses the format of an inventory file from its first non-blank line
 * (and first stanza): PKGDB_DPKG, PKGDB_APK, PKGDB_FREEZE, or -EINVAL.
 */
int pkgdb_detect(const char *buf, size_t len);

#endif
