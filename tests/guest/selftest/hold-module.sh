#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bench self-test: leaves a process holding the simulated ADC's device node,
# so izc_sim_adc cannot be unloaded after the test; the runner must fail the
# test and name the module. Run it last: the holder lives until poweroff.
echo "TAP version 13"
echo "1..1"
for m in izc_soft_dma izc_block_buffer izc_sim_adc; do
	insmod /lib/izc/$m.ko || echo "# insmod $m failed"
done
dev=
for d in /sys/bus/iio/devices/iio:device*; do
	[ "$(cat "$d/name" 2>/dev/null)" = izc-sim-adc ] && dev=/dev/${d##*/} && break
done
if [ -n "$dev" ] && [ -c "$dev" ]; then
	# Detached from the test's output, so the runner does not wait for it.
	setsid sleep 100000 <"$dev" >/dev/null 2>&1 &
	echo "ok 1 - $dev held open by a background process"
else
	echo "not ok 1 - no izc-sim-adc device node"
fi
