/*
 * fuzz_pkgdb — libFuzzer target for the package-database parsers (files
 * read out of untrusted images).
 *
 * The first byte picks the parser (its value mod 7: dpkg status, apk
 * installed, pip freeze, Python METADATA, os-release + debian_version,
 * dist-info directory name, format detection; bit 7 makes the callback stop
 * the walk at the first package); the rest is the input, passed with its
 * exact length and no NUL so ASan sees any read past it. Beyond the
 * sanitizers it checks every returned name and version: non-empty,
 * NUL-terminated within its bound, printable ASCII without blanks, Python names
 * already in PEP 503 form; the count returned equals the callbacks made;
 * an error always comes with a message; an empty ecosystem with a reason.
 */
#include "pkgdb.h"
#include "version.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
	if (!cond)
		abort();
}

/* A token of at most max bytes: non-empty, printable ASCII without blanks. */
static void check_token(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	check(n > 0 && n <= max);
	for (size_t i = 0; i < n; i++)
		check((unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f);
}

static void check_pep503(const char *name)
{
	char again[PKGDB_NAME_MAX + 1];

	check_token(name, PKGDB_NAME_MAX);
	check(pkgdb_pep503(name, again, sizeof(again)) == strlen(name));
	check(!strcmp(again, name));
}

struct walk {
	size_t calls;
	bool stop, python;
};

static int walk_cb(const struct pkgdb_pkg *p, void *arg)
{
	struct walk *w = arg;

	check_token(p->name, PKGDB_NAME_MAX);
	check_token(p->version, VERSION_MAX_LEN);
	check_token(p->source, PKGDB_NAME_MAX);
	check_token(p->source_version, VERSION_MAX_LEN);
	if (w->python)
		check_pep503(p->name);
	w->calls++;
	return w->stop ? -ECANCELED : 0;
}

static void check_error(int r, const char *err, size_t errlen)
{
	check(r == -EINVAL || r == -E2BIG);
	check(strnlen(err, errlen) > 0 && strnlen(err, errlen) < errlen);
}

typedef int (*each_fn)(const char *, size_t, pkgdb_cb, void *, char *, size_t);

static void fuzz_each(each_fn fn, const char *buf, size_t len, bool stop, bool python)
{
	struct walk w = {0, stop, python};
	char err[160] = "";
	int r = fn(buf, len, walk_cb, &w, err, sizeof(err));

	if (r == -ECANCELED) {
		check(stop && w.calls == 1);
		return;
	}
	if (r < 0) {
		check_error(r, err, sizeof(err));
		return;
	}
	check((size_t)r == w.calls && r <= PKGDB_MAX_PKGS);
}

static void fuzz_metadata(const char *buf, size_t len)
{
	char name[PKGDB_NAME_MAX + 1], ver[VERSION_MAX_LEN + 1], err[160] = "";
	int r = pkgdb_python_metadata(buf, len, name, sizeof(name), ver, sizeof(ver), err,
	                              sizeof(err));

	if (r < 0) {
		check_error(r, err, sizeof(err));
		return;
	}
	check(r == 0);
	check_pep503(name);
	check_token(ver, VERSION_MAX_LEN);
}

static void check_os(const struct pkgdb_os *os)
{
	check(strnlen(os->id, sizeof(os->id)) < sizeof(os->id));
	check(strnlen(os->version_id, sizeof(os->version_id)) < sizeof(os->version_id));
	check(strnlen(os->codename, sizeof(os->codename)) < sizeof(os->codename));
	check(strnlen(os->pretty, sizeof(os->pretty)) < sizeof(os->pretty));
	check(strnlen(os->ecosystem, sizeof(os->ecosystem)) < sizeof(os->ecosystem));
	check(!os->ecosystem[0] || !strncmp(os->ecosystem, "Debian:", 7) ||
	      !strncmp(os->ecosystem, "Ubuntu:", 7) || !strncmp(os->ecosystem, "Alpine:v", 8));
}

static void fuzz_os(const char *buf, size_t len)
{
	struct pkgdb_os os;
	char err[160] = "";
	int r = pkgdb_os_release(buf, len, &os, err, sizeof(err));

	if (r < 0) {
		check_error(r, err, sizeof(err));
	} else {
		check(r == 0);
		check_os(&os);
		/* success: a reason exactly when there is no ecosystem */
		check(!os.ecosystem[0] == (err[0] != '\0'));
	}
	memset(&os, 0, sizeof(os));
	if (pkgdb_debian_version(buf, len, &os) == 0) {
		check_os(&os);
		check(!strncmp(os.ecosystem, "Debian:", 7) && os.ecosystem[7]);
	}
}

static void fuzz_dirname(const char *buf, size_t len)
{
	char dir[1024], name[PKGDB_NAME_MAX + 1], ver[VERSION_MAX_LEN + 1];
	size_t n = len < sizeof(dir) - 1 ? len : sizeof(dir) - 1;

	memcpy(dir, buf, n);
	dir[n] = '\0';
	if (pkgdb_dist_dirname(dir, name, sizeof(name), ver, sizeof(ver)) != 0)
		return;
	check_pep503(name);
	check_token(ver, VERSION_MAX_LEN);
	check(strstr(dir, ".dist-info") || strstr(dir, ".egg-info"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf;
	size_t len;
	bool stop;
	int r;

	if (size < 1)
		return 0;
	stop = data[0] & 0x80;
	buf = (const char *)data + 1;
	len = size - 1;
	switch ((data[0] & 0x7f) % 7) {
	case 0:
		fuzz_each(pkgdb_dpkg_each, buf, len, stop, false);
		break;
	case 1:
		fuzz_each(pkgdb_apk_each, buf, len, stop, false);
		break;
	case 2:
		fuzz_each(pkgdb_freeze_each, buf, len, stop, true);
		break;
	case 3:
		fuzz_metadata(buf, len);
		break;
	case 4:
		fuzz_os(buf, len);
		break;
	case 5:
		fuzz_dirname(buf, len);
		break;
	default:
		r = pkgdb_detect(buf, len);
		check(r == PKGDB_DPKG || r == PKGDB_APK || r == PKGDB_FREEZE || r == -EINVAL);
		break;
	}
	return 0;
}
