#!/bin/sh
# Regenerates include/<arch>/vmlinux.h. Run by hand (as root, for apt), never by the build;
# commit the result. See README.md beside this file.
#
#   ./regen-vmlinux.sh x86_64         # from this machine's kernel BTF (/sys/kernel/btf/vmlinux)
#   ./regen-vmlinux.sh arm64 [PKG]    # from a Debian arm64 kernel package, default: the newest
#                                     # linux-image-*-arm64-unsigned the apt sources offer
set -eu

here=$(cd "$(dirname "$0")" && pwd)
arch=${1:?usage: $0 x86_64|arm64 [package]}

case "$arch" in
x86_64)
	[ "$(uname -m)" = x86_64 ] || { echo "run on an x86_64 machine" >&2; exit 1; }
	mkdir -p "$here/x86_64"
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$here/x86_64/vmlinux.h"
	echo "wrote $here/x86_64/vmlinux.h from $(uname -r)"
	;;
arm64)
	work=$(mktemp -d)
	added=
	cleanup() {
		if [ -n "$added" ]; then # leave dpkg as found: nothing arm64 was installed, only downloaded
			dpkg --remove-architecture arm64 && apt-get update -qq || true
		fi
		rm -rf "$work"
	}
	trap cleanup EXIT
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
		added=1
	fi
	apt-get update -qq
	pkg=${2:-$(apt-cache search --names-only '^linux-image-[0-9.]+.*-arm64-unsigned$' |
		awk '{print $1}' | grep -v -e cloud -e '-rt-' | sort -V | tail -n 1)}
	[ -n "$pkg" ] || { echo "no linux-image-*-arm64-unsigned package found" >&2; exit 1; }
	(cd "$work" && apt-get download "$pkg:arm64")
	dpkg-deb -x "$work"/*.deb "$work/root"
	python3 "$here/extract-btf.py" "$work"/root/boot/vmlinuz-* "$work/vmlinux.btf"
	mkdir -p "$here/arm64"
	bpftool btf dump file "$work/vmlinux.btf" format c > "$here/arm64/vmlinux.h"
	echo "wrote $here/arm64/vmlinux.h from $pkg"
	;;
*)
	echo "unknown arch $arch (x86_64 or arm64)" >&2
	exit 1
	;;
esac
