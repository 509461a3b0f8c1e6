#!/bin/bash
# state_dir on a small tmpfs that fills up during a build (the WAL truncated first, so that
# every SQLite write needs new room): POST answers 503 with the reason, /healthz is degraded,
# the build that finishes meanwhile is recorded once space returns (never left running), the
# rebuild queued behind it is not started until then, never "build 0"; no spurious ROLLBACK
# error. A base that moves while the disk is full is not lost: the watcher says it could not
# record it, sees the change again at its next poll, and once space returns the change is
# recorded (its trigger) and built once. Then a context larger than the free space fails
# with an error that says the filesystem is full.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
ST=$TB_DIR/state
mkdir -p "$ST" "$TB_DIR/a"
mount -t tmpfs -o size=24m tmpfs "$ST" || fail "cannot mount a tmpfs (root needed)"
printf 'FROM %s/refit-test/base:1\nRUN sleep 8\nUSER 65534\n' "$R" >"$TB_DIR/a/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $ST
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 2s, settle: 0s }
projects:
  - { name: a, network: none, context: $TB_DIR/a, image: $R/team/a, environments: { prod: {} } }
YAML
DB=$ST/state.db
# until CMD SECONDS: by the clock (each try runs python: tb_wait's count of tries would stretch)
until_t() { local end=$((SECONDS + $2)); while ((SECONDS < end)); do eval "$1" && return 0; sleep 0.5; done; return 1; }
REFIT_VALGRIND=0 refitd_start "$cfg"
wait_log "REST API listening on" 30
port=$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
api() { curl -s -m 5 -o "$TB_DIR/body" -w '%{http_code}' "$@"; }
post() { api -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" -H 'Content-Type: application/json' -d '{"reason":"t"}' "http://127.0.0.1:$port/v1/projects/a/rebuild"; }
wait_log "project a: rebuild started" 60
tb_wait "grep -qE 'RUN sleep 8|Running in' '$ST/logs/1.log'" 30 || fail "the build did not get going"
[ "$(post)" = 202 ] || fail "a rebuild could not be queued before the disk filled: $(cat "$TB_DIR/body")"
until_t '[ -n "$(sql "$DB" "SELECT digest FROM bases")" ]' 20 ||
	fail "the base's digest was not recorded before the disk filled"

# Fill the disk: the WAL emptied first, so that the next commit needs new room.
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null || fail "checkpoint"
dd if=/dev/zero of="$ST/fill" bs=64k status=none 2>/dev/null
[ "$(df --output=avail "$ST" | tail -1)" -lt 64 ] || fail "the tmpfs did not fill"
code=$(post)
[ "$code" = 503 ] || fail "POST on a full disk answered $code: $(cat "$TB_DIR/body")"
grep -q '"store_unavailable"' "$TB_DIR/body" && grep -q 'full' "$TB_DIR/body" ||
	fail "POST error does not say the store is full: $(cat "$TB_DIR/body")"
ok "POST on a full disk: 503 $(cat "$TB_DIR/body")"
code=$(api "http://127.0.0.1:$port/healthz")
grep -q '"degraded"' "$TB_DIR/body" && grep -q 'cannot be written' "$TB_DIR/body" ||
	fail "/healthz on a full disk ($code): $(cat "$TB_DIR/body")"
ok "/healthz on a full disk: $code $(cat "$TB_DIR/body")"
curl -s "http://127.0.0.1:$port/metrics" | grep -q '^refit_store_write_failing 1' || fail "metric"

# The base moves while the disk is full: the change cannot be recorded, and is not lost.
old_base=$(tb_digest refit-test/base:1)
tb_base_move refit-test/base:1 2>/dev/null || fail "base move"
new_base=$(tb_digest refit-test/base:1)
[ -n "$new_base" ] && [ "$new_base" != "$old_base" ] || fail "the base did not move"
wait_log "watcher: could not record [^ ]*refit-test/base:1: .*; it is checked again at the next poll" 30
[ "$(sql "$DB" "SELECT count(*) FROM triggers WHERE reasons LIKE '%moved%'")" = 0 ] ||
	fail "a base trigger was recorded on a full disk?"
ok "a base change on a full disk: $(grep -o 'watcher: could not record.*' "$RD_LOG" | head -1)"

wait_log "build 1 succeeded, but the store cannot write it now" 120
sleep 3
st=$(sql "$DB" "SELECT status FROM builds WHERE id = 1")
[ "$st" = running ] || fail "build 1 is '$st' while the disk is full (its update cannot have been written)"
# The rebuild queued behind it does not start while the store cannot write (or, when the
# INSERT of its row is the first write to fail, stops there: "not started: the store could
# not record a new build"); either way no build runs unrecorded.
n=$(sql "$DB" "SELECT count(*) FROM builds")
[ "$n" = 1 ] || fail "$n build rows while the disk is full"
grep -q "project a (prod): build 2 " "$RD_LOG" && fail "a build ran while the store could not record it"
ok "build 1 ended while the disk was full; the rebuild behind it was not started"

rm -f "$ST/fill"
until_t '[ "$(sql "$DB" "SELECT status FROM builds WHERE id = 1")" = succeeded ]' 20 ||
	fail "build 1 still '$(sql "$DB" "SELECT status FROM builds WHERE id = 1")' after space returned"
d=$(sql "$DB" "SELECT digest FROM builds WHERE id = 1")
[ -n "$d" ] || fail "build 1 has no digest recorded"
code=$(api "http://127.0.0.1:$port/healthz")
sleep 1.2 # /healthz is kept for a second
code=$(api "http://127.0.0.1:$port/healthz")
grep -q '"ok"' "$TB_DIR/body" || fail "/healthz after space returned: $(cat "$TB_DIR/body")"
ok "space back: build 1 recorded as succeeded ($d), /healthz ok"
wait_log "project a: rebuild done" 5
until_t '[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE status = '"'succeeded'"'")" -ge 2 ]' 240 ||
	fail "the queued rebuild did not run once space returned: $(sql "$DB" "SELECT group_concat(status) FROM builds")"
# The base change seen again and recorded once space returned, and built on the new base.
until_t '[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE status = '"'succeeded'"' AND base_digest = '"'$new_base'"'")" -ge 1 ]' 240 ||
	fail "no build on the base that moved while the disk was full: $(sql "$DB" "SELECT group_concat(id || ' ' || status || ' ' || coalesce(base_digest, ''), '; ') FROM builds")"
until_t '[ "$(sql "$DB" "SELECT count(*) FROM triggers WHERE state = '"'pending'"'") $(sql "$DB" "SELECT count(*) FROM builds WHERE status IN ('"'running'"', '"'queued'"')")" = "0 0" ]' 240 ||
	fail "triggers or builds left pending"
nt=$(sql "$DB" "SELECT count(*) FROM triggers WHERE reasons LIKE '%refit-test/base:1 moved%'")
[ "$nt" = 1 ] || fail "the base change recorded $nt times"
grep -q "refit-test/base:1 moved: .*rebuild of 1 project(s) triggered" "$RD_LOG" || fail "no base trigger in the log"
nb=$(sql "$DB" "SELECT count(*) FROM builds")
ok "the base change was recorded once space returned (1 trigger) and built on $new_base ($nb builds in all)"
grep -q "build 0" "$RD_LOG" && fail "the log speaks of build 0"
grep -q "cannot rollback" "$RD_LOG" && fail "spurious ROLLBACK error in the log"
ok "the rebuild queued behind it ran once space returned; no build 0, no ROLLBACK error"

# A context larger than the free space.
head -c 8M /dev/urandom >"$TB_DIR/a/blob"
avail=$(df --output=avail -B1 "$ST" | tail -1)
fallocate -l $((avail - 2 * 1024 * 1024)) "$ST/fill" || fail "fallocate"
[ "$(post)" = 202 ] || fail "POST: $(cat "$TB_DIR/body")"
wait_log "writing the build context to .* failed at blob: No space left on device \(the filesystem of state_dir is full\)" 60
ok "a context larger than the free space: $(grep -o "writing the build context[^;]*full)" "$RD_LOG" | tail -1)"
rm -f "$ST/fill"
refitd_stop
umount "$ST" || fail "umount"
