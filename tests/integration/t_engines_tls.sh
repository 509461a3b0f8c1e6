#!/bin/bash
# Engines over mutual TLS: the private dockerd also listens on a loopback TCP
# port with --tlsverify (a CA, a server certificate for IP:127.0.0.1 and a
# client certificate, all made by openssl here). refitd negotiates the API
# version through it, builds (BuildKit: the builder auto picks it on tcp:// too,
# with its session through TLS) and pushes to the test bed registry. A client certificate from another CA is
# refused: a clear error in the log and the engine unreachable in /v1/status
# with that error. A missing tls_key is reported by --check-config.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
TB_DOCKERD_TLS=1 tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
tb_base_image refit-test/base:1 || fail "base image"
R=$TB_REGISTRY
T=$TB_TLS
E=$TB_DOCKER_TLS_HOST

mkdir -p "$TB_DIR/app"
printf 'FROM %s/refit-test/base:1\nRUN echo tls > /hello\nUSER 65534\n' "$R" >"$TB_DIR/app/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
config() { # config FILE CERT KEY
	cat >"$1" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$PORT
api_token_file: $TB_DIR/token
engines: [ { host: $E, tls_ca: $T/ca.pem, tls_cert: $2, tls_key: $3 } ]
poll: { bases: 1h, settle: 0s }
projects:
  - name: app
    network: none
    context: $TB_DIR/app
    image: $R/team/app
    environments: { prod: {} }
YAML
}
PORT=$(tb_free_port)
config "$TB_DIR/refit.yaml" "$T/client.pem" "$T/client-key.pem"
out=$("$REFITD" --check-config "$TB_DIR/refit.yaml" 2>&1) || fail "check-config: $out"

# ---- a good client certificate: negotiate, build, push ----
refitd_start "$TB_DIR/refit.yaml"
wait_log "project app: rebuild done" 180
st=$(curl -s "http://127.0.0.1:$PORT/v1/status")
python3 - "$st" "$E" <<'PY' || fail "status: $st"
import json, sys
s = json.loads(sys.argv[1])
e = [e for e in s["engines"] if e["host"] == sys.argv[2]][0]
assert e["reachable"] is True and e["error"] is None, e
assert e["api_version"] and e["engine_version"], e
assert e["builder"] == "buildkit", e
print("engine:", e["api_version"], e["engine_version"], e["builder"])
PY
d=$(tb_digest team/app:prod)
[ -n "$d" ] || fail "team/app:prod was not pushed"
refitd_stop
ok "tls engine $E: API negotiated, app built and pushed ($d)"

# ---- a client certificate from another CA: refused, clearly ----
mkdir -p "$TB_DIR/other"
tb_tls_ca "$TB_DIR/other" ca && tb_tls_cert "$TB_DIR/other" ca client client ||
	fail "the other CA"
PORT=$(tb_free_port)
config "$TB_DIR/foreign.yaml" "$TB_DIR/other/client.pem" "$TB_DIR/other/client-key.pem"
refitd_start "$TB_DIR/foreign.yaml"
wait_log "engine $E: .*retrying in the background" 30
line=$(grep "engine $E: " "$RD_LOG" | head -1)
echo "log: $line"
# The engine's TLS alert when curl reads it, else (the peer hung up first) the cause
case "$line" in *"alert bad certificate"* | *"did not accept the client certificate"*) ;;
*) fail "the refusal does not say why: $line" ;; esac
sleep 3.5 # the retries (1 s, 2 s later) keep saying why
st=$(curl -s "http://127.0.0.1:$PORT/v1/status")
python3 - "$st" "$E" <<'PY' || fail "status: $st"
import json, sys
s = json.loads(sys.argv[1])
e = [e for e in s["engines"] if e["host"] == sys.argv[2]][0]
assert e["reachable"] is False, e
assert "certificate" in (e["error"] or ""), e
print("status error:", e["error"])
PY
grep -q "BEGIN\|PRIVATE KEY" "$RD_LOG" && fail "key material reached the log"
refitd_stop
ok "a client certificate from another CA: refused, the engine unreachable with the TLS error"

# ---- a missing tls_key: --check-config says so ----
config "$TB_DIR/nokey.yaml" "$T/client.pem" "$TB_DIR/missing-key.pem"
out=$("$REFITD" --check-config "$TB_DIR/nokey.yaml" 2>&1)
rc=$?
[ $rc = 3 ] || fail "a missing tls_key must exit 3 (got $rc): $out"
grep -q "nokey.yaml:[0-9]*:[0-9]*: tls_key: .*missing-key.pem.*No such file" <<<"$out" ||
	fail "tls_key message: $out"
ok "check-config: $(grep tls_key <<<"$out")"
