#!/bin/bash
# Feed ingest and matching (issue 7): the whole PyPA advisory database as OSV
# JSON (2,661 records, converted by the test bed's osvmirror.py) parsed and
# stored by refit's code, against jq parsing the same files in the same run;
# then a 1,000-package inventory matched against what was stored.
# Each side runs 3 times; the best run counts (page cache warm for both).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/tests/bench/bench_feeds
[ -x "$B" ] || { echo "build $B first (make bench)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
tar -C "$T" -xJf tests/fixtures/feeds/pypa/pypa-advisory-database.tar.xz
python3 tests/testbed/osvmirror.py "$T/pypa-advisory-database" "$T/mirror" >/dev/null || exit 1
D=$T/mirror/PyPI
cat "$D"/*.json >/dev/null
best() { sort -n | head -1; }
jq_s=$(for i in 1 2 3; do /usr/bin/time -f '%e %M' jq -c . "$D"/*.json 2>&1 >/dev/null | tail -1; done | best)
for i in 1 2 3; do rm -f "$T"/state.db*; "$B" "$D" "$T/state.db" 1000; done >"$T/runs" || exit 1
run=$(sort -t' ' -k6 -n "$T/runs" | head -1)
echo "jq -c . (one process, all files): ${jq_s% *} s, peak RSS ${jq_s#* } KiB"
echo "refit: $run"
python3 - "$jq_s" "$run" <<'PY'
import sys
jq_s = float(sys.argv[1].split()[0])
f = sys.argv[2].split()
v = dict(zip(f[0::2], f[1::2]))
ing = float(v["ingest_s"])
print("ingest %.3f s = %.2fx jq's parse (goal <= 2x); matching %s packages: %s ms (goal < 50 ms), %s hits; peak RSS %d KiB"
      % (ing, ing / max(jq_s, 0.001), v["packages"], v["match_ms"], v["hits"], int(v["maxrss_kb"])))
PY
