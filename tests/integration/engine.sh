#!/bin/bash
# The engine under interruption and budgets: SIGINT finishes journaling,
# tears the boxes down and leaves a resumable run; a token budget stops new
# episodes cleanly.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/a.db

printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"sleep 0.2"},"latency_ms":300,"usage":{"prompt":1000,"completion":10}}' >"$TMP/s.jsonl"
"$MOCKMODEL" --script "$TMP/s.jsonl" --loop --idle-exit 120 >"$TMP/port" &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
URL="http://127.0.0.1:$(cat "$TMP/port")/v1"
boxes() { pgrep -c -f assay-init 2>/dev/null || echo 0; }
before=$(boxes)

# SIGINT in the middle of a run
OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" \
	--epochs 6 -j 2 --store "$DB" --json >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 2
kill -INT $pid
t0=$(date +%s)
wait $pid; rc=$?
t1=$(date +%s)
[ $rc -eq 3 ] && ok "SIGINT: exit 3" || bad "SIGINT exit" "rc=$rc $(cat "$TMP/err")"
[ $((t1 - t0)) -le 10 ] && ok "SIGINT: stopped within $((t1 - t0)) s" || bad "SIGINT slow" "$((t1 - t0)) s"
grep -q "assay resume 1" "$TMP/err" && ok "SIGINT: says how to resume" || bad "resume hint" "$(cat "$TMP/err")"
status=$(sqlite3 "$DB" "SELECT status FROM runs WHERE id=1")
[ "$status" = interrupted ] && ok "run marked interrupted" || bad "run status" "$status"
running=$(sqlite3 "$DB" "SELECT count(*) FROM episodes WHERE status IN ('running','pending')")
[ "$running" = 0 ] && ok "no episode left running in the journal" || bad "episodes left running" "$running"
sleep 0.5
[ "$(boxes)" -le "$before" ] && ok "no box left behind" || bad "boxes left" "$(boxes) > $before"
if OPENAI_API_KEY=k "$ASSAY" resume 1 --store "$DB" >/dev/null 2>"$TMP/err"; then
	done_eps=$(sqlite3 "$DB" "SELECT count(DISTINCT epoch) FROM episodes WHERE run_id=1 AND status='done' AND error_class!='infra'")
	[ "$done_eps" = 6 ] && ok "resume after SIGINT finishes all 6 epochs" || bad "resume after SIGINT" "$done_eps"
else bad "resume after SIGINT" "$(cat "$TMP/err")"; fi

# a run budget of 3,000 tokens: each call costs 1,010; new episodes stop
OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" \
	--epochs 20 -j 1 --budget-tokens 3000 --store "$DB" --json >"$TMP/out" 2>"$TMP/err"
rc=$?
eps=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["episodes"], d["stopped"])' "$TMP/out" 2>/dev/null)
case "$eps" in
	"1 True"|"2 True") ok "token budget stops new episodes ($eps)";;
	*) bad "token budget" "rc=$rc $eps $(cat "$TMP/err")";;
esac
status=$(sqlite3 "$DB" "SELECT status FROM runs WHERE id=2")
[ "$status" = stopped ] && ok "budget-stopped run is marked stopped" || bad "budget run status" "$status"
finish
