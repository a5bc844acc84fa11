#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: host unit tests (under valgrind), the installed library used
# through pkg-config, the guest suite, and the bench self-test
# (the runner must report a failing or skipped check, a kernel WARNING, a
# use-after-free (also one nothing allocates again), a missed plan, a bad exit
# status, a hung test, a module left loaded and a DMABUF left exported, and
# boot again only when the kernel died before /init).
# Each phase ends in "N passed, N failed"; the last line is the total.
#
# Usage: check.sh BUILD KERNEL INITRAMFS UNIT_DIR|"" GUEST_TEST...
set -uo pipefail

build=$1 kernel=$2 initramfs=$3 unitdir=$4
shift 4
log=$build/check
mkdir -p "$log"
rm -f "$log/total"
total_pass=0 total_fail=0

# Add a phase's closing "N passed, N failed" line to the totals; a phase
# that printed none failed as a whole.
count() {
	local name=$1 file=$2 line p f
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$file" | tail -n 1)
	if [ -z "$line" ]; then
		echo "check: $name printed no result line" >&2
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	echo "== $name: $p passed, $f failed"
}

if [ -n "$unitdir" ]; then
	# Under valgrind: a memory error or leak fails the phase even when every
	# assertion passed.
	echo "== host unit tests (valgrind)"
	make --no-print-directory -C "$unitdir" O="$build" valgrind 2>&1 | tee "$log/unit.log"
	urc=${PIPESTATUS[0]}
	count "host unit tests" "$log/unit.log"
	if [ "$urc" != 0 ] && ! grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed' "$log/unit.log"; then
		echo "check: valgrind reported errors in the host unit tests"
		total_fail=$((total_fail + 1))
	fi
	echo "== libizc installed: pkg-config consumers"
	tests/install/check.sh "$build" 2>&1 | tee "$log/install.log"
	count "libizc install" "$log/install.log"
fi

echo "== guest suite: $*"
vm/run-guest --kernel "$kernel" --initramfs "$initramfs" --out "$log/guest" "$@" 2>&1 |
	tee "$log/guest.log"
count "guest suite" "$log/guest.log"

# The bench must catch what it exists to catch. Each expectation is a check.
# hold-module and hold-dmabuf run last: the processes they leave behind keep
# a module loaded and a DMABUF exported.
echo "== bench self-test: failures the runner must catch"
vm/run-guest --kernel "$kernel" --initramfs "$initramfs" --out "$log/selftest" \
	--test-timeout 10 fail-tap skip-tap warn-module uaf-module uaf-quiet-module plan-short \
	exit-status hang hold-module hold-dmabuf >"$log/selftest.log" 2>&1
src=$?
sp=0 sf=0
# check CONDITION TEXT: one self-test check, CONDITION eval'd.
check() {
	if eval "$1"; then
		sp=$((sp + 1)); echo "ok - $2"
	else
		sf=$((sf + 1)); echo "not ok - $2"
		return 1
	fi
}
# expect REGEX TEXT: the self-test run's log has a line matching REGEX.
expect() {
	local re=$1
	check 'grep -Eq "$re" "$log/selftest.log"' "$2"
}
expect '^FAIL fail-tap .*1 not ok' "a failing TAP test is reported as failed"
expect '^ +not ok 2 - deliberate failure' "the failing assertion is printed"
expect '^FAIL warn-module .*kernel log' "a kernel WARNING fails a test that passed"
expect 'dmesg: .*WARNING: .*izc_selftest_warn' "the WARNING line is printed"
expect '^FAIL uaf-module .*kernel log' "a use-after-free write fails a test that passed"
expect 'dmesg: .*(BUG kmalloc-[0-9]+ .*(Poison overwritten|Object corrupt)|BUG: KFENCE: use-after-free)' \
	"slab debugging reported the use-after-free"
expect '^FAIL uaf-quiet-module .*kernel log' "a write after free into an object nobody allocates again fails a test that passed"
expect '^FAIL skip-tap .*1 not ok' "a skipped check is counted as failed"
expect '^FAIL plan-short .*ran 2 of 3 planned' "a test that misses its plan fails"
expect '^FAIL exit-status .*exit status 3' "a test that exits non-zero after passing checks fails"
expect '^FAIL hang .*killed \(timeout\)' "a hung test is killed and reported"
expect '^FAIL hold-module .*modules left loaded: izc_sim_adc' "a module that cannot be unloaded fails the test"
expect '^FAIL hold-dmabuf .* 1 DMABUFs left exported' "a DMABUF still exported after the test fails it"
check '[ $src != 0 ]' "the runner exits non-zero on failure" || cat "$log/selftest.log"

# A kernel that dies before /init gets one more boot; a death from /init on
# never does (it may be ours). The first: no init in the initramfs, so the
# stock kernel panics looking for a root fs, twice. The second: a WARNING
# of ours panics the kernel with panic_on_warn, after /init started.
rm -rf "$log/boot-retry" "$log/boot-late"
vm/run-guest --kernel "$kernel" --initramfs "$initramfs" --out "$log/boot-retry" \
	--append rdinit=/nonexistent --timeout 60 fail-tap >"$log/boot-retry.log" 2>&1
brc=$?
vm/run-guest --kernel "$kernel" --initramfs "$initramfs" --out "$log/boot-late" \
	--append panic_on_warn=1 --timeout 60 warn-module >"$log/boot-late.log" 2>&1
lrc=$?
check '[ $brc != 0 ] && grep -q "^FAIL fail-tap .*no result" "$log/boot-retry.log"' \
	"a kernel that never reaches /init fails the run"
check 'grep -q "the kernel died before /init (see console-boot1.log); booting again" "$log/boot-retry.log" &&
	grep -q "Kernel panic" "$log/boot-retry/console-boot1.log" &&
	grep -q "Kernel panic" "$log/boot-retry/console.log"' \
	"it is booted twice, the first console kept"
check '[ $lrc != 0 ] && grep -q "^FAIL warn-module .*cut short after 0 of 1 checks: the guest died" "$log/boot-late.log" &&
	grep -q "Kernel panic" "$log/boot-late/console.log"' \
	"a kernel panic after /init started fails the run"
check '! grep -q "booting again" "$log/boot-late.log" && [ ! -e "$log/boot-late/console-boot1.log" ]' \
	"and is not booted again"
echo "$sp passed, $sf failed" >"$log/selftest.count"
count "bench self-test" "$log/selftest.count"

# Also in a file, so that .ci/run never mistakes a phase's line for the total.
echo "$total_pass passed, $total_fail failed" | tee "$log/total"
[ $total_fail = 0 ]
