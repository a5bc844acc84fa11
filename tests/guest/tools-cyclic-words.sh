#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# izc-generate --cyclic on a DMA whose bus word does not divide the input:
# the soft DMA with bus_width=3 (a packed 24-bit bus, length_align_bytes 3)
# under a DAC looped back into an ADC (4 x s16, 8-byte frames). A cyclic
# input of 5 frames (40 bytes) is not whole 3-byte words, so a DMABUF block
# of it cannot be transferred; izc-generate repeats it three times inside
# one 120-byte block, and the loopback ADC must get the wire's idle frames
# and then the 40 input bytes over and over, byte for byte, over DMABUF
# (--dmabuf: no fallback to the CPU rewriting the block). An input whose
# three copies would exceed the 256 MiB cyclic limit is refused with a
# message before anything streams.
echo "TAP version 13"
echo "1..6"
. /tests/tap.shlib

LAT=64    # idle frames the DAC stream starts with
FRAME=8   # 4 channels x s16
PERIOD=5  # input frames
REPEATS=4096

insmod /lib/izc/izc_soft_dma.ko bus_width=3 &&
	insmod /lib/izc/izc_block_buffer.ko &&
	insmod /lib/izc/izc_sim_adc.ko sampling_frequency=0 &&
	insmod /lib/izc/izc_sim_dac.ko loopback=1 loopback_latency=$LAT sampling_frequency=0
check '[ $? = 0 ]' "modules load: soft DMA with 3-byte bus words, an unpaced DAC looped back into an ADC"

adc0=
dac0=
for d in /sys/bus/iio/devices/iio:device*; do
	case "$(cat "$d/label" 2>/dev/null)" in
	izc-sim-adc0) adc0=$d ;;
	izc-sim-dac0) dac0=$d ;;
	esac
done
check '[ "$(cat "$dac0/buffer0/length_align_bytes" 2>/dev/null)" = 3 ]' \
	"the DAC's buffer asks for whole 3-byte words (length_align_bytes)"

# Bytes 1..40: no zero, no period shorter than the input's.
i=1
while [ $i -le $((PERIOD * FRAME)) ]; do
	printf "\\$(printf %03o $i)"
	i=$((i + 1))
done >/tmp/period.raw
cp /tmp/period.raw /tmp/expect.raw
i=1
while [ $i -lt $REPEATS ]; do # doubling: REPEATS is a power of two
	cat /tmp/expect.raw /tmp/expect.raw >/tmp/expect2.raw
	mv /tmp/expect2.raw /tmp/expect.raw
	i=$((i * 2))
done

rm -f /tmp/back.raw
timeout 60 izc-capture -q -d izc-sim-adc0 -s $((LAT + PERIOD * REPEATS)) -o /tmp/back.raw &
cap=$!
wait_enabled "$adc0"
timeout 60 izc-generate -d izc-sim-dac0 --dmabuf --cyclic -t 2 /tmp/period.raw 2>/tmp/gen.err
gen=$?
wait $cap
capr=$?
TAP_ERR=/tmp/gen.err
check '[ $gen = 0 ] && [ $capr = 0 ]' "cyclic izc-generate --dmabuf and izc-capture both succeed ($gen, $capr)"
check 'grep -q "1 x 120-byte blocks, dmabuf, cyclic" /tmp/gen.err' \
	"the 40-byte input is played as one 120-byte DMABUF block (three copies, whole words)"
TAP_ERR=
check 'zeros_ok /tmp/back.raw $((LAT * FRAME)) && cmp -s /tmp/back.raw /tmp/expect.raw $((LAT * FRAME)) 0 &&
	[ "$(stat -c %s /tmp/back.raw)" = $(((LAT + PERIOD * REPEATS) * FRAME)) ]' \
	"the loopback ADC gets the idle frames, then the 40 input bytes $REPEATS times, byte for byte"

# 91 MiB of frames (not whole words): three copies (273 MiB) are over the cyclic limit.
timeout 60 izc-generate -d izc-sim-dac0 --cyclic -s $((91 * 1024 * 1024 / FRAME)) /dev/zero 2>/tmp/gen.err
gen=$?
TAP_ERR=/tmp/gen.err
check '[ $gen = 1 ] && grep -q "not whole 3-byte DMA words (length_align_bytes) and 3 copies of it exceed 256 MiB" /tmp/gen.err' \
	"91 MiB cyclic input: exit 1, saying three copies would exceed 256 MiB ($gen)"
TAP_ERR=
rm -f /tmp/period.raw /tmp/expect.raw /tmp/back.raw /tmp/gen.err
