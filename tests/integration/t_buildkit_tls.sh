#!/bin/bash
# BuildKit through an engine on TCP with mutual TLS (issue 14): the private dockerd also
# listens on a loopback port with --tlsverify, and refit's only engine is that port.
# builder: auto picks BuildKit there too; the session goes through TLS like the requests
# (the engine's tls_ca, tls_cert, tls_key). The project's base is on the htpasswd
# registry (credentials through the session) and a RUN reads a required secret (a
# canary), which appears nowhere: build log, daemon log, state, API. A secret file that
# went away fails the next build naming the secret and why, not its path. An engine whose
# certificate our tls_ca did not sign: a clear error, the engine unreachable, no hang.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
TB_DOCKERD_TLS=1 tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
PLAIN=$TB_REGISTRY
tb_base_image refit-test/base:1 || fail "base image"
tb_registry auth || fail "htpasswd registry did not start"
AUTH=$TB_REGISTRY
echo "$TB_REG_PASS" | docker -H "$TB_DOCKER_HOST" login -u "$TB_REG_USER" --password-stdin "$AUTH" \
	>/dev/null 2>&1 || fail "docker login"
tb_docker tag "$PLAIN/refit-test/base:1" "$AUTH/private/base:1" &&
	tb_docker push "$AUTH/private/base:1" >/dev/null || fail "push to the htpasswd registry"
docker -H "$TB_DOCKER_HOST" logout "$AUTH" >/dev/null 2>&1
tb_docker rmi "$AUTH/private/base:1" >/dev/null # the build must pull it, through the session
T=$TB_TLS
E=$TB_DOCKER_TLS_HOST

printf '%s' "$TB_REG_USER" >"$TB_DIR/auth-user"
printf '%s\n' "$TB_REG_PASS" >"$TB_DIR/auth-pass"
CANARY=canary-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'index-url = https://%s@pypi.example/simple\n' "$CANARY" >"$TB_DIR/pipconf"
chmod 600 "$TB_DIR/auth-pass" "$TB_DIR/pipconf"
mkdir -p "$TB_DIR/app"
cat >"$TB_DIR/app/Dockerfile" <<DOCKERFILE
FROM $AUTH/private/base:1
RUN --mount=type=secret,id=pipconf,required=true \\
    test -s /run/secrets/pipconf && echo "secret bytes \$(wc -c < /run/secrets/pipconf)"
USER 65534
DOCKERFILE
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
config() { # config FILE CA
	cat >"$1" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $E, tls_ca: $2, tls_cert: $T/client.pem, tls_key: $T/client-key.pem } ]
registries:
  - { host: $AUTH, username_file: $TB_DIR/auth-user, password_file: $TB_DIR/auth-pass }
poll: { bases: 1h, settle: 0s }
projects:
  - name: app
    context: $TB_DIR/app
    image: $PLAIN/team/app
    network: host
    secrets: { pipconf: $TB_DIR/pipconf }
    environments: { prod: {} }
YAML
}
config "$TB_DIR/refit.yaml" "$T/ca.pem"
refitd_start "$TB_DIR/refit.yaml"
DB=$TB_DIR/state/state.db
wait_log "REST API listening on " 60
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
wait_log "project app: rebuild (done|failed)" 240
grep -q "project app: rebuild done" "$RD_LOG" ||
	fail "app did not build: $(sql "$DB" "SELECT group_concat(coalesce(error, status)) FROM builds")"
b=$(sql "$DB" "SELECT group_concat(DISTINCT builder) FROM builds WHERE project = 'app'")
[ "$b" = buildkit ] || fail "app built with '$b'"
curl -s "$URL/v1/builds?project=app" | python3 -c '
import json, sys
b = json.load(sys.stdin)
b = b["builds"] if isinstance(b, dict) else b
assert b and all(x["builder"] == "buildkit" for x in b), b
' || fail "/v1/builds does not say buildkit"
st=$(curl -s "$URL/v1/status")
python3 - "$st" "$E" <<'PY' || fail "status: $st"
import json, sys
s = json.loads(sys.argv[1])
e = [e for e in s["engines"] if e["host"] == sys.argv[2]][0]
assert e["reachable"] is True and e["builder"] == "buildkit", e
PY
log1=$TB_DIR/state/logs/$(sql "$DB" "SELECT id FROM builds WHERE project = 'app' ORDER BY id LIMIT 1").log
grep -qE "secret bytes [1-9]" "$log1" || { cat "$log1" >&2; fail "the secret step did not read the secret"; }
grep -qE "BuildKit session closed: [0-9]+ health checks, [1-9][0-9]* credential and 1 secret" "$log1" ||
	fail "the session did not serve credentials and the secret: $(grep 'session' "$log1")"
[ -n "$(TB_REGISTRY=$PLAIN tb_digest team/app:prod)" ] || fail "team/app:prod was not pushed"
ok "tls engine $E: builder auto is buildkit; a private base and a secret through the TLS session"

# A secret file gone: the next build fails naming the secret id and why, never the path.
# (A step before the secret's changes: BuildKit would take the secret's step from its cache
# without asking for the secret.)
mv "$TB_DIR/pipconf" "$TB_DIR/pipconf.away"
sed -i '2i RUN echo second' "$TB_DIR/app/Dockerfile"
"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild app >/dev/null || fail "refitctl rebuild app"
wait_log "project app: rebuild failed" 180
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'app' ORDER BY id DESC LIMIT 1")
echo "error: $err"
case $err in *"secret pipconf: No such file or directory"*) ;; *) fail "error: '$err'" ;; esac
grep -rqF "$TB_DIR/pipconf" "$TB_DIR/state/logs" "$RD_LOG" && fail "the secret's path is in a log"
curl -s "$URL/v1/builds?project=app" | grep -qF "$TB_DIR/pipconf" && fail "the secret's path is in the API"
mv "$TB_DIR/pipconf.away" "$TB_DIR/pipconf"
ok "a missing secret file: the build error names the secret and the reason, not the path"

img=$(sql "$DB" "SELECT image_id FROM builds WHERE project = 'app' AND image_id IS NOT NULL LIMIT 1")
n=$(curl -s --unix-socket "$TB_DOCKER_SOCK" "http://d/v1.41/images/$img/get" | grep -a -c "$CANARY")
[ "$n" = 0 ] || fail "the canary is in docker save of the image ($n)"
grep -rqF "$CANARY" "$TB_DIR/state" "$RD_LOG" && fail "the canary is in state_dir or the daemon log"
for p in /v1/projects /v1/builds "/v1/builds?limit=100" /v1/status /metrics /; do
	curl -s "$URL$p" | grep -qF "$CANARY" && fail "the canary is in $p"
done
grep -rqF "$TB_REG_PASS" "$TB_DIR/state" "$RD_LOG" && fail "the registry password is in the state or the log"
ok "the secret and the password appear nowhere: image, logs, state, API, metrics"
refitd_stop

# ---- a CA that did not sign the engine's certificate: refused, clearly, in time ----
mkdir -p "$TB_DIR/other"
tb_tls_ca "$TB_DIR/other" ca || fail "the other CA"
rm -rf "$TB_DIR/state"
config "$TB_DIR/wrongca.yaml" "$TB_DIR/other/ca.pem"
refitd_start "$TB_DIR/wrongca.yaml"
wait_log "engine $E: .*retrying in the background" 30
line=$(grep "engine $E: " "$RD_LOG" | head -1)
echo "log: $line"
case "$line" in *"certificate"*) ;; *) fail "the refusal does not say why: $line" ;; esac
grep -q "project app: rebuild" "$RD_LOG" && fail "a build started on an engine it cannot trust"
refitd_stop
ok "a wrong tls_ca: the engine is unreachable with the TLS library's reason"
