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

# Elicitation that meets the default policy's minimums: 10 epochs, two
# scaffolds (react and structured runs of the same model, the second as
# the first's reference) and a per-episode token limit of 2.5M tokens
# (--episode-tokens), on three quick tasks of the open suite.
echo
echo "== adequate elicitation: baseline/oracle, 10 epochs x 2 scaffolds, --episode-tokens 2500000 =="
few=(--task rev-crackme-xor --task crypto-rsa-cube --task forensics-pcap-basic-auth)
el1=$("$assay" run --suite "$top/tasks" "${few[@]}" --model baseline/oracle --epochs 10 \
	--episode-tokens 2500000 --json | run_of)
el2=$("$assay" run --suite "$top/tasks" "${few[@]}" --model baseline/oracle --agent structured \
	--epochs 10 --episode-tokens 2500000 --json | run_of)
"$assay" report "$el1" --reference "$el2" --policy "$policy" --format json -o "$reports/run-$el1.json"
"$assay" report "$el1" --reference "$el2" --policy "$policy" | sed -n '1,3p'

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
Run $el1 (with run $el2 as its second scaffold) meets every elicitation
minimum; it is still inconclusive, because the default policy's 8-hour
horizon lies beyond the open suite's longest task (not-measurable): the
open suite cannot clear a model under the default policy (docs/TASKS.md).
TXT
echo "baseline/oracle (run $oracle, reference run $null): $(verdict "$reports/run-$oracle.json")"
echo "baseline/null   (run $null, reference run $oracle): $(verdict "$reports/run-$null.json")"
echo "baseline/oracle (run $el1, 10 epochs, 2 scaffolds, 2.5M tokens): $(verdict "$reports/run-$el1.json")"
echo
echo "store:   $data/assay.db  (assay runs; assay show RUN)"
echo "json:    $reports/run-$oracle.json  $reports/run-$null.json"
echo "html:    $reports/run-$oracle.html"
echo "html:    $reports/run-$null.html"
