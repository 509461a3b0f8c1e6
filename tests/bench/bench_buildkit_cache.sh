#!/bin/bash
# Benchmark (issue 14): the registry cache for a cold engine. A project whose slow step (a RUN
# that hashes BENCH_SLOW_MB MB on busybox, several seconds) is unchanged is rebuilt by refit on
# a fresh, cold dockerd, once with the registry cache and once without it; the goal is
# with/without <= 0.5.
#
#   tests/bench/bench_buildkit_cache.sh          (BUILD=build; BENCH_ROUNDS=3, BENCH_SLOW_MB=500)
#
# Engine A builds the project once (refit, untimed) and pushes it with inline cache metadata.
# Then, per round, after a COPY input changed (the slow RUN before it did not):
#   with:     refitd moves the project to a new cold dockerd B and rebuilds it (manual
#             trigger): BuildKit imports the cache from the environment's image in the
#             registry (cachefrom + inline cache); the slow step must come out CACHED;
#   without:  the environment's image in the registry is replaced by the same build made by
#             the classic builder, which carries no cache metadata (untimed), and refitd
#             rebuilds on another new cold dockerd C: the very same refit rebuild, with an
#             empty registry cache; the slow step must run;
#   cli:      for reference, `DOCKER_BUILDKIT=1 docker build` + push of the same context on
#             a third new dockerd D, without --cache-from (what a new build host does without
#             a registry cache, with Docker's CLI).
# Times are wall clock from the rebuild request (refitctl rebuild) to refitd's "rebuild
# done" (build, push, verify, inventory), and for cli from the build to the end of its pushes.
# Prints each round, the medians and the ratios.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REFITD=$PWD/$BUILD/refitd
REFITCTL=$PWD/$BUILD/refitctl
ROUNDS=${BENCH_ROUNDS:-3}
SLOW_MB=${BENCH_SLOW_MB:-500}
DOCKER_CLI=/usr/bin/docker
[ -x $DOCKER_CLI ] || DOCKER_CLI=docker
. tests/integration/lib.sh
tb_init
tb_dockerd a || fail "dockerd A"
A=$TB_DOCKER_HOST
tb_registry || fail "registry"
R=$TB_REGISTRY
tb_base_image bench/base:1 || fail "base"
P=$TB_DIR/p
mkdir -p "$P"
echo 0 >"$P/version"
cat >"$P/Dockerfile" <<DOCKERFILE
FROM $R/bench/base:1
RUN head -c ${SLOW_MB}000000 /dev/zero | sha256sum > /slow && cat /slow
COPY version /version
USER 65534
DOCKERFILE
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
conf() {
	cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $1 } ]
projects:
  - { name: p, network: none, context: $P, image: $R/team/p, environments: { prod: {} } }
YAML
}
now() { date +%s.%N; }
dones() { grep -c 'project p: rebuild done' "$RD_LOG"; }
DB=$TB_DIR/state/state.db
last_log() { echo "$TB_DIR/state/logs/$(sql "$DB" "SELECT max(id) FROM builds WHERE project = 'p'").log"; }
# slow_step LOG: "CACHED" or "ran" for the slow RUN in refit's build log
slow_step() {
	local step
	step=$(grep -E "^#[0-9]+ \[[0-9]/[0-9]\] RUN head -c" "$1" | head -1 | cut -d' ' -f1)
	[ -n "$step" ] || { cat "$1" >&2; fail "no slow RUN step in $1"; }
	if grep -qE "^$step CACHED" "$1"; then
		echo CACHED
	else
		echo "ran $(grep -E "^$step DONE" "$1" | head -1 | cut -d' ' -f3)"
	fi
}

conf "$A"
t0=$(now)
REFIT_VALGRIND=0 refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening on " 60
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
tb_wait "[ \$(dones) -ge 1 ]" 300 || fail "first build on A: $(sql "$DB" "SELECT error FROM builds")"
echo "initial build by refit on engine A (cold, nothing in the registry): $(python3 -c "print('%.2f' % ($(now) - $t0))") s (refitd start included)"

# refit_round NAME: a new cold dockerd NAME, refitd moved onto it, one manual rebuild; prints
# the seconds it took; the slow step's fate in $SLOW.
refit_round() {
	local n t0 t1 reloads
	tb_dockerd "$1" >/dev/null || fail "dockerd $1"
	conf "$TB_DOCKER_HOST"
	reloads=$(grep -c "configuration reloaded" "$RD_LOG")
	kill -HUP "$RD_PID"
	tb_wait "[ \$(grep -c 'configuration reloaded' '$RD_LOG') -gt $reloads ]" 30 || fail "reload"
	tb_wait "curl -s '$URL/v1/status' | grep -q '\"host\": *\"$TB_DOCKER_HOST\"'" 30 || fail "$1 not in the status"
	sleep 2 # probed: builder and version known
	date +%s.%N >"$P/version"
	n=$(dones)
	t0=$(now)
	"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild p >/dev/null || fail "refitctl rebuild"
	tb_wait "[ \$(dones) -gt $n ]" 600 || fail "rebuild on $1: $(sql "$DB" "SELECT error FROM builds ORDER BY id DESC LIMIT 1")"
	t1=$(now)
	[ "$(sql "$DB" "SELECT engine FROM builds WHERE id = (SELECT max(id) FROM builds)")" = "$TB_DOCKER_HOST" ] ||
		fail "the rebuild did not run on $1"
	SLOW=$(slow_step "$(last_log)")
	ELAPSED=$(python3 -c "print('%.3f' % ($t1 - $t0))")
	tb_stop_pid "$TB_DOCKERD_PID"
}

# Replaces team/p:prod in the registry with a classic-builder image of the same context: no
# inline cache metadata, so a cold engine finds nothing to reuse.
strip_cache() {
	DOCKER_BUILDKIT=0 $DOCKER_CLI -H "$A" build -q --network none -t "$R/team/p:prod" "$P" >/dev/null &&
		$DOCKER_CLI -H "$A" push -q "$R/team/p:prod" >/dev/null || fail "strip the registry cache"
}

cli_round() {
	local d t0 t1
	tb_dockerd "$1" >/dev/null || fail "dockerd $1"
	d="$DOCKER_CLI -H $TB_DOCKER_HOST"
	t0=$(now)
	DOCKER_BUILDKIT=1 $d build --progress=plain --pull --network none \
		--build-arg BUILDKIT_INLINE_CACHE=1 --label io.refit.environment=prod \
		-t "$R/cli/p:stamp" "$P" >"$TB_DIR/cli-$1.log" 2>&1 &&
		$d tag "$R/cli/p:stamp" "$R/cli/p:prod" && $d push -q "$R/cli/p:stamp" >/dev/null &&
		$d push -q "$R/cli/p:prod" >/dev/null || fail "cli build on $1"
	t1=$(now)
	ELAPSED=$(python3 -c "print('%.3f' % ($t1 - $t0))")
	SLOW=$(slow_step "$TB_DIR/cli-$1.log")
	tb_stop_pid "$TB_DOCKERD_PID"
}

: >"$TB_DIR/results"
for i in $(seq 1 "$ROUNDS"); do
	refit_round "b$i"
	[ "$SLOW" = CACHED ] || fail "round $i: the slow step ran again with the registry cache"
	with=$ELAPSED
	strip_cache
	refit_round "c$i"
	case $SLOW in ran*) ;; *) fail "round $i: the slow step was cached without the registry cache" ;; esac
	without=$ELAPSED slow=${SLOW#ran }
	cli_round "d$i"
	cli=$ELAPSED
	echo "round $i: refit with the registry cache $with s, without $without s (slow step $slow), docker build CLI without $cli s (slow step ${SLOW#ran })"
	echo "$with $without $cli" >>"$TB_DIR/results"
done
refitd_stop >/dev/null
python3 - "$TB_DIR/results" "$SLOW_MB" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
w, wo, cli = (statistics.median(c) for c in zip(*rows))
print("median of %d (slow step: sha256 of %s MB): refit with the registry cache %.2f s, "
      "without %.2f s, docker build CLI without %.2f s" % (len(rows), sys.argv[2], w, wo, cli))
print("ratio with/without (refit) %.2f; refit with / CLI without %.2f" % (w / wo, w / cli))
PY
