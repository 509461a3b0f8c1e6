#!/bin/sh
# Packs the install tree that `make deb` staged into refit_VERSION_ARCH.deb
# with dpkg's own tools: dpkg-shlibdeps (library dependencies),
# dpkg-gencontrol (DEBIAN/control), dpkg-deb --root-owner-group (no fakeroot,
# no root needed). Usage: mkdeb.sh DIR, where DIR/debian/refit is the staged
# `make install DESTDIR=` tree; the .deb is written to DIR/..
#
# The version is $DEB_VERSION, or `git describe` made Debian-valid (deb_version
# below). The package is native (no Debian revision), so it ships changelog.gz.
set -eu
umask 022
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$1" && pwd)
pkg=$dir/debian/refit
top=$(cd "$here/../.." && pwd)

# vX.Y.Z -> X.Y.Z; N commits after it -> X.Y.Z+N.gSHA; a dirty tree adds
# .dirty; no tag -> 0.0~gitN.gSHA (N = commits on the branch, so later builds
# sort higher); a tag's '-' (v1.2-rc1) becomes '~' (a pre-release sorts lower).
deb_version() {
	d=$(git -C "$top" describe --tags --long --match 'v[0-9]*' --dirty 2>/dev/null) || d=
	dirty=
	case $d in *-dirty) dirty=.dirty d=${d%-dirty} ;; esac
	if [ -n "$d" ]; then
		sha=${d##*-}
		rest=${d%-*}
		n=${rest##*-}
		base=$(echo "${rest%-*}" | sed -e 's/^v//' -e 's/-/~/g' -e 's/[^A-Za-z0-9.+~]/./g')
		if [ "$n" = 0 ] && [ -z "$dirty" ]; then
			echo "$base"
		else
			echo "$base+$n.$sha$dirty"
		fi
	elif sha=$(git -C "$top" rev-parse --short HEAD 2>/dev/null); then
		git -C "$top" diff --quiet HEAD 2>/dev/null || dirty=.dirty
		echo "0.0~git$(git -C "$top" rev-list --count HEAD).g$sha$dirty"
	else
		echo 0.0
	fi
}

version=${DEB_VERSION:-$(deb_version)}
arch=$(dpkg --print-architecture)
out=$(cd "$dir/.." && pwd)/refit_${version}_$arch.deb
# Reproducible: the dates are the last commit's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

# ---- the tree: what `make install` staged, made Debian-shaped ----
# /etc/refit/credentials is made by the tmpfiles snippet at configure time,
# so that dpkg never owns (nor, on removal, tries to delete) the secrets' directory.
rmdir "$pkg/etc/refit/credentials"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$pkg/usr/sbin/refitd" "$pkg/usr/bin/refitctl"
gzip -9nf "$pkg"/usr/share/man/man*/*
install -d "$pkg/usr/share/doc/refit" "$pkg/usr/share/lintian/overrides" "$pkg/DEBIAN"
install -m 0644 "$here/copyright" "$pkg/usr/share/doc/refit/copyright"
install -m 0644 "$here/lintian-overrides" "$pkg/usr/share/lintian/overrides/refit"
{
	printf 'refit (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * Built by make deb from %s.\n\n' \
		"$(git -C "$top" describe --always --dirty 2>/dev/null || echo 'a source tree')"
	printf ' -- %s  %s\n' "$(sed -n 's/^Maintainer: //p' "$here/control")" \
		"$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} >"$dir/debian/changelog"
gzip -9n <"$dir/debian/changelog" >"$pkg/usr/share/doc/refit/changelog.gz"

# ---- DEBIAN/: control from dpkg-gencontrol, scripts, conffiles, md5sums ----
install -m 0644 "$here/control" "$dir/debian/control"
cd "$dir"
rm -f debian/substvars debian/files
dpkg-shlibdeps -Tdebian/substvars debian/refit/usr/sbin/refitd debian/refit/usr/bin/refitctl
echo 'misc:Depends=systemd | systemd-standalone-sysusers | systemd-sysusers' >>debian/substvars
dpkg-gencontrol -prefit -v"$version" -ldebian/changelog -cdebian/control \
	-Tdebian/substvars -fdebian/files -Pdebian/refit
for f in postinst prerm postrm; do
	install -m 0755 "$here/$f" "$pkg/DEBIAN/$f"
done
install -m 0644 "$here/conffiles" "$pkg/DEBIAN/conffiles"
(cd "$pkg" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\n' |
	LC_ALL=C sort | xargs md5sum >DEBIAN/md5sums)
chmod 0644 "$pkg/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
