#!/bin/bash
# The journal under races and faults: one writer per run (the run lease),
# a dead owner taken over, interruptions that never count toward the retry
# cap, the cap leaving a run incomplete, damaged and newer stores refused,
# and a randomized kill -9 / resume sequence after which every (task,
# epoch) has exactly one scored attempt.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$(newdb a)
mock=""
trap 'kill $mock 2>/dev/null; rm -rf "$TMP"' EXIT
export OPENAI_API_KEY=k

# start_mock SCRIPT [PORT]: a mock model; sets mock and URL
start_mock() {
	: >"$TMP/port"
	"$MOCKMODEL" --script "$1" --loop --idle-exit 300 ${2:+--port "$2"} >"$TMP/port" &
	mock=$!
	for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
	PORT=$(cat "$TMP/port")
	URL="http://127.0.0.1:$PORT/v1"
}
stop_mock() { kill $mock 2>/dev/null; wait $mock 2>/dev/null; mock=""; }
# wait_for DB SQL: until the query prints something other than 0 / nothing
wait_for() {
	local v
	for _ in $(seq 1 400); do
		v=$(q "$1" "$2" 2>/dev/null)
		[ -n "$v" ] && [ "$v" != 0 ] && return 0
		sleep 0.025
	done
	return 1
}
# exactly_once DB RUN PAIRS: every pair of the run has exactly one scored
# attempt, nothing is left running, no attempt number is duplicated
exactly_once() {
	local one none dup left
	one=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1) AS x")
	none=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1) AS x")
	dup=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 GROUP BY task_id, epoch, attempt HAVING count(*)>1) AS x")
	left=$(q "$1" "SELECT count(*) FROM episodes WHERE run_id=$2 AND status IN ('running','pending')")
	[ "$one" = "$3" ] && [ "$none" = 0 ] && [ "$dup" = 0 ] && [ "$left" = 0 ] && return 0
	echo "one=$one (want $3) more-than-one=$none dup-attempts=$dup left-running=$left"
	return 1
}

# The agent runs a slow command, then submits the flag.
{
	echo '{"kind":"tool_call","name":"bash","arguments":{"cmd":"sleep 0.3"},"latency_ms":200}'
	echo '{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]}}'
} >"$TMP/slow.jsonl"
start_mock "$TMP/slow.jsonl"

# --- one writer per run --------------------------------------------------
"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 8 -j 1 \
	--store "$DB" --json >"$TMP/run.out" 2>"$TMP/run.err" &
pid=$!
wait_for "$DB" "SELECT count(*) FROM leases WHERE scope='run' AND ref=1 AND pid=$pid" ||
	bad "lease" "run never took its lease: $(cat "$TMP/run.err")"
expect_rc "resume of a run still going: exit 3" 3 "$ASSAY" resume 1 --store "$DB"
grep -q "held by another assay (process $pid" "$TMP/err" &&
	ok "resume of a run still going: names the holder" || bad "refusal message" "$(cat "$TMP/err")"
running=$(q "$DB" "SELECT count(*) FROM episodes WHERE run_id=1 AND status='interrupted'")
[ "$running" = 0 ] && ok "the refused resume touched nothing (no episode marked interrupted)" ||
	bad "refused resume wrote" "$running interrupted"
# kill -9 the owner: on this machine, a dead owner's lease is taken at once
wait_for "$DB" "SELECT count(*) FROM episodes WHERE run_id=1 AND status='done'"
kill -9 $pid; wait $pid 2>/dev/null
"$ASSAY" runs --store "$DB" --json >"$TMP/runs.json" 2>/dev/null
"$ASSAY" runs --store "$DB" >"$TMP/runs.txt" 2>/dev/null
[ "$(json_get "$TMP/runs.json" 'j[0]["status"], j[0]["orphaned"]')" = "running True" ] &&
	grep -q "running (no owner)" "$TMP/runs.txt" &&
	ok "runs: a run whose owner was killed shows as running with no owner" ||
	bad "orphaned run" "$(cat "$TMP/runs.json" "$TMP/runs.txt")"
"$ASSAY" resume 1 --store "$DB" >"$TMP/r1.out" 2>"$TMP/r1.err" &
r1=$!
wait_for "$DB" "SELECT count(*) FROM leases WHERE ref=1 AND pid=$r1" ||
	bad "resume lease" "$(cat "$TMP/r1.err")"
"$ASSAY" runs --store "$DB" --json >"$TMP/runs.json" 2>/dev/null
[ "$(json_get "$TMP/runs.json" 'j[0]["orphaned"]')" = "False" ] &&
	ok "runs: a run being resumed has an owner" || bad "owned run" "$(cat "$TMP/runs.json")"
# two resumes at once: the second refuses
expect_rc "second resume at once: exit 3" 3 "$ASSAY" resume 1 --store "$DB"
grep -q "held by another assay (process $r1" "$TMP/err" &&
	ok "second resume at once: names the first" || bad "second resume message" "$(cat "$TMP/err")"
wait $r1; rc=$?
[ $rc -eq 0 ] && ok "resume after kill -9 finishes the run" || bad "resume after kill -9" "rc=$rc $(tail -3 "$TMP/r1.err")"
grep -q "1 attempt found running, now marked interrupted" "$TMP/r1.err" &&
	ok "resume says how many attempts were cut off" || bad "resume message" "$(cat "$TMP/r1.err")"
m=$(exactly_once "$DB" 1 8) && ok "after kill -9 + resume: exactly one scored attempt per pair" ||
	bad "exactly once" "$m"
[ "$(q "$DB" "SELECT status FROM runs WHERE id=1")" = done ] && ok "run 1 done" || bad "run 1 status" "$(q "$DB" "SELECT status FROM runs WHERE id=1")"
[ "$(q "$DB" "SELECT count(*) FROM leases")" = 0 ] && ok "the lease is released at the end" ||
	bad "lease left" "$(q "$DB" "SELECT * FROM leases")"

# a dead owner on another machine: refused until its lease expires
ASSAY_LEASE_TTL_S=2 "$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 4 -j 1 \
	--store "$DB" >/dev/null 2>"$TMP/run.err" &
pid=$!
wait_for "$DB" "SELECT count(*) FROM leases WHERE ref=2 AND pid=$pid"
kill -9 $pid; wait $pid 2>/dev/null
q "$DB" "UPDATE leases SET machine='elsewhere/1', host='node7' WHERE ref=2"
expect_rc "owner elsewhere, lease live: resume refuses" 3 "$ASSAY" resume 2 --store "$DB"
grep -q "on node7" "$TMP/err" && ok "refusal names the other host" || bad "other host" "$(cat "$TMP/err")"
sleep 2.2
expect_rc "owner elsewhere, lease expired: resume takes over" 0 "$ASSAY" resume 2 --store "$DB"
m=$(exactly_once "$DB" 2 4) && ok "taken-over run: exactly one scored attempt per pair" || bad "exactly once (2)" "$m"

# --- interruptions never count toward the retry cap ---------------------
# One pair, killed four times mid-episode (more than the cap of 3), then
# resumed to the end: scored exactly once, the run done.
stop_mock
printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"sleep 1"},"latency_ms":50}' >"$TMP/long.jsonl"
start_mock "$TMP/long.jsonl"
DB3=$(newdb c)
"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --store "$DB3" >/dev/null 2>&1 &
pid=$!
for i in 1 2 3 4; do
	wait_for "$DB3" "SELECT count(*) FROM episodes WHERE status='running' AND started_ms > 0 AND attempt=$i"
	sleep 0.8
	kill -9 $pid; wait $pid 2>/dev/null
	"$ASSAY" resume 1 --store "$DB3" >/dev/null 2>"$TMP/cut.err" &
	pid=$!
done
wait $pid; rc=$?
inter=$(q "$DB3" "SELECT count(*) FROM episodes WHERE status='interrupted'")
[ $rc -eq 0 ] && [ "$inter" = 4 ] && [ "$(q "$DB3" "SELECT status FROM runs")" = done ] &&
	ok "4 kills of one pair (cap 3): not given up, the run ends done" ||
	bad "interruptions counted toward the cap" "rc=$rc interrupted=$inter status=$(q "$DB3" "SELECT status FROM runs") $(tail -2 "$TMP/cut.err")"
m=$(exactly_once "$DB3" 1 1) && ok "killed pair scored exactly once" || bad "exactly once (3)" "$m"
"$ASSAY" report 1 --store "$DB3" --format json -o "$TMP/c.json" 2>/dev/null
[ "$(json_get "$TMP/c.json" 'j["totals"]["interrupted"], j["totals"]["unscored"], j["totals"]["scored"]')" = "0 0 1" ] &&
	ok "report of the finished run counts the final state (no pair shown interrupted)" ||
	bad "report final state" "$(json_get "$TMP/c.json" 'j["totals"]')"

# --- the cap on genuine infrastructure failures leaves the run incomplete
SUITE=$TMP/capsuite
mkdir -p "$SUITE"
cp -r "$TASK" "$SUITE/good"
cp -r "$TASK" "$SUITE/broken"
sed -i 's/^id: files-only/id: broken/; s/tools: \[base64\]/tools: [base64, assay-no-such-tool]/' "$SUITE/broken/task.yaml"
stop_mock
start_mock "$TMP/slow.jsonl"
DB4=$(newdb d)
"$ASSAY" run --suite "$SUITE" --model openai/m --base-url "$URL" --epochs 2 -j 2 \
	--store "$DB4" --json >"$TMP/cap.out" 2>"$TMP/cap.err"
rc=$?
st=$(q "$DB4" "SELECT status FROM runs WHERE id=1")
att=$(q "$DB4" "SELECT count(*) FROM episodes WHERE task_id='broken' AND outcome='infra-error'")
[ $rc -eq 3 ] && [ "$st" = incomplete ] && [ "$att" = 6 ] &&
	ok "3 infra failures per pair: the run is incomplete, exit 3" ||
	bad "retry cap" "rc=$rc status=$st infra-attempts=$att $(tail -2 "$TMP/cap.err")"
grep -q "2 of 4 (task, epoch) pairs have no scored attempt (0 cut off, 2 failed on infrastructure at the retry cap" "$TMP/cap.err" &&
	ok "incomplete run says what is unscored and why" || bad "incomplete message" "$(cat "$TMP/cap.err")"
[ "$(json_get "$TMP/cap.out" 'j["status"], j["unscored"]')" = "incomplete 2" ] &&
	ok "--json summary: status incomplete, 2 unscored" || bad "json summary" "$(cat "$TMP/cap.out")"
"$ASSAY" report 1 --store "$DB4" >"$TMP/cap.rep" 2>&1
grep -q "incomplete: 2 of 4" "$TMP/cap.rep" && ok "report says the run is incomplete" || bad "report incomplete" "$(tail -3 "$TMP/cap.rep")"
good_before=$(q "$DB4" "SELECT count(*) FROM episodes WHERE task_id='files-only'")
"$ASSAY" resume 1 --store "$DB4" >/dev/null 2>"$TMP/cap2.err"
rc=$?
good_after=$(q "$DB4" "SELECT count(*) FROM episodes WHERE task_id='files-only'")
att=$(q "$DB4" "SELECT count(*) FROM episodes WHERE task_id='broken'")
grep -q "2 of 4 (task, epoch) pairs have no scored attempt and are run now: 0 cut off (0 attempts found running, now marked interrupted), 2 failed on infrastructure, 0 not started" "$TMP/cap2.err" &&
	ok "resume says which pairs it reruns" || bad "resume tells" "$(cat "$TMP/cap2.err")"
[ $rc -eq 3 ] && [ "$good_before" = "$good_after" ] && [ "$att" = 12 ] &&
	ok "resume retries exactly the unscored pairs (3 more attempts each), still incomplete" ||
	bad "resume of incomplete" "rc=$rc good $good_before->$good_after broken attempts=$att"

# --- kill -9 at random points, including while the task snapshot is
# written: every run in the store has its whole snapshot or does not exist
SNAP=$TMP/snapsuite
mkdir -p "$SNAP"
for i in $(seq -w 1 40); do
	cp -r "$TASK" "$SNAP/t$i"
	sed -i "s/^id: files-only/id: t$i/" "$SNAP/t$i/task.yaml"
	head -c 1000000 /dev/urandom >"$SNAP/t$i/files/pad.bin"   # slow digests
done
DB5=$(newdb e)
partial=""
for _ in $(seq 1 10); do
	"$ASSAY" run --suite "$SNAP" --model baseline/null --store "$DB5" -j 1 >/dev/null 2>&1 &
	pid=$!
	sleep "$(python3 -c 'import random; print(round(random.uniform(0.05, 1.5), 3))')"
	kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	p=$(q "$DB5" "SELECT min(id) FROM runs r WHERE (SELECT count(*) FROM run_tasks t WHERE t.run_id=r.id) != 40" 2>/dev/null)
	[ -n "$p" ] && partial="$partial $p"
done
runs=$(q "$DB5" "SELECT count(*) FROM runs" 2>/dev/null)
[ -z "$partial" ] && ok "10 kills around the snapshot: no run with a partial snapshot (${runs:-0} whole runs)" ||
	bad "partial snapshot" "runs with a partial snapshot:$partial"

# --- randomized kill -9 / SIGINT of run and resume: exactly once --------
RS=$TMP/randsuite
mkdir -p "$RS"
for i in 1 2 3 4 5 6 7 8; do
	cp -r "$TASK" "$RS/r$i"
	sed -i "s/^id: files-only/id: r$i/" "$RS/r$i/task.yaml"
done
stop_mock
start_mock "$TMP/slow.jsonl"
DB6=$(newdb f)
told=0
log=""
for i in $(seq 1 12); do
	run=$(q "$DB6" "SELECT max(id) FROM runs" 2>/dev/null)
	if [ -z "$run" ]; then
		"$ASSAY" run --suite "$RS" --model openai/m --base-url "$URL" --epochs 4 -j 2 \
			--store "$DB6" >/dev/null 2>"$TMP/k$i.err" &
	else
		"$ASSAY" resume "$run" --store "$DB6" >/dev/null 2>"$TMP/k$i.err" &
	fi
	pid=$!
	d=$(python3 -c 'import random; print(round(random.uniform(0.02, 2.5), 3))')
	sig=$(python3 -c 'import random; print(random.choice(["KILL", "KILL", "INT"]))')
	sleep "$d"
	kill -$sig $pid 2>/dev/null; wait $pid 2>/dev/null
	log="$log $sig@$d"
done
run=$(q "$DB6" "SELECT max(id) FROM runs")
rc=1
for i in 1 2 3; do
	"$ASSAY" resume "$run" --store "$DB6" >/dev/null 2>"$TMP/final$i.err" && { rc=0; break; }
done
for f in "$TMP"/k*.err "$TMP"/final*.err; do
	n=$(sed -n 's/.*(\([0-9]*\) attempts\{0,1\} found running.*/\1/p' "$f")
	told=$((told + ${n:-0}))
done
marked=$(q "$DB6" "SELECT count(*) FROM episodes WHERE status='interrupted' AND error='the harness stopped while this episode ran'")
[ $rc -eq 0 ] && [ "$(q "$DB6" "SELECT count(*) FROM runs")" = 1 ] &&
	[ "$(q "$DB6" "SELECT status FROM runs")" = done ] &&
	ok "12 random kills/SIGINTs of run and resume, then resume: one run, done ($log)" ||
	bad "random kills" "rc=$rc runs=$(q "$DB6" "SELECT id, status FROM runs") ($log) $(tail -2 "$TMP"/final*.err)"
m=$(exactly_once "$DB6" "$run" 32) && ok "after random kills: exactly one scored attempt per (task, epoch)" ||
	bad "exactly once (random)" "$m ($log)"
[ "$told" = "$marked" ] && ok "the resumes told how many attempts were cut off ($told)" ||
	bad "cut-off count told" "told $told, marked $marked"
"$ASSAY" report "$run" --store "$DB6" --format json -o "$TMP/f.json" 2>/dev/null
[ "$(json_get "$TMP/f.json" 'j["totals"]["scored"], j["totals"]["unscored"], j["totals"]["interrupted"]')" = "32 0 0" ] &&
	ok "report and resume agree: 32 of 32 scored, none shown interrupted" ||
	bad "report after random kills" "$(json_get "$TMP/f.json" 'j["totals"]')"

# --- resume tells the truth: relative paths and the policy --------------
# A run started in one directory with relative suite and policy paths,
# interrupted, resumes from another; its policy is evaluated again at the
# end, and a policy changed in between is refused.
mkdir -p "$TMP/work"
cp -r "$TASK" "$TMP/work/suite"
cp "$ASSAY_SOURCE_DIR/policies/default.yaml" "$TMP/work/pol.yaml"
DB7=$(newdb g)
(cd "$TMP/work" && exec "$ASSAY" run --suite suite --policy pol.yaml --model openai/m --base-url "$URL" \
	--epochs 6 -j 1 --store "$DB7" >/dev/null 2>&1) &
pid=$!
wait_for "$DB7" "SELECT count(*) FROM episodes WHERE status='done'"
kill -INT $pid; wait $pid 2>/dev/null
cfg=$(q "$DB7" "SELECT config_json FROM runs WHERE id=1")
case "$cfg" in
	*"\"suite\":\"$TMP/work/suite\""*"\"policy\":\"$TMP/work/pol.yaml\""*|*"\"policy\":\"$TMP/work/pol.yaml\""*"\"suite\":\"$TMP/work/suite\""*)
		ok "suite and policy paths are journaled absolute";;
	*) bad "absolute paths" "$cfg";;
esac
(cd / && "$ASSAY" resume 1 --store "$DB7" >"$TMP/g.out" 2>"$TMP/g.err"); rc=$?
pdig=$(sha256sum "$TMP/work/pol.yaml" | cut -c1-16)
[ $rc -eq 0 ] && grep -q "determination under policy assay-default-v1, sha256 $pdig: " "$TMP/g.out" &&
	! grep -q "$TMP" "$TMP/g.out" &&
	ok "resume from another directory finishes and re-evaluates the run's policy (by name and digest, no path)" ||
	bad "resume with policy" "rc=$rc $(cat "$TMP/g.out") $(tail -2 "$TMP/g.err")"
(cd "$TMP/work" && exec "$ASSAY" run --suite suite --policy pol.yaml --model openai/m --base-url "$URL" \
	--epochs 6 -j 1 --store "$DB7" >/dev/null 2>&1) &
pid=$!
wait_for "$DB7" "SELECT count(*) FROM episodes WHERE run_id=2 AND status='done'"
kill -INT $pid; wait $pid 2>/dev/null
echo "# changed after the run started" >>"$TMP/work/pol.yaml"
expect_rc "a policy changed since the run started: resume refuses (exit 2)" 2 "$ASSAY" resume 2 --store "$DB7"
grep -q "changed since the run started" "$TMP/err" && ok "policy change refusal says why" || bad "policy change message" "$(cat "$TMP/err")"

if is_pg; then
	# a store of a newer schema is refused before anything is written
	N=$(newdb n)
	"$ASSAY" runs --store "$N" >/dev/null 2>&1
	q "$N" "UPDATE meta SET value='999' WHERE key='schema'"
	expect_rc "newer schema (PostgreSQL): exit 3" 3 "$ASSAY" resume 1 --store "$N"
	grep -q "schema version 999, newer" "$TMP/err" && ok "newer schema: the message names the versions" || bad "newer message" "$(cat "$TMP/err")"
	[ "$(q "$N" "SELECT count(*) FROM runs")|$(q "$N" "SELECT value FROM meta WHERE key='schema'")" = "0|999" ] &&
		ok "newer schema: nothing written" || bad "newer store written" ""
	finish
	exit
fi

# --- a full disk: the run stops, the store stays consistent -------------
# The store on a 640 KiB tmpfs fills up mid-run (transcripts are large);
# the commit that fails is rolled back, the run stops with exit 3, and the
# store (moved to a roomy disk) gives a report and a resume that agree and
# end with every pair scored once.
printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"head -c 3000 /dev/urandom | base64"},"latency_ms":20}' \
	'{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]}}' >"$TMP/big.jsonl"
stop_mock
start_mock "$TMP/big.jsonl"
mkdir -p "$TMP/full" "$TMP/roomy"
unshare -m sh -c "mount -t tmpfs -o size=640k none '$TMP/full' &&
	'$ASSAY' run --suite '$TASK' --model openai/m --base-url '$URL' --epochs 60 -j 4 \
		--store '$TMP/full/h.db' >/dev/null 2>'$TMP/full.err'; echo \$? >'$TMP/full.rc';
	cp '$TMP/full/'h.db* '$TMP/roomy/'"
rc=$(cat "$TMP/full.rc" 2>/dev/null)
[ "$rc" = 3 ] && grep -q "database or disk is full" "$TMP/full.err" &&
	ok "full disk: the run stops, exit 3, saying the store is full" ||
	bad "full disk" "rc=$rc $(tail -2 "$TMP/full.err")"
H=$TMP/roomy/h.db
"$ASSAY" report 1 --store "$H" --format json -o "$TMP/h.json" 2>"$TMP/h.err"
left=$(json_get "$TMP/h.json" 'j["totals"]["unscored"]' 2>/dev/null)
"$ASSAY" resume 1 --store "$H" >/dev/null 2>"$TMP/h2.err"
rc=$?
grep -q "resuming run 1: $left of 60 (task, epoch) pairs" "$TMP/h2.err" && [ "${left:-0}" -gt 0 ] &&
	ok "after a full disk: report and resume agree ($left of 60 unscored)" ||
	bad "full disk: report vs resume" "report unscored=$left; $(head -1 "$TMP/h2.err")"
m=$(exactly_once "$H" 1 60) && [ $rc -eq 0 ] && ok "after a full disk and resume: exactly one scored attempt per pair" ||
	bad "full disk exactly once" "rc=$rc $m $(tail -1 "$TMP/h2.err")"

# --- damaged and newer stores are refused, untouched ---------------------
cp "$DB" "$TMP/dmg.db"
python3 - "$TMP/dmg.db" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    for pg in range(1, 8):
        f.seek(pg * 4096)
        f.write(b"\x55" * 64)
PY
sum0=$(sha256sum <"$TMP/dmg.db")
expect_rc "damaged store (quick_check): exit 3" 3 "$ASSAY" runs --store "$TMP/dmg.db"
grep -q "is damaged" "$TMP/err" && ok "damaged store: the message says so" || bad "damaged message" "$(cat "$TMP/err")"
expect_rc "damaged store: resume refused too" 3 "$ASSAY" resume 1 --store "$TMP/dmg.db"
[ "$(sha256sum <"$TMP/dmg.db")" = "$sum0" ] && ok "damaged store: nothing written" || bad "damaged store written" ""
cp "$DB" "$TMP/new.db"
q "$TMP/new.db" "UPDATE meta SET value='999' WHERE key='schema'"
sum0=$(sha256sum <"$TMP/new.db")
expect_rc "newer schema: exit 3" 3 "$ASSAY" resume 1 --store "$TMP/new.db"
grep -q "schema version 999, newer" "$TMP/err" && ok "newer schema: the message names the versions" || bad "newer message" "$(cat "$TMP/err")"
[ "$(sha256sum <"$TMP/new.db")" = "$sum0" ] && ok "newer schema: nothing written" || bad "newer store written" ""

finish
