#!/bin/bash
# Runs every tests/integration/t_*.sh (or those named as arguments) against
# the binaries in $BUILD, each in its own test bed. Fails when any fails.
set -u
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
export REFITD=$PWD/$BUILD/refitd REFITCTL=$PWD/$BUILD/refitctl
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	tests=(tests/integration/t_*.sh)
	for b in "${INTEG_BIN_DIR:-$BUILD/tests/integration}"/test_*; do
		[ -x "$b" ] && tests+=("$b")
	done
fi
pass=0 fail=0 failed=""
for t in "${tests[@]}"; do
	start=$(date +%s)
	log=$BUILD/integration-$(basename "$t" .sh).log
	case $t in *.sh) run=(bash "$t") ;; *) run=("$t") ;; esac
	if "${run[@]}" >"$log" 2>&1; then
		pass=$((pass + 1)); res=ok
	else
		fail=$((fail + 1)); failed="$failed $(basename "$t")"; res=FAILED
		tail -40 "$log"
	fi
	printf '  INTEG   %-40s %s (%ss)\n' "$(basename "$t")" "$res" $(($(date +%s) - start))
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "integration: failed:$failed (logs in $BUILD/)"; exit 1; }
