#!/bin/bash
# The start-up check of state.db on a big store: PRAGMA quick_check (what refitd runs
# before it writes anything) against integrity_check (which also cross-checks every index
# against its table), on a state.db with $BENCH_BUILDS builds (default 100000) over 100
# projects x 3 environments, one in three with a 300-package inventory, as
# bench_retention fills it. Also the wall time of refitd's start up to a listening API.
#
#   tests/bench/bench_store_check.sh          # REFITD defaults to build/refitd
set -u
cd "$(dirname "$0")/../.."
REFITD=${REFITD:-$PWD/build/refitd}
BUILDS=${BENCH_BUILDS:-100000}
[ -x "$REFITD" ] || { echo "bench_store_check: no refitd at $REFITD (make first)" >&2; exit 1; }

dir=$(mktemp -d /tmp/refit-bench.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir/ctx"
echo 'FROM scratch' >"$dir/ctx/Dockerfile"
cat >"$dir/refit.yaml" <<YAML
state_dir: $dir/state
listen: 127.0.0.1:0
engines: [ { host: unix://$dir/no-engine.sock } ]
poll: { bases: 24h }
projects:
  - { name: p000, context: $dir/ctx, image: reg.test/p000, environments: { test: {} } }
YAML
start() {
	"$REFITD" -d -c "$dir/refit.yaml" >"$dir/refitd.log" 2>&1 &
	pid=$!
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null; pid=; }
wait_line() {
	for ((i = 0; i < 6000; i++)); do
		grep -q "$1" "$dir/refitd.log" && return 0
		sleep 0.05
	done
	echo "bench_store_check: no log line '$1'" >&2
	tail -5 "$dir/refitd.log" >&2
	exit 1
}

start
wait_line "REST API listening on"
stop
python3 - "$dir/state/state.db" "$BUILDS" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
old = int(time.time() * 1000) - 30 * 86400000
envs = ("test", "prod", "rnd")
builds, pkgs, inv = [], [], []
for i in range(1, n + 1):
    builds.append((i, "p%03d" % (i % 100), envs[(i // 100) % 3], "age", "max_age",
                   "succeeded" if i % 7 else "failed", old + i, old + i, old + i, "e", "/x/%d.log" % i))
    if i % 3 == 0:
        inv.append((i, old + i))
        pkgs.extend((i, "Debian:12", "pkg%03d" % k, "1.%d" % k) for k in range(300))
db.executemany("INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at,"
               " started_at, finished_at, engine, log_path) VALUES(?,?,?,?,?,?,?,?,?,?,?)", builds)
db.executemany("INSERT INTO inventories(build_id, ecosystem, packages, read_at)"
               " VALUES(?, 'Debian:12', 300, ?)", inv)
db.executemany("INSERT INTO inventory_pkgs(build_id, ecosystem, name, version) VALUES(?,?,?,?)", pkgs)
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PY
size=$(du -sm "$dir/state/state.db" | cut -f1)
# Each timed on a warm page cache (a first read warms it), as a restart finds it.
cat "$dir/state/state.db" >/dev/null
read -r quick integrity <<<"$(python3 - "$dir/state/state.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
def t(sql):
    t0 = time.time()
    r = db.execute(sql).fetchall()
    assert r == [("ok",)], r
    return time.time() - t0
t("PRAGMA quick_check")  # a first pass: SQLite's and the kernel's caches as a restart finds them
print("%.3f %.3f" % (t("PRAGMA quick_check"), t("PRAGMA integrity_check")))
PY
)"
t0=$(date +%s.%N)
start
wait_line "REST API listening on"
t1=$(date +%s.%N)
stop
echo "bench_store_check: $BUILDS builds, state.db $size MB (warm page cache)"
printf '%-40s %8s\n' "" "seconds"
printf '%-40s %8.2f\n' "PRAGMA quick_check (refitd's start check)" "$quick"
printf '%-40s %8.2f\n' "PRAGMA integrity_check (reference)" "$integrity"
printf '%-40s %8.2f\n' "refitd start to a listening API" "$(python3 -c "print($t1 - $t0)")"
echo "ratio quick_check / integrity_check: $(python3 -c "print('%.2f' % ($quick / $integrity))")"
