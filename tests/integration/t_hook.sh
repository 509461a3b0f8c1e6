#!/bin/bash
# A registry push notification (distribution's webhook envelope) posted to
# refitd makes it check the pushed repository's references at once, long
# before the next poll; a wrong token is refused and changes nothing.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
mkdir -p "$TB_DIR/p"
printf 'FROM %s/refit-test/base:1\nUSER 65534\n' "$R" >"$TB_DIR/p/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: unix://$TB_DIR/no-engine.sock } ]
poll: { bases: 1h, settle: 0s }
projects:
  - { name: p, context: $TB_DIR/p, image: $R/team/p, environments: { prod: {} } }
YAML
refitd_start "$TB_DIR/refit.yaml"
wait_log "base $R/refit-test/base:1 \(linux/amd64\): sha256:" 30
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
tb_base_move refit-test/base:1
envelope() {
	printf '{"events":[{"id":"e1","action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","repository":"refit-test/base","tag":"1","digest":"%s"},"request":{"host":"%s"}}]}' \
		"$(tb_digest refit-test/base:1)" "$R"
}
code=$(envelope | curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "Authorization: Bearer wrong" --data-binary @- "http://127.0.0.1:$port/v1/hooks/registry")
[ "$code" = 401 ] || fail "a wrong token got $code"
sleep 2
grep -q "moved" "$RD_LOG" && fail "refused notification still triggered a check"
code=$(envelope | curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $(cat "$TB_DIR/token")" --data-binary @- "http://127.0.0.1:$port/v1/hooks/registry")
[ "$code" = 202 ] || fail "notification answered $code"
wait_log "base $R/refit-test/base:1 moved: .* rebuild of 1 project" 10
ok "a push notification made refitd check the base at once (poll interval 1 h)"
refitd_stop
