#!/bin/bash
# The operator's day one, against the private dockerd and registry:
#  - `refitd --check-config` names each broken project with file:line:col: an
#    invalid image reference (the file does not load: exit 1), a missing context,
#    a missing Dockerfile, a target that is not a stage (the closest suggested), a
#    build arg no ARG declares (warning) and an unreadable secret (exit 3);
#  - a failing project is `failing` with its error and attempts in the API and
#    refitctl; its retry waits out the backoff (in the store), which a manual
#    rebuild cuts short; `failed` is sent once, `recovered` when it builds again;
#    each webhook body carries X-Refit-Signature (HMAC-SHA256 with the hook's
#    secret_file, checked here) and the configured headers;
#  - rollback: prod goes back to prod-previous, prod-previous then holds the image
#    rolled away from (a second rollback rolls forward), prod is held (a rebuild
#    skips it) until released; a rollback with nothing to go back to fails.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
tb_httpd "$TB_DIR" || fail "httpd did not start"
R=$TB_REGISTRY

# ---- --check-config ----
mkdir -p "$TB_DIR/app"
printf 'FROM %s/refit-test/base:1 AS runtime\nARG PY=3.11\nRUN exit 3\n' "$R" >"$TB_DIR/app/Dockerfile"
cat >"$TB_DIR/bad1.yaml" <<YAML
projects:
  - name: a
    context: $TB_DIR/app
    image: $R/ds/Root-Img
    environments: { prod: {} }
YAML
out=$("$REFITD" --check-config "$TB_DIR/bad1.yaml" 2>&1)
[ $? = 1 ] || fail "an invalid image reference must not load: $out"
grep -qx "$TB_DIR/bad1.yaml:4:12: image: '$R/ds/Root-Img' is not a valid image reference: repository name must be lowercase" <<<"$out" ||
	fail "image message: $out"
cat >"$TB_DIR/bad2.yaml" <<YAML
projects:
  - name: nocontext
    context: $TB_DIR/missing
    image: $R/ds/a
    environments: { prod: {} }
  - name: nodockerfile
    context: $TB_DIR/app
    dockerfile: Dockerfile.gpu
    image: $R/ds/b
    environments: { prod: {} }
  - name: typo
    context: $TB_DIR/app
    image: $R/ds/c
    secrets: { pip: $TB_DIR/nosuch }
    environments:
      prod: { target: runtim, build_args: { PY: '3.12', EXTRA: x } }
YAML
out=$("$REFITD" --check-config "$TB_DIR/bad2.yaml" 2>&1)
[ $? = 3 ] || fail "broken files must exit 3: $out"
for want in \
	"bad2.yaml:3:14: context: $TB_DIR/missing: No such file or directory" \
	"bad2.yaml:8:17: dockerfile: $TB_DIR/app/Dockerfile.gpu: No such file or directory" \
	"bad2.yaml:14:21: secrets: $TB_DIR/nosuch: No such file or directory" \
	"bad2.yaml:16:23: target: no stage 'runtim' (did you mean 'runtime'? stages: runtime)" \
	"bad2.yaml:16:43: warning: build_args: EXTRA is not declared by an ARG in the Dockerfile, so the build ignores it" \
	"bad2.yaml: 4 problems: refitd would start, and what they concern would fail"; do
	grep -qF "$want" <<<"$out" || fail "check-config lacks '$want': $out"
done
ok "--check-config: invalid image (exit 1); missing context, Dockerfile, stage, secret (exit 3); undeclared build arg"

# ---- failing, retry, manual rebuild, failed once, recovered, signatures ----
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
printf 'hook-key-%s\n' "$RANDOM" >"$TB_DIR/hook.key"
port=$(tb_free_port)
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$port
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, settle: 0s }
notify:
  - webhook: "$TB_HTTP/_t/record/hook"
    secret_file: $TB_DIR/hook.key
    headers: { X-Team: data-science }
projects:
  - { name: app, network: none, context: $TB_DIR/app, image: $R/team/app, environments: { prod: {} } }
  - name: two
    network: none
    context: $TB_DIR/two
    image: $R/team/two
    environments: { test: {}, prod: { requires: test }, rnd: {} }
YAML
mkdir -p "$TB_DIR/two"
printf 'FROM %s/refit-test/base:1\nUSER 65534\n' "$R" >"$TB_DIR/two/Dockerfile"
refitd_start "$TB_DIR/refit.yaml"
URL=http://127.0.0.1:$port
ctl() { "$REFITCTL" "$@" --url "$URL" --token-file "$TB_DIR/token"; }
wait_log "project app: rebuild failed" 120
env_field() { curl -s "$URL/v1/projects/app" | python3 -c "import json,sys; e=json.load(sys.stdin)['environments'][0]; print($1)"; }
[ "$(env_field 'e["state"], e["attempts"]')" = "failing 1" ] || fail "failing state: $(curl -s "$URL/v1/projects/app")"
env_field 'e["error"]' | grep -q "exit" || fail "the failing environment's error: $(env_field 'e["error"]')"
nb=$(sql "$TB_DIR/state/state.db" "SELECT not_before FROM triggers WHERE state = 'pending'")
[ "${nb:-0}" -gt "$(($(date +%s) * 1000 + 10000))" ] || fail "the retry is not deferred by the backoff: $nb"
ctl projects app | grep -qE "failing +since .*1 attempt" || fail "refitctl projects app: $(ctl projects app)"
start=$(date +%s)
out=$(ctl rebuild app --wait) && fail "rebuild --wait of a failing project must exit 1: $out"
grep -q "merged into the pending one" <<<"$out" || fail "the manual rebuild merges into the retry: $out"
grep -qE "^prod: build [0-9]+ failed" <<<"$out" || fail "rebuild --wait: $out"
[ $(($(date +%s) - start)) -lt 60 ] || fail "the manual rebuild waited out the backoff"
[ "$(env_field 'e["attempts"]')" = 2 ] || fail "attempts after the second failure"
printf 'FROM %s/refit-test/base:1 AS runtime\nARG PY=3.11\nRUN echo one >/v\nUSER 65534\n' "$R" >"$TB_DIR/app/Dockerfile"
out=$(ctl rebuild app --wait 2>&1)
grep -qE "^prod: build [0-9]+ succeeded" <<<"$out" || fail "the fixed project did not build: $out $(tail -20 "$RD_LOG")"
[ "$(env_field 'e["state"]')" = ok ] || fail "state after the fix"
hooks() {
	curl -s "$TB_HTTP/_t/record/hook" | python3 -c '
import hashlib, hmac, json, sys
key = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
for r in json.load(sys.stdin):
    body, h = r["body"].encode(), r["headers"]
    want = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert h.get("x-refit-signature") == want, ("signature", h, want)
    assert h.get("x-team") == "data-science", h
    e = json.loads(body)
    assert h.get("x-refit-event") == e["event"], h
    assert isinstance(e["reasons"], list), e
    if e["project"] == "app":
        print(e["event"])' "$TB_DIR/hook.key" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' '
}
tb_wait '[ "$(hooks)" = "built=1 failed=1 pushed=1 recovered=1 " ]' 30 || fail "webhooks: $(hooks)"
ok "failing with its error and attempts, backoff in the store cut short by a manual rebuild, failed once, recovered, HMAC-signed"

# ---- rollback ----
digest_of() {
	curl -s -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$R/v2/team/app/manifests/$1" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
rollback() {
	local n
	n=$(sql "$TB_DIR/state/state.db" "SELECT count(*) FROM builds WHERE trigger = 'rollback' AND status != 'running'")
	curl -sf -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" "$URL/v1/projects/app/rollback?env=prod" >/dev/null ||
		fail "POST rollback"
	tb_wait "[ \$(sql '$TB_DIR/state/state.db' \"SELECT count(*) FROM builds WHERE trigger = 'rollback' AND status != 'running'\") -gt $n ]" 120 ||
		fail "the rollback did not finish"
	sql "$TB_DIR/state/state.db" "SELECT status || ' ' || coalesce(error, '') FROM builds WHERE trigger = 'rollback' ORDER BY id DESC LIMIT 1"
}
out=$(rollback)
grep -q "^failed no .*prod-previous to roll back to" <<<"$out" || fail "a rollback with nothing older: $out"
one=$(digest_of prod)
printf 'FROM %s/refit-test/base:1 AS runtime\nARG PY=3.11\nRUN echo two >/v\nUSER 65534\n' "$R" >"$TB_DIR/app/Dockerfile"
n=$(sql "$TB_DIR/state/state.db" "SELECT max(id) FROM builds")
ctl rebuild app >/dev/null || fail "rebuild"
tb_wait "[ \$(sql '$TB_DIR/state/state.db' 'SELECT max(id) FROM builds') -gt $n ]" 60 || fail "no new build"
id=$(sql "$TB_DIR/state/state.db" "SELECT max(id) FROM builds")
out=$(ctl logs -f "$id" 2>&1) || fail "logs -f of a build that succeeds must exit 0: $out"
grep -q "succeeded" <<<"$out" || fail "logs -f did not follow the build to its end: $out"
[ "$(sql "$TB_DIR/state/state.db" "SELECT status FROM builds WHERE id = $id")" = succeeded ] || fail "the second image did not build"
ctl feeds | grep -q "^FEED" || fail "refitctl feeds"
out=$(ctl feeds poll) || fail "refitctl feeds poll: $out"
two=$(digest_of prod)
[ -n "$one" ] && [ "$one" != "$two" ] && [ "$(digest_of prod-previous)" = "$one" ] || fail "two images: $one $two"
[ "$(rollback)" = "succeeded " ] || fail "rollback failed"
[ "$(digest_of prod)" = "$one" ] && [ "$(digest_of prod-previous)" = "$two" ] ||
	fail "after the rollback: prod $(digest_of prod), prod-previous $(digest_of prod-previous)"
[ "$(env_field 'e["state"], e["hold"]["reason"]')" = "held rolled back" ] || fail "the rollback holds prod"
out=$(ctl rebuild app --wait) || fail "a rebuild of a held project: $out"
grep -qE "^prod: build [0-9]+ skipped: held \(rolled back\)" <<<"$out" || fail "the held environment was rebuilt: $out"
[ "$(digest_of prod)" = "$one" ] || fail "a rebuild promoted to the held prod"
[ "$(rollback)" = "succeeded " ] || fail "roll forward failed"
[ "$(digest_of prod)" = "$two" ] && [ "$(digest_of prod-previous)" = "$one" ] || fail "roll forward"
ctl release app prod | grep -q released || fail "release"
# a hold of the whole project: its trigger waits, nothing starts, until the release
ctl hold app --reason freeze | grep -q "app held" || fail "hold of the project"
n=$(sql "$TB_DIR/state/state.db" "SELECT count(*) FROM builds WHERE project = 'app'")
out=$(ctl rebuild app --wait 2>&1) && fail "rebuild --wait of a held project must fail: $out"
grep -q "is held" <<<"$out" || fail "rebuild --wait of a held project: $out"
sleep 3
[ "$(sql "$TB_DIR/state/state.db" "SELECT count(*) FROM builds WHERE project = 'app'")" = "$n" ] ||
	fail "a held project was rebuilt"
ctl release app | grep -q "app released" || fail "release of the project"
out=$(ctl rebuild app --wait 2>&1)
grep -qE "^prod: build [0-9]+ succeeded" <<<"$out" || fail "the released environment did not build: $out"
# one environment (and what it requires)
wait_log "project two: rebuild done" 120
out=$(ctl rebuild two rnd --wait) || fail "rebuild two rnd: $out"
[ "$(grep -cE '^[a-z]+: build' <<<"$out")" = 1 ] && grep -qE "^rnd: build [0-9]+ succeeded" <<<"$out" ||
	fail "rebuild of rnd alone: $out"
out=$(ctl rebuild two prod --wait) || fail "rebuild two prod: $out"
[ "$(grep -E '^[a-z]+: build' <<<"$out" | cut -d: -f1 | tr '\n' ' ')" = "test prod " ] || fail "rebuild of prod builds test first, not rnd: $out"
ok "rollback: nothing older is an error, prod-previous keeps the image rolled away from (roll forward), held until released"
grep -q "$(cat "$TB_DIR/hook.key")" "$RD_LOG" && fail "the webhook key reached the log"
refitd_stop
ok "day one"
