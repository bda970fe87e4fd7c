#!/bin/sh
# Run every escape attack of issue 3 from inside a real agent box.
#   tests/escape/run.sh BUILD_DIR [ATTACK...]
# One line per attack (PASS = the attack was stopped), then exactly
# "N passed, M failed". Exit status 1 if any attack got through.
set -u
B=${1:?usage: tests/escape/run.sh BUILD_DIR [ATTACK...]}
shift
if [ ! -x "$B/escape" ] || [ ! -x "$B/assay-init" ]; then
	echo "escape: $B/escape or $B/assay-init missing (build first)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
ASSAY_INIT=${ASSAY_INIT:-$B/assay-init} exec "$B/escape" "$@"
