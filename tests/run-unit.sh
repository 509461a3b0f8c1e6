#!/bin/sh
# Runs each cmocka binary given as argument from the repository root and
# summarises. Fails when any binary fails.
set -u
pass=0; fail=0; failed=""
for t in "$@"; do
	if out=$("$t" 2>&1); then
		pass=$((pass + 1))
		n=$(printf '%s\n' "$out" | sed -n 's/.*PASSED *\] *\([0-9]*\) test.*/\1/p' | tail -1)
		printf '  UNIT    %-40s ok (%s tests)\n' "${t##*/}" "${n:-?}"
	else
		fail=$((fail + 1)); failed="$failed ${t##*/}"
		printf '%s\n' "$out"
		printf '  UNIT    %-40s FAILED\n' "${t##*/}"
	fi
done
echo "unit: $pass binaries passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "unit: failed:$failed"; exit 1; }
