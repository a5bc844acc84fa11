#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Generate the patched dummy_hcd.c this folder builds: copy Debian's
# linux-source-6.12 drivers/usb/gadget/udc/dummy_hcd.c and apply our
# patches to it with patch -p1, in name order.
#
# Usage: prepare.sh SRC_DIR OUT_DIR
#   SRC_DIR  a kernel source tree holding drivers/usb/gadget/udc/dummy_hcd.c
#            (build/src/linux, extracted by vm/fetch-source.sh)
#   OUT_DIR  where dummy_hcd.c is written (this folder for the Kbuild)
#
# The result is written to a temporary tree first, so a patch that does not
# apply leaves no half-patched dummy_hcd.c behind.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SRC_DIR OUT_DIR" >&2
	exit 2
fi
src=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
file=drivers/usb/gadget/udc/dummy_hcd.c

if [ ! -f "$src/$file" ]; then
	echo "prepare.sh: $src/$file not found (run vm/fetch-source.sh)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/$(dirname "$file")"
cp "$src/$file" "$tmp/$file"
for p in "$here"/[0-9][0-9][0-9][0-9]-*.patch; do
	patch -s -p1 --no-backup-if-mismatch -d "$tmp" <"$p"
done
mkdir -p "$out"
cp "$tmp/$file" "$out/dummy_hcd.c.tmp"
mv "$out/dummy_hcd.c.tmp" "$out/dummy_hcd.c"
