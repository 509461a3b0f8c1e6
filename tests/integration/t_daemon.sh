#!/bin/bash
# refitd against a private dockerd: negotiates and records the API version,
# survives a broken SIGHUP reload, applies a good one, retries an engine that
# appears late, stops cleanly on SIGTERM, valgrind-clean.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd did not start"

cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$(tb_free_port)
engines:
  - host: $TB_DOCKER_HOST
    max_builds: 1
  - host: unix://$TB_DIR/late/docker.sock
YAML
"$REFITD" --check-config "$cfg" || fail "--check-config rejected a valid file"

refitd_start "$cfg"
wait_log "engine $TB_DOCKER_HOST: docker .* speaking API 1\.[0-9]+" 60
wait_log "engine unix://$TB_DIR/late/docker.sock: unreachable: cannot connect to $TB_DIR/late/docker.sock: No such file or directory" 30
api=$(sql "$TB_DIR/state/state.db" "SELECT api_version FROM engines WHERE host = '$TB_DOCKER_HOST' AND reachable = 1")
want=$(curl -s --unix-socket "$TB_DOCKER_SOCK" http://d/version | python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiVersion"])')
[ -n "$api" ] && [ "$api" = "$want" ] || fail "recorded API version '$api', engine says '$want'"
ok "negotiated and recorded API $api"

# A broken configuration on SIGHUP: logged with its position, old one kept.
cp "$cfg" "$cfg.good"
printf 'poll: { bases: often }\n' >>"$cfg"
kill -HUP "$RD_PID"
wait_log "refit.yaml:[0-9]+:[0-9]+: bases: invalid duration .often."
wait_log "reload failed: keeping the running configuration"
kill -0 "$RD_PID" || fail "refitd died on a bad reload"
ok "bad reload kept the running configuration"

# A good one is applied.
cp "$cfg.good" "$cfg"
kill -HUP "$RD_PID"
wait_log "configuration reloaded"
ok "good reload applied"

# The late engine appears: refitd's retry finds it.
mkdir -p "$TB_DIR/late"
ln -s "$TB_DOCKER_SOCK" "$TB_DIR/late/docker.sock"
wait_log "engine unix://$TB_DIR/late/docker.sock: docker .* speaking API" 90
ok "late engine picked up by the retry"

refitd_stop
n=$(grep -c "late/docker.sock: unreachable" "$RD_LOG")
[ "$n" = 1 ] || fail "an unchanged engine failure was logged $n times, not once"
n=$(sql "$TB_DIR/state/state.db" "SELECT count(*) FROM events WHERE kind IN ('start','reload','reload-failed')")
[ "$n" = 3 ] || fail "expected 3 events recorded, got $n"
ok "events recorded"
