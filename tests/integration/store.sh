#!/bin/bash
# The journal under races and faults: one writer per run (the run lease),
# a dead owner taken over, interruptions that never count toward the retry
# cap, the cap leaving a run incomplete, damaged and newer stores refused,
# and a randomized kill -9 / resume sequence after which every (task,
# epoch) has exactly one scored attempt.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/a.db
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
q() { sqlite3 "$1" "$2"; }
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
	one=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1)")
	none=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1)")
	dup=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 GROUP BY task_id, epoch, attempt HAVING count(*)>1)")
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
"$ASSAY" resume 1 --store "$DB" >"$TMP/r1.out" 2>"$TMP/r1.err" &
r1=$!
wait_for "$DB" "SELECT count(*) FROM leases WHERE ref=1 AND pid=$r1" ||
	bad "resume lease" "$(cat "$TMP/r1.err")"
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

finish
