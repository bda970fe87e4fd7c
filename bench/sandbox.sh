#!/bin/sh
# bench/sandbox.sh BUILD_DIR [RUNS] - sandbox latencies (not a timed test).
# Runs bench_sandbox (assay boxes, bwrap with equal isolation, fork+exec of
# /bin/true, all in the same run) and prints a Markdown section for
# BENCHMARKS.md on stdout. ASSAY_BENCH_IMAGE=REF adds a spawn row on that
# imported image (from $ASSAY_IMAGES) and its ratio to a host box.
set -eu
build=$(cd "${1:?usage: bench/sandbox.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-200}
[ -x "$build/bench_sandbox" ] || { echo "no $build/bench_sandbox (build first)" >&2; exit 1; }
command -v bwrap >/dev/null || { echo "bwrap missing (tools/deps.sh)" >&2; exit 1; }
table=$(ASSAY_INIT="$build/assay-init" "$build/bench_sandbox" "$runs")
med() { echo "$table" | awk -F'|' -v k="$1" 'index($2, k) { gsub(/ /, "", $4); print $4; exit }'; }
spawn=$(med "assay box spawn")
img=$(med "teardown, image")
bw=$(med "bwrap")
cat <<MD
## Sandbox

\`bench/sandbox.sh $(basename "$build") $runs\` on $(uname -srm), $(nproc) CPUs,
$(date -u +%Y-%m-%d); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg).
Median and p90 over $runs runs each (after 5 warm-ups), all rows from the same run;
the first three (bwrap, box spawn, the floor) in ten alternating blocks of $(( (runs + 9) / 10 )) runs.

$table

Box spawn (new episode with only the agent box, exec of \`true\`, teardown)
against bwrap with equal isolation: $(awk -v a="$spawn" -v b="$bw" 'BEGIN { printf "%.2f", a / b }')x.
$([ -n "$img" ] && echo "Box spawn on the imported image \`$ASSAY_BENCH_IMAGE\` against a \`host\` box: $(awk -v a="$img" -v b="$spawn" 'BEGIN { printf "%.2f", a / b }')x.")
Teardown returns after SIGKILL to the boxes' pid 1; the kernel dismantles the
namespaces in the background and \`sbx_reap()\` collects them later (the last
row waits for it).
MD
