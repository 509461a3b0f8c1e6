#!/bin/bash
# Promotion windows end to end: a project whose prod environment gets a window
# opening at a minute boundary shortly after its build ends. The build is
# built, checked and pushed under its stamp tag while :prod stays put; the API,
# refitctl and the status page say when it promotes; refitd restarts during
# the wait; at the window's start :prod moves (and :prod-previous keeps the
# old one), the build row gets its tag, the promoted webhook event fires;
# rnd, with the same window but held, waits until it is released.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
mkdir -p "$TB_DIR/www"
tb_httpd "$TB_DIR/www" || fail "httpd did not start"
tb_base_image refit-test/base:1 || fail "base image"
R=$TB_REGISTRY
mkdir -p "$TB_DIR/w"
printf 'FROM %s/refit-test/base:1\nRUN echo one >/v\nUSER 65534\n' "$R" >"$TB_DIR/w/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
port=$(tb_free_port)
URL=http://127.0.0.1:$port
DB=$TB_DIR/state/state.db
ctl() { "$REFITCTL" "$@" --url "$URL" --token-file "$TB_DIR/token"; }
conf() { # conf PROD_EXTRA [RND]: prod's environment with these keys added, rnd's settings
	cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:$port
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, settle: 0s }
notify: [ { webhook: "$TB_HTTP/_t/record/hook", events: [promoted] } ]
projects:
  - name: w
    network: none
    context: $TB_DIR/w
    image: $R/team/w
    environments:
      test: { check: ["/bin/sh", "-c", "test -f /v"] }
      prod: { requires: test $1 }
      rnd: { ${2:-} }
YAML
}
conf ""
refitd_start "$TB_DIR/refit.yaml"
wait_log "project w: rebuild done" 120
d1=$(tb_digest team/w:prod)
r1=$(tb_digest team/w:rnd)
[ -n "$d1" ] && [ -n "$r1" ] || fail "the first build did not promote"
ok "without a window the first build promotes at once"

# The window opens at the first minute boundary at least 20 s away, for five minutes.
now=$(date +%s)
start=$(((now / 60 + 1) * 60))
[ $((start - now)) -ge 20 ] || start=$((start + 60))
win="daily $(date -u -d @$start +%H:%M)-$(date -u -d @$((start + 300)) +%H:%M) UTC"
iso=$(date -u -d @$start +%Y-%m-%dT%H:%M:%SZ)
iso_ms=${iso%Z}.000Z # as the API writes times
bad=$TB_DIR/bad.yaml
sed "s|prod: { requires: test *}|prod: { requires: test, window: 'daily 09:00-10:00 Mars/Olympus' }|" \
	"$TB_DIR/refit.yaml" >"$bad"
out=$("$REFITD" --check-config "$bad" 2>&1) && fail "an unknown zone passed --check-config"
grep -qE "bad.yaml:14:39: window: unknown time zone 'Mars/Olympus'" <<<"$out" ||
	fail "--check-config: $out"
conf ", window: '$win'" "window: '$win'"
kill -HUP "$RD_PID"
wait_log "configuration reloaded" 20
out=$(ctl rebuild w --wait 2>&1) || fail "rebuild: $out"
grep -qE "^prod: build [0-9]+ succeeded" <<<"$out" || fail "rebuild --wait: $out"
[ "$(date +%s)" -lt "$start" ] || fail "the build ended after the window opened: no closed window to test"
wait_log "waiting for window, promotes at $iso" 5
stamp=$(sql "$DB" "SELECT stamp_tag FROM promotions WHERE project = 'w' AND env = 'prod'")
d2=$(sql "$DB" "SELECT digest FROM promotions WHERE project = 'w' AND env = 'prod'")
id=$(sql "$DB" "SELECT build_id FROM promotions WHERE project = 'w' AND env = 'prod'")
[ -n "$stamp" ] && [ "$d2" != "$d1" ] || fail "no waiting promotion: $stamp $d2"
[ "$(tb_digest "team/w:$stamp")" = "$d2" ] || fail "the stamp tag $stamp is not pushed"
[ "$(tb_digest team/w:prod)" = "$d1" ] || fail ":prod moved while the window is closed"
[ -z "$(tb_digest team/w:prod-previous)" ] || fail ":prod-previous moved while the window is closed"
[ "$(sql "$DB" "SELECT tags FROM builds WHERE id = $id")" = "$stamp" ] || fail "the build row's tags"
t_test=$(sql "$DB" "SELECT digest FROM builds WHERE project = 'w' AND env = 'test' ORDER BY id DESC LIMIT 1")
[ "$(tb_digest team/w:test)" = "$t_test" ] || fail "test (no window) did not promote at once"
ok "closed window: built, checked, pushed as $stamp; :prod stays; test (no window) promoted"

envj() { curl -s "$URL/v1/projects/w" | python3 -c "import json,sys; e=[e for e in json.load(sys.stdin)['environments'] if e['name'] == 'prod'][0]; print($1)"; }
[ "$(envj 'e["next_promotion"]')" = "$iso_ms" ] || fail "next_promotion: $(envj 'e')"
[ "$(envj 'e["pending_promotion"]["stamp_tag"], e["pending_promotion"]["state"]')" = "$stamp waiting for window" ] ||
	fail "pending_promotion: $(envj 'e')"
[ "$(envj 'e["current"]["digest"], e["window"]')" = "$d1 $win" ] || fail "current while waiting: $(envj 'e')"
ctl projects w | grep -qF "waiting for window, promotes at" || fail "refitctl projects w: $(ctl projects w)"
curl -s "$URL/projects/w" | grep -qF "waiting for window, promotes at" || fail "status page lacks the waiting promotion"
curl -s "$URL/metrics" | grep -qE "^refit_promotion_next_timestamp_seconds\{project=\"w\",environment=\"prod\"\} $start\.000$" ||
	fail "metrics: $(curl -s "$URL/metrics" | grep promotion)"
ok "API next_promotion $iso, refitctl, the status page and /metrics say so"

r2=$(sql "$DB" "SELECT digest FROM promotions WHERE project = 'w' AND env = 'rnd'")
rid=$(sql "$DB" "SELECT build_id FROM promotions WHERE project = 'w' AND env = 'rnd'")
[ -n "$r2" ] && [ "$r2" != "$r1" ] || fail "rnd does not wait: $r2"
ctl hold w rnd --reason "not yet" | grep -q "w rnd held" || fail "refitctl hold w rnd"

refitd_stop
refitd_start "$TB_DIR/refit.yaml"
wait_log "refitd .* started" 30
[ "$(date +%s)" -lt "$start" ] || fail "the restart took past the window's start"
[ "$(tb_digest team/w:prod)" = "$d1" ] || fail ":prod moved before the window"
wait_log "build $id promoted" $((start - $(date +%s) + 30))
[ "$(date +%s)" -ge "$start" ] || fail "promoted before the window opened"
[ "$(tb_digest team/w:prod)" = "$d2" ] || fail ":prod did not move at the window's start"
[ "$(tb_digest team/w:prod-previous)" = "$d1" ] || fail ":prod-previous is not the old :prod"
[ "$(sql "$DB" "SELECT tags FROM builds WHERE id = $id")" = "prod,$stamp" ] || fail "the build row's tags after"
[ "$(sql "$DB" "SELECT count(*) FROM promotions WHERE env = 'prod'")" = 0 ] || fail "the waiting row stayed"
[ "$(envj 'e["next_promotion"], e["pending_promotion"], e["current"]["digest"]')" = "None None $d2" ] ||
	fail "API after the promotion: $(envj 'e')"
hook=$(curl -s "$TB_HTTP/_t/record/hook" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    e = json.loads(r["body"])
    if e["event"] == "promoted" and e["environment"] == "prod":
        print(e["build_id"], e["digest"])')
grep -qF "$id $d2" <<<"$hook" || fail "promoted webhook: $hook"
ok "after a restart during the wait, :prod moved at the window's start ($iso), :prod-previous kept, promoted event"

# rnd is held: the open window does not move it; the release does, at once.
renvj() { curl -s "$URL/v1/projects/w" | python3 -c "import json,sys; e=[e for e in json.load(sys.stdin)['environments'] if e['name'] == 'rnd'][0]; print($1)"; }
sleep 2
[ "$(tb_digest team/w:rnd)" = "$r1" ] || fail ":rnd moved although held"
[ "$(renvj 'e["pending_promotion"]["state"], e["next_promotion"]')" = "held None" ] ||
	fail "API of the held rnd: $(renvj 'e')"
ctl projects w | grep -qF "held, promotes once released" || fail "refitctl projects w (held): $(ctl projects w)"
ctl release w rnd | grep -q "w rnd released" || fail "refitctl release w rnd"
wait_log "build $rid promoted" 20
[ "$(tb_digest team/w:rnd)" = "$r2" ] || fail ":rnd did not move on release"
[ "$(tb_digest team/w:rnd-previous)" = "$r1" ] || fail ":rnd-previous"
[ "$(sql "$DB" "SELECT count(*) FROM promotions")" = 0 ] || fail "a waiting row stayed"
ok "a held environment waits through its open window and promotes once released"
refitd_stop
