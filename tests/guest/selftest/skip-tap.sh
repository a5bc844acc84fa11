#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bench self-test: a check reported as skipped did not pass; the runner must
# count it as failed.
echo "TAP version 13"
echo "1..1"
echo "ok 1 - nothing checked # SKIP deliberately"
