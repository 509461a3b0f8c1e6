#!/bin/bash
# A base image on a registry that needs credentials (htpasswd): refit passes
# the credentials from `registries:` (username_file/password_file) to the
# engine with X-Registry-Config, so the build's pull succeeds; the password
# never shows in the log, the store or the build log.
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
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
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
refitd_stop
