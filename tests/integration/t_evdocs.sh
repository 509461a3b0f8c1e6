#!/bin/bash
# Evidence documents end to end, from real builds on a real dockerd and
# registry, through refitd's REST API, validated against the official
# schemas (tests/fixtures/schemas, python3-jsonschema):
#   - project p: a git checkout whose image carries Debian 12's real dpkg
#     status (python:3.12-slim, 140 packages) and two Python distributions,
#     built with a plain and a secret-looking build argument;
#   - project alp: the real apk database of alpine:3.18 (licences, arch);
#   - an OSV feed (the real PyPA records PYSEC-2023-74 for requests 2.25.0,
#     PYSEC-2023-192 for urllib3 1.26.16) is added once the context has
#     the fixed requests 2.31.0 (and one more distribution): one no-cache
#     security rebuild, whose VEX says fixed for PYSEC-2023-74 and affected
#     (a change in the project) for PYSEC-2023-192, and whose package
#     changes show requests 2.25.0 -> 2.31.0 fixing PYSEC-2023-74;
#   - SPDX, CycloneDX, provenance and VEX of those builds validate; the
#     errors are JSON with the documented statuses; refitctl sbom and
#     refitctl builds ID show the same; the secret build-arg value is in
#     no API answer and not in the store;
#   - refitctl sbom --inventory: every real package database of the
#     fixtures gives valid SPDX and CycloneDX.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
FIX=$HERE/../fixtures/feeds
VALIDATE="/usr/bin/python3 $HERE/evidence_validate.py"
REFITCTL=${REFITCTL:-$(dirname "$REFITD")/refitctl}
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
D=$TB_DIR/docs
mkdir -p "$D"

# 0. offline: every real package database of the fixtures.
n=0
for f in "$FIX"/pkgdb/*.dpkg-status "$FIX"/pkgdb/*.apk-installed "$FIX"/pkgdb/*.pip-freeze; do
	b=$(basename "$f")
	osr=${f%.*}.os-release
	case $b in ubuntu18.04-*) # the fixture has no os-release: Ubuntu 18.04's
		osr=$TB_DIR/ubuntu.os-release
		printf 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\n' >"$osr" ;;
	esac
	o=()
	[ -f "$osr" ] && o=(--os-release "$osr")
	"$REFITCTL" sbom --inventory "$f" "${o[@]}" "$b" >"$D/off-$b.spdx.json" || fail "sbom $b"
	"$REFITCTL" sbom --format cyclonedx --inventory "$f" "${o[@]}" "$b" >"$D/off-$b.cdx.json" ||
		fail "sbom cyclonedx $b"
	n=$((n + 1))
done
$VALIDATE spdx "$D"/off-*.spdx.json >/dev/null || fail "offline SPDX"
$VALIDATE cyclonedx "$D"/off-*.cdx.json >/dev/null || fail "offline CycloneDX"
grep -q '"pkg:deb/ubuntu/[^"]*&distro=ubuntu-18.04"' "$D/off-ubuntu18.04-texlive.dpkg-status.spdx.json" ||
	fail "no ubuntu purl"
ok "refitctl sbom --inventory: $n real package databases give valid SPDX 2.3 and CycloneDX 1.5"

# The OSV mirror: only the two records, served once the feed is configured.
mkdir -p "$TB_DIR/pypa" "$TB_DIR/src/vulns/x"
tar -C "$TB_DIR/pypa" -xJf "$FIX/pypa/pypa-advisory-database.tar.xz" \
	--wildcards '*/vulns/requests/PYSEC-2023-74.yaml' '*/vulns/urllib3/PYSEC-2023-192.yaml' ||
	fail "advisories"
find "$TB_DIR/pypa" -name 'PYSEC-*.yaml' -exec cp {} "$TB_DIR/src/vulns/x/" \;
python3 "$HERE/../testbed/osvmirror.py" "$TB_DIR/src" "$TB_DIR/mirror" >/dev/null || fail "mirror"
tb_httpd "$TB_DIR/mirror" || fail "httpd did not start"

# Project p: a git checkout (HEAD -> refs/heads/main) with Debian 12 and Python packages.
P=$TB_DIR/p
SHA=0123456789abcdef0123456789abcdef01234567
mkdir -p "$P/etc" "$P/dpkg" "$P/site-packages" "$P/.git/refs/heads"
cp "$FIX/pkgdb/debian12-python3.12-slim-image.os-release" "$P/etc/os-release"
cp "$FIX/pkgdb/debian12-python3.12-slim-image.dpkg-status" "$P/dpkg/status"
dist() { # NAME VERSION
	mkdir -p "$P/site-packages/$1-$2.dist-info"
	printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" \
		>"$P/site-packages/$1-$2.dist-info/METADATA"
}
dist requests 2.25.0
dist urllib3 1.26.16
# the licences of dpkg packages: their real copyright files (libc6's is free-form: none)
for pkg in zlib1g libssl3 tzdata libc6; do
	mkdir -p "$P/doc/$pkg" && cp "$HERE/../fixtures/dep5/$pkg" "$P/doc/$pkg/copyright"
done
echo 'ref: refs/heads/main' >"$P/.git/HEAD"
echo "$SHA" >"$P/.git/refs/heads/main"
printf '[remote "origin"]\n\turl = https://builder:hunter2pass@git.example.com/team/p.git\n' \
	>"$P/.git/config"
echo .git >"$P/.dockerignore"
cat >"$P/Dockerfile" <<EOF
FROM $R/refit-test/base:1
ARG EXTRAS
ARG API_TOKEN
COPY etc/os-release /etc/os-release
COPY dpkg/status /var/lib/dpkg/status
COPY doc/ /usr/share/doc/
COPY site-packages/ /usr/local/lib/python3.11/site-packages/
USER 65534
EOF
# Project alp: alpine:3.18's real apk database.
A=$TB_DIR/alp
mkdir -p "$A"
cp "$FIX/pkgdb/alpine3.18-base.apk-installed" "$A/installed"
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n' \
	>"$A/os-release"
printf 'FROM %s/refit-test/base:1\nCOPY os-release /etc/os-release\nCOPY installed /lib/apk/db/installed\nUSER 65534\n' \
	"$R" >"$A/Dockerfile"
# Project bad: fails before its inventory.
B=$TB_DIR/bad
mkdir -p "$B"
printf 'FROM %s/refit-test/base:1\nRUN false\n' "$R" >"$B/Dockerfile"

SECRET=s3cr3t-build-arg-value
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
write_config() { # [FEEDS]
	cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, feeds: 1h, settle: 0s }
$1
projects:
  - name: p
    context: $P
    image: $R/team/p
    environments:
      prod: { build_args: { EXTRAS: notebook, API_TOKEN: $SECRET } }
  - { name: alp, context: $A, image: $R/team/alp, environments: { prod: {} } }
  - { name: bad, context: $B, image: $R/team/bad, environments: { prod: {} } }
YAML
}
write_config ""
DB=$TB_DIR/state/state.db
refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening" 30
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
API=http://127.0.0.1:$port
get() { # PATH OUT: prints the status
	curl -s -o "$2" -w '%{http_code}' "$API$1"
}
post() { curl -s -o "$TB_DIR/post" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(cat "$TB_DIR/token")" "$API$1"; }
built() { sql "$DB" "SELECT id FROM builds WHERE project = '$1' AND status = 'succeeded' ORDER BY id DESC LIMIT 1"; }

# 1. the initial builds.
tb_wait "[ -n \"\$(built p)\" ] && [ -n \"\$(built alp)\" ]" 180 ||
	{ tail -30 "$RD_LOG" >&2; fail "initial builds"; }
tb_wait "[ \"\$(sql '$DB' \"SELECT status FROM builds WHERE project = 'bad'\")\" = failed ]" 60 ||
	fail "the failing build"
b1=$(built p)
a1=$(built alp)
bad=$(sql "$DB" "SELECT id FROM builds WHERE project = 'bad'")
for b in $b1 $a1; do
	[ "$(get "/v1/builds/$b/sbom" "$D/$b.spdx.json")" = 200 ] || fail "sbom of $b"
	[ "$(get "/v1/builds/$b/sbom?format=cyclonedx" "$D/$b.cdx.json")" = 200 ] || fail "cdx of $b"
	[ "$(get "/v1/builds/$b/provenance" "$D/$b.prov.json")" = 200 ] || fail "provenance of $b"
done
$VALIDATE spdx "$D/$b1.spdx.json" "$D/$a1.spdx.json" >/dev/null || fail "SPDX of the builds"
$VALIDATE cyclonedx "$D/$b1.cdx.json" "$D/$a1.cdx.json" >/dev/null || fail "CycloneDX of the builds"
$VALIDATE provenance "$D/$b1.prov.json" "$D/$a1.prov.json" >/dev/null || fail "provenance"
python3 - "$D" "$b1" "$a1" "$(tb_digest refit-test/base:1)" "$R" <<'PY' || fail "SBOM content"
import json, sys
d, b1, a1, base, reg = sys.argv[1:]
s = json.load(open("%s/%s.spdx.json" % (d, b1)))
purls = {r["referenceLocator"] for p in s["packages"] for r in p.get("externalRefs", [])}
assert "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12" in purls, sorted(purls)[:5]
assert "pkg:pypi/requests@2.25.0" in purls
img = [p for p in s["packages"] if p["SPDXID"] == "SPDXRef-Image"][0]
assert img["name"] == reg + "/team/p", img["name"]
bi = [p for p in s["packages"] if p["SPDXID"] == "SPDXRef-BaseImage"][0]
assert bi["versionInfo"] == base, (bi["versionInfo"], base)
assert len(s["packages"]) == 2 + 140 + 2, len(s["packages"])
libc = [p for p in s["packages"] if p["name"] == "libc6"][0]
assert libc["sourceInfo"] == "built package from: glibc 2.36-9+deb12u9", libc
assert libc["licenseDeclared"] == "NOASSERTION", libc  # free-form copyright file
lic = {p["name"]: (p["licenseDeclared"], p.get("licenseComments")) for p in s["packages"]}
assert lic["zlib1g"] == ("Zlib", None), lic["zlib1g"]
assert lic["libssl3"] == ("Apache-2.0 AND (Artistic-1.0-Perl OR GPL-1.0-or-later)", None), lic["libssl3"]
assert lic["tzdata"] == ("NOASSERTION", "public-domain"), lic["tzdata"]
assert lic["bash"] == ("NOASSERTION", None), lic["bash"]  # no copyright file in the image
cb = json.load(open("%s/%s.cdx.json" % (d, b1)))
z = [x for x in cb["components"] if x["name"] == "zlib1g"][0]
assert z["licenses"] == [{"expression": "Zlib"}], z
c = json.load(open("%s/%s.cdx.json" % (d, a1)))
musl = [x for x in c["components"] if x["name"] == "musl"][0]
assert musl["purl"] == "pkg:apk/alpine/musl@1.2.4-r0?arch=x86_64&distro=alpine-3.18", musl
assert musl["licenses"] == [{"expression": "MIT"}], musl
assert c["metadata"]["component"]["pedigree"]["ancestors"][0]["version"] == base
PY
ok "initial builds: SPDX, CycloneDX and provenance of a Debian+PyPI and an Alpine image validate; dpkg licences from the copyright files"

[ "$(get "/v1/builds/$b1/vex" "$D/e.json")" = 404 ] && grep -q no_statements "$D/e.json" ||
	fail "VEX without advisories: $(cat "$D/e.json")"
[ "$(get "/v1/builds/999999/sbom" "$D/e.json")" = 404 ] && grep -q '"not_found"' "$D/e.json" ||
	fail "unknown build: $(cat "$D/e.json")"
[ "$(get "/v1/builds/$bad/sbom" "$D/e.json")" = 404 ] && grep -q '"no_inventory"' "$D/e.json" ||
	fail "build without inventory: $(cat "$D/e.json")"
[ "$(get "/v1/builds/$b1/sbom?format=xml" "$D/e.json")" = 400 ] || fail "format=xml"
ok "errors: 404 not_found, 404 no_inventory, 404 no_statements, 400 for a bad format, as JSON"

# 2. the fix in the context, then the feed: one security rebuild.
rm -rf "$P/site-packages/requests-2.25.0.dist-info"
dist requests 2.31.0
dist six 1.16.0
write_config "feeds: [ { name: osv, type: osv, url: $TB_HTTP } ]"
kill -HUP "$RD_PID"
wait_log "configuration reloaded|reloaded" 30
post /v1/feeds/poll >/dev/null
tb_wait "[ \"\$(sql '$DB' \"SELECT status FROM builds WHERE project = 'p' AND trigger = 'security'\")\" = succeeded ]" 180 ||
	{ tail -30 "$RD_LOG" >&2; fail "no security rebuild of p"; }
b2=$(sql "$DB" "SELECT id FROM builds WHERE project = 'p' AND trigger = 'security'")
[ "$(get "/v1/builds/$b2" "$D/$b2.json")" = 200 ] || fail "GET /v1/builds/$b2"
for k in sbom provenance vex; do
	[ "$(get "/v1/builds/$b2/$k" "$D/$b2.$k.json")" = 200 ] || fail "$k of $b2: $(cat "$D/$b2.$k.json")"
done
[ "$(get "/v1/builds/$b2/sbom?format=cyclonedx" "$D/$b2.cdx.json")" = 200 ] || fail "cdx of $b2"
$VALIDATE spdx "$D/$b2.sbom.json" >/dev/null || fail "SPDX of the security rebuild"
$VALIDATE cyclonedx "$D/$b2.cdx.json" >/dev/null || fail "CycloneDX of the security rebuild"
$VALIDATE openvex "$D/$b2.vex.json" >/dev/null || fail "OpenVEX of the security rebuild"
$VALIDATE provenance "$D/$b2.provenance.json" >/dev/null || fail "provenance of the security rebuild"
dfd=$(sha256sum "$P/Dockerfile" | cut -d' ' -f1)
python3 - "$D" "$b1" "$b2" "$dfd" "$SHA" "$(tb_digest refit-test/base:1)" <<'PY' || fail "documents of the security rebuild"
import json, sys
d, b1, b2, dfd, sha, base = sys.argv[1:]
b = json.load(open("%s/%s.json" % (d, b2)))
ch = b["package_changes"]
assert ch["previous_build"] == int(b1), ch
assert ch["upgraded"] == [{"name": "requests", "ecosystem": "PyPI", "from": "2.25.0", "to": "2.31.0",
                           "purl": "pkg:pypi/requests@2.31.0", "fixes": ["PYSEC-2023-74"]}], ch["upgraded"]
assert [a["name"] for a in ch["added"]] == ["six"], ch["added"]
assert ch["removed"] == [] and ch["unchanged"] == 141, ch
v = json.load(open("%s/%s.vex.json" % (d, b2)))
st = {(s["vulnerability"]["name"], s["status"]): s for s in v["statements"]}
fx = st[("PYSEC-2023-74", "fixed")]
assert fx["products"][0]["@id"].startswith("pkg:oci/p@sha256%3A"), fx
assert fx["products"][0]["subcomponents"] == [{"@id": "pkg:pypi/requests@2.31.0"}], fx
af = st[("PYSEC-2023-192", "affected")]
assert af["action_statement"].startswith("Needs a change in the project"), af
assert not any(s["status"] == "not_affected" for s in v["statements"])
p = json.load(open("%s/%s.provenance.json" % (d, b2)))
assert p["subject"][0]["digest"]["sha256"] == b["digest"].split(":")[1], p["subject"]
ep = p["predicate"]["buildDefinition"]["externalParameters"]
assert ep["buildArgs"] == {"EXTRAS": "notebook"}, ep
assert ep["secretBuildArgs"] == ["API_TOKEN"], ep
assert ep["trigger"]["kind"] == "security", ep["trigger"]
assert "PYSEC-2023-74" in ep["trigger"]["advisories"], ep["trigger"]
assert ep["trigger"]["fixed"] == ["PYSEC-2023-74"], ep["trigger"]
assert ep["source"] == "https://git.example.com/team/p.git", ep
deps = p["predicate"]["buildDefinition"]["resolvedDependencies"]
got = {(x.get("name"), tuple(sorted(x.get("digest", {}).items()))) for x in deps}
assert ("Dockerfile", (("sha256", dfd),)) in got, got
assert ("context", (("gitCommit", sha),)) in got, got
assert any(x["digest"].get("sha256") == base.split(":")[1] for x in deps if x.get("uri", "").startswith("docker-image://")), deps
rd = p["predicate"]["runDetails"]
assert rd["builder"]["version"]["builder"] in ("buildkit", "classic"), rd
assert rd["builder"]["version"]["engine"].startswith("docker "), rd
assert p["predicate"]["buildDefinition"]["internalParameters"]["noCache"] is True
PY
ok "security rebuild $b2: VEX fixed PYSEC-2023-74 / affected PYSEC-2023-192, requests 2.25.0 -> 2.31.0 fixes PYSEC-2023-74, provenance with trigger, args, git, Dockerfile and base digests; all valid"

# 3. refitctl: sbom by build and by PROJECT/ENV, builds ID with the changes.
"$REFITCTL" --url "$API" sbom "p/prod" --format cyclonedx >"$D/ctl.cdx.json" || fail "refitctl sbom p/prod"
cmp -s <(python3 -m json.tool "$D/ctl.cdx.json") <(python3 -m json.tool "$D/$b2.cdx.json") ||
	fail "refitctl sbom p/prod differs from the API's"
"$REFITCTL" --url "$API" sbom "$a1" >"$D/ctl.spdx.json" && $VALIDATE spdx "$D/ctl.spdx.json" >/dev/null ||
	fail "refitctl sbom $a1"
"$REFITCTL" --url "$API" builds "$b2" >"$D/ctl.txt" || fail "refitctl builds $b2"
grep -q "upgraded   requests 2.25.0 -> 2.31.0 (fixes PYSEC-2023-74)" "$D/ctl.txt" ||
	{ cat "$D/ctl.txt" >&2; fail "refitctl builds $b2: no package change"; }
"$REFITCTL" --url "$API" sbom "$bad" 2>"$D/ctl.err" && fail "refitctl sbom of a failed build"
grep -q "no package inventory" "$D/ctl.err" || fail "refitctl sbom error: $(cat "$D/ctl.err")"
ok "refitctl sbom BUILD and PROJECT/ENV, refitctl builds ID (package changes)"
curl -s "$API/projects/p" | tr -d '\n' |
	grep -q '<tr><td>upgraded</td><td>requests</td><td>2.25.0</td><td>2.31.0</td><td>PYSEC-2023-74</td></tr>' ||
	fail "the project page shows no package change"
ok "the project page shows the package changes of the last rebuild"

# 4. the secret build-arg value went nowhere it could be read back.
for f in "$D"/*.json; do grep -q "$SECRET" "$f" && fail "secret in $f"; done
grep -q "hunter2pass" "$D"/*.json && fail "git credentials in a document"
sync
grep -qa "$SECRET" "$DB" "$DB-wal" 2>/dev/null && fail "secret build-arg value in the store"
ok "the secret build-arg value and git credentials are in no document and not in the store"
refitd_stop
