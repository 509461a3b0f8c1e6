#!/bin/bash
# `# syntax=` frontends (issue 14): BuildKit pulls and runs the frontend image before
# anything else, so refitd checks, before it sends the build, that the engine can have it:
# in the engine, or its manifest answers in its registry (refit's registry client, the
# configured credentials). Against the private dockerd (BuildKit 0.8), debug-logged so that
# every API call it gets is in its log:
#   gone:    a frontend on a registry that is not there (127.0.0.1:1): refused, unreachable;
#   missing: a frontend the test registry does not have: refused, not found;
#   locked:  a frontend on the htpasswd registry, no credentials configured: refused,
#            unauthorized;
#   pushed:  a frontend that exists in the test registry (busybox pushed under that name):
#            passes the check; the engine then fails it (not a frontend, and on this test
#            bed a frontend has no default bridge to run on): the engine's error, recorded;
#   local:   the same image, only in the engine: passes the check as being in the engine;
#   argok:   a missing image in the directive, but the environment's build arg
#            BUILDKIT_SYNTAX (which BuildKit takes over the directive) names the pushed one:
#            passes the check, the engine's error is recorded;
#   argbad:  no directive, BUILDKIT_SYNTAX names the gone registry: refused;
#   authed:  a frontend on another htpasswd registry, with its credentials in registries:
#            passes the check (refit's registry client uses them).
# No build request reaches the engine for the refused four; refitctl lint says RF018.
# The classic builder and Podman ignore the line (measured): with builder: classic, and on
# Podman's service, gone builds.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
TB_DOCKERD_DEBUG=1 tb_dockerd || fail "dockerd did not start"
DLOG=$TB_DIR/docker/dockerd.log
tb_registry auth || fail "htpasswd registry did not start"
LOCKED=$TB_REGISTRY
tb_registry auth || fail "htpasswd registry did not start"
AUTHED=$TB_REGISTRY
printf '%s' "$TB_REG_USER" >"$TB_DIR/user"
printf '%s\n' "$TB_REG_PASS" >"$TB_DIR/pass"
chmod 600 "$TB_DIR/pass"
tb_registry || fail "registry did not start"
R=$TB_REGISTRY
tb_base_image refit-test/base:1 || fail "base image"
tb_base_image fe/front:1 || fail "frontend image"
tb_docker tag "$R/fe/front:1" "$R/fe/local-only:1" >/dev/null || fail "tag local-only"
docker -H "$TB_DOCKER_HOST" login -u "$(cat "$TB_DIR/user")" --password-stdin "$AUTHED" <"$TB_DIR/pass" \
	>/dev/null 2>&1 || fail "docker login"
tb_docker tag "$R/fe/front:1" "$AUTHED/fe/front:1" && tb_docker push "$AUTHED/fe/front:1" >/dev/null ||
	fail "push to the htpasswd registry"
docker -H "$TB_DOCKER_HOST" logout "$AUTHED" >/dev/null 2>&1
tb_docker rmi "$R/fe/front:1" "$AUTHED/fe/front:1" >/dev/null || fail "rmi front" # only in the registries now

declare -A FE=([gone]=127.0.0.1:1/nope/front:1 [missing]=$R/fe/missing:1
	[locked]=$LOCKED/fe/front:1 [pushed]=$R/fe/front:1 [local]=$R/fe/local-only:1
	[argok]=$R/fe/missing:1 [argbad]="" [authed]=$AUTHED/fe/front:1)
for p in "${!FE[@]}"; do
	mkdir -p "$TB_DIR/$p"
	{
		[ -z "${FE[$p]}" ] || printf '# syntax=%s\n' "${FE[$p]}"
		printf 'FROM %s/refit-test/base:1\nRUN echo %s\nUSER 65534\n' "$R" "$p"
	} >"$TB_DIR/$p/Dockerfile"
done
ALL="gone missing locked pushed local argok argbad authed"
declare -A ARG=([argok]=$R/fe/front:1 [argbad]=127.0.0.1:1/nope/front:1)
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
conf() {
	cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: ${2:-$TB_DOCKER_HOST}, max_builds: 2, builder: $1 } ]
registries: [ { host: $AUTHED, username_file: $TB_DIR/user, password_file: $TB_DIR/pass } ]
projects:
YAML
	for p in $ALL; do
		echo "  - { name: $p, context: $TB_DIR/$p, image: $R/team/$p, network: none, environments: { prod: { build_args: { ${ARG[$p]:+BUILDKIT_SYNTAX: \"${ARG[$p]}\"} } } } }" \
			>>"$TB_DIR/refit.yaml"
	done
}
conf auto
refitd_start "$TB_DIR/refit.yaml"
DB=$TB_DIR/state/state.db
wait_log "REST API listening on " 60
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
for p in $ALL; do
	wait_log "project $p: rebuild (done|failed)" 120
done

err() { sql "$DB" "SELECT error FROM builds WHERE project = '$1' ORDER BY id LIMIT 1"; }
for p in $ALL; do echo "$p: $(err $p)"; done
refused() { # project, where the image is named, the image, what the reason says
	local e
	e=$(err "$1")
	case $e in
	*"buildkit-0.8 builder of engine"*"cannot build this Dockerfile: $2: the frontend image $3 $4"*) ;;
	*) fail "$1: '$e'" ;;
	esac
	grep -E "Calling POST /v[0-9.]+/build" "$DLOG" | grep -q "$1" && fail "$1: a build was sent to the engine"
	[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE project = '$1' AND status = 'failed' AND image_id IS NULL")" -ge 1 ] ||
		fail "$1: no failed build row"
}
at() { echo "$TB_DIR/$1/Dockerfile:1 (# syntax=)"; }
refused gone "$(at gone)" "${FE[gone]}" "is not in the engine, and its registry is unreachable"
refused missing "$(at missing)" "${FE[missing]}" "is neither in the engine nor in its registry: not found"
refused locked "$(at locked)" "${FE[locked]}" "is not in the engine, and its registry says unauthorized"
refused argbad "build arg BUILDKIT_SYNTAX of environment prod" "${ARG[argbad]}" "is not in the engine, and its registry is unreachable"
grep -q "Calling GET /v[0-9.]*/images/127.0.0.1:1/nope/front:1/json" "$DLOG" ||
	fail "the engine was not asked for the frontend image"
curl -s "$URL/v1/builds?project=gone" | grep -q '"error": *"[^"]*frontend image 127.0.0.1:1/nope/front:1' ||
	fail "the API lacks the reason"
curl -s "$URL/projects/gone" | grep -q 'frontend image 127.0.0.1:1/nope/front:1' ||
	fail "the status page lacks the reason"
ok "a frontend that cannot be had (# syntax= or BUILDKIT_SYNTAX) is refused before any build is sent, naming it and why (unreachable, not found, unauthorized)"

grep -q "project gone: rebuild failed (.*); retry in [1-9]" "$RD_LOG" || fail "no backoff for the refusal"
ok "a refused frontend is retried with the backoff of other refusals"

for p in pushed local argok authed; do
	e=$(err "$p")
	case $e in *"cannot build this Dockerfile"*) fail "$p was refused: $e" ;; esac
	case $e in *"frontend gateway.v0: network bridge not found"*"a Dockerfile frontend (# syntax=, BUILDKIT_SYNTAX) runs on it"*) ;;
	*) fail "$p: not the engine's error: '$e'" ;; esac
	grep -E "Calling POST /v[0-9.]+/build" "$DLOG" | grep -q "$p" || fail "$p: no build sent"
done
grep -q "project pushed: the frontend image $R/fe/front:1 answers in its registry" "$RD_LOG" ||
	fail "pushed: not found in the registry by the check"
grep -q "project authed: the frontend image $AUTHED/fe/front:1 answers in its registry" "$RD_LOG" ||
	fail "authed: not found in its registry with the configured credentials"
grep -q "project local: the frontend image $R/fe/local-only:1 is in the engine" "$RD_LOG" ||
	fail "local: not found in the engine by the check"
case $(err argok) in *"failed with build-arg:BUILDKIT_SYNTAX = $R/fe/front:1"*) ;; *) fail "argok: $(err argok)" ;; esac
ok "a frontend in the registry (with the configured credentials) or in the engine, named by # syntax= or BUILDKIT_SYNTAX, passes the check; the engine's own error is recorded"

out=$("$REFITCTL" lint "$TB_DIR/gone/Dockerfile" --builder buildkit-0.8)
case $out in *":1: RF018 warning the buildkit-0.8 builder parses this file with the frontend image \"127.0.0.1:1/nope/front:1\""*"must be able to pull it"*) ;;
*) fail "lint: $out" ;; esac
out=$("$REFITCTL" lint "$TB_DIR/gone/Dockerfile" --builder classic)
case $out in *":1: RF018 info the classic builder ignores # syntax=127.0.0.1:1/nope/front:1"*) ;;
*) fail "lint classic: $out" ;; esac
ok "refitctl lint says the frontend must be pullable on BuildKit (RF018 warning), ignored on classic"

# The classic builder ignores the line: refitd builds it.
conf classic
kill -HUP "$RD_PID"
wait_log "configuration reloaded" 30
sleep 2 # the engine probed again
"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild gone >/dev/null || fail "refitctl rebuild"
wait_log "project gone: rebuild done" 120
[ "$(sql "$DB" "SELECT builder FROM builds WHERE project = 'gone' AND status = 'succeeded'")" = classic ] ||
	fail "gone did not build with the classic builder"
ok "with builder: classic the line is ignored and the project builds, as docker's classic builder does"

# Podman (buildah) ignores it too (measured): on Podman's service, gone builds.
tb_podman || fail "podman service did not start"
conf auto "$TB_PODMAN_HOST"
kill -HUP "$RD_PID"
tb_wait "[ \$(grep -c 'configuration reloaded' '$RD_LOG') -ge 2 ]" 30 || fail "second reload"
sleep 2 # the engine probed
n=$(grep -c "project gone: rebuild done" "$RD_LOG")
"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild gone >/dev/null || fail "refitctl rebuild (podman)"
tb_wait "[ \$(grep -c 'project gone: rebuild done' '$RD_LOG') -gt $n ]" 180 ||
	fail "gone on podman: $(sql "$DB" "SELECT error FROM builds WHERE project = 'gone' ORDER BY id DESC LIMIT 1")"
[ "$(sql "$DB" "SELECT builder FROM builds WHERE project = 'gone' ORDER BY id DESC LIMIT 1")" = podman ] ||
	fail "gone did not build with Podman"
out=$("$REFITCTL" lint "$TB_DIR/gone/Dockerfile" --builder podman)
case $out in *":1: RF018 info the podman builder ignores # syntax="*) ;; *) fail "lint podman: $out" ;; esac
ok "Podman ignores the line too: refitd builds it there, and lint --builder podman says so"
refitd_stop
