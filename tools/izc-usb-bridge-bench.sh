#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# izc-usb-bridge benchmark for the test guest (TAP output): the DMABUF bridge
# and the read()+write() bridge side by side, capture from the unpaced
# simulated ADC (4 x 32-bit channels) over our SuperSpeed dummy_hcd to
# izc-usb-host on the same machine, ROUNDS alternating runs of AMOUNT each
# (pattern check off: the numbers are the link's and the bridge's). Prints
# one JSON line per run ("# bench {...}") and the medians.
#
# Usage: izc-usb-bridge-bench [AMOUNT [ROUNDS]]   (default 1G 3)
set -u
amount=${1:-1G}
rounds=${2:-3}
tool() { if [ -x "/usr/bin/$1" ]; then echo "/usr/bin/$1"; else echo "/tests/$1"; fi; }
bridge=$(tool izc-usb-bridge)
host=$(tool izc-usb-host)
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
loaded() { grep -q "^$1 " /proc/modules; }

echo "TAP version 13"
echo "1..$((2 * rounds + 3))"
for m in usb_common usbcore configfs udc_core libcomposite usb_f_fs; do
	loaded "$m" || insmod "/lib/modules/kernel/$m.ko"
done
[ -d /sys/kernel/config/usb_gadget ] || mount -t configfs none /sys/kernel/config
if insmod /lib/izc/izc_soft_dma.ko && insmod /lib/izc/izc_block_buffer.ko &&
	insmod /lib/izc/izc_sim_adc.ko channels=4 sample_bits=32 sampling_frequency=0 &&
	{ insmod /lib/izc/extra/dummy_hcd.ko is_super_speed=1 2>/dev/null ||
		insmod /lib/izc/dummy_hcd.ko is_super_speed=1; }; then
	ok "modules loaded"
else
	notok "modules loaded"
	exit 1
fi
"$bridge" -q 2>/tmp/bench-bridge.log &
pid=$!
sleep 1
ok "izc-usb-bridge started"

med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
: >/tmp/bench-dmabuf
: >/tmp/bench-copy
i=0
while [ $i -lt "$rounds" ]; do
	for mode in dmabuf copy; do
		out=$("$host" -d izc-sim-adc0 -a "$amount" -b 1M -n 8 -f 0 -t 30000 --no-verify \
			--json -q --"$mode")
		if echo "$out" | grep -q '"ok":true'; then
			ok "round $((i + 1)) $mode bridge: $amount"
		else
			notok "round $((i + 1)) $mode bridge: $amount"
		fi
		echo "# bench $out"
		mibs=$(echo "$out" | sed -n 's/.*"mib_per_s":\([0-9.]*\).*/\1/p')
		cpu=$(echo "$out" | sed -n 's/.*"bridge_cpu_s_per_gib":\([0-9.]*\).*/\1/p')
		echo "$mibs $cpu" >>"/tmp/bench-$mode"
	done
	i=$((i + 1))
done
kill -TERM $pid
wait $pid
for mode in dmabuf copy; do
	echo "# median $mode: $(cut -d' ' -f1 /tmp/bench-$mode | med) MiB/s," \
		"$(cut -d' ' -f2 /tmp/bench-$mode | med) bridge CPU s/GiB"
done
d=$(cut -d' ' -f2 /tmp/bench-dmabuf | med)
c=$(cut -d' ' -f2 /tmp/bench-copy | med)
echo "# cpu ratio dmabuf/copy: $(awk "BEGIN { printf \"%.2f\", $d / $c }")"
rmmod dummy_hcd 2>/dev/null
ok "bridge stopped"
