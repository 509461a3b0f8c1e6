#!/bin/bash
# Chaos: a feed mirror that returns garbage. After a good first load of a synthetic OSV
# mirror (tb_httpd), each round damages what the next poll reads: a truncated record,
# a record that is not JSON, a record of the wrong shape, an HTML page (text/html) where the
# CSV index should be, a record served as text/html, a record past the 4 MiB bound and an
# index past the 64 MiB bound. After each: the error is said on /v1/status (feeds.failing,
# with the feed, scope and reason) and /v1/feeds, the advisories and the watermark are those
# of the last good poll, refitd stays up with its memory bounded. A good mirror again
# clears the error and its changes are taken.
set -u
. "$(dirname "$0")/lib.sh"
export REFIT_VALGRIND=${REFIT_VALGRIND:-0}
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
tb_base_image refit-test/base:1 || fail "base image"
R=$TB_REGISTRY
M=$TB_DIR/mirror/PyPI
python3 "$(dirname "$0")/../testbed/osvgen.py" "$TB_DIR/mirror" --records 200 || fail "mirror"
tb_httpd "$TB_DIR/mirror" || fail "httpd did not start"
mkdir -p "$TB_DIR/p/site-packages/requests-2.25.0.dist-info"
printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n' \
	>"$TB_DIR/p/site-packages/requests-2.25.0.dist-info/METADATA"
printf 'FROM %s/refit-test/base:1\nCOPY site-packages/ /usr/local/lib/python3.11/site-packages/\nUSER 65534\n' \
	"$R" >"$TB_DIR/p/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST } ]
poll: { bases: 1h, feeds: 1h, settle: 0s }
feeds:
  - { name: osv, type: osv, url: $TB_HTTP }
projects:
  - { name: p, network: none, context: $TB_DIR/p, image: $R/team/p, environments: { prod: {} } }
YAML
DB=$TB_DIR/state/state.db
refitd_start "$TB_DIR/refit.yaml"
wait_log "REST API listening" 60
API=http://127.0.0.1:$(sed -n 's/.*REST API listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$RD_LOG" | head -1)
wait_log "project p: rebuild done" 120
wait_log "feed osv/PyPI: [0-9]+ advisory rows changed" 60
good=$(sql "$DB" "SELECT count(*) FROM advisories")
[ "$good" -ge 200 ] || fail "first load: $good advisories"
ok "first load: $good advisories"

round=0
mkdir -p "$TB_DIR/good"
next_round() { # the damage undone, then the mirror's next churn round: one record changed
	round=$((round + 1))
	cp "$TB_DIR"/good/* "$M"/ 2>/dev/null
	rm -f "$M"/*.ctype
	python3 "$(dirname "$0")/../testbed/osvgen.py" "$TB_DIR/mirror" --records 200 --round $round --changed 1
	CHANGED=$M/CHURN-$round.json
	cp "$CHANGED" "$M/modified_id.csv" "$TB_DIR/good/"
}
poll() { curl -s -o /dev/null -X POST -H "Authorization: Bearer $(cat "$TB_DIR/token")" "$API/v1/feeds/poll"; }
failing() { # prints feeds.failing of /v1/status as "feed/scope: error" lines
	curl -s "$API/v1/status" | python3 -c '
import json, sys
for f in json.load(sys.stdin)["feeds"]["failing"]:
    print("%s/%s: %s" % (f["feed"], f["scope"], f["error"]))'
}
summary() { echo "$(sql "$DB" "SELECT count(*) FROM advisories") $(sql "$DB" "SELECT watermark FROM feeds WHERE scope = 'PyPI'")"; }
maxrss=0
garbage() { # garbage NAME PATTERN: polls, waits for the error PATTERN, checks nothing moved
	local before
	before=$(summary)
	poll
	tb_wait "failing | grep -qE '$2'" 60 || { failing >&2; fail "$1: no error matching /$2/ on /v1/status"; }
	[ "$(summary)" = "$before" ] || fail "$1: the advisories or the watermark moved ($before -> $(summary))"
	kill -0 "$RD_PID" 2>/dev/null || fail "$1: refitd died"
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$RD_PID/status")
	((rss > maxrss)) && maxrss=$rss
	ok "$1: said ($(failing | head -1 | cut -c1-160)); $(summary | cut -d' ' -f1) advisories kept"
}

next_round; head -c 100 "$CHANGED" >"$CHANGED.t" && mv "$CHANGED.t" "$CHANGED"
garbage "truncated record" "osv/PyPI: .*CHURN-$round"
next_round; echo '{"id": "CHURN-'$round'", oops' >"$CHANGED"
garbage "a record that is not JSON" "osv/PyPI: .*CHURN-$round"
next_round; echo '["CHURN-'$round'"]' >"$CHANGED"
garbage "a record of the wrong shape" "osv/PyPI: .*CHURN-$round"
next_round; printf '<html><body>Please log in</body></html>\n' >"$CHANGED"; echo text/html >"$CHANGED.ctype"
garbage "an HTML page served as text/html for a record" "osv/PyPI: .*CHURN-$round"
next_round
printf '<!doctype html>\n<html><head><title>Portal</title></head><body>Sign in to continue</body></html>\n' >"$M/modified_id.csv"
echo 'text/html; charset=utf-8' >"$M/modified_id.csv.ctype"
garbage "an HTML page (text/html) for the index" "osv/PyPI: .*modified_id.csv"
cp "$TB_DIR/good/modified_id.csv" "$M/modified_id.csv"; rm -f "$M/modified_id.csv.ctype"
python3 - "$CHANGED" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["details"] = "x" * (6 << 20)
json.dump(r, open(sys.argv[1], "w"))
PY
garbage "a record of 6 MiB (bound 4 MiB)" "osv/PyPI: .*CHURN-$round.*(large|MiB|limit)"
next_round; { cat "$M/modified_id.csv"; head -c 80M /dev/zero | tr '\0' 'x'; } >"$TB_DIR/csv.big" && mv "$TB_DIR/csv.big" "$M/modified_id.csv"
garbage "an index of 80 MiB (bound 64 MiB)" "osv/PyPI: .*modified_id.csv.*(large|MiB|limit)"
((maxrss < 524288)) || fail "refitd's RSS reached $maxrss kB (bodies are bounded at 64 MiB)"
ok "refitd's RSS at most $maxrss kB through the garbage"

curl -s "$API/v1/feeds" | python3 -c '
import json, sys
s = json.load(sys.stdin)["feeds"][0]["scopes"][0]
assert s["error"] and s["advisories"] >= 200, s' || fail "/v1/feeds does not show the error"
next_round
poll
tb_wait '[ -z "$(failing)" ]' 60 || fail "the error stayed after a good poll: $(failing)"
n=$(sql "$DB" "SELECT count(*) FROM advisories WHERE summary LIKE 'churn round $round%'" 2>/dev/null || echo "?")
ok "a good mirror again: the error cleared ($(summary | cut -d' ' -f1) advisories)"
refitd_stop
