#!/bin/bash
# Contexts Docker accepts: a file name that is not UTF-8 and a tree 1000 directories deep are
# sent as Docker's CLI sends them (names as bytes, PAX records) and built by a real dockerd;
# the image holds both, and no raw non-UTF-8 byte reaches refitd's log.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
C=$TB_DIR/a
mkdir -p "$C"
printf 'x' >"$C/$(printf 'caf\351-\377.txt')"
(cd "$C" && for ((i = 0; i < 1000; i++)); do mkdir d && cd d || exit 1; done && echo b >bottom) ||
	fail "cannot make the deep tree"
cat >"$C/Dockerfile" <<EOF2
FROM $R/refit-test/base:1
COPY . /ctx
RUN test -f "/ctx/\$(printf 'caf\\351-\\377.txt')" && test "\$(find /ctx -name bottom | tr -cd / | wc -c)" = 1002
USER 65534
EOF2
cfg=$TB_DIR/refit.yaml
cat >"$cfg" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
engines: [ { host: $TB_DOCKER_HOST } ]
projects:
  - { name: a, network: none, context: $C, image: $R/team/a, environments: { prod: {} } }
YAML
DB=$TB_DIR/state/state.db
refitd_start "$cfg"
wait_log "project a: rebuild (done|failed)" 300
st=$(sql "$DB" "SELECT status || ' ' || coalesce(error, '') FROM builds WHERE id = 1")
[ "$st" = "succeeded " ] || { cat "$TB_DIR/state/logs/1.log" >&2; fail "build 1: $st"; }
ok "a non-UTF-8 file name and a 1000-deep tree: built, and both are in the image"
LC_ALL=C grep -q $'[\x80-\xff]' "$RD_LOG" && fail "raw non-UTF-8 bytes in refitd's log"
ok "refitd's log holds no raw non-UTF-8 byte"
refitd_stop
