#!/bin/bash
# Retention on a big store, against a reference in the same run: a state.db with
# $BENCH_BUILDS builds (default 100000) over 100 projects x 3 environments, one in three
# with a 300-package inventory and every one with a log file, all older than the
# retention. refitd prunes it in batches on its loop; the reference does the same
# deletions as bulk SQL in one transaction (python3's sqlite3), which is the fastest
# possible way and stalls everything while it runs. Prints refitd's time on the loop,
# its longest single stall, the reference's time and the ratio, and the database size.
#
#   tests/bench/bench_retention.sh          # REFITD defaults to build/refitd
set -u
cd "$(dirname "$0")/../.."
REFITD=${REFITD:-$PWD/build/refitd}
BUILDS=${BENCH_BUILDS:-100000}
[ -x "$REFITD" ] || { echo "bench_retention: no refitd at $REFITD (make first)" >&2; exit 1; }

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
{
	echo "state_dir: $dir/state"
	echo "listen: 127.0.0.1:0"
	echo "retention: 1d"
	echo "engines: [ { host: unix://$dir/no-engine.sock } ]"
	echo "poll: { bases: 24h }"
	echo "projects:"
	for ((i = 0; i < 100; i++)); do
		printf '  - { name: p%03d, context: %s, image: reg.test/p%03d,' "$i" "$dir/ctx" "$i"
		printf ' environments: { test: {}, prod: {}, rnd: {} } }\n'
	done
} >"$dir/refit.yaml"

start() {
	"$REFITD" -d -c "$dir/refit.yaml" >"$dir/refitd.log" 2>&1 &
	pid=$!
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null; pid=; }
wait_line() {
	for ((i = 0; i < ${2:-600}; i++)); do
		grep -q "$1" "$dir/refitd.log" && return 0
		sleep 0.5
	done
	echo "bench_retention: no log line '$1'" >&2
	tail -5 "$dir/refitd.log" >&2
	exit 1
}

# fill DB: the builds, inventories and log files of a long-running host
fill() {
	python3 - "$1" "$2" "$BUILDS" <<'PY'
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
logs, n = sys.argv[2], int(sys.argv[3])
db.execute("DELETE FROM triggers")
old = int(time.time() * 1000) - 30 * 86400000
envs = ("test", "prod", "rnd")
builds, pkgs, inv = [], [], []
for i in range(1, n + 1):
    log = "%s/%d.log" % (logs, i)
    builds.append((i, "p%03d" % (i % 100), envs[(i // 100) % 3], "age", "max_age",
                   "succeeded" if i % 7 else "failed", old + i, old + i, old + i, "e", log))
    if i % 3 == 0:
        inv.append((i, old + i))
        pkgs.extend((i, "Debian:12", "pkg%03d" % k, "1.%d" % k) for k in range(300))
db.executemany("INSERT INTO builds(id, project, env, trigger, reasons, status, queued_at,"
               " started_at, finished_at, engine, log_path) VALUES(?,?,?,?,?,?,?,?,?,?,?)", builds)
db.executemany("INSERT INTO inventories(build_id, ecosystem, packages, read_at)"
               " VALUES(?, 'Debian:12', 300, ?)", inv)
db.executemany("INSERT INTO inventory_pkgs(build_id, ecosystem, name, version) VALUES(?,?,?,?)", pkgs)
db.commit()
os.makedirs(logs, exist_ok=True)
for i in range(1, n + 1):
    with open("%s/%d.log" % (logs, i), "w") as f:
        f.write("Step 1/1 : FROM base\n")
PY
}

start
wait_line "REST API listening on" 60
stop
cp -a "$dir/state" "$dir/ref-state"
fill "$dir/state/state.db" "$dir/state/logs"
fill "$dir/ref-state/state.db" "$dir/ref-state/logs"
size0=$(du -sm "$dir/state" | cut -f1)

# The reference: the same rows and files, as bulk SQL and a directory walk.
ref=$(python3 - "$dir/ref-state/state.db" "$dir/ref-state/logs" <<'PY'
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
t = time.time()
keep = """SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY project, env ORDER BY id DESC) n
          FROM builds) WHERE n = 1
   UNION SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY project, env ORDER BY id DESC) n
          FROM builds WHERE status = 'succeeded') WHERE n <= 2
   UNION SELECT id FROM (SELECT b.id, row_number() OVER (PARTITION BY project, env ORDER BY b.id DESC) n
          FROM builds b JOIN inventories i ON i.build_id = b.id WHERE status = 'succeeded') WHERE n <= 2"""
db.execute("BEGIN")
db.execute("CREATE TEMP TABLE gone AS SELECT id, log_path FROM builds WHERE id NOT IN (%s)" % keep)
db.execute("DELETE FROM inventory_pkgs WHERE build_id IN (SELECT id FROM gone)")
db.execute("DELETE FROM inventories WHERE build_id IN (SELECT id FROM gone)")
db.execute("UPDATE builds SET pruned_at = 1 WHERE id IN (SELECT id FROM gone)")
paths = [r[0] for r in db.execute("SELECT log_path FROM gone")]
db.execute("COMMIT")
for p in paths:
    os.unlink(p)
print("%.3f %d" % (time.time() - t, len(paths)))
PY
)
read -r ref_s ref_n <<<"$ref"

start
wall0=$(date +%s.%N)
wait_line "retention: removed the logs and package inventories of" 900
wall1=$(date +%s.%N)
line=$(grep "retention: removed" "$dir/refitd.log" | head -1)
stop
n=$(sed -n 's/.*inventories of \([0-9]*\) build.*/\1/p' <<<"$line")
loop_ms=$(sed -n 's/.*(\([0-9.]*\) ms on the loop.*/\1/p' <<<"$line")
max_ms=$(sed -n 's/.*at most \([0-9.]*\) ms at once.*/\1/p' <<<"$line")
size1=$(du -sm "$dir/state" | cut -f1)
[ "$n" = "$ref_n" ] || echo "bench_retention: refitd pruned $n builds, the reference $ref_n" >&2
echo "bench_retention: $BUILDS builds, $ref_n to prune (300-package inventories on one in three); state $size0 MB"
printf '%-34s %10s %14s\n' "" "seconds" "longest stall"
printf '%-34s %10.2f %11.1f ms\n' "refitd (adaptive batches on its loop)" "$(python3 -c "print($loop_ms / 1000)")" "$max_ms"
printf '%-34s %10.2f %11.1f ms\n' "reference (bulk SQL, one txn)" "$ref_s" "$(python3 -c "print($ref_s * 1000)")"
echo "ratio (refitd / reference): $(python3 -c "print('%.2f' % ($loop_ms / 1000 / $ref_s))"); wall time of refitd's round $(python3 -c "print('%.1f' % ($wall1 - $wall0 - 5))") s (the round starts 5 s after start); state after: $size1 MB (SQLite reuses the freed pages; it does not shrink the file)"
