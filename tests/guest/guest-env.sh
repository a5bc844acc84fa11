#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest provides what every other test relies on: the IIO core loaded,
# the DMABUF exporters (system heap, udmabuf), debugfs, and our modules in
# /lib/izc in load order.
echo "TAP version 13"
echo "1..7"
. /tests/tap.shlib
check 'grep -q "^industrialio " /proc/modules' "industrialio is loaded"
check '[ -d /sys/bus/iio/devices ]' "/sys/bus/iio exists"
check '[ -c /dev/dma_heap/system ]' "/dev/dma_heap/system is a character device"
check '[ -c /dev/udmabuf ]' "/dev/udmabuf is a character device"
check '[ -d /sys/kernel/debug/dma_buf ]' "debugfs is mounted with dma_buf"
check '[ "$(cat /lib/izc/load-order | tr "\n" " ")" = "izc_soft_dma izc_block_buffer izc_sim_adc izc_sim_dac " ]' \
	"our modules are in /lib/izc in load order"
# O: out-of-tree (E, unsigned, comes with it on Debian's kernel).
check 'grep -q O /sys/module/usb_f_fs/taint' \
	"usb_f_fs is our fixed out-of-tree build, not Debian's"
