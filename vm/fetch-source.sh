#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-6.12 with `apt-get download` and extract only
# the paths we use (checkpatch and its data, the files our patches apply to,
# tools/iio) into CACHE/linux. Prints the source version used.
#
# Usage: vm/fetch-source.sh CACHE_DIR
set -euo pipefail

cache=${1:?usage: fetch-source.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
paths=(
	scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
	drivers/usb/gadget/udc/dummy_hcd.c
	drivers/usb/gadget/function/f_fs.c drivers/usb/gadget/function/u_fs.h
	drivers/usb/gadget/u_os_desc.h drivers/usb/gadget/configfs.h
	tools/iio tools/include tools/build tools/scripts tools/lib
)

[ -f "$cache/linux/.extracted" ] && exit 0
ver=$(apt-cache policy linux-source-6.12 | sed -n 's/^ *Candidate: //p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	apt-get update -qq >&2
	ver=$(apt-cache policy linux-source-6.12 | sed -n 's/^ *Candidate: //p')
fi
echo "fetch-source: using linux-source-6.12 $ver" >&2
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 0777 "$tmp"
(cd "$tmp" && apt-get download -q "linux-source-6.12=$ver" >&2)
dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.12_*.deb |
	tar -x -C "$tmp" ./usr/src/linux-source-6.12.tar.xz
rm -rf "$cache/linux"
mkdir -p "$cache/linux"
tar -xJf "$tmp/usr/src/linux-source-6.12.tar.xz" -C "$cache/linux" --strip-components=1 \
	"${paths[@]/#/linux-source-6.12/}"
echo "$ver" >"$cache/linux/.extracted"
