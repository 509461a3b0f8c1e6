#!/bin/bash
# Runs every tests/integration/t_*.sh (or those named as arguments) against
# the binaries in $BUILD, each in its own test bed. Fails when any fails.
#
# INTEG_JOBS tests run at a time (default 2): each has its own private dockerd,
# registry and ports, and most of a test's time is spent waiting on them, so two
# at a time take about half as long on a 2-CPU machine. The tests that measure
# load themselves (floods, storms, crash loops) run afterwards, alone.
set -u
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
export REFITD=$PWD/$BUILD/refitd REFITCTL=$PWD/$BUILD/refitctl
JOBS=${INTEG_JOBS:-2}
ALONE=" t_api_flood.sh t_reload.sh t_reload_clients.sh t_chaos_crash.sh "
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	tests=(tests/integration/t_*.sh)
	for b in "${INTEG_BIN_DIR:-$BUILD/tests/integration}"/test_*; do
		[ -x "$b" ] && tests+=("$b")
	done
fi
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# run_one TEST: runs it, logs to $BUILD/integration-NAME.log, prints its line
run_one() {
	local t=$1 name start log run res
	name=$(basename "$t" .sh)
	log=$BUILD/integration-$name.log
	start=$(date +%s)
	case $t in *.sh) run=(bash "$t") ;; *) run=("$t") ;; esac
	if "${run[@]}" >"$log" 2>&1; then
		res=ok
		touch "$results/$name.ok"
	else
		res=FAILED
		touch "$results/$name.failed"
		tail -40 "$log"
	fi
	printf '  INTEG   %-40s %s (%ss)\n' "$(basename "$t")" "$res" $(($(date +%s) - start))
}

together=() alone=()
for t in "${tests[@]}"; do
	case "$ALONE" in *" $(basename "$t") "*) alone+=("$t") ;; *) together+=("$t") ;; esac
done
running=0
for t in "${together[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$t" &
	running=$((running + 1))
done
wait
for t in "${alone[@]}"; do
	run_one "$t"
done

pass=$(find "$results" -name '*.ok' | wc -l)
fail=$(find "$results" -name '*.failed' | wc -l)
echo "integration: $pass passed, $fail failed"
if [ "$fail" -ne 0 ]; then
	echo "integration: failed: $(cd "$results" && ls *.failed | sed 's/\.failed$//' | tr '\n' ' ')(logs in $BUILD/)"
	exit 1
fi
