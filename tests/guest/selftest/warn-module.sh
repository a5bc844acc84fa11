#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bench self-test: the test passes but the kernel WARNs; the runner must fail
# the run on the kernel log.
echo "TAP version 13"
echo "1..1"
if insmod /lib/izc/extra/izc_selftest_warn.ko; then
	echo "ok 1 - fixture module loaded"
else
	echo "not ok 1 - fixture module loaded"
fi
