#!/bin/bash
# The service manager protocol, tested for real: this test plays systemd's
# part with its own NOTIFY_SOCKET (an AF_UNIX datagram socket, like PID 1's)
# and asserts READY=1 only after start-up (store open, listener up), STATUS=,
# WATCHDOG=1 every half WATCHDOG_USEC, RELOADING=1 then READY=1 around
# SIGHUP (good and bad reloads), STOPPING=1 on SIGTERM, no READY=1 when
# start-up fails. Then the log formats (journald <N> prefixes with
# JOURNAL_STREAM, one JSON object per line with log_format: json), socket
# activation with systemd-socket-activate, and the graceful stop against a
# private dockerd: a running rebuild finishes within stop_timeout and nothing
# new starts; past stop_timeout it is interrupted and runs after the restart.
set -u
. "$(dirname "$0")/lib.sh"
tb_init

# notify_listen NAME: a datagram socket at $TB_DIR/NAME.sock recording every
# message as a JSON line in $TB_DIR/NAME.jsonl; at READY=1 it notes whether
# state.db exists, whether refitd logged its start and whether the REST port
# ($NL_PORT, when set) accepts a connection at that very moment.
cat >"$TB_DIR/notify.py" <<'PY'
import json, os, socket, sys, time
path, out, log, db, port = sys.argv[1:6]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(path + ".up", "w").close()
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(65536).decode()
        rec = {"t": time.monotonic(), "msg": msg}
        if "READY=1" in msg.split("\n"):
            rec["db"] = os.path.exists(db)
            rec["started"] = "started (config" in open(log, errors="replace").read()
            if port != "-":
                try:
                    socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()
                    rec["api"] = True
                except OSError:
                    rec["api"] = False
        f.write(json.dumps(rec) + "\n")
PY
notify_listen() {
	NL_SOCK=$TB_DIR/$1.sock NL_OUT=$TB_DIR/$1.jsonl
	: >"$NL_OUT"
	python3 "$TB_DIR/notify.py" "$NL_SOCK" "$NL_OUT" "$TB_DIR/refitd.log" "$2" "${NL_PORT:--}" &
	TB_PIDS+=($!)
	tb_wait "test -e '$NL_SOCK.up'" 10 || fail "notify listener did not start"
}
# msgs: the datagrams so far, one per line, newlines inside shown as '|'.
msgs() { python3 -c 'import json,sys; [print(json.loads(l)["msg"].replace("\n","|")) for l in open(sys.argv[1])]' "$NL_OUT"; }
count() { msgs | grep -c -- "$1"; }
# ready_field KEY: the value noted at the first READY=1.
ready_field() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "READY=1" in r["msg"].split("\n"): print(str(r.get(sys.argv[2])).lower()); break' "$NL_OUT" "$1"
}
wait_msg() { tb_wait "msgs | grep -qE -- '$1'" "${2:-30}" || { msgs >&2; fail "no notify message /$1/"; }; }

port=$(tb_free_port)
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$port
engines: [ { host: unix://$TB_DIR/no-engine.sock } ]
YAML

# ---- start-up, status, watchdog, reload, stop ----
NL_PORT=$port notify_listen n1 "$TB_DIR/state/state.db"
export NOTIFY_SOCKET=$NL_SOCK WATCHDOG_USEC=1000000 # a ping every 500 ms
refitd_start "$cfg"
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_msg '^READY=1$' 60
[ "$(ready_field db)" = true ] || fail "READY=1 came before state.db existed"
[ "$(ready_field started)" = true ] || fail "READY=1 came before refitd logged its start"
grep -q "REST API listening on 127.0.0.1:$port" "$RD_LOG" || fail "no REST API on 127.0.0.1:$port"
[ "$(ready_field api)" = true ] || fail "READY=1 came before the REST port accepted connections"
ok "READY=1 after the store, the configuration and the listener"
first=$(msgs | sed -n 1p)
case $first in WATCHDOG=1 | STATUS=*) ;; *) fail "first message was '$first'" ;; esac
msgs | grep -qE '^STATUS=[0-9]+ rebuilds? running, [0-9]+ queued; 0 of 1 engine up$' ||
	{ msgs >&2; fail "no STATUS= summary"; }
ok "STATUS= summary: $(msgs | grep -m1 '^STATUS=')"

n0=$(count '^WATCHDOG=1$')
sleep 3
n1=$(count '^WATCHDOG=1$')
[ $((n1 - n0)) -ge 4 ] || fail "$((n1 - n0)) WATCHDOG=1 in 3 s at WATCHDOG_USEC=1s (expected about 6)"
ok "WATCHDOG=1 keeps coming ($((n1 - n0)) in 3 s)"

# A good reload, then a bad one: both end in READY=1, in that order.
kill -HUP "$RD_PID"
wait_log "configuration reloaded"
cp "$cfg" "$cfg.good"
echo "poll: { bases: often }" >>"$cfg"
kill -HUP "$RD_PID"
wait_log "reload failed: keeping the running configuration"
cp "$cfg.good" "$cfg"
tb_wait "[ \$(count '^READY=1\$') -ge 3 ]" 10 || { msgs >&2; fail "no READY=1 after the reloads"; }
seq=$(msgs | grep -E '^(READY|RELOADING)=1' | sed 's/|MONOTONIC_USEC=[0-9]*//' | tr '\n' ' ')
[ "$seq" = "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 " ] || fail "sequence: $seq"
msgs | grep -qE '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' || fail "RELOADING=1 without MONOTONIC_USEC"
ok "SIGHUP: RELOADING=1 then READY=1, for a good and a bad configuration"

refitd_stop
[ "$(count '^STOPPING=1$')" = 1 ] || { msgs >&2; fail "no STOPPING=1 on SIGTERM"; }
last_ping=$(python3 -c 'import json,sys
t = [json.loads(l) for l in open(sys.argv[1])]
s = [r["t"] for r in t if r["msg"] == "STOPPING=1"][0]
print(sum(1 for r in t if r["t"] > s and r["msg"] == "READY=1"))' "$NL_OUT")
[ "$last_ping" = 0 ] || fail "READY=1 after STOPPING=1"
ok "SIGTERM: STOPPING=1, exit 0"

# ---- a failed start-up says nothing ----
mv "$RD_LOG" "$RD_LOG.1"
notify_listen n2 "$TB_DIR/none"
touch "$TB_DIR/not-a-dir"
sed "s|^state_dir: .*|state_dir: $TB_DIR/not-a-dir|" "$cfg" >"$cfg.bad"
NOTIFY_SOCKET=$NL_SOCK "$REFITD" -d -c "$cfg.bad" >"$RD_LOG" 2>&1
rc=$?
[ "$rc" != 0 ] || fail "refitd started with a file as state_dir"
sleep 0.5
[ "$(count '^READY=1$')" = 0 ] || fail "READY=1 although start-up failed"
ok "failed start-up (exit $rc): no READY=1"

# ---- log formats ----
# logs_of CONFIG [ENV...]: runs refitd without -d until it has started, then
# stops it; prints what it wrote to stderr.
logs_of() {
	local c=$1 pid out=$TB_DIR/fmt.log
	shift
	env "$@" "$REFITD" -c "$c" >"$out" 2>&1 &
	pid=$!
	TB_PIDS+=($pid)
	tb_wait "grep -q 'started (config' '$out' && grep -q 'no-engine.sock: ' '$out'" 30 ||
		{ cat "$out" >&2; fail "refitd did not start"; }
	kill -TERM $pid
	wait $pid || fail "refitd exited with $?"
	cat "$out"
}
out=$(logs_of "$cfg" JOURNAL_STREAM=8:1234)
echo "$out" | grep -qvE '^<[0-7]>' && { echo "$out" >&2; fail "a line without a journald prefix"; }
echo "$out" | grep -qE '^<6>refitd .* started \(config' || fail "no <6> on the start line"
echo "$out" | grep -qE '^<4>engine unix://.*no-engine.sock: ' || fail "no <4> on the engine warning"
ok "JOURNAL_STREAM set: every line has its <N> priority prefix"

sed 's/^listen: .*/listen: 127.0.0.1:'"$(tb_free_port)"'/' "$cfg" >"$cfg.json"
echo "log_format: json" >>"$cfg.json"
check_json() {
	python3 -c 'import json, re, sys
pre = sys.argv[1] == "prefix"
n = 0
for line in sys.stdin:
    line = line.rstrip("\n")
    if pre:
        m = re.match(r"<([0-7])>", line)
        assert m, "no prefix: " + line
        line = line[m.end():]
    o = json.loads(line)
    assert set(o) >= {"ts", "level", "msg"}, line
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["ts"]), o["ts"]
    assert o["level"] in ("error", "warning", "info", "debug"), o["level"]
    n += 1
assert n >= 3, n
print(n)' "$1"
}
n=$(logs_of "$cfg.json" | check_json plain) || fail "log_format json: a line is not a JSON object"
ok "log_format: json gives one JSON object per line ($n lines)"
n=$(logs_of "$cfg.json" JOURNAL_STREAM=8:1234 | check_json prefix) || fail "json with journald prefixes"
ok "log_format: json under journald: <N> then the JSON object ($n lines)"

# ---- socket activation ----
sport=$(tb_free_port)
notify_listen n3 "$TB_DIR/state/state.db"
rm -f "$RD_LOG"
systemd-socket-activate -l "127.0.0.1:$sport" -E NOTIFY_SOCKET="$NL_SOCK" \
	"$REFITD" -d -c "$cfg" >"$RD_LOG" 2>&1 &
RD_PID=$!
TB_PIDS+=($RD_PID)
wait_log "Listening on 127.0.0.1:$sport" 10 # systemd-socket-activate's socket is bound
code=$(curl -s -o "$TB_DIR/healthz" -w '%{http_code}' --max-time 60 "http://127.0.0.1:$sport/healthz")
[ "$code" = 200 ] || [ "$code" = 503 ] || { cat "$RD_LOG" >&2; fail "/healthz on the passed socket: HTTP $code"; }
grep -q "REST API listening on 127.0.0.1:$sport" "$RD_LOG" || fail "refitd did not say it took the passed socket"
curl -s --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null &&
	fail "refitd also listened on its configured address"
wait_msg '^READY=1$'
kill -TERM "$RD_PID"
wait "$RD_PID" || fail "socket-activated refitd exited with $?"
ok "socket activation: /healthz served on the socket systemd-socket-activate passed (HTTP $code)"

# ---- graceful stop against a real engine ----
tb_standard_bed # private dockerd, registry, base image; $R
mkdir -p "$TB_DIR/a" "$TB_DIR/b" "$TB_DIR/c"
printf 'FROM %s/refit-test/base:1\nRUN sleep 6\nUSER 65534\n' "$R" >"$TB_DIR/a/Dockerfile"
printf 'FROM %s/team/a:prod\nUSER 65534\n' "$R" >"$TB_DIR/b/Dockerfile"
printf 'FROM %s/refit-test/base:1\nRUN sleep 30\nUSER 65534\n' "$R" >"$TB_DIR/c/Dockerfile"
scfg=$TB_DIR/stop.yaml
cat >"$scfg" <<YAML
state_dir: $TB_DIR/sstate
listen: 127.0.0.1:$(tb_free_port)
stop_timeout: 60s
engines: [ { host: $TB_DOCKER_HOST, max_builds: 2 } ]
projects:
  - { name: a, network: none, context: $TB_DIR/a, image: $R/team/a, environments: { prod: {} } }
  - { name: b, network: none, context: $TB_DIR/b, image: $R/team/b, environments: { prod: {} } }
YAML
DB=$TB_DIR/sstate/state.db
rm -f "$RD_LOG"
notify_listen n4 "$DB"
export NOTIFY_SOCKET=$NL_SOCK
refitd_start "$scfg"
unset NOTIFY_SOCKET
wait_log "project a: rebuild started" 60
tb_wait "grep -qE 'Running in|^#[0-9]+ \\[[^]]*\\] RUN' '$TB_DIR/sstate/logs/1.log'" 60 || fail "the build did not get going"
kill -TERM "$RD_PID"
wait_log "stopping: waiting up to 60 s for 1 running rebuild" 10
wait_msg '^STOPPING=1$' 10
wait_msg '^STATUS=Stopping: waiting for 1 running rebuild' 10
wait_log "project a: rebuild done" 60
refitd_stop_wait() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$RD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$RD_PID" 2>/dev/null && fail "refitd did not exit after the drain"
	wait "$RD_PID" || { tail -20 "$RD_LOG" >&2; fail "refitd exited with $?"; }
	if [ -s "${RD_VG:-/nonexistent}" ]; then
		cat "$RD_VG" >&2
		fail "valgrind reported errors or leaks"
	fi
}
refitd_stop_wait
[ "$(sql "$DB" "SELECT status FROM builds WHERE project = 'a'")" = succeeded ] || fail "a did not finish"
grep -q "project b: rebuild started" "$RD_LOG" && fail "b started while refitd was stopping"
n=$(sql "$DB" "SELECT count(*) FROM triggers WHERE project = 'b' AND state = 'pending'")
[ "$n" -ge 1 ] || fail "b's trigger is not pending for the next start"
ok "SIGTERM during a rebuild: it finished, nothing new started, b waits for the next start"

# Past stop_timeout the running rebuild is interrupted, then runs after the restart.
mv "$RD_LOG" "$RD_LOG.2"
sed -i -e 's/^stop_timeout: .*/stop_timeout: 2s/' -e '/name: b,/d' "$scfg" # b would race c
cat >>"$scfg" <<YAML
  - { name: c, network: none, context: $TB_DIR/c, image: $R/team/c, environments: { prod: {} } }
YAML
refitd_start "$scfg"
wait_log "project c: rebuild started" 60
c_build() { sql "$DB" "SELECT max(id) FROM builds WHERE project = 'c'"; }
tb_wait '[ "$(c_build)" -gt 0 ] 2>/dev/null' 60 || fail "no build row for c"
id=$(c_build)
tb_wait "grep -qE 'Running in|^#[0-9]+ \\[[^]]*\\] RUN' '$TB_DIR/sstate/logs/$id.log'" 60 || fail "c's build did not get going"
t0=$(date +%s)
kill -TERM "$RD_PID"
wait_log "stop_timeout reached: interrupting 1 running rebuild" 15
refitd_stop_wait
[ $(($(date +%s) - t0)) -le 15 ] || fail "the stop took $(($(date +%s) - t0)) s with stop_timeout 2s"
[ "$(sql "$DB" "SELECT status FROM builds WHERE id = $id")" = interrupted ] || fail "c's build is not interrupted"
[ "$(sql "$DB" "SELECT count(*) FROM triggers WHERE project = 'c' AND state = 'pending'")" -ge 1 ] ||
	fail "c's trigger is not pending again"
ok "past stop_timeout: c's rebuild interrupted, its trigger pending"

mv "$RD_LOG" "$RD_LOG.3"
sed -i 's/RUN sleep 30/RUN true/' "$TB_DIR/c/Dockerfile"
refitd_start "$scfg"
wait_log "project c: rebuild done" 120
ok "after the restart c's rebuild ran again"
refitd_stop
