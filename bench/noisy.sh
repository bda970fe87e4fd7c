#!/bin/sh
# bench/noisy.sh BUILD_DIR [ROUNDS] - issue 11 item 3's bound (not a timed
# test): the wall time of the honest episode of tests/data/noisy alone,
# beside the hostile one (4 TiB sparse file, 150000 files, 150 MB of
# output, fresh check box) and beside cpu-twin (one core for as long, no
# data for the harness) in the same engine (-j 2), ROUNDS times each,
# alternating. The twin separates what any CPU-bound neighbour costs on
# this machine from what the hostile data costs. Prints a Markdown
# section for BENCHMARKS.md on stdout.
set -eu
build=$(cd "${1:?usage: bench/noisy.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-5}
src=$(cd "$(dirname "$0")/.." && pwd)/tests/data/noisy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASSAY_INIT="$build/assay-init"
wall() { sqlite3 "$tmp/a.db" "SELECT wall_ms FROM episodes WHERE task_id='honest-neighbour' ORDER BY id DESC LIMIT 1"; }
: >"$tmp/alone"; : >"$tmp/beside"; : >"$tmp/twin"
i=0
while [ $i -lt "$rounds" ]; do
	"$build/assay" run --suite "$src/honest" --model baseline/oracle --store "$tmp/a.db" >/dev/null 2>&1
	wall >>"$tmp/alone"
	"$build/assay" run --suite "$src/suite.yaml" --model baseline/oracle -j 2 --store "$tmp/a.db" >/dev/null 2>&1 || true
	wall >>"$tmp/beside"
	"$build/assay" run --suite "$src/suite-twin.yaml" --model baseline/oracle -j 2 --store "$tmp/a.db" >/dev/null 2>&1 || true
	wall >>"$tmp/twin"
	i=$((i + 1))
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
a=$(med "$tmp/alone") b=$(med "$tmp/beside") t=$(med "$tmp/twin")
cat <<MD
## Noisy neighbour

\`bench/noisy.sh $(basename "$build") $rounds\` on $(uname -srm), $(nproc) CPUs,
$(date -u +%Y-%m-%d); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg).
Wall time of the honest episode (its command sleeps 4 s), alone, beside
the hostile one and beside cpu-twin (as much CPU, no hostile data) in the
same engine, $rounds rounds alternating:

| honest episode | walls ms | median ms |
|---|---|---|
| alone | $(tr '\n' ' ' <"$tmp/alone") | $a |
| beside the hostile episode | $(tr '\n' ' ' <"$tmp/beside") | $b |
| beside cpu-twin | $(tr '\n' ' ' <"$tmp/twin") | $t |

Hostile beside against alone: $((b - a)) ms; twin against alone: $((t - a)) ms;
hostile against twin (what the hostile data adds): $((b - t)) ms (bound: 100 ms).
MD
