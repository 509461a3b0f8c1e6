#!/bin/bash
# The status pages of a running refitd over a store holding a failing, a held,
# a pending and an ok project: the overview (GET /) and a project's page
# (GET /projects/NAME) and a build's page with its log (GET /builds/ID),
# checked from the raw HTML (the page without JavaScript) and in headless
# Chromium (screenshots under $BUILD/, DOM checks, the "not updated since"
# banner when the daemon stops answering and its end when it answers again).
# Every value that could carry markup carries <script> and must stay text.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONPATH=$here

state=$TB_DIR/state
db=$state/state.db
ctx=$TB_DIR/ctx
mkdir -p "$ctx"
base=127.0.0.1:1/base/busybox:1 # nothing listens there: polls fail fast on loopback
echo "FROM $base" >"$ctx/Dockerfile"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $state
listen: 127.0.0.1:0
engines:
  - { host: unix://$TB_DIR/no-engine.sock, max_builds: 2 }
feeds:
  - { name: osv, type: osv, url: http://127.0.0.1:1/osv }
projects:
  - { name: beta, context: $ctx, image: reg.test/ds/beta, environments: { rnd: {} } }
  - { name: gamma, context: $ctx, image: reg.test/ds/gamma, environments: { test: {} } }
  - { name: delta, context: $ctx, image: reg.test/ds/delta, environments: { test: {} } }
  - name: alpha
    context: $ctx
    image: reg.test/ds/alpha
    environments: { test: {}, prod: { requires: test }, rnd: {} }
YAML

start() {
	: >"$TB_DIR/refitd.log"
	refitd_start "$TB_DIR/refit.yaml"
	wait_log "REST API listening on " 60
	URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
}

# --- the store: the schema from a first start, then builds of every kind ---
start
refitd_stop
mkdir -p "$state/logs"
printf 'Step 1/2 : FROM base\nStep 2/2 : RUN check\n<script>alert(2)</script>\nexit 1\n' >"$state/logs/6.log"
printf 'Step 1/1 : FROM base\nSuccessfully built\n' >"$state/logs/1.log"
python3 - "$db" "$state/logs" "$base" <<'PY'
import sqlite3, sys, time
db, logs, base = sqlite3.connect(sys.argv[1]), sys.argv[2], sys.argv[3]
now = int(time.time() * 1000)
db.execute("DELETE FROM triggers")
b = ("INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at, started_at,"
     " finished_at, engine, digest, base_name, base_digest, tags, log_path, error, builder,"
     " failed_step) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
def build(i, p, e, trig, reasons, st, ago_min, err=None, step=None, log=None):
    t = now - ago_min * 60000
    tags = "reg.test/ds/%s:%s,reg.test/ds/%s:%s-20261208T0000%02dZ" % (p, e, p, e, i) if st == "succeeded" else None
    db.execute(b, (i, p, e, trig, reasons, st, t - 70000, t - 65000, t, "e",
                   "sha256:%064x" % i if st == "succeeded" else None, base, "sha256:" + "b1" * 32,
                   tags, log, err, "buildkit", step))
build(1, "beta", "rnd", "manual", "manual: requested through the API", "succeeded", 3, log=logs + "/1.log")
build(2, "gamma", "test", "base", "base: " + base + " moved", "succeeded", 90)
build(3, "alpha", "test", "security", "security: PYSEC-2023-74 requests 2.25.0", "succeeded", 30)
build(4, "alpha", "rnd", "security", "security: PYSEC-2023-74 requests 2.25.0", "succeeded", 29)
build(5, "alpha", "prod", "security", "security: PYSEC-2023-74 requests 2.25.0", "failed", 28,
      "check <script>alert(1)</script> failed\nTraceback (most recent call last)", "check")
build(6, "alpha", "prod", "retry", "retry after a failed rebuild", "failed", 2,
      "check <script>alert(1)</script> failed\nTraceback (most recent call last)", "check",
      logs + "/6.log")
for i in (3, 4):  # inventories make them the current images the advisories are matched to
    db.execute("INSERT INTO inventories(build_id, read_at) VALUES(?, ?)", (i, now))
    db.execute("INSERT INTO build_advisories(build_id, advisory, package, ecosystem, installed,"
               " fixed, state, seen_at) VALUES(?, 'PYSEC-2023-74', 'requests', 'PyPI', '2.25.0',"
               " '2.31.0', 'pending-upstream', ?)", (i, now))
db.execute("INSERT INTO triggers(project, kind, reasons, created_at, updated_at, not_before)"
           " VALUES('alpha', 'retry', 'retry after a failed rebuild', ?, ?, ?)",
           (now - 60000, now - 60000, now + 600000))
db.execute("INSERT INTO holds(project, env, since, reason) VALUES('gamma', '*', ?, ?)",
           (now - 300000, "rolled back <b>by</b> ops"))
db.execute("INSERT OR REPLACE INTO bases(ref, platform, digest, first_seen, checked_at,"
           " changed_at) VALUES(?, 'linux/amd64', ?, ?, ?, ?)",
           (base, "sha256:" + "b1" * 32, now - 86400000, now - 60000, now - 86400000))
db.execute("INSERT OR REPLACE INTO project_bases(project, ref, platform, envs)"
           " VALUES('alpha', ?, 'linux/amd64', 'test,prod,rnd')", (base,))
db.execute("INSERT OR REPLACE INTO feeds(name, scope, polled_at, ok_at, error, records)"
           " VALUES('osv', 'PyPI', ?, ?, 'HTTP 503 from <b>upstream</b>', 12)",
           (now - 120000, now - 7200000))
db.commit()
PY
start
ok "refitd serves on $URL"

# --- without JavaScript: the HTML as served ---
get() { # get PATH FILE: the body into FILE, the status code printed
	curl -s -o "$2" -w '%{http_code}' "$URL$1"
}
[ "$(get / "$TB_DIR/index.html")" = 200 ] || fail "GET /"
[ "$(get /projects/alpha "$TB_DIR/alpha.html")" = 200 ] || fail "GET /projects/alpha"
[ "$(get /projects/nope "$TB_DIR/nope.html")" = 404 ] || fail "GET /projects/nope must be 404"
[ "$(get /builds/6 "$TB_DIR/build6.html")" = 200 ] || fail "GET /builds/6"
[ "$(get /builds/999 "$TB_DIR/build999.html")" = 404 ] || fail "GET /builds/999 must be 404"
for f in index alpha nope build6; do
	grep -q '<script>alert\|<b>by' "$TB_DIR/$f.html" && fail "$f.html does not escape"
done
python3 - "$TB_DIR" <<'PY' || fail "the raw HTML of the pages"
import re, sys
import page_dom
d = sys.argv[1]
raw = open(d + "/index.html").read()
page = page_dom.parse(raw)
rows = [r.attrs["data-project"] for r in page.find_all("tr")
        if "data-project" in r.attrs and r.parent.tag == "tbody"]
assert rows == ["alpha", "gamma", "delta", "beta"], rows  # failing, held, pending, ok
summary = page.find("p", "summary").text()
assert summary.startswith("4 projects: 1 failing, 1 held, 1 pending, 1 ok"), summary
alpha = page.find("tr", data_project="alpha")
prod = alpha.find("td", data_env="prod")
assert prod.find("span", "st").text() == "failing", prod.text()
assert prod.find("div", "err").text() == "check <script>alert(1)</script> failed \u2026", prod.text()
retry = prod.find("small", "retry").text()
assert re.search(r"at check \u00b7 2 attempts since .* \u00b7 next retry in (9|10) min", retry), retry
for env in ("test", "rnd"):  # the failure is said once, in its own cell
    cell = alpha.find("td", data_env=env)
    assert cell.find("span", "st").text() == "ok" and "alert" not in cell.text(), cell.text()
adv = [a.text() for a in alpha.find_all("small", "adv")]
assert adv == ["1 pending-upstream advisory"], adv  # one advisory in two environments
gamma = page.find("tr", data_project="gamma").find("td", data_env="test")
assert gamma.find("div", "hold").text().endswith(": rolled back <b>by</b> ops"), gamma.text()
assert "manual: manual:" not in raw and "security: security:" not in raw
assert "1 projects" not in raw
assert "0/2 running" in page.by_id("engines").text(), page.by_id("engines").text()
queue = page.by_id("queue").text()
assert "2 pending triggers" in queue and "alpha" in queue and "retry: retry after a failed rebuild" in queue, queue
times = list(page.find_all("time"))
assert times, "no <time> elements"
for t in times:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t.attrs["datetime"]), t.attrs
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", t.attrs["title"]), t.attrs
    assert re.fullmatch(r"just now|\d+ (s|min|h|d) ago|in \d+ (s|min|h|d)", t.text()), t.text()
assert not re.search(r">\d{4}-\d\d-\d\dT\d\d:", raw), "a raw ISO time shown as text"
feed = page.by_id("feeds").find("tr", data_feed="osv")
assert feed.find("div", "err").text() == "PyPI: HTTP 503 from <b>upstream</b>", feed.text()
assert page.find("tr", data_project="delta").find("small", "next").text().startswith("next rebuild due (queued ")
stale = page.by_id("stale")
assert "hidden" in stale.attrs, "the stale banner shows on a fresh page"

p = page_dom.parse(open(d + "/alpha.html").read())
envs = {r.attrs["data-env"]: r for r in p.by_id("environments").find_all("tr") if "data-env" in r.attrs}
assert list(envs) == ["test", "prod", "rnd"], list(envs)
assert envs["prod"].find("span", "st").text() == "failing"
failure = p.by_id("environments").find("tr", data_failure="prod")
assert failure.find("pre", "error").text() == "check <script>alert(1)</script> failed\nTraceback (most recent call last)"
assert "2 attempts" in envs["prod"].find("small", "retry").text()
digests = [c.attrs["title"] for c in envs["test"].find_all("code", "digest")]
assert digests == ["sha256:" + "%064x" % 3, "sha256:" + "b1" * 32], digests
assert "sha256:000000000000\u2026" in envs["test"].text(), envs["test"].text()
assert "reg.test/ds/alpha:test-20261208T000003Z" in envs["test"].text(), envs["test"].text()
bases = p.by_id("bases").text()
assert "127.0.0.1:1/base/busybox:1" in bases and "test, prod, rnd" in bases, bases
adv = [r for r in p.by_id("advisories").find_all("tr") if r.parent.tag == "tbody"]
assert len(adv) == 1, [r.text() for r in adv]
cells = [c.text() for c in adv[0].find_all("td")]
assert cells[:5] == ["PYSEC-2023-74", "requests", "2.25.0", "2.31.0", "pending-upstream"], cells
assert sorted(cells[6].split(", ")) == ["rnd", "test"], cells
assert "no package changes recorded" in p.by_id("package-changes").text()
hist = [r for r in p.by_id("builds").find_all("tr") if "data-build" in r.attrs]
assert [r.attrs["data-build"] for r in hist] == ["6", "5", "4", "3"], [r.attrs for r in hist]
h6 = [c.text() for c in hist[0].find_all("td")]
assert h6[1:5] == ["prod", "retry", "retry after a failed rebuild", "failed"], h6
assert h6[6] == "65 s" and h6[7] == "buildkit" and h6[8].startswith("check"), h6
assert hist[0].find("a", href="/builds/6") and hist[0].find("a", href="/v1/builds/6/log")
assert "security: security:" not in p.text()

b = page_dom.parse(open(d + "/build6.html").read())
assert b.by_id("log").text() == open(d + "/state/logs/6.log").read(), b.by_id("log").text()
assert b.find("a", href="/projects/alpha")
assert not b.find("script"), "a finished build's page needs no refresh script"
print("raw HTML: order", rows, "|", summary, "|", retry, "|", len(times), "times")
PY
ok "without JavaScript: failing first, counts, escaped errors and log, relative times with UTC titles, 404s"

# --- headless Chromium ---
command -v chromium >/dev/null || fail "chromium is not installed (Debian package chromium)"
art=${REFIT_ARTIFACTS:-$PWD/${BUILD:-build}}
mkdir -p "$art"
browse=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
	--disable-dev-shm-usage --user-data-dir="$TB_DIR/chromium" --virtual-time-budget=5000)
dump() { # dump URL FILE
	timeout 60 "${browse[@]}" --dump-dom "$1" >"$2" 2>>"$TB_DIR/chromium.log" ||
		{ tail -5 "$TB_DIR/chromium.log" >&2; fail "chromium --dump-dom $1"; }
}
shot() { # shot URL FILE [HEIGHT]
	timeout 60 "${browse[@]}" --window-size=1280,"${3:-900}" --screenshot="$2" "$1" \
		2>>"$TB_DIR/chromium.log" || fail "chromium --screenshot $1"
	[ -s "$2" ] || fail "no screenshot $2"
}
dump "$URL/?refresh=1" "$TB_DIR/dom-index.html"
dump "$URL/projects/alpha?refresh=1" "$TB_DIR/dom-alpha.html"
dump "$URL/builds/6" "$TB_DIR/dom-build6.html"
shot "$URL/" "$art/t_page-overview.png"
shot "$URL/projects/alpha" "$art/t_page-project.png" 1100
python3 - "$TB_DIR" <<'PY' || fail "the pages as Chromium shows them"
import re, sys
import page_dom
d = sys.argv[1]
for name in ("index", "alpha"):
    page = page_dom.load(d + "/dom-%s.html" % name)
    body = page.find("body")
    assert int(body.attrs.get("data-refreshed", 0)) >= 2, (name, body.attrs)  # ?refresh=1
    assert "data-failures" not in body.attrs, body.attrs
    assert "hidden" in page.by_id("stale").attrs, name
    for s in page.find_all("script"):
        assert "alert" not in s.text(), "markup from the data became a script"
    for t in page.find_all("time"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", t.attrs["title"]), t.attrs
        assert re.fullmatch(r"just now|\d+ (s|min|h|d) ago|in \d+ (s|min|h|d)", t.text()), t.text()
page = page_dom.load(d + "/dom-index.html")
rows = [r.attrs["data-project"] for r in page.by_id("projects").find_all("tr") if "data-project" in r.attrs]
assert rows == ["alpha", "gamma", "delta", "beta"], rows
prod = page.find("tr", data_project="alpha").find("td", data_env="prod")
assert prod.find("div", "err").text().startswith("check <script>alert(1)</script> failed"), prod.text()
assert "next retry in" in prod.text(), prod.text()
built = page.find("tr", data_project="beta").find("small", "built").find("time")
assert built.text() == "3 min ago", built.text()  # finished 3 minutes before the start
alpha = page_dom.load(d + "/dom-alpha.html")
assert "alert(1)" in alpha.by_id("environments").find("tr", data_failure="prod").find("pre", "error").text()
b = page_dom.load(d + "/dom-build6.html")
assert "<script>alert(2)</script>" in b.by_id("log").text()
print("chromium: rows", rows, "| beta built", built.text(), "|", built.attrs["title"])
PY
ok "Chromium: refreshed with ?refresh=1, failing first, errors as text, relative times (screenshots: $art/t_page-overview.png, $art/t_page-project.png)"

# --- refitd stops answering: the banner; it answers again: the banner goes ---
# proxy OK FAIL: a proxy in front of refitd answering OK page requests, dropping FAIL.
proxy() {
	rm -f "$TB_DIR/proxy.port"
	python3 "$here/page_proxy.py" "$TB_DIR/proxy.port" "$URL" "$1" "$2" 2>>"$TB_DIR/proxy.log" &
	PROXY_PID=$!
	TB_PIDS+=($PROXY_PID)
	tb_wait "[ -s '$TB_DIR/proxy.port' ]" 20 || fail "the proxy did not start"
	PROXY=http://127.0.0.1:$(cat "$TB_DIR/proxy.port")
}
proxy 2 1000 # the page and one refresh, then nothing more
dump "$PROXY/?refresh=1" "$TB_DIR/dom-stale.html"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
proxy 2 1000
shot "$PROXY/?refresh=1" "$art/t_page-stale.png" 500
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
proxy 2 2 # two refreshes fail, the next ones succeed
dump "$PROXY/?refresh=1" "$TB_DIR/dom-back.html"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
python3 - "$TB_DIR" <<'PY' || fail "the stale banner"
import re, sys
import page_dom
d = sys.argv[1]
page = page_dom.load(d + "/dom-stale.html")
body, banner = page.find("body"), page.by_id("stale")
assert "hidden" not in banner.attrs, "no banner when refitd stopped answering"
assert re.fullmatch(r"not updated since \d\d:\d\d:\d\d UTC: refitd does not answer; this is the last state received",
                    banner.text()), banner.text()
assert body.attrs.get("data-refreshed") == "1" and int(body.attrs["data-failures"]) >= 2, body.attrs
rows = [r.attrs["data-project"] for r in page.by_id("projects").find_all("tr") if "data-project" in r.attrs]
assert rows == ["alpha", "gamma", "delta", "beta"], "the last good render is kept: %s" % rows
back = page_dom.load(d + "/dom-back.html")
body = back.find("body")
assert "hidden" in back.by_id("stale").attrs, "the banner stays after a good refresh"
assert body.attrs.get("data-failures") == "2" and int(body.attrs["data-refreshed"]) >= 2, body.attrs
print("banner:", banner.text(), "| then", body.attrs)
PY
ok "the banner shows when refitd stops answering and goes when it answers (screenshot: $art/t_page-stale.png)"

refitd_stop
ok "refitd stopped cleanly"
