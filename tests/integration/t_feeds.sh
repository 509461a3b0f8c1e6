#!/bin/bash
# Security feeds end to end, against a real OSV mirror (the whole PyPA
# advisory database converted to OSV JSON, served by the test bed's HTTP
# server behind the fault proxy) and a real dockerd and registry:
#   - the image's Python distributions are read from the built image;
#   - the first feed load (all.zip) finds nothing to fix;
#   - two real advisories arrive incrementally (modified_id.csv): requests
#     2.25.0 (PYSEC-2023-74, the context now has the fixed 2.31.0) and
#     urllib3 1.26.16 (PYSEC-2023-192, never updated here): one no-cache
#     rebuild; the first is recorded as fixed and in io.refit.fixes, the
#     second as pending-upstream, and no second rebuild follows;
#   - truncated JSON and a 500 leave the last good state;
#   - refitctl scan gives the same answer offline.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
FIX=$HERE/../fixtures/feeds
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
# REFIT_TEST_ENGINE=podman runs the same test with Podman's compatible service as the engine.
ENGINE=$TB_DOCKER_HOST
if [ "${REFIT_TEST_ENGINE:-docker}" = podman ]; then
	tb_podman || fail "podman service did not start"
	ENGINE=$TB_PODMAN_HOST
fi
eng_label() { curl -s --unix-socket "${ENGINE#unix://}" "http://e/v1.41/images/$1/json" |
	python3 -c "import json,sys; print((json.load(sys.stdin)['Config'].get('Labels') or {}).get('$2', ''))"; }

# The mirror, without the advisories of requests and urllib3 for now.
mkdir -p "$TB_DIR/pypa" "$TB_DIR/held" "$TB_DIR/mirror"
tar -C "$TB_DIR/pypa" -xJf "$FIX/pypa/pypa-advisory-database.tar.xz"
V=$TB_DIR/pypa/pypa-advisory-database/vulns
mv "$V/requests" "$V/urllib3" "$TB_DIR/held/"
python3 "$HERE/../testbed/osvmirror.py" "$TB_DIR/pypa/pypa-advisory-database" "$TB_DIR/mirror" \
	>/dev/null || fail "mirror conversion"
n_initial=$(ls "$TB_DIR/mirror/PyPI" | grep -c '\.json$')
tb_httpd "$TB_DIR/mirror" || fail "httpd did not start"
tb_faultproxy "${TB_HTTP#http://}" || fail "fault proxy did not start"

# A project whose image carries two Python distributions.
P=$TB_DIR/p
mkdir -p "$P/site-packages/requests-2.25.0.dist-info" "$P/site-packages/urllib3-1.26.16.dist-info"
printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n' \
	>"$P/site-packages/requests-2.25.0.dist-info/METADATA"
printf 'Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.16\n' \
	>"$P/site-packages/urllib3-1.26.16.dist-info/METADATA"
cat >"$P/Dockerfile" <<EOF
FROM $R/refit-test/base:1
COPY site-packages/ /usr/local/lib/python3.11/site-packages/
USER 65534
EOF
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $ENGINE } ]
poll: { bases: 1h, feeds: 1h, settle: 0s }
feeds:
  - { name: osv, type: osv, url: http://$TB_PROXY }
projects:
  - { name: p, context: $P, image: $R/team/p, environments: { prod: {} } }
YAML
DB=$TB_DIR/state/state.db
refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening" 30
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
API=http://127.0.0.1:$port
post() { curl -s -o "$TB_DIR/post" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(cat "$TB_DIR/token")" "$API$1"; }
security_builds() { sql "$DB" "SELECT count(*) FROM builds WHERE trigger = 'security'"; }

# 1. initial build; its inventory makes refitd load PyPI (all.zip): nothing to fix.
wait_log "project p: rebuild done" 120
inv=$(sql "$DB" "SELECT group_concat(name || ' ' || version, ', ') FROM (SELECT name, version FROM inventory_pkgs ORDER BY name)")
[ "$inv" = "requests 2.25.0, urllib3 1.26.16" ] || fail "inventory: '$inv'"
wait_log "feed osv/PyPI: [0-9]+ advisory rows changed" 60
rows=$(sql "$DB" "SELECT count(DISTINCT id) FROM advisories WHERE ecosystem = 'PyPI'")
[ "$rows" -gt 2500 ] && [ "$rows" -le "$n_initial" ] || fail "$rows advisories stored of $n_initial"
wm=$(sql "$DB" "SELECT watermark FROM feeds WHERE name = 'osv' AND scope = 'PyPI'")
[ -n "$wm" ] || fail "no watermark after the full load"
ls "$TB_DIR"/state/tmp/feed-* 2>/dev/null && fail "all.zip left in state_dir/tmp"
sleep 2
[ "$(security_builds)" = 0 ] || fail "a security rebuild without a matching advisory"
ok "inventory read from the image; full load of $rows PyPI advisories (watermark $wm); nothing to fix"

# 2. two real advisories arrive incrementally; the context now has the fixed requests.
mv "$P/site-packages/requests-2.25.0.dist-info" "$P/site-packages/requests-2.31.0.dist-info"
printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n' \
	>"$P/site-packages/requests-2.31.0.dist-info/METADATA"
add_records() { # ID... (from the held YAML), announced newer than anything in the csv
	local tmp=$TB_DIR/add-$RANDOM now
	mkdir -p "$tmp/src/vulns/x"
	for id in "$@"; do cp "$TB_DIR"/held/*/"$id.yaml" "$tmp/src/vulns/x/"; done
	python3 "$HERE/../testbed/osvmirror.py" "$tmp/src" "$tmp/out" >/dev/null || fail "convert $*"
	now=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
	for id in "$@"; do
		cp "$tmp/out/PyPI/$id.json" "$TB_DIR/mirror/PyPI/"
		{ echo "$now,$id"; cat "$TB_DIR/mirror/PyPI/modified_id.csv"; } >"$tmp/csv"
		mv "$tmp/csv" "$TB_DIR/mirror/PyPI/modified_id.csv"
	done
}
add_records PYSEC-2023-74 PYSEC-2023-192
[ "$(post /v1/feeds/poll)" = 202 ] || fail "POST /v1/feeds/poll: $(cat "$TB_DIR/post")"
wait_log "feed osv/PyPI: 2 advisory rows changed" 30
wait_log "project p: security: " 10
tb_wait "[ \"\$(sql '$DB' \"SELECT status FROM builds WHERE trigger = 'security'\")\" = succeeded ]" 120 ||
	fail "the security rebuild did not succeed: $(sql "$DB" "SELECT error FROM builds ORDER BY id DESC LIMIT 1")"
b=$(sql "$DB" "SELECT id FROM builds WHERE trigger = 'security'")
st=$(sql "$DB" "SELECT group_concat(advisory || ' ' || state, ', ') FROM (SELECT advisory, state FROM build_advisories WHERE build_id = $b ORDER BY advisory)")
[ "$st" = "PYSEC-2023-192 pending-upstream, PYSEC-2023-74 fixed" ] || fail "build $b advisories: $st"
grep -q "Using cache" "$TB_DIR/state/logs/$b.log" && fail "the security rebuild used the build cache"
# BuildKit: no Dockerfile step (RUN/COPY/ADD) of the security rebuild came from the cache
steps=$(grep -oE '^#[0-9]+ \[[^]]+\] (RUN|COPY|ADD)' "$TB_DIR/state/logs/$b.log" | cut -d' ' -f1 | sort -u)
for n in $steps; do
	grep -qx "$n CACHED" "$TB_DIR/state/logs/$b.log" && fail "security rebuild: step $n CACHED"
done
grep -q "came from the cache" "$TB_DIR/state/logs/$b.log" && fail "the pipeline saw cached steps in a security rebuild"
label=$(eng_label "$R/team/p:prod" io.refit.fixes)
[ "$label" = PYSEC-2023-74 ] || fail "io.refit.fixes on $R/team/p:prod is '$label'"
curl -s "$API/v1/builds/$b" >"$TB_DIR/build.json"
python3 - "$TB_DIR/build.json" <<'PY' || fail "GET /v1/builds/$b advisories"
import json, sys
b = json.load(open(sys.argv[1]))
got = sorted((a["id"], a["state"], a["installed"], a["fixed"]) for a in b["advisories"])
assert got == [("PYSEC-2023-192", "pending-upstream", "1.26.16", "1.26.17"),
               ("PYSEC-2023-74", "fixed", "2.25.0", "2.31.0")], got
PY
ok "one no-cache rebuild: PYSEC-2023-74 fixed (label io.refit.fixes), PYSEC-2023-192 pending-upstream"

# 3. nothing new: more polls, no second rebuild.
[ "$(post /v1/feeds/poll)" = 202 ] || fail "second poll"
sleep 3
[ "$(post /v1/feeds/poll)" = 202 ] || fail "third poll"
sleep 3
[ "$(security_builds)" = 1 ] || fail "pending-upstream rebuilt again ($(security_builds) security builds)"
curl -s "$API/v1/projects/p" >"$TB_DIR/p.json"
python3 - "$TB_DIR/p.json" <<'PY' || fail "GET /v1/projects/p advisories"
import json, sys
p = json.load(open(sys.argv[1]))
got = [(a["id"], a["state"], a["environment"]) for a in p["advisories"]]
assert got == [("PYSEC-2023-192", "pending-upstream", "prod")], got
PY
curl -s "$API/" | grep -q 'title="PYSEC-2023-192">1 pending-upstream advisory<' ||
	fail "the status page does not show the advisory"
ok "pending-upstream does not trigger again; the project and the status page list it"

# 4. bad data keeps the last good state: a truncated record, then a 500.
good=$(sql "$DB" "SELECT count(*) FROM advisories")
head -c 200 "$TB_DIR/mirror/PyPI/PYSEC-2023-74.json" >"$TB_DIR/mirror/PyPI/PYSEC-2099-1.json"
{ echo "$(date -u +%Y-%m-%dT%H:%M:%SZ),PYSEC-2099-1"; cat "$TB_DIR/mirror/PyPI/modified_id.csv"; } \
	>"$TB_DIR/csv" && mv "$TB_DIR/csv" "$TB_DIR/mirror/PyPI/modified_id.csv"
wm2=$(sql "$DB" "SELECT watermark FROM feeds WHERE scope = 'PyPI'")
post /v1/feeds/poll >/dev/null
wait_log "PYSEC-2099-1.json: .*the last good state is kept" 30
[ "$(sql "$DB" "SELECT count(*) FROM advisories")" = "$good" ] || fail "a truncated record changed the advisories"
[ "$(sql "$DB" "SELECT watermark FROM feeds WHERE scope = 'PyPI'")" = "$wm2" ] || fail "watermark moved past a bad record"
curl -s "http://$TB_PROXY/_fault?mode=500&count=1" >/dev/null
post /v1/feeds/poll >/dev/null
wait_log "modified_id.csv: HTTP 500; the last good state is kept" 30
[ "$(sql "$DB" "SELECT count(*) FROM advisories")" = "$good" ] || fail "a 500 changed the advisories"
curl -s "$API/v1/feeds" >"$TB_DIR/feeds.json"
python3 - "$TB_DIR/feeds.json" <<'PY' || fail "GET /v1/feeds"
import json, sys
f = json.load(open(sys.argv[1]))["feeds"][0]
s = f["scopes"][0]
assert f["name"] == "osv" and s["scope"] == "PyPI", f
assert "HTTP 500" in s["error"], s
assert s["advisories"] > 2500 and s["watermark"], s
PY
cp "$TB_DIR/mirror/PyPI/PYSEC-2023-74.json" "$TB_DIR/tmp.json"
sed 's/PYSEC-2023-74/PYSEC-2099-1/' "$TB_DIR/tmp.json" >"$TB_DIR/mirror/PyPI/PYSEC-2099-1.json"
post /v1/feeds/poll >/dev/null
wait_log "feed osv/PyPI: 1 advisory rows changed" 30
[ "$(sql "$DB" "SELECT coalesce(error, '') FROM feeds WHERE scope = 'PyPI'")" = "" ] || fail "error kept after a good poll"
ok "truncated JSON and an HTTP 500 kept the last good state; the next good poll went on"

curl -s "$API/metrics" >"$TB_DIR/metrics"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TB_DIR/metrics" >"$TB_DIR/promtool.out" 2>&1 ||
		{ cat "$TB_DIR/promtool.out" >&2; fail "promtool check metrics"; }
fi
grep -q 'refit_advisories_open{project="p",environment="prod",state="pending-upstream"} 1' \
	"$TB_DIR/metrics" || fail "refit_advisories_open"
grep -q 'refit_feed_up{feed="osv",scope="PyPI"} 1' "$TB_DIR/metrics" || fail "refit_feed_up"
grep -qE "^refit_registry_requests_total\{registry=\"$R\",status=\"200\"\} [1-9]" "$TB_DIR/metrics" ||
	fail "refit_registry_requests_total: $(grep registry "$TB_DIR/metrics")"
ok "metrics: advisories by state, feed health, registry requests (promtool clean)"
refitd_stop

# 5. the same answer offline.
printf 'requests==2.25.0\nurllib3==1.26.16\n' >"$TB_DIR/freeze"
"$REFITCTL" scan --inventory "$TB_DIR/freeze" --feed "$TB_DIR/mirror/PyPI" >"$TB_DIR/scan" 2>&1
rc=$?
[ $rc = 1 ] || fail "refitctl scan exit $rc"
grep -qx 'PYSEC-2023-74 requests 2.25.0 -> 2.31.0' "$TB_DIR/scan" || fail "scan: $(cat "$TB_DIR/scan")"
grep -qx 'PYSEC-2023-192 urllib3 1.26.16 -> 1.26.17' "$TB_DIR/scan" || fail "scan: $(cat "$TB_DIR/scan")"
ok "refitctl scan finds the same advisories offline"
