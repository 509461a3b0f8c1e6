#!/bin/bash
# Chaos: SIGHUP storms that replace everything a reload can replace while
# rebuilds, base polls, feed rounds and webhook deliveries are in flight.
# Three files in turn:
#   one:   max_builds 3, no registries: entry, a webhook, projects a b
#   two:   max_builds 2 (the engines restart), a registries: entry for the
#          registry (the credentials, the registry pool and the watcher are
#          made again), a feed, another webhook
#   three: as two for engines and registries, projects b a and c (the live
#          watcher drops references whose lookups run), no feed, no webhook
# Bases are polled every second meanwhile. refitd runs from the
# AddressSanitizer build when there is one (else under valgrind): no report,
# every rebuild ends, nothing is left running; after the storm the last
# clients work (a base that moves triggers its projects), and the process
# stops cleanly (LeakSanitizer: nothing a reload dropped is left behind).
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_standard_bed # private dockerd, registry, base image; $R
tb_httpd "$TB_DIR" || fail "httpd did not start"
R=$TB_REGISTRY
for p in a b; do
	mkdir -p "$TB_DIR/$p"
	date +%s%N >"$TB_DIR/$p/stamp"
	printf 'FROM %s/refit-test/base:1\nCOPY stamp /stamp\nRUN sleep 1\nUSER 65534\n' "$R" \
		>"$TB_DIR/$p/Dockerfile"
done
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
conf() { # conf FILE MAX_BUILDS REGISTRIES(0|1) FEED(0|1) HOOK(name|"") PROJECT...
	local f=$1 max=$2 reg=$3 feed=$4 hook=$5 p
	shift 5
	{
		echo "state_dir: $TB_DIR/state"
		echo "listen: 127.0.0.1:0"
		echo "api_token_file: $TB_DIR/token"
		echo "poll: { bases: 1s, settle: 0s, jitter: 0% }"
		echo "engines: [ { host: $TB_DOCKER_HOST, max_builds: $max } ]"
		[ "$reg" = 1 ] && echo "registries: [ { host: \"$R\", insecure: true } ]"
		[ "$feed" = 1 ] && echo "feeds: [ { name: osv, type: osv, url: \"$TB_HTTP/osv\" } ]"
		[ -n "$hook" ] && echo "notify: [ { webhook: \"$TB_HTTP/_t/record/$hook\" } ]"
		echo "projects:"
		for p in "$@"; do
			echo "  - { name: $p, network: none, context: $TB_DIR/${p/c/a}, image: $R/team/$p, environments: { prod: {} } }"
		done
	} >"$f"
}
conf "$TB_DIR/one.yaml" 3 0 0 one a b
conf "$TB_DIR/two.yaml" 2 1 1 two a b
conf "$TB_DIR/three.yaml" 2 1 0 "" b a c
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

# storm N: N SIGHUPs 60 ms apart, the files in turn (renamed into place); ends on one.yaml.
storm() {
	local i names=(two three one)
	for ((i = 0; i < $1; i++)); do
		f=${names[i % 3]}
		((i == $1 - 1)) && f=one
		cp "$TB_DIR/$f.yaml" "$cfg.tmp" && mv "$cfg.tmp" "$cfg"
		kill -HUP "$RD_PID" || fail "refitd is gone during the storm"
		sleep 0.06
	done
}

wait_log "project a: rebuild started" 60
wait_log "project b: rebuild started" 60
storm 150
n=$(grep -c "configuration reloaded" "$RD_LOG")
[ "$n" -ge 100 ] || fail "only $n of 150 reloads were applied"
ok "150 reloads replacing engines, registry clients, watcher, feeds and webhooks: $n applied"

for p in a b; do
	tb_wait "grep -qE 'project $p: rebuild done' '$RD_LOG'" 180 || fail "no rebuild of $p ended well"
done
tb_wait "[ \$(sql '$DB' \"SELECT count(*) FROM builds WHERE status = 'running'\") = 0 ]" 120 ||
	fail "builds left running: $(sql "$DB" "SELECT group_concat(project || ':' || id) FROM builds WHERE status = 'running'")"
ok "the rebuilds of a and b ended after the storm; nothing left running"

# The last clients work: a base that moves is seen and triggers both projects.
before=$(grep -c "rebuild started" "$RD_LOG")
tb_base_move refit-test/base:1 || fail "base move"
wait_log "base $R/refit-test/base:1 moved: " 60
tb_wait "[ \$(grep -c 'rebuild started' '$RD_LOG') -ge $((before + 2)) ]" 60 ||
	fail "the moved base did not trigger a and b"
tb_wait "[ \$(sql '$DB' \"SELECT count(*) FROM builds WHERE status = 'running'\") = 0 ]" 120 ||
	fail "the base-triggered builds did not end"
ok "after the storm, the watcher and registry clients of the last configuration work"

kill -0 "$RD_PID" 2>/dev/null || fail "refitd died"
grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$RD_LOG" &&
	{ cat "$RD_LOG" >&2; fail "sanitizer report"; }
refitd_stop
grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$RD_LOG" &&
	{ cat "$RD_LOG" >&2; fail "sanitizer report at exit"; }
ok "stopped cleanly"
