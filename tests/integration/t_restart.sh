#!/bin/bash
# kill -9 of refitd in the middle of a build: the build is recorded as
# interrupted, its trigger runs again after the restart, and the round that
# died pushed nothing, so each environment gets exactly one pushed stamp tag.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
mkdir -p "$TB_DIR/a"
printf 'FROM %s/refit-test/base:1\nRUN sleep 4\nUSER 65534\n' "$R" >"$TB_DIR/a/Dockerfile"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
engines: [ { host: $TB_DOCKER_HOST } ]
projects:
  - { name: a, network: none, context: $TB_DIR/a, image: $R/team/a, environments: { prod: {} } }
YAML
DB=$TB_DIR/state/state.db
REFIT_VALGRIND=0 refitd_start "$cfg"
wait_log "project a: rebuild started" 60
tb_wait "grep -qE 'Running in|RUN sleep 4' '$TB_DIR/state/logs/1.log'" 30 || fail "the build did not get going"
kill -KILL "$RD_PID"
wait "$RD_PID" 2>/dev/null
st=$(sql "$DB" "SELECT status FROM builds WHERE id = 1")
[ "$st" = running ] || fail "build 1 is '$st' after kill -9, expected running (as last written)"
ok "killed refitd -9 during the build"

mv "$RD_LOG" "$RD_LOG.1"
refitd_start "$cfg"
wait_log "project a: rebuild done" 120
st=$(sql "$DB" "SELECT group_concat(status, ' ') FROM (SELECT status FROM builds WHERE project = 'a' ORDER BY id)")
[ "$st" = "interrupted succeeded" ] || fail "builds: $st"
n=$(curl -s "http://$R/v2/team/a/tags/list" | python3 -c 'import json,sys; print(len([t for t in json.load(sys.stdin)["tags"] if t.startswith("prod-2")]))')
[ "$n" = 1 ] || fail "expected one pushed prod stamp tag, found $n"
n=$(sql "$DB" "SELECT count(*) FROM triggers WHERE state IN ('pending', 'running')")
[ "$n" = 0 ] || fail "$n trigger(s) left pending or running"
ok "after the restart the rebuild ran once more and pushed once"
refitd_stop
