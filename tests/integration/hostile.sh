#!/bin/bash
# `assay run` against a hostile endpoint (tests/lib/mockmodel_main.c), both
# wire formats: a fatal configuration error stops the run at once, loudly
# (exit 3, run failed, resumable with a fixed endpoint); the endpoint's
# faults are never the model's failures and are classified in a bounded
# time; an outage pauses the run and ends it incomplete at its deadline;
# signals stop it cleanly with exit 130. Each case asserts the class, the
# exit code, the run status and an elapsed bound (generous: it is the
# harness's promise that is checked, not its speed).
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/assay.db
KEY=sk-test-SECRET-0123456789
MOCK_PID=""

start_mock() {   # start_mock [--loop] SCRIPT_LINES...
	local loop=""
	[ "$1" = --loop ] && { loop=--loop; shift; }
	printf '%s\n' "$@" >"$TMP/script.jsonl"
	: >"$TMP/port"; : >"$TMP/mock.log"
	"$MOCKMODEL" --script "$TMP/script.jsonl" --log "$TMP/mock.log" $loop --idle-exit 120 >"$TMP/port" &
	MOCK_PID=$!
	for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
	PORT=$(head -1 "$TMP/port")
}
stop_mock() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=""; }

# run_model MODEL BASE [assay options]: one episode; sets RC, MS, RUN
run_model() {
	local model=$1 base=$2; shift 2
	local t0=$(date +%s%N)
	OPENAI_API_KEY=$KEY ANTHROPIC_API_KEY=$KEY "$ASSAY" run --suite "${SUITE:-$TASK}" \
		--model "$model" --base-url "$base" --store "$DB" --json \
		--max-retries "${RETRIES:-2}" --retry-backoff-ms "${BACKOFF:-50}" --request-timeout 2 "$@" \
		>"$TMP/out" 2>"$TMP/err"
	RC=$?
	MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	RUN=$(sqlite3 "$DB" "SELECT max(id) FROM runs")
}
run_openai() { run_model openai/mock-1 "http://127.0.0.1:$PORT/v1" "$@"; }
run_anthropic() { run_model anthropic/mock-2 "http://127.0.0.1:$PORT" "$@"; }

status() { sqlite3 "$DB" "SELECT status FROM runs WHERE id=$RUN"; }
episodes() { sqlite3 "$DB" "SELECT count(*) FROM episodes WHERE run_id=$RUN $*"; }
requests() { wc -l <"$TMP/mock.log"; }

# expect_run NAME RC STATUS MAX_MS: exit code, run status and time bound
expect_run() {
	if [ "$RC" = "$2" ] && [ "$(status)" = "$3" ] && [ "$MS" -le "$4" ]; then ok "$1"
	else bad "$1" "rc=$RC status=$(status) ${MS}ms, want $2/$3/<=$4ms; $(tail -3 "$TMP/err")"; fi
}
# never_model NAME: no attempt of the run is blamed on the model
never_model() {
	local n
	n=$(episodes "AND (error_class='model' OR outcome LIKE 'limit-%')")
	[ "$n" = 0 ] && ok "$1: never the model's failure" ||
		bad "$1: never the model's" "$(sqlite3 "$DB" "SELECT outcome, error_class, error FROM episodes WHERE run_id=$RUN")"
}

SOLVE_BASH='{"kind":"tool_call","name":"bash","arguments":{"cmd":"base64 -d note.txt"}}'
SOLVE_SUBMIT='{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]}}'

# ---- 1. fatal configuration errors: one request, one line, exit 3 ----

start_mock '{"kind":"status","status":401,"for":"preflight","message":"Incorrect API key provided: sk-abc***xyz","code":"invalid_api_key"}'
run_openai
expect_run "401 at the preflight: exit 3, run failed, within seconds" 3 failed 5000
line="openai/mock-1 at http://127.0.0.1:$PORT/v1/chat/completions: HTTP 401: Incorrect API key provided"
if grep -qF "$line" "$TMP/err" && grep -q "check OPENAI_API_KEY" "$TMP/err" && [ "$(episodes)" = 0 ] &&
   [ "$(requests)" = 1 ] && ! grep -q "sk-abc" "$TMP/err"; then
	ok "401: one request, no episode, one line naming provider, model, endpoint, status, message and key variable"
else bad "401 message" "episodes=$(episodes) requests=$(requests) $(cat "$TMP/err")"; fi
stop_mock

start_mock '{"kind":"status","status":401,"for":"preflight","message":"invalid x-api-key"}'
run_anthropic
expect_run "401 (anthropic): exit 3, run failed" 3 failed 5000
grep -qF "anthropic/mock-2 at http://127.0.0.1:$PORT/v1/messages: HTTP 401: invalid x-api-key" "$TMP/err" &&
	grep -q "check ANTHROPIC_API_KEY" "$TMP/err" && ok "401 (anthropic): the line names the endpoint and the variable" ||
	bad "401 (anthropic) message" "$(cat "$TMP/err")"
stop_mock

start_mock '{"kind":"status","status":404,"for":"preflight","message":"The model mock-1 does not exist","code":"model_not_found"}'
run_openai
expect_run "404 unknown model: exit 3, run failed" 3 failed 5000
grep -q "HTTP 404: The model mock-1 does not exist" "$TMP/err" && ok "404: the provider's message" || bad "404 message" "$(cat "$TMP/err")"
stop_mock

start_mock '{"kind":"status","status":400,"for":"preflight","message":"Unsupported parameter: temperature is not supported with this model.","code":"unsupported_parameter"}'
run_openai --temperature 0.5
expect_run "400 unsupported parameter: exit 3, run failed" 3 failed 5000
grep -q "HTTP 400: Unsupported parameter" "$TMP/err" && ok "400: the provider's message" || bad "400 message" "$(cat "$TMP/err")"
stop_mock

start_mock '{"kind":"status","status":429,"for":"preflight","message":"You exceeded your current quota","code":"insufficient_quota"}'
run_anthropic
expect_run "429 out of quota is fatal, not a rate limit to wait on" 3 failed 5000
stop_mock

# no preflight: the key is revoked mid-run. The run stops at once, the
# attempt cut off is interrupted (not an infra failure counting toward the
# cap), and a resume with a working endpoint finishes it.
start_mock "$SOLVE_BASH" '{"kind":"status","status":401,"message":"key revoked"}'
run_openai --no-preflight
expect_run "401 mid-run (no preflight): exit 3, run failed" 3 failed 8000
[ "$(episodes "AND status='interrupted'")" = 1 ] && [ "$(episodes "AND error_class='infra' AND status='done'")" = 0 ] &&
	ok "401 mid-run: the attempt is interrupted, not a counted infra failure" ||
	bad "401 mid-run attempt" "$(sqlite3 "$DB" "SELECT status, outcome, error_class FROM episodes WHERE run_id=$RUN")"
stop_mock
start_mock "$SOLVE_BASH" "$SOLVE_SUBMIT"
t0=$(date +%s%N)
OPENAI_API_KEY=$KEY "$ASSAY" resume "$RUN" --store "$DB" --base-url "http://127.0.0.1:$PORT/v1" \
	--request-timeout 5 >"$TMP/out" 2>"$TMP/err"
RC=$?; MS=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_run "resume with a new --base-url after the fix: done" 0 done 30000
[ "$(episodes "AND outcome='solved'")" = 1 ] && ok "resume: the pair is scored once" ||
	bad "resume scored" "$(sqlite3 "$DB" "SELECT attempt, status, outcome FROM episodes WHERE run_id=$RUN")"
[ "$(sqlite3 "$DB" "SELECT endpoint FROM runs WHERE id=$RUN")" = "http://127.0.0.1:$PORT/v1/chat/completions" ] &&
	[ "$(sqlite3 "$DB" "SELECT json_extract(config_json, '\$.base_url') FROM runs WHERE id=$RUN")" = "http://127.0.0.1:$PORT/v1" ] &&
	ok "resume: the corrected endpoint is recorded for later resumes" ||
	bad "resume endpoint recorded" "$(sqlite3 "$DB" "SELECT endpoint, config_json FROM runs WHERE id=$RUN")"
stop_mock

# nothing listens, no preflight: the first call fails to connect: fatal
PORT=1
run_openai --no-preflight
expect_run "connection refused on the first call: exit 3, run failed" 3 failed 5000
grep -q "check the base URL" "$TMP/err" && ok "refused: says to check the base URL" || bad "refused message" "$(cat "$TMP/err")"
run_model openai/mock-1 "http://no-such-host.invalid/v1"
expect_run "a name that does not resolve: exit 3, run failed" 3 failed 15000

# ---- 2. the endpoint's faults are never the model's failures ----------

# the agent's wall clock (3 s here) does not run while the endpoint fails:
# 8 failures with backoff take longer than that, and the episode is solved
mkdir -p "$TMP/suite" && cp -r "$TASK" "$TMP/suite/slow" &&
	sed -i 's/wall_s: 60/wall_s: 3/' "$TMP/suite/slow/task.yaml"
F='{"kind":"status","status":503}'
start_mock "$SOLVE_BASH" "$F" "$F" "$F" "$F" "$F" "$F" "$F" "$F" "$SOLVE_SUBMIT"
SUITE=$TMP/suite/slow RETRIES=6 BACKOFF=400 run_openai
expect_run "8 x 503 mid-episode: the run pauses and finishes" 0 done 60000
o=$(sqlite3 "$DB" "SELECT outcome FROM episodes WHERE run_id=$RUN")
[ "$o" = solved ] && [ "$(episodes)" = 1 ] && ok "waiting on the endpoint is not wall-clock time: solved, one attempt" ||
	bad "wall clock paused" "outcome=$o episodes=$(episodes) $(sqlite3 "$DB" "SELECT error FROM episodes WHERE run_id=$RUN")"
stop_mock

for fault in '{"kind":"hang"}' '{"kind":"trickle","interval_ms":300}' '{"kind":"stall"}' \
	     '{"kind":"status","status":502}' '{"kind":"close"}'; do
	name=$(printf '%s' "$fault" | sed 's/.*"kind":"\([a-z_]*\)".*/\1/')
	for wire in openai anthropic; do
		start_mock --loop "$fault"
		run_$wire --outage-deadline 3
		expect_run "$name ($wire): the outage ends the run incomplete at its deadline" 3 incomplete 40000
		never_model "$name ($wire)"
		grep -q "1 of 1 (task, epoch) pairs\|1 (task, epoch) pair\|unscored" "$TMP/err" &&
			grep -q "outage deadline" "$TMP/err" &&
			ok "$name ($wire): says the endpoint stayed down and what is unscored" ||
			bad "$name ($wire) message" "$(cat "$TMP/err")"
		stop_mock
	done
done

# resume after an outage retries exactly the unscored pair
start_mock "$SOLVE_BASH" "$SOLVE_SUBMIT"
t0=$(date +%s%N)
OPENAI_API_KEY=$KEY ANTHROPIC_API_KEY=$KEY "$ASSAY" resume "$RUN" --store "$DB" \
	--base-url "http://127.0.0.1:$PORT" >"$TMP/out" 2>"$TMP/err"
RC=$?; MS=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_run "resume after the outage: done" 0 done 30000
[ "$(episodes "AND status='done' AND error_class!='infra'")" = 1 ] && ok "after the outage: exactly one scored attempt" ||
	bad "after outage" "$(sqlite3 "$DB" "SELECT attempt, status, outcome FROM episodes WHERE run_id=$RUN")"
stop_mock

# legal-but-odd JSON is a valid reply: \u0000 and a lone surrogate in the
# text, an integer past 64 bits in the usage
ODD='{"kind":"raw","body":"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"nul \\u0000 and \\ud800 here\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"submit\",\"arguments\":\"{\\\"flag\\\":\\\"flag{files-only-example}\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":100000000000000000000000,\"completion_tokens\":5}}"}'
start_mock "$ODD"
run_openai
expect_run "odd JSON (openai): a valid reply" 0 done 15000
[ "$(sqlite3 "$DB" "SELECT outcome FROM episodes WHERE run_id=$RUN")" = solved ] && ok "odd JSON: solved" ||
	bad "odd JSON" "$(sqlite3 "$DB" "SELECT outcome, error FROM episodes WHERE run_id=$RUN")"
stop_mock
ODD_A='{"kind":"raw","body":"{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"a\\u0000b\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"submit\",\"input\":{\"flag\":\"flag{files-only-example}\",\"x\":\"\\udfff\"}}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}"}'
start_mock "$ODD_A"
run_anthropic
expect_run "odd JSON (anthropic): a valid reply" 0 done 15000
stop_mock

# ---- 8. signals --------------------------------------------------------

# an absurd Retry-After is capped (and said); SIGTERM then stops the run
# like SIGINT: exit 130, run interrupted, the attempt interrupted
for sig in TERM HUP INT; do
	start_mock '{"kind":"status","status":429,"retry_after":"99999999"}'
	OPENAI_API_KEY=$KEY "$ASSAY" run --suite "$TASK" --model openai/mock-1 \
		--base-url "http://127.0.0.1:$PORT/v1" --store "$DB" --json >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	for _ in $(seq 1 100); do grep -q "capped at 300 s" "$TMP/err" && break; sleep 0.05; done
	grep -q "Retry-After of 99999999 s capped at 300 s" "$TMP/err" && [ "$sig" != TERM ] ||
		{ [ "$sig" = TERM ] && { grep -q "Retry-After of 99999999 s capped at 300 s" "$TMP/err" &&
			ok "absurd Retry-After: capped at 300 s, and said" || bad "Retry-After cap" "$(cat "$TMP/err")"; }; }
	t0=$(date +%s%N)
	kill -$sig $pid
	wait $pid; RC=$?
	MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	RUN=$(sqlite3 "$DB" "SELECT max(id) FROM runs")
	expect_run "SIG$sig: exit 130, run interrupted, promptly" 130 interrupted 8000
	[ "$(episodes "AND status='interrupted'")" = 1 ] && grep -q "assay resume $RUN" "$TMP/err" &&
		ok "SIG$sig: the attempt interrupted, says how to resume" ||
		bad "SIG$sig episode" "$(sqlite3 "$DB" "SELECT status, outcome FROM episodes WHERE run_id=$RUN") $(cat "$TMP/err")"
	stop_mock
done

# a second SIGINT stops faster (no wait for owed replies) and still leaves
# a consistent journal: nothing left running
start_mock --loop '{"kind":"hang"}'
OPENAI_API_KEY=$KEY "$ASSAY" run --suite "$TASK" --model openai/mock-1 --epochs 4 -j 4 \
	--base-url "http://127.0.0.1:$PORT/v1" --store "$DB" --json --request-timeout 60 >"$TMP/out" 2>"$TMP/err" &
pid=$!
for _ in $(seq 1 200); do [ "$(wc -l <"$TMP/mock.log")" -ge 5 ] && break; sleep 0.05; done
t0=$(date +%s%N)
kill -INT $pid; sleep 0.2; kill -INT $pid
wait $pid; RC=$?
MS=$(( ($(date +%s%N) - t0) / 1000000 ))
RUN=$(sqlite3 "$DB" "SELECT max(id) FROM runs")
expect_run "second SIGINT: exit 130 at once" 130 interrupted 4000
[ "$(episodes "AND status NOT IN ('interrupted','done')")" = 0 ] && [ "$(episodes)" -ge 1 ] &&
	ok "second SIGINT: no attempt left running in the journal" ||
	bad "second SIGINT journal" "$(sqlite3 "$DB" "SELECT status, outcome FROM episodes WHERE run_id=$RUN")"
stop_mock

finish
