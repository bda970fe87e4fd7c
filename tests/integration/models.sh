#!/bin/bash
# `assay run` against the mock model server, one fault per test: the
# recorded outcome and its class must be right, keys must never reach the
# journal, and nothing already journaled is lost.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/assay.db
KEY=sk-test-SECRET-0123456789
MOCK_PID=""

start_mock() {   # start_mock SCRIPT_LINES...
	printf '%s\n' "$@" >"$TMP/script.jsonl"
	: >"$TMP/port"; : >"$TMP/mock.log"
	"$MOCKMODEL" --script "$TMP/script.jsonl" --log "$TMP/mock.log" --idle-exit 120 >"$TMP/port" &
	MOCK_PID=$!
	for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
	PORT=$(head -1 "$TMP/port")
}
stop_mock() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=""; }

# run_openai NAME [assay options]: one episode of the files-only task
run_openai() {
	OPENAI_API_KEY=$KEY "$ASSAY" run --suite "$TASK" --model openai/mock-1 \
		--base-url "http://127.0.0.1:$PORT/v1" --store "$DB" --json \
		--max-retries 2 --retry-backoff-ms 50 --request-timeout "${RTIMEOUT:-3}" "$@" \
		>"$TMP/out" 2>"$TMP/err"
	RUN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$TMP/out" 2>/dev/null)
}

# last_episode FIELD: a column of the run's last attempt
last() { sqlite3 "$DB" "SELECT $1 FROM episodes WHERE run_id=${RUN:-0} ORDER BY attempt DESC LIMIT 1"; }
attempts() { sqlite3 "$DB" "SELECT count(*) FROM episodes WHERE run_id=${RUN:-0}"; }

expect_outcome() {   # NAME OUTCOME CLASS
	local o c
	o=$(last outcome); c=$(last error_class)
	if [ "$o" = "$2" ] && [ "$c" = "$3" ]; then ok "$1"
	else bad "$1" "outcome=$o class=$c want $2/$3; $(last error) $(tail -2 "$TMP/err")"; fi
}

SOLVE_BASH='{"kind":"tool_call","name":"bash","arguments":{"cmd":"base64 -d note.txt"},"usage":{"prompt":100,"completion":20,"cached":40}}'
SOLVE_SUBMIT='{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]},"usage":{"prompt":150,"completion":10}}'

start_mock "$SOLVE_BASH" "$SOLVE_SUBMIT"
run_openai
expect_outcome "openai: tool calls, submit, solved" solved none
[ "$(last prompt_tokens)" = 250 ] && [ "$(last cached_tokens)" = 40 ] && [ "$(last answers_ok)" = 1 ] &&
	ok "usage and answers recorded" || bad "usage recorded" "prompt=$(last prompt_tokens) cached=$(last cached_tokens)"
if grep -q '"role": *"tool"' "$TMP/mock.log" && grep -q 'flag{files-only-example}' "$TMP/mock.log"; then
	ok "the tool result went back to the model"
else bad "tool result sent back" "$(tail -c 600 "$TMP/mock.log")"; fi
if grep -q "$KEY" "$DB" "$DB-wal" 2>/dev/null || grep -q "$KEY" "$TMP/err"; then
	bad "key never journaled or logged" "found in store or stderr"
else ok "key never journaled or logged"; fi
stop_mock

start_mock '{"kind":"status","status":429,"retry_after":"1"}' "$SOLVE_BASH" "$SOLVE_SUBMIT"
t0=$(date +%s%N); run_openai; t1=$(date +%s%N)
expect_outcome "429 with Retry-After is retried" solved none
[ $(( (t1 - t0) / 1000000 )) -ge 900 ] && ok "Retry-After honoured" || bad "Retry-After honoured" "$(( (t1 - t0) / 1000000 )) ms"
[ "$(last infra_retries)" -ge 1 ] && ok "retries counted" || bad "retries counted" "$(last infra_retries)"
stop_mock

for fault in '{"kind":"status","status":500}' '{"kind":"status","status":503}' \
	     '{"kind":"truncated"}' '{"kind":"malformed"}' '{"kind":"content_type"}' \
	     '{"kind":"close"}' '{"kind":"huge","bytes":9000000}' '{"kind":"hang"}'; do
	name=$(printf '%s' "$fault" | sed 's/.*"kind":"\([a-z_]*\)".*/\1/')
	start_mock "$fault" "$fault" "$fault" "$fault" "$fault" "$fault" "$fault" "$fault" "$fault" "$fault"
	# a hang is cut by the per-call deadline: 9 calls, so a short one
	if [ "$name" = hang ]; then RTIMEOUT=1 run_openai; else run_openai; fi
	expect_outcome "$name: infrastructure, never the model's" infra-error infra
	[ "$(attempts)" = 3 ] && ok "$name: episode attempted 3 times" || bad "$name attempts" "$(attempts)"
	stop_mock
done

start_mock '{"kind":"refusal"}'
run_openai
expect_outcome "refusal is the model's outcome" model-error model
stop_mock

start_mock '{"kind":"overflow"}'
run_openai
expect_outcome "context overflow is the model's outcome" model-error model
stop_mock

# hostile tool calls: invalid JSON and an unknown tool become observations
start_mock '{"kind":"tool_call","name":"bash","arguments":"{not json"}' \
	'{"kind":"tool_call","name":"rm_rf_host","arguments":{}}' \
	"$SOLVE_SUBMIT"
run_openai
expect_outcome "malformed and unknown tool calls do not end the episode" solved none
if grep -q 'not a JSON object' "$TMP/mock.log" && grep -q "unknown tool" "$TMP/mock.log"; then
	ok "the model saw error observations"
else bad "error observations" "$(tail -c 400 "$TMP/mock.log")"; fi
stop_mock

# near the context window the oldest observations are dropped, never the
# task: four 3,000-byte outputs against a 2,000-token window
BIG='{"kind":"tool_call","name":"bash","arguments":{"cmd":"head -c 3000 /dev/zero | tr \\\\0 a"}}'
start_mock "$BIG" "$BIG" "$BIG" "$BIG" "$SOLVE_SUBMIT"
run_openai --context-window 2000
expect_outcome "a long conversation still fits the window" solved none
last_req=$(tail -1 "$TMP/mock.log")
if printf '%s' "$last_req" | grep -q "observation dropped to fit the context window" &&
   printf '%s' "$last_req" | grep -q "hides a flag" &&
   [ "$(printf '%s' "$last_req" | wc -c)" -lt 16000 ]; then
	ok "oldest observations dropped, the task kept"
else bad "context management" "$(printf '%s' "$last_req" | head -c 300)"; fi
stop_mock

# the model stops calling tools: nudged, then no-submit
start_mock '{"kind":"text","text":"I give up"}' '{"kind":"text","text":"no"}' \
	'{"kind":"text","text":"no"}' '{"kind":"text","text":"no"}' '{"kind":"text","text":"no"}'
run_openai
expect_outcome "no tool calls: no-submit" no-submit none
stop_mock

# anthropic wire format
start_mock "$SOLVE_BASH" "$SOLVE_SUBMIT"
ANTHROPIC_API_KEY=$KEY ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" "$ASSAY" run --suite "$TASK" \
	--model anthropic/mock-2 --store "$DB" --json --max-retries 1 >"$TMP/out" 2>"$TMP/err"
RUN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$TMP/out" 2>/dev/null)
expect_outcome "anthropic: tool use, submit, solved" solved none
grep -q "\"x_api_key\":\"$KEY\"" "$TMP/mock.log" && grep -q '"anthropic_version":"2023-06-01"' "$TMP/mock.log" && grep -q 'tool_result' "$TMP/mock.log" &&
	ok "anthropic: x-api-key header and tool_result blocks" || bad "anthropic wire" "$(tail -c 400 "$TMP/mock.log")"
stop_mock

# the structured scaffold: no tools offered, the action is in the text,
# the output goes back as an "Observation:" user message
TEXT_BASH='{"kind":"text","text":"Reflection: none yet\nPlan: decode the note\nThought: base64\nCommand:\n```bash\nbase64 -d note.txt\n```","usage":{"prompt":100,"completion":30}}'
TEXT_FLAG='{"kind":"text","text":"Thought: that is it\n**Flag:** flag{files-only-example}\nAnswer 1: base64","usage":{"prompt":150,"completion":10}}'
start_mock "$TEXT_BASH" "$TEXT_FLAG"
run_openai --agent structured
expect_outcome "structured scaffold (openai): text command, flag, solved" solved none
if ! grep -q '"tools"' "$TMP/mock.log" && grep -q 'Observation:\\nflag{files-only-example}' "$TMP/mock.log" &&
   [ "$(last answers_ok)" = 1 ] &&
   [ "$(sqlite3 "$DB" "SELECT json_extract(config_json, '$.agent') FROM runs WHERE id=$RUN")" = structured ]; then
	ok "structured: no tools sent, observation as text, answers and scaffold recorded"
else bad "structured wire" "$(tail -c 600 "$TMP/mock.log")"; fi
stop_mock
start_mock "$TEXT_BASH" "$TEXT_FLAG"
ANTHROPIC_API_KEY=$KEY ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" "$ASSAY" run --suite "$TASK" \
	--model anthropic/mock-2 --agent structured --store "$DB" --json --max-retries 1 >"$TMP/out" 2>"$TMP/err"
RUN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$TMP/out" 2>/dev/null)
expect_outcome "structured scaffold (anthropic): solved" solved none
stop_mock
# a reply with neither a command nor a flag is nudged, then no-submit
start_mock '{"kind":"text","text":"Let me think."}' '{"kind":"text","text":"Hmm."}' \
	'{"kind":"text","text":"Still thinking."}' '{"kind":"text","text":"No."}'
run_openai --agent structured
expect_outcome "structured: no command and no flag: no-submit" no-submit none
grep -q 'end your reply with' "$TMP/mock.log" && ok "structured: the nudge names the format" ||
	bad "structured nudge" "$(tail -c 400 "$TMP/mock.log")"
stop_mock
"$ASSAY" run --suite "$TASK" --model baseline/null --agent nope --store "$DB" >/dev/null 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] && grep -q "agent" "$TMP/err" && ok "unknown scaffold: exit 2" || bad "unknown scaffold" "rc=$rc $(cat "$TMP/err")"

# bad input: a missing key or an unreachable endpoint
env -u OPENAI_API_KEY "$ASSAY" run --suite "$TASK" --model openai/gpt-4.1 --store "$DB" >/dev/null 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] && grep -q OPENAI_API_KEY "$TMP/err" && grep -q "gpt-4.1" "$TMP/err" &&
	ok "missing key: exit 2 naming model and variable" || bad "missing key" "rc=$rc $(cat "$TMP/err")"
PORT=1   # nothing listens there: the preflight fails, nothing runs
run_openai
rc=$?
RUN=$(sqlite3 "$DB" "SELECT max(id) FROM runs")
[ "$(sqlite3 "$DB" "SELECT status FROM runs WHERE id=$RUN")" = failed ] && [ "$(attempts)" = 0 ] &&
	grep -q "127.0.0.1:1" "$TMP/err" && grep -q "check the base URL" "$TMP/err" &&
	ok "unreachable endpoint: the run fails at the preflight, naming the endpoint" ||
	bad "unreachable endpoint" "rc=$rc $(cat "$TMP/err")"

finish
