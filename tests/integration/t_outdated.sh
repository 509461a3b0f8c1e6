#!/bin/bash
# Newer tags of version-pinned bases, end to end: the real registry holds
# python's real -slim tags (tests/fixtures/tags/python.txt) as tags of one
# small image; projects pin python:3.11.4-slim under policies patch, minor
# and off, and one pins the newest tag. refitd records the newest allowed tag
# (store, API, /metrics, refitctl outdated) and sends one `outdated` event per
# new tag: a tag pushed later is announced after a restart, nothing twice.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_registry || fail "registry did not start"
mkdir -p "$TB_DIR/www" && tb_httpd "$TB_DIR/www" || fail "httpd did not start"
R=$TB_REGISTRY
grep -- '-slim$' tests/fixtures/tags/python.txt >"$TB_DIR/slim.txt"
n=$(/usr/bin/python3 tests/testbed/tagpush.py "$R" library/python "$TB_DIR/slim.txt") ||
	fail "pushing tags"
ok "pushed $n real python -slim tags"

for p in p1 p2 p3 p4; do mkdir -p "$TB_DIR/$p"; done
for p in p1 p2 p3; do printf 'FROM %s/library/python:3.11.4-slim\n' "$R" >"$TB_DIR/$p/Dockerfile"; done
printf 'ARG PY=3.14.7\nFROM %s/library/python:${PY}-slim\n' "$R" >"$TB_DIR/p4/Dockerfile"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$(tb_free_port)
# no engine answers: nothing is built (this test is about the tags of bases)
engines: [ { host: unix://$TB_DIR/no-engine.sock } ]
poll: { bases: 1h, tags: 1h, jitter: 0% }
projects:
  - { name: p1, network: none, context: $TB_DIR/p1, image: $R/team/p1, environments: { prod: {} }, outdated: patch }
  - { name: p2, network: none, context: $TB_DIR/p2, image: $R/team/p2, environments: { prod: {} }, outdated: minor }
  - { name: p3, network: none, context: $TB_DIR/p3, image: $R/team/p3, environments: { prod: {} }, outdated: "off" }
  - { name: p4, network: none, context: $TB_DIR/p4, image: $R/team/p4, environments: { prod: {} }, outdated: major }
notify:
  - { webhook: "$TB_HTTP/_t/record/outdated", events: [outdated] }
YAML
"$REFITD" --check-config "$cfg" >/dev/null || fail "configuration refused"
refitd_start "$cfg"
DB=$TB_DIR/state/state.db
base=$R/library/python:3.11.4-slim
wait_log "project p1: base $base is outdated: 3.11.16-slim is out \(policy patch\)" 60
wait_log "project p2: base $base is outdated: 3.14.7-slim is out \(policy minor\)" 10
wait_log "REST API listening on " 10
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
tb_wait "[ \"\$(sql '$DB' \"SELECT count(*) FROM base_tags WHERE project = 'p4'\")\" = 1 ]" 20 ||
	fail "p4's pinned base was not recorded"
[ "$(sql "$DB" "SELECT newest FROM base_tags WHERE project = 'p1'")" = 3.11.16-slim ] || fail "store: p1"
[ "$(sql "$DB" "SELECT coalesce(newest, 'none') FROM base_tags WHERE project = 'p4'")" = none ] ||
	fail "store: p4 pins the newest tag, yet something newer was recorded"
[ "$(sql "$DB" "SELECT count(*) FROM base_tags WHERE project = 'p3'")" = 0 ] || fail "store: p3 is off"
ok "store: newest allowed tag per project and base (patch, minor, off, already newest)"

newest=$(curl -sf "$URL/v1/projects/p1" | python3 -c '
import json, sys
b = json.load(sys.stdin)["bases"][0]
print(b["outdated"]["newest"], b["outdated"]["tag"], b["outdated"]["policy"])')
[ "$newest" = "3.11.16-slim 3.11.4-slim patch" ] || fail "API: p1 outdated is '$newest'"
[ "$(curl -sf "$URL/v1/projects/p3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bases"][0]["outdated"])')" = None ] ||
	fail "API: p3 (off) has an outdated object"
curl -sf "$URL/" | grep -qF '<small class="outdated" title="'"$base"'">3.11.4-slim &#8594; 3.11.16-slim</small>' ||
	fail "status page: p1's newer tag"
ok "API: project detail carries the newer tag per base; the status page shows it"

curl -sf "$URL/metrics" >"$TB_DIR/metrics" || fail "metrics"
grep -qxF "refit_base_outdated{project=\"p1\",base=\"$base\",current=\"3.11.4-slim\",newest=\"3.11.16-slim\",policy=\"patch\"} 1" "$TB_DIR/metrics" ||
	{ grep refit_base_outdated "$TB_DIR/metrics" >&2; fail "metrics: p1 series"; }
[ "$(grep -c '^refit_base_outdated{' "$TB_DIR/metrics")" = 2 ] || fail "metrics: expected p1 and p2 only"
ok "metrics: refit_base_outdated for p1 and p2"

out=$("$REFITCTL" --url "$URL" outdated) || fail "refitctl outdated"
echo "$out"
echo "$out" | grep -qE "^p2 +$base +3.11.4-slim +3.14.7-slim +minor" || fail "refitctl: p2 row"
echo "$out" | grep -q "^p4 " && fail "refitctl: p4 is not outdated"
"$REFITCTL" --url "$URL" outdated p4 | grep -qE "^p4 .*\(newest\) +major" || fail "refitctl outdated p4"
ok "refitctl outdated"

events() { curl -s "$TB_HTTP/_t/record/outdated" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    b = json.loads(r["body"])
    print(b["event"], b["project"], b["tag"], b["newest"], b["policy"])' | sort; }
tb_wait "[ \$(events | wc -l) -ge 2 ]" 30 || fail "webhook: no outdated events"
want="outdated p1 3.11.4-slim 3.11.16-slim patch
outdated p2 3.11.4-slim 3.14.7-slim minor"
[ "$(events)" = "$want" ] || { events >&2; fail "webhook events"; }
ok "webhook: one outdated event per project"

# A newer patch release appears: announced once after the next listing (a restart here).
refitd_stop
echo 3.11.17-slim >"$TB_DIR/new.txt"
/usr/bin/python3 tests/testbed/tagpush.py "$R" library/python "$TB_DIR/new.txt" >/dev/null || fail "push"
refitd_start "$cfg"
wait_log "project p1: base $base is outdated: 3.11.17-slim is out" 60
tb_wait "[ \$(events | wc -l) -ge 3 ]" 30 || fail "webhook: no event for 3.11.17-slim"
sleep 2
[ "$(events | wc -l)" = 3 ] || { events >&2; fail "webhook: expected exactly 3 events"; }
refitd_stop
before=$(sql "$DB" "SELECT checked_at FROM base_tags WHERE project = 'p1'")
refitd_start "$cfg"
tb_wait "[ \"\$(sql '$DB' \"SELECT checked_at FROM base_tags WHERE project = 'p1'\")\" != '$before' ]" 60 ||
	fail "no listing after the second restart"
sleep 2
[ "$(events | wc -l)" = 3 ] || { events >&2; fail "webhook: a tag was announced twice"; }
ok "a new tag is announced once, across restarts"
refitd_stop
