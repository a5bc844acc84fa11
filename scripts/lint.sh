#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make lint`: checkpatch --strict (Debian's linux-source-6.12) and sparse on
# our kernel code; clang-format and cppcheck on userspace. Prints each
# finding and exits non-zero if there is any.
#
# Usage: lint.sh BUILD KDIR KCOMMON
set -uo pipefail

build=$1 kdir=$2 kcommon=$3
failed=0
say() { printf '== %s\n' "$*"; }

vm/fetch-source.sh "$build/src" || exit 1
checkpatch=$build/src/linux/scripts/checkpatch.pl

kernel_files=$(git ls-files 'kernel/*.c' 'kernel/*.h' 'tests/guest/selftest/fixtures/*.c')
say "checkpatch --strict: $(echo "$kernel_files" | wc -w) files"
for f in $kernel_files; do
	if ! out=$(perl "$checkpatch" --strict --no-tree --quiet --show-types -f "$f" 2>&1); then
		echo "$out"
		failed=1
	fi
done

patches=$(git ls-files 'kernel/*.patch')
say "checkpatch --strict: $(echo "$patches" | wc -w) patches"
for p in $patches; do
	# From stdin: given a path inside a git work tree whose file is
	# modified, checkpatch checks that file's own diff instead. Fixes:
	# tags name upstream commits, which only a Linux git tree could
	# confirm.
	if ! out=$(perl "$checkpatch" --strict --no-tree --quiet --show-types \
		--ignore UNKNOWN_COMMIT_ID - <"$p" 2>&1); then
		echo "$p:"
		echo "$out"
		failed=1
	fi
done

say "sparse"
kmake=(make -C "$kdir")
[ -n "$kcommon" ] && kmake+=(-f "$kcommon/Makefile")
# C=2 checks every file, built or not; only findings in our tree count.
out=$("${kmake[@]}" M="$PWD/kernel" C=2 CHECK=sparse modules 2>&1 |
	grep -E "^$PWD/.*: (warning|error):" || true)
if [ -n "$out" ]; then
	echo "$out"
	failed=1
fi

user_files=$(git ls-files 'lib/*.c' 'lib/*.h' 'tools/*.c' 'tools/*.h' \
	'tests/unit/*.c' 'tests/unit/*.h' 'tests/guest/*.c' 'tests/guest/*.h' \
	'tests/install/*.c' 'tests/install/*.cpp')
if [ -n "$user_files" ]; then
	say "clang-format: $(echo "$user_files" | wc -w) files"
	# shellcheck disable=SC2086 # one word per file
	if ! clang-format --dry-run --Werror $user_files; then
		failed=1
	fi
	say "cppcheck"
	# shellcheck disable=SC2086
	if ! cppcheck -q --error-exitcode=1 --inline-suppr --std=c11 \
		--enable=warning,style,performance,portability \
		--suppress=missingIncludeSystem -Ilib/include -Itests/guest $user_files; then
		failed=1
	fi
fi

if [ $failed = 0 ]; then
	say "lint clean"
else
	say "lint found problems"
fi
exit $failed
