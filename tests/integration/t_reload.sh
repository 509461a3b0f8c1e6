#!/bin/bash
# Chaos: SIGHUP storms while rebuilds run (issue 13). The configuration flips
# between two files with the same engine: one has projects a and b, the other
# drops b, adds c and reorders the rest, so every reload moves the running
# rebuilds' projects to other places (and b leaves and comes back while its
# rebuild runs). refitd runs from the AddressSanitizer build when there is one
# (else under valgrind): every rebuild ends, each once, nothing is left
# running, and the process stops cleanly.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
for p in a b; do
	mkdir -p "$TB_DIR/$p"
	date +%s%N >"$TB_DIR/$p/stamp"
	printf 'FROM %s/refit-test/base:1\nCOPY stamp /stamp\nRUN sleep 3\nUSER 65534\n' "$R" \
		>"$TB_DIR/$p/Dockerfile"
done
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
conf() { # conf FILE PROJECT...
	local f=$1 p
	shift
	{
		echo "state_dir: $TB_DIR/state"
		echo "listen: 127.0.0.1:0"
		echo "api_token_file: $TB_DIR/token"
		echo "engines: [ { host: $TB_DOCKER_HOST, max_builds: 3 } ]"
		echo "projects:"
		for p in "$@"; do
			echo "  - { name: $p, network: none, context: $TB_DIR/${p/c/a}, image: $R/team/$p, environments: { prod: {} } }"
		done
	} >"$f"
}
conf "$TB_DIR/one.yaml" a b
conf "$TB_DIR/two.yaml" c a
cfg=$TB_DIR/refit.yaml
cp "$TB_DIR/one.yaml" "$cfg"
DB=$TB_DIR/state/state.db

SAN=$(dirname "$REFITD")/san/refitd
if [ -x "$SAN" ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66
	REFITD=$SAN REFIT_VALGRIND=0 refitd_start "$cfg"
	ok "refitd from the AddressSanitizer build ($SAN)"
else
	refitd_start "$cfg"
fi
wait_log "REST API listening on " 60
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)

# storm N: N SIGHUPs 50 ms apart, flipping the file (renamed into place, as an
# editor or a configuration manager does); ends on one.yaml.
storm() {
	local i
	for ((i = 0; i < $1; i++)); do
		if ((i % 2 == 0 && i < $1 - 1)); then f=two; else f=one; fi
		cp "$TB_DIR/$f.yaml" "$cfg.tmp" && mv "$cfg.tmp" "$cfg"
		kill -HUP "$RD_PID" || fail "refitd is gone during the storm"
		sleep 0.05
	done
}

wait_log "project a: rebuild started" 60
wait_log "project b: rebuild started" 60
storm 100
wait_log "project a: rebuild done" 120
wait_log "project b.*rebuild done" 120
ok "the first rebuilds survived 100 reloads"

for p in a b; do date +%s%N >"$TB_DIR/$p/stamp"; done
for p in a b; do
	"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild "$p" >/dev/null ||
		fail "refitctl rebuild $p"
done
tb_wait "[ \$(grep -c 'project a: rebuild started' '$RD_LOG') -ge 2 ]" 60 || fail "no second build of a"
storm 100
tb_wait "[ \$(grep -cE 'project a: rebuild (done|failed)' '$RD_LOG') -ge 2 ]" 120 ||
	fail "the second build of a did not end"
tb_wait "[ \$(sql '$DB' \"SELECT count(*) FROM builds WHERE status = 'running'\") = 0 ]" 120 ||
	fail "builds left running: $(sql "$DB" "SELECT group_concat(project || ':' || id) FROM builds WHERE status = 'running'")"
kill -0 "$RD_PID" 2>/dev/null || fail "refitd died"
grep -q "AddressSanitizer\|runtime error" "$RD_LOG" && { cat "$RD_LOG" >&2; fail "sanitizer report"; }
n=$(grep -c "configuration reloaded" "$RD_LOG")
[ "$n" -ge 150 ] || fail "only $n of 200 reloads were applied"
ok "200 reloads during two rounds of rebuilds: $n applied, no sanitizer report, nothing left running"
bad=$(sql "$DB" "SELECT count(*) FROM triggers WHERE state = 'running'")
[ "$bad" = 0 ] || fail "$bad trigger(s) left running"
refitd_stop
grep -q "AddressSanitizer\|runtime error" "$RD_LOG" && { cat "$RD_LOG" >&2; fail "sanitizer report at exit"; }
ok "stopped cleanly"
