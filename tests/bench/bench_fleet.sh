#!/bin/bash
# Fleet size, every figure against its reference in the same run (issue 19, item 8).
# BENCH_PROJECTS projects (default 10000), each on its own tag of a base in the test
# bed's registry (tb_registry; tags pushed by tagpush.py, no dockerd), two environments
# each, and BENCH_BUILDS builds (default 100000) in the store; the first BENCH_MOVED
# projects (default 1000) also copy from one shared base, bench/moved:1.
#   1. time to READY (sd_notify, on a NOTIFY_SOCKET of our own) on a fresh configuration
#      and on a restart, against `sqlite3 state.db 'SELECT count(*) FROM builds'`;
#   2. the longest loop stall during the first polling round (every reference new) and
#      during a feed round (an OSV mirror of the PyPA fixture behind tb_httpd, the store's
#      newest images carrying PyPI inventories), measured from outside: GET /healthz every
#      5 ms on a kept-alive connection, and over an idle minute; the reference is the same
#      probe against the test bed's httpd (the machine's and the probe's own noise);
#   3. idle CPU over BENCH_IDLE_SECONDS (default 60; less misses the 60 s age pass) with nothing due (poll.bases 24h, after
#      the first round), at each of BENCH_SIZES projects, against bench_idle (a libuv loop
#      with the same timers that only waits);
#   4. private memory (smaps_rollup Private_*) per project, between the sizes;
#   5. bench/moved:1 moved under BENCH_MOVED projects: from the registry's answer to the
#      manifest PUT (then the registry's push notification, posted to /v1/hooks/registry) to
#      the last trigger committed, against BENCH_MOVED manifest HEADs to the registry;
#   6. a full /v1/builds walk (limit 50 and 500) against a rowid range walk in sqlite3.
# 200 trivial rebuilds against a docker shell loop: bench_pipeline.sh.
#
#   tests/bench/bench_fleet.sh                                  (BUILD=build by default)
#   BENCH_PROJECTS=1000 BENCH_BUILDS=10000 BENCH_SIZES="100 1000" tests/bench/bench_fleet.sh
#   BENCH_PERF=DIR ...: perf record -g of refitd at BENCH_PROJECTS, from its start to the end of
#   each phase, into DIR/{first,idle,restart}.data (perf report -i DIR/first.data)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REFITD=${REFITD:-$PWD/$BUILD/refitd}
FLOOR=$PWD/$BUILD/tests/bench/bench_idle
N=${BENCH_PROJECTS:-10000}
B=${BENCH_BUILDS:-100000}
IDLE=${BENCH_IDLE_SECONDS:-60}
MOVED=${BENCH_MOVED:-1000}
[ "$MOVED" -le "$N" ] || MOVED=$N
SIZES=${BENCH_SIZES:-"100 1000 $N"}
[[ " $SIZES " == *" $N "* ]] || SIZES="$SIZES $N"
HERE=$PWD/tests/bench
FLEET="python3 $HERE/fleet.py"
for x in "$REFITD" "$FLOOR"; do
	[ -x "$x" ] || { echo "bench_fleet: no $x (make bench builds it)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "bench_fleet: sqlite3 is not installed (Debian package sqlite3)" >&2; exit 1; }
. tests/integration/lib.sh
tb_init
say() { echo "bench_fleet: $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
calc() { python3 -c "print($1)"; }

# ---- the test bed: registry, tags, contexts, OSV mirror ----
tb_registry || fail "registry"
R=$TB_REGISTRY
python3 -c "import sys; [print('t%05d' % i) for i in range(int(sys.argv[1]))]" "$N" >"$TB_DIR/tags"
python3 tests/testbed/tagpush.py "$R" bench/base "$TB_DIR/tags" >/dev/null || fail "pushing $N tags"
echo 1 >"$TB_DIR/tag1"
python3 tests/testbed/tagpush.py "$R" bench/moved "$TB_DIR/tag1" >/dev/null || fail "pushing bench/moved:1"
python3 - "$TB_DIR/ctx" "$R" "$N" "$MOVED" <<'PY' || fail "contexts"
import os, sys
root, reg, n, moved = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    d = "%s/p%05d" % (root, i)
    os.makedirs(d)
    with open(d + "/Dockerfile", "w") as f:
        if i < moved:
            f.write("FROM %s/bench/moved:1 AS m\nFROM %s/bench/base:t%05d\n"
                    "COPY --from=m /hello /hello\n" % (reg, reg, i))
        else:
            f.write("FROM %s/bench/base:t%05d\n" % (reg, i))
PY
mkdir -p "$TB_DIR/pypa" "$TB_DIR/mirror"
tar -C "$TB_DIR/pypa" -xJf tests/fixtures/feeds/pypa/pypa-advisory-database.tar.xz
python3 tests/testbed/osvmirror.py "$TB_DIR/pypa/pypa-advisory-database" "$TB_DIR/mirror" >/dev/null ||
	fail "mirror conversion"
echo ok >"$TB_DIR/mirror/healthz" # what the probe's reference asks the httpd for
tb_httpd "$TB_DIR/mirror" || fail "httpd"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
say "registry $R: $N tags of bench/base and bench/moved:1; OSV mirror $TB_HTTP"

# config SIZE FEEDS(0|1): the configuration of the first SIZE projects
config() {
	local f=$TB_DIR/refit-$1.yaml
	{
		echo "state_dir: $TB_DIR/state-$1"
		echo "listen: 127.0.0.1:0"
		echo "api_token_file: $TB_DIR/token"
		echo "engines: [ { host: unix://$TB_DIR/no-engine.sock } ]"
		echo "poll: { bases: 24h, feeds: 7d, settle: 0s, jitter: 0% }"
		[ "$2" = 1 ] && echo "feeds: [ { name: osv, type: osv, url: $TB_HTTP } ]"
		echo "projects:"
		for ((i = 0; i < $1; i++)); do
			printf '  - { name: p%05d, context: %s/ctx/p%05d, image: reg.test/p%05d,' "$i" "$TB_DIR" "$i" "$i"
			printf ' environments: { test: {}, prod: {} } }\n'
		done
	} >"$f"
	echo "$f"
}

# start SIZE CONFIG: refitd with a NOTIFY_SOCKET; sets RPID, URL, READY_S (exec to READY=1)
start() {
	local sock=$TB_DIR/notify-$RANDOM i t0
	rm -f "$TB_DIR/ready"
	$FLEET ready "$sock" "$TB_DIR/ready" &
	NPID=$!
	TB_PIDS+=($NPID)
	tb_wait "test -S $sock" 10 || fail "notify socket"
	LOG=$TB_DIR/refitd-$1.log
	t0=$(now)
	NOTIFY_SOCKET=$sock "$REFITD" -d -c "$2" >>"$LOG" 2>&1 &
	RPID=$!
	TB_PIDS+=($RPID)
	[ -n "${BENCH_PERF:-}" ] && [ "$1" = "$N" ] && perf_start "${3:-first}"
	tb_wait "test -s $TB_DIR/ready || ! kill -0 $RPID" 600
	[ -s "$TB_DIR/ready" ] || { tail "$LOG" >&2; fail "no READY=1 from refitd"; }
	READY_S=$(calc "$(cat "$TB_DIR/ready") - $t0")
	URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$LOG" | tail -1)
	[ "$URL" != http:// ] || { tail "$LOG" >&2; fail "no API address in the log"; }
}
perf_start() {
	mkdir -p "$BENCH_PERF"
	perf record -q -F 999 -g -p "$RPID" -o "$BENCH_PERF/$1.data" 2>/dev/null &
	PERFPID=$!
	TB_PIDS+=($PERFPID)
}
perf_stop() {
	[ -n "${PERFPID:-}" ] || return 0
	kill -INT "$PERFPID"
	wait "$PERFPID" 2>/dev/null
	PERFPID=
}
stop() {
	perf_stop
	tb_stop_pid "$RPID"
	tb_stop_pid "$NPID"
}
probe_start() {
	PROBE_OUT=$TB_DIR/probe-$RANDOM
	$FLEET probe "${1:-$URL/healthz}" "$PROBE_OUT" &
	PPID_=$!
	TB_PIDS+=($PPID_)
}
# probe_stop [T]: stops the probe once it has an answer to a probe sent after T (the loop
# is free again), or after 60 s (its unanswered probe is then recorded as it stands)
probe_stop() {
	[ -n "${1:-}" ] && tb_wait "tail -1 $PROBE_OUT | awk -v t=$1 '\$1 > t {ok = 1} END {exit !ok}'" 60
	tb_stop_pid "$PPID_"
}
# cpu PID: milliseconds on a CPU, all threads (schedstat, ns) and utime+stime (stat, ticks)
cpu() {
	local ss st
	ss=$(cat /proc/"$1"/task/*/schedstat | awk '{c += $1} END {printf "%.1f", c / 1e6}')
	st=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", ($14 + $15) * 1000 / hz}' /proc/"$1"/stat)
	echo "$ss $st"
}
private_kb() { awk '/^Private_/ {s += $2} END {print s}' /proc/"$1"/smaps_rollup; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$1"/status; }
count_ref() {
	local t0 t1
	t0=$(now)
	sqlite3 "$1" 'SELECT count(*) FROM builds' >/dev/null
	t1=$(now)
	calc "$t1 - $t0"
}

# The schema, from a start with one project on an empty store; each size gets a copy.
mkdir -p "$TB_DIR/one"
echo 'FROM scratch' >"$TB_DIR/one/Dockerfile"
printf 'state_dir: %s/state-0\nlisten: 127.0.0.1:0\nengines: [ { host: unix://%s/none.sock } ]\nprojects: [ { name: one, context: %s/one, image: reg.test/one, environments: { prod: {} } } ]\n' \
	"$TB_DIR" "$TB_DIR" "$TB_DIR" >"$TB_DIR/refit-0.yaml"
start 0 "$TB_DIR/refit-0.yaml"
stop

"$FLOOR" &
FPID=$!
TB_PIDS+=($FPID)
declare -A R_READY R_COUNT R_ROUND R_ROUNDS R_CPU R_CPUT R_FLOOR R_PRIV R_RSS R_REFS R_BUILDS
for S in $SIZES; do
	SB=$((B * S / N))
	say "$S projects, $SB builds"
	cp -a "$TB_DIR/state-0" "$TB_DIR/state-$S"
	$FLEET fill "$TB_DIR/state-$S/state.db" "$S" "$SB" || fail "fill"
	DB=$TB_DIR/state-$S/state.db
	refs=$((S + (MOVED > 0))) # its own tags and bench/moved:1
	R_REFS[$S]=$refs R_BUILDS[$S]=$SB
	cfg=$(config "$S" 0)
	R_COUNT[$S]=$(count_ref "$DB")
	start "$S" "$cfg"
	R_READY[$S]=$READY_S
	# 2. the first polling round: every reference is new, due within 5 s of start
	probe_start
	t0=$(now)
	tb_wait "[ \"\$(sqlite3 '$DB' 'SELECT count(*) FROM bases WHERE digest IS NOT NULL')\" -ge $refs ]" 900 ||
		fail "refitd did not record the $refs references"
	t1=$(now)
	probe_stop "$t1"
	R_ROUND[$S]=$($FLEET window "$PROBE_OUT" "$t0" "$t1")
	R_ROUNDS[$S]=$(calc "round($t1 - $t0, 2)")
	# 3. idle: nothing is due for 24 h; the probe is stopped (it would cost CPU itself)
	perf_stop
	sleep 5
	[ -n "${BENCH_PERF:-}" ] && [ "$S" = "$N" ] && perf_start idle
	a=$(cpu "$RPID") f=$(cpu "$FPID")
	sleep "$IDLE"
	b=$(cpu "$RPID") g=$(cpu "$FPID")
	perf_stop
	read -r a1 a2 <<<"$a"
	read -r b1 b2 <<<"$b"
	R_CPU[$S]=$(calc "round(($b1 - $a1) * 60 / $IDLE, 1)")
	R_CPUT[$S]=$(calc "round(($b2 - $a2) * 60 / $IDLE)")
	R_FLOOR[$S]=$(calc "round((${g% *} - ${f% *}) * 60 / $IDLE, 2)")
	# 4. memory
	R_PRIV[$S]=$(private_kb "$RPID") R_RSS[$S]=$(rss_kb "$RPID")
	if [ "$S" != "$N" ]; then
		stop
		rm -rf "$TB_DIR/state-$S"
		continue
	fi
	# the probe's own noise: the same probe against the test bed's httpd (python), 5 s
	probe_start "$TB_HTTP/healthz"
	sleep 1
	t0=$(now)
	sleep 5
	t1=$(now)
	probe_stop
	NOISE=$($FLEET window "$PROBE_OUT" "$t0" "$t1")
	# an idle minute probed: the stalls of the periodic work (the age triggers every 60 s)
	probe_start
	t0=$(now)
	sleep 61
	t1=$(now)
	probe_stop "$t1"
	IDLESTALL=$($FLEET window "$PROBE_OUT" "$t0" "$t1")
	# 6. /v1/builds walks against rowid range walks of the same rows
	for L in 50 500; do
		W[$L]=$($FLEET walk "$URL" "$L") || fail "walk"
		Q[$L]=$($FLEET sqlwalk "$DB" "$L") || fail "sqlwalk"
	done
	# 5. the shared base moves: push, the registry's notification, the last trigger
	HEADS=$($FLEET heads "$R" bench/moved 1 "$MOVED")
	tpush=$($FLEET move "$R" bench/moved 1) || fail "move"
	envelope=$(printf '{"events":[{"id":"e1","action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","repository":"bench/moved","tag":"1"},"request":{"host":"%s"}}]}' "$R")
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $(cat "$TB_DIR/token")" --data "$envelope" "$URL/v1/hooks/registry")
	[ "$code" = 202 ] || fail "the push notification got HTTP $code"
	MOVE=$($FLEET triggers "$DB" "$MOVED" "$tpush" "%bench/moved:1%moved%") || fail "triggers"
	stop
	# 1 and 2 again: a restart on the populated store, with the feed configured: its round
	# starts 2 s after start (PyPI: the ecosystem of the images' inventories)
	cfg=$(config "$S" 1)
	R_COUNT2=$(count_ref "$DB")
	start "$S" "$cfg" restart
	READY2=$READY_S
	probe_start
	t0=$(now)
	tb_wait "grep -q 'feed osv/PyPI: [0-9]* advisory rows changed' '$LOG'" 600 || fail "no feed round"
	sleep 3 # the match of the advisories against the inventories follows the round
	t1=$(now)
	probe_stop "$t1"
	FEED=$($FLEET window "$PROBE_OUT" "$t0" "$t1")
	FEEDS_S=$(calc "round($t1 - $t0 - 3, 2)")
	ADV=$(sqlite3 "$DB" "SELECT count(*) FROM advisories")
	stop
done

# ---- the table ----
ratio() { calc "'%.2f' % ($1 / $2)"; }
echo "bench_fleet: $N projects (2 environments each), $B builds; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-58s %14s %14s %8s %s\n' "figure" "refitd" "reference" "ratio" "goal"
for S in $SIZES; do
	printf '%-58s %12.3f s %12.3f s %8s %s\n' "1. READY, fresh config, $S projects / ${R_BUILDS[$S]} builds" \
		"${R_READY[$S]}" "${R_COUNT[$S]}" "$(ratio "${R_READY[$S]}" "${R_COUNT[$S]}")" "<= 0.5 s"
done
printf '%-58s %12.3f s %12.3f s %8s %s\n' "1. READY, restart (store populated), $N projects" \
	"$READY2" "$R_COUNT2" "$(ratio "$READY2" "$R_COUNT2")" "<= 0.5 s"
for S in $SIZES; do
	read -r mx p99 n e <<<"${R_ROUND[$S]}"
	printf '%-58s %11s ms %11s ms %8s %s\n' "2. longest stall, polling round ($S refs, ${R_ROUNDS[$S]} s)" \
		"$mx" "${NOISE%% *}" "$(ratio "$mx" "${NOISE%% *}")" "<= 20 ms (p99 $p99 ms, $n probes, $e failed)"
done
read -r mx p99 n e <<<"$IDLESTALL"
printf '%-58s %11s ms %11s ms %8s %s\n' "2. longest stall, an idle minute ($N projects)" \
	"$mx" "${NOISE%% *}" "$(ratio "$mx" "${NOISE%% *}")" "<= 20 ms (p99 $p99 ms, $n probes, $e failed)"
read -r mx p99 n e <<<"$FEED"
printf '%-58s %11s ms %11s ms %8s %s\n' "2. longest stall, feed round (PyPI, $ADV rows, ${FEEDS_S} s)" \
	"$mx" "${NOISE%% *}" "$(ratio "$mx" "${NOISE%% *}")" "<= 20 ms (p99 $p99 ms, $n probes, $e failed)"
for S in $SIZES; do
	printf '%-58s %11s ms %11s ms %8s %s\n' "3. idle CPU per minute, $S projects (stat: ${R_CPUT[$S]} ms)" \
		"${R_CPU[$S]}" "${R_FLOOR[$S]}" "-" "<= 100 ms at 10,000, linear"
done
first=${SIZES%% *}
printf '%-58s %11s kB %11s kB %8s %s\n' "4. private memory, $first projects (RSS ${R_RSS[$first]} kB)" "${R_PRIV[$first]}" "-" "-" ""
printf '%-58s %11s kB %11s kB %8s %s\n' "4. private memory, $N projects (RSS ${R_RSS[$N]} kB)" "${R_PRIV[$N]}" "-" "-" ""
printf '%-58s %11s kB %14s %8s %s\n' "4. private memory per project ($first -> $N)" \
	"$(calc "round((${R_PRIV[$N]} - ${R_PRIV[$first]}) / ($N - $first), 2)")" "" "" ""
read -r ms k <<<"$MOVE"
printf '%-58s %12.3f s %12.3f s %8s %s\n' "5. base moved under $MOVED projects: push -> last trigger" \
	"$ms" "$HEADS" "$(ratio "$ms" "$HEADS")" "reference: $MOVED manifest HEADs ($k triggers)"
for L in 50 500; do
	read -r ws wr wp <<<"${W[$L]}"
	read -r qs qr qp <<<"${Q[$L]}"
	printf '%-58s %12.3f s %12.3f s %8s %s\n' "6. /v1/builds walk, limit $L ($wr rows, $wp pages)" \
		"$ws" "$qs" "$(ratio "$ws" "$qs")" "<= 1.5x (sqlite3: $qr rows)"
done
echo "references: 1. sqlite3 CLI counting the builds of the same state.db; 2. the same probe (every 5 ms)"
echo "against the test bed's python httpd for 5 s (the machine's and the probe's own noise); 3. bench_idle (libuv loop, timers 5 s/30 s/60 s/24 h), same minute;"
echo "5. $MOVED HEADs of the manifest on one connection; 6. SELECT * ... WHERE id < ? ORDER BY id DESC LIMIT ?."
echo "200 trivial rebuilds at 1, 2 and 4 at a time against a shell loop: tests/bench/bench_pipeline.sh"
