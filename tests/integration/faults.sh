#!/bin/bash
# Issue #12's properties under faults that hostile.sh and store.sh do not
# inject (tests/lib/mockmodel_main.c, both wire formats): a connection
# reset mid-body, a proxy's HTML page sent as 200, a JSON body cut short,
# replies of the wrong shape, well-formed empty replies, endless 429s with odd Retry-After values, a
# body that drips a byte a second, headers that never end, TLS behind a
# private CA (no bundle, a reset mid-body, the wrong CA, resume with the
# right one), a 500 on the preflight only, a 5xx storm or hangs at the
# preflight (an outage: incomplete, resumable) and what stays fatal there
# (401/403/404/400, DNS), an outage that ends
# (the run pauses and finishes done), a full disk during resume, racing
# resumes, kill -9 during resume's preparation, and stores truncated or
# corrupted in other ways. Each case asserts the class, the exit code, the
# run status, exactly-once scoring with sqlite3 and, where the issue names
# one, a generous elapsed bound (never a tight one: a shared machine).
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/assay.db
KEY=sk-test-SECRET-0123456789
MOCK_PID=""
trap '[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
export OPENAI_API_KEY=$KEY ANTHROPIC_API_KEY=$KEY

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

# run_model MODEL BASE [assay options]: sets RC, MS, RUN
run_model() {
	local model=$1 base=$2; shift 2
	local t0=$(date +%s%N)
	"$ASSAY" run --suite "${SUITE:-$TASK}" --model "$model" --base-url "$base" \
		--store "${STORE:-$DB}" --json --max-retries "${RETRIES:-2}" \
		--retry-backoff-ms "${BACKOFF:-50}" --request-timeout "${RTIMEOUT:-2}" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	RUN=$(sqlite3 "${STORE:-$DB}" "SELECT max(id) FROM runs")
}
run_wire() {   # run_wire openai|anthropic [assay options]
	local w=$1; shift
	if [ "$w" = openai ]; then run_model openai/mock-1 "http://127.0.0.1:$PORT/v1" "$@"
	else run_model anthropic/mock-2 "http://127.0.0.1:$PORT" "$@"; fi
}
status() { sqlite3 "${STORE:-$DB}" "SELECT status FROM runs WHERE id=$RUN"; }
episodes() { sqlite3 "${STORE:-$DB}" "SELECT count(*) FROM episodes WHERE run_id=$RUN $*"; }
attempts() { sqlite3 "${STORE:-$DB}" "SELECT attempt, status, outcome, error_class, substr(error, 1, 200) FROM episodes WHERE run_id=$RUN"; }
expect_run() {   # NAME RC STATUS MAX_MS
	if [ "$RC" = "$2" ] && [ "$(status)" = "$3" ] && [ "$MS" -le "$4" ]; then ok "$1"
	else bad "$1" "rc=$RC status=$(status) ${MS}ms, want $2/$3/<=$4ms; $(tail -3 "$TMP/err")"; fi
}
never_model() {
	[ "$(episodes "AND (error_class='model' OR outcome LIKE 'limit-%' OR outcome='no-submit')")" = 0 ] &&
		ok "$1: never the model's failure" || bad "$1: never the model's" "$(attempts)"
}
# exactly_once STORE RUN PAIRS: one scored attempt per pair, nothing left
# running, no attempt number twice
exactly_once() {
	local one more dup left
	one=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1) AS x")
	more=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1) AS x")
	dup=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 GROUP BY task_id, epoch, attempt HAVING count(*)>1) AS x")
	left=$(q "$1" "SELECT count(*) FROM episodes WHERE run_id=$2 AND status IN ('running','pending')")
	[ "$one" = "$3" ] && [ "$more" = 0 ] && [ "$dup" = 0 ] && [ "$left" = 0 ] && return 0
	echo "one=$one (want $3) more-than-one=$more dup-attempts=$dup left-running=$left"
	return 1
}
wait_for() {   # wait_for STORE SQL: until it prints something but 0
	local v
	for _ in $(seq 1 400); do
		v=$(q "$1" "$2" 2>/dev/null)
		[ -n "$v" ] && [ "$v" != 0 ] && return 0
		sleep 0.025
	done
	return 1
}

SOLVE_BASH='{"kind":"tool_call","name":"bash","arguments":{"cmd":"base64 -d note.txt"}}'
SOLVE_SUBMIT='{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]}}'

# name KIND_JSON: a short name for a fault
name_of() { printf '%s' "$1" | sed 's/.*"kind":"\([a-z_]*\)".*/\1/'; }

# Faults of one reply. The wrong shapes are wire-specific; `raw` sends a
# body verbatim. Each is an endpoint fault: retried within the call (the
# episode is solved, scored once) and, when it never stops, an outage.
COMMON=(
	'reset|{"kind":"reset"}'
	'html-as-json-200|{"kind":"raw","body":"<html><body>502 Bad Gateway</body></html>"}'
	'html-200|{"kind":"raw","content_type":"text/html","body":"<html><body>Please wait</body></html>"}'
	'truncated-json|{"kind":"raw","body":"{\"choices\":[{\"message\":{\"content\":\"a"}'
	'short-body|{"kind":"truncated"}'
	'429-bare|{"kind":"status","status":429}'
	'429-negative|{"kind":"status","status":429,"retry_after":"-5"}'
	'429-past-date|{"kind":"status","status":429,"retry_after":"Wed, 21 Oct 2015 07:28:00 GMT"}'
	'429-garbage|{"kind":"status","status":429,"retry_after":"soon, maybe"}'
	'drip-body|{"kind":"trickle","interval_ms":1000,"body_only":true}'
	'drip-headers|{"kind":"headers","interval_ms":1000}'
	'endless-headers|{"kind":"headers","interval_ms":0}'
	'array|{"kind":"raw","body":"[]"}'
)
OPENAI_SHAPES=(
	'no-choices|{"kind":"raw","body":"{\"id\":\"x\",\"object\":\"chat.completion\"}"}'
	'empty-choices|{"kind":"raw","body":"{\"choices\":[]}"}'
	'null-message|{"kind":"raw","body":"{\"choices\":[{\"message\":null,\"finish_reason\":null}],\"usage\":null}"}'
	'empty-message|{"kind":"raw","body":"{\"choices\":[{\"message\":{\"role\":\"assistant\"},\"finish_reason\":\"stop\"}]}"}'
)
ANTHROPIC_SHAPES=(
	'no-content|{"kind":"raw","body":"{\"type\":\"message\",\"role\":\"assistant\",\"stop_reason\":\"end_turn\"}"}'
	'null-content|{"kind":"raw","body":"{\"type\":\"message\",\"content\":null,\"usage\":null}"}'
	'content-object|{"kind":"raw","body":"{\"type\":\"message\",\"content\":{\"type\":\"text\",\"text\":\"hi\"}}"}'
)

# ---- 2. one fault, then a good reply: retried, never the model's -------
for wire in openai anthropic; do
	if [ $wire = openai ]; then set -- "${COMMON[@]}" "${OPENAI_SHAPES[@]}"
	else set -- "${COMMON[@]}" "${ANTHROPIC_SHAPES[@]}"; fi
	for f in "$@"; do
		n=${f%%|*}; fault=${f#*|}
		start_mock "$SOLVE_BASH" "$fault" "$SOLVE_SUBMIT"
		run_wire $wire
		if [ "$RC" = 0 ] && [ "$(status)" = done ] && [ "$(episodes)" = 1 ] &&
		   [ "$(episodes "AND outcome='solved'")" = 1 ] && [ "$(wc -l <"$TMP/mock.log")" = 4 ] &&
		   [ "$MS" -le 30000 ]; then
			ok "$n ($wire) once: retried within the call, solved, one attempt, done"
		else bad "$n ($wire) once" "rc=$RC status=$(status) ${MS}ms requests=$(wc -l <"$TMP/mock.log") $(attempts) $(tail -2 "$TMP/err")"; fi
		stop_mock
	done
done

# ---- 2/3. the fault never stops: an outage, incomplete at its deadline --
# (a drip is cut by the per-call deadline, --request-timeout 1; a bounded
# time for every one of them, and never the model's failure)
for wire in openai anthropic; do
	if [ $wire = openai ]; then set -- "${COMMON[@]}" "${OPENAI_SHAPES[@]}"
	else set -- "${COMMON[@]}" "${ANTHROPIC_SHAPES[@]}"; fi
	for f in "$@"; do
		n=${f%%|*}; fault=${f#*|}
		start_mock --loop "$fault"
		RTIMEOUT=1 run_wire $wire --no-preflight --outage-deadline 1
		expect_run "$n ($wire) forever: exit 3, incomplete, bounded" 3 incomplete 45000
		never_model "$n ($wire) forever"
		[ "$(episodes "AND status='done' AND error_class!='infra'")" = 0 ] &&
			grep -q "outage deadline" "$TMP/err" && grep -q "1 of 1 (task, epoch) pair" "$TMP/err" &&
			ok "$n ($wire) forever: nothing scored, says the endpoint stayed down and what is unscored" ||
			bad "$n ($wire) forever message" "$(attempts) $(tail -3 "$TMP/err")"
		stop_mock
	done
done

# a tool call whose arguments are not JSON is the model's own mistake: the
# agent tells it and goes on (the endpoint delivered a valid reply)
for wire in openai anthropic; do
	start_mock "$SOLVE_BASH" '{"kind":"tool_call","name":"bash","arguments":"{\"cmd\": \"ls"}' "$SOLVE_SUBMIT"
	run_wire $wire
	[ "$RC" = 0 ] && [ "$(episodes "AND outcome='solved'")" = 1 ] && [ "$(episodes)" = 1 ] &&
		ok "tool call with non-JSON arguments ($wire): a valid reply, the episode goes on, solved" ||
		bad "non-JSON arguments ($wire)" "rc=$RC $(attempts)"
	stop_mock
done

# ---- 2. a well-formed empty reply is the model's turn, not a fault -----
# OpenAI content null or "" with no tool_calls and finish_reason stop, and
# Anthropic content []: a valid reply in which the model did nothing (as
# Inspect's basic_agent, the agent sends its continue message and counts
# the turn). Once: the model goes on and solves it. Forever: the attempt
# ends no-submit after 3 continue messages in a row, scored (unsolved),
# never infrastructure. A reply without the fields is malformed (the
# shapes above): infrastructure.
EMPTIES=(
	'openai|content-null|{"kind":"raw","body":"{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":0}}"}'
	'openai|content-empty|{"kind":"raw","body":"{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":0}}"}'
	'anthropic|content-array-empty|{"kind":"raw","body":"{\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":9,\"output_tokens\":0}}"}'
)
for f in "${EMPTIES[@]}"; do
	wire=${f%%|*}; rest=${f#*|}; n=${rest%%|*}; empty=${rest#*|}
	start_mock "$empty" "$SOLVE_BASH" "$SOLVE_SUBMIT"
	run_wire $wire
	nudged=$(sed -n 3p "$TMP/mock.log" | grep -c "Please continue working on the task with the tools")
	# the empty turn goes back in a form the provider accepts (Anthropic
	# refuses an assistant message with empty content)
	sent=$(sed -n 3p "$TMP/mock.log" | python3 -c '
import json, sys
m = [x for x in json.loads(sys.stdin.read())["body"]["messages"] if x["role"] == "assistant"][-1]
c = m.get("content")
print("ok" if (isinstance(c, str) or (isinstance(c, list) and c and all(b.get("text", "x") for b in c))) else "bad %r" % (m,))')
	[ "$sent" = ok ] && ok "empty reply once, $n ($wire): the empty turn is sent back well-formed" ||
		bad "empty turn sent back, $n ($wire)" "$sent"
	if [ "$RC" = 0 ] && [ "$(episodes)" = 1 ] && [ "$(episodes "AND outcome='solved' AND turns=3")" = 1 ] &&
	   [ "$nudged" = 1 ] && [ "$(wc -l <"$TMP/mock.log")" = 4 ]; then
		ok "empty reply once, $n ($wire): a counted turn, the continue message sent, not retried, solved"
	else bad "empty reply once, $n ($wire)" "rc=$RC nudged=$nudged requests=$(wc -l <"$TMP/mock.log") $(attempts) $(sqlite3 "$DB" "SELECT turns FROM episodes WHERE run_id=$RUN")"; fi
	stop_mock
	start_mock --loop "$empty"
	run_wire $wire
	if [ "$RC" = 0 ] && [ "$(status)" = done ] && [ "$(episodes)" = 1 ] &&
	   [ "$(episodes "AND outcome='no-submit' AND error_class IS NOT 'infra' AND turns=4 AND score=0")" = 1 ] &&
	   [ "$(wc -l <"$TMP/mock.log")" = 5 ]; then
		ok "empty reply forever, $n ($wire): 4 turns (3 continue messages), ends no-submit, scored once, the model's"
	else bad "empty reply forever, $n ($wire)" "rc=$RC status=$(status) requests=$(wc -l <"$TMP/mock.log") $(attempts) $(sqlite3 "$DB" "SELECT turns, score FROM episodes WHERE run_id=$RUN")"; fi
	stop_mock
done

# ---- Retry-After: an HTTP date, and a number past 64 bits --------------
future=$(date -u -d '+2 seconds' '+%a, %d %b %Y %H:%M:%S GMT')
start_mock "$SOLVE_BASH" "{\"kind\":\"status\",\"status\":429,\"retry_after\":\"$future\"}" "$SOLVE_SUBMIT"
run_wire openai
expect_run "429 with Retry-After as an HTTP date 2 s ahead: waited, done" 0 done 30000
[ "$(episodes "AND outcome='solved'")" = 1 ] && ok "Retry-After date: solved, one attempt" || bad "Retry-After date" "$(attempts)"
stop_mock
for wire in openai anthropic; do
	start_mock --loop '{"kind":"status","status":429,"retry_after":"99999999999999999999"}'
	if [ $wire = openai ]; then base=http://127.0.0.1:$PORT/v1; m=openai/mock-1; else base=http://127.0.0.1:$PORT; m=anthropic/mock-2; fi
	"$ASSAY" run --suite "$TASK" --model $m --base-url "$base" --store "$DB" --json --no-preflight \
		>"$TMP/out" 2>"$TMP/err" &
	pid=$!
	for _ in $(seq 1 200); do grep -q "capped at 300 s" "$TMP/err" && break; sleep 0.05; done
	grep -q "Retry-After of [0-9]* s capped at 300 s" "$TMP/err" &&
		ok "Retry-After past 64 bits ($wire): capped at 300 s, and said" ||
		bad "Retry-After overflow ($wire)" "$(cat "$TMP/err")"
	kill -INT $pid; wait $pid; RC=$?; MS=0
	RUN=$(sqlite3 "$DB" "SELECT max(id) FROM runs")
	expect_run "Retry-After past 64 bits ($wire): SIGINT, exit 130, interrupted" 130 interrupted 1
	stop_mock
done

# ---- 1. a TLS endpoint that is not one: fatal at the first call ---------
# An https URL to a plain HTTP server (the handshake fails), and a server
# whose certificate does not verify: a wrong endpoint, exit 3 at once.
start_mock "$SOLVE_SUBMIT"
run_model openai/mock-1 "https://127.0.0.1:$PORT/v1" --no-preflight
expect_run "https to a plain HTTP server: exit 3, failed, within seconds" 3 failed 10000
grep -q "check the base URL" "$TMP/err" && [ "$(episodes "AND status='done'")" = 0 ] &&
	ok "https to plain HTTP: says to check the base URL, nothing scored" || bad "tls handshake message" "$(cat "$TMP/err")"
stop_mock
# A lab's endpoint behind a private CA (made here, thrown away): a TLS
# front (tests/lib/tlsfront.py) before the mock. Without --ca-bundle the
# certificate does not verify; with it a TLS reset mid-body is retried
# like any connection fault; a server whose certificate another CA signed
# is fatal at the preflight; and resume with the right bundle finishes.
if command -v openssl >/dev/null; then
	C=$TMP/pki; mkdir -p "$C"
	for ca in ca rogue; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/$ca.key" -out "$C/$ca.pem" \
			-days 1 -subj "/CN=assay test $ca" >/dev/null 2>&1
	done
	printf 'subjectAltName=IP:127.0.0.1\n' >"$C/san.ext"
	for srv in good:ca bad:rogue; do
		n=${srv%%:*}; ca=${srv#*:}
		openssl req -newkey rsa:2048 -nodes -keyout "$C/$n.key" -out "$C/$n.csr" \
			-subj /CN=127.0.0.1 >/dev/null 2>&1
		openssl x509 -req -in "$C/$n.csr" -CA "$C/$ca.pem" -CAkey "$C/$ca.key" -CAcreateserial \
			-days 1 -extfile "$C/san.ext" -out "$C/$n.pem" >/dev/null 2>&1
	done
	FRONTS=""
	start_front() {   # start_front good|bad: sets TLSPORT (the mock must run)
		: >"$TMP/tlsport"
		python3 "$ASSAY_SOURCE_DIR/tests/lib/tlsfront.py" "$C/$1.pem" "$C/$1.key" "$PORT" "$TMP/tlsport" &
		FRONTS="$FRONTS $!"
		for _ in $(seq 1 200); do [ -s "$TMP/tlsport" ] && break; sleep 0.02; done
		TLSPORT=$(head -1 "$TMP/tlsport")
	}
	stop_fronts() { [ -n "$FRONTS" ] && kill $FRONTS 2>/dev/null; wait $FRONTS 2>/dev/null; FRONTS=""; }

	# no bundle: the system's CAs do not know ours (no preflight: the
	# first episode call is the first call)
	start_mock "$SOLVE_SUBMIT"; start_front good
	run_model openai/mock-1 "https://127.0.0.1:$TLSPORT/v1" --no-preflight
	expect_run "a private CA's certificate without --ca-bundle: exit 3, failed, within seconds" 3 failed 10000
	grep -q "TLS verification failed: SSL certificate problem" "$TMP/err" && grep -q "check --ca-bundle" "$TMP/err" &&
		ok "unverified certificate: one line, the TLS error, check --ca-bundle" ||
		bad "certificate message" "$(cat "$TMP/err")"
	stop_fronts; stop_mock

	# with the bundle, a TLS connection reset mid-body: infrastructure,
	# retried within the call, the pair solved once
	for wire in openai anthropic; do
		start_mock "$SOLVE_BASH" '{"kind":"reset"}' "$SOLVE_SUBMIT"; start_front good
		if [ $wire = openai ]; then run_model openai/mock-1 "https://127.0.0.1:$TLSPORT/v1" --ca-bundle "$C/ca.pem"
		else run_model anthropic/mock-2 "https://127.0.0.1:$TLSPORT" --ca-bundle "$C/ca.pem"; fi
		expect_run "TLS reset mid-body with --ca-bundle ($wire): retried, done" 0 done 30000
		[ "$(episodes)" = 1 ] && [ "$(episodes "AND outcome='solved'")" = 1 ] && [ "$(wc -l <"$TMP/mock.log")" = 4 ] &&
			ok "TLS reset mid-body ($wire): one attempt, solved, 4 requests (the reset one again)" ||
			bad "TLS reset mid-body ($wire)" "requests=$(wc -l <"$TMP/mock.log") $(attempts) $(tail -2 "$TMP/err")"
		never_model "TLS reset mid-body ($wire)"
		stop_fronts; stop_mock
	done

	# a server whose certificate the bundle's CA did not sign: fatal at
	# the preflight, then resume with the right endpoint
	start_mock "$SOLVE_BASH" "$SOLVE_SUBMIT"; start_front bad; BADPORT=$TLSPORT
	run_model openai/mock-1 "https://127.0.0.1:$BADPORT/v1" --ca-bundle "$C/ca.pem"
	expect_run "a certificate not signed by --ca-bundle: exit 3 at the preflight, failed" 3 failed 10000
	lines=$(grep -c "preflight: openai/mock-1 at https://127.0.0.1:$BADPORT/v1/chat/completions: TLS verification failed: SSL certificate problem" "$TMP/err")
	[ "$lines" = 1 ] && [ "$(episodes)" = 0 ] && [ "$(grep -c . "$TMP/mock.log")" = 0 ] &&
		ok "wrong CA: one line naming the endpoint and the TLS error, no episode, nothing reached the model" ||
		bad "wrong CA" "lines=$lines episodes=$(episodes) $(cat "$TMP/err")"
	FAILED=$RUN
	start_front good
	"$ASSAY" resume "$FAILED" --store "$DB" --base-url "https://127.0.0.1:$TLSPORT/v1" --ca-bundle "$C/ca.pem" \
		>"$TMP/out" 2>"$TMP/err"; RC=$?; MS=0; RUN=$FAILED
	expect_run "resume of the failed run with the right endpoint and --ca-bundle: done" 0 done 1
	[ "$(episodes "AND outcome='solved'")" = 1 ] &&
		[ "$(q "$DB" "SELECT json_extract(config_json, '\$.ca_bundle') FROM runs WHERE id=$RUN")" = "$C/ca.pem" ] &&
		ok "resumed over TLS: solved, and the run's config keeps the bundle (absolute)" ||
		bad "resume over TLS" "$(attempts) $(q "$DB" "SELECT config_json FROM runs WHERE id=$RUN")"
	stop_fronts; stop_mock
	run_model openai/mock-1 "https://127.0.0.1:1/v1" --ca-bundle "$C/missing.pem"
	[ "$RC" != 0 ] && grep -q "cannot read the CA bundle '$C/missing.pem'" "$TMP/err" &&
		ok "a CA bundle that cannot be read: refused before any call, says which" ||
		bad "missing CA bundle" "rc=$RC $(cat "$TMP/err")"
else skip_unless_ci "TLS with a private CA" "no openssl"; fi

# ---- 1. a 500 on the preflight only: retried, then the run goes on -------
for wire in openai anthropic; do
	start_mock '{"kind":"status","status":500,"for":"preflight"}' "$SOLVE_BASH" "$SOLVE_SUBMIT"
	run_wire $wire
	expect_run "500 on the preflight only ($wire): retried, the run ends done" 0 done 30000
	[ "$(episodes "AND outcome='solved'")" = 1 ] && [ "$(grep -c 'assay preflight' "$TMP/mock.log")" = 2 ] &&
		ok "500 on the preflight only ($wire): two preflight requests, the pair scored once" ||
		bad "500 preflight ($wire)" "$(attempts) preflights=$(grep -c 'assay preflight' "$TMP/mock.log")"
	stop_mock
done

# ---- 1/3. the preflight under an outage: waited out, not fatal ---------
# A 5xx storm (or hangs) from the first request on is an outage, not a
# configuration error: the preflight keeps probing up to the outage
# deadline, then the run stops incomplete (resumable), nothing attempted.
for wire in openai anthropic; do
	start_mock '{"kind":"outage","ms":600000,"for":"preflight"}'
	run_wire $wire --outage-deadline 3
	expect_run "5xx storm at the preflight ($wire): exit 3, incomplete (not failed), bounded" 3 incomplete 45000
	npf=$(grep -c 'assay preflight' "$TMP/mock.log")
	[ "$(episodes)" = 0 ] && [ "$npf" -gt 3 ] && grep -q "outage deadline" "$TMP/err" &&
		grep -q "1 of 1 (task, epoch) pair" "$TMP/err" && ! grep -q "marked failed\|budget is spent" "$TMP/err" &&
		ok "5xx storm at the preflight ($wire): kept probing past its retries ($npf requests), says outage and 1 of 1 unscored" ||
		bad "5xx storm at the preflight ($wire)" "preflights=$npf episodes=$(episodes) $(tail -3 "$TMP/err")"
	stop_mock
	start_mock "$SOLVE_BASH" "$SOLVE_SUBMIT"
	if [ $wire = openai ]; then base=http://127.0.0.1:$PORT/v1; else base=http://127.0.0.1:$PORT; fi
	"$ASSAY" resume "$RUN" --store "$DB" --base-url "$base" >"$TMP/out" 2>"$TMP/err"; RC=$?; MS=0
	expect_run "after the preflight outage ($wire): resume ends done" 0 done 1
	m=$(exactly_once "$DB" "$RUN" 1) && ok "after the preflight outage ($wire): the pair scored exactly once" ||
		bad "preflight outage resume ($wire)" "$m $(attempts)"
	stop_mock
done
start_mock '{"kind":"outage","ms":600000,"fault":{"kind":"hang"},"for":"preflight"}'
run_wire openai --outage-deadline 3
expect_run "preflight that times out every time: exit 3, incomplete, bounded" 3 incomplete 60000
grep -q "outage deadline" "$TMP/err" && grep -q "gave up (outage deadline): timed out" "$TMP/err" &&
	ok "preflight timeouts: an outage, says it timed out and the deadline" ||
	bad "preflight timeouts" "$(tail -3 "$TMP/err")"
stop_mock
for wire in openai anthropic; do
	start_mock '{"kind":"outage","ms":3000,"for":"preflight"}' "$SOLVE_BASH" "$SOLVE_SUBMIT"
	run_wire $wire --outage-deadline 120
	expect_run "a 3 s 503 storm at the preflight ($wire): waited out, the run ends done" 0 done 60000
	[ "$(episodes "AND outcome='solved'")" = 1 ] && grep -q "endpoint back after" "$TMP/err" &&
		ok "preflight outage that ends ($wire): said back, the pair solved" ||
		bad "preflight outage that ends ($wire)" "$(attempts) $(tail -3 "$TMP/err")"
	stop_mock
done
# ... while what no retry can fix stays fatal at once: exit 3, failed,
# one request, the status and the provider's message in one line
for st in 401 403 404 400; do
	start_mock "{\"kind\":\"status\",\"status\":$st,\"message\":\"mock says no $st\",\"for\":\"preflight\"}" "$SOLVE_SUBMIT"
	run_wire openai --outage-deadline 60
	expect_run "HTTP $st at the preflight: exit 3, failed, within seconds" 3 failed 10000
	[ "$(grep -c 'assay preflight' "$TMP/mock.log")" = 1 ] && [ "$(episodes)" = 0 ] &&
		grep -q "preflight: openai/mock-1 at http://127.0.0.1:$PORT/v1/chat/completions: HTTP $st: mock says no $st" "$TMP/err" &&
		ok "HTTP $st at the preflight: one request, one line with the endpoint, status and message" ||
		bad "HTTP $st at the preflight" "preflights=$(grep -c 'assay preflight' "$TMP/mock.log") $(tail -3 "$TMP/err")"
	stop_mock
done
run_model openai/mock-1 "http://no-such-host.invalid/v1" --outage-deadline 60
expect_run "a DNS name that does not resolve at the preflight: exit 3, failed, within seconds" 3 failed 15000
grep -q "preflight: openai/mock-1 at http://no-such-host.invalid/v1/chat/completions: connection failed: .*check the base URL" "$TMP/err" &&
	ok "DNS failure at the preflight: one line, check the base URL" || bad "DNS at the preflight" "$(cat "$TMP/err")"

# ---- 3. the endpoint goes down mid-run and comes back -----------------
# 4 pairs, 2 at a time; after the first reply every request gets a 503 for
# 4 s (more failures in a row than the outage streak). The run pauses,
# probes, resumes when the endpoint answers, and ends done: every pair
# scored exactly once, nothing blamed on the model. After the outage every
# reply solves: the script is one sequence for all episodes, and two that
# resume together in lockstep would split alternating bash/submit replies
# so that one only ever got bash (limit-turns, a CI run on 2026-12-06).
for wire in openai anthropic; do
	lines=("$SOLVE_BASH" '{"kind":"outage","ms":4000}')
	for _ in $(seq 1 24); do lines+=("$SOLVE_SUBMIT"); done
	start_mock "${lines[@]}"
	RETRIES=6 run_wire $wire --epochs 4 -j 2 --outage-deadline 120
	expect_run "outage of 4 s mid-run ($wire): the run pauses and ends done" 0 done 90000
	m=$(exactly_once "$DB" "$RUN" 4) && ok "after the outage ($wire): every pair scored exactly once" ||
		bad "outage recovery exactly once ($wire)" "$m $(attempts)"
	never_model "outage recovery ($wire)"
	n503=$(grep -c '"n"' "$TMP/mock.log")
	grep -q "endpoint down" "$TMP/err" && grep -q "endpoint back after" "$TMP/err" &&
		ok "outage ($wire): said down, then back ($n503 requests)" || bad "outage messages ($wire)" "$(grep -i endpoint "$TMP/err" | head -3)"
	stop_mock
done

# ---- 5. racing resumes ---------------------------------------------------
# A run killed -9 leaves a dead owner, whose lease any resume on this
# machine may take at once: two resumes started together race for it, and
# exactly one runs. Three rounds, then the run is finished: exactly once.
printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"sleep 0.3"},"latency_ms":100}' \
	"$SOLVE_SUBMIT" >"$TMP/slow.jsonl"
"$MOCKMODEL" --script "$TMP/slow.jsonl" --loop --idle-exit 300 >"$TMP/port" &
MOCK_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
URL=http://127.0.0.1:$(cat "$TMP/port")/v1
RDB=$TMP/race.db
"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 12 -j 2 --store "$RDB" >/dev/null 2>&1 &
pid=$!
wait_for "$RDB" "SELECT count(*) FROM episodes WHERE status='done'"
kill -9 $pid; wait $pid 2>/dev/null
raced=0
for round in 1 2 3; do
	"$ASSAY" resume 1 --store "$RDB" >/dev/null 2>"$TMP/ra.err" & a=$!
	"$ASSAY" resume 1 --store "$RDB" >/dev/null 2>"$TMP/rb.err" & b=$!
	# one of them holds the run; the other refuses (no timing: wait
	# until one has ended, then give the other a moment to end too)
	refused=0
	for _ in $(seq 1 400); do
		{ kill -0 $a 2>/dev/null && kill -0 $b 2>/dev/null; } || break
		sleep 0.05
	done
	sleep 0.5
	for p in $a $b; do kill -0 $p 2>/dev/null || refused=$((refused + 1)); done
	ra=$(grep -c "held by another assay" "$TMP/ra.err" "$TMP/rb.err" | awk -F: '{s+=$2} END {print s}')
	holders=$(q "$RDB" "SELECT count(*) FROM leases WHERE scope='run' AND ref=1")
	kill -9 $a $b 2>/dev/null; wait $a $b 2>/dev/null
	[ "$refused" = 1 ] && [ "$ra" = 1 ] && [ "$holders" = 1 ] && raced=$((raced + 1)) ||
		echo "# round $round: refused=$refused held-messages=$ra leases=$holders $(cat "$TMP/ra.err" "$TMP/rb.err" | head -4)"
done
[ $raced = 3 ] && ok "two resumes racing for a dead owner's run, 3 rounds: each time one runs, one refuses" ||
	bad "racing resumes" "$raced of 3 rounds had exactly one runner"
# run + resume: a resume of a run still being created or going refuses
"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 6 -j 2 --store "$RDB" \
	>/dev/null 2>"$TMP/run2.err" &
pid=$!
won=0; refusals=0
while kill -0 $pid 2>/dev/null; do
	"$ASSAY" resume 2 --store "$RDB" >/dev/null 2>"$TMP/r2.err"; rc=$?
	if [ $rc = 0 ] && kill -0 $pid 2>/dev/null; then won=$((won + 1)); fi
	grep -q "held by another assay (process $pid" "$TMP/r2.err" && refusals=$((refusals + 1))
	sleep 0.1
done
wait $pid; rc=$?
[ $rc = 0 ] && [ $won = 0 ] && [ $refusals -ge 1 ] &&
	ok "run + resume at once: every resume refused while the run went ($refusals), the run done" ||
	bad "run + resume" "run rc=$rc resumes that ran alongside=$won refusals=$refusals $(tail -2 "$TMP/run2.err")"
expect_rc "the raced run 1 resumed to the end" 0 "$ASSAY" resume 1 --store "$RDB"
m=$(exactly_once "$RDB" 1 12) && m2=$(exactly_once "$RDB" 2 6) &&
	ok "racing resumes and run + resume: exactly one scored attempt per pair" || bad "race exactly once" "$m ${m2:-}"

# ---- 4/6. kill -9 during resume's preparation and early loop ------------
# Short random delays land in opening (quick_check), taking the lease,
# marking cut-off attempts and the first commits. Then the last resume
# finishes: every pair scored once, and every resume's count of attempts
# found running adds up to the attempts so marked.
KDB=$TMP/kill.db
"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 16 -j 4 --store "$KDB" >/dev/null 2>&1 &
pid=$!
wait_for "$KDB" "SELECT count(*) FROM episodes WHERE status='done'"
kill -9 $pid; wait $pid 2>/dev/null
log=""
for i in $(seq 1 15); do
	"$ASSAY" resume 1 --store "$KDB" >/dev/null 2>"$TMP/kr$i.err" &
	pid=$!
	d=$(python3 -c 'import random; print(round(random.uniform(0.0, 0.6), 3))')
	sleep "$d"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	log="$log $d"
	q "$KDB" "PRAGMA quick_check" | grep -qx ok || bad "store after kill $i" "quick_check failed"
done
"$ASSAY" resume 1 --store "$KDB" >/dev/null 2>"$TMP/krfinal.err"; rc=$?
told=0
for f in "$TMP"/kr*.err; do
	n=$(sed -n 's/.*(\([0-9]*\) attempts\{0,1\} found running.*/\1/p' "$f")
	told=$((told + ${n:-0}))
done
marked=$(q "$KDB" "SELECT count(*) FROM episodes WHERE status='interrupted' AND error='the harness stopped while this episode ran'")
m=$(exactly_once "$KDB" 1 16) && [ $rc = 0 ] && [ "$(q "$KDB" "SELECT status FROM runs")" = done ] &&
	ok "15 kill -9 of resume at 0-0.6 s, then resume: done, exactly one scored attempt per pair" ||
	bad "kills during resume" "rc=$rc $m (delays$log) $(tail -2 "$TMP/krfinal.err")"
[ "$told" = "$marked" ] && ok "the killed resumes' counts of cut-off attempts add up ($told)" ||
	bad "cut-off counts" "told $told, marked $marked"

# ---- 6. a full disk during resume --------------------------------------
# A run interrupted half-way is resumed on a tmpfs with little room above
# the store's size: a commit fails, the resume stops (exit 3, says the
# store is full), and the store moved to a roomy disk gives a report and a
# resume that agree and end with every pair scored once.
printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"head -c 3000 /dev/urandom | base64"},"latency_ms":20}' \
	"$SOLVE_SUBMIT" >"$TMP/big.jsonl"
stop_mock
"$MOCKMODEL" --script "$TMP/big.jsonl" --loop --idle-exit 300 >"$TMP/port" &
MOCK_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
URL=http://127.0.0.1:$(cat "$TMP/port")/v1
mkdir -p "$TMP/full" "$TMP/roomy"
FDB=$TMP/roomy/f.db
"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 60 -j 2 --store "$FDB" >/dev/null 2>&1 &
pid=$!
wait_for "$FDB" "SELECT count(*) >= 6 FROM episodes WHERE status='done'"
kill -INT $pid; wait $pid 2>/dev/null
sqlite3 "$FDB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
size=$(( $(stat -c %s "$FDB") / 1024 + 192 ))
if unshare -m true 2>/dev/null; then
	unshare -m sh -c "mount -t tmpfs -o size=${size}k none '$TMP/full' && cp '$FDB' '$TMP/full/f.db' &&
		'$ASSAY' resume 1 --store '$TMP/full/f.db' >/dev/null 2>'$TMP/full.err'; echo \$? >'$TMP/full.rc';
		rm -f '$TMP/roomy/'f.db*; cp '$TMP/full/'f.db* '$TMP/roomy/'"
	rc=$(cat "$TMP/full.rc" 2>/dev/null)
	[ "$rc" = 3 ] && grep -q "disk is full" "$TMP/full.err" &&
		ok "full disk during resume: stops, exit 3, says the store is full" ||
		bad "full disk during resume" "rc=$rc $(tail -2 "$TMP/full.err")"
	[ "$(q "$FDB" "PRAGMA quick_check")" = ok ] && ok "full disk during resume: the store passes quick_check" ||
		bad "full disk store" "quick_check failed"
	"$ASSAY" report 1 --store "$FDB" --format json -o "$TMP/fr.json" 2>/dev/null
	left=$(json_get "$TMP/fr.json" 'j["totals"]["unscored"]' 2>/dev/null)
	"$ASSAY" resume 1 --store "$FDB" >/dev/null 2>"$TMP/f2.err"; rc=$?
	grep -q "resuming run 1: $left of 60 (task, epoch) pairs" "$TMP/f2.err" && [ "${left:-0}" -gt 0 ] &&
		ok "after a full disk during resume: report and resume agree ($left of 60 unscored)" ||
		bad "full disk resume: report vs resume" "report unscored=$left; $(head -1 "$TMP/f2.err")"
	m=$(exactly_once "$FDB" 1 60) && [ $rc = 0 ] &&
		ok "after a full disk during resume and another resume: exactly one scored attempt per pair" ||
		bad "full disk resume exactly once" "rc=$rc $m $(tail -1 "$TMP/f2.err")"
else skip_unless_ci "full disk during resume" "no mount namespace"; fi
stop_mock

# ---- 6. stores damaged in other ways are refused, untouched -------------
# (store.sh overwrites pages in the middle; here the file is cut short,
# its header is overwritten, it is not a database at all, or its WAL is
# garbage)
damage() {   # damage NAME: a copy of the kill test's store, damaged
	local d=$TMP/dmg-$1.db
	cp "$KDB" "$d"
	case $1 in
	half) truncate -s $(( $(stat -c %s "$d") / 2 )) "$d" ;;
	odd) truncate -s $(( $(stat -c %s "$d") - 1000 )) "$d" ;;
	header) printf 'NOT A DATABASE!\0' | dd of="$d" conv=notrunc status=none ;;
	garbage) head -c 65536 /dev/urandom >"$d" ;;
	root) python3 -c "
import sys
f = open(sys.argv[1], 'r+b'); f.seek(28); f.write(b'\x00\x00\x00\x01')   # page count 1
f.seek(4096); f.write(b'\xff' * 4096)" "$d" ;;
	esac
	echo "$d"
}
sqlite3 "$KDB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
for kind in half odd header garbage root; do
	d=$(damage $kind)
	sum0=$(sha256sum <"$d")
	"$ASSAY" runs --store "$d" >"$TMP/out" 2>"$TMP/err"; r1=$?
	"$ASSAY" resume 1 --store "$d" >"$TMP/out2" 2>"$TMP/err2"; r2=$?
	"$ASSAY" run --suite "$TASK" --model baseline/null --store "$d" >"$TMP/out3" 2>"$TMP/err3"; r3=$?
	if [ $r1 = 3 ] && [ $r2 = 3 ] && [ $r3 = 3 ] && [ "$(sha256sum <"$d")" = "$sum0" ] &&
	   [ ! -s "$d-wal" ] && grep -qi "damaged\|not a database\|malformed" "$TMP/err"; then
		ok "store $kind: runs, resume and run refuse it (exit 3, says so), nothing written"
	else bad "store $kind" "rc=$r1/$r2/$r3 $(head -c 300 "$TMP/err") | $(head -c 200 "$TMP/err3")"; fi
done
# a WAL of garbage next to a good store: SQLite ignores a WAL whose header
# does not check, so the store opens as it was committed
cp "$KDB" "$TMP/wal.db"; head -c 32768 /dev/urandom >"$TMP/wal.db-wal"
"$ASSAY" report 1 --store "$TMP/wal.db" --format json -o "$TMP/w.json" 2>"$TMP/err"; rc=$?
[ $rc = 0 ] && [ "$(json_get "$TMP/w.json" 'j["totals"]["scored"]')" = 16 ] &&
	ok "a garbage WAL beside the store: ignored, the committed store reads whole (16 scored)" ||
	bad "garbage WAL" "rc=$rc $(head -c 300 "$TMP/err")"

finish
