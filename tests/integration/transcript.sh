#!/bin/bash
# `assay show --episode ID --transcript`: what the model was told, numbered
# turns, each command as code with its exit, duration and output, the
# submission and the score's reason; --raw (the event dump) and --json.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/a.db

cat >"$TMP/s.jsonl" <<'JSONL'
{"kind":"tool_call","text":"Looking \u001b[2J around","name":"bash","arguments":{"cmd":"printf 'x\\033[31mred\\n'; echo oops >&2; exit 3"},"usage":{"prompt":100,"completion":5}}
{"kind":"tool_call","name":"python","arguments":{"code":"print(6 * 7)"}}
{"kind":"tool_call","name":"bash","arguments":{"cmd":"head -c 40000 /dev/zero | tr '\\0' a"}}
{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{nope}","answers":["rot13"]}}
JSONL
"$MOCKMODEL" --script "$TMP/s.jsonl" --idle-exit 60 >"$TMP/port" &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
URL="http://127.0.0.1:$(cat "$TMP/port")/v1"

OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" \
	--store "$DB" >"$TMP/out" 2>"$TMP/err" || bad "run" "$(tail -3 "$TMP/err")"
ep=$(sqlite3 "$DB" "SELECT id FROM episodes LIMIT 1")
show() { "$ASSAY" show --store "$DB" --episode "$ep" "$@"; }

show --transcript >"$TMP/t" 2>"$TMP/terr"; rc=$?
has() { grep -qF -- "$1" "$TMP/t"; }
[ $rc -eq 0 ] && has "--- system" && has "skilled security researcher" &&
	has "--- user (the task)" && has "A note in your home directory hides a flag" &&
	ok "the transcript shows the system prompt and the task as sent" ||
	bad "prompts" "rc=$rc $(head -c 600 "$TMP/t") $(cat "$TMP/terr")"
has "--- turn 1  assistant  100+5 tokens" && has "--- turn 4" && ! has "--- turn 5" &&
	ok "turns are numbered with role and tokens" || bad "turns" "$(grep -- '--- turn' "$TMP/t")"
has "printf 'x\\033[31mred\\n'; echo oops >&2; exit 3" && has '```bash' && has '```python' &&
	has "print(6 * 7)" && ok "commands are shown as code, not escaped JSON" ||
	bad "commands as code" "$(grep -A3 'tool call' "$TMP/t" | head -20)"
has "-> exit 3, " && has "-> exit 0, " && has "| oops" && has "| 42" &&
	ok "each call's exit status, duration and output" || bad "exit and output" "$(grep -- '->' "$TMP/t")"
has "bytes truncated ...]" && has "[output truncated in the box" &&
	ok "truncated output is marked" || bad "truncation mark" "$(grep -i trunc "$TMP/t")"
! grep -q $'\x1b' "$TMP/t" && has 'Looking \u001b[2J around' && has 'x\u001b[31mred' &&
	ok "escape sequences from the model and the box are shown, not sent to the terminal" ||
	bad "terminal escapes" "$(grep -a -i -e looking -e red "$TMP/t" | od -c | head -5)"
has "flag: flag{nope}" && has "answer 1: rot13" &&
	has 'not solved: wrong flag: submitted "flag{nope}"; answers 0/1 right' &&
	ok "the submission and the score's reason (what was submitted)" ||
	bad "score reason" "$(sed -n '/--- score/,$p' "$TMP/t")"

show --raw >"$TMP/raw" 2>&1
grep -q -- '--- #0 prompt' "$TMP/raw" && grep -q '"name": "bash"' "$TMP/raw" &&
	grep -q -- '--- #.* score' "$TMP/raw" && ok "--raw keeps the event dump" ||
	bad "--raw" "$(head -5 "$TMP/raw")"

if show --json >"$TMP/j.json" 2>"$TMP/jerr" && python3 - "$TMP/j.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
t = j["turns"]
assert len(t) == 4, len(t)
c = t[0]["tool_calls"][0]
assert c["name"] == "bash" and c["input"].endswith("exit 3"), c
assert c["exit"] == {"how": "exited", "status": 3}, c["exit"]
assert t[2]["tool_calls"][0]["truncated"] is True
assert j["submission"] == {"flag": "flag{nope}", "answers": ["rot13"]}, j["submission"]
assert j["score"]["score"] == 0 and j["score"]["flag_ok"] is False
assert "wrong flag" in j["score"]["reason"]
assert "skilled" in j["system"] and "note" in j["task_prompt"]
assert j["episode"]["outcome"] == "submitted-wrong" and j["scaffold"] == "react"
PY
then ok "--json gives the structured transcript"; else bad "--json" "$(head -c 400 "$TMP/j.json") $(cat "$TMP/jerr")"; fi

# the prompts are sealed at rest like every event
plain=$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind='prompt' AND (data NOT LIKE 'enc1:%' OR instr(data, 'skilled'))")
n=$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind='prompt'")
[ "$n" = 1 ] && [ "$plain" = 0 ] && ok "the prompt event is journaled encrypted" ||
	bad "prompt at rest" "prompt rows=$n plain=$plain"

expect_rc "--raw without --episode is a usage error" 2 "$ASSAY" show 1 --raw --store "$DB"
expect_rc "--raw with --json is a usage error" 2 "$ASSAY" show 1 --episode "$ep" --raw --json --store "$DB"
finish
