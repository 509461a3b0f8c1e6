#!/bin/bash
# Runs every tests/bench/bench_*.sh (or those named) against $BUILD's binaries
# and prints their reports; benchmarks report ratios against a reference
# measured in the same run.
set -u
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
export REFITD=$PWD/$BUILD/refitd REFITCTL=$PWD/$BUILD/refitctl
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(tests/bench/bench_*.sh)
rc=0
for b in "${benches[@]}"; do
	echo "== $(basename "$b")"
	bash "$b" || { echo "$(basename "$b") FAILED"; rc=1; }
done
exit $rc
