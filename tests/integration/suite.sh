#!/bin/bash
# The open calibration suite is proven: `assay task check tasks/*` — the
# oracle solves every task in 3/3 epochs, the null model in 0/3, and no
# flag or answer is visible to the agent. One line per task, then the
# checker's own "N passed, N failed" line.
set -u
cd "$ASSAY_SOURCE_DIR"
exec "$ASSAY" task check tasks/* --epochs 3
