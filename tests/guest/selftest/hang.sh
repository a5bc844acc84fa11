#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bench self-test: never finishes; the runner must kill it and report it.
echo "TAP version 13"
echo "1..1"
while :; do sleep 1; done
