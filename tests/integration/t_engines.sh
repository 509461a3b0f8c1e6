#!/bin/bash
# A build pool of two engines, A and B: unix sockets relaying to the same private
# dockerd, each of which the test can take away (tb_relay).
#   - B alone is up at start: the first build runs there; A comes up later.
#   - A rebuild goes back to B, where the project's cache is warm, although A is
#     listed first and idle.
#   - B goes away while idle: the health probe (poll.engines) notices, /v1/status
#     says so, and the next rebuild runs on A (cold).
#   - A goes away in the middle of a build: the broken connection is noticed at
#     once, the rebuild goes back to the queue without a failure's backoff and
#     succeeds on B, which came back meanwhile.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
A=$TB_DIR/a.sock
B=$TB_DIR/b.sock

mkdir -p "$TB_DIR/p"
date +%s%N >"$TB_DIR/p/stamp"
# The stamp changes before each rebuild, so every build does real work on its engine;
# the sleep leaves time to take an engine away in the middle of one.
printf 'FROM %s\nCOPY stamp /stamp\nRUN sleep 4\nUSER 65534\n' "$R/refit-test/base:1" \
	>"$TB_DIR/p/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
port=$(tb_free_port)
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$port
api_token_file: $TB_DIR/token
engines:
  - host: unix://$A
  - host: unix://$B
poll: { bases: 24h, engines: 2s }
projects:
  - name: p
    network: none
    context: $TB_DIR/p
    image: $R/team/p
    environments: { test: {} }
YAML
DB=$TB_DIR/state/state.db
API=http://127.0.0.1:$port
rebuild() {
	date +%s%N >"$TB_DIR/p/stamp"
	curl -sf -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" \
		"$API/v1/projects/p/rebuild" >/dev/null || fail "POST rebuild"
}
builds() { sql "$DB" "SELECT count(*) FROM builds WHERE status = 'succeeded'"; }
last() { sql "$DB" "SELECT engine || ' ' || status FROM builds ORDER BY id DESC LIMIT 1"; }
reachable() {
	curl -s "$API/v1/status" | python3 -c "import json,sys
print([e['reachable'] for e in json.load(sys.stdin)['engines'] if e['host'] == 'unix://$1'][0])"
}

tb_relay "$B" || fail "relay B"
RELAY_B=$TB_RELAY_PID
refitd_start "$TB_DIR/refit.yaml"
wait_log "project p: rebuild started on unix://$B \(trigger initial, cold cache\)" 60
tb_wait '[ "$(builds)" = 1 ]' 120 || fail "first build did not succeed: $(last)"
[ "$(last)" = "unix://$B succeeded" ] || fail "first build: $(last)"
ok "first build on B, the only engine up"

tb_relay "$A" || fail "relay A"
RELAY_A=$TB_RELAY_PID
wait_log "engine unix://$A: docker .* speaking API" 60
rebuild
wait_log "project p: rebuild started on unix://$B \(trigger manual, warm cache\)" 30
tb_wait '[ "$(builds)" = 2 ]' 120 || fail "second build did not succeed: $(last)"
ok "rebuild stays on B, where the cache is warm, with A idle and listed first"

tb_stop_pid "$RELAY_B"
wait_log "engine unix://$B: unreachable: " 15
[ "$(reachable "$B")" = False ] || fail "/v1/status still says B is reachable"
ok "an idle engine that went away is noticed by the health probe"
rebuild
wait_log "project p: rebuild started on unix://$A \(trigger manual, cold cache\)" 30
tb_wait '[ "$(builds)" = 3 ]' 120 || fail "third build did not succeed: $(last)"
ok "with B gone, the rebuild runs on A"

tb_relay "$B" || fail "relay B again"
tb_wait "[ \"\$(grep -cE 'engine unix://$B: docker .* speaking API' '$RD_LOG')\" = 2 ]" 90 ||
	fail "B was not picked up again"
rebuild
wait_log "project p: rebuild started on unix://$A \(trigger manual, warm cache\)" 30
tb_wait "grep -q 'RUN sleep 4' \"\$(sql '$DB' 'SELECT log_path FROM builds ORDER BY id DESC LIMIT 1')\"" 60 ||
	fail "the fourth build did not reach its RUN step"
tb_stop_pid "$RELAY_A"
wait_log "engine unix://$A: a connection broke mid-request; checking the engine" 15
wait_log "project p: rebuild cut short, engine unix://$A was lost; back in the queue" 30
wait_log "project p: rebuild started on unix://$B \(trigger manual, (warm|cold) cache\)" 30
tb_wait '[ "$(builds)" = 4 ]' 120 || fail "the requeued build did not succeed: $(last)"
[ "$(last)" = "unix://$B succeeded" ] || fail "requeued build: $(last)"
grep -q "rebuild failed" "$RD_LOG" && fail "the lost engine counted as the project's failure"
n=$(sql "$DB" "SELECT count(*) FROM builds WHERE status = 'failed' AND engine = 'unix://$A'")
[ "$n" = 1 ] || fail "expected the cut-short build recorded as failed on A, found $n"
ok "a build cut short by a lost engine is requeued at once and succeeds on B"

refitd_stop
