#!/bin/bash
# Issue 11 item 3: no episode can slow another. One run, two episodes at
# once in the engine's single thread: a hostile one whose home holds a
# 4 TiB sparse file and 150000 files (its check box is fresh, so the
# harness must tidy, pack and copy that home) and whose command prints
# 150 MB, and an honest one alive all the while. The honest one must be
# scored exactly as when it runs alone, the hostile one as its own
# failure; the loop must have served the honest episode from prompt to
# score while the hostile command ran (journal order, not time), and the
# hostile output must reach the journal capped. The walls are printed,
# not asserted (performance is never a timed assertion; the 100 ms bound
# is measured by bench/noisy.sh, BENCHMARKS.md). Then the same by order
# alone: the hostile box stopped at its check, the honest one scored
# meanwhile.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
S=$ASSAY_SOURCE_DIR/tests/data/noisy
DB=$TMP/a.db
row() { sqlite3 "$DB" "SELECT score, check_ok, outcome, error_class FROM episodes WHERE run_id=$1 AND task_id='$2'"; }
wall() { sqlite3 "$DB" "SELECT wall_ms FROM episodes WHERE run_id=$1 AND task_id='$2'"; }

"$ASSAY" run --suite "$S/honest" --model baseline/oracle --store "$DB" >/dev/null 2>"$TMP/err" ||
	bad "honest alone" "$(tail -2 "$TMP/err")"
"$ASSAY" run --suite "$S/suite.yaml" --model baseline/oracle -j 2 --store "$DB" >/dev/null 2>"$TMP/err" ||
	bad "the two together" "$(tail -2 "$TMP/err")"
alone=$(row 1 honest-neighbour) together=$(row 2 honest-neighbour)
[ "$alone" = "1|1|solved|none" ] && [ "$together" = "$alone" ] &&
	ok "the honest episode scores the same beside the hostile one ($together; wall $(wall 1 honest-neighbour) ms alone, $(wall 2 honest-neighbour) ms beside it)" ||
	bad "honest episode" "alone '$alone', beside the hostile one '$together'"
[ "$(row 2 hostile-home)" = "0|0|check-blocked|agent-caused" ] &&
	ok "the hostile home fails its own check, as its doing (wall $(wall 2 hostile-home) ms)" ||
	bad "hostile episode" "$(row 2 hostile-home) $(sqlite3 "$DB" "SELECT error FROM episodes WHERE run_id=2 AND task_id='hostile-home'")"
# order of the journal: the honest episode's score event comes before the
# hostile episode's first tool result (its 150000 files and 150 MB of
# output), i.e. the loop kept serving the neighbour while that ran
seq_of() { sqlite3 "$DB" "SELECT v.rowid FROM events v JOIN episodes e ON e.id=v.episode_id WHERE e.run_id=2 AND e.task_id='$1' AND v.kind='$2' ORDER BY v.rowid LIMIT 1"; }
hs=$(seq_of honest-neighbour score) ht=$(seq_of hostile-home tool)
# (reported, not asserted: on a quiet machine the hostile command may
# simply finish first; bench/noisy.sh measures the effect on wall time)
echo "info journal order: honest score row '$hs', hostile first tool row '$ht'"
big=$(sqlite3 "$DB" "SELECT max(length(v.data)) FROM events v JOIN episodes e ON e.id=v.episode_id WHERE e.run_id=2 AND e.task_id='hostile-home'")
[ -n "$big" ] && [ "$big" -lt 1000000 ] && ok "150 MB of output journaled capped (largest event $big bytes)" ||
	bad "output cap" "largest hostile event '$big' bytes"
"$ASSAY" show --store "$DB" --episode "$(sqlite3 "$DB" "SELECT id FROM episodes WHERE run_id=2 AND task_id='hostile-home'")" \
	--transcript >"$TMP/show" 2>&1
grep -q "larger than 16 MiB" "$TMP/show" && ok "the transcript says why" ||
	bad "hostile note" "$(grep -i check "$TMP/show" | head -3)"

# The same, decided by order, not time: the hostile episode's boxes are
# stopped (SIGSTOP, every process of its box) the moment its check is to
# start (the harness is to tidy, pack and copy its home), and only then is
# the honest episode let go (its model's reply waits on a gate). It must
# be scored while the hostile box is still stopped: a loop that waited on
# that box in any way could not score it. Then the box goes on.
MARK=noisy-marker-$$
HOSTILE_CMD="cd /home/agent && : $MARK && truncate -s 4T sparse && python3 -c 'import os
for d in range(150):
    os.mkdir(\"d%d\" % d)
    for f in range(1000): open(\"d%d/f%d\" % (d, f), \"w\").close()' && sleep 1 && echo done"
python3 - "$TMP/gated.jsonl" "$HOSTILE_CMD" "$TMP/go" <<'PY'
import json, sys
out, cmd, gate = sys.argv[1:]
H, N = "Leave your work", "prints the sum of its two"
lines = [
    {"when": H, "kind": "tool_call", "name": "bash", "arguments": {"cmd": cmd}},
    {"when": H, "kind": "tool_call", "name": "submit", "arguments": {"flag": "done"}},
    {"when": N, "kind": "tool_call", "name": "bash", "gate": gate, "arguments":
     {"cmd": "printf '#!/bin/sh\\necho $(( $1 + $2 ))\\n' > /home/agent/sum.sh"}},
    {"when": N, "kind": "tool_call", "name": "submit", "arguments": {"flag": "done"}},
]
open(out, "w").write("".join(json.dumps(l) + "\n" for l in lines))
PY
"$MOCKMODEL" --script "$TMP/gated.jsonl" --idle-exit 120 >"$TMP/port" 2>/dev/null &
mock=$!
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
OPENAI_API_KEY=k "$ASSAY" run --suite "$S/suite.yaml" --model openai/m --no-preflight \
	--base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" -j 2 --store "$DB" >/dev/null 2>"$TMP/gerr" &
run=$!
cg=""
for _ in $(seq 600); do   # the hostile command's box: its memory cgroup
	p=$(pgrep -f -- "$MARK" | head -1)
	[ -n "$p" ] && cg=$(sed -n 's/^[0-9]*:memory://p' "/proc/$p/cgroup" 2>/dev/null) && [ -n "$cg" ] && break
	sleep 0.05
done
R=$(sqlite3 "$DB" "SELECT max(id) FROM runs")
hmodel() { sqlite3 "$DB" "SELECT count(*) FROM events v JOIN episodes e ON e.id=v.episode_id WHERE e.run_id=$R AND e.task_id='hostile-home' AND v.kind='model'" 2>/dev/null; }
for _ in $(seq 1200); do [ "$(hmodel)" -ge 2 ] 2>/dev/null && break; sleep 0.05; done
procs=$(cat "/sys/fs/cgroup/memory$cg/cgroup.procs" 2>/dev/null | tr '\n' ' ')
[ -n "$cg" ] && [ -n "$procs" ] && kill -STOP $procs 2>/dev/null
touch "$TMP/go"
scored=""
for _ in $(seq 1200); do   # at most 60 s: a loop held by the box never scores
	[ "$(sqlite3 "$DB" "SELECT status FROM episodes WHERE run_id=$R AND task_id='honest-neighbour'" 2>/dev/null)" = done ] && scored=1 && break
	sleep 0.05
done
still=$(for p in $procs; do [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ] && echo "$p"; done | wc -l)
[ -n "$procs" ] && kill -CONT $procs 2>/dev/null
wait $run; rc=$?
kill "$mock" 2>/dev/null
[ -n "$procs" ] && [ -n "$scored" ] && [ "$still" -gt 0 ] && [ "$(row "$R" honest-neighbour)" = "1|1|solved|none" ] &&
	ok "the honest episode is scored (solved) while its neighbour's box is stopped before its check (order, not time)" ||
	bad "neighbour stopped" "procs '$procs' scored '$scored' still-stopped $still row '$(row "$R" honest-neighbour)' rc $rc: $(tail -2 "$TMP/gerr")"
score_of() { sqlite3 "$DB" "SELECT v.rowid FROM events v JOIN episodes e ON e.id=v.episode_id WHERE e.run_id=$R AND e.task_id='$1' AND v.kind='score'"; }
hs=$(score_of honest-neighbour) xs=$(score_of hostile-home)
[ $rc -eq 0 ] && [ "$(row "$R" hostile-home)" = "0|0|check-blocked|agent-caused" ] && [ -n "$hs" ] && [ -n "$xs" ] &&
	[ "$xs" -gt "$hs" ] &&
	ok "... and the stopped one is checked after it, once let go, as its own failure" ||
	bad "the stopped episode" "rc $rc: $(row "$R" hostile-home); score rows honest '$hs' hostile '$xs': $(tail -2 "$TMP/gerr")"
finish
