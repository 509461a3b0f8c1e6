#!/bin/bash
# End to end against a private dockerd and the real registry:
#   A (FROM the test base; test has a check; prod requires test),
#   B (FROM A's prod image), C (FROM the base; its test check fails),
#   D (a .env file in its context: the policy check fails).
# First builds run on start (trigger "initial"); then the base moves: A is
# rebuilt and promoted, :prod-previous keeps the old prod digest, B follows
# A, C's prod is never promoted, labels name the base and its digest.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
# REFIT_TEST_ENGINE=podman runs the same test with Podman's compatible service as the engine.
ENGINE=$TB_DOCKER_HOST
if [ "${REFIT_TEST_ENGINE:-docker}" = podman ]; then
	tb_podman || fail "podman service did not start"
	ENGINE=$TB_PODMAN_HOST
fi
eng_api() { curl -s --unix-socket "${ENGINE#unix://}" "http://e/v1.41$1"; }
eng_inspect() { eng_api "/images/$1/json" | python3 -c "import json,sys; d=json.load(sys.stdin)['Config']; print(json.dumps(d.get('$2'), sort_keys=True, separators=(',', ':')) if '$2' == 'Labels' else d.get('$2'))"; }
eng_tags() { eng_api "/images/json" | python3 -c "import json,sys; print('\n'.join(t.split(':')[-1] for i in json.load(sys.stdin) for t in (i.get('RepoTags') or []) if t.startswith('$1:')))"; }

mk() { mkdir -p "$TB_DIR/$1"; printf "$2" >"$TB_DIR/$1/Dockerfile"; }
mk a "FROM $R/refit-test/base:1\nRUN echo a > /a\nUSER 65534\n"
mk b "FROM $R/team/a:prod\nLABEL b=1\nRUN test -f /a\n"
mk c "FROM $R/refit-test/base:1\nUSER 65534\n"
mk d "FROM $R/refit-test/base:1\nCOPY . /app\nUSER 65534\n"
echo "API_KEY=not-for-images" >"$TB_DIR/d/.env"
mk e "FROM $R/refit-test/base:1\nRUN --mount=type=cache,target=/c true\nUSER 65534\n"
mk f "FROM $R/refit-test/base:1\nRUN exit 3\nUSER 65534\n"

cfg=$TB_DIR/refit.yaml
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $ENGINE, max_builds: 2 } ]
poll: { bases: 2s, jitter: 0%, settle: 0s }

projects:
  - name: a
    network: none
    context: $TB_DIR/a
    image: $R/team/a
    keep_images: 1
    environments:
      test: { check: ["/bin/sh", "-c", "test -f /a && ! touch /forbidden"] }
      prod: { requires: test }
  - name: b
    network: none
    context: $TB_DIR/b
    image: $R/team/b
    environments: { prod: {} }
  - name: c
    network: none
    context: $TB_DIR/c
    image: $R/team/c
    environments:
      test: { check: ["/bin/false"] }
      prod: { requires: test }
  - name: d
    network: none
    context: $TB_DIR/d
    image: $R/team/d
    environments: { prod: {} }
  - { name: e, network: none, context: $TB_DIR/e, image: $R/team/e, environments: { prod: {} } }
  - { name: f, network: none, context: $TB_DIR/f, image: $R/team/f, environments: { prod: {} } }
  - { name: g, network: none, context: $TB_DIR/a, image: $R/team/g, enabled: false, environments: { prod: {} } }
YAML
refitd_start "$cfg"
DB=$TB_DIR/state/state.db

wait_log "project a: rebuild done" 120
wait_log "project b: rebuild done" 120
wait_log "project c: rebuild failed" 120
wait_log "project d: rebuild failed" 120
ok "initial rebuilds ran"

tags() { curl -s "http://$R/v2/team/$1/tags/list" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin).get("tags") or [])))'; }
case "$(tags a)" in "prod prod-2"*" test test-2"*) ;; *) fail "a tags: $(tags a)" ;; esac
case "$(tags b)" in "prod prod-2"*) ;; *) fail "b tags: $(tags b)" ;; esac
[ -z "$(tags c)" ] || fail "c pushed tags although its test check failed: $(tags c)"
st=$(sql "$DB" "SELECT group_concat(env || '=' || status, ' ') FROM (SELECT env, status FROM builds WHERE project = 'c' ORDER BY id LIMIT 2)")  # a slow run may have retried c since
[ "$st" = "test=failed prod=skipped" ] || fail "c builds: $st"
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'd'")
case $err in *"policy: the build context holds secret-looking files"*".env"*) ;; *) fail "d error: $err" ;; esac
ok "tags pushed per environment; failing check blocks promotion; policy stops secrets"
wait_log "project f: rebuild failed" 60
# e's cache mount: BuildKit (dockerd) and Podman's builder both have it.
wait_log "project e: rebuild done" 60
want=buildkit
[ "${REFIT_TEST_ENGINE:-docker}" = podman ] && want=podman
[ "$(sql "$DB" "SELECT builder FROM builds WHERE project = 'e'")" = $want ] || fail "e builder"
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'f'")
case $err in *"returned a non-zero code: 3"* | *"exit status 3"* | *"exit code: 3"*) ;;
*) fail "f error: $err" ;; esac
grep -q "project f: rebuild failed .*retry in 60 s" "$RD_LOG" || fail "f: no retry with backoff"
ok "a cache mount builds; a failing build records the engine's message and retries"
n=$(sql "$DB" "SELECT count(*) FROM builds WHERE project = 'g'")
[ "$n" = 0 ] || fail "disabled project g was built $n times"

# Labels of a:prod name the base and its digest, the environment and the trigger.
d1=$(tb_digest refit-test/base:1)
labels=$(eng_inspect "$R/team/a:prod" Labels)
for want in "\"io.refit.environment\":\"prod\"" "\"io.refit.trigger\":\"initial\"" \
	"\"org.opencontainers.image.base.name\":\"$R/refit-test/base:1\"" \
	"\"org.opencontainers.image.base.digest\":\"$d1\"" "org.opencontainers.image.created"; do
	case $labels in *"$want"*) ;; *) fail "a:prod labels lack $want: $labels" ;; esac
done
user=$(eng_inspect "$R/team/a:prod" User)
[ "$user" = 65534 ] || fail "a:prod user $user"
ok "labels"

# The base moves: a is rebuilt, promoted, :prod-previous keeps the old prod; b follows.
old_prod=$(tb_digest team/a:prod)
tb_base_move refit-test/base:1
wait_log "base $R/refit-test/base:1 moved" 30
tb_wait "[ \$(grep -c 'project a: rebuild done' '$RD_LOG') -ge 2 ]" 120 || fail "a not rebuilt"
tb_wait "[ \$(grep -c 'project b: rebuild done' '$RD_LOG') -ge 2 ]" 120 || fail "b not rebuilt after a"
prev=$(tb_digest team/a:prod-previous)
[ "$prev" = "$old_prod" ] || fail "a:prod-previous is $prev, the old prod was $old_prod"
new_prod=$(tb_digest team/a:prod)
[ "$new_prod" != "$old_prod" ] || fail "a:prod did not move"
trig=$(sql "$DB" "SELECT trigger FROM builds WHERE project = 'b' ORDER BY id DESC LIMIT 1")
[ "$trig" = base ] || fail "b's second build trigger: $trig"
d2=$(tb_digest refit-test/base:1)
bd=$(sql "$DB" "SELECT base_digest FROM builds WHERE project = 'a' AND env = 'prod' ORDER BY id DESC LIMIT 1")
[ "$bd" = "$d2" ] || fail "a's new build records base digest $bd, the base is $d2"
ok "moved base: a rebuilt and promoted, prod-previous kept, b rebuilt on a"
n=$(eng_tags "$R/team/a" | grep -c '^prod-2')
[ "$n" = 1 ] || fail "keep_images: 1 left $n local prod stamp tags"
n=$(curl -s "http://$R/v2/team/a/tags/list" | python3 -c 'import json,sys; print(len([t for t in json.load(sys.stdin)["tags"] if t.startswith("prod-2")]))')
[ "$n" = 2 ] || fail "the registry should keep both pushed prod stamps, has $n"
ok "retention: superseded local images removed, registry history kept"

# Rollback through the REST API and refitctl: prod serves the previous digest again.
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
[ -n "$port" ] || fail "no REST API port in the log"
rollback() {
	local out i
	# 503 while every build slot is taken (c and f retry with backoff): try again, as a user would
	for ((i = 0; i < 60; i++)); do
		out=$("$REFITCTL" --url "http://127.0.0.1:$port" --token-file "$TB_DIR/token" rollback a prod 2>&1) && break
		case $out in *"HTTP 503"*) sleep 1 ;; *) fail "refitctl rollback: $out" ;; esac
	done
	[ "$i" -lt 60 ] || fail "refitctl rollback: no free slot in 60 s: $out"
	tb_wait "[ \"\$(tb_digest team/a:prod)\" = '$old_prod' ]" 90
}
if ! rollback; then
	# Seen once in a CI-like run and not reproduced since: show what happened,
	# then try once more so that the rest of the suite still runs.
	echo "FLAKY: the first rollback did not restore a:prod within 90 s" >&2
	grep -E "rollback|project a" "$RD_LOG" >&2
	sql "$DB" "SELECT group_concat(id || ' ' || env || ' ' || trigger || ' ' || status || ' ' || coalesce(error, ''), char(10)) FROM builds WHERE project = 'a'" >&2
	rollback || fail "a:prod is not the previous digest after the rollback"
fi
st=$(sql "$DB" "SELECT status || ' ' || digest FROM builds WHERE trigger = 'rollback' ORDER BY id DESC LIMIT 1")
[ "$st" = "succeeded $old_prod" ] || fail "rollback build row: $st"
ok "rollback: a:prod serves the previous digest again, recorded as a build"

n=$(ls "$TB_DIR/state/logs" | wc -l)
[ "$n" -ge 8 ] || fail "expected a log per build, found $n"
grep -qE "Successfully (built|tagged)" "$TB_DIR/state/logs/1.log" || fail "build log lacks the engine output"
refitd_stop
