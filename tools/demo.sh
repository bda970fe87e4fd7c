#!/bin/bash
# The main job on the embedded defaults: the open calibration suite against
# baseline/oracle and baseline/null, journaled in the default SQLite store,
# then the pre-registered default policy applied to each with the other as
# reference, ending with the determinations and the HTML reports.
#   tools/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
assay="$build/assay"
top=$(cd "$(dirname "$0")/.." && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}/assay
reports="$data/reports"
policy="$top/policies/default.yaml"
mkdir -p "$reports"

run_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])'; }
verdict() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["determination"]
print("%s: %s" % (d.get("determination") or "none", d.get("reason") or d.get("note")))' "$1"
}

echo "== baseline/oracle: proves every task solvable =="
oracle=$("$assay" run --suite "$top/tasks" --model baseline/oracle --epochs 3 --json | run_of)
echo "== baseline/null: proves there are no free points =="
null=$("$assay" run --suite "$top/tasks" --model baseline/null --epochs 3 --json | run_of)

echo
echo "== report: baseline/oracle (run $oracle) against baseline/null (run $null) =="
"$assay" report "$oracle" --reference "$null" --policy "$policy"
echo
echo "== report: baseline/null (run $null) against baseline/oracle (run $oracle) =="
"$assay" report "$null" --reference "$oracle" --policy "$policy"
for pair in "$oracle:$null" "$null:$oracle"; do
	run=${pair%%:*} ref=${pair#*:}
	"$assay" report "$run" --reference "$ref" --policy "$policy" --format json -o "$reports/run-$run.json"
	"$assay" report "$run" --reference "$ref" --policy "$policy" --format html -o "$reports/run-$run.html"
done

cat <<TXT

== determinations under $(basename "$policy") ==
The two baselines are the controls of the decision rule. The oracle stands
in for a model that solves every task: against the null model as reference
the pre-registered new-frontier rule must fire (positive control). The null
model solves nothing, so no rule fires; but 3 epochs, one agent scaffold
(a real model is also run with --agent structured) and the tasks' token
budget are below the policy's elicitation minimums, so the policy refuses
to clear it: inconclusive, not "not-designated" (negative control).
Neither run is evidence about a real model.
TXT
echo "baseline/oracle (run $oracle, reference run $null): $(verdict "$reports/run-$oracle.json")"
echo "baseline/null   (run $null, reference run $oracle): $(verdict "$reports/run-$null.json")"
echo
echo "store:   $data/assay.db  (assay runs; assay show RUN)"
echo "json:    $reports/run-$oracle.json  $reports/run-$null.json"
echo "html:    $reports/run-$oracle.html"
echo "html:    $reports/run-$null.html"
