#!/bin/bash
# Engines over ssh: Debian's sshd on a loopback port (its own host key, one authorized
# client key that may only forward) in front of the private dockerd and of Podman's
# service. refitd runs `ssh -N -L` per ssh:// engine and talks to the engine through the
# forwarded local socket.
#   - through dockerd: negotiated, built with BuildKit (its session over the same
#     forwarded socket), pushed;
#   - the ssh child killed by its pid in the middle of a build: the build is requeued,
#     ssh is started again and the build succeeds through the new forwarder;
#   - a wrong host key, a wrong client key, a refused port and a remote socket that is
#     not there: each engine says why in /v1/status within seconds, and nothing hangs;
#   - SIGHUP onto Podman's service behind the same sshd: the old forwarder is gone, the
#     project builds and pushes through Podman; SIGHUP onto no ssh engine leaves no ssh.
#   - --check-config names an unreadable ssh_key at its file:line:col.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
tb_sshd || fail "sshd did not start"
R=$TB_REGISTRY
S=$TB_SSH_HOST
E=$S$TB_DOCKER_SOCK

mkdir -p "$TB_DIR/app"
date +%s%N >"$TB_DIR/app/stamp"
printf 'FROM %s/refit-test/base:1\nCOPY stamp /stamp\nRUN sleep 4\nUSER 65534\n' "$R" \
	>"$TB_DIR/app/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
PORT=$(tb_free_port)
API=http://127.0.0.1:$PORT
# engines: the YAML flow list of engines
config() {
	cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$PORT
api_token_file: $TB_DIR/token
engines: $1
poll: { bases: 1h, settle: 0s, engines: 2s }
projects:
  - name: app
    network: none
    context: $TB_DIR/app
    image: $R/team/app
    environments: { prod: {} }
YAML
}
DB=$TB_DIR/state/state.db
builds() { sql "$DB" "SELECT count(*) FROM builds WHERE status = 'succeeded'"; }
last() { sql "$DB" "SELECT engine || ' ' || status FROM builds ORDER BY id DESC LIMIT 1"; }
rebuild() {
	date +%s%N >"$TB_DIR/app/stamp"
	curl -sf -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" \
		"$API/v1/projects/app/rebuild" >/dev/null || fail "POST rebuild"
}
# engine HOST: that engine's entry in /v1/status, as JSON
engine() {
	curl -s "$API/v1/status" | python3 -c "import json,sys
print(json.dumps([e for e in json.load(sys.stdin)['engines'] if e['host'] == sys.argv[1]][0]))" "$1"
}
sshs() { pgrep -P "$RD_PID" -x ssh | tr '\n' ' '; }
KEYS="ssh_key: $TB_SSH_KEY, ssh_known_hosts: $TB_SSH_KNOWN_HOSTS"

# ---- --check-config: the ssh files must be readable, the address well formed ----
config "[ { host: '$E', ssh_key: $TB_DIR/nokey, ssh_known_hosts: $TB_SSH_KNOWN_HOSTS } ]"
out=$("$REFITD" --check-config "$TB_DIR/refit.yaml" 2>&1) && fail "check-config passed: $out"
echo "$out" | grep -qE "refit.yaml:4:[0-9]+: .*ssh_key: $TB_DIR/nokey: No such file" ||
	fail "check-config: $out"
config "[ { host: 'ssh://-oProxyCommand=x@h', $KEYS } ]"
out=$("$REFITD" --check-config "$TB_DIR/refit.yaml" 2>&1) && fail "check-config passed: $out"
echo "$out" | grep -qE "refit.yaml:4:[0-9]+: host: ssh://: a bad user name" || fail "check-config: $out"
config "[ { host: '$E', $KEYS } ]"
out=$("$REFITD" --check-config "$TB_DIR/refit.yaml" 2>&1) || fail "check-config: $out"
ok "--check-config: an unreadable ssh_key and an option-like user are errors at file:line:col"

# ---- through dockerd: BuildKit, pushed ----
refitd_start "$TB_DIR/refit.yaml"
wait_log "engine $E: the ssh forwarder is up" 30
wait_log "project app: rebuild done" 180
e=$(engine "$E")
python3 -c "import json,sys
e = json.loads(sys.argv[1])
assert e['reachable'] is True and e['error'] is None, e
assert e['builder'] == 'buildkit' and not e['podman'], e" "$e" || fail "status: $e"
d=$(tb_digest team/app:prod)
[ -n "$d" ] || fail "team/app:prod was not pushed"
grep -q "BuildKit" "$(sql "$DB" 'SELECT log_path FROM builds ORDER BY id DESC LIMIT 1')" ||
	true
ok "ssh engine in front of dockerd: negotiated, built with BuildKit, pushed ($d)"

# ---- the forwarder killed mid-build: requeued, restarted, built ----
pid=$(sshs)
[ -n "$pid" ] && [ "$(echo $pid | wc -w)" = 1 ] || fail "expected one ssh child, found '$pid'"
rebuild
tb_wait "grep -q 'RUN sleep 4' \"\$(sql '$DB' 'SELECT log_path FROM builds ORDER BY id DESC LIMIT 1')\"" 60 ||
	fail "the rebuild did not reach its RUN step"
kill -KILL $pid
wait_log "engine $E: the ssh forwarder ended: ssh was killed by signal 9; restarting in 1 s" 10
wait_log "project app: rebuild cut short, engine $E was lost; back in the queue" 30
tb_wait "[ \"\$(grep -c 'engine $E: the ssh forwarder is up' '$RD_LOG')\" = 2 ]" 20 ||
	fail "the forwarder was not started again"
tb_wait '[ "$(builds)" = 2 ]' 180 || fail "the requeued build did not succeed: $(last)"
grep -q "project app: rebuild failed" "$RD_LOG" && fail "the lost forwarder counted as a failure"
new=$(sshs)
[ -n "$new" ] && [ "$new" != "$pid" ] || fail "no new ssh child: '$new' (was $pid)"
ok "ssh child $pid killed mid-build: requeued, ssh $new started, the build succeeded"

# ---- wrong host key, wrong client key, refused port: clear reasons, no hang ----
ssh-keygen -q -t ed25519 -N '' -C other -f "$TB_DIR/other_key" || fail "ssh-keygen"
printf '[127.0.0.1]:%s %s\n' "$TB_SSH_PORT" "$(cut -d' ' -f1,2 "$TB_DIR/other_key.pub")" \
	>"$TB_DIR/other_known_hosts"
closed=$(tb_free_port)
HK="ssh://root@127.0.0.1:$TB_SSH_PORT/hostkey.sock"
CK="ssh://root@127.0.0.1:$TB_SSH_PORT/clientkey.sock"
RP="ssh://root@127.0.0.1:$closed$TB_DOCKER_SOCK"
NS="$S$TB_DIR/no-engine.sock"
config "[ { host: '$HK', ssh_key: $TB_SSH_KEY, ssh_known_hosts: $TB_DIR/other_known_hosts },
  { host: '$CK', ssh_key: $TB_DIR/other_key, ssh_known_hosts: $TB_SSH_KNOWN_HOSTS },
  { host: '$RP', $KEYS }, { host: '$NS', $KEYS } ]"
t0=$(date +%s)
kill -HUP "$RD_PID"
wait_log "reload" 10
tb_wait "! kill -0 $new" 10 || fail "the old forwarder $new survived the reload"
expect() { # expect HOST TEXT
	tb_wait "engine '$1' | grep -qF '$2'" 15 || fail "engine $1: $(engine "$1")"
	echo "  $1: $(engine "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"])')"
}
expect "$HK" "ssh: Host key verification failed."
expect "$CK" "ssh: root@127.0.0.1: Permission denied (publickey)."
expect "$RP" "ssh: connect to host 127.0.0.1 port $closed: Connection refused"
expect "$NS" "no answer through the ssh forwarder: ssh: channel "
[ $(($(date +%s) - t0)) -le 20 ] || fail "the reasons took $(($(date +%s) - t0)) s"
curl -sf --max-time 5 "$API/healthz" >/dev/null || curl -s --max-time 5 "$API/healthz" |
	grep -q degraded || fail "/healthz did not answer"
ok "wrong host key, wrong client key, refused port, no remote socket: each engine says why (API), in seconds"

# ---- SIGHUP onto Podman's service behind the same sshd ----
mkdir -p "$TB_DIR/podman-tmp"
TMPDIR=$TB_DIR/podman-tmp tb_podman || fail "podman service did not start"
P=$S${TB_PODMAN_HOST#unix://}
config "[ { host: '$P', $KEYS } ]"
kill -HUP "$RD_PID"
wait_log "engine $P: podman .* speaking API" 60
tb_wait '[ "$(echo $(sshs) | wc -w)" = 1 ]' 15 || fail "ssh children after the reload: $(sshs)"
e=$(engine "$P")
python3 -c "import json,sys
e = json.loads(sys.argv[1])
assert e['reachable'] is True and e['podman'] is True and e['builder'] == 'podman', e" "$e" ||
	fail "status: $e"
rebuild
tb_wait '[ "$(builds)" = 3 ]' 240 || fail "the build on podman did not succeed: $(last)"
[ "$(last)" = "$P succeeded" ] || fail "podman build: $(last)"
[ "$(tb_digest team/app:prod)" != "$d" ] || fail "team/app:prod did not move"
ok "ssh engine in front of Podman's service: built with its own builder, pushed"

# ---- SIGHUP onto a unix engine: no ssh left ----
pid=$(sshs)
config "[ { host: '$TB_DOCKER_HOST' } ]"
kill -HUP "$RD_PID"
wait_log "engine $TB_DOCKER_HOST: docker .* speaking API" 30
tb_wait '[ -z "$(sshs)" ] && ! kill -0 '"$pid" 10 || fail "ssh left after the reload: $(sshs)"
ls "$TB_DIR/state" | grep -q '^ssh-' && fail "a forwarder's directory was left: $(ls "$TB_DIR/state")"
ok "a reload without ssh engines leaves no ssh process and no socket directory"
refitd_stop
