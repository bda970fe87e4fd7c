#!/bin/bash
# The open calibration suite is proven: `assay task check tasks/*` — the
# oracle solves every task in 3/3 epochs, the null model in 0/3, and no
# flag or answer is visible to the agent. One line per task, then the
# checker's own "N passed, N failed" line. The tasks on the agent image
# (`image: assay-agent`, the pwn tasks) need it imported ($ASSAY_IMAGES;
# tests/run.sh imports the layout `make check` builds): without it they
# are skipped, or checked and failed (saying how to build it) when CI=true.
set -u
cd "$ASSAY_SOURCE_DIR"
if [ "${CI:-}" = true ] || "$ASSAY" image inspect assay-agent >/dev/null 2>&1; then
	exec "$ASSAY" task check tasks/* --epochs 3
fi
host=() img=()
for t in tasks/*/; do
	t=${t%/}
	if grep -q 'image: assay-agent' "$t/task.yaml"; then img+=("$t"); else host+=("$t"); fi
done
out=$("$ASSAY" task check "${host[@]}" --epochs 3); rc=$?
printf '%s\n' "$out" | sed '$d'
for t in "${img[@]}"; do
	echo "skip  ${t#tasks/}  (image assay-agent is not imported: tools/agent-image.sh --variant test)"
done
printf '%s, %d skipped\n' "$(printf '%s\n' "$out" | tail -1)" "${#img[@]}"
exit $rc
