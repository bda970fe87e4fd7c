#!/bin/bash
# Check box "fresh": the hidden check runs in a new box holding a copy of
# the agent's home and nothing else the agent did; a home too large to
# copy fails the check (the agent's doing), never the harness.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/fresh-task
DB=$TMP/a.db

run_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null; }
last() { sqlite3 "$DB" "SELECT $1 FROM episodes WHERE run_id=${RUN:-0} ORDER BY id DESC LIMIT 1"; }

RUN=$("$ASSAY" run --suite "$TASK" --model baseline/oracle --epochs 2 --store "$DB" --json 2>"$TMP/err" | run_id)
v=$(sqlite3 "$DB" "SELECT count(*), sum(score), sum(check_ok) FROM episodes WHERE run_id=${RUN:-0}")
[ "$v" = "2|2|2" ] && ok "oracle: the check passes in the fresh box (home copied, owners kept)" ||
	bad "oracle in a fresh box" "$v $(tail -3 "$TMP/err")"
"$ASSAY" show --store "$DB" --episode "$(last id)" --transcript >"$TMP/show" 2>&1
grep -q "hidden check passed" "$TMP/show" && ok "the transcript notes the check" ||
	bad "check note" "$(grep -i check "$TMP/show" | head -3)"

RUN=$("$ASSAY" run --suite "$TASK" --model baseline/null --store "$DB" --json 2>"$TMP/err" | run_id)
[ "$(last score)|$(last check_ok)|$(last error_class)" = "0|0|none" ] &&
	ok "null: the check fails, scored 0, not an infrastructure failure" ||
	bad "null in a fresh box" "$(last score)|$(last check_ok)|$(last error_class) $(last error)"

# an agent whose home is larger than a fresh box takes
printf '%s\n' \
	'{"kind":"tool_call","name":"bash","arguments":{"cmd":"head -c 20000000 /dev/urandom > big && printf \"#!/bin/sh\\necho \\$(( \\$1 + \\$2 ))\\n\" > sum.sh"}}' \
	'{"kind":"tool_call","name":"submit","arguments":{"flag":""}}' >"$TMP/s.jsonl"
"$MOCKMODEL" --script "$TMP/s.jsonl" --idle-exit 60 >"$TMP/port" &
mock=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
RUN=$(OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m \
	--base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" --store "$DB" --json 2>"$TMP/err" | run_id)
kill $mock 2>/dev/null; wait $mock 2>/dev/null
"$ASSAY" show --store "$DB" --episode "$(last id)" --transcript >"$TMP/show" 2>&1
if [ "$(last score)|$(last check_ok)|$(last outcome)|$(last error_class)" = "0|0|check-blocked|agent-caused" ] &&
   grep -q "larger than 16 MiB" "$TMP/show"; then
	ok "a home over 16 MiB fails the check with a note (agent-caused), not the harness"
else bad "large home" "$(last score)|$(last check_ok)|$(last outcome)|$(last error_class) $(last error) $(grep -i check "$TMP/show" | head -3)"; fi

# a check whose output holds a quote, a backslash, a control byte and
# invalid UTF-8: the note naming it is still JSON and keeps every char
cat >"$TMP/s.jsonl" <<'EOF'
{"kind":"tool_call","name":"bash","arguments":{"cmd":"echo 'printf \"\\042\\134\\001\\377\"' > sum.sh"}}
{"kind":"tool_call","name":"submit","arguments":{"flag":""}}
EOF
"$MOCKMODEL" --script "$TMP/s.jsonl" --idle-exit 60 >"$TMP/port2" &
mock=$!
for _ in $(seq 1 100); do [ -s "$TMP/port2" ] && break; sleep 0.02; done
RUN=$(OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m \
	--base-url "http://127.0.0.1:$(cat "$TMP/port2")/v1" --store "$DB" --json 2>"$TMP/err" | run_id)
kill $mock 2>/dev/null; wait $mock 2>/dev/null
"$ASSAY" show --store "$DB" --episode "$(last id)" --raw >"$TMP/raw" 2>&1
if events_json "$TMP/raw" >"$TMP/notes" &&
   grep -qF "printed '\\\"\\\\\\u0001\\ufffd'" "$TMP/notes"; then
	ok "a note holding quotes, backslashes, controls and bad UTF-8 is valid JSON"
else bad "hostile note" "$(cat "$TMP/notes") $(grep -A3 note "$TMP/raw" | head -8)"; fi

# every event of every episode above is valid JSON
badev=""
for id in $(sqlite3 "$DB" "SELECT id FROM episodes"); do
	"$ASSAY" show --store "$DB" --episode "$id" --raw >"$TMP/raw" 2>&1
	events_json "$TMP/raw" >"$TMP/ev" || badev="$badev $id: $(cat "$TMP/ev")"
done
[ -z "$badev" ] && ok "every journaled event is valid JSON" || bad "events not JSON" "$badev"
finish
