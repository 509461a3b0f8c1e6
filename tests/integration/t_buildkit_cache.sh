#!/bin/bash
# The registry cache of the build pool (issue 14): a project built on engine A carries
# inline cache metadata to the registry; when it moves to engine B, a second dockerd that
# never built it (a new build host), B imports the cache from the environment's current
# image and its slow step comes out CACHED instead of running again.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd A did not start"
A=$TB_DOCKER_HOST
tb_registry || fail "registry did not start"
R=$TB_REGISTRY
tb_base_image refit-test/base:1 || fail "base image"
tb_dockerd cold || fail "dockerd B did not start"
B=$TB_DOCKER_HOST
mkdir -p "$TB_DIR/p"
echo 1 >"$TB_DIR/p/version"
printf 'FROM %s/refit-test/base:1\nRUN sleep 4 && echo slow > /slow\nCOPY version /version\nUSER 65534\n' "$R" \
	>"$TB_DIR/p/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
conf() {
	cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $1 } ]
projects:
  - { name: p, network: none, context: $TB_DIR/p, image: $R/team/p, environments: { prod: {} } }
YAML
}
conf "$A"
refitd_start "$TB_DIR/refit.yaml"
DB=$TB_DIR/state/state.db
wait_log "REST API listening on " 60
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
wait_log "project p: rebuild (done|failed)" 120
grep -q "project p: rebuild done" "$RD_LOG" || fail "first build: $(sql "$DB" "SELECT error FROM builds")"
log=$TB_DIR/state/logs/1.log
grep -qE "RUN sleep 4" "$log" || fail "no RUN step in the first log"
ok "built on engine A"

# Engine B: cold. The COPY changes, the slow RUN before it does not.
conf "$B"
kill -HUP "$RD_PID"
wait_log "configuration reloaded" 30
tb_wait "curl -s '$URL/v1/status' | grep -q '\"host\": *\"$B\"'" 30 || fail "B not in the status"
echo 2 >"$TB_DIR/p/version"
sleep 2 # B probed
"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild p >/dev/null || fail "refitctl rebuild"
tb_wait "[ \$(grep -c 'project p: rebuild done' '$RD_LOG') -ge 2 ]" 120 || fail "second build on B"
id=$(sql "$DB" "SELECT max(id) FROM builds WHERE project = 'p'")
[ "$(sql "$DB" "SELECT engine FROM builds WHERE id = $id")" = "$B" ] || fail "the second build did not run on B"
log=$TB_DIR/state/logs/$id.log
step=$(grep -E "^#[0-9]+ \[[0-9]/[0-9]\] RUN sleep 4" "$log" | head -1 | cut -d' ' -f1)
[ -n "$step" ] || { cat "$log" >&2; fail "no RUN step line on B"; }
grep -qE "^$step CACHED" "$log" || { cat "$log" >&2; fail "the slow step ran again on the cold engine"; }
grep -q "importing cache manifest from $R/team/p:prod" "$log" || fail "no cache import"
ok "on cold engine B the unchanged slow step came from the registry cache"
refitd_stop
