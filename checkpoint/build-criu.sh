#!/bin/sh
# Build CRIU from a source tarball into DEST/criu (used by `make criu`).
# usage: build-criu.sh [--if-missing] SRC_TARBALL DEST_DIR
# Does nothing when DEST/criu exists and reports version >= 4.1 (with
# --if-missing, also when $PYREPLAY_CRIU or criu on PATH does, as
# checkpoint.Find would take those first). Installs the Debian build packages
# that are missing (apt-get, non-interactive; root).
set -eu
if_missing=
if [ "${1:-}" = --if-missing ]; then if_missing=1; shift; fi
src=$1 dest=$2

criu_ok() { # $1: binary; true when its version is >= 4.1
	v=$("$1" --version 2>/dev/null | sed -n 's/^Version: *//p' | head -1)
	[ -n "$v" ] || return 1
	maj=${v%%.*}; rest=${v#*.}; min=${rest%%.*}
	case "$maj$min" in *[!0-9]*|"") return 1;; esac
	[ "$maj" -gt 4 ] || { [ "$maj" -eq 4 ] && [ "$min" -ge 1 ]; }
}

if [ -n "$if_missing" ]; then
	for c in "${PYREPLAY_CRIU:-}" "$(command -v criu || true)"; do
		if [ -n "$c" ] && criu_ok "$c" && "$c" check >/dev/null 2>&1; then
			echo "criu: using $c ($("$c" --version | sed -n 's/^Version: *//p'))"
			exit 0
		fi
	done
fi
if criu_ok "$dest/criu"; then
	echo "criu: $dest/criu is usable ($("$dest/criu" --version | sed -n 's/^Version: *//p'))"
	exit 0
fi
[ -f "$src" ] || { echo "criu: no CRIU source tarball at $src (set CRIU_SRC=...)" >&2; exit 1; }

debs="libprotobuf-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler python3-protobuf
libnl-3-dev libcap-dev libnet1-dev pkg-config libbsd-dev libaio-dev libgnutls28-dev
libnftables-dev uuid-dev gcc make xz-utils"
missing=
for p in $debs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "criu: building CRIU needs these Debian packages (install them as root):$missing" >&2
		exit 1
	fi
	echo "criu: installing build packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

work="$dest/src"
rm -rf "$work"; mkdir -p "$work"
tar -xJf "$src" -C "$work" --strip-components=1
# CRIU's Makefiles read some generic variables (V, DEBUG, ...); keep ours out.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$work" -j"$(nproc)" criu
cp "$work/criu/criu" "$dest/criu.new"
mv "$dest/criu.new" "$dest/criu"
rm -rf "$work"
criu_ok "$dest/criu" || { echo "criu: the built $dest/criu does not report version >= 4.1" >&2; exit 1; }
echo "criu: built $dest/criu ($("$dest/criu" --version | sed -n 's/^Version: *//p'))"
