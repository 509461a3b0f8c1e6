#!/bin/bash
# follow: an environment that opts in builds with the newer value of the ARG
# making up its FROM's version tag. The Dockerfile says
# `FROM $R/refit-test/py:${PY}-slim` with ARG PY=3.11.4; environment test has
# follow: patch, prod does not. 3.11.9-slim is pushed to the real registry:
# test rebuilds with PY=3.11.9 (build arg, io.refit.follow label, build row
# reasons), prod does not, the outdated event is still sent once, and a later
# build of test keeps the followed value. --check-config refuses follow: on an
# ARG that is the variant, not the version.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
mkdir -p "$TB_DIR/www"
tb_httpd "$TB_DIR/www" || fail "httpd did not start"
tb_base_image refit-test/py:3.11.4-slim || fail "base image"
R=$TB_REGISTRY
mkdir -p "$TB_DIR/f" "$TB_DIR/v"
printf 'ARG R=%s\nARG PY=3.11.4\nFROM $R/refit-test/py:${PY}-slim\nARG PY\nRUN echo "$PY" >/py\nUSER 65534\n' "$R" \
	>"$TB_DIR/f/Dockerfile"
printf 'ARG V=slim\nFROM %s/refit-test/py:3.11.4-${V}\n' "$R" >"$TB_DIR/v/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
port=$(tb_free_port)
URL=http://127.0.0.1:$port
DB=$TB_DIR/state/state.db
ctl() { "$REFITCTL" "$@" --url "$URL" --token-file "$TB_DIR/token"; }
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$port
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, tags: 1h, settle: 0s, jitter: 0% }
notify: [ { webhook: "$TB_HTTP/_t/record/outdated", events: [outdated] } ]
projects:
  - name: f
    network: none
    context: $TB_DIR/f
    image: $R/team/f
    outdated: patch
    environments:
      test: { follow: patch }
      prod: {}
YAML
bad=$TB_DIR/bad.yaml
cat >"$bad" <<YAML
state_dir: $TB_DIR/state2
engines: [ { host: $TB_DOCKER_HOST } ]
projects:
  - name: v
    context: $TB_DIR/v
    image: $R/team/v
    environments:
      test: { follow: minor }
YAML
out=$("$REFITD" --check-config "$bad" 2>&1) && fail "follow on a variant ARG passed --check-config"
grep -qE "bad.yaml:8:[0-9]+: follow: no FROM of environment test has its version tag in an ARG \(line 2: V \(slim\) is not the version part of tag 3.11.4-slim\)" <<<"$out" ||
	fail "--check-config: $out"
"$REFITD" --check-config "$TB_DIR/refit.yaml" >/dev/null || fail "configuration refused"
ok "--check-config: follow needs an ARG that is the tag's version (file:line:col, which FROM, why)"

refitd_start "$TB_DIR/refit.yaml"
wait_log "project f: rebuild done" 180
[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE project = 'f' AND status = 'succeeded'")" = 2 ] ||
	fail "the first rebuild did not build test and prod"
label() { tb_docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$R/team/f:$1"; }
[ "$(label test io.refit.follow)" = "" ] || fail "test followed something before a newer tag existed"
ok "first rebuild: both environments build the Dockerfile's PY"

# 3.11.9-slim appears (a different image: it says so in /pyver).
printf 'FROM %s/refit-test/py:3.11.4-slim\nRUN echo 3.11.9 >/pyver\n' "$R" >"$TB_DIR/base-ctx/Dockerfile"
rm -f "$TB_DIR/base-ctx/busybox"
tb_docker build -q -t "$R/refit-test/py:3.11.9-slim" "$TB_DIR/base-ctx" >/dev/null &&
	tb_docker push "$R/refit-test/py:3.11.9-slim" >/dev/null || fail "pushing 3.11.9-slim"
refitd_stop
refitd_start "$TB_DIR/refit.yaml"
wait_log "project f \(test\): follow: PY 3.11.4 -> 3.11.9" 60
wait_log "project f: base $R/refit-test/py:3.11.4-slim is outdated: 3.11.9-slim is out \(policy patch\)" 10
wait_log "project f: rebuild done" 180
[ "$(sql "$DB" "SELECT value || ' ' || tag || ' ' || own || ' ' || policy FROM follows WHERE project = 'f' AND env = 'test' AND arg = 'PY'")" = "3.11.9 3.11.9-slim 3.11.4 patch" ] ||
	fail "store: follows row"
[ "$(sql "$DB" "SELECT count(*) FROM follows WHERE env = 'prod'")" = 0 ] || fail "store: prod follows"
row=$(sql "$DB" "SELECT trigger || '|' || replace(reasons, char(10), ';') || '|' || base_name FROM builds WHERE project = 'f' AND env = 'test' ORDER BY id DESC LIMIT 1")
[ "$row" = "base|follow: PY 3.11.4 -> 3.11.9;follow: PY=3.11.9 (Dockerfile: 3.11.4)|$R/refit-test/py:3.11.9-slim" ] ||
	fail "build row of test: $row"
[ "$(sql "$DB" "SELECT kind FROM triggers ORDER BY id DESC LIMIT 1")" = base ] || fail "trigger kind"
[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE project = 'f' AND env = 'prod'")" = 1 ] ||
	fail "prod was rebuilt by test's follow"
[ "$(label test io.refit.follow)" = PY=3.11.9 ] || fail "label io.refit.follow of test: $(label test io.refit.follow)"
[ "$(tb_docker run --rm "$R/team/f:test" cat /py /pyver | tr '\n' ' ')" = "3.11.9 3.11.9 " ] ||
	fail "test was not built from 3.11.9-slim with PY=3.11.9"
[ "$(label prod io.refit.follow)" = "" ] || fail "prod has a follow label"
[ "$(tb_docker run --rm "$R/team/f:prod" cat /py)" = 3.11.4 ] || fail "prod's PY"
id=$(sql "$DB" "SELECT id FROM builds WHERE project = 'f' AND env = 'test' ORDER BY id DESC LIMIT 1")
prov=$(curl -sf "$URL/v1/builds/$id/provenance" | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d.get("predicate", d)
print(json.dumps(p["buildDefinition"]["externalParameters"]["buildArgs"], sort_keys=True))') ||
	fail "provenance of build $id"
[ "$prov" = '{"PY": "3.11.9"}' ] || fail "provenance buildArgs: $prov"
ok "test rebuilt with PY=3.11.9 (build arg, base, label, build row, provenance); prod did not"

events() { curl -s "$TB_HTTP/_t/record/outdated" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    b = json.loads(r["body"])
    print(b["event"], b["project"], b["tag"], b["newest"], b["policy"])'; }
tb_wait "[ \$(events | wc -l) -ge 1 ]" 30 || fail "webhook: no outdated event"
sleep 2
[ "$(events)" = "outdated f 3.11.4-slim 3.11.9-slim patch" ] || { events >&2; fail "webhook events"; }
ok "the outdated event is sent once"

out=$(curl -sf "$URL/v1/projects/f" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["environments"]:
    f = e.get("follow")
    print(e["name"], f and f["policy"], f and f["arg"], f and f["value"], f and f["own"])') ||
	fail "API"
[ "$out" = "test patch PY 3.11.9 3.11.4
prod None None None None" ] || fail "API: $out"
curl -sf "$URL/projects/f" | grep -qF "follows PY: 3.11.9 (Dockerfile says 3.11.4)" || fail "project page"
ctl projects f | grep -qF "follows PY: 3.11.9 (Dockerfile says 3.11.4)" || fail "refitctl projects f"
ok "API, project page and refitctl projects show the followed value"

# A later rebuild of every environment: test keeps building the followed value.
out=$(ctl rebuild f --wait 2>&1) || fail "rebuild: $out"
row=$(sql "$DB" "SELECT trigger || '|' || replace(reasons, char(10), ';') FROM builds WHERE project = 'f' AND env = 'test' ORDER BY id DESC LIMIT 1")
[ "${row%%|*}" = manual ] && grep -qF "follow: PY=3.11.9 (Dockerfile: 3.11.4)" <<<"$row" ||
	fail "manual rebuild of test: $row"
[ "$(label test io.refit.follow)" = PY=3.11.9 ] || fail "label after the manual rebuild"
[ "$(tb_docker run --rm "$R/team/f:prod" cat /py)" = 3.11.4 ] || fail "prod's PY after the manual rebuild"
[ "$(events | wc -l)" = 1 ] || fail "webhook: outdated sent again"
ok "later builds of test keep PY=3.11.9; prod keeps 3.11.4"
refitd_stop
