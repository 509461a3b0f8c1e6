#!/bin/bash
# The Debian package: `make deb` builds refit_VERSION_ARCH.deb, lintian finds
# no error and no warning that is not overridden (systemd/deb/lintian-overrides
# says why each is accepted), and the package's life is played in a container
# booting systemd 252 (nspawn.sh, shared with t_systemd_live.sh):
#   install     the refit user, /etc/refit root:refit 0750 with refit.yaml
#               0640 and credentials/ 0700, units known but neither enabled
#               nor started; bash completion of commands and project names
#   start       the admin's refit.yaml, `systemctl start refitd`: READY
#               (ActiveState, StatusText), the REST answer, a build pushed
#   upgrade     a rebuilt package with a higher version: the running service
#               restarted on the new package, the build row still in
#               state.db, the admin's refit.yaml and `systemctl enable` kept
#   remove      the service stopped, programs gone; configuration,
#               credentials, state and user kept
#   purge       /etc/refit gone, the enable symlink gone, the state kept
#               (printed); purge with REFIT_PURGE_STATE=yes deletes it
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nspawn.sh"
tb_init
ns_init
command -v lintian >/dev/null || fail "no lintian (Debian package lintian, in the Makefile's DEB_TEST)"

# ---- build two packages, lint them ----
t0=$(date +%s)
deb1=$(make --no-print-directory deb BUILD="$BUILD" 2>"$TB_DIR/deb.err" | tail -1)
[ -f "$deb1" ] || { cat "$TB_DIR/deb.err" >&2; fail "make deb"; }
v1=$(dpkg-deb -f "$deb1" Version)
case $(basename "$deb1") in "refit_${v1}_$(dpkg --print-architecture).deb") ;; *) fail "name $deb1" ;; esac
v2=$v1+rebuild1
deb2=$(make --no-print-directory deb BUILD="$BUILD" DEB_VERSION="$v2" 2>"$TB_DIR/deb.err" | tail -1)
[ -f "$deb2" ] || { cat "$TB_DIR/deb.err" >&2; fail "make deb DEB_VERSION=$v2"; }
dpkg --compare-versions "$v2" gt "$v1" || fail "$v2 is not newer than $v1"
ok "make deb: $(basename "$deb1") ($(($(stat -c %s "$deb1") / 1024)) KiB), rebuilt as $v2 ($(($(date +%s) - t0))s)"
dpkg-deb -f "$deb1" Depends | grep -q 'libuv1' || fail "Depends lacks the shared libraries: $(dpkg-deb -f "$deb1" Depends)"

# Overridden tags are shown (O:) but only E: and W: fail.
lintian --show-overrides "$deb1" >"$TB_DIR/lintian.log" 2>&1 || fail "lintian: $(cat "$TB_DIR/lintian.log")"
cat "$TB_DIR/lintian.log"
grep -qE '^[EW]: ' "$TB_DIR/lintian.log" && fail "lintian found errors or warnings"
ok "lintian: no error, no warning beyond the $(grep -c '^O: ' "$TB_DIR/lintian.log") overridden ones"

tb_standard_bed # private dockerd, registry, base image; $R

# ---- the container: this machine's Debian, without refit ----
mkdir -p "$M/root/debs" "$M/srv/a"
cp "$deb1" "$deb2" "$M/root/debs/"
# The host's policy-rc.d (a Docker-image habit: exit 101) would make
# deb-systemd-invoke refuse every start and stop; a build host has none.
rm -f "$M/usr/sbin/policy-rc.d"
# man-db's trigger would re-index every manual page of this machine after each
# dpkg run (10-30 s here): off, as debconf's man-db/auto-update=false does.
rm -f "$M/var/lib/man-db/auto-update"
rm -rf "$M/etc/refit"
printf 'FROM %s/refit-test/base:1\nRUN echo a > /a\nUSER 65534\n' "$R" >"$M/srv/a/Dockerfile"
ns_target systemd-journald.service
ns_boot --bind="$TB_DOCKER_SOCK:/run/docker.sock"
prop() { ct systemctl show -p "$1" --value refitd.service; }
journal() { ct journalctl -u refitd --no-pager -o cat; }
status() { ct dpkg-query -W -f='${db:Status-Abbrev}${Version}' refit 2>/dev/null; }
mode() { ct stat -c '%U:%G %a' "$1"; }
# dpkg as the admin runs it; its output goes to the log, and a warning fails.
pkg() {
	ct "$@" >"$TB_DIR/dpkg.log" 2>&1 || { cat "$TB_DIR/dpkg.log" >&2; fail "$*"; }
	sed 's/^/  | /' "$TB_DIR/dpkg.log"
	! grep -qi 'warning' "$TB_DIR/dpkg.log" || fail "$* warned"
}
ok "systemd $(ct systemctl --version | head -1 | cut -d' ' -f2) booted as PID 1 of a container"

# ---- install ----
pkg dpkg -i "/root/debs/$(basename "$deb1")"
[ "$(status)" = "ii $v1" ] || fail "dpkg status: $(status)"
ct id refit >/dev/null || fail "no refit user"
[ "$(mode /etc/refit)" = "root:refit 750" ] || fail "/etc/refit: $(mode /etc/refit)"
[ "$(mode /etc/refit/refit.yaml)" = "root:refit 640" ] || fail "refit.yaml: $(mode /etc/refit/refit.yaml)"
[ "$(mode /etc/refit/credentials)" = "root:root 700" ] || fail "credentials: $(mode /etc/refit/credentials)"
ct refitd --check-config /etc/refit/refit.yaml >/dev/null 2>&1 || fail "the shipped refit.yaml is not valid"
for u in refitd.service refitd.socket; do
	[ "$(ct systemctl is-enabled $u)" = disabled ] || fail "$u is $(ct systemctl is-enabled $u) after install"
	[ "$(ct systemctl is-active $u)" = inactive ] || fail "$u is $(ct systemctl is-active $u) after install"
done
ok "dpkg -i $v1: user refit, /etc/refit root:refit 750, refit.yaml 640, credentials 700; units disabled and inactive"

# ---- the admin configures and starts it ----
port=$(tb_free_port)
cat >"$M/etc/refit/refit.yaml" <<YAML
# the admin's configuration
listen: 127.0.0.1:$port
engines: [ { host: "unix:///run/docker.sock", max_builds: 1 } ]
projects:
  - { name: a, network: none, context: /srv/a, image: $R/team/a, environments: { prod: {} } }
YAML
echo secret >"$M/etc/refit/credentials/api-token"
conf_sum=$(sha256sum <"$M/etc/refit/refit.yaml")
ct systemctl enable refitd.service >/dev/null 2>&1 || fail "systemctl enable"
ct systemctl start refitd.service || { journal >&2; fail "systemctl start refitd"; }
[ "$(prop ActiveState)" = active ] || fail "ActiveState=$(prop ActiveState)"
tb_wait "prop StatusText | grep -qE '^[0-9]+ rebuilds? running, [0-9]+ queued; 1 of 1 engine up$'" 30 ||
	fail "StatusText: '$(prop StatusText)'"
ok "systemctl start refitd: READY (active, StatusText '$(prop StatusText)')"
tb_wait "journal | grep -q 'project a: rebuild done'" 90 || { journal >&2; fail "no build"; }
# The ids and states of project a's builds, from the REST endpoint.
builds() {
	curl -sf "http://127.0.0.1:$port/v1/builds?project=a" |
		python3 -c 'import json,sys; print(" ".join("%s:%s" % (b["id"], b["status"]) for b in json.load(sys.stdin)["builds"]))'
}
builds=$(builds)
id=${builds%%:*}
[ "$builds" = "$id:succeeded" ] || fail "GET /v1/builds: $builds"
ct refitctl status >"$TB_DIR/status.txt" 2>&1 || { cat "$TB_DIR/status.txt" >&2; fail "refitctl status"; }
ok "REST: build $id succeeded (GET /v1/builds); refitctl status answers through the listen of /etc/refit/refit.yaml"

# bash completion, loaded the way bash-completion finds it
compl() {
	ct bash -c '. /usr/share/bash-completion/bash_completion; __load_completion refitctl || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_refitctl; echo "${COMPREPLY[*]}"' - "$@"
}
[ "$(compl refitctl reb)" = rebuild ] || fail "completion of 'refitctl reb': '$(compl refitctl reb)'"
[ "$(compl refitctl rebuild '')" = a ] || fail "completion of project names: '$(compl refitctl rebuild '')'"
[ "$(compl refitctl builds --st)" = --status ] || fail "completion of builds options"
ok "bash completion: commands, options, project names from refitctl projects"

# ---- upgrade ----
pid1=$(prop MainPID)
pkg dpkg -i "/root/debs/$(basename "$deb2")"
[ "$(status)" = "ii $v2" ] || fail "dpkg status: $(status)"
tb_wait "[ \"\$(prop ActiveState)\" = active ] && [ \"\$(prop MainPID)\" != $pid1 ] && [ \"\$(prop MainPID)\" != 0 ]" 30 ||
	fail "not restarted on the new package: MainPID $pid1 -> $(prop MainPID), $(prop ActiveState)"
[ "$(sha256sum <"$M/etc/refit/refit.yaml")" = "$conf_sum" ] || fail "the admin's refit.yaml changed"
! compgen -G "$M/etc/refit/*.dpkg-*" >/dev/null || fail "dpkg left $(ls "$M/etc/refit")"
[ "$(ct systemctl is-enabled refitd.service)" = enabled ] || fail "refitd.service no longer enabled"
[ "$(ct systemctl is-enabled refitd.socket)" = disabled ] || fail "refitd.socket got enabled"
tb_wait "[ \"\$(builds)\" = $id:succeeded ]" 10 ||
	fail "after the upgrade, builds '$(builds)' instead of '$id:succeeded' (the store was not kept)"
ok "upgrade to $v2: refitd restarted (pid $pid1 -> $(prop MainPID)), build $id still in state.db, the admin's refit.yaml and the enablement kept"

# ---- remove ----
pkg dpkg -r refit
[ "$(status)" = "rc $v2" ] || fail "dpkg status after remove: $(status)"
[ "$(ct systemctl is-active refitd.service)" = inactive ] || fail "refitd still $(ct systemctl is-active refitd.service)"
[ ! -e "$M/usr/sbin/refitd" ] && [ ! -e "$M/usr/bin/refitctl" ] || fail "programs left after remove"
[ "$(sha256sum <"$M/etc/refit/refit.yaml")" = "$conf_sum" ] || fail "refit.yaml changed or gone after remove"
[ -f "$M/etc/refit/credentials/api-token" ] || fail "credentials gone after remove"
[ -s "$M/var/lib/refit/state.db" ] || fail "state gone after remove"
ct id refit >/dev/null || fail "the user is gone after remove"
ok "dpkg -r: stopped, programs gone; refit.yaml, credentials, state.db and the user kept"

# ---- purge: the state only when asked ----
pkg dpkg -P refit
[ -z "$(status)" ] || [ "$(status)" = "pn " ] || fail "dpkg status after purge: $(status)"
[ ! -e "$M/etc/refit" ] || fail "/etc/refit left after purge: $(ls -R "$M/etc/refit")"
[ ! -e "$M/etc/systemd/system/multi-user.target.wants/refitd.service" ] || fail "the enable symlink is left"
[ -s "$M/var/lib/refit/state.db" ] || fail "purge deleted the state without being asked"
grep -q 'kept the state in /var/lib/refit' "$TB_DIR/dpkg.log" || fail "purge did not say where the state is"
ct id refit >/dev/null || fail "the user is gone after purge"
ok "dpkg -P: /etc/refit and the enable symlink gone; state.db kept and said so; the user kept"

pkg dpkg -i "/root/debs/$(basename "$deb2")"
pkg env REFIT_PURGE_STATE=yes dpkg -P refit
[ ! -e "$M/var/lib/refit" ] || fail "REFIT_PURGE_STATE=yes left /var/lib/refit"
ok "REFIT_PURGE_STATE=yes dpkg -P: /var/lib/refit deleted"
ns_poweroff
