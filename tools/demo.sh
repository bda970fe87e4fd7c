#!/bin/bash
# The main job on the embedded defaults: the open calibration suite against
# baseline/oracle and baseline/null, journaled in the default SQLite store.
#   tools/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
assay="$build/assay"
top=$(cd "$(dirname "$0")/.." && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}/assay
reports="$data/reports"
mkdir -p "$reports"

run_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])'; }

echo "== baseline/oracle: proves every task solvable =="
oracle=$("$assay" run --suite "$top/tasks" --model baseline/oracle --epochs 3 --json | run_of)
echo "== baseline/null: proves there are no free points =="
null=$("$assay" run --suite "$top/tasks" --model baseline/null --epochs 3 --json | run_of)

"$assay" report "$oracle"
echo
"$assay" report "$null"
"$assay" report "$oracle" --format json -o "$reports/run-$oracle.json"
"$assay" report "$null" --format json -o "$reports/run-$null.json"
echo
echo "store:   $data/assay.db  (assay runs; assay show RUN)"
echo "reports: $reports/run-$oracle.json  $reports/run-$null.json"
