#!/bin/bash
# Advisories that say what to do, against a real OSV mirror (the PyPA database),
# dockerd and registry. Two projects carry requests 2.25.0 in their images:
#   - "pinned" pins it on line 3 of its requirements.txt and builds three
#     environments: PYSEC-2023-74 is needs-change with requirements.txt:3, the
#     pinned and the first fixed version, counted once (not once per
#     environment), and no security rebuild is scheduled for it;
#   - "loose" asks for requests>=2.20: the same advisory gets its no-cache
#     rebuild as before.
# Then the pin is lifted in pinned's requirements.txt: the next feed change
# finds the advisory fixable there too.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
FIX=$HERE/../fixtures/feeds
tb_init
tb_standard_bed # private dockerd, registry, base image; $R

# The mirror, without the advisories of requests for now.
mkdir -p "$TB_DIR/pypa" "$TB_DIR/held" "$TB_DIR/mirror"
tar -C "$TB_DIR/pypa" -xJf "$FIX/pypa/pypa-advisory-database.tar.xz"
V=$TB_DIR/pypa/pypa-advisory-database/vulns
mv "$V/requests" "$TB_DIR/held/"
python3 "$HERE/../testbed/osvmirror.py" "$TB_DIR/pypa/pypa-advisory-database" "$TB_DIR/mirror" \
	>/dev/null || fail "mirror conversion"
tb_httpd "$TB_DIR/mirror" || fail "httpd did not start"

# Two contexts whose images carry requests 2.25.0 (installed as pip would, without a network).
project() { # DIR REQUIREMENTS
	mkdir -p "$1/site-packages/requests-2.25.0.dist-info"
	printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n' \
		>"$1/site-packages/requests-2.25.0.dist-info/METADATA"
	printf '%s' "$2" >"$1/requirements.txt"
	cat >"$1/Dockerfile" <<EOF
FROM $R/refit-test/base:1
COPY requirements.txt /app/
COPY site-packages/ /usr/local/lib/python3.11/site-packages/
USER 65534
EOF
}
project "$TB_DIR/pinned" $'# the proxy needs the old API\ncertifi==2023.7.22\nrequests==2.25.0 \\\n    --hash=sha256:e786fa28d8c9154e6a4de5d46a1d921b8749f8b74e28bde23768e5e16eece998\n'
project "$TB_DIR/loose" $'requests>=2.20\n'
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, feeds: 1h, settle: 0s }
feeds:
  - { name: osv, type: osv, url: $TB_HTTP }
notify:
  - { webhook: "$TB_HTTP/_t/record/adv", events: [advisory] }
projects:
  - name: pinned
    context: $TB_DIR/pinned
    image: $R/team/pinned
    environments: { test: {}, prod: { requires: test }, rnd: {} }
  - { name: loose, context: $TB_DIR/loose, image: $R/team/loose, environments: { prod: {} } }
YAML
DB=$TB_DIR/state/state.db
refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening" 30
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
API=http://127.0.0.1:$port
post() { curl -s -o "$TB_DIR/post" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(cat "$TB_DIR/token")" "$API$1"; }
security_builds() { sql "$DB" "SELECT count(*) FROM builds WHERE trigger = 'security' AND project = '$1'"; }

# 1. both projects built, the full feed load finds nothing.
wait_log "project pinned: rebuild done" 400
wait_log "project loose: rebuild done" 400
wait_log "feed osv/PyPI: [0-9]+ advisory rows changed" 120
ok "both projects built; PyPI loaded without the requests advisories"

# 2. PYSEC-2023-74 (requests < 2.31.0) arrives incrementally.
add_record() { # ID (from the held YAML), announced newer than anything in the csv
	local tmp=$TB_DIR/add-$RANDOM now
	mkdir -p "$tmp/src/vulns/x"
	cp "$TB_DIR"/held/*/"$1.yaml" "$tmp/src/vulns/x/"
	python3 "$HERE/../testbed/osvmirror.py" "$tmp/src" "$tmp/out" >/dev/null || fail "convert $1"
	now=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
	cp "$tmp/out/PyPI/$1.json" "$TB_DIR/mirror/PyPI/"
	{ echo "$now,$1"; cat "$TB_DIR/mirror/PyPI/modified_id.csv"; } >"$tmp/csv"
	mv "$tmp/csv" "$TB_DIR/mirror/PyPI/modified_id.csv"
}
add_record PYSEC-2023-74
[ "$(post /v1/feeds/poll)" = 202 ] || fail "POST /v1/feeds/poll: $(cat "$TB_DIR/post")"
wait_log "feed osv/PyPI: 1 advisory rows changed" 60
wait_log "project loose: security: PYSEC-2023-74 requests 2.25.0 -> 2.31.0" 60
tb_wait "[ \"\$(sql '$DB' \"SELECT status FROM builds WHERE trigger = 'security' AND project = 'loose'\")\" = succeeded ]" 300 ||
	fail "loose: the security rebuild did not succeed"
grep -q "project pinned: security:" "$RD_LOG" && fail "pinned got a security trigger"
[ "$(security_builds pinned)" = 0 ] || fail "pinned got a security rebuild"
n=$(sql "$DB" "SELECT count(*) FROM triggers WHERE project = 'pinned' AND kind = 'security'")
[ "$n" = 0 ] || fail "pinned has $n security triggers"
st=$(sql "$DB" "SELECT group_concat(env || ' ' || state || ' ' || pin_file || ':' || pin_line || ':' || pin_col || ' ' || pin_version, ', ') FROM (SELECT b.env, a.state, a.pin_file, a.pin_line, a.pin_col, a.pin_version FROM build_advisories a JOIN current_images c ON c.build_id = a.build_id JOIN builds b ON b.id = a.build_id WHERE c.project = 'pinned' ORDER BY b.env)")
[ "$st" = "prod needs-change requirements.txt:3:1 2.25.0, rnd needs-change requirements.txt:3:1 2.25.0, test needs-change requirements.txt:3:1 2.25.0" ] ||
	fail "pinned advisories: $st"
ok "loose: security rebuild; pinned: needs-change at requirements.txt:3:1 in 3 environments, no trigger"

# 3. what the API says: one advisory that needs a change, with its place and fix.
curl -s "$API/v1/projects/pinned" >"$TB_DIR/pinned.json"
python3 - "$TB_DIR/pinned.json" <<'PY' || fail "GET /v1/projects/pinned: $(cat "$TB_DIR/pinned.json")"
import json, sys
p = json.load(open(sys.argv[1]))
adv = p["advisories"]
assert len(adv) == 1, adv
a = adv[0]
assert (a["id"], a["state"], a["installed"], a["fixed"]) == \
    ("PYSEC-2023-74", "needs-change", "2.25.0", "2.31.0"), a
assert a["pin"] == {"file": "requirements.txt", "line": 3, "column": 1, "package": "requests",
                    "version": "2.25.0"}, a["pin"]
assert a["action"] == "requirements.txt:3: change the pin of requests from 2.25.0 to 2.31.0 or later", a
assert sorted(a["environments"]) == ["prod", "rnd", "test"], a
assert p["advisory_counts"] == {"needs-change": 1, "open": 0, "triggered": 0,
                                "pending-upstream": 0}, p["advisory_counts"]
PY
curl -s "$API/v1/projects/loose" >"$TB_DIR/loose.json"
python3 - "$TB_DIR/loose.json" <<'PY' || fail "GET /v1/projects/loose: $(cat "$TB_DIR/loose.json")"
import json, sys
p = json.load(open(sys.argv[1]))
got = [(a["id"], a["state"], a["pin"], a["action"]) for a in p["advisories"]]
assert got == [("PYSEC-2023-74", "pending-upstream", None, None)], got
assert p["advisory_counts"]["pending-upstream"] == 1, p["advisory_counts"]
PY
b=$(sql "$DB" "SELECT max(id) FROM builds WHERE project = 'pinned'")
curl -s "$API/v1/builds/$b" >"$TB_DIR/build.json"
python3 - "$TB_DIR/build.json" <<'PY' || fail "GET /v1/builds/$b"
import json, sys
b = json.load(open(sys.argv[1]))
a = b["advisories"][0]
assert a["state"] == "needs-change" and a["pin"]["line"] == 3, a
PY
curl -s "$API/metrics" >"$TB_DIR/metrics"
grep -qx 'refit_advisories{project="pinned",state="needs-change"} 1' "$TB_DIR/metrics" ||
	fail "refit_advisories: $(grep '^refit_advisories{' "$TB_DIR/metrics")"
grep -qx 'refit_advisories{project="loose",state="pending-upstream"} 1' "$TB_DIR/metrics" ||
	fail "refit_advisories (loose): $(grep '^refit_advisories{' "$TB_DIR/metrics")"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TB_DIR/metrics" >"$TB_DIR/promtool.out" 2>&1 ||
		{ cat "$TB_DIR/promtool.out" >&2; fail "promtool check metrics"; }
fi
ok "API: one needs-change advisory with pin and action in 3 environments, counted once; metrics by id"

# 4. more polls: still no rebuild for the pin; then the team lifts the pin.
[ "$(post /v1/feeds/poll)" = 202 ] || fail "second poll"
sleep 3
[ "$(security_builds pinned)" = 0 ] || fail "pinned rebuilt on a later poll"
[ "$(security_builds loose)" = 1 ] || fail "loose rebuilt again ($(security_builds loose))"
# the advisory webhook: once per environment the advisory appeared in, not per poll or rebuild
adv_events() {
	curl -s "$TB_HTTP/_t/record/adv" | /usr/bin/python3 -c '
import json, sys
for r in json.load(sys.stdin):
    e = json.loads(r["body"])
    a = e["advisory"]
    print(e["project"], e["environment"], a["id"], a["state"], (a["action"] or "-").split(":")[0])' | sort
}
want=$'loose prod PYSEC-2023-74 triggered -\npinned prod PYSEC-2023-74 needs-change requirements.txt\npinned rnd PYSEC-2023-74 needs-change requirements.txt\npinned test PYSEC-2023-74 needs-change requirements.txt'
tb_wait '[ "$(adv_events)" = "$want" ]' 20 || fail "advisory events: $(adv_events)"
ok "advisory webhook: once per environment, needs-change with the file to change"
printf '# the proxy needs the old API\ncertifi==2023.7.22\nrequests>=2.25.0\n' >"$TB_DIR/pinned/requirements.txt"
sed -i -E 's/"modified": *"[^"]*"/"modified": "2099-01-01T00:00:00Z"/' "$TB_DIR/mirror/PyPI/PYSEC-2023-74.json"
{ echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ),PYSEC-2023-74"; cat "$TB_DIR/mirror/PyPI/modified_id.csv"; } \
	>"$TB_DIR/csv" && mv "$TB_DIR/csv" "$TB_DIR/mirror/PyPI/modified_id.csv"
[ "$(post /v1/feeds/poll)" = 202 ] || fail "third poll"
wait_log "project pinned: security: PYSEC-2023-74 requests 2.25.0 -> 2.31.0" 60
ok "no rebuild while pinned; once the pin is lifted the advisory triggers a rebuild"
refitd_stop
