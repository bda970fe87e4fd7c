#!/bin/bash
# The engine under interruption and budgets: SIGINT finishes journaling,
# tears the boxes down and leaves a resumable run; a token budget stops new
# episodes cleanly.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$(newdb a)

printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"sleep 0.2"},"latency_ms":300,"usage":{"prompt":1000,"completion":10}}' >"$TMP/s.jsonl"
"$MOCKMODEL" --script "$TMP/s.jsonl" --loop --idle-exit 120 >"$TMP/port" &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
URL="http://127.0.0.1:$(cat "$TMP/port")/v1"

# SIGINT in the middle of a run
OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" \
	--epochs 6 -j 2 --store "$DB" --json >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 2
kids=$(pgrep -P $pid)     # the boxes' init processes, children of the harness
kill -INT $pid
t0=$(date +%s)
wait $pid; rc=$?
t1=$(date +%s)
[ $rc -eq 130 ] && ok "SIGINT: exit 130" || bad "SIGINT exit" "rc=$rc $(cat "$TMP/err")"
[ $((t1 - t0)) -le 10 ] && ok "SIGINT: stopped within $((t1 - t0)) s" || bad "SIGINT slow" "$((t1 - t0)) s"
grep -q "assay resume 1" "$TMP/err" && ok "SIGINT: says how to resume" || bad "resume hint" "$(cat "$TMP/err")"
status=$(q "$DB" "SELECT status FROM runs WHERE id=1")
[ "$status" = interrupted ] && ok "run marked interrupted" || bad "run status" "$status"
running=$(q "$DB" "SELECT count(*) FROM episodes WHERE status IN ('running','pending')")
[ "$running" = 0 ] && ok "no episode left running in the journal" || bad "episodes left running" "$running"
sleep 0.5
left=""
for k in $kids; do [ -d /proc/$k ] && left="$left $k"; done
[ -n "$kids" ] && [ -z "$left" ] && ok "no box left behind ($(echo $kids | wc -w) were running)" ||
	bad "boxes left" "running before: '$kids', left: '$left'"
if OPENAI_API_KEY=k "$ASSAY" resume 1 --store "$DB" >/dev/null 2>"$TMP/err"; then
	done_eps=$(q "$DB" "SELECT count(DISTINCT epoch) FROM episodes WHERE run_id=1 AND status='done' AND error_class!='infra'")
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
status=$(q "$DB" "SELECT status FROM runs WHERE id=2")
[ "$status" = incomplete ] && [ $rc -eq 3 ] && grep -q "run budget is spent" "$TMP/err" &&
	ok "budget-stopped run is incomplete, exit 3, says why" || bad "budget run status" "$status rc=$rc $(tail -2 "$TMP/err")"
# per-episode limits the model's work hits: working time and cost
OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" \
	--episode-working-s 1 --store "$DB" --json >"$TMP/out" 2>"$TMP/err"
w=$(q "$DB" "SELECT outcome, error_class FROM episodes WHERE run_id=3")
[ "$w" = "limit-working|model" ] && ok "--episode-working-s ends the episode (limit-working)" ||
	bad "working-time limit" "$w $(tail -2 "$TMP/err")"
OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/gpt-4o --base-url "$URL" \
	--episode-usd 0.004 --store "$DB" --json >"$TMP/out" 2>"$TMP/err"
c=$(q "$DB" "SELECT outcome, error_class, model_calls FROM episodes WHERE run_id=4")
case "$c" in
	"limit-cost|model|"[1-4]) ok "--episode-usd ends the episode from the price table ($c)";;
	*) bad "cost limit" "$c $(tail -2 "$TMP/err")";;
esac

# rate limiting: 429s shrink the concurrency, and every episode still ends
# well (the retries are infrastructure, never the model's)
kill $mock 2>/dev/null; wait $mock 2>/dev/null
{
	for _ in 1 2 3 4 5 6; do echo '{"kind":"status","status":429,"retry_after":"0"}'; done
	for _ in $(seq 1 40); do echo '{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]}}'; done
} >"$TMP/s429.jsonl"
"$MOCKMODEL" --script "$TMP/s429.jsonl" --idle-exit 120 >"$TMP/port" &
mock=$!
: >"$TMP/port2"; for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
ASSAY_LOG=info OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m \
	--base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" --epochs 8 -j 4 --retry-backoff-ms 20 \
	--store "$DB" --json >"$TMP/out" 2>"$TMP/err"
grep -q "concurrency lowered" "$TMP/err" && ok "429s lower the concurrency" || bad "adaptive concurrency" "$(tail -3 "$TMP/err")"
solved=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["solved"])' "$TMP/out" 2>/dev/null)
[ "$solved" = 8 ] && ok "every rate-limited episode still solved" || bad "rate-limited episodes" "$(cat "$TMP/out")"
finish
