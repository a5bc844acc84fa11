#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The tools end to end, through the DAC -> ADC loopback: izc-capture records
# counter frames from a second ADC into a file, izc-generate plays the file
# into the DAC, and izc-capture on the DAC's loopback ADC gets back the
# wire's idle frames (zeros) and then the file, byte for byte; DMABUF and
# fileio output (the file's tail must play out before the stream stops),
# fileio output of a file that ends inside a block (sent zero padded), and
# cyclic output (one block repeated).
# The recorded file comes from an s32 ADC (new_device "4 32"): with the s16
# counter the file repeated every 65536 frames (512 KiB), so a 1 MiB block
# of the tools' streams lost, played twice or stale matched the file. The
# s32 counter makes every 16 bytes of the file unique (no wrap in 8 MiB);
# the DAC and its ADC (4 x s16) carry those bytes as they are.
echo "TAP version 13"
echo "1..13"
. /tests/tap.shlib

LAT=64           # idle frames each DAC stream starts with
FRAME=8          # 4 channels x s16
FRAMES=1048576   # 8 MiB, whole 1 MiB blocks of izc-capture

load_sim_adc sampling_frequency=0 &&
	insmod /lib/izc/izc_sim_dac.ko loopback=1 loopback_latency=$LAT sampling_frequency=0 &&
	echo "4 32" >/sys/bus/platform/drivers/izc-sim-adc/new_device
check '[ $? = 0 ]' "modules load: unpaced izc-sim-adc0 (s16) with a DAC looped back into it, izc-sim-adc1 (s32)"

adc0=
for d in /sys/bus/iio/devices/iio:device*; do
	[ "$(cat "$d/label" 2>/dev/null)" = izc-sim-adc0 ] && adc0=$d
done

frame32() { # FILE N: frame N of 4 x s32, as 4 unsigned decimals
	od -An -v -tu4 -j $(($2 * 16)) -N 16 "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'
}
counter32_ok() { # FILE N...: each frame N is the s32 counter n + c * 2^28
	f=$1
	shift
	for k in "$@"; do
		[ "$(frame32 "$f" "$k")" = "$k $((k + 268435456)) $((k + 536870912)) $((k + 805306368))" ] || return 1
	done
}

# 8 MiB of 16-byte s32 frames: the same bytes as FRAMES frames of the DAC.
timeout 60 izc-capture -q -d izc-sim-adc1 -s $((FRAMES / 2)) -o /tmp/pattern.raw
check '[ $? = 0 ] && [ "$(stat -c %s /tmp/pattern.raw)" = $((FRAMES * FRAME)) ]' \
	"izc-capture: $((FRAMES / 2)) s32 counter frames from izc-sim-adc1 into a file (8 MiB)"
check 'counter32_ok /tmp/pattern.raw 0 1 4095 65536 65537 131071 262144 524287' \
	"the file holds the s32 counter (frames 0, 1, 4095, 65536, 65537, 131071, 262144, 524287)"

# What the far end must see after the idle frames: the file, less the frames
# the latency pushed past the end of the capture.
head -c $(((FRAMES - LAT) * FRAME)) /tmp/pattern.raw >/tmp/expect.raw

# round_trip MODE: play pattern.raw with izc-generate MODE, capture it back.
# The capture takes whole blocks: an unpaced loopback ADC waits for the DAC
# and never invents data, so it asks for no more frames than the wire brings.
# A tail that never plays leaves the capture waiting: its timeout fails it.
round_trip() {
	rm -f /tmp/back.raw
	timeout 60 izc-capture -q -d izc-sim-adc0 -s $FRAMES -o /tmp/back.raw &
	cap=$!
	wait_enabled "$adc0"
	timeout 60 izc-generate -q -d izc-sim-dac0 "$1" /tmp/pattern.raw
	gen=$?
	wait $cap
	capr=$?
	check '[ $gen = 0 ] && [ $capr = 0 ]' "izc-generate $1 and izc-capture both succeed ($gen, $capr)"
	check 'zeros_ok /tmp/back.raw $((LAT * FRAME))' "$1: the first $LAT frames are the idle value"
	check 'cmp -s /tmp/back.raw /tmp/expect.raw $((LAT * FRAME)) 0' \
		"$1: then the file, byte for byte ($((FRAMES - LAT)) frames)"
}
round_trip --dmabuf
round_trip --fileio

# Fileio, SHORT frames: the last 1 MiB block is short by 1000 frames and goes
# out padded with zero frames, of which the capture sees LAT fewer.
SHORT=$((FRAMES - 1000))
rm -f /tmp/back.raw
timeout 60 izc-capture -q -d izc-sim-adc0 -s $FRAMES -o /tmp/back.raw &
cap=$!
wait_enabled "$adc0"
timeout 60 izc-generate -q -d izc-sim-dac0 --fileio -s $SHORT /tmp/pattern.raw
gen=$?
wait $cap
capr=$?
check '[ $gen = 0 ] && [ $capr = 0 ]' "izc-generate --fileio -s $SHORT and izc-capture both succeed ($gen, $capr)"
head -c $((SHORT * FRAME)) /tmp/pattern.raw >/tmp/expect.raw
dd if=/dev/zero bs=$(((1000 - LAT) * FRAME)) count=1 2>/dev/null >>/tmp/expect.raw
check 'zeros_ok /tmp/back.raw $((LAT * FRAME)) && cmp -s /tmp/back.raw /tmp/expect.raw $((LAT * FRAME)) 0 &&
	[ "$(stat -c %s /tmp/back.raw)" = $((FRAMES * FRAME)) ]' \
	"short fileio file: idle frames, $SHORT file frames, then $((1000 - LAT)) zero frames of padding"

# Cyclic: a 64 KiB file repeated; capture four periods after the idle frames.
SMALL=8192
dd if=/tmp/pattern.raw of=/tmp/small.raw bs=$((SMALL * FRAME)) count=1 2>/dev/null
cat /tmp/small.raw /tmp/small.raw /tmp/small.raw /tmp/small.raw >/tmp/expect4.raw
rm -f /tmp/back.raw
timeout 60 izc-capture -q -d izc-sim-adc0 -s $((LAT + 4 * SMALL)) -o /tmp/back.raw &
cap=$!
wait_enabled "$adc0"
timeout 60 izc-generate -q -d izc-sim-dac0 --dmabuf --cyclic -t 2 /tmp/small.raw
gen=$?
wait $cap
capr=$?
check '[ $gen = 0 ] && [ $capr = 0 ]' "cyclic izc-generate and izc-capture both succeed ($gen, $capr)"
check 'zeros_ok /tmp/back.raw $((LAT * FRAME)) && cmp -s /tmp/back.raw /tmp/expect4.raw $((LAT * FRAME)) 0' \
	"cyclic: the idle frames, then the 64 KiB block four times, byte for byte"
rm -f /tmp/pattern.raw /tmp/back.raw /tmp/small.raw /tmp/expect.raw /tmp/expect4.raw
