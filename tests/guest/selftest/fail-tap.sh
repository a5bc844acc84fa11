#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bench self-test: fails on purpose; the runner must report "not ok 2".
echo "TAP version 13"
echo "1..2"
echo "ok 1 - the runner counts this as passed"
echo "not ok 2 - deliberate failure: the runner must report it"
exit 1
