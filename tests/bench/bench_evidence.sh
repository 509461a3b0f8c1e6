#!/bin/bash
# Benchmark: the evidence push (signature + attestations + referrers tag) against the
# image push of the same build, on the same dockerd and docker-registry in the same run.
#
#   tests/bench/bench_evidence.sh [ROUNDS]        (BUILD=build by default)
#
# A project FROM the test base with a fresh BENCH_LAYER_MB (default 20) MiB layer per
# rebuild is rebuilt ROUNDS times (the base moves each time) by refitd with signing on;
# each build log gives the image push time (stamp tag + environment tag, as the engine
# pushes them) and the evidence push time. Then bench_evidence pushes evidence with
# attestations of realistic size (SPDX and CycloneDX SBOMs of BENCH_PKGS=1000 packages,
# provenance, VEX) for the last image, as the integrated pipeline will.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REFITD=$PWD/$BUILD/refitd
ROUNDS=${1:-5}
MB=${BENCH_LAYER_MB:-20}
PKGS=${BENCH_PKGS:-1000}
make -s BUILD="$BUILD" "$BUILD/tests/bench/bench_evidence" || exit 1
. tests/integration/lib.sh
tb_init
tb_dockerd || fail "dockerd"
tb_registry || fail "registry"
R=$TB_REGISTRY
tb_base_image bench/base:1 || fail "base"
openssl ecparam -name prime256v1 -genkey -noout -out "$TB_DIR/signing.key" 2>/dev/null || fail "key"
mkdir -p "$TB_DIR/p"
printf 'FROM %s/bench/base:1\nRUN dd if=/dev/urandom of=/data bs=1048576 count=%s 2>/dev/null\nUSER 65534\n' \
	"$R" "$MB" >"$TB_DIR/p/Dockerfile"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1s, jitter: 0%, settle: 0s }
signing: { key_file: $TB_DIR/signing.key }
projects:
  - { name: p, network: none, context: $TB_DIR/p, image: $R/bench/p, environments: { prod: { requires: evidence } } }
YAML
REFIT_VALGRIND=0 refitd_start "$TB_DIR/refit.yaml"
tb_wait "[ \$(grep -c 'rebuild done' '$RD_LOG') -ge 1 ]" 300 || fail "initial build"
for i in $(seq 1 "$ROUNDS"); do
	tb_base_move bench/base:1 || fail "base move"
	tb_wait "[ \$(grep -c 'rebuild done' '$RD_LOG') -ge $((i + 1)) ]" 300 || fail "rebuild $i"
done
refitd_stop >/dev/null
python3 - "$TB_DIR/state/logs" "$ROUNDS" <<'PY' >"$TB_DIR/daemon.txt" || fail "parse"
import glob, os, re, statistics, sys
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/*.log"), key=lambda p: int(os.path.basename(p)[:-4]))[1:]:
    t = open(f).read()
    push = sum(int(m) for m in re.findall(r"refit: pushed sha256:\w+ in (\d+) ms", t))
    ev = re.search(r"evidence: signature .* (\d+) requests in (\d+) ms", t)
    rows.append((push, int(ev.group(2)), int(ev.group(1))))
for i, (p, e, q) in enumerate(rows):
    print("rebuild %d: image push %d ms, evidence %d ms (%d requests): +%.1f %%" % (i + 1, p, e, q, 100.0 * e / p))
mp, me = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
print("median: image push %d ms, evidence %d ms: +%.1f %%" % (mp, me, 100.0 * me / mp))
print("PUSH_MEDIAN_MS %d" % mp)
PY
cat "$TB_DIR/daemon.txt"
d=$(tb_digest bench/p:prod)
"$BUILD/tests/bench/bench_evidence" "$R" bench/p "$d" "$TB_DIR/signing.key" "$ROUNDS" "$PKGS" \
	>"$TB_DIR/full.txt" || fail "bench_evidence"
sed 's/^/realistic attestations: /' "$TB_DIR/full.txt" | grep -v MEDIAN
pm=$(sed -n 's/PUSH_MEDIAN_MS //p' "$TB_DIR/daemon.txt")
em=$(sed -n 's/EVIDENCE_MEDIAN_MS //p' "$TB_DIR/full.txt")
python3 -c "print('with SBOMs of %s packages, provenance and VEX: evidence %d ms against the image push %d ms: +%.1f %% (target <= 10 %%)' % ('$PKGS', $em, $pm, 100.0 * $em / $pm))"
