#!/bin/bash
# A build log that cannot be written (state_dir/logs is a file, then an immutable
# directory): the build still succeeds and pushes, refitd warns, and the build record says
# why its log is missing (log_error in the store and in GET /v1/builds/ID).
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
ST=$TB_DIR/state
mkdir -p "$ST" "$TB_DIR/a"
echo "not a directory" >"$ST/logs"
printf 'FROM %s/refit-test/base:1\nRUN true\nUSER 65534\n' "$R" >"$TB_DIR/a/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $ST
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
projects:
  - { name: a, network: none, context: $TB_DIR/a, image: $R/team/a, environments: { prod: {} } }
YAML
DB=$ST/state.db
refitd_start "$cfg"
wait_log "REST API listening on" 60
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
wait_log "project a: rebuild (done|failed)" 240
wait_log "build 1: its log cannot be written \(.*/logs/1.log: Not a directory\); the build goes on" 1
[ "$(sql "$DB" "SELECT status FROM builds WHERE id = 1")" = succeeded ] || fail "build 1 did not succeed"
le=$(sql "$DB" "SELECT log_error FROM builds WHERE id = 1")
case $le in *"logs/1.log: Not a directory") ;; *) fail "log_error of build 1: '$le'" ;; esac
curl -s "http://127.0.0.1:$port/v1/builds/1" | python3 -c 'import json,sys; b=json.load(sys.stdin); assert "Not a directory" in b["log_error"], b' ||
	fail "GET /v1/builds/1 has no log_error"
curl -s "http://127.0.0.1:$port/metrics" | grep -q '^refit_builds_log_lost 1$' || fail "metric refit_builds_log_lost"
ok "logs is a file: build 1 succeeded without its log, and says why: $le"

rm "$ST/logs" && mkdir "$ST/logs"
if chattr +i "$ST/logs" 2>/dev/null; then
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" \
		-H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$port/v1/projects/a/rebuild"
	tb_wait "[ \"\$(sql '$DB' 'SELECT status FROM builds WHERE id = 2')\" = succeeded ]" 240 ||
		{ chattr -i "$ST/logs"; fail "build 2: $(sql "$DB" "SELECT status || ' ' || coalesce(error, '') FROM builds WHERE id = 2")"; }
	chattr -i "$ST/logs"
	le=$(sql "$DB" "SELECT log_error FROM builds WHERE id = 2")
	case $le in *"logs/2.log: Operation not permitted") ;; *) fail "log_error of build 2: '$le'" ;; esac
	ok "logs immutable: build 2 succeeded without its log, and says why: $le"
fi
refitd_stop
