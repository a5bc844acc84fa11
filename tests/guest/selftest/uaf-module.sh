#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bench self-test: the test passes but a module writes to freed memory; the
# suite's slab debugging must put that in the kernel log and the runner must
# fail the run on it.
echo "TAP version 13"
echo "1..1"
if insmod /lib/izc/extra/izc_selftest_uaf.ko; then
	echo "ok 1 - fixture module loaded"
else
	echo "not ok 1 - fixture module loaded"
fi
