#!/bin/bash
# REST API throughput, measured against a reference in the same run: wrk
# against refitd's GET /v1/status and GET /v1/projects (a store with
# $BENCH_PROJECTS projects and $BENCH_BUILDS builds), then nginx (one worker)
# serving the very same bytes as static files, then both again with a
# matching If-None-Match (304). Prints req/s, p99 latency, the refit/nginx
# ratio and refitd's RSS before and after. Installs nothing: wrk and nginx
# come with the bench dependencies (Debian packages wrk, nginx-light).
#
# Each run also reads the servers' and wrk's CPU time and run-queue wait from
# /proc/PID/task/*/schedstat: CPU microseconds per request say what a request
# costs each server, independently of how the CPUs were shared, and wrk's
# run-queue wait says whether the load generator itself ran short of CPU (its
# latency figures then include its own wait). Both servers run in a session of
# their own (setsid), as a service under systemd runs in a cgroup of its own,
# so the kernel shares the CPUs between server and load generator per group.
#
#   tests/bench/bench_api.sh            # REFITD defaults to build/refitd
#   BENCH_PROJECTS=20 BENCH_BUILDS=2000 BENCH_SECONDS=5 tests/bench/bench_api.sh
set -u
cd "$(dirname "$0")/../.."
REFITD=${REFITD:-$PWD/build/refitd}
PROJECTS=${BENCH_PROJECTS:-1000}
BUILDS=${BENCH_BUILDS:-2000}
SECONDS_EACH=${BENCH_SECONDS:-10}
THREADS=${BENCH_WRK_THREADS:-2}
WRK=(wrk -t"$THREADS" -c64 -d"${SECONDS_EACH}s" --latency)

for tool in wrk nginx python3 curl; do
	command -v "$tool" >/dev/null || { echo "bench_api: $tool is not installed (make deps-test installs the bench tools)" >&2; exit 1; }
done
[ -x "$REFITD" ] || { echo "bench_api: no refitd at $REFITD (make first)" >&2; exit 1; }

dir=$(mktemp -d /tmp/refit-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$dir/ctx" "$dir/www/v1"
chmod 755 "$dir" "$dir/www" "$dir/www/v1" # nginx workers run as another user when started as root
echo 'FROM scratch' >"$dir/ctx/Dockerfile" # no base polls writing to the store mid-run
echo bench-token >"$dir/token"
{
	echo "state_dir: $dir/state"
	echo "listen: 127.0.0.1:0"
	echo "api_token_file: $dir/token"
	echo "api: { per_ip_connections: 256, max_connections: 512 }"
	echo "engines: [ { host: unix://$dir/no-engine.sock } ]"
	echo "poll: { bases: 24h }"
	echo "projects:"
	for ((i = 0; i < PROJECTS; i++)); do
		printf '  - { name: project-%04d, context: %s, image: reg.test/ds/project-%04d,' "$i" "$dir/ctx" "$i"
		printf ' environments: { test: {}, prod: { requires: test } } }\n'
	done
} >"$dir/refit.yaml"

start_refitd() {
	: >"$dir/refitd.log"
	setsid "$REFITD" -d -c "$dir/refit.yaml" >"$dir/refitd.log" 2>&1 &
	RPID=$!
	pids+=("$RPID")
	for ((i = 0; i < 300; i++)); do
		grep -q "REST API listening on" "$dir/refitd.log" && break
		sleep 0.1
	done
	RURL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$dir/refitd.log" | head -1)
	[ "$RURL" != http:// ] || { cat "$dir/refitd.log" >&2; exit 1; }
}
stop_refitd() { kill "$RPID"; wait "$RPID" 2>/dev/null; }

# The schema from a first start, then builds spread over the projects.
start_refitd
stop_refitd
python3 - "$dir/state/state.db" "$PROJECTS" "$BUILDS" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n, builds = int(sys.argv[2]), int(sys.argv[3])
now = int(time.time() * 1000) - 3600000
db.execute("DELETE FROM triggers")
rows = []
for i in range(builds):
    p, env = i % n, ("test", "prod")[(i // n) % 2]
    t = now - (builds - i) * 1000
    rows.append(("project-%04d" % p, env, "base", "base 127.0.0.1:1/base/busybox:1 moved",
                 "succeeded" if i % 9 else "failed", t, t + 100, t + 60000, "e",
                 "sha256:%064x" % i, "reg.test/ds/project-%04d:%s,reg.test/ds/project-%04d:%s-20250101T000000Z" % (p, env, p, env)))
db.executemany("INSERT INTO builds(project, env, trigger, reasons, status, queued_at, started_at,"
               " finished_at, engine, digest, tags) VALUES(?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
PY
start_refitd
rss() { awk '/VmRSS/ {print $2}' "/proc/$RPID/status"; }

# nginx serves the same bytes from files.
for p in status projects; do
	curl -sf -o "$dir/www/v1/$p" "$RURL/v1/$p" || { echo "bench_api: GET /v1/$p failed" >&2; exit 1; }
	chmod 644 "$dir/www/v1/$p"
done
NPORT=$(free_port)
cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
daemon off;
events { worker_connections 1024; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 1000000;
	client_body_temp_path $dir/tmp;
	proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp;
	scgi_temp_path $dir/tmp;
	server { listen 127.0.0.1:$NPORT; root $dir/www; }
}
EOF
mkdir -p "$dir/tmp"
setsid nginx -p "$dir" -c "$dir/nginx.conf" &
pids+=($!)
NURL=http://127.0.0.1:$NPORT
for ((i = 0; i < 50; i++)); do curl -sf -o /dev/null "$NURL/v1/status" && break; sleep 0.1; done
cmp -s <(curl -s "$NURL/v1/projects") "$dir/www/v1/projects" || { echo "bench_api: nginx does not serve the body" >&2; exit 1; }

# schedstat PID: "ns-on-cpu ns-waiting-for-cpu" summed over its threads
schedstat() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{c += $1; w += $2} END {printf "%.0f %.0f\n", c, w}'; }
# run PID URL [wrk args]: prints "req/s p99 server-us/req wrk-CPUs/wrk-wait-%",
# the CPU figures taken over the middle of the run, away from start and end.
run() {
	local out rps p99 wpid s0 s1 w0 w1 mid=$((SECONDS_EACH > 4 ? SECONDS_EACH - 2 : SECONDS_EACH / 2))
	"${WRK[@]}" "${@:2}" >"$dir/wrk.out" &
	wpid=$!
	sleep 1
	s0=$(schedstat "$1") w0=$(schedstat "$wpid")
	sleep "$mid"
	s1=$(schedstat "$1") w1=$(schedstat "$wpid")
	wait "$wpid"
	out=$(cat "$dir/wrk.out")
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	python3 -c '
import sys
rps, mid = float(sys.argv[1]), float(sys.argv[2])
(sc0, _), (sc1, _) = [map(int, a.split()) for a in sys.argv[3:5]]
(wc0, ww0), (wc1, ww1) = [map(int, a.split()) for a in sys.argv[5:7]]
n = rps * mid
print("%s %s %.2f %.2f/%.0f%%" % (sys.argv[1], sys.argv[7], (sc1 - sc0) / 1e3 / n,
      (wc1 - wc0) / 1e9 / mid, 100.0 * (ww1 - ww0) / ((wc1 - wc0) + (ww1 - ww0))))
' "$rps" "$mid" "$s0" "$s1" "$w0" "$w1" "$p99"
}
# row LABEL PATH [REFITD-HEADER NGINX-HEADER]: a refitd run and an nginx run and their ratios:
# requests/s, and nginx's CPU per request over refitd's.
row() {
	local r l rc rw n m nc nw
	read -r r l rc rw <<<"$(run "$RPID" "$RURL$2" ${3:+-H "$3"})"
	read -r n m nc nw <<<"$(run "$NWPID" "$NURL$2" ${4:+-H "$4"})"
	printf '%-31s %9s %8s %6s %9s  %9s %8s %6s %9s  %5s %5s\n' "$1" "$r" "$l" "$rc" "$rw" \
		"$n" "$m" "$nc" "$nw" "$(python3 -c "print('%.2f' % ($r / $n))")" \
		"$(python3 -c "print('%.2f' % ($nc / $rc))")"
}
etag() { curl -sI "$1" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p'; }

size=$(wc -c <"$dir/www/v1/projects")
echo "bench_api: $PROJECTS projects, $BUILDS builds; /v1/projects is $size bytes; wrk -t$THREADS -c64 -d${SECONDS_EACH}s; $(nproc) CPUs"
rss0=$(rss)
NWPID=$(pgrep -P "$(cat "$dir/nginx.pid")" | head -1)
[ -n "$NWPID" ] || { echo "bench_api: no nginx worker" >&2; exit 1; }
printf '%-31s %9s %8s %6s %9s  %9s %8s %6s %9s  %5s %5s\n' "" "refitd" "" "CPU" "wrk CPUs" "nginx" "" "CPU" \
	"wrk CPUs" "" "CPU"
printf '%-31s %9s %8s %6s %9s  %9s %8s %6s %9s  %5s %5s\n' "request" "req/s" "p99" "us/req" "/ wait" \
	"req/s" "p99" "us/req" "/ wait" "ratio" "ratio"
row "GET /v1/status" /v1/status
row "GET /v1/projects" /v1/projects
re=$(etag "$RURL/v1/projects")
ne=$(etag "$NURL/v1/projects")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $re" "$RURL/v1/projects")" = 304 ] || echo "bench_api: refitd did not answer 304" >&2
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ne" "$NURL/v1/projects")" = 304 ] || echo "bench_api: nginx did not answer 304" >&2
row "GET /v1/projects If-None-Match" /v1/projects "If-None-Match: $re" "If-None-Match: $ne"
echo "wrk CPUs / wait: the CPUs wrk kept busy and the share of its time it waited for one;"
echo "CPU ratio: nginx's CPU time per request over refitd's"
echo "refitd RSS: ${rss0} kB before, $(rss) kB after"
# What a change costs: a POST writes a trigger, the next GET renders /v1/projects again.
python3 - "$RURL" <<'PY'
import sys, time, urllib.request
def get():
    t = time.time(); urllib.request.urlopen(sys.argv[1] + "/v1/projects").read()
    return (time.time() - t) * 1000
req = urllib.request.Request(sys.argv[1] + "/v1/projects/project-0000/rebuild", method="POST",
                             headers={"Authorization": "Bearer bench-token"})
try:
    urllib.request.urlopen(req).read()
except urllib.error.HTTPError as e:
    pass  # 409: a trigger was pending already; the store changed all the same
print("GET /v1/projects after a store change (render): %.1f ms; again (cached): %.1f ms"
      % (get(), get()))
PY
stop_refitd
