#!/bin/bash
# Chaos: damaged or foreign state. refitd is started on (1) its own state.db with one page
# overwritten, (2) an unrelated SQLite file of another application, (3) an immutable
# state.db (where the filesystem has the attribute). Each time it refuses to start, exit
# status non-zero, with a message that says what is wrong, and leaves the file as it was
# (same bytes, no WAL switched on, no table added).
set -u
. "$(dirname "$0")/lib.sh"
export REFIT_VALGRIND=${REFIT_VALGRIND:-0}
tb_init
mkdir -p "$TB_DIR/ctx"
echo 'FROM scratch' >"$TB_DIR/ctx/Dockerfile"
conf() { # conf STATE_DIR
	cat >"$TB_DIR/refit.yaml" <<-YAML
		state_dir: $1
		listen: 127.0.0.1:0
		engines: [ { host: unix://$TB_DIR/no-engine.sock } ]
		projects:
		  - { name: a, context: $TB_DIR/ctx, image: reg.test/a, environments: { prod: {} } }
	YAML
}
refused() { # refused NAME DB PATTERN: refitd exits non-zero saying PATTERN; DB unchanged
	local sum rc
	sum=$(sha256sum "$2" | cut -d' ' -f1)
	timeout 60 "$REFITD" -d -c "$TB_DIR/refit.yaml" >"$TB_DIR/out" 2>&1
	rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || { cat "$TB_DIR/out" >&2; fail "$1: refitd exited $rc"; }
	grep -qE "$3" "$TB_DIR/out" || { cat "$TB_DIR/out" >&2; fail "$1: no message matching /$3/"; }
	[ "$(sha256sum "$2" | cut -d' ' -f1)" = "$sum" ] || fail "$1: the file was modified"
	[ -e "$2-wal" ] && fail "$1: a WAL was created beside it"
	ok "$1: refused (exit $rc): $(grep -E "$3" "$TB_DIR/out" | head -1 | cut -c1-200)"
}

# (1) refit's own file, one page overwritten.
conf "$TB_DIR/s1"
refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening on" 60
refitd_stop
DB=$TB_DIR/s1/state.db
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE" >/dev/null
pages=$(sqlite3 "$DB" "PRAGMA page_count")
[ "$pages" -ge 4 ] || fail "only $pages pages"
ps=$(sqlite3 "$DB" "PRAGMA page_size")
head -c "$ps" /dev/urandom | dd of="$DB" bs="$ps" seek=3 conv=notrunc status=none
refused "a damaged page" "$DB" "damaged|malformed|quick_check"

# (2) another application's database.
mkdir -p "$TB_DIR/s2"
sqlite3 "$TB_DIR/s2/state.db" "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers(name) VALUES ('x')"
conf "$TB_DIR/s2"
refused "a foreign database" "$TB_DIR/s2/state.db" "another application|not refit|foreign"
[ "$(sqlite3 "$TB_DIR/s2/state.db" "SELECT count(*) FROM sqlite_master")" = 1 ] || fail "tables were added"

# (3) an immutable state.db.
mkdir -p "$TB_DIR/s3"
conf "$TB_DIR/s3"
mv "$TB_DIR/refitd.log" "$TB_DIR/refitd.log.1" # wait_log must see the new start's line
REFIT_VALGRIND=0 refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening on" 60
refitd_stop
sqlite3 "$TB_DIR/s3/state.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f "$TB_DIR/s3/state.db-wal" "$TB_DIR/s3/state.db-shm"
if chattr +i "$TB_DIR/s3/state.db" 2>/dev/null; then
	# in a subshell, so that the attribute is taken off even when it fails
	(refused "an immutable state.db" "$TB_DIR/s3/state.db" "read-only|cannot be opened for writing|immutable")
	rc=$?
	chattr -i "$TB_DIR/s3/state.db"
	[ "$rc" = 0 ] || exit 1
else
	ok "an immutable state.db: skipped (no immutable attribute on this filesystem)"
fi
