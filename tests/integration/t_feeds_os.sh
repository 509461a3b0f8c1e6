#!/bin/bash
# Distribution feeds end to end: an Alpine image matched against the real
# Alpine secdb (v3.11 main and community, as JSON) and a Debian 12 image
# matched against a real excerpt of the Debian security tracker document
# (streamed), read from a file:// mirror and the test bed's HTTP server. The images are
# busybox with the package databases of the releases copied in, so the
# inventory (os-release, apk installed, dpkg status) is read from a real
# image; the packages named there are real versions of those releases.
# Each gets exactly one no-cache rebuild; the databases are not changed by
# it, so the advisories end pending-upstream and nothing loops. A Debian 9 image is matched
# against the real DLA records through an OSV bucket (all.zip, modified_id.csv) over HTTP.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
FIX=$HERE/../fixtures/feeds
tb_init
tb_standard_bed # private dockerd, registry, base image; $R

M=$TB_DIR/mirror
mkdir -p "$M/alpine/v3.11" "$M/debian"
cp "$FIX/alpine-secdb/converted-json/v3.11-main.json" "$M/alpine/v3.11/main.json"
cp "$FIX/alpine-secdb/converted-json/v3.11-community.json" "$M/alpine/v3.11/community.json"
cp "$FIX/debian-tracker/tracker-json-excerpt-vunnel.json" "$M/debian/json"
# An OSV bucket for Debian: the real DLA/DSA records, with modified_id.csv and all.zip.
mkdir -p "$M/osv/Debian"
cp "$FIX"/osv/debian/*.json "$M/osv/Debian/"
python3 - "$M/osv/Debian" <<'PY' || fail "OSV Debian mirror"
import json, os, sys, zipfile
d = sys.argv[1]
recs = [json.load(open(os.path.join(d, f))) for f in sorted(os.listdir(d)) if f.endswith(".json")]
with open(os.path.join(d, "modified_id.csv"), "w") as f:
    for r in sorted(recs, key=lambda r: r["modified"], reverse=True):
        f.write("%s,%s\n" % (r["modified"], r["id"]))
with zipfile.ZipFile(os.path.join(d, "all.zip"), "w") as z:
    for r in recs:
        z.write(os.path.join(d, r["id"] + ".json"), r["id"] + ".json")
PY
tb_httpd "$M" || fail "httpd did not start"

# Alpine 3.11: openssl 1.1.1d-r2 (CVE-2019-1551 is fixed in 1.1.1d-r3), musl 1.1.24-r0 (clean).
mkdir -p "$TB_DIR/alp/etc" "$TB_DIR/alp/apk"
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.11.6\nPRETTY_NAME="Alpine Linux v3.11"\n' \
	>"$TB_DIR/alp/etc/os-release"
printf 'P:libcrypto1.1\nV:1.1.1d-r2\no:openssl\n\nP:libssl1.1\nV:1.1.1d-r2\no:openssl\n\nP:musl\nV:1.1.24-r0\no:musl\n\n' \
	>"$TB_DIR/alp/apk/installed"
printf 'FROM %s/refit-test/base:1\nCOPY etc/os-release /etc/os-release\nCOPY apk/installed /lib/apk/db/installed\nUSER 65534\n' \
	"$R" >"$TB_DIR/alp/Dockerfile"
# Debian 12: sope 5.8.0-1 (CVE-2025-53603 is fixed in bookworm's 5.8.0-1+deb12u1).
mkdir -p "$TB_DIR/deb/etc" "$TB_DIR/deb/dpkg"
cp "$FIX/pkgdb/debian12-python3.12-slim-image.os-release" "$TB_DIR/deb/etc/os-release"
{
	cat "$FIX/pkgdb/debian12-partial.dpkg-status"
	printf '\nPackage: libsope1\nStatus: install ok installed\nSource: sope\nVersion: 5.8.0-1\nArchitecture: amd64\n'
} >"$TB_DIR/deb/dpkg/status"
printf 'FROM %s/refit-test/base:1\nCOPY etc/os-release /etc/os-release\nCOPY dpkg/status /var/lib/dpkg/status\nUSER 65534\n' \
	"$R" >"$TB_DIR/deb/Dockerfile"

# Debian 9: libssl1.1 and openssl built from openssl 1.1.0l-1~deb9u5 (DLA-3008-1 fixes it in
# deb9u6), libxml2 at its fixed version (DLA-3012-1 does not apply).
mkdir -p "$TB_DIR/str/etc" "$TB_DIR/str/dpkg"
printf 'PRETTY_NAME="Debian GNU/Linux 9 (stretch)"\nNAME="Debian GNU/Linux"\nVERSION_ID="9"\nVERSION_CODENAME=stretch\nID=debian\n' \
	>"$TB_DIR/str/etc/os-release"
printf 'Package: libssl1.1\nStatus: install ok installed\nSource: openssl\nVersion: 1.1.0l-1~deb9u5\n\nPackage: openssl\nStatus: install ok installed\nVersion: 1.1.0l-1~deb9u5\n\nPackage: libxml2\nStatus: install ok installed\nVersion: 2.9.4+dfsg1-2.2+deb9u7\n' \
	>"$TB_DIR/str/dpkg/status"
cp "$TB_DIR/deb/Dockerfile" "$TB_DIR/str/Dockerfile"

cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, feeds: 1h, settle: 0s }
feeds:
  - { name: alpine, type: alpine-secdb, url: "file://$M/alpine" }
  - { name: debian, type: debian-tracker, url: $TB_HTTP/debian/json }
  - { name: osv, type: osv, url: $TB_HTTP/osv }
projects:
  - { name: alp, context: $TB_DIR/alp, image: $R/team/alp, environments: { prod: {} } }
  - { name: deb, context: $TB_DIR/deb, image: $R/team/deb, environments: { prod: {} } }
  - { name: str, context: $TB_DIR/str, image: $R/team/str, environments: { prod: {} } }
YAML
DB=$TB_DIR/state/state.db
refitd_start "$TB_DIR/refit.yaml"
builds() { sql "$DB" "SELECT count(*) FROM builds WHERE project = '$1' AND trigger = 'security' AND status = 'succeeded'"; }
for p in alp deb str; do
	tb_wait "[ \"\$(builds $p)\" = 1 ]" 180 || { tail -30 "$RD_LOG" >&2; fail "no security rebuild of $p"; }
done
eco=$(sql "$DB" "SELECT group_concat(ecosystem, ' ') FROM (SELECT DISTINCT ecosystem FROM inventories ORDER BY ecosystem)")
[ "$eco" = "Alpine:v3.11 Debian:12 Debian:9" ] || fail "inventory ecosystems: $eco"
st() { sql "$DB" "SELECT group_concat(advisory || ' ' || package || ' ' || installed || ' ' || fixed || ' ' || state, ', ') FROM (SELECT * FROM build_advisories WHERE build_id = (SELECT max(id) FROM builds WHERE project = '$1') ORDER BY advisory)"; }
got=$(st alp)
[ "$got" = "CVE-2019-1551 openssl 1.1.1d-r2 1.1.1d-r3 pending-upstream" ] || fail "alp: $got"
got=$(st deb)
[ "$got" = "CVE-2025-53603 sope 5.8.0-1 5.8.0-1+deb12u1 pending-upstream" ] || fail "deb: $got"
got=$(st str)
[ "$got" = "DLA-3008-1 openssl 1.1.0l-1~deb9u5 1.1.0l-1~deb9u6 pending-upstream" ] || fail "str: $got"
n=$(sql "$DB" "SELECT count(*) FROM advisories WHERE feed = 'alpine' AND ecosystem = 'Alpine:v3.11'")
[ "$n" -gt 100 ] || fail "only $n secdb rows stored"
grep -q 'reason\|security: CVE-2019-1551 openssl 1.1.1d-r2 -> 1.1.1d-r3 (prod)' "$RD_LOG" || fail "trigger reason"
ok "secdb, tracker and OSV (Debian, by source package): one no-cache rebuild each, advisories pending-upstream ($n secdb rows)"
sleep 5
[ "$(builds alp)$(builds deb)$(builds str)" = 111 ] || fail "a pending-upstream advisory triggered again"
ok "no second rebuild"

# A feed taken out of the configuration: its advisories are forgotten and match no more.
sed -i '/name: alpine, type: alpine-secdb/d' "$TB_DIR/refit.yaml"
kill -HUP "$RD_PID"
wait_log "feed alpine: no longer configured" 30
[ "$(sql "$DB" "SELECT count(*) FROM advisories WHERE feed = 'alpine'")" = 0 ] || fail "alpine rows kept"
tb_wait "[ -z \"\$(st alp)\" ] || [ \"\$(st alp)\" = None ]" 10 || fail "alp still matches: $(st alp)"
ok "a feed removed by a reload is forgotten, and the images' matches with it"
refitd_stop
