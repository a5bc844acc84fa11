#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libizc as a user gets it: `make -C lib install` into a staging root, then
# programs outside the tree built with nothing but pkg-config (shared, static,
# C++), and the shared object's interface checked against the header.
# Prints "ok - ..." per check and "N passed, N failed".
#
# Usage: tests/install/check.sh BUILD_DIR
set -uo pipefail

build=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
top=$(realpath "$here/../..")
work=$build/install-check
root=$work/root
rm -rf "$work"
mkdir -p "$work"
pass=0 fail=0
check() {
	if eval "$1" >>"$work/log" 2>&1; then
		pass=$((pass + 1)); echo "ok - $2"
	else
		fail=$((fail + 1)); echo "not ok - $2"
		tail -n 5 "$work/log" | sed 's/^/#   /'
	fi
}

check 'make --no-print-directory -C "$top/lib" O="$build" PREFIX=/usr DESTDIR="$root" install' \
	"make -C lib install PREFIX=/usr DESTDIR=..."
check '[ -f "$root/usr/include/izc.h" ] && [ -f "$root/usr/lib/libizc.a" ] &&
	[ -f "$root/usr/lib/libizc.so.0" ] && [ "$(readlink "$root/usr/lib/libizc.so")" = libizc.so.0 ] &&
	[ -f "$root/usr/lib/pkgconfig/izc.pc" ]' \
	"it installs izc.h, libizc.a, libizc.so.0, the libizc.so link and izc.pc"
check 'readelf -d "$root/usr/lib/libizc.so.0" | grep -q "SONAME.*\[libizc\.so\.0\]"' \
	"the shared object's soname is libizc.so.0"

# The exported functions are exactly the ones the header declares.
nm -D --defined-only "$root/usr/lib/libizc.so.0" | awk '$2 == "T" { print $3 }' | sort >"$work/exported"
sed -n 's/^[a-z].*[ *]\(izc_[a-z0-9_]*\)(.*/\1/p' "$root/usr/include/izc.h" | sort -u >"$work/declared"
check '[ -s "$work/declared" ] && diff "$work/declared" "$work/exported"' \
	"it exports the $(wc -l <"$work/declared") functions izc.h declares, and nothing else"

export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig
version=$(sed -n 's/^#define IZC_VERSION_MAJOR \([0-9]*\)/\1/p' "$top/lib/include/izc.h").$(sed -n 's/^#define IZC_VERSION_MINOR \([0-9]*\)/\1/p' "$top/lib/include/izc.h")
check '[ "$(pkg-config --modversion izc)" = "$version" ]' "pkg-config --modversion izc is $version"

cflags=$(pkg-config --cflags izc) libs=$(pkg-config --libs izc) slibs=$(pkg-config --static --libs izc)
check 'gcc -std=c11 -Wall -Wextra -Werror $cflags -o "$work/consumer" "$here/consumer.c" $libs &&
	[ "$(LD_LIBRARY_PATH=$root/usr/lib "$work/consumer")" = "libizc $version" ] &&
	LD_LIBRARY_PATH=$root/usr/lib ldd "$work/consumer" | grep -q "$root/usr/lib/libizc.so.0"' \
	"a C program built with pkg-config runs against the installed libizc.so.0"
check 'gcc -std=c11 -Wall -Wextra -Werror $cflags -static -o "$work/consumer-static" "$here/consumer.c" \
	$slibs && [ "$("$work/consumer-static")" = "libizc $version" ]' \
	"statically linked with pkg-config --static"
check 'gcc -std=c99 -pedantic -Wall -Wextra -Werror $cflags -o "$work/consumer-c99" "$here/consumer.c" $libs' \
	"the header builds as C99 with -pedantic"
check 'g++ -std=c++11 -Wall -Wextra -Werror $cflags -o "$work/consumer-cxx" "$here/consumer.cpp" $libs &&
	[ "$(LD_LIBRARY_PATH=$root/usr/lib "$work/consumer-cxx")" = "libizc $version from C++" ]' \
	"a C++ program uses the header and links the library"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
