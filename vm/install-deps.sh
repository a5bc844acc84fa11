#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, with apt, the Debian 12 packages the build, the guest bench and
# the lint need, when they are missing. Prints what it installs.
set -euo pipefail

# command or file -> package
need=(
	"gcc:gcc" "make:make" "/usr/lib/x86_64-linux-gnu/libc.a:libc6-dev"
	"qemu-system-x86_64:qemu-system-x86" "cpio:cpio" "xz:xz-utils"
	"pahole:dwarves" "sparse:sparse" "file:file" "strings:binutils"
	"clang-format:clang-format" "cppcheck:cppcheck" "valgrind:valgrind"
	"perl:perl" "gnuplot:gnuplot-nox" "bc:bc" "iio_info:libiio-utils"
	"pkg-config:pkgconf" "g++:g++" "readelf:binutils"
	"/usr/include/libdrm/drm_mode.h:libdrm-dev"
)
missing=()
for item in "${need[@]}"; do
	what=${item%%:*} pkg=${item#*:}
	case $what in
	/*) [ -e "$what" ] || missing+=("$pkg") ;;
	*) command -v "$what" >/dev/null 2>&1 || missing+=("$pkg") ;;
	esac
done
# The guest's busybox must be the static build.
if ! { command -v busybox >/dev/null && file -L "$(command -v busybox)" | grep -q 'statically linked'; }; then
	missing+=(busybox-static)
fi

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root or install them with apt" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
