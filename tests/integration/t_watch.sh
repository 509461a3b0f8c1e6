#!/bin/bash
# The base-digest watcher against the real registry: first digest recorded,
# a moved base triggers once after the settle window, a digest that flips
# back within the window triggers nothing, every project using a base is
# triggered, one registry that is down does not stall the others.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
tb_base_image refit-test/py:3 || fail "second base image"
R=$TB_REGISTRY
tb_docker tag "$R/refit-test/base:1" "$R/refit-test/amd:1" && tb_docker push "$R/refit-test/amd:1" >/dev/null
tb_index refit-test/multi:1 refit-test/amd:1 refit-test/amd:1 || fail "index"
amd=$(tb_digest refit-test/amd:1) # the index's linux/amd64 manifest

mkdir -p "$TB_DIR/p1" "$TB_DIR/p2"
cat >"$TB_DIR/p1/Dockerfile" <<DF
ARG BASE=$R/refit-test/base:1
FROM \${BASE} AS build
RUN echo build
FROM $R/refit-test/py:3 AS runtime
COPY --from=build /bin/busybox /bin/busybox
FROM runtime AS test
RUN echo test
DF
printf 'FROM 127.0.0.1:1/down/base:1 AS other\nFROM %s/refit-test/base:1\nCOPY --from=other /x /x\n' "$R" >"$TB_DIR/p2/Dockerfile"

mkdir -p "$TB_DIR/p3"
printf 'FROM %s/refit-test/multi:1\n' "$R" >"$TB_DIR/p3/Dockerfile"
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
# no engine answers: triggers stay pending, nothing is built (this test is about the watcher)
engines: [ { host: unix://$TB_DIR/no-engine.sock } ]
poll: { bases: 2s, jitter: 0%, settle: 4s }
projects:
  - name: p1
    network: none
    context: $TB_DIR/p1
    image: $R/team/p1
    environments:
      test: { target: test }
      prod: { target: runtime, requires: test }
  - name: p2
    network: none
    context: $TB_DIR/p2
    image: $R/team/p2
    environments: { prod: {} }
  - { name: p3, network: none, context: $TB_DIR/p3, image: $R/team/p3, environments: { prod: {} } }
YAML
refitd_start "$cfg"
DB=$TB_DIR/state/state.db
d1=$(tb_digest refit-test/base:1)
wait_log "base $R/refit-test/base:1 \(linux/amd64\): $d1" 30
wait_log "base $R/refit-test/py:3 \(linux/amd64\): sha256:" 30
wait_log "watching 4 base image reference" 5
got=$(sql "$DB" "SELECT digest FROM bases WHERE ref = '$R/refit-test/base:1'")
[ "$got" = "$d1" ] || fail "recorded $got, registry says $d1"
n=$(sql "$DB" "SELECT count(*) FROM project_bases WHERE ref = '$R/refit-test/base:1'")
[ "$n" = 2 ] || fail "base:1 should be used by 2 projects, store says $n"
envs=$(sql "$DB" "SELECT envs FROM project_bases WHERE project = 'p1' AND ref = '$R/refit-test/base:1'")
[ "$envs" = "test,prod" ] || fail "p1 uses base:1 in '$envs', expected test,prod (runtime copies from build)"
ok "first digests recorded; usage per project and environment"

# Flip: a new digest, then the old one back before the window closes.
tb_docker tag "$R/refit-test/base:1" "$R/refit-test/base:orig"
tb_base_move refit-test/base:1
wait_log "base $R/refit-test/base:1: new digest" 10
tb_docker tag "$R/refit-test/base:orig" "$R/refit-test/base:1"
tb_docker push "$R/refit-test/base:1" >/dev/null
wait_log "base $R/refit-test/base:1: back to $d1 within the settle window" 10
n=$(sql "$DB" "SELECT count(*) FROM triggers WHERE reasons LIKE '%moved%'")
[ "$n" = 0 ] || fail "a digest that flipped back triggered $n rebuild(s)"
ok "flip-back within the settle window: no trigger"

# A real move: both projects triggered once, after the window, reasons recorded.
tb_base_move refit-test/base:1
d2=$(tb_digest refit-test/base:1)
wait_log "base $R/refit-test/base:1 moved: .* rebuild of 2 project" 20
# (each project's pending "initial" trigger absorbs the reason: one pending rebuild per project)
n=$(sql "$DB" "SELECT count(DISTINCT project) FROM triggers WHERE state = 'pending' AND reasons LIKE '%refit-test/base:1 moved%'")
[ "$n" = 2 ] || fail "expected both projects triggered, got $n"
n=$(sql "$DB" "SELECT count(*) FROM triggers WHERE state = 'pending' AND project IN ('p1', 'p2')")
[ "$n" = 2 ] || fail "expected one pending trigger per project, got $n"
reason=$(sql "$DB" "SELECT reasons FROM triggers WHERE project = 'p2' AND state = 'pending'")
case $reason in *"refit-test/base:1 moved: ${d1:0:19} -> ${d2:0:19}"*) ;; *) fail "reason: $reason" ;; esac
moved=$(sql "$DB" "SELECT changed_at - first_seen > 0 AND digest = '$d2' FROM bases WHERE ref = '$R/refit-test/base:1'")
[ "$moved" = 1 ] || fail "bases row not updated"
ok "moved base triggered both projects once, after the settle window"

# The registry that is down is recorded as an error and polled without stalling.
err=$(sql "$DB" "SELECT error FROM bases WHERE ref = '127.0.0.1:1/down/base:1'")
case $err in *unreachable* | *"backing off"*) ;; *) fail "down registry error: '$err'" ;; esac
ok "down registry recorded as an error"

# A multi-platform index: only the watched platform's (linux/amd64) digest counts.
wait_log "base $R/refit-test/multi:1 \(linux/amd64\): " 10
got=$(sql "$DB" "SELECT digest FROM bases WHERE ref = '$R/refit-test/multi:1'")
idx1=$(sql "$DB" "SELECT index_digest FROM bases WHERE ref = '$R/refit-test/multi:1'")
[ "$got" = "$amd" ] && [ -n "$idx1" ] && [ "$idx1" != "$amd" ] ||
	fail "index: recorded $got (index $idx1), amd64 manifest is $amd"
tb_docker tag "$R/refit-test/amd:1" "$R/refit-test/arm:1" && tb_base_move refit-test/arm:1 # other content
tb_index refit-test/multi:1 refit-test/amd:1 refit-test/arm:1 || fail "index 2"
tb_wait "[ \"\$(sql '$DB' \"SELECT index_digest FROM bases WHERE ref = '$R/refit-test/multi:1'\")\" != '$idx1' ]" 10 ||
	fail "the new index digest was not recorded"
sleep 5 # past the settle window
n=$(sql "$DB" "SELECT count(*) FROM triggers WHERE project = 'p3' AND reasons LIKE '%moved%'")
[ "$n" = 0 ] || fail "a change of the other platform triggered p3"
ok "index: another platform's new manifest moves the index digest and triggers nothing"
tb_index refit-test/multi:1 refit-test/arm:1 refit-test/arm:1 || fail "index 3"
wait_log "base $R/refit-test/multi:1 moved: .* rebuild of 1 project" 20
n=$(sql "$DB" "SELECT count(*) FROM triggers WHERE project = 'p3' AND reasons LIKE '%multi:1 moved%'")
[ "$n" = 1 ] || fail "p3 triggered $n times"
ok "index: the watched platform's new manifest triggers once, after the settle window"
refitd_stop
