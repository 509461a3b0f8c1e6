#!/bin/bash
# Soak: refitd runs SOAK_SECONDS (default 3600) against a churning base (a new digest pushed
# every SOAK_BASE_EVERY s, default 60: each one a rebuild and a push) and a churning feed (a
# synthetic OSV mirror on tb_httpd whose records change every SOAK_FEED_EVERY s, default 30,
# polled at once). Every SOAK_SAMPLE s (default 10) it samples refitd's RSS
# (/proc/PID/status VmRSS), open descriptors (/proc/PID/fd) and loop lag
# (refit_loop_lag_seconds on /metrics: the worst lag of a 1 s timer over the last minute)
# into a CSV ($BUILD/soak.csv, or SOAK_CSV), then prints start, end and max of each.
# Fails when refitd dies, a build is left running, or the store fails its integrity check.
#   make soak [SOAK_SECONDS=600]
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REFITD=${REFITD:-$PWD/$BUILD/refitd}
export REFITD
. tests/integration/lib.sh
SECS=${SOAK_SECONDS:-3600} BASE_EVERY=${SOAK_BASE_EVERY:-60} FEED_EVERY=${SOAK_FEED_EVERY:-30}
SAMPLE=${SOAK_SAMPLE:-10}
CSV=${SOAK_CSV:-$PWD/$BUILD/soak.csv}
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
tb_base_image refit-test/base:1 || fail "base image"
R=$TB_REGISTRY
mkdir -p "$TB_DIR/mirror" "$TB_DIR/p/site-packages/requests-2.25.0.dist-info"
python3 tests/testbed/osvgen.py "$TB_DIR/mirror" --records 500 || fail "feed mirror"
tb_httpd "$TB_DIR/mirror" || fail "httpd did not start"
printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n' \
	>"$TB_DIR/p/site-packages/requests-2.25.0.dist-info/METADATA"
printf 'FROM %s/refit-test/base:1\nCOPY site-packages/ /usr/local/lib/python3.11/site-packages/\nRUN echo built >/etc/built\nUSER 65534\n' \
	"$R" >"$TB_DIR/p/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 10s, feeds: 1m, settle: 0s }
feeds:
  - { name: osv, type: osv, url: $TB_HTTP }
projects:
  - { name: p, network: none, context: $TB_DIR/p, image: $R/team/p, environments: { test: {}, prod: { requires: test } } }
YAML
DB=$TB_DIR/state/state.db
REFIT_VALGRIND=0 refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening" 30
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
API=http://127.0.0.1:$port
wait_log "project p: rebuild done" 180

echo "t,rss_kb,fds,loop_lag_ms,builds,succeeded,advisory_rows,load1" >"$CSV"
sample() {
	local rss fds lag
	kill -0 "$RD_PID" 2>/dev/null || fail "refitd died (log: $RD_LOG)"
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$RD_PID/status")
	fds=$(ls "/proc/$RD_PID/fd" | wc -l)
	lag=$(curl -s -m 5 "$API/metrics" | awk '/^refit_loop_lag_seconds / {printf "%.1f", $2 * 1000}')
	echo "$1,$rss,$fds,${lag:-NA},$(sql "$DB" "SELECT count(*) FROM builds"),$(sql "$DB" "SELECT count(*) FROM builds WHERE status = 'succeeded'"),$(sql "$DB" "SELECT count(*) FROM advisories"),$(cut -d' ' -f1 /proc/loadavg)" >>"$CSV"
}
start=$SECONDS next_base=$BASE_EVERY next_feed=$FEED_EVERY next_sample=0 round=0
while (( SECONDS - start < SECS )); do
	t=$((SECONDS - start))
	if (( t >= next_sample )); then sample "$t"; next_sample=$((next_sample + SAMPLE)); fi
	if (( t >= next_base )); then
		tb_base_move refit-test/base:1 2>/dev/null || echo "soak: base move failed at ${t}s" >&2
		next_base=$((next_base + BASE_EVERY))
	fi
	if (( t >= next_feed )); then
		round=$((round + 1))
		python3 tests/testbed/osvgen.py "$TB_DIR/mirror" --records 500 --round $round --changed 20
		curl -s -o /dev/null -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" "$API/v1/feeds/poll"
		next_feed=$((next_feed + FEED_EVERY))
	fi
	sleep 1
done
sample $((SECONDS - start))
sleep 1
refitd_stop
left=$(sql "$DB" "SELECT count(*) FROM builds WHERE status IN ('running', 'queued')")
ic=$(sql "$DB" "PRAGMA integrity_check")
python3 - "$CSV" "$SECS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("soak: %s s, %d samples (%s)" % (sys.argv[2], len(rows), sys.argv[1]))
print("%-14s %10s %10s %10s" % ("", "start", "end", "max"))
for k in ("rss_kb", "fds", "loop_lag_ms", "load1"):
    v = [float(r[k]) for r in rows if r[k] not in ("", "NA")]
    print("%-14s %10g %10g %10g" % (k, v[0], v[-1], max(v)))
print("builds %s (%s succeeded), advisory rows %s" % (rows[-1]["builds"], rows[-1]["succeeded"], rows[-1]["advisory_rows"]))
PY
echo "soak: builds left running or queued: $left; integrity_check: $ic"
[ "$left" = 0 ] && [ "$ic" = ok ] || fail "the store is not clean after the soak"
