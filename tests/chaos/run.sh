#!/bin/bash
# The chaos suite: every scenario of an operator's bad day, listed here and nowhere else
# (SCENARIOS below: script | what it does to refitd | what it asserts). Each scenario is an
# integration test (tests/integration/t_*.sh) that asserts "keeps working, loses nothing,
# says why" and stops all it started by pid and unmounts what it mounted; their fast
# variants run in `make check` with the other integration tests. `make chaos` runs them all
# at full length (CHAOS_FULL=1: 20 kills in the crash loop, the registry down 40 s) with
# refitd under ASan+UBSan, and prints a summary table.
#   tests/chaos/run.sh [NAME...]      (NAME: a script's name without t_ and .sh)
set -u
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
export REFITD=$PWD/$BUILD/refitd REFITCTL=$PWD/$BUILD/refitctl
# valgrind (REFIT_VALGRIND=1) needs a build without sanitizers
if nm -D "$REFITD" 2>/dev/null | grep -q __asan_init; then
	[ "${REFIT_VALGRIND:-0}" = 1 ] && { echo "chaos: $REFITD is an ASan build: no valgrind" >&2; exit 2; }
	export REFIT_VALGRIND=0
fi
SCENARIOS=(
	"t_chaos_crash|crash loop: random kill -9 during rebuild rounds (5; 20 full)|every accepted trigger built on the final base, every stamp tag a successful build (or, said as a NOTE, one pushed by a build killed before its success was recorded), integrity_check ok, interrupted builds say why"
	"t_restart|kill -9 in the middle of one build|interrupted, run again after the restart, one stamp tag pushed"
	"t_reload|SIGHUP storms (200) during builds, projects moved and dropped|no sanitizer report, every rebuild ends once, nothing left running"
	"t_chaos_dockerd|dockerd killed mid-build, started again|the build's error says why, the rebuild runs again and succeeds, no row left running, one stamp tag per success"
	"t_chaos_registry|registry killed mid-push, started again after 2 s (40 s full)|the push is retried (by the engine) and succeeds, stamp tags = successful builds, ENV tag = last digest"
	"t_diskfull|state_dir on a tmpfs that fills during a build|POST 503 with the reason, /healthz degraded, outcome and base change recorded once space returns, no build unrecorded"
	"t_logs_unwritable|state_dir/logs a file, then immutable|the build succeeds and pushes, a warning, log_error on the build"
	"t_chaos_store|a damaged page, a foreign SQLite file, an immutable state.db|refused at start with the reason, the file untouched"
	"t_api_flood|10,000 idle and half-sent connections from 40 addresses|every /healthz probe answered (90 % < 1 s), descriptors bounded"
	"t_api_errors|oversized heads, bad methods, malformed request lines|every error refitd sends is the JSON error; what libmicrohttpd still sends itself listed"
	"t_chaos_feed|a feed mirror serving garbage (truncated, not JSON, HTML, past the size bounds)|the error on /v1/status and /v1/feeds, advisories and watermark kept, RSS bounded, cleared by a good poll"
	"t_context_odd|contexts Docker accepts: non-UTF-8 names, 1000-deep trees|built as Docker builds them, no raw bytes in the log"
)
want=("$@")
rows=() pass=0 fail=0
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r name what asserts <<<"$s"
	if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx "${name#t_}"; then
		continue
	fi
	log=$BUILD/chaos-$name.log
	start=$SECONDS
	if CHAOS_FULL=${CHAOS_FULL:-1} bash "tests/integration/$name.sh" >"$log" 2>&1; then
		res=ok pass=$((pass + 1))
		# what the scenario had to do about the test bed itself (e.g. a wedged dockerd)
		note=$(grep -m1 '^NOTE:' "$log" | cut -c7-)
		[ -n "$note" ] && res="ok ($note)"
	else
		res=FAILED fail=$((fail + 1))
		tail -20 "$log"
	fi
	printf '  CHAOS   %-22s %s (%ss)\n' "$name" "$res" $((SECONDS - start))
	rows+=("$name|$what|$asserts|$res|$((SECONDS - start))")
done
echo
echo "| scenario | what it does | what it asserts | result | s |"
echo "|---|---|---|---|---|"
for r in "${rows[@]}"; do
	IFS='|' read -r name what asserts res secs <<<"$r"
	echo "| $name | $what | $asserts | $res | $secs |"
done
echo "chaos: $pass passed, $fail failed (logs: $BUILD/chaos-*.log)"
[ "$fail" -eq 0 ]
