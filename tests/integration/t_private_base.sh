#!/bin/bash
# A base image on a registry that needs credentials (htpasswd): refit passes
# the credentials from `registries:` (username_file/password_file) to the
# engine with X-Registry-Config, so the build's pull succeeds; the password
# never shows in the log, the store or the build log. A changed password_file is
# read again on SIGHUP: a wrong password makes the next build fail, the right one
# makes the one after it pass.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
PLAIN=$TB_REGISTRY
tb_base_image refit-test/base:1 || fail "base image"
tb_registry auth || fail "htpasswd registry did not start"
AUTH=$TB_REGISTRY
echo "$TB_REG_PASS" | docker -H "$TB_DOCKER_HOST" login -u "$TB_REG_USER" --password-stdin "$AUTH" >/dev/null 2>&1 ||
	fail "docker login"
tb_docker tag "$PLAIN/refit-test/base:1" "$AUTH/team/base:1" && tb_docker push "$AUTH/team/base:1" >/dev/null ||
	fail "push to the htpasswd registry"
docker -H "$TB_DOCKER_HOST" logout "$AUTH" >/dev/null 2>&1
tb_docker rmi "$AUTH/team/base:1" >/dev/null # the build must pull it
printf '%s' "$TB_REG_USER" >"$TB_DIR/user"
printf '%s\n' "$TB_REG_PASS" >"$TB_DIR/pass"
chmod 600 "$TB_DIR/pass"
mkdir -p "$TB_DIR/p"
printf 'FROM %s/team/base:1\nUSER 65534\n' "$AUTH" >"$TB_DIR/p/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
port=$(tb_free_port)
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$port
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
registries:
  - { host: $AUTH, username_file: $TB_DIR/user, password_file: $TB_DIR/pass }
projects:
  - { name: p, context: $TB_DIR/p, image: $PLAIN/team/p, environments: { prod: {} } }
YAML
refitd_start "$TB_DIR/refit.yaml"
wait_log "project p: rebuild (done|failed)" 120
grep -q "project p: rebuild done" "$RD_LOG" || { grep "build" "$RD_LOG" >&2; fail "the build with a private base failed"; }
ok "a base on a registry with credentials: pulled by the engine with refit's credentials"
grep -rqF "$TB_REG_PASS" "$RD_LOG" "$TB_DIR/state" && fail "the password shows in the log or the state"
ok "the password appears nowhere in the log, the store or the build logs"

# password_file changes: SIGHUP reads it again (no credentials cached across a reload)
rebuild() {
	curl -sf -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" \
		"http://127.0.0.1:$port/v1/projects/p/rebuild" >/dev/null || fail "POST rebuild"
}
reloads() { grep -c "configuration reloaded" "$RD_LOG"; }
printf 'not-the-password\n' >"$TB_DIR/pass"
kill -HUP "$RD_PID"
tb_wait '[ "$(reloads)" = 1 ]' 30 || fail "reload 1"
rebuild
wait_log "project p: rebuild failed" 120
printf '%s\n' "$TB_REG_PASS" >"$TB_DIR/pass"
kill -HUP "$RD_PID"
tb_wait '[ "$(reloads)" = 2 ]' 30 || fail "reload 2"
rebuild
tb_wait '[ "$(grep -c "project p: rebuild done" "$RD_LOG")" = 2 ]' 120 ||
	{ tail -20 "$RD_LOG" >&2; fail "the right password, read again on reload, did not build"; }
grep -qF "not-the-password" "$RD_LOG" && fail "the wrong password shows in the log"
ok "a changed password_file is read again on SIGHUP (wrong: the build fails; right again: it passes)"
refitd_stop
