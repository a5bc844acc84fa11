#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Generate the patched FunctionFS sources this folder builds: copy Debian's
# linux-source-6.12 drivers/usb/gadget/function/f_fs.c and the local headers
# it includes, apply our patches with patch -p1, in name order, and write
# the results side by side into OUT_DIR (f_fs.c finds its "..." includes
# next to itself).
#
# Usage: prepare.sh SRC_DIR OUT_DIR
#   SRC_DIR  a kernel source tree holding the files below
#            (build/src/linux, extracted by vm/fetch-source.sh)
#   OUT_DIR  where the files are written (this folder for the Kbuild)
#
# The files are patched in a temporary tree first, so a patch that does
# not apply leaves nothing half-patched behind. f_fs.c is written last: the
# Kbuild regenerates everything when it is missing or out of date.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SRC_DIR OUT_DIR" >&2
	exit 2
fi
src=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
headers="drivers/usb/gadget/function/u_fs.h drivers/usb/gadget/u_os_desc.h
	drivers/usb/gadget/configfs.h"
main=drivers/usb/gadget/function/f_fs.c

for f in $headers $main; do
	if [ ! -f "$src/$f" ]; then
		echo "prepare.sh: $src/$f not found (run vm/fetch-source.sh)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in $headers $main; do
	mkdir -p "$tmp/$(dirname "$f")"
	cp "$src/$f" "$tmp/$f"
done
for p in "$here"/[0-9][0-9][0-9][0-9]-*.patch; do
	patch -s -p1 --no-backup-if-mismatch -d "$tmp" <"$p"
done
mkdir -p "$out"
for f in $headers $main; do
	name=$(basename "$f")
	cp "$tmp/$f" "$out/$name.tmp"
	mv "$out/$name.tmp" "$out/$name"
done
