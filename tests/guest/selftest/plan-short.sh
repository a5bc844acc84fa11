#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bench self-test: plans three checks, reports two, exits 0; the runner must
# fail it for the missing one.
echo "TAP version 13"
echo "1..3"
echo "ok 1 - first"
echo "ok 2 - second"
exit 0
