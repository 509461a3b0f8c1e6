#!/bin/sh
# Replays each target's corpus (tests/fuzz/corpus/NAME/) once: no mutation,
# just every stored input through the harness under ASan+UBSan.
set -u
dir=$1; shift
rc=0
for t in "$@"; do
	c=tests/fuzz/corpus/$t
	if [ ! -d "$c" ] || [ -z "$(ls -A "$c")" ]; then
		echo "fuzz-replay: $t has no corpus in $c" >&2; rc=1; continue
	fi
	n=$(ls "$c" | wc -l)
	if "$dir/fuzz_$t" "$c"/* >"$dir/replay-$t.log" 2>&1; then
		printf '  FUZZ    %-40s %s inputs ok\n' "$t" "$n"
	else
		tail -30 "$dir/replay-$t.log"; echo "fuzz-replay: $t FAILED" >&2; rc=1
	fi
done
exit $rc
