#!/bin/bash
# Retention: logs and package inventories of builds older than `retention` go, except
# those each environment still needs (its newest build, its two newest successful ones,
# its two newest successful ones with an inventory); build rows stay, the API says what
# went (pruned_at, 410 for the log), and a log path outside state_dir/logs is never
# removed. No engine: the builds are rows written into the store before the start.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
state=$TB_DIR/state
db=$state/state.db
mkdir -p "$TB_DIR/ctx"
echo 'FROM scratch' >"$TB_DIR/ctx/Dockerfile"
port=$(tb_free_port)
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $state
listen: 127.0.0.1:$port
retention: 2d
engines: [ { host: unix://$TB_DIR/no-engine.sock } ]
projects:
  - { name: alpha, context: $TB_DIR/ctx, image: reg.test/ds/alpha, environments: { test: {}, prod: {} } }
  - { name: beta, context: $TB_DIR/ctx, image: reg.test/ds/beta, environments: { rnd: {} } }
YAML
URL=http://127.0.0.1:$port

refitd_start "$TB_DIR/refit.yaml" # the schema
wait_log "REST API listening on " 60
refitd_stop
mkdir -p "$state/logs"
echo "not refit's" >"$TB_DIR/outside.log"
python3 - "$db" "$state/logs" "$TB_DIR/outside.log" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM triggers")
now = int(time.time() * 1000)
old, recent = now - 10 * 86400000, now - 3600000
# id: (project, env, status, finished, inventory)
rows = {1: ("alpha", "test", "succeeded", old, True),
        2: ("alpha", "test", "succeeded", old, True),
        3: ("alpha", "test", "failed", old, False),
        4: ("alpha", "test", "succeeded", old, True),
        5: ("alpha", "test", "succeeded", old, False),
        6: ("alpha", "prod", "succeeded", old, True),
        7: ("beta", "rnd", "failed", old, False),  # its log is outside state_dir/logs
        8: ("alpha", "test", "failed", recent, False),
        9: ("beta", "rnd", "succeeded", recent, True)}
for i, (p, env, st, fin, inv) in rows.items():
    log = sys.argv[3] if i == 7 else "%s/%d.log" % (sys.argv[2], i)
    if i != 7:
        open(log, "w").write("build %d\n" % i)
    db.execute("INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at,"
               " started_at, finished_at, engine, log_path) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
               (i, p, env, "age", "max_age", st, fin - 60000, fin - 60000, fin, "e", log))
    if inv:
        db.execute("INSERT INTO inventories(build_id, os_id, ecosystem, packages, read_at)"
                   " VALUES(?, 'debian', 'Debian:12', 3, ?)", (i, fin))
        for n in ("openssl", "zlib1g", "libc6"):
            db.execute("INSERT INTO inventory_pkgs(build_id, ecosystem, name, version)"
                       " VALUES(?, 'Debian:12', ?, '1.0')", (i, n))
db.commit()
PY
refitd_start "$TB_DIR/refit.yaml"
wait_log "retention: removed the logs and package inventories of 3 build\(s\) finished more than 48 h ago" 30

pruned=$(sql "$db" "SELECT group_concat(id) FROM (SELECT id FROM builds WHERE pruned_at IS NOT NULL ORDER BY id)")
[ "$pruned" = "1,3,7" ] || fail "pruned builds: $pruned, expected 1,3,7"
logs=$(cd "$state/logs" && ls | sort -n | tr '\n' ' ')
[ "$logs" = "2.log 4.log 5.log 6.log 8.log 9.log " ] || fail "logs left: $logs"
[ -f "$TB_DIR/outside.log" ] || fail "a log path outside state_dir/logs was removed"
inv=$(sql "$db" "SELECT group_concat(build_id) FROM (SELECT DISTINCT build_id FROM inventory_pkgs ORDER BY build_id)")
[ "$inv" = "2,4,6,9" ] || fail "inventories left: $inv"
[ "$(sql "$db" "SELECT count(*) FROM builds")" = 9 ] || fail "build rows were removed"
ok "old logs and inventories removed; the current, previous and newest builds kept theirs"

body=$(curl -s "$URL/v1/builds/1")
python3 -c "import json,sys; b=json.loads(sys.argv[1]); assert b['log_url'] is None and b['pruned_at'], b" "$body" ||
	fail "build 1: $body"
[ "$(curl -s -o "$TB_DIR/body" -w '%{http_code}' "$URL/v1/builds/1/log")" = 410 ] || fail "pruned log: not 410"
grep -q '"code":"gone"' "$TB_DIR/body" || fail "410 body: $(cat "$TB_DIR/body")"
[ "$(curl -s "$URL/v1/builds/2/log")" = "build 2" ] || fail "a kept log is not served"
out=$("$REFITCTL" --url "$URL" logs 1 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q "removed by the retention policy" <<<"$out" || fail "refitctl logs 1: rc $rc: $out"
body=$(curl -s "$URL/v1/builds/2")
python3 -c "import json,sys; b=json.loads(sys.argv[1]); assert b['log_url'] and b['pruned_at'] is None, b" "$body" ||
	fail "build 2: $body"
ok "the API says what went: pruned_at, no log_url, 410 for the log"

kill -HUP "$RD_PID"
wait_log "configuration reloaded"
sleep 1
[ "$(grep -c 'retention: removed' "$RD_LOG")" = 1 ] || fail "a second round removed more"
ok "a reload runs a round that finds nothing more"
refitd_stop
