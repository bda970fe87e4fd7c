#!/bin/bash
# The progress display: drawn by the CLI from the engine's reports. Retries
# do not add to the total, errors are counted as they happen, a terminal
# gets the redrawn bar, a log gets no terminal control (a plain line every
# 30 s, which a short run never reaches), --progress picks.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/a.db

# every other model call fails (HTTP 500, no retries): an infra failure,
# attempted again
printf '%s\n' '{"kind":"status","status":500}' \
	'{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{no}"}}' >"$TMP/s.jsonl"
"$MOCKMODEL" --script "$TMP/s.jsonl" --loop --idle-exit 120 >"$TMP/port" &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
URL="http://127.0.0.1:$(cat "$TMP/port")/v1"
run() { OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" \
	--max-retries 0 --epochs 3 -j 1 --store "$DB" "$@"; }

run --progress=bar >"$TMP/out" 2>"$TMP/err"; rc=$?
last=$(tr '\r' '\n' <"$TMP/err" | grep '^.\[K\[assay\] done' | tail -1)
infra=$(sqlite3 "$DB" "SELECT count(*) FROM episodes WHERE run_id=1 AND error_class='infra'")
if [ $rc -eq 0 ] && [ "$infra" -ge 1 ] && printf '%s' "$last" | grep -q "done 3/3 " &&
   printf '%s' "$last" | grep -q "infra $infra ($infra retried)"; then
	ok "retries do not inflate the total; infra errors counted ($infra retried)"
else bad "progress counts" "rc=$rc infra=$infra last='$last' $(tail -c 300 "$TMP/err")"; fi
n=$(tr '\r' '\n' <"$TMP/err" | grep -c '^.\[K\[assay\] done')
[ "$n" -ge 1 ] && tail -c 1 "$TMP/err" | od -c | grep -q '\\n' &&
	ok "--progress=bar draws the bar and ends its line ($n draws)" || bad "bar" "draws=$n"

run >"$TMP/out" 2>"$TMP/err"
! grep -q $'\r\|\x1b' "$TMP/err" && ! grep -q '\[assay\] done' "$TMP/err" &&
	ok "off a terminal: no terminal control and no line before 30 s" ||
	bad "off a terminal" "$(od -c "$TMP/err" | head -5)"

run --progress=none >"$TMP/out" 2>"$TMP/err"
! grep -q '\[assay\] done' "$TMP/err" && ok "--progress=none draws nothing" || bad "none" "$(cat "$TMP/err")"

# on a terminal (script gives the run a pty) the bar is the default
if command -v script >/dev/null; then
	script -qec "OPENAI_API_KEY=k '$ASSAY' run --suite '$TASK' --model openai/m --base-url '$URL' --max-retries 0 --epochs 2 -j 1 --store '$DB'" /dev/null >"$TMP/tty" 2>&1
	grep -q $'\r\x1b\\[K\\[assay\\] done' "$TMP/tty" && ok "on a terminal the bar is drawn by default" ||
		bad "tty bar" "$(od -c "$TMP/tty" | head -8)"
else skip_unless_ci "tty bar" "script(1) is not installed"; fi

expect_rc "--progress with a bad mode is a usage error" 2 run --progress=fancy
grep -q "progress" "$TMP/err" && ok "the error names --progress" || bad "bad mode message" "$(cat "$TMP/err")"
expect_rc "resume takes --progress too (bad mode: usage)" 2 "$ASSAY" resume 1 --store "$DB" --progress=fancy
finish
