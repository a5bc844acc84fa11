#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test guest's base initramfs: static busybox, vm/guest/init, the
# Debian kernel modules listed in vm/guest-modules.txt with their
# dependencies (decompressed, with a load order), our modules and the guest
# test programs.
#
# Usage: mkinitramfs.sh [--host-bin PATH]... [--replace-module NAME=FILE.ko]...
#                       OUT.cpio.gz KMODDIR TESTS_DIR MODULE.ko...
# Our modules are loaded in the order given. --host-bin adds a dynamically
# linked host program (e.g. Debian's iio_info) to /usr/bin with the shared
# libraries it needs; --static-bin adds a static one. --replace-module
# loads our build of a Debian module (e.g. a patched usb_f_fs) in its place.
set -euo pipefail

host_bins=() static_bins=()
declare -A replace
while [ $# -gt 0 ]; do
	case $1 in
	--host-bin) host_bins+=("$2"); shift 2 ;;
	--replace-module) replace[${2%%=*}]=${2#*=}; shift 2 ;;
	--static-bin) static_bins+=("$2"); shift 2 ;;
	*) break ;;
	esac
done
out=$1 kmoddir=$2 testsdir=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,etc/izc,proc,sys,dev,tmp,tests,lib/modules/kernel,lib/izc/extra}

busybox=$(command -v busybox)
if ! file -L "$busybox" | grep -q 'statically linked'; then
	echo "mkinitramfs: $busybox is not static (install busybox-static)" >&2
	exit 1
fi
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
install -m 0755 "$here/guest/init" "$stage/init"
: >"$stage/etc/izc/run"

# Module name -> file, with '-' and '_' equivalent as the kernel treats them.
declare -A modfile
while IFS= read -r -d '' f; do
	name=$(basename "$f" .ko.xz)
	modfile[${name//-/_}]=$f
done < <(find "$kmoddir/kernel" -name '*.ko.xz' -print0)

declare -A seen
order=()
add_module() {
	local name=${1//-/_} f deps dep cat
	[ -n "${seen[$name]:-}" ] && return
	seen[$name]=1
	f=${replace[$name]:-}
	if [ -n "$f" ]; then
		cat=(cat)
	else
		f=${modfile[$name]:-}
		cat=(xz -dc)
	fi
	if [ -z "$f" ]; then
		echo "mkinitramfs: kernel module $name not found in $kmoddir" >&2
		exit 1
	fi
	deps=$("${cat[@]}" "$f" | strings | sed -n 's/^depends=//p' | tr ',' ' ')
	for dep in $deps; do
		add_module "$dep"
	done
	"${cat[@]}" "$f" >"$stage/lib/modules/kernel/$name.ko"
	order+=("$name")
}
while read -r line; do
	line=${line%%#*}
	for m in $line; do add_module "$m"; done
done <"$here/guest-modules.txt"
printf '%s\n' "${order[@]}" >"$stage/lib/modules/kernel/load-order"

: >"$stage/lib/izc/load-order"
for ko in "$@"; do
	name=$(basename "$ko" .ko)
	cp "$ko" "$stage/lib/izc/$name.ko"
	echo "$name" >>"$stage/lib/izc/load-order"
done

if [ -d "$testsdir" ]; then
	cp -a "$testsdir"/. "$stage/tests/"
	# Test fixture modules (never loaded at boot) go beside ours so the
	# runner unloads them after each test too.
	if [ -d "$stage/tests/modules" ]; then
		mv "$stage/tests/modules"/*.ko "$stage/lib/izc/extra/" 2>/dev/null || true
		rmdir "$stage/tests/modules" 2>/dev/null || rm -rf "$stage/tests/modules"
	fi
fi

for bin in "${static_bins[@]}"; do
	install -m 0755 "$bin" "$stage/usr/bin/"
done
# A dynamic program needs its loader and libraries at the paths ldd names.
for bin in "${host_bins[@]}"; do
	install -m 0755 "$bin" "$stage/usr/bin/"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
done

(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
