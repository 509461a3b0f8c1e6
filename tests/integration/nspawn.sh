# Sourced by the tests that need systemd as PID 1 (t_systemd_live.sh, t_deb.sh),
# after lib.sh and tb_init: a container (systemd-nspawn) that boots this
# machine's own Debian from an overlay of /, the upper layer a tmpfs, so that
# nothing the test installs or changes in it reaches the host.
#
#   ns_init                 skips the test (exit 0, "SKIP:") where this cannot
#                           run: not root, no systemd-nspawn (Debian package
#                           systemd-container), no overlayfs; else mounts the
#                           overlay at $M and installs the cleanup trap
#   ns_target UNIT...       the target the container boots: the basic system
#                           and UNIT..., none of this machine's own services
#   ns_boot [NSPAWN_ARG...] boots it, waits for the system to run; sets $CT
#   ct CMD...               runs CMD inside the container (all namespaces)
#   ns_poweroff             shuts it down

skip() {
	echo "SKIP: $*"
	exit 0
}

ns_init() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (Debian package systemd-container)"
	[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd"
	ns=$TB_DIR/ns
	M=$ns/root
	NSPAWN=
	trap ns_cleanup EXIT
	mkdir -p "$ns/ovl" "$M"
	mount -t tmpfs -o size=2g,mode=0755 tmpfs "$ns/ovl" || skip "cannot mount a tmpfs"
	mkdir -p "$ns/ovl/upper" "$ns/ovl/work"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$ns/ovl/upper,workdir=$ns/ovl/work" "$M" ||
		skip "no overlay of / here"
}

# The container goes first, then its mounts; should one stay mounted, the
# test bed is kept rather than removed through it.
ns_cleanup() {
	[ -n "$NSPAWN" ] && tb_stop_pid "$NSPAWN"
	umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
	umount "$ns/ovl" 2>/dev/null || umount -l "$ns/ovl" 2>/dev/null
	if mountpoint -q "$M" || mountpoint -q "$ns/ovl"; then
		TB_KEEP=1
		tb_log "$M is still mounted: keeping $TB_DIR"
	fi
	tb_cleanup
}

# Whatever could touch the host's network or engines is masked as well.
ns_target() {
	cat >"$M/etc/systemd/system/refit-test.target" <<-EOF
		[Unit]
		Description=refit test: the basic system and $*
		Requires=basic.target
		After=basic.target
		Wants=$*
		AllowIsolate=yes
	EOF
	for u in timers.target network-online.target networking.service ifupdown-wait-online.service \
		systemd-networkd.service systemd-networkd-wait-online.service systemd-resolved.service \
		NetworkManager.service NetworkManager-wait-online.service docker.service docker.socket \
		containerd.service avahi-daemon.socket avahi-daemon.service; do
		ln -sf /dev/null "$M/etc/systemd/system/$u"
	done
}

ns_boot() {
	local keep=()
	[ -d /run/systemd/system ] || keep=(--keep-unit) # no host systemd to make a scope
	systemd-nspawn -D "$M" --register=no "${keep[@]}" --link-journal=no --machine="refit-t$$" \
		"$@" --console=pipe -b systemd.unit=refit-test.target \
		</dev/null >"$TB_DIR/console.log" 2>&1 &
	NSPAWN=$!
	tb_wait "pgrep -P $NSPAWN >/dev/null" 30 ||
		{ cat "$TB_DIR/console.log" >&2; fail "the container did not start"; }
	CT=$(pgrep -P $NSPAWN | head -1)
	tb_wait "ct systemctl is-system-running | grep -qE 'running|degraded'" 90 ||
		{ ct systemctl --failed --no-pager >&2; fail "the container did not boot"; }
}

ct() { nsenter -t "$CT" -a "$@"; }

ns_poweroff() {
	ct systemctl poweroff >/dev/null 2>&1
	tb_wait "! kill -0 $NSPAWN" 30 || true
}
