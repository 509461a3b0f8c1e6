#!/bin/bash
# refitd.service started for real: systemd as PID 1 of a container
# (systemd-nspawn booting this machine's own Debian from an overlay of /, the
# upper layer a tmpfs, so nothing on the host changes), refit installed into
# it with `make install DESTDIR=`, the user and /etc/refit permissions from
# the sysusers/tmpfiles snippets, the test dockerd's socket bound in as
# /run/docker.sock. Under the unit's whole sandbox it asserts: Type=notify
# start with STATUS=, the process's identity (user refit, groups refit and
# docker, no capabilities, no_new_privs, seccomp, user namespace), registry
# logins from LoadCredential= files named relatively in refit.yaml, a build
# pushed, a docker-credential-* helper spawned, `systemctl reload`, the REST
# endpoint on refitd.socket (socket activation) with the API token from a
# credential, the watchdog killing and restarting a stuck loop, and
# `systemctl stop` letting a running rebuild finish.
#
# Skipped (exit 0, "SKIP:") where the machine cannot do this: not root, no
# systemd-nspawn (Debian package systemd-container), no overlayfs.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nspawn.sh"
tb_init
ns_init

tb_dockerd || fail "dockerd did not start"
tb_registry auth || fail "registry did not start"
export DOCKER_CONFIG=$TB_DIR/docker-cli # the test's own login, not root's
tb_docker login -u "$TB_REG_USER" -p "$TB_REG_PASS" "$TB_REGISTRY" >/dev/null 2>&1 || fail "docker login"
tb_base_image refit-test/base:1 || fail "base image"
R=$TB_REGISTRY

# ---- install into the container's tree ----
make --no-print-directory install DESTDIR="$M" BUILD="$BUILD" >"$TB_DIR/make.log" 2>&1 ||
	{ cat "$TB_DIR/make.log" >&2; fail "make install DESTDIR=$M"; }
systemd-sysusers --root="$M" "$M/usr/lib/sysusers.d/refit.conf" >/dev/null 2>&1 || fail "sysusers"
systemd-tmpfiles --root="$M" --create "$M/usr/lib/tmpfiles.d/refit.conf" >/dev/null 2>&1 || fail "tmpfiles"
port=$(tb_free_port) sport=$(tb_free_port)
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$token" >"$M/etc/refit/credentials/api-token"
printf '%s\n' "$TB_REG_USER" >"$M/etc/refit/credentials/reg-user"
printf '%s\n' "$TB_REG_PASS" >"$M/etc/refit/credentials/reg-pass"
chmod 0600 "$M/etc/refit/credentials/"*
mkdir -p "$M/srv/a" "$M/srv/slow" "$M/srv/helper"
printf 'FROM %s/refit-test/base:1\nRUN echo a > /a\nUSER 65534\n' "$R" >"$M/srv/a/Dockerfile"
printf 'FROM %s/refit-test/base:1\nRUN sleep 8\nUSER 65534\n' "$R" >"$M/srv/slow/Dockerfile"
printf 'FROM %s/refit-test/base:1\nUSER 65534\n' "$R" >"$M/srv/helper/Dockerfile"
cat >"$M/etc/refit/refit.yaml" <<YAML
listen: 127.0.0.1:$port
api_token_file: refit_api-token
engines: [ { host: "unix:///run/docker.sock", max_builds: 2 } ]
registries:
  - { host: "$R", username_file: refit_reg-user, password_file: refit_reg-pass }
projects:
  - { name: a, network: none, context: /srv/a, image: $R/team/a, environments: { prod: {} } }
YAML
# The container boots refit-test.target: the basic system, refitd and its
# socket, none of this machine's own services (they would share its network).
ns_target refitd.socket refitd.service
# The socket unit on a free port, and a 4 s watchdog so that the test need
# not wait 30 s.
mkdir -p "$M/etc/systemd/system/refitd.service.d" "$M/etc/systemd/system/refitd.socket.d" \
	"$M/etc/systemd/system/multi-user.target.wants" "$M/etc/systemd/system/sockets.target.wants"
printf '[Service]\nWatchdogSec=4s\n' >"$M/etc/systemd/system/refitd.service.d/test.conf"
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$sport" \
	>"$M/etc/systemd/system/refitd.socket.d/test.conf"
ln -sf /lib/systemd/system/refitd.service "$M/etc/systemd/system/multi-user.target.wants/"
ln -sf /lib/systemd/system/refitd.socket "$M/etc/systemd/system/sockets.target.wants/"

# ---- boot ----
ns_boot --bind="$TB_DOCKER_SOCK:/run/docker.sock"
prop() { ct systemctl show -p "$1" --value refitd.service; }
journal() { ct journalctl -u refitd --no-pager -o cat; }
ok "systemd $(ct systemctl --version | head -1 | cut -d' ' -f2) booted as PID 1 of a container" \
	"($(ct systemctl list-units --type=service --state=running --no-legend | wc -l) services running)"

tb_wait "[ \"\$(prop ActiveState)\" = active ]" 30 || { journal >&2; fail "refitd.service is not active"; }
[ "$(prop Type)" = notify ] || fail "Type=$(prop Type)"
tb_wait "prop StatusText | grep -qE '^[0-9]+ rebuilds? running, [0-9]+ queued; 1 of 1 engine up$'" 30 ||
	fail "StatusText: '$(prop StatusText)'"
ok "refitd.service active (Type=notify), StatusText '$(prop StatusText)'"

pid=$(prop MainPID)
st=$(ct cat "/proc/$pid/status")
uid=$(awk -F: '$1 == "refit" { print $3 }' "$M/etc/passwd")
dgid=$(awk -F: '$1 == "docker" { print $3 }' "$M/etc/group")
echo "$st" | grep -qE "^Uid:\s+$uid\s" || fail "refitd does not run as refit ($uid): $(echo "$st" | grep Uid)"
echo "$st" | grep -qE "^Groups:.*\b$dgid\b" || fail "refitd lacks the docker group: $(echo "$st" | grep Groups)"
echo "$st" | grep -qE '^CapEff:\s+0+$' || fail "refitd has capabilities"
echo "$st" | grep -qE '^CapBnd:\s+0+$' || fail "refitd's bounding set is not empty"
echo "$st" | grep -qE '^NoNewPrivs:\s+1$' || fail "no_new_privs is not set"
echo "$st" | grep -qE '^Seccomp:\s+2$' || fail "no seccomp filter"
[ "$(ct cat "/proc/$pid/uid_map" | wc -l)" = 2 ] || fail "no private user namespace (PrivateUsers=)"
ct test -e "/run/credentials/refitd.service/refit_reg-pass" || fail "no credentials for refitd"
ok "sandbox: uid refit, groups refit+docker, no capabilities, no_new_privs, seccomp, own user namespace, credentials"

tb_wait "journal | grep -q 'project a: rebuild done'" 90 || { journal >&2; fail "no build under the unit"; }
tags=$(curl -s -u "$TB_REG_USER:$TB_REG_PASS" "http://$R/v2/team/a/tags/list")
case $tags in *'"prod"'*) ;; *) fail "nothing pushed: $tags" ;; esac
ok "built and pushed through /run/docker.sock, registry login from LoadCredential= files"

# ---- reload, a credential helper ----
cat >"$M/usr/local/bin/docker-credential-refittest" <<SH
#!/bin/sh
read -r host
echo "\$host \$(id -u)" >>/var/lib/refit/helper.log
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$host" "$TB_REG_USER" "$TB_REG_PASS"
SH
chmod 0755 "$M/usr/local/bin/docker-credential-refittest"
mkdir -p "$M/var/lib/refit/.docker"
echo "{\"credHelpers\": {\"$R\": \"refittest\"}}" >"$M/var/lib/refit/.docker/config.json"
ct chown -R refit:refit /var/lib/refit/.docker
sed -i '/^registries:/,/^projects:/{/^projects:/!d}' "$M/etc/refit/refit.yaml"
echo "  - { name: helper, network: none, context: /srv/helper, image: $R/team/helper, environments: { prod: {} } }" \
	>>"$M/etc/refit/refit.yaml"
ct systemctl reload refitd || fail "systemctl reload"
tb_wait "journal | grep -q 'configuration reloaded'" 10 || fail "no reload"
[ "$(prop ActiveState)" = active ] || fail "not active after the reload"
ok "systemctl reload: RELOADING=1/READY=1 accepted, configuration reloaded"
ct systemctl restart refitd # the helper project's first build comes at start
tb_wait "journal | grep -q 'project helper: rebuild done'" 90 || { journal >&2; fail "helper project"; }
grep -q " $uid\$" "$M/var/lib/refit/helper.log" || fail "docker-credential-refittest did not run as refit"
ok "a docker-credential-* helper ran under the sandbox (fork, exec, setsid) and its login pushed"

# ---- socket activation and the API token credential ----
if journal | grep -q "REST API listening on 127.0.0.1:$sport (socket from systemd)"; then
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sport/healthz")
	[ "$code" = 200 ] || fail "/healthz on refitd.socket: HTTP $code"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
		"http://127.0.0.1:$sport/v1/projects/a/rebuild")
	[ "$code" = 202 ] || { journal | grep -i token >&2; fail "POST with the credential's token: HTTP $code"; }
	ok "socket activation: the API serves refitd.socket; the token from LoadCredential= is accepted"
else
	journal | grep "REST API" >&2
	fail "refitd did not take the socket from refitd.socket"
fi

# ---- the watchdog ----
n0=$(prop NRestarts)
ct kill -STOP "$(prop MainPID)"
tb_wait "[ \"\$(prop NRestarts)\" = $((n0 + 1)) ] && [ \"\$(prop ActiveState)\" = active ]" 30 ||
	fail "a stopped loop was not restarted: NRestarts=$(prop NRestarts)"
ct journalctl -u refitd --no-pager | grep -q "Failed with result 'watchdog'" || fail "not restarted by the watchdog"
ok "watchdog: a stuck loop was killed (SIGABRT) and restarted"

# ---- the graceful stop ----
echo "  - { name: slow, network: none, context: /srv/slow, image: $R/team/slow, environments: { prod: {} } }" \
	>>"$M/etc/refit/refit.yaml"
ct systemctl restart refitd
tb_wait "journal | grep -q 'project slow: rebuild started'" 60 || fail "slow did not start"
sleep 2
t0=$(date +%s)
ct systemctl stop refitd || fail "systemctl stop"
took=$(($(date +%s) - t0))
journal | grep -q "project slow: rebuild done" || { journal | tail >&2; fail "the running rebuild did not finish"; }
[ "$(prop Result)" = success ] && [ "$(prop ExecMainStatus)" = 0 ] ||
	fail "stop: Result=$(prop Result) status=$(prop ExecMainStatus)"
ok "systemctl stop waited ${took}s for the running rebuild, which finished; exit 0"

e=$(ct systemd-analyze security refitd.service --no-pager 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
ok "systemd-analyze security (online, in the container): $e"
ns_poweroff
