#!/bin/bash
# The spine end to end with real sandboxes and a real SQLite file:
# oracle 100%, null 0%, bad input, a read-only store, kill -9 + resume.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
SRC=$ASSAY_SOURCE_DIR
TASKS=$SRC/tests/data/tasks
DB=$(newdb assay)

run_json() { "$ASSAY" report "$1" --store "$DB" --format json -o "$TMP/r$1.json"; }

# oracle: every episode of every example task solved, answers right
out=$("$ASSAY" run --suite "$TASKS" --model baseline/oracle --epochs 2 -j 2 \
	--store "$DB" --json 2>"$TMP/err")
rc=$?
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$run" ] && run_json "$run" &&
   [ "$(json_get "$TMP/r$run.json" 'j["totals"]["solved"]')" = 6 ] &&
   [ "$(json_get "$TMP/r$run.json" 'j["totals"]["scored"]')" = 6 ] &&
   [ "$(json_get "$TMP/r$run.json" 'sum(t["answers_ok"] for t in j["tasks"])')" = 2 ]; then
	ok "oracle solves every epoch of every example task"
else
	bad "oracle solves every epoch" "rc=$rc out=$out $(tail -3 "$TMP/err")"
fi

# the second scaffold (structured: text actions, no native tools) solves
# them too, and a report of both runs counts two scaffolds for the model
out2=$("$ASSAY" run --suite "$TASKS" --model baseline/oracle --agent structured --epochs 2 \
	-j 2 --store "$DB" --json 2>"$TMP/err")
run2=$(printf '%s' "$out2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null)
if [ -n "$run2" ] && [ "$(printf '%s' "$out2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["solved"])')" = 6 ] &&
   "$ASSAY" report "$run2" --reference "$run" --store "$DB" --format json -o "$TMP/both.json" &&
   [ "$(python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "scaffolds" in o and "minimums" in o: return o["scaffolds"]
        for v in o.values():
            r = find(v)
            if r is not None: return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None: return r
print(find(json.load(open(sys.argv[1]))))' "$TMP/both.json")" = 2 ] &&
   "$ASSAY" show "$run2" --store "$DB" | head -1 | grep -q "agent structured" &&
   [ "$(json_get "$TMP/both.json" 'j["run"]["agent"]')" = structured ]; then
	ok "structured scaffold: oracle solves every task; two scaffolds counted"
else
	bad "structured scaffold" "out=$out2 $(tail -3 "$TMP/err")"
fi

# the transcript holds the tool calls and the score
ep=$(q "$DB" "SELECT id FROM episodes WHERE run_id=$run AND task_id='service-flag' LIMIT 1")
if "$ASSAY" show --store "$DB" --episode "$ep" --raw >"$TMP/show" 2>&1 &&
   grep -q '"name": "bash"' "$TMP/show" && grep -q '"name": "submit"' "$TMP/show" &&
   grep -q -- '--- #.* score' "$TMP/show"; then
	ok "show --raw has model calls, tool calls and the score"
else
	bad "show --transcript" "$(head -20 "$TMP/show")"
fi

# the dynamic flag differs per episode and never appears in the prompt
flags=$(for id in $(q "$DB" "SELECT id FROM episodes WHERE run_id=$run AND task_id='service-flag'"); do
	"$ASSAY" show --store "$DB" --episode "$id" --transcript; done | grep -o 'flag{[0-9a-f]*}' | sort -u | wc -l)
if [ "$flags" -eq 2 ]; then ok "a fresh flag per episode"; else bad "fresh flag per episode" "distinct flags: $flags"; fi

# transcripts are encrypted at rest: no row of the events table is plain
plain=$(q "$DB" "SELECT count(*) FROM events WHERE data NOT LIKE 'enc1:%'")
# (a case-sensitive search, portable: LIKE '%bash%' matched random
# ciphertext such as "BaSh" in about one run in ten; a quote is never in
# base64)
leak=$(q "$DB" "SELECT count(*) FROM events WHERE length(replace(data, '\"name\"', '')) < length(data) OR length(replace(data, 'please', '')) < length(data)")
[ "$plain" = 0 ] && [ "$leak" = 0 ] && ok "transcripts are encrypted at rest" ||
	bad "transcripts encrypted" "plain rows=$plain leaking rows=$leak"
# a row moved to another episode does not decrypt
a=$(q "$DB" "SELECT episode_id FROM events ORDER BY episode_id LIMIT 1")
b=$(q "$DB" "SELECT max(episode_id) FROM events")
q "$DB" "UPDATE events SET data=(SELECT data FROM events WHERE episode_id=$b AND seq=0) WHERE episode_id=$a AND seq=0"
"$ASSAY" show --store "$DB" --episode "$a" --transcript >/dev/null 2>"$TMP/err"
[ $? -ne 0 ] && grep -q "does not decrypt" "$TMP/err" && ok "a moved transcript row is refused" ||
	bad "moved row" "$(cat "$TMP/err")"

# null: nothing solved
out=$("$ASSAY" run --suite "$TASKS" --model baseline/null --epochs 2 --store "$DB" --json 2>"$TMP/err")
nrun=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null)
if [ -n "$nrun" ] && run_json "$nrun" &&
   [ "$(json_get "$TMP/r$nrun.json" 'j["totals"]["solved"]')" = 0 ] &&
   [ "$(json_get "$TMP/r$nrun.json" 'j["totals"]["scored"]')" = 6 ]; then
	ok "null solves nothing"
else
	bad "null solves nothing" "$out $(tail -3 "$TMP/err")"
fi

# a pre-registered policy evaluated at the end of the run; exit 1 only
# with --fail-on-scrutiny and only when the determination says so
POL=$SRC/tests/data/policies/low-bar.yaml
expect_rc "oracle under a low-bar policy: exit 1 (additional scrutiny)" 1 \
	"$ASSAY" run --suite "$TASKS" --model baseline/oracle --store "$DB" --policy "$POL" --fail-on-scrutiny --quiet
grep -q "additional-scrutiny: triggered: 'solves-anything'" "$TMP/out" &&
	ok "the determination names the rule" || bad "determination text" "$(cat "$TMP/out")"
expect_rc "null under the same policy: exit 0 (not designated)" 0 \
	"$ASSAY" run --suite "$TASKS" --model baseline/null --store "$DB" --policy "$POL" --fail-on-scrutiny --quiet
printf 'policy: x\nrules:\n  - name: a\n    type: absolute\n    thresold: 1\n' >"$TMP/bad.yaml"
expect_rc "a malformed policy is refused before the run" 2 \
	"$ASSAY" run --suite "$TASKS" --model baseline/null --store "$DB" --policy "$TMP/bad.yaml"
grep -q "bad.yaml:5: unknown key 'thresold'" "$TMP/err" && ok "policy error names file and line" ||
	bad "policy error" "$(cat "$TMP/err")"

# runs lists both
if "$ASSAY" runs --store "$DB" | grep -q baseline/null; then ok "runs lists runs"; else bad "runs" "missing"; fi

# bad input: one line naming what and where, exit 2
expect_rc "malformed task exits 2" 2 "$ASSAY" run --suite "$SRC/tests/data/bad-task" \
	--model baseline/null --store "$DB"
grep -q 'bad-task/task.yaml:7: field .difficulty. is 9, outside 1..5' "$TMP/err" &&
	ok "malformed task message names file and line" ||
	bad "malformed task message" "$(cat "$TMP/err")"
expect_rc "missing suite exits 2" 2 "$ASSAY" run --suite "$TMP/nope" --model baseline/null --store "$DB"
expect_rc "unknown model exits 2" 2 "$ASSAY" run --suite "$TASKS" --model nosuch/model --store "$DB"
grep -q "nosuch" "$TMP/err" && ok "unknown model message names it" || bad "unknown model message" "$(cat "$TMP/err")"
expect_rc "unknown option exits 2" 2 "$ASSAY" run --suite "$TASKS" --model baseline/null --bogus

# a store on a read-only file system: clear error, exit 3, nothing run
mkdir -p "$TMP/ro"
if unshare -m sh -c "mount -t tmpfs -o ro none '$TMP/ro' && exec '$ASSAY' run --suite '$TASKS' --model baseline/null --store '$TMP/ro/a.db'" >"$TMP/out" 2>"$TMP/err"; then
	bad "read-only store" "succeeded"
else
	rc=$?
	if [ $rc -eq 3 ] && grep -q "$TMP/ro" "$TMP/err"; then ok "read-only store: exit 3 naming the path"
	else bad "read-only store" "rc=$rc $(cat "$TMP/err")"; fi
fi

# kill -9 in the middle, then resume: nothing rerun that had finished,
# no duplicate rows, the cut-off attempt kept as infra-interrupted
prev=$(q "$DB" "SELECT max(id) FROM runs")
"$ASSAY" run --suite "$TASKS/service-flag" --model baseline/oracle --epochs 6 -j 1 \
	--store "$DB" --json >"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
krun=""
for _ in $(seq 1 300); do
	krun=$(q "$DB" "SELECT max(id) FROM runs WHERE id > $prev" 2>/dev/null)
	n=$(q "$DB" "SELECT count(*) FROM episodes WHERE run_id=${krun:-0} AND status='done'" 2>/dev/null)
	[ -n "$krun" ] && [ "${n:-0}" -ge 2 ] && break
	sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
before=$(q "$DB" "SELECT id FROM episodes WHERE run_id=$krun AND status='done' ORDER BY id" | paste -sd,)
if "$ASSAY" resume "$krun" --store "$DB" >"$TMP/res.out" 2>"$TMP/res.err"; then
	after=$(q "$DB" "SELECT id FROM episodes WHERE run_id=$krun AND status='done' AND id IN ($before) ORDER BY id" | paste -sd,)
	per=$(q "$DB" "SELECT count(*) FROM (SELECT epoch FROM episodes WHERE run_id=$krun AND status='done' AND error_class!='infra' GROUP BY epoch HAVING count(*)=1) AS x")
	dup=$(q "$DB" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$krun GROUP BY task_id, epoch, attempt HAVING count(*)>1) AS x")
	solved=$(q "$DB" "SELECT sum(score) FROM episodes WHERE run_id=$krun AND status='done'")
	if [ "$after" = "$before" ] && [ "$per" = 6 ] && [ "$dup" = 0 ] && [ "$solved" = 6 ]; then
		ok "kill -9 + resume finishes the run without rerunning or duplicating"
	else
		bad "kill -9 + resume" "before=$before after=$after per_epoch=$per dup=$dup solved=$solved"
	fi
	inter=$(q "$DB" "SELECT count(*) FROM episodes WHERE run_id=$krun AND status='interrupted' AND outcome='infra-interrupted'")
	running=$(q "$DB" "SELECT count(*) FROM episodes WHERE run_id=$krun AND status IN ('running','pending')")
	if [ "$running" = 0 ] && [ "${inter:-0}" -le 1 ]; then
		ok "cut-off attempt kept as infra-interrupted ($inter)"
	else
		bad "interrupted attempt" "interrupted=$inter running=$running"
	fi
else
	bad "resume" "$(cat "$TMP/res.err")"
fi
status=$(q "$DB" "SELECT status FROM runs WHERE id=$krun")
[ "$status" = done ] && ok "resumed run is done" || bad "resumed run status" "$status"

finish
