#!/bin/bash
# Build secrets and cache mounts on Podman's compatible service (BUILDKIT.md G 33-34),
# which has no BuildKit session: refit adds each secret to the context tar under a name
# nobody can guess and names it in the secrets= query; Podman moves it out of the
# context before the build and mounts it.
#   ps: COPY . /ctx, a cache mount, a required secret (a canary) read at /run/secrets and
#       at a target=, two environments from one tar; its second build finds the first's
#       cache; the tar is 0600 while it exists and carries the secret as a 0400 file;
#   miss: a required secret the project does not define (it defines another);
#   none: a required secret and no secrets at all.
# The canary is nowhere: not in GET /images/{id}/get of the images, not under /ctx, not
# in the build logs, state_dir, the daemon's or Podman's log, the API or the labels.
# Then the same project on dockerd (BuildKit): its tar never carries the secret.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
R=$TB_REGISTRY
tb_base_image refit-test/base:1 || fail "base image"
# buildah keeps cache mounts under $TMPDIR (default /var/tmp, shared): a private one
mkdir -p "$TB_DIR/podman-tmp"
TMPDIR=$TB_DIR/podman-tmp tb_podman || fail "podman service did not start"
PSOCK=${TB_PODMAN_HOST#unix://}
papi() { curl -s --unix-socket "$PSOCK" "http://p/v1.41$1"; }

CANARY=canary-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
MARK=layer-mark-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'index-url = https://%s@pypi.example/simple\n' "$CANARY" >"$TB_DIR/pipconf"
chmod 600 "$TB_DIR/pipconf"
want_sum=$(sha256sum "$TB_DIR/pipconf" | cut -c1-64)

mkdir -p "$TB_DIR/ps" "$TB_DIR/miss" "$TB_DIR/none"
echo "numpy==1.26.0" >"$TB_DIR/ps/requirements.txt"
cat >"$TB_DIR/ps/Dockerfile" <<DOCKERFILE
FROM $R/refit-test/base:1
COPY . /ctx
RUN --mount=type=cache,target=/root/.cache/pip \\
    n=\$(cat /root/.cache/pip/count 2>/dev/null || echo 0); n=\$((n + 1)); \\
    echo \$n > /root/.cache/pip/count; echo "pip cache count \$n"
ARG REFIT_ENV
RUN --mount=type=secret,id=pipconf,required=true \\
    echo "environment \$REFIT_ENV" && echo "secret sum \$(sha256sum < /run/secrets/pipconf | cut -c1-64)" && \\
    echo "secret mode \$(stat -c %a /run/secrets/pipconf)"
RUN --mount=type=secret,id=pipconf,target=/etc/pip.conf,required=true \\
    grep -q '^index-url = ' /etc/pip.conf && echo "secret target ok"
RUN test -z "\$(find / -xdev -name '.refit-secret-*')" && test ! -e /run/secrets/pipconf && \\
    ls -A /ctx | tr '\n' ' ' && echo "<- ctx" && echo $MARK > /mark
USER 65534
DOCKERFILE
printf 'FROM %s/refit-test/base:1\nRUN --mount=type=secret,id=nope,required=true true\nUSER 65534\n' "$R" \
	>"$TB_DIR/miss/Dockerfile"
printf 'FROM %s/refit-test/base:1\nRUN --mount=type=secret,id=pipconf,required=true true\nUSER 65534\n' "$R" \
	>"$TB_DIR/none/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"

# config ENGINE STATE PROJECTS: writes $TB_DIR/STATE.yaml
config() {
	cat >"$TB_DIR/$2.yaml" <<YAML
state_dir: $TB_DIR/$2
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $1, max_builds: 2 } ]
projects:
  - name: ps
    context: $TB_DIR/ps
    image: $R/team/ps
    network: none
    secrets: { pipconf: $TB_DIR/pipconf }
    environments:
      test: { build_args: { REFIT_ENV: test }, check: ["/bin/sh", "-c", "test -f /mark"] }
      prod: { build_args: { REFIT_ENV: prod }, requires: test }
$3
YAML
}

# watch_tar STATE: in the background, the mode of each context tar while it exists
# and its listing (tar -tv) to $TB_DIR/STATE.modes and STATE.list.
watch_tar() {
	local s=$TB_DIR/$1
	(
		set +e
		while :; do
			for f in "$s"/tmp/*.tar; do
				[ -f "$f" ] || continue
				stat -c '%a' "$f" >>"$s.modes" 2>/dev/null
				# the last listing that worked: taken late, of the whole tar
				tar -tvf "$f" >"$s.tmp" 2>/dev/null && mv "$s.tmp" "$s.list"
			done
			sleep 0.05
		done
	) &
	TB_PIDS+=($!)
}

config "$TB_PODMAN_HOST" state "  - { name: miss, context: $TB_DIR/miss, image: $R/team/miss, network: none,
      secrets: { pipconf: $TB_DIR/pipconf }, environments: { prod: {} } }
  - { name: none, context: $TB_DIR/none, image: $R/team/none, network: none, environments: { prod: {} } }"
watch_tar state
refitd_start "$TB_DIR/state.yaml"
DB=$TB_DIR/state/state.db
wait_log "REST API listening on " 60
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
wait_log "project ps: rebuild (done|failed)" 240
grep -q "project ps: rebuild done" "$RD_LOG" || {
	sql "$DB" "SELECT group_concat(env || ': ' || coalesce(error, status), char(10)) FROM builds WHERE project = 'ps'" >&2
	for l in "$TB_DIR"/state/logs/*.log; do cat "$l" >&2; done
	fail "ps did not build"
}
b=$(sql "$DB" "SELECT group_concat(DISTINCT builder) FROM builds WHERE project = 'ps'")
[ "$b" = podman ] || fail "ps built with '$b'"
st=$(sql "$DB" "SELECT group_concat(env || '=' || status, ' ') FROM (SELECT env, status FROM builds WHERE project = 'ps' ORDER BY id)")
[ "$st" = "test=succeeded prod=succeeded" ] || fail "ps builds: $st"
for env in test prod; do
	log=$TB_DIR/state/logs/$(sql "$DB" "SELECT id FROM builds WHERE project = 'ps' AND env = '$env'").log
	grep -q "environment $env" "$log" || { cat "$log" >&2; fail "$env: the secret step did not run"; }
	grep -q "secret sum $want_sum" "$log" || fail "$env: the secret step did not read the secret's bytes"
	grep -q "secret mode 400" "$log" || fail "$env: the secret is not mounted 0400"
	grep -q "secret target ok" "$log" || fail "$env: the secret is not at its target="
	grep -q "Dockerfile requirements.txt <- ctx" "$log" || fail "$env: /ctx holds $(grep '<- ctx' "$log")"
done
ok "on Podman a required secret is mounted with its bytes (0400, target= too) in both environments"
ok "COPY . /ctx does not carry it; no .refit-secret-* file anywhere in the build's file system"

# While it existed, the tar was 0600 and carried the secret as a root-owned 0400 file.
tb_wait "[ -s '$TB_DIR/state.list' ]" 5 || fail "the context tar was never seen"
modes=$(sort -u "$TB_DIR/state.modes" | tr '\n' ' ')
[ "$modes" = "600 " ] || fail "context tar modes seen: $modes"
grep -qE '^-r-------- 0/0 +[0-9]+ .* \.refit-secret-[0-9a-f]{32}$' "$TB_DIR/state.list" ||
	{ cat "$TB_DIR/state.list" >&2; fail "the tar does not carry the secret as a 0400 root file"; }
[ "$(grep -c 'refit-secret' "$TB_DIR/state.list")" = 1 ] || fail "more than one secret entry"
ls "$TB_DIR"/state/tmp/*.tar >/dev/null 2>&1 && fail "a context tar is left in state_dir/tmp"
ok "the context tar is 0600 and holds the secret as .refit-secret-<32 hex> (0400, 0:0); removed after"

wait_log "project miss: rebuild failed" 120
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'miss'")
case $err in *"secret required but no secret with id nope found"*) ;; *) fail "miss: '$err'" ;; esac
wait_log "project none: rebuild failed" 120
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'none'")
case $err in *"secret required but no secret with id pipconf found"*) ;; *) fail "none: '$err'" ;; esac
ok "a required secret the project does not define fails with Podman's message"

# The second build finds what the first left in the cache mount (the changed context makes
# the cache-mount step run again).
echo "pandas==2.1.0" >>"$TB_DIR/ps/requirements.txt"
"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild ps >/dev/null || fail "refitctl rebuild ps"
tb_wait "[ \$(grep -c 'project ps: rebuild done' '$RD_LOG') -ge 2 ]" 240 || fail "ps second build"
log2=$TB_DIR/state/logs/$(sql "$DB" "SELECT max(id) FROM builds WHERE project = 'ps' AND env = 'test'").log
grep -q "pip cache count 1" "$TB_DIR/state/logs/$(sql "$DB" "SELECT min(id) FROM builds WHERE project = 'ps'").log" ||
	fail "the first build did not start from an empty cache"
grep -q "pip cache count [2-9]" "$log2" || { cat "$log2" >&2; fail "the second build did not find the cache mount's content"; }
ok "the cache mount persists between builds on Podman"

for env in test prod; do
	img=$(sql "$DB" "SELECT image_id FROM builds WHERE project = 'ps' AND env = '$env' ORDER BY id DESC LIMIT 1")
	papi "/images/$img/get" >"$TB_DIR/export.tar"
	[ "$(grep -a -c "$MARK" "$TB_DIR/export.tar")" -ge 1 ] || fail "$env: the export lacks the layer mark (grep useless)"
	[ "$(grep -a -c "$CANARY" "$TB_DIR/export.tar")" = 0 ] || fail "$env: the canary is in the image export"
	grep -a -qE '\.refit-secret-[0-9a-f]{32}' "$TB_DIR/export.tar" && fail "$env: a secret file name is in the image"
	papi "/images/$img/json" | grep -qF "$CANARY" && fail "$env: the canary is in the image's labels or config"
done
grep -rqF "$CANARY" "$TB_DIR/state" "$RD_LOG" "$TB_DIR/podman/service.log" &&
	fail "the canary is in state_dir, the daemon log or Podman's log"
for p in /v1/projects /v1/builds "/v1/builds?limit=100" /metrics /; do
	curl -s "$URL$p" | grep -qF "$CANARY" && fail "the canary is in $p"
done
ok "the secret appears nowhere: image export (a layer mark found), config, logs, state, API"
refitd_stop

# dockerd (BuildKit, the session serves the secret): the context tar never carries it.
config "$TB_DOCKER_HOST" dstate ""
watch_tar dstate
refitd_start "$TB_DIR/dstate.yaml"
DB=$TB_DIR/dstate/state.db
wait_log "project ps: rebuild (done|failed)" 240
grep -q "project ps: rebuild done" "$RD_LOG" ||
	fail "ps on dockerd: $(sql "$DB" "SELECT group_concat(coalesce(error, status), char(10)) FROM builds")"
[ "$(sql "$DB" "SELECT group_concat(DISTINCT builder) FROM builds")" = buildkit ] || fail "not BuildKit"
log=$TB_DIR/dstate/logs/$(sql "$DB" "SELECT max(id) FROM builds").log
grep -q "secret sum $want_sum" "$log" || { cat "$log" >&2; fail "dockerd: the secret step did not read the secret"; }
tb_wait "[ -s '$TB_DIR/dstate.list' ]" 5 || fail "the dockerd context tar was never seen"
grep -q 'refit-secret' "$TB_DIR/dstate.list" && fail "the dockerd context tar carries a secret"
grep -q ' Dockerfile$' "$TB_DIR/dstate.list" || fail "the dockerd context tar listing: $(cat "$TB_DIR/dstate.list")"
ok "on dockerd the secret goes through the session only: the context tar does not carry it"
refitd_stop
