#!/bin/bash
# BuildKit through the Engine API (issue 14), against the private dockerd:
#   ds: a data-science style project, multi-stage with test/prod/rnd targets, whose
#       "pip" step uses a cache mount and whose last step reads a required secret
#       (a canary) through refit's session; its base is on the htpasswd registry;
#   tok: a base on the token-auth registry (credentials through the session, the
#       engine fetches the token itself);
#   bad: a RUN that fails after a good one: the failing step and its error are recorded.
# The second build of ds finds what the first left in the cache mount; the canary is
# nowhere: not in `docker save` of the image, the build log, state_dir, the API,
# /metrics or the labels.
set -u
. "$(dirname "$0")/lib.sh"
tb_init
tb_dockerd || fail "dockerd did not start"
tb_registry || fail "registry did not start"
PLAIN=$TB_REGISTRY
tb_base_image refit-test/base:1 || fail "base image"
tb_registry auth || fail "htpasswd registry did not start"
AUTH=$TB_REGISTRY AUTH_USER=$TB_REG_USER AUTH_PASS=$TB_REG_PASS
echo "$AUTH_PASS" | docker -H "$TB_DOCKER_HOST" login -u "$AUTH_USER" --password-stdin "$AUTH" >/dev/null 2>&1 ||
	fail "docker login (htpasswd)"
tb_docker tag "$PLAIN/refit-test/base:1" "$AUTH/private/base:1" &&
	tb_docker push "$AUTH/private/base:1" >/dev/null || fail "push to the htpasswd registry"
tb_registry token || fail "token registry did not start"
TOK=$TB_REGISTRY TOK_USER=$TB_REG_USER TOK_PASS=$TB_REG_PASS
echo "$TOK_PASS" | docker -H "$TB_DOCKER_HOST" login -u "$TOK_USER" --password-stdin "$TOK" >/dev/null 2>&1 ||
	fail "docker login (token)"
tb_docker tag "$PLAIN/refit-test/base:1" "$TOK/priv/base:1" &&
	tb_docker push "$TOK/priv/base:1" >/dev/null || fail "push to the token registry"
docker -H "$TB_DOCKER_HOST" logout "$AUTH" >/dev/null 2>&1
docker -H "$TB_DOCKER_HOST" logout "$TOK" >/dev/null 2>&1
tb_docker rmi "$AUTH/private/base:1" "$TOK/priv/base:1" >/dev/null # the builds must pull them

printf '%s' "$AUTH_USER" >"$TB_DIR/auth-user"
printf '%s\n' "$AUTH_PASS" >"$TB_DIR/auth-pass"
printf '%s' "$TOK_USER" >"$TB_DIR/tok-user"
printf '%s\n' "$TOK_PASS" >"$TB_DIR/tok-pass"
CANARY=canary-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'index-url = https://%s@pypi.example/simple\n' "$CANARY" >"$TB_DIR/pipconf"
chmod 600 "$TB_DIR/auth-pass" "$TB_DIR/tok-pass" "$TB_DIR/pipconf"

mkdir -p "$TB_DIR/ds" "$TB_DIR/tok" "$TB_DIR/bad" "$TB_DIR/ssh"
echo "numpy==1.26.0" >"$TB_DIR/ds/requirements.txt"
cat >"$TB_DIR/ds/Dockerfile" <<DOCKERFILE
FROM $AUTH/private/base:1 AS base
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \\
    n=\$(cat /root/.cache/pip/count 2>/dev/null || echo 0); n=\$((n + 1)); \\
    echo \$n > /root/.cache/pip/count; echo "pip cache count \$n"
RUN --mount=type=secret,id=pipconf,required=true \\
    test -s /run/secrets/pipconf && echo "secret bytes \$(wc -c < /run/secrets/pipconf)"

FROM base AS test
RUN echo tested > /app/tested
USER 65534

FROM base AS dev
RUN echo notebook > /app/extras
USER 65534

FROM base AS runtime
USER 65534
DOCKERFILE
printf 'FROM %s/priv/base:1\nRUN echo token-base\nUSER 65534\n' "$TOK" >"$TB_DIR/tok/Dockerfile"
printf 'FROM %s/refit-test/base:1\nRUN echo step-one\nRUN echo boom && exit 3\nUSER 65534\n' "$PLAIN" \
	>"$TB_DIR/bad/Dockerfile"
printf 'FROM %s/refit-test/base:1\nRUN --mount=type=ssh true\nUSER 65534\n' "$PLAIN" >"$TB_DIR/ssh/Dockerfile"
head -c 24 /dev/urandom | base64 >"$TB_DIR/token"
cat >"$TB_DIR/refit.yaml" <<YAML
state_dir: $TB_DIR/state
listen: 127.0.0.1:0
api_token_file: $TB_DIR/token
engines: [ { host: $TB_DOCKER_HOST, max_builds: 2 } ]
registries:
  - { host: $AUTH, username_file: $TB_DIR/auth-user, password_file: $TB_DIR/auth-pass }
  - { host: $TOK, username_file: $TB_DIR/tok-user, password_file: $TB_DIR/tok-pass }
projects:
  - name: ds
    context: $TB_DIR/ds
    image: $PLAIN/team/ds
    network: host
    secrets: { pipconf: $TB_DIR/pipconf }
    environments:
      test: { target: test, check: ["/bin/sh", "-c", "test -f /app/tested"] }
      prod: { target: runtime, requires: test }
      rnd:  { target: dev }
  - { name: tok, context: $TB_DIR/tok, image: $PLAIN/team/tok, network: host, environments: { prod: {} } }
  - { name: bad, context: $TB_DIR/bad, image: $PLAIN/team/bad, network: host, environments: { prod: {} } }
  - { name: ssh, context: $TB_DIR/ssh, image: $PLAIN/team/ssh, environments: { prod: {} } }
YAML
refitd_start "$TB_DIR/refit.yaml"
DB=$TB_DIR/state/state.db
wait_log "REST API listening on " 60
URL=http://$(sed -n 's/.*REST API listening on \([^ ]*\).*/\1/p' "$RD_LOG" | head -1)
wait_log "project ds: rebuild (done|failed)" 180
grep -q "project ds: rebuild done" "$RD_LOG" || {
	sql "$DB" "SELECT group_concat(env || ': ' || coalesce(error, status), char(10)) FROM builds WHERE project = 'ds'" >&2
	fail "ds did not build"
}
b=$(sql "$DB" "SELECT group_concat(DISTINCT builder) FROM builds WHERE project = 'ds'")
[ "$b" = buildkit ] || fail "ds built with '$b'"
ok "a multi-stage project with a cache mount, a secret and a private base built with BuildKit"

log1=$TB_DIR/state/logs/$(sql "$DB" "SELECT id FROM builds WHERE project = 'ds' AND env = 'test' ORDER BY id LIMIT 1").log
grep -qE "^#[0-9]+ \[base [0-9]/[0-9]\] RUN --mount=type=cache" "$log1" || { cat "$log1" >&2; fail "no readable step line in the log"; }
grep -qE "pip cache count 1" "$log1" || fail "the cache-mount step's output is not in the log"
grep -qE "secret bytes [1-9]" "$log1" || fail "the secret step did not read the secret"
# (dockerd's first health check comes 1 s after the session opens: a build that fast has none)
grep -qE "BuildKit session closed: [0-9]+ health checks, [1-9][0-9]* credential and [1-9][0-9]* secret" "$log1" ||
	fail "the session did not serve credentials and the secret: $(grep 'session' "$log1")"
ok "progress is readable (#N [stage] steps, output), the session served credentials and the secret"

wait_log "project tok: rebuild (done|failed)" 120
grep -q "project tok: rebuild done" "$RD_LOG" ||
	fail "tok: $(sql "$DB" "SELECT error FROM builds WHERE project = 'tok'")"
ok "a base on a token-auth registry resolved through the session"

wait_log "project bad: rebuild failed" 120
st=$(sql "$DB" "SELECT failed_step FROM builds WHERE project = 'bad'")
case $st in *"RUN echo boom && exit 3"*) ;; *) fail "bad: failed_step '$st'" ;; esac
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'bad'")
case $err in *"exit code: 3"*) ;; *) fail "bad: error '$err'" ;; esac
curl -s "$URL/v1/builds?project=bad" | grep -q '"failed_step": *"[^"]*RUN echo boom' || fail "API lacks failed_step"
ok "a failing RUN records its step and error (store and API)"

# What the builder cannot do is refused before anything is sent, with the verdict of lint.
wait_log "project ssh: rebuild failed" 60
err=$(sql "$DB" "SELECT error FROM builds WHERE project = 'ssh'")
case $err in *"buildkit-0.8 builder of engine"*"Dockerfile:2: RUN --mount=type=ssh"*) ;; *) fail "ssh: '$err'" ;; esac
[ "$(sql "$DB" "SELECT count(*) FROM builds WHERE project = 'ssh' AND image_id IS NOT NULL")" = 0 ] || fail "ssh was built"
out=$("$REFITCTL" lint "$TB_DIR/ssh/Dockerfile" --builder buildkit-0.8)
case $out in *":2: RF017 error the buildkit-0.8 builder cannot build this: RUN --mount=type=ssh"*) ;;
*) fail "lint: $out" ;; esac
ok "an ssh mount is refused up front by refitd, with refitctl lint's verdict (RF017)"

# The second build finds what the first left in the cache mount (the cache-mount step is
# forced to run again by a changed requirements file).
echo "pandas==2.1.0" >>"$TB_DIR/ds/requirements.txt"
"$REFITCTL" --url "$URL" --token-file "$TB_DIR/token" rebuild ds >/dev/null || fail "refitctl rebuild ds"
tb_wait "[ \$(grep -c 'project ds: rebuild done' '$RD_LOG') -ge 2 ]" 180 || fail "ds second build"
log2=$TB_DIR/state/logs/$(sql "$DB" "SELECT max(id) FROM builds WHERE project = 'ds' AND env = 'test'").log
grep -qE "pip cache count 2" "$log2" || { cat "$log2" >&2; fail "the second build did not find the cache mount's content"; }
ok "the cache mount persists between builds"

img=$(sql "$DB" "SELECT image_id FROM builds WHERE project = 'ds' AND env = 'prod' ORDER BY id DESC LIMIT 1")
n=$(curl -s --unix-socket "$TB_DOCKER_SOCK" "http://d/v1.41/images/$img/get" | grep -a -c "$CANARY")
[ "$n" = 0 ] || fail "the canary is in docker save of the image ($n)"
grep -rqF "$CANARY" "$TB_DIR/state" "$RD_LOG" && fail "the canary is in state_dir or the daemon log"
for p in /v1/projects /v1/builds "/v1/builds?limit=100" /metrics /; do
	curl -s "$URL$p" | grep -qF "$CANARY" && fail "the canary is in $p"
done
curl -s --unix-socket "$TB_DOCKER_SOCK" "http://d/v1.41/images/$img/json" | grep -qF "$CANARY" &&
	fail "the canary is in the image's labels or config"
grep -rqF "$AUTH_PASS" "$TB_DIR/state" "$RD_LOG" && fail "a registry password is in the state or the log"
ok "the secret and the passwords appear nowhere: image, logs, state, API, metrics, labels"
refitd_stop
