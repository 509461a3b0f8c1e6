#!/bin/bash
# notify: webhooks. Builds against the private dockerd and registry send
# built / pushed / promoted / failed events as JSON to the test bed's HTTP server:
# one webhook takes every event through the fault proxy, whose first answer
# is a 503 (the event comes again after 2 s); another names only `failed`.
# The token in a webhook's query never reaches the log. (The bad project
# fails again on its retry: events are compared as a set.) A delivery still
# failing when refitd stops is kept in the store and made after the next start,
# with the same X-Refit-Delivery id.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
tb_httpd "$TB_DIR" || fail "httpd did not start"
tb_faultproxy "${TB_HTTP#http://}" || fail "fault proxy did not start"
curl -s "http://$TB_PROXY/_fault?mode=503&count=1" >/dev/null

mkdir -p "$TB_DIR/ok" "$TB_DIR/bad"
printf 'FROM %s/refit-test/base:1\nUSER 65534\n' "$R" >"$TB_DIR/ok/Dockerfile"
printf 'FROM %s/refit-test/base:1\nRUN exit 3\nUSER 65534\n' "$R" >"$TB_DIR/bad/Dockerfile"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$(tb_free_port)
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, settle: 0s }
notify:
  - { webhook: "http://$TB_PROXY/_t/record/all?token=s3cret-hook-token" }
  - { webhook: "$TB_HTTP/_t/record/failures", events: [failed] }
projects:
  - name: ok
    network: none
    context: $TB_DIR/ok
    image: $R/team/ok
    environments: { test: {}, prod: { requires: test } }
  - { name: bad, network: none, context: $TB_DIR/bad, image: $R/team/bad, environments: { prod: {} } }
YAML
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
refitd_start "$TB_DIR/refit.yaml"
wait_log "project ok: rebuild done" 120
wait_log "project bad: rebuild failed" 120
events() { curl -s "$TB_HTTP/_t/record/$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    e = json.loads(r["body"])
    assert r["headers"]["content-type"] == "application/json", r["headers"]
    print(e["event"], e["project"], e["environment"], e["build_id"] > 0,
          (e["digest"] or "-")[:7], (e["image"] or "-").rsplit("/", 1)[-1],
          (e["image_id"] or "-")[:7])' | sort -u; }
want=$'built ok prod True - - sha256:\nbuilt ok test True - - sha256:\nfailed bad prod True - bad:prod -\npromoted ok prod True sha256: ok:prod sha256:\npushed ok prod True sha256: ok:prod sha256:\npushed ok test True sha256: ok:test sha256:'
tb_wait "[ \"\$(events all)\" = \"\$want\" ]" 30 || fail "all events: $(events all)"
[ "$(events failures)" = "failed bad prod True - bad:prod -" ] || fail "failed-only hook: $(events failures)"
grep -q "webhook" "$RD_LOG" && fail "a delivery was dropped: $(grep webhook "$RD_LOG")"
grep -q "s3cret-hook-token" "$RD_LOG" && fail "the webhook token reached the log"
err=$(curl -s "$TB_HTTP/_t/record/failures" | python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)[0]["body"])["error"])')
case "$err" in *"exit"*|*"returned a non-zero code"*|*"3"*) ;; *) fail "failed event error: $err" ;; esac
ok "webhooks: built, pushed, promoted and failed events, filtered per hook, a 503 retried, no token in logs"

# Deliveries that still fail when refitd stops are made after the next start.
curl -s "http://$TB_PROXY/_fault?mode=503&count=1000" >/dev/null
api=$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
n0=$(grep -c "project ok: rebuild done" "$RD_LOG")
curl -sf -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" "http://$api/v1/projects/ok/rebuild" \
	>/dev/null || fail "POST rebuild ok"
tb_wait "[ \"\$(grep -c 'project ok: rebuild done' '$RD_LOG')\" -gt $n0 ]" 120 || fail "ok was not rebuilt"
sleep 1 # the last event's first attempt got a 503: the next comes after 2 s
curl -s "http://$api/metrics" | grep -qE '^refit_webhook_deliveries_pending [1-9]' ||
	fail "metrics: $(curl -s "http://$api/metrics" | grep webhook)"
refitd_stop
db=$TB_DIR/state/state.db
ids=$(sql "$db" "SELECT group_concat(id) FROM outbox")
n=$(sql "$db" "SELECT count(*) FROM outbox")
[ "$n" -ge 5 ] || fail "expected the 5 events of the rebuild pending, the outbox has $n"
grep -q "webhook: $n event delivery(ies) pending, kept for the next start" "$RD_LOG" ||
	fail "no pending deliveries at stop: $(grep webhook "$RD_LOG")"
sql "$db" "SELECT group_concat(hook || body) FROM outbox" | grep -q "s3cret-hook-token" &&
	fail "the webhook URL's token reached the store"
curl -s "http://$TB_PROXY/_fault?mode=ok" >/dev/null
refitd_start "$TB_DIR/refit.yaml"
wait_log "webhook: $n event delivery\(ies\) pending at the last stop are sent again" 30
got() { curl -s "$TB_HTTP/_t/record/all" | python3 -c "
import json, sys
want = set('$ids'.split(','))
print(len(want & {r['headers'].get('x-refit-delivery') for r in json.load(sys.stdin)}))"; }
tb_wait '[ "$(got)" = "$n" ]' 30 || fail "$(got) of the $n kept deliveries arrived after the restart"
tb_wait "[ \"\$(sql '$db' 'SELECT count(*) FROM outbox')\" = 0 ]" 10 || fail "the outbox is not empty"
api=$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
curl -s "http://$api/metrics" | grep -qx 'refit_webhook_deliveries_pending 0' || fail "metrics after delivery"
ok "$n deliveries pending at stop are made after the restart, with their X-Refit-Delivery ids"
refitd_stop

# A pending delivery whose webhook has left the configuration is dropped at the next start.
python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO outbox(hook, event, body, created_at) VALUES('sha256:gone', 'pushed', '{}', 1)")
db.commit()
PY
refitd_start "$TB_DIR/refit.yaml"
wait_log "webhook: a pushed event pending at the last stop is dropped: its webhook is no longer configured" 30
wait_log "refitd .* started" 30 # signals are handled from here on
[ "$(sql "$db" "SELECT count(*) FROM outbox WHERE hook = 'sha256:gone'")" = 0 ] ||
	fail "the delivery of a removed webhook stayed in the outbox"
ok "a pending delivery of a webhook no longer configured is dropped"
refitd_stop
