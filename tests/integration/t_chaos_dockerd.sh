#!/bin/bash
# Chaos: dockerd killed (SIGKILL) in the middle of a build and started again a few seconds
# later on the same socket and data. refitd says why the build stopped (the row's error,
# the log), keeps the rebuild (its trigger goes back to the queue), runs it once the engine
# answers again, and it succeeds: no row stays running, one stamp tag per successful build.
set -u
. "$(dirname "$0")/lib.sh"
export REFIT_VALGRIND=${REFIT_VALGRIND:-0}
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
tb_base_image refit-test/base:1 || fail "base image"
R=$TB_REGISTRY
mkdir -p "$TB_DIR/a"
printf 'FROM %s/refit-test/base:1\nRUN sleep 6\nUSER 65534\n' "$R" >"$TB_DIR/a/Dockerfile"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { engines: 2s }
projects:
  - { name: a, network: none, context: $TB_DIR/a, image: $R/team/a, environments: { prod: {} } }
YAML
DB=$TB_DIR/state/state.db
until_t() { local end=$((SECONDS + $2)); while ((SECONDS < end)); do eval "$1" && return 0; sleep 0.5; done; return 1; }
refitd_start "$cfg"
wait_log "project a: rebuild started" 60
tb_wait "grep -qE 'RUN sleep 6|Running in' '$TB_DIR/state/logs/1.log'" 60 || fail "the build did not get going"
kill -KILL "$TB_DOCKERD_PID"
wait "$TB_DOCKERD_PID" 2>/dev/null
ok "dockerd killed during build 1"
sleep 3
tb_dockerd || fail "dockerd did not start again"
ok "dockerd started again"
until_t '[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE status = '"'succeeded'"'")" -ge 1 ]' 240 ||
	fail "no successful build after dockerd came back: $(sql "$DB" "SELECT group_concat(id || ' ' || status || ' ' || coalesce(error, ''), ' // ') FROM builds")"
until_t '[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE status IN ('"'running'"', '"'queued'"')") $(sql "$DB" "SELECT count(*) FROM triggers WHERE state IN ('"'pending'"', '"'running'"')")" = "0 0" ]' 60 ||
	fail "rows left running or pending"
st=$(sql "$DB" "SELECT status || ': ' || coalesce(error, '') FROM builds WHERE id = 1")
case $st in succeeded*) ;; *": "?*) ;; *) fail "build 1 ended without a reason: $st" ;; esac
ok "build 1: $st"
grep -E "project a: rebuild (interrupted|failed)" "$RD_LOG" | head -2
tags=$(curl -s "http://$R/v2/team/a/tags/list" | python3 -c 'import json,sys; print(len([t for t in json.load(sys.stdin)["tags"] if t.startswith("prod-2")]))')
n=$(sql "$DB" "SELECT count(*) FROM builds WHERE status = 'succeeded'")
[ "$tags" = "$n" ] || fail "$tags stamp tags for $n successful builds"
ok "the rebuild ran again and succeeded once the engine was back ($(sql "$DB" "SELECT group_concat(id || ' ' || status, ', ') FROM builds")); $tags stamp tag = $n success"
refitd_stop
