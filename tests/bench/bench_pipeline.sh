#!/bin/bash
# Benchmark: 20 small projects share one base; the base moves; how long does
# refit take to rebuild and push them all, against a plain shell loop doing
# the same docker work (build --pull, tag, push of the stamp, ENV and
# ENV-previous tags) with the same concurrency, on the same dockerd and
# registry in the same run. Also: the time from the base's digest change to
# the first rebuild starting. Prints a table and the ratio refit/shell.
#
#   tests/bench/bench_pipeline.sh [N_PROJECTS]      (BUILD=build by default)
#   BENCH_CONCURRENCY="1 2 4" (default): the builds at a time, each measured in turn
#
# BENCH_BUILDER=buildkit (default): refit builds with BuildKit and a session, the shell
# loop with `DOCKER_BUILDKIT=1 docker build` (Debian's docker CLI, /usr/bin/docker, has
# BuildKit built in); BENCH_BUILDER=classic: both with the classic builder. RUN steps use
# no network: the test bed's dockerd has no bridge.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REFITD=$PWD/$BUILD/refitd
N=${1:-20}
BUILDER=${BENCH_BUILDER:-buildkit}
case $BUILDER in
buildkit) SHELL_BK=1 ;;
classic) SHELL_BK=0 ;;
*) echo "bench_pipeline: BENCH_BUILDER is buildkit or classic" >&2; exit 2 ;;
esac
DOCKER_CLI=/usr/bin/docker
[ -x $DOCKER_CLI ] || DOCKER_CLI=docker
. tests/integration/lib.sh
tb_init
tb_dockerd || fail "dockerd"
tb_registry || fail "registry"
R=$TB_REGISTRY
# Each arm (refit or shell, per concurrency) has its own base and projects,
# so that no arm builds from another's layer cache.
make_arm() {
	tb_base_image "bench/base-$1:1" || fail "base"
	for i in $(seq -w 1 "$N"); do
		mkdir -p "$TB_DIR/$1/p$i"
		printf 'FROM %s/bench/base-%s:1\nRUN echo %s > /n\nUSER 65534\n' "$R" "$1" "$i" \
			>"$TB_DIR/$1/p$i/Dockerfile"
	done
}

now() { date +%s.%N; }

# refit with max_builds $1: initial builds first (not timed), then the base moves.
run_refit() {
	local mb=$1 cfg=$TB_DIR/refit-$1.yaml t0 t1 first done_before
	make_arm "r$mb"
	{
		echo "state_dir: $TB_DIR/state-$mb"
		echo "log_format: json"
		echo "engines: [ { host: $TB_DOCKER_HOST, max_builds: $mb, builder: $BUILDER } ]"
		echo "poll: { bases: 1s, jitter: 0%, settle: 0s }"
		echo "projects:"
		for i in $(seq -w 1 "$N"); do
			echo "  - { name: p$i, network: none, context: $TB_DIR/r$mb/p$i, image: $R/r$mb/p$i, environments: { prod: {} } }"
		done
	} >"$cfg"
	REFIT_VALGRIND=0 refitd_start "$cfg"
	tb_wait "[ \$(grep -c 'rebuild done' '$RD_LOG') -ge $N ]" 600 || fail "initial builds"
	t0=$(now)
	tb_base_move "bench/base-r$mb:1"
	tb_wait "[ \$(grep -c 'rebuild done' '$RD_LOG') -ge $((2 * N)) ]" 900 || fail "rebuilds"
	t1=$(now)
	python3 - "$RD_LOG" "$t0" "$t1" "$mb" "$N" <<'PY' >>"$TB_DIR/results"
import json, sys, datetime
log, t0, t1, mb, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
def ts(o): return datetime.datetime.strptime(o["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
ev = [json.loads(l) for l in open(log) if l.startswith("{")]
moved = [ts(e) for e in ev if " moved: " in e["msg"] and ts(e) >= t0]
starts = [ts(e) for e in ev if "rebuild started" in e["msg"] and ts(e) >= t0]
dones = [ts(e) for e in ev if "rebuild done" in e["msg"] and ts(e) >= t0]
print("refit max_builds=%s: %d rebuilds in %.2f s (first start to last done %.2f s); digest change seen %.2f s after the push, first rebuild started %.3f s after that" % (
    mb, len(dones), t1 - t0, max(dones) - min(starts), moved[0] - t0, min(starts) - moved[0]))
print("REFIT %s %.3f" % (mb, max(dones) - min(starts)))
PY
	refitd_stop >/dev/null
}

# The shell loop: the same docker work per project (build with the same
# labels, tags, three pushes), P at a time; $2 = timed.
run_shell() {
	local p=$1 t0 t1
	export R TB_DOCKER_HOST SHELL_BK DOCKER_CLI
	[ "$2" = timed ] && tb_base_move "bench/base-s$p:1"
	t0=$(now)
	seq -w 1 "$N" | xargs -P "$p" -I{} bash -c '
		d="$DOCKER_CLI -H $TB_DOCKER_HOST"; img=$R/s'"$p"'/p{}; stamp=prod-$(date -u +%Y%m%dT%H%M%SZ)
		DOCKER_BUILDKIT=$SHELL_BK $d build -q --pull --network none -t $img:$stamp \
			--label org.opencontainers.image.created=$(date -u +%FT%TZ) \
			--label org.opencontainers.image.base.name=$R/bench/base-s'"$p"':1 \
			--label org.opencontainers.image.base.digest=sha256:0 \
			--label io.refit.environment=prod --label io.refit.trigger=base \
			--label "io.refit.reasons=base moved" '"$TB_DIR/s$p"'/p{} >/dev/null 2>&1 || exit 1
		$d tag $img:prod $img:prod-previous 2>/dev/null && $d push -q $img:prod-previous >/dev/null
		$d tag $img:$stamp $img:prod && $d push -q $img:$stamp >/dev/null && $d push -q $img:prod >/dev/null' ||
		fail "shell loop"
	t1=$(now)
	[ "$2" = timed ] || return 0
	python3 -c "print('SHELL $p %.3f' % ($t1 - $t0))" >>"$TB_DIR/results"
	echo "shell loop -P $p: $N builds+pushes in $(python3 -c "print('%.2f' % ($t1 - $t0))") s" >>"$TB_DIR/results"
}

for mb in ${BENCH_CONCURRENCY:-1 2 4}; do
	make_arm "s$mb"
	run_shell "$mb" warm # the first round, as refit's initial one (not timed)
	run_shell "$mb" timed
	run_refit "$mb"
done
grep -v '^REFIT\|^SHELL' "$TB_DIR/results"
python3 - "$TB_DIR/results" "$BUILDER" ${BENCH_CONCURRENCY:-1 2 4} <<'PY'
import sys
r = {}
for l in open(sys.argv[1]):
    f = l.split()
    if f[0] in ("REFIT", "SHELL"):
        r[(f[0], f[1])] = float(f[2])
for mb in sys.argv[3:]:
    a, b = r[("REFIT", mb)], r[("SHELL", mb)]
    print("%s, concurrency %s: refit %.2f s, shell loop %.2f s, ratio refit/shell %.2f" % (sys.argv[2], mb, a, b, a / b))
PY
