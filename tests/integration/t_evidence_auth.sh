#!/bin/bash
# Evidence on registries that want credentials: one with a token server (Bearer, a
# pull,push scope for the artifacts), one with htpasswd (Basic). Credentials come from
# registries: username_file/password_file; `refitctl verify` reads docker's config.json.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry token || fail "token registry did not start"
TOK=$TB_REGISTRY TOK_USER=$TB_REG_USER TOK_PASS=$TB_REG_PASS
tb_registry auth || fail "htpasswd registry did not start"
BAS=$TB_REGISTRY BAS_USER=$TB_REG_USER BAS_PASS=$TB_REG_PASS
for r in "$TOK $TOK_USER $TOK_PASS" "$BAS $BAS_USER $BAS_PASS"; do
	set -- $r
	echo "$3" | docker -H "$TB_DOCKER_HOST" login -u "$2" --password-stdin "$1" >/dev/null 2>&1 ||
		fail "docker login $1"
done
TB_REGISTRY=$TOK tb_base_image refit-test/base:1 || fail "base image"
printf '%s' "$TOK_USER" >"$TB_DIR/tok-user"; printf '%s' "$TOK_PASS" >"$TB_DIR/tok-pass"
printf '%s' "$BAS_USER" >"$TB_DIR/bas-user"; printf '%s' "$BAS_PASS" >"$TB_DIR/bas-pass"
openssl ecparam -name prime256v1 -genkey -noout -out "$TB_DIR/signing.key" 2>/dev/null ||
	fail "openssl ecparam"
openssl ec -in "$TB_DIR/signing.key" -pubout -out "$TB_DIR/signing.pub" 2>/dev/null || fail "pubout"
mkdir -p "$TB_DIR/a"
printf "FROM $TOK/refit-test/base:1\nUSER 65534\n" >"$TB_DIR/a/Dockerfile"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
engines: [ { host: $TB_DOCKER_HOST } ]
signing: { key_file: $TB_DIR/signing.key }
registries:
  - { host: $TOK, username_file: $TB_DIR/tok-user, password_file: $TB_DIR/tok-pass }
  - { host: $BAS, username_file: $TB_DIR/bas-user, password_file: $TB_DIR/bas-pass }
projects:
  - { name: tok, network: none, context: $TB_DIR/a, image: $TOK/team/tok, requires_evidence: true, environments: { prod: {} } }
  - { name: bas, network: none, context: $TB_DIR/a, image: $BAS/team/bas, requires_evidence: true, environments: { prod: {} } }
YAML
refitd_start "$TB_DIR/refit.yaml"
DB=$TB_DIR/state/state.db
wait_log "project tok: rebuild (done|failed)" 180
wait_log "project bas: rebuild (done|failed)" 180
for p in tok bas; do
	st=$(sql "$DB" "SELECT status || ' ' || coalesce(error, '') FROM builds WHERE project = '$p'")
	[ "$st" = "succeeded " ] || { cat "$TB_DIR"/state/logs/*.log >&2; fail "$p: $st"; }
done
ok "SEC1 key from openssl; evidence pushed with Bearer and Basic credentials"
for img in "$TOK/team/tok:prod" "$BAS/team/bas:prod"; do
	out=$("$REFITCTL" verify "$img" --key "$TB_DIR/signing.pub" 2>&1) || fail "verify $img: $out"
	case $out in *"from the referrers tag"*"signature: ok"*"result: verified"*) ;; *) fail "verify $img: $out" ;; esac
done
ok "refitctl verify with docker config.json credentials"
grep -F -q "$TOK_PASS" "$RD_LOG" "$TB_DIR"/state/logs/*.log && fail "a password reached a log"
refitd_stop
