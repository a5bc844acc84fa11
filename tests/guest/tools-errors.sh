#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage and setup errors of izc-capture say what is wrong:
#  - -c with a scan index no channel has is a usage error (exit 2) naming
#    the index, not "Numerical result out of range" (exit 1), for an index
#    and for a mask;
#  - a missing /dev/iio:deviceN is reported as such, not as a missing DMA
#    heap with the advice to use --fileio (which fails the same way);
#  - -t below the 500 ms progress slice is honoured: -t 100 on a 1 S/s
#    device gives up after 100 ms of waiting, not 500 ms;
#  - a block the DMA fails (the soft DMA's fail_transfers) stops the capture
#    with exit 1 and says the samples are lost, for both backends; nothing
#    of the failed block is written;
#  - izc-generate: --cyclic -s N loads N frames of an endless input (it read
#    256 MiB and failed with EFBIG), a block the DAC's DMA fails stops it with
#    exit 1 and says so (it exited 1 without a word);
#  - izc-bench stopped by SIGHUP, and by SIGTERM while the reader of its
#    stderr is gone (| tee killed by the same Ctrl-C: the "interrupted"
#    message raised SIGPIPE and killed it), puts dma_mode and
#    sampling_frequency back and exits 1;
#  - izc-bench: a bad -c or --sizes is a usage error (exit 2; it was exit 1,
#    and its default mask ignored the scan indices), and the count sweep's
#    1M is rounded down to whole frames when the frame does not divide it;
#  - izc-capture: -o FILE is not emptied when the device is wrong (it was
#    opened with O_TRUNC first); a failed last CSV flush is said and the
#    summary says what was written (it exited 1 without a word).
echo "TAP version 13"
echo "1..18"
. /tests/tap.shlib
TAP_ERR=/tmp/err

load_sim_adc sampling_frequency=0
check '[ $? = 0 ]' "modules load"

izc-capture -d izc-sim-adc -c 7 -s 10 -o /tmp/o 2>/tmp/err
rc=$?
check '[ $rc = 2 ] && grep -q "no channel with scan index 7 in buffer0" /tmp/err' \
	"-c 7 (4 channels): exit 2 ($rc), names scan index 7"
izc-capture -d izc-sim-adc -c 0x100 -s 10 -o /tmp/o 2>/tmp/err
rc=$?
check '[ $rc = 2 ] && grep -q "no channel with scan index 8 in buffer0" /tmp/err' \
	"-c 0x100: exit 2 ($rc), names scan index 8"

d=$(grep -l '^izc-sim-adc$' /sys/bus/iio/devices/iio:device*/name | head -1)
id=$(basename "$(dirname "$d")")
mv "/dev/$id" /dev/izc-moved
izc-capture -d "$id" -s 10 -o /tmp/o 2>/tmp/err
rc=$?
check '[ $rc = 1 ] && grep -q "device node /dev/iio:deviceN is missing" /tmp/err && ! grep -q dma_heap /tmp/err' \
	"no /dev/$id (DMABUF): the missing node is reported ($rc)"
izc-capture -d "$id" -s 10 --fileio -o /tmp/o 2>/tmp/err
rc=$?
check '[ $rc = 1 ] && grep -q "device node /dev/iio:deviceN is missing" /tmp/err && ! grep -q "use --fileio" /tmp/err' \
	"no /dev/$id (--fileio): the missing node is reported, no --fileio advice ($rc)"
mv /dev/izc-moved "/dev/$id"

# 1 S/s, 8-byte frames, 4 KiB blocks: no block for 512 s.
izc-capture -d izc-sim-adc -f 1 -b 4096 -s 100000 -t 100 -o /tmp/o 2>/tmp/err
rc=$?
# The old loop waited in 500 ms slices and said "no data for 500 ms".
check '[ $rc = 1 ] && grep -q "no data for 100 ms" /tmp/err' "-t 100: gives up with 'no data for 100 ms' ($rc)"
izc-capture -d izc-sim-adc -f 0 -s 4096 -b 4096 -t 100 -o /tmp/o 2>/tmp/err
rc=$?
# 4 x s16 from frame 0: value(n, c) = n + c * 4096, every frame
counter_ok() {
	od -An -v -tu2 -w8 "$1" | awk '{ n = NR - 1
		if ($1 != n || $2 != n + 4096 || $3 != n + 8192 || $4 != n + 12288) bad++ }
		END { exit !(NR == 4096 && !bad) }'
}
check '[ $rc = 0 ] && [ "$(wc -c </tmp/o)" = 32768 ] && counter_ok /tmp/o' \
	"-t 100 with data flowing: 4096 frames of the counter from frame 0, exit $rc"

for backend in dmabuf fileio; do
	opt=
	[ $backend = fileio ] && opt=--fileio
	echo 1 >/sys/module/izc_soft_dma/parameters/fail_transfers
	# shellcheck disable=SC2086 # opt is empty or one word
	izc-capture -d izc-sim-adc -f 0 -s 8192 -b 4096 $opt -o /tmp/o 2>/tmp/err
	rc=$?
	check '[ $rc = 1 ] && [ "$(wc -c </tmp/o)" = 0 ] &&
		grep -q "the device failed a block (Input/output error): its samples are lost, stopped after 0 frames" /tmp/err &&
		[ "$(cat /sys/module/izc_soft_dma/parameters/fail_transfers)" = 0 ]' \
		"$backend: a failed first block stops the capture (exit $rc), samples lost said, nothing written"
	echo 0 >/sys/module/izc_soft_dma/parameters/fail_transfers
done

# izc-generate on an unpaced DAC (4 x s16, 8-byte frames).
insmod /lib/izc/izc_sim_dac.ko sampling_frequency=0
timeout 20 izc-generate -d izc-sim-dac --dmabuf --cyclic -s 1000 -t 0.2 /dev/zero 2>/tmp/err
rc=$?
check '[ $rc = 0 ] && grep -q "1000 frames loaded for repetition" /tmp/err' \
	"izc-generate --cyclic -s 1000 /dev/zero: 1000 frames loaded, exit $rc"
# 16 blocks of 512 frames, 4 in flight: the 5th block is the first
# completion, the one failed.
echo 1 >/sys/module/izc_soft_dma/parameters/fail_transfers
timeout 20 izc-generate -d izc-sim-dac --dmabuf -b 4096 -s 8192 /dev/zero 2>/tmp/err
rc=$?
check '[ $rc = 1 ] &&
	grep -q "the device failed a block (Input/output error): its frames were not sent; stopped after [0-9]* frames queued" /tmp/err' \
	"izc-generate: a block the DMA fails is said, exit $rc"
echo 0 >/sys/module/izc_soft_dma/parameters/fail_transfers

dev=/sys/bus/iio/devices/$id
bench_back() { # the values set before the run are back
	[ "$(cat "$dev/sampling_frequency")" = 123456 ] && [ "$(cat "$dev/dma_mode")" = null ]
}
echo 123456 >"$dev/sampling_frequency"
echo null >"$dev/dma_mode"
izc-bench --sizes 64K,1M --counts 4 --reps 15 >/tmp/out 2>/tmp/err &
pid=$!
sleep 1
kill -HUP $pid
wait $pid
rc=$?
check '[ $rc = 1 ] && grep -q "interrupted: [0-9]* of the planned cases measured" /tmp/err && bench_back' \
	"izc-bench SIGHUP: exit $rc, says interrupted, dma_mode and sampling_frequency back"
# stderr into a pipe whose reader has exited; stdout to a file.
rm -f /tmp/pid /tmp/rc
{
	sh -c 'echo $$ >/tmp/pid; exec izc-bench --sizes 64K,1M --counts 4 --reps 15 2>&1 >/tmp/out'
	echo $? >/tmp/rc
} | true &
sleep 1
kill -TERM "$(cat /tmp/pid)"
wait
rc=$(cat /tmp/rc)
check '[ "$rc" = 1 ] && grep -q "^Targets" /tmp/out && bench_back' \
	"izc-bench SIGTERM, stderr reader gone: exit $rc (141: killed by SIGPIPE), report written, device values back"
echo 0 >"$dev/sampling_frequency"

izc-bench -c 7 --quick >/tmp/out 2>/tmp/err
rc=$?
check '[ $rc = 2 ] && grep -q "no channel with scan index 7 in buffer0" /tmp/err' \
	"izc-bench -c 7: exit 2 ($rc), names scan index 7"
izc-bench --sizes 4100 --quick >/tmp/out 2>/tmp/err
rc=$?
check '[ $rc = 2 ] && grep -q "block size 4100 is not a multiple of the 8-byte frame: use --sizes that are multiples of" /tmp/err' \
	"izc-bench --sizes 4100 (8-byte frames): exit 2 ($rc), says what to use"
# 3 x s16: 6-byte frames, which 1M is not a multiple of.
izc-bench -c 0-2 --modes null --sizes 6K --counts 2 --reps 1 --bytes 48K >/tmp/out 2>/tmp/err
rc=$?
check '[ $rc = 0 ] && grep -q "the count sweep uses [0-9]*-byte blocks: 1M rounded down to whole 6-byte frames" /tmp/err &&
	grep -q "^count sweep: [0-9]*-byte blocks" /tmp/out && ! grep -q "failed" /tmp/out' \
	"izc-bench with 6-byte frames: the count sweep's blocks rounded and said, exit $rc"

echo keep >/tmp/keep
izc-capture -d no-such-device -s 10 -o /tmp/keep 2>/tmp/err
rc=$?
check '[ $rc = 1 ] && [ "$(cat /tmp/keep)" = keep ] && grep -q "device .no-such-device. not found" /tmp/err' \
	"izc-capture -d no-such-device -o FILE: exit $rc, FILE left as it was"
# 100 CSV lines stay in the 256 KiB line buffer: only the last flush fails.
izc-capture -d izc-sim-adc -f 0 --csv -s 100 -o /dev/full 2>/tmp/err
rc=$?
check '[ $rc = 1 ] && grep -q "cannot write to /dev/full: No space left on device" /tmp/err &&
	grep -q "100 frames, .*, output failed: 0 frames written" /tmp/err' \
	"izc-capture --csv -o /dev/full: exit $rc, the failed write said, 0 frames written in the summary"
rm -f /tmp/keep
