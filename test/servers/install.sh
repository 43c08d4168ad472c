#!/usr/bin/env bash
# Installs what the real-server test harness needs on a Debian 12 (bookworm) machine.
# Run as root. Idempotent; takes a few seconds when everything is already present.
#
#   - bookworm-backports apt source (deb822) if missing
#   - prosody + ejabberd from bookworm-backports; openssl, debootstrap, hyperfine
#   - Prosody 0.12 (bookworm main's package, which conflicts with the installed 13) unpacked
#     with dpkg -x into ${XMPPADM_TEST_CACHE:-/var/cache/xmppadm-test}/prosody-0.12
#   - stops/disables the packaged system services (the harness runs its own instances)
#   - ejabberd 26.07 in a debootstrap trixie chroot (trixie-backports), built once into
#     ${XMPPADM_TEST_CACHE:-/var/cache/xmppadm-test}/ejabberd-26.07, with erlang-p1-sqlite3
#     (ejabberd's SQLite driver: the 26.07 test server stores its data in SQLite)
#
# Environment: XMPPADM_TEST_CACHE (cache dir), XMPPADM_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              XMPPADM_REBUILD_CHROOT=1 (throw the chroot away and build it again).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

CACHE="${XMPPADM_TEST_CACHE:-/var/cache/xmppadm-test}"
ROOT="$CACHE/ejabberd-26.07"
MARKER="$ROOT/.xmppadm-chroot-ready"
MIRROR="${XMPPADM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HOST_PKGS=(openssl debootstrap hyperfine ca-certificates coreutils man-db)
BPO_PKGS=(prosody ejabberd)
# installed into the ejabberd 26.07 chroot, from trixie-backports
CHROOT_PKGS=(ejabberd erlang-p1-sqlite3)

T0=$(date +%s%N)
say() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[install %d.%02ds] %s\n' $((ms / 1000)) $((ms % 1000 / 10)) "$*"; }
die() { echo "install.sh: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and builds a chroot)"
[ -r /etc/os-release ] && . /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || echo "install.sh: warning: expected Debian 12 (bookworm), found '${VERSION_CODENAME:-unknown}'" >&2

# ---------------------------------------------------------------- host packages
has_bpo_source() {
	grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
installed_version() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null | awk '$1=="ii"{print $2}'; }
version_ge() { [ -n "$1" ] && dpkg --compare-versions "$1" ge "$2"; }

need_install=0
for p in "${HOST_PKGS[@]}"; do [ -n "$(installed_version "$p")" ] || need_install=1; done
version_ge "$(installed_version prosody)" 13.0 || need_install=1
version_ge "$(installed_version ejabberd)" 24.12 || need_install=1

if ! has_bpo_source; then
	say "adding bookworm-backports apt source"
	cat > /etc/apt/sources.list.d/xmppadm-bookworm-backports.sources <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	need_install=1
fi

if [ "$need_install" = 1 ]; then
	# Keep the packages' maintainer scripts from starting system services while installing
	# (only if the machine has no policy-rc.d of its own).
	TMP_POLICY=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		TMP_POLICY=/usr/sbin/policy-rc.d
	fi
	cleanup_policy() { if [ -n "${TMP_POLICY:-}" ]; then rm -f "$TMP_POLICY"; fi; TMP_POLICY=""; }
	trap cleanup_policy EXIT
	mkdir -p "$CACHE"
	APTLOG="$CACHE/apt-host.log"
	: > "$APTLOG"
	apt_fail() { tail -n 25 "$APTLOG" >&2; die "$1 (full log: $APTLOG)"; }
	say "apt-get update"
	apt-get update -q >> "$APTLOG" 2>&1 || apt_fail "apt-get update failed"
	say "installing ${HOST_PKGS[*]}"
	apt-get install -y -q --no-install-recommends "${HOST_PKGS[@]}" >> "$APTLOG" 2>&1 \
		|| apt_fail "apt-get install ${HOST_PKGS[*]} failed"
	say "installing ${BPO_PKGS[*]} from bookworm-backports"
	apt-get install -y -q -t bookworm-backports "${BPO_PKGS[@]}" >> "$APTLOG" 2>&1 \
		|| apt_fail "apt-get install -t bookworm-backports ${BPO_PKGS[*]} failed"
	cleanup_policy
	trap - EXIT
fi
version_ge "$(installed_version prosody)" 13.0 || die "prosody >= 13 not installed (got '$(installed_version prosody)')"
version_ge "$(installed_version ejabberd)" 24.12 || die "ejabberd >= 24.12 not installed (got '$(installed_version ejabberd)')"
say "host packages ok: prosody $(installed_version prosody), ejabberd $(installed_version ejabberd)"

# ------------------------------------------- system services: we run our own instances
if [ -d /run/systemd/system ]; then
	for s in prosody ejabberd; do
		if systemctl is-enabled --quiet "$s" 2>/dev/null || systemctl is-active --quiet "$s" 2>/dev/null; then
			say "stopping and disabling system service $s"
			systemctl disable --now "$s" >/dev/null 2>&1 || echo "install.sh: warning: could not disable $s" >&2
		fi
	done
else
	# No systemd (containers): SysV scripts. Stop only what the packaged service runs.
	if [ -f /run/prosody/prosody.pid ] && kill -0 "$(cat /run/prosody/prosody.pid)" 2>/dev/null; then
		say "stopping system prosody"; /etc/init.d/prosody stop >/dev/null 2>&1 || true
	fi
	if [ -f /run/ejabberd/ejabberd.pid ] && kill -0 "$(cat /run/ejabberd/ejabberd.pid)" 2>/dev/null; then
		say "stopping system ejabberd"; /etc/init.d/ejabberd stop >/dev/null 2>&1 || true
	fi
	for s in prosody ejabberd; do
		if [ -x "/etc/init.d/$s" ] && ls /etc/rc[2-5].d/S*"$s" >/dev/null 2>&1; then
			update-rc.d "$s" disable >/dev/null 2>&1 || true
		fi
	done
fi

# ----------------------------------- Prosody 0.12 from bookworm main, unpacked (cached)
# bookworm main's prosody (0.12.x) cannot be installed next to the backports one (13), so its .deb
# is unpacked into a directory of its own; its launch scripts get their CFG_* paths pointed there.
# It needs nothing the installed 13 does not already depend on (same Depends list: lua5.4 and
# the lua5.4 libraries).
P012="$CACHE/prosody-0.12"
P012_MARKER="$P012/.xmppadm-ready"
if [ -f "$P012_MARKER" ] && [ -x "$P012/usr/bin/prosody" ]; then
	say "prosody 0.12 ok: $P012 ($(cat "$P012_MARKER"))"
else
	mkdir -p "$CACHE"
	p012_version() { apt-cache madison prosody 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); if ($2 ~ /^0\.12\./) print $2}' | sort -V | tail -n 1; }
	P012_VER=$(p012_version)
	if [ -z "$P012_VER" ]; then
		say "apt-get update (looking for bookworm main's prosody 0.12)"
		apt-get update -q >> "$CACHE/apt-host.log" 2>&1 || die "apt-get update failed (log: $CACHE/apt-host.log)"
		P012_VER=$(p012_version)
	fi
	[ -n "$P012_VER" ] || die "apt knows no prosody 0.12.x (bookworm main); is bookworm main in the apt sources?"
	P012_BUILD="$CACHE/prosody-0.12.partial"
	rm -rf "$P012_BUILD" "$P012"
	mkdir -p "$P012_BUILD/deb"
	say "apt-get download prosody=$P012_VER -> $P012"
	# (in a directory apt's sandbox user may write to, so apt does not warn about it)
	chown _apt "$P012_BUILD/deb" 2>/dev/null || true
	(cd "$P012_BUILD/deb" && apt-get download -q "prosody=$P012_VER") >> "$CACHE/apt-host.log" 2>&1 \
		|| die "apt-get download prosody=$P012_VER failed (log: $CACHE/apt-host.log)"
	dpkg -x "$P012_BUILD"/deb/prosody_*.deb "$P012_BUILD"
	rm -rf "$P012_BUILD/deb"
	for script in prosody prosodyctl; do
		sed -i \
			-e "s|^CFG_SOURCEDIR=.*|CFG_SOURCEDIR='$P012/usr/lib/prosody';|" \
			-e "s|^CFG_CONFIGDIR=.*|CFG_CONFIGDIR='$P012/etc/prosody';|" \
			-e "s|^CFG_PLUGINDIR=.*|CFG_PLUGINDIR='$P012/usr/lib/prosody/modules/';|" \
			-e "s|^CFG_DATADIR=.*|CFG_DATADIR='$P012/var/lib/prosody';|" \
			"$P012_BUILD/usr/bin/$script"
		grep -q "^CFG_SOURCEDIR='$P012/" "$P012_BUILD/usr/bin/$script" || die "could not repoint $script's CFG_* paths"
	done
	mkdir -p "$P012_BUILD/var/lib/prosody" "$P012_BUILD/etc/prosody/conf.d" "$P012_BUILD/etc/prosody/certs"
	# the packaged config includes conf.d and wants /var/log; this one just checks that it runs
	printf 'data_path = "%s/var/lib/prosody"\nlog = {}\n' "$P012" > "$P012_BUILD/etc/prosody/xmppadm-check.cfg.lua"
	mv "$P012_BUILD" "$P012"
	"$P012/usr/bin/prosodyctl" --config "$P012/etc/prosody/xmppadm-check.cfg.lua" about > "$CACHE/prosody-0.12-about.log" 2>&1 \
		|| { tail -n 20 "$CACHE/prosody-0.12-about.log" >&2; rm -rf "$P012"; die "the unpacked prosody 0.12 does not run"; }
	echo "prosody $P012_VER unpacked $(date -u +%FT%TZ)" > "$P012_MARKER"
	say "prosody 0.12 unpacked: $P012 (prosody $P012_VER, $(du -sh "$P012" | cut -f1))"
fi
# Its prosody-migrator (the tests import XEP-0227 files with it) gets the same paths; also in a
# tree unpacked before this step existed.
P012_MIGRATOR="$P012/usr/bin/prosody-migrator"
if ! grep -q "^CFG_SOURCEDIR='$P012/" "$P012_MIGRATOR"; then
	sed -i \
		-e "s|^CFG_SOURCEDIR=.*|CFG_SOURCEDIR='$P012/usr/lib/prosody';|" \
		-e "s|^CFG_CONFIGDIR=.*|CFG_CONFIGDIR='$P012/etc/prosody';|" \
		-e "s|^CFG_PLUGINDIR=.*|CFG_PLUGINDIR='$P012/usr/lib/prosody/modules/';|" \
		-e "s|^CFG_DATADIR=.*|CFG_DATADIR='$P012/var/lib/prosody';|" \
		"$P012_MIGRATOR"
	grep -q "^CFG_SOURCEDIR='$P012/" "$P012_MIGRATOR" || die "could not repoint prosody-migrator's CFG_* paths"
	say "prosody 0.12's prosody-migrator pointed at $P012"
fi

# ------------------------------------------------ ejabberd 26.07 trixie chroot (cached)
if [ -n "${XMPPADM_REBUILD_CHROOT:-}" ] && [ -e "$ROOT" ]; then
	say "XMPPADM_REBUILD_CHROOT set: removing $ROOT"
	mountpoint -q "$ROOT/proc" && umount "$ROOT/proc"
	rm -rf --one-file-system "$ROOT"
fi

CH_ENV=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C HOME=/root)
# apt-get install in a chroot: /proc mounted for the time of the install, lists dropped afterwards
chroot_install() {
	local root=$1; shift
	local log="$CACHE/debootstrap.log"
	mount -t proc proc "$root/proc"
	local rc=0
	{ chroot "$root" "${CH_ENV[@]}" apt-get update -q >> "$log" 2>&1 \
		&& chroot "$root" "${CH_ENV[@]}" apt-get install -y -q --no-install-recommends -t trixie-backports "$@" >> "$log" 2>&1; } || rc=$?
	umount "$root/proc" || umount -l "$root/proc" || true
	chroot "$root" "${CH_ENV[@]}" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
	[ "$rc" = 0 ] || { tail -n 20 "$log" >&2; die "installing $* in the chroot $root failed (log: $log)"; }
}
chroot_missing() {
	local root=$1 p missing=()
	for p in "${CHROOT_PKGS[@]}"; do
		dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
	done
	echo "${missing[*]}"
}

if [ -f "$MARKER" ] && [ -x "$ROOT/usr/sbin/ejabberdctl" ]; then
	missing=$(chroot_missing "$ROOT")
	if [ -n "$missing" ]; then
		say "adding $missing to the ejabberd chroot"
		chroot_install "$ROOT" $missing
	fi
	say "ejabberd chroot ok: $ROOT ($(cat "$MARKER"))"
	say "done"
	exit 0
fi

mkdir -p "$CACHE"
BUILD="$CACHE/ejabberd-26.07.partial"
unmount_build() { if mountpoint -q "$BUILD/proc" 2>/dev/null; then umount "$BUILD/proc" || umount -l "$BUILD/proc" || true; fi; }
trap unmount_build EXIT
if [ -e "$BUILD" ]; then
	say "removing an unfinished build at $BUILD"
	unmount_build
	rm -rf --one-file-system "$BUILD"
fi
if [ -e "$ROOT" ]; then
	say "removing an incomplete chroot at $ROOT (no marker)"
	mountpoint -q "$ROOT/proc" && umount "$ROOT/proc"
	rm -rf --one-file-system "$ROOT"
fi

say "debootstrap --variant=minbase trixie -> $BUILD (about 30 s)"
debootstrap --variant=minbase --include=ca-certificates,openssl trixie "$BUILD" "$MIRROR" \
	> "$CACHE/debootstrap.log" 2>&1 || { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }

# No service may start inside the chroot; name resolution for apt and for 'localhost'.
printf '#!/bin/sh\nexit 101\n' > "$BUILD/usr/sbin/policy-rc.d"
chmod 755 "$BUILD/usr/sbin/policy-rc.d"
grep -qE '^127\.0\.0\.1[[:space:]].*\blocalhost\b' "$BUILD/etc/hosts" 2>/dev/null \
	|| printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >> "$BUILD/etc/hosts"
cp -L /etc/resolv.conf "$BUILD/etc/resolv.conf" 2>/dev/null || true
cat > "$BUILD/etc/apt/sources.list.d/trixie-backports.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

say "installing ${CHROOT_PKGS[*]} from trixie-backports in the chroot"
chroot_install "$BUILD" "${CHROOT_PKGS[@]}"

VER=$(chroot "$BUILD" dpkg-query -W -f='${Version}' ejabberd 2>/dev/null || true)
dpkg --compare-versions "${VER:-0}" ge 26.07 || die "ejabberd in the chroot is '${VER:-missing}', expected >= 26.07"
chroot "$BUILD" getent passwd ejabberd >/dev/null || die "the chroot has no ejabberd user"
[ -x "$BUILD/usr/sbin/ejabberdctl" ] || die "the chroot has no /usr/sbin/ejabberdctl"

echo "ejabberd $VER built $(date -u +%FT%TZ)" > "$BUILD/.xmppadm-chroot-ready"
mv "$BUILD" "$ROOT"
trap - EXIT
say "ejabberd chroot built: $ROOT (ejabberd $VER, $(du -sh --one-file-system "$ROOT" | cut -f1))"
say "done"
