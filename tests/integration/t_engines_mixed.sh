#!/bin/bash
# One build pool over the three transports: a unix socket (U, a relay to the private
# dockerd), mutual TLS over TCP (T, a TCP relay in front of the same dockerd's
# --tlsverify port: the TLS bytes pass through) and ssh (S, Debian's sshd forwarding to
# the same dockerd's socket). Each relay, and the ssh forwarder, can be taken away.
#   - U and S down at start (no relay, sshd stopped: ssh's connection refused, retried
#     with backoff): the first build runs on T, cold.
#   - U and S come up: a rebuild stays on T, where the cache is warm, with U listed
#     first and S idle.
#   - T is lost mid-build (its relay stops): requeued at once, built elsewhere.
#   - Only S left: a rebuild runs on S; its ssh child is killed mid-build: requeued,
#     and built once U is back (or S's forwarder restarted).
set -u
. "$(dirname "$0")/lib.sh"
tb_init
TB_DOCKERD_TLS=1 tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
tb_base_image refit-test/base:1 || fail "base image"
tb_sshd || fail "sshd did not start"
R=$TB_REGISTRY
A=$TB_DIR/u.sock
U=unix://$A
TLS_TO=${TB_DOCKER_TLS_HOST#tcp://}
TPORT=$(tb_free_port)
T=tcp://127.0.0.1:$TPORT
S=$TB_SSH_HOST$TB_DOCKER_SOCK

mkdir -p "$TB_DIR/p"
date +%s%N >"$TB_DIR/p/stamp"
printf 'FROM %s\nCOPY stamp /stamp\nRUN sleep 4\nUSER 65534\n' "$R/refit-test/base:1" \
	>"$TB_DIR/p/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
port=$(tb_free_port)
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$port
api_token_file: $TB_DIR/token
engines:
  - host: $U
  - host: $T
    tls_ca: $TB_TLS/ca.pem
    tls_cert: $TB_TLS/client.pem
    tls_key: $TB_TLS/client-key.pem
  - host: $S
    ssh_key: $TB_SSH_KEY
    ssh_known_hosts: $TB_SSH_KNOWN_HOSTS
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
at_run_step() {
	tb_wait "grep -q 'RUN sleep 4' \"\$(sql '$DB' 'SELECT log_path FROM builds ORDER BY id DESC LIMIT 1')\"" 60 ||
		fail "the build did not reach its RUN step"
}
up() { wait_log "engine $1: (docker|podman) .* speaking API" 60; }
# the engines' hosts in the pattern of a log line ('.' and '/' are fine in ERE here)
ANY="($U|$T|$S)"

tb_stop_pid "$TB_SSHD_PID"
tb_tcprelay "$TLS_TO" "$TPORT" || fail "relay T"
RELAY_T=$TB_RELAY_PID
refitd_start "$TB_DIR/refit.yaml"
up "$T"
wait_log "engine $S: ssh: connect to host 127.0.0.1 port $TB_SSH_PORT: Connection refused" 30
wait_log "project p: rebuild started on $T \(trigger initial, cold cache\)" 60
tb_wait '[ "$(builds)" = 1 ]' 120 || fail "first build did not succeed: $(last)"
[ "$(last)" = "$T succeeded" ] || fail "first build: $(last)"
ok "U and S down: the first build runs on the TLS engine T"

tb_relay "$A" || fail "relay U"
RELAY_U=$TB_RELAY_PID
/usr/sbin/sshd -D -e -f "$TB_DIR/sshd/sshd_config" >>"$TB_DIR/sshd/sshd.log" 2>&1 &
TB_PIDS+=($!)
up "$U"
up "$S"
rebuild
wait_log "project p: rebuild started on $T \(trigger manual, warm cache\)" 30
tb_wait '[ "$(builds)" = 2 ]' 120 || fail "second build did not succeed: $(last)"
ok "warm placement: the rebuild stays on T, with U idle and listed first, S idle"

rebuild
wait_log "project p: rebuild started on $T \(trigger manual, warm cache\)" 30
at_run_step
tb_stop_pid "$RELAY_T"
wait_log "project p: rebuild cut short, engine $T was lost; back in the queue" 30
tb_wait "[ \"\$(grep -cE 'project p: rebuild started on ' '$RD_LOG')\" = 4 ]" 30 ||
	fail "the cut-short build was not started again"
tb_wait '[ "$(builds)" = 3 ]' 120 || fail "the build requeued from T did not succeed: $(last)"
echo "  requeued from T onto: $(last)"
ok "a lost TLS engine: the cut-short rebuild is requeued and succeeds on $(last | cut -d' ' -f1)"

n=$(grep -c "engine $U: unreachable: " "$RD_LOG")
tb_stop_pid "$RELAY_U"
tb_wait "[ \"\$(grep -c 'engine $U: unreachable: ' '$RD_LOG')\" -gt $n ]" 15 ||
	fail "U's loss was not noticed"
rebuild
wait_log "project p: rebuild started on $S \(trigger manual, (warm|cold) cache\)" 30
at_run_step
pid=$(pgrep -P "$RD_PID" -x ssh)
[ -n "$pid" ] || fail "no ssh child"
kill -KILL "$pid"
wait_log "project p: rebuild cut short, engine $S was lost; back in the queue" 30
tb_relay "$A" || fail "relay U again"
tb_wait '[ "$(builds)" = 4 ]' 180 || fail "the build requeued from S did not succeed: $(last)"
echo "  requeued from S onto: $(last)"
ok "a killed ssh forwarder: the cut-short rebuild is requeued and succeeds on $(last | cut -d' ' -f1)"

grep -q "rebuild failed" "$RD_LOG" && fail "a lost engine counted as the project's failure"
for e in "$T" "$S"; do
	n=$(sql "$DB" "SELECT count(*) FROM builds WHERE status = 'failed' AND engine = '$e'")
	[ "$n" = 1 ] || fail "expected one cut-short build recorded on $e, found $n"
done
ok "each cut-short build recorded once on its engine, no project failure"
refitd_stop
[ -z "$(pgrep -P "$RD_PID" -x ssh 2>/dev/null)" ] || fail "ssh left behind"
