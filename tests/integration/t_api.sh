#!/bin/bash
# The REST API of a running refitd (under valgrind when available) over a
# store holding real builds: every endpoint's status codes and bodies, ETag
# and 304, bearer auth (and a token change on SIGHUP), a POST rebuild that
# lands as a trigger in the store, registry notifications, malformed,
# oversized and slowloris requests that do not disturb other clients,
# promtool on a real scrape, refitctl against it, and a unix socket.
set -u
. "$(dirname "$0")/lib.sh"
tb_init

state=$TB_DIR/state
db=$state/state.db
ctx=$TB_DIR/ctx
token=$TB_DIR/token
mkdir -p "$ctx"
# A base on a loopback port where nothing listens: polls fail fast, nothing leaves the host.
base=127.0.0.1:1/base/busybox:1
echo "FROM $base" >"$ctx/Dockerfile"
head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$token"

# write_config LISTEN: the configuration used by every start below.
write_config() {
	cat >"$TB_DIR/refit.yaml" <<-YAML
		state_dir: $state
		listen: $1
		api_token_file: $token
		api: { cors_origins: [https://dash.test], timeout: 2s, per_ip_connections: 16, max_body: 4096 }
		engines:
		  - host: unix://$TB_DIR/no-engine.sock
		projects:
		  - name: alpha
		    context: $ctx
		    image: reg.test/ds/alpha
		    outdated: off # a tag listing finishing between two GETs would change the ETag
		    environments: { test: {}, prod: { requires: test } }
		  - name: beta
		    context: $ctx
		    image: reg.test/ds/beta
		    outdated: off
		    environments: { rnd: {} }
	YAML
}

# start: refitd on the configuration; $URL is where its API listens.
start() {
	: >"$TB_DIR/refitd.log"
	refitd_start "$TB_DIR/refit.yaml"
	wait_log "REST API listening on " 60
	local addr
	addr=$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
	URL=http://$addr
}

# code METHOD PATH [curl args...]: prints the status code; the body goes to $TB_DIR/body.
code() {
	local m=$1 p=$2
	shift 2
	rm -f "$TB_DIR/body"
	: >"$TB_DIR/body"
	curl -s -o "$TB_DIR/body" -D "$TB_DIR/headers" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
expect() { # expect CODE METHOD PATH [curl args...]
	local want=$1 got
	shift
	got=$(code "$@")
	[ "$got" = "$want" ] || { cat "$TB_DIR/body" >&2; fail "$1 $2: HTTP $got, expected $want"; }
}
header() { tr -d '\r' <"$TB_DIR/headers" | sed -n "s/^$1: //Ip" | tail -1; }
jq_() { python3 -c "import json,sys; d=json.load(open('$TB_DIR/body')); print($1)"; }

# --- a store holding builds: the schema comes from a first start ---
write_config 127.0.0.1:0
start
refitd_stop
mkdir -p "$state/logs"
printf 'Step 1/1 : FROM base\nSuccessfully built 0123\n' >"$state/logs/1.log"
python3 - "$db" "$state/logs/1.log" "$base" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM triggers")  # the initial triggers of the first start
b = "INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at, started_at," \
    " finished_at, engine, digest, tags, log_path, error) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
t0 = int(time.time() * 1000) - 3600000  # recent: no max_age trigger
for i in range(1, 61):  # older builds, for paging
    db.execute(b, (i, "alpha", "test", "age", "max_age", "succeeded", t0 + i * 1000,
                   t0 + i * 1000, t0 + i * 1000 + 30000 * (i % 7), "e", "sha256:%02x" % i, None,
                   None, None))
db.execute(b, (61, "alpha", "test", "base", "docker.io/library/busybox:1 moved", "succeeded",
               t0, t0 + 1000, t0 + 91000, "e", "sha256:d1",
               "reg.test/ds/alpha:test,reg.test/ds/alpha:test-20231114T221451Z", sys.argv[2], None))
db.execute(b, (62, "alpha", "prod", "base", "moved", "failed", t0, t0 + 1000, t0 + 400000, "e",
               None, None, None, "check <script>alert(1)</script> failed"))
db.execute(b, (63, "beta", "rnd", "initial", "first build", "running", t0, t0 + 5000, None, "e",
               None, None, None, None))
db.execute("INSERT OR REPLACE INTO bases(ref, platform, digest, first_seen, checked_at,"
           " changed_at) VALUES(?, 'linux/amd64', 'sha256:b1', ?, ?, ?)", (sys.argv[3], t0, t0, t0))
db.commit()
PY
start
ok "refitd serves on $URL (port 0 picked a free one)"

# --- GET endpoints ---
expect 200 GET /healthz
[ "$(cat "$TB_DIR/body")" = '{"status":"ok"}' ] || fail "healthz body: $(cat "$TB_DIR/body")"
[ -z "$(header connection)" ] || fail "a GET answer closes the connection: $(header connection)"
expect 200 GET /v1/status
[ "$(jq_ 'd["projects"]["total"], d["queue"]["pending"], d["engines"][0]["reachable"]')" = "2 0 False" ] ||
	fail "status: $(cat "$TB_DIR/body")"
expect 200 GET /v1/projects
etag=$(header etag)
[ -n "$etag" ] || fail "no ETag on /v1/projects"
[ "$(jq_ 'd["projects"][0]["environments"][0]["current"]["tag"]')" = "reg.test/ds/alpha:test-20231114T221451Z" ] ||
	fail "current tag: $(cat "$TB_DIR/body")"
# Build 63 was running: the restart recorded it as interrupted.
[ "$(jq_ 'd["projects"][0]["state"], d["projects"][1]["state"]')" = "failing failing" ] || fail "states"
[ "$(jq_ 'd["projects"][0]["environments"][1]["state"], d["projects"][0]["environments"][1]["attempts"]')" = "failing 1" ] ||
	fail "the failing environment's state and attempts"
jq_ 'd["projects"][0]["environments"][1]["error"]' | grep -q "check <script>" || fail "the failing environment's error"
expect 304 GET /v1/projects -H "If-None-Match: $etag"
[ ! -s "$TB_DIR/body" ] || fail "a 304 carries a body"
expect 200 GET /v1/projects -H 'If-None-Match: "other"'
expect 200 HEAD /v1/projects -I
expect 200 GET /v1/projects/alpha
[ "$(jq_ 'd["bases"][0]["ref"], d["bases"][0]["digest"], d["bases"][0]["envs"]')" = "$base sha256:b1 ['test', 'prod']" ] ||
	fail "project bases: $(cat "$TB_DIR/body")"
expect 404 GET /v1/projects/nope
[ "$(jq_ 'd["error"]["code"]')" = not_found ] || fail "error body: $(cat "$TB_DIR/body")"
ok "health, status, projects, ETag and 304"

expect 200 GET /v1/builds
[ "$(jq_ 'len(d["builds"]), d["builds"][0]["id"], d["next_before"]')" = "50 63 14" ] ||
	fail "first page: $(jq_ 'len(d["builds"]), d["next_before"]')"
expect 200 GET "/v1/builds?before=14&limit=500"
[ "$(jq_ 'len(d["builds"]), d["next_before"]')" = "13 None" ] || fail "last page"
expect 200 GET "/v1/builds?status=failed&project=alpha"
[ "$(jq_ '[b["id"] for b in d["builds"]]')" = "[62]" ] || fail "status filter"
for bad in "limit=0" "limit=501" "limit=x" "status=done" "before=-3" "project=A" "sort=id" "limit=1&limit=2"; do
	expect 400 GET "/v1/builds?$bad"
done
expect 200 GET /v1/builds/61
[ "$(jq_ 'd["duration_seconds"], d["reasons"]')" = "90.0 ['docker.io/library/busybox:1 moved']" ] ||
	fail "build 1: $(cat "$TB_DIR/body")"
expect 404 GET /v1/builds/999
expect 404 GET /v1/builds/abc
expect 200 GET /v1/builds/61/log
cmp -s "$TB_DIR/body" "$state/logs/1.log" || fail "the log differs from its file"
[ "$(header content-type)" = "text/plain; charset=utf-8" ] || fail "log content type"
expect 404 GET /v1/builds/62/log
expect 200 GET /v1/bases
[ "$(jq_ 'd["bases"][0]["used_by"][0]["project"], d["bases"][0]["digest"]')" = "alpha sha256:b1" ] ||
	fail "bases: $(cat "$TB_DIR/body")"
expect 200 GET /v1/feeds
expect 200 GET /v1/openapi.json
cmp -s "$TB_DIR/body" "$(dirname "$0")/../../daemon/api/openapi.json" || fail "served OpenAPI document differs"
ok "builds (paged, filtered, 400 on bad parameters), logs, bases, feeds, openapi"

expect 200 GET /
grep -q '<tr data-project="alpha">' "$TB_DIR/body" || fail "status page rows"
grep -q '<script>alert' "$TB_DIR/body" && fail "status page does not escape"
[ "$(header content-type)" = "text/html; charset=utf-8" ] || fail "page content type"
for page in /projects/alpha /builds/62; do
	expect 200 GET "$page"
	grep -q '<script>alert' "$TB_DIR/body" && fail "$page does not escape"
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$TB_DIR/body" || fail "$page does not show the error"
done
expect 404 GET /projects/nope
expect 200 GET /metrics
promtool check metrics <"$TB_DIR/body" || fail "promtool check metrics"
grep -q '^refit_builds_total{project="alpha",env="test",result="succeeded"} 61$' "$TB_DIR/body" ||
	fail "metrics: builds_total"
grep -q '^refit_engine_up{host="unix://' "$TB_DIR/body" || fail "metrics: engine_up"
ok "status pages (overview, project, build) escaped, metrics pass promtool check"

# --- errors and CORS ---
expect 405 DELETE /v1/projects
[ "$(header allow)" = "GET, HEAD, OPTIONS" ] || fail "405 Allow: $(header allow)"
expect 405 GET /v1/projects/alpha/rebuild
expect 404 GET /nothing
expect 400 GET "/v1/projects/a%00b"
expect 200 GET /v1/status -H 'Origin: https://dash.test'
[ "$(header access-control-allow-origin)" = https://dash.test ] || fail "CORS origin not allowed"
expect 200 GET /v1/status -H 'Origin: https://evil.test'
[ -z "$(header access-control-allow-origin)" ] || fail "CORS allowed an unlisted origin"
expect 204 OPTIONS /v1/projects/alpha/rebuild -H 'Origin: https://dash.test' \
	-H 'Access-Control-Request-Method: POST'
ok "405 with Allow, 404, 400, CORS"

# --- POSTs: auth, rebuild, rollback, hooks ---
auth=(-H "Authorization: Bearer $(cat "$token")")
expect 401 POST /v1/projects/alpha/rebuild
[ "$(header www-authenticate)" = 'Bearer realm="refit"' ] || fail "WWW-Authenticate"
expect 401 POST /v1/projects/alpha/rebuild -H "Authorization: Bearer wrong"
expect 401 POST /v1/projects/alpha/rebuild -H "Authorization: Basic eDp5"
expect 415 POST /v1/projects/alpha/rebuild "${auth[@]}" -H 'Content-Type: text/plain' -d x
expect 400 POST /v1/projects/alpha/rebuild "${auth[@]}" -H 'Content-Type: application/json' -d '{"reason":'
expect 404 POST /v1/projects/nope/rebuild "${auth[@]}"
expect 202 POST /v1/projects/alpha/rebuild "${auth[@]}" -H 'Content-Type: application/json' \
	-d '{"reason":"CVE-2024-0001"}'
id=$(jq_ 'd["trigger_id"]')
[ "$(sql "$db" "SELECT kind || ' ' || state || ' ' || reasons FROM triggers WHERE id = $id")" = \
	"manual pending manual: CVE-2024-0001" ] || fail "the rebuild is not a pending trigger in the store"
expect 202 POST /v1/projects/alpha/rebuild "${auth[@]}"
[ "$(jq_ 'd["trigger_id"], d["merged"]')" = "$id True" ] || fail "a second rebuild is merged: $(cat "$TB_DIR/body")"
expect 200 GET /v1/projects/alpha
[ "$(jq_ 'd["state"], d["pending_trigger"]["id"]')" = "failing $id" ] || fail "new state not served"
# hold and release
expect 404 POST "/v1/projects/alpha/hold?env=nope" "${auth[@]}"
expect 200 POST "/v1/projects/alpha/hold?env=prod" "${auth[@]}" -H 'Content-Type: application/json' -d '{"reason":"audit"}'
expect 200 GET /v1/projects/alpha
[ "$(jq_ 'd["state"], d["environments"][1]["state"], d["environments"][1]["hold"]["reason"]')" = "held held audit" ] ||
	fail "held state: $(cat "$TB_DIR/body")"
[ "$(sql "$db" "SELECT env || ' ' || reason FROM holds WHERE project = 'alpha'")" = "prod audit" ] || fail "hold not stored"
expect 200 POST "/v1/projects/alpha/release?env=prod" "${auth[@]}"
expect 409 POST "/v1/projects/alpha/release?env=prod" "${auth[@]}"
[ "$(jq_ 'd["error"]["code"]')" = "not_held" ] || fail "release of nothing"
expect 503 POST /v1/projects/alpha/rollback "${auth[@]}"
grep -q "no engine is reachable" "$TB_DIR/body" || fail "rollback without an engine: 503 message"
expect 400 POST "/v1/projects/alpha/rollback?env=Bad%20Env" "${auth[@]}"
cat >"$TB_DIR/envelope.json" <<'JSON'
{"events":[{"id":"1","action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","repository":"library/busybox","tag":"1","digest":"sha256:ab"},"request":{"host":"docker.io"}},
{"id":"2","action":"push","target":{"mediaType":"application/octet-stream","repository":"library/busybox"},"request":{"host":"docker.io"}}]}
JSON
expect 202 POST /v1/hooks/registry "${auth[@]}" \
	-H 'Content-Type: application/vnd.docker.distribution.events.v1+json' --data-binary @"$TB_DIR/envelope.json"
[ "$(jq_ 'd["pushes"]')" = 1 ] || fail "hook: $(cat "$TB_DIR/body")"
wait_log "registry notification: docker.io/library/busybox was pushed"
expect 401 POST /v1/hooks/registry -H 'Content-Type: application/json' --data-binary @"$TB_DIR/envelope.json"
expect 400 POST /v1/hooks/registry "${auth[@]}" -H 'Content-Type: application/json' -d '[]'
grep -q "$(cat "$token")" "$RD_LOG" && fail "the token appears in the log"
ok "POST auth (401/415/400/404), rebuild 202 then merged, hold and release, rollback 503 without an engine, registry hook"

# --- hostile clients ---
expect 413 POST /v1/hooks/registry "${auth[@]}" -H 'Content-Type: application/json' \
	--data-binary @<(head -c 10000 /dev/zero | tr '\0' x)
expect 413 POST /v1/hooks/registry "${auth[@]}" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary @<(head -c 10000 /dev/zero | tr '\0' x)
big=$(head -c 70000 /dev/zero | tr '\0' a)
got=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/healthz")
case $got in 4*) ;; *) fail "a 70 kB header got $got" ;; esac
python3 - "${URL#http://}" <<'PY' || fail "slowloris / per-IP limit"
import socket, sys, time, urllib.request
host, port = sys.argv[1].rsplit(":", 1)
url = "http://%s/healthz" % sys.argv[1]
slow = []
for i in range(12):  # partial requests that never finish
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    slow.append(s)
t = time.time()
assert urllib.request.urlopen(url, timeout=5).status == 200
assert time.time() - t < 1.0, "a request waited behind slow clients"
extra = [socket.create_connection((host, int(port))) for _ in range(10)]  # beyond 16 per IP
for s in slow:  # the 2 s timeout closes them
    s.settimeout(8)
    assert s.recv(100) == b"" or True
for s in slow + extra:
    s.close()
time.sleep(0.5)
assert urllib.request.urlopen(url, timeout=5).status == 200
PY
ok "413 (declared and chunked), oversized headers, slowloris and connection floods leave other clients served"

# --- a new token on SIGHUP ---
old=$(cat "$token")
head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$token"
kill -HUP "$RD_PID"
wait_log "configuration reloaded"
expect 401 POST /v1/projects/beta/rebuild -H "Authorization: Bearer $old"
expect 202 POST /v1/projects/beta/rebuild -H "Authorization: Bearer $(cat "$token")"
ok "the token is re-read on reload"

# --- the status page in a real browser ---
if [ "${REFIT_SKIP_BROWSER:-0}" = 1 ]; then
	echo "skip: headless Chromium (REFIT_SKIP_BROWSER=1)"
else
	command -v chromium >/dev/null || fail "chromium is not installed (Debian package chromium)"
	art=${REFIT_ARTIFACTS:-$PWD/${BUILD:-build}}
	mkdir -p "$art"
	browse=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
		--disable-dev-shm-usage --user-data-dir="$TB_DIR/chromium" --virtual-time-budget=5000)
	timeout 60 "${browse[@]}" --dump-dom "$URL/" >"$TB_DIR/dom.html" 2>"$TB_DIR/chromium.log" ||
		{ tail -5 "$TB_DIR/chromium.log" >&2; fail "chromium --dump-dom"; }
	timeout 60 "${browse[@]}" --window-size=1280,600 --screenshot="$art/t_api-status-page.png" \
		"$URL/" 2>>"$TB_DIR/chromium.log" || fail "chromium --screenshot"
	[ -s "$art/t_api-status-page.png" ] || fail "no screenshot"
	curl -s "$URL/v1/projects" >"$TB_DIR/projects.json"
	python3 - "$TB_DIR/dom.html" "$TB_DIR/projects.json" <<'PY' || fail "the rendered page disagrees with /v1/projects"
import html.parser, json, sys
class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = {}; self.row = None; self.cell = None; self.refreshed = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body": self.refreshed = a.get("data-refreshed")
        if tag == "tr" and "data-project" in a:
            self.row = {"cells": {}}; self.rows[a["data-project"]] = self.row
        if tag == "td" and self.row is not None:
            self.cell = a.get("data-env") or ("state" if "s-" in a.get("class", "") and "state" not in self.row else None)
            if self.cell == "state": self.row["state_class"] = a["class"]
        if tag == "span" and a.get("class") == "st": self.cell = ("env", self.cell)
    def handle_data(self, d):
        if isinstance(self.cell, tuple): self.row["cells"][self.cell[1]] = d; self.cell = None
        elif self.cell == "state": self.row["state"] = d; self.cell = None
page = Page(); page.feed(open(sys.argv[1]).read())
api = json.load(open(sys.argv[2]))["projects"]
assert page.refreshed, "the page script did not refresh the table"
assert sorted(page.rows) == sorted(p["name"] for p in api), (page.rows.keys(), api)
for p in api:
    row = page.rows[p["name"]]
    assert row["state"] == p["state"], (p["name"], row["state"], p["state"])
    for e in p["environments"]:
        want = e["state"]  # the environment's state (failing, held, ok...), not its build's
        assert row["cells"][e["name"]] == want, (p["name"], e["name"], row["cells"], want)
print("page rows match /v1/projects:", {k: v["cells"] for k, v in page.rows.items()})
PY
	ok "headless Chromium renders the status page like /v1/projects (screenshot: $art/t_api-status-page.png)"
fi

# --- refitctl ---
ctl() { "$REFITCTL" "$@" --url "$URL" --token-file "$token"; }
out=$(ctl status) || fail "refitctl status"
grep -q "queue: 2 pending" <<<"$out" || fail "refitctl status: $out"
out=$(ctl projects) || fail "refitctl projects"
grep -qE '^alpha +failing +test +ok' <<<"$out" || fail "refitctl projects: $out"
out=$(ctl builds --project alpha --status failed) || fail "refitctl builds"
grep -qE '^62 +alpha +prod +failed' <<<"$out" || fail "refitctl builds: $out"
[ "$(ctl builds --limit 3 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["builds"]))')" = 3 ] ||
	fail "refitctl builds --json"
ctl logs 61 | cmp -s - "$state/logs/1.log" || fail "refitctl logs"
out=$(ctl rebuild alpha) || fail "refitctl rebuild (coalesced) must succeed"
grep -q "merged into the pending one" <<<"$out" || fail "refitctl rebuild: $out"
out=$(ctl projects alpha) || fail "refitctl projects alpha"
grep -q "^alpha: failing" <<<"$out" || fail "refitctl projects alpha: $out"
grep -qE "^ +error +check <script>alert" <<<"$out" || fail "the detail shows the failing environment's error: $out"
ctl hold alpha prod --reason "checking" | grep -q "alpha prod held" || fail "refitctl hold"
ctl projects alpha | grep -qE "held +since .*: checking" || fail "the detail shows the hold"
ctl release alpha prod | grep -q "alpha prod released" || fail "refitctl release"
out=$(ctl release alpha prod 2>&1) && fail "release of nothing must fail"
grep -q "is not held" <<<"$out" || fail "release of nothing: $out"
out=$(ctl rollback alpha 2>&1) && fail "refitctl rollback succeeded"
grep -q "no engine is reachable" <<<"$out" || fail "refitctl rollback: $out"
out=$("$REFITCTL" --url "$URL" rebuild alpha 2>&1) && fail "a POST without token succeeded"
grep -q "HTTP 401" <<<"$out" || fail "no token: $out"
grep -q -- "--token-file FILE" <<<"$out" || fail "a 401 without the hint on passing the token: $out"
out=$("$REFITCTL" statsu 2>&1)
[ $? = 2 ] || fail "a mistyped command must exit 2"
grep -q "did you mean 'status'" <<<"$out" || fail "no suggestion for statsu: $out"
"$REFITCTL" builds --limit x --url "$URL" >/dev/null 2>&1
[ $? = 1 ] || fail "refitctl builds --limit x must fail with 1"
"$REFITCTL" logs >/dev/null 2>&1
[ $? = 2 ] || fail "refitctl logs without an id must be a usage error"
"$REFITCTL" status --url http://127.0.0.1:1 >/dev/null 2>&1
[ $? = 1 ] || fail "refitctl against nothing must fail with 1"
out=$("$REFITCTL" --config "$TB_DIR/refit.yaml" projects 2>&1) && fail "refitctl --config: port 0 cannot be reached"
ok "refitctl status, projects (list and detail), builds, logs, rebuild, rollback, hold, release, exit codes"
refitd_stop

# --- a unix socket ---
sock=$TB_DIR/api.sock
write_config "unix:$sock"
start
[ "$(stat -c %a "$sock")" = 660 ] || fail "socket mode $(stat -c %a "$sock")"
[ "$(curl -s --unix-socket "$sock" http://x/healthz)" = '{"status":"ok"}' ] || fail "healthz over the socket"
out=$("$REFITCTL" --config "$TB_DIR/refit.yaml" status) || fail "refitctl over the socket (from --config)"
grep -q "^refitd " <<<"$out" || fail "refitctl status over the socket: $out"
refitd_stop
[ ! -e "$sock" ] || fail "the socket file is left behind"
ok "unix socket (0660, refitctl finds it through the configuration, removed at exit)"
