#!/bin/bash
# Benchmark: digest checks against the real registry. N (default 10000) tags
# pushed to the test registry; refit's registry client checks them all with
# its normal concurrency (8 requests in flight), alone and with each result
# written to a store as the watcher does; in the same run wrk issues the same
# HEAD requests (Lua script cycling the tags) over 8 connections: the
# registry's own ceiling. Then refitd watches the N references (from 20
# projects whose Dockerfiles name them) and its RSS is read once they are all
# recorded.
#
#   tests/bench/bench_registry.sh [N]          (BUILD=build by default)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REFITD=$PWD/$BUILD/refitd
BENCH=$PWD/$BUILD/tests/bench/bench_registry
N=${1:-10000}
[ -x "$BENCH" ] || { echo "build $BENCH first (make bench builds it)"; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (Debian package wrk)"; exit 1; }
. tests/integration/lib.sh
tb_init
tb_dockerd || fail "dockerd"
tb_registry || fail "registry"
tb_base_image bench/base:1 || fail "base"
R=$TB_REGISTRY
ACCEPT='application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'

# N tags on one manifest (PUT, 8 threads, kept-alive connections).
python3 - "$R" "$N" <<'PY' || fail "pushing tags"
import http.client, sys, threading
reg, n = sys.argv[1], int(sys.argv[2])
h, p = reg.split(":")
c = http.client.HTTPConnection(h, int(p))
c.request("GET", "/v2/bench/base/manifests/1", headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
r = c.getresponse(); body = r.read(); ctype = r.getheader("Content-Type")
def put(lo, hi):
    k = http.client.HTTPConnection(h, int(p))
    for i in range(lo, hi):
        k.request("PUT", "/v2/bench/base/manifests/t%05d" % i, body=body, headers={"Content-Type": ctype})
        r = k.getresponse(); r.read()
        if r.status != 201: sys.exit("PUT t%05d: HTTP %d" % (i, r.status))
ts = [threading.Thread(target=put, args=(i * n // 8, (i + 1) * n // 8)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
echo "pushed $N tags"

cat >"$TB_DIR/heads.lua" <<LUA
local i = 0
request = function()
  i = (i + 1) % $N
  return wrk.format("GET", string.format("/v2/bench/base/manifests/t%05d", i), {["Accept"] = "$ACCEPT"})
end
LUA
# wrk cannot do HEAD (its parser waits for the body that Content-Length
# announces), so it cycles GETs of the same manifests; ab -i does HEAD, of one tag.
wrk_rate=$(wrk -t1 -c8 -d10s -s "$TB_DIR/heads.lua" "http://$R" | sed -n 's/^Requests\/sec: *//p')
ab_rate=$(ab -q -k -i -c 8 -n 20000 -H "Accept: $ACCEPT" "http://$R/v2/bench/base/manifests/t00000" |
	sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
client=$("$BENCH" "$R" bench/base "$N") || fail "bench_registry"
stored=$("$BENCH" "$R" bench/base "$N" "$TB_DIR/bench.db") || fail "bench_registry with store"
rate() { sed -n 's/.*rate \([0-9.]*\)\/s.*/\1/p' <<<"$1"; }

# refitd watching N references: 20 projects, each naming N/20 tags in stages it copies from.
per=$((N / 20))
for p in $(seq -w 1 20); do
	mkdir -p "$TB_DIR/w$p"
	{
		for i in $(seq 0 $((per - 1))); do printf 'FROM %s/bench/base:t%05d AS s%d\n' "$R" $((10#$p * per - per + i)) "$i"; done
		echo "FROM scratch"
		for i in $(seq 0 $((per - 1))); do printf 'COPY --from=s%d /bin/busybox /b%d\n' "$i" "$i"; done
	} >"$TB_DIR/w$p/Dockerfile"
done
{
	echo "state_dir: $TB_DIR/state"
	echo "engines: [ { host: unix://$TB_DIR/no-engine.sock } ]"
	echo "poll: { bases: 1h }"
	echo "projects:"
	for p in $(seq -w 1 20); do
		echo "  - { name: w$p, context: $TB_DIR/w$p, image: $R/team/w$p, environments: { prod: {} } }"
	done
} >"$TB_DIR/refit.yaml"
REFIT_VALGRIND=0 refitd_start "$TB_DIR/refit.yaml"
tb_wait "[ \"\$(sql '$TB_DIR/state/state.db' 'SELECT count(*) FROM bases WHERE digest IS NOT NULL' 2>/dev/null)\" = $N ]" 180 ||
	fail "refitd did not record all $N references"
rss=$(sed -n 's/^VmRSS: *//p' /proc/$RD_PID/status)
hwm=$(sed -n 's/^VmHWM: *//p' /proc/$RD_PID/status)
refitd_stop >/dev/null

echo "wrk GET, cycling the tags (8 conns):  $wrk_rate req/s"
echo "ab -i HEAD, one tag (8 conns, -k):    $ab_rate req/s"
echo "refit registry client (8 in flight): $client"
echo "  ... recording each in the store:   $stored"
python3 -c "print('ratio refit/wrk: %.2f (client), %.2f (with the store); refit/ab: %.2f' % ($(rate "$client") / $wrk_rate, $(rate "$stored") / $wrk_rate, $(rate "$client") / $ab_rate))"
echo "refitd watching $N references: RSS $rss (peak $hwm)"
