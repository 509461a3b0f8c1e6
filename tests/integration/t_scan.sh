#!/bin/bash
# refitctl scan, offline, on the real package databases of tests/fixtures/feeds/pkgdb against
# the real OSV records of tests/fixtures/feeds/osv and the whole PyPA database (converted by
# osvmirror.py): the exact findings, the release separation that --os-release gives, the
# exit codes and the JSON form.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
F=$HERE/../fixtures/feeds
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
scan() { "$REFITCTL" scan "$@" 2>"$T/err"; }

# musl 1.2.3-r1 of the nginx:alpine (3.16.3) image: ALPINE-CVE-2025-26519's v3.16 entry.
out=$(scan --inventory "$F/pkgdb/alpine3.16-nginx-image.apk-installed" \
	--os-release "$F/pkgdb/alpine3.16-nginx-image.os-release" --feed "$F/osv")
[ $? = 1 ] && [ "$out" = "ALPINE-CVE-2025-26519 musl 1.2.3-r1 -> 1.2.3-r4" ] || fail "alpine 3.16: $out"
# alpine:3.18's musl 1.2.4-r0 against the v3.18 entry (release unknown: every branch is used).
out=$(scan --inventory "$F/pkgdb/alpine3.18-base.apk-installed" --feed "$F/osv")
[ "$out" = "ALPINE-CVE-2025-26519 musl 1.2.4-r0 -> 1.2.4-r3" ] || fail "alpine 3.18: $out"
grep -q "every Alpine release" "$T/err" || fail "no warning without --os-release"
# python:3.12-slim (Debian 12) and nginx (Debian 11): the saved Debian records are DLAs of
# Debian 9 and a DSA of Debian 7, fixed in versions older than these images have.
for img in debian12-python3.12-slim-image debian11-nginx-image; do
	out=$(scan --inventory "$F/pkgdb/$img.dpkg-status" --os-release "$F/pkgdb/$img.os-release" \
		--feed "$F/osv")
	[ $? = 0 ] && [ -z "$out" ] || fail "$img: $out"
done
# Ubuntu 18.04 (texlive image): matched by source package; glibc and linux have no fix.
out=$(scan --inventory "$F/pkgdb/ubuntu18.04-texlive.dpkg-status" --feed "$F/osv")
want=$'UBUNTU-CVE-2016-20013 glibc 2.27-3ubuntu1 -> unfixed\nUBUNTU-CVE-2025-38094 linux 4.15.0-101.102 -> unfixed'
[ "$out" = "$want" ] || fail "ubuntu 18.04: $out"
ok "scan: apk and dpkg databases of real images against real OSV records"

# A real pip freeze (Debian 12's system Python) against the whole PyPA database.
tar -C "$T" -xJf "$F/pypa/pypa-advisory-database.tar.xz"
python3 "$HERE/../testbed/osvmirror.py" "$T/pypa-advisory-database" "$T/mirror" >/dev/null ||
	fail "mirror conversion"
out=$(scan --inventory "$F/pkgdb/debian12-system.pip-freeze" --feed "$T/mirror/PyPI")
want=$'PYSEC-2023-11 cryptography 38.0.4 -> 39.0.1\nPYSEC-2023-254 cryptography 38.0.4 -> 41.0.6\nPYSEC-2023-117 pygments 2.14.0 -> 2.15.1'
[ "$out" = "$want" ] || fail "pip freeze: $out"
scan --json --inventory "$F/pkgdb/debian12-system.pip-freeze" --feed "$T/mirror/PyPI/all.zip" \
	>"$T/json"
python3 - "$T/json" <<'PY' || fail "scan --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ecosystem"] == "PyPI" and d["records"] > 2600, d["records"]
got = [(a["id"], a["package"], a["installed"], a["fixed"]) for a in d["advisories"]]
assert ("PYSEC-2023-11", "cryptography", "38.0.4", "39.0.1") in got, got
assert all("CVE-" in " ".join(a["aliases"]) for a in d["advisories"]), d
PY
ok "scan: pip freeze against the PyPA database (directory and all.zip, text and JSON)"

scan --inventory "$F/pkgdb/alpine3.18-base.apk-installed" >/dev/null
[ $? = 2 ] || fail "missing --feed is not a usage error"
scan --inventory "$T/nonexistent" --feed "$F/osv" >/dev/null
[ $? = 1 ] || fail "a missing inventory is not a failure"
printf 'not a package list\n' >"$T/junk"
scan --inventory "$T/junk" --feed "$F/osv" >/dev/null
[ $? = 1 ] && grep -q "not a dpkg status" "$T/err" || fail "junk inventory: $(cat "$T/err")"
ok "scan: exit codes 0 / 1 / 2 and clear errors"
