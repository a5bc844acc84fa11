#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# izc-bench interrupted by SIGINT: it must stop within a few seconds, put
# the ADC's dma_mode and sampling_frequency back to what they were before
# the run (it sets them per case), report the cases it finished and exit 1;
# the stream it was measuring must be closed (the buffer is free again:
# a capture right after it gets the counter pattern).
echo "TAP version 13"
echo "1..6"
. /tests/tap.shlib
TAP_ERR=/tmp/err

load_sim_adc
d=$(dirname "$(grep -l '^izc-sim-adc$' /sys/bus/iio/devices/iio:device*/name | head -1)")
check '[ -e "$d/dma_mode" ]' "modules load: izc-sim-adc at $d"

echo 123456 >"$d/sampling_frequency"
echo null >"$d/dma_mode"

# Enough cases that it is still running when the signal comes: many
# repetitions of unpaced 64 KiB cases in both modes.
izc-bench --sizes 64K,1M --counts 4 --modes null,touch --reps 15 >/tmp/out 2>/tmp/err &
pid=$!
sleep 3
kill -INT $pid
t0=$(date +%s)
wait $pid
rc=$?
t=$(($(date +%s) - t0))
check '[ $rc = 1 ] && [ $t -le 5 ]' "SIGINT: izc-bench exits 1 ($rc) within 5 s (${t} s)"
check 'grep -q "interrupted: [0-9]* of the planned cases measured" /tmp/err' \
	"it says it was interrupted and how many cases it measured"
check '[ "$(cat "$d/sampling_frequency")" = 123456 ] && [ "$(cat "$d/dma_mode")" = null ]' \
	"sampling_frequency ($(cat "$d/sampling_frequency")) and dma_mode ($(cat "$d/dma_mode")) are back"
check 'grep -q "^Targets" /tmp/out' "the cases finished so far are reported"

# The buffer is free and streams: 4096 frames from frame 0, counter pattern
# (channel c of frame n is (n + c * 4096) mod 2^16, read as s16 by --csv);
# touch mode again, as null mode does not write memory.
echo touch >"$d/dma_mode"
izc-capture -d izc-sim-adc -s 4096 --csv --no-header -o /tmp/cap.csv 2>/tmp/err
rc=$?
bad=$(awk -F, '{ for (c = 1; c <= 4; c++) { want = (NR - 1 + (c - 1) * 4096) % 65536; if (want >= 32768) want -= 65536; if ($c != want) { print NR; exit } } } END { if (NR != 4096) print "lines " NR }' /tmp/cap.csv)
[ -z "$bad" ] || head -3 /tmp/cap.csv >>/tmp/err
check '[ $rc = 0 ] && [ -z "$bad" ]' "a capture after it gets 4096 frames of counter from frame 0 (rc $rc${bad:+, first bad line $bad})"
