# Shared helpers of the integration tests: start refitd (under valgrind when
# REFIT_VALGRIND=1 or valgrind is installed and REFIT_VALGRIND is unset),
# wait for log lines, assert.
. "$(dirname "${BASH_SOURCE[0]}")/../testbed/testbed.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# tb_standard_bed: what most tests start from: a private dockerd, a registry and the busybox
# base image refit-test/base:1 in it; $R is the registry's host:port.
tb_standard_bed() {
	tb_dockerd || fail "dockerd did not start"
	tb_registry || fail "registry did not start"
	tb_base_image refit-test/base:1 || fail "base image"
	R=$TB_REGISTRY
}

# refitd_start CONFIG: starts refitd -d -c CONFIG in the background; $RD_PID, $RD_LOG.
refitd_start() {
	RD_LOG=$TB_DIR/refitd.log
	local vg=()
	RD_VG=
	if [ "${REFIT_VALGRIND:-auto}" != 0 ] && command -v valgrind >/dev/null; then
		RD_VG=$TB_DIR/valgrind.log
		vg=(valgrind --quiet --error-exitcode=99 --leak-check=full
			--show-leak-kinds=definite,indirect,possible
			--errors-for-leak-kinds=definite,indirect,possible
			--track-fds=no --log-file="$RD_VG")
	fi
	"${vg[@]}" "$REFITD" -d -c "$1" >"$RD_LOG" 2>&1 &
	RD_PID=$!
	TB_PIDS+=($RD_PID)
}

# wait_log PATTERN [SECONDS]: waits until refitd's log matches (grep -E).
wait_log() {
	tb_wait "grep -qE '$1' '$RD_LOG'" "${2:-30}" || { cat "$RD_LOG" >&2; fail "no log line /$1/"; }
}

# refitd_stop: SIGTERM, expects exit 0 within 20 s and a clean valgrind report.
refitd_stop() {
	local i rc
	kill -TERM "$RD_PID"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$RD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$RD_PID" 2>/dev/null && fail "refitd did not stop within 20 s of SIGTERM"
	wait "$RD_PID"
	rc=$?
	if [ -s "${RD_VG:-/nonexistent}" ]; then
		cat "$RD_VG" >&2
		fail "valgrind reported errors or leaks (exit $rc)"
	fi
	[ "$rc" -eq 0 ] || { tail -20 "$RD_LOG" >&2; fail "refitd exited with $rc"; }
	ok "refitd stopped cleanly (exit 0${RD_VG:+, valgrind clean})"
}

# sql DB QUERY: prints the first column of the first row (python3's sqlite3, read-only).
sql() {
	python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
row = db.execute(sys.argv[2]).fetchone()
print("" if row is None else row[0])
PY
}
