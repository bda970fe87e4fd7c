#!/bin/bash
# What the agent prints cannot attack the evaluator (docs/SECURITY.md,
# "What reaches the evaluator"): a scripted model and a command in the box
# emit terminal escape sequences (CSI, OSC 52, OSC 8, DCS, ST, 8-bit CSI),
# C1 controls, Unicode bidi overrides and isolates, and a NUL. No byte of
# them reaches stdout or stderr raw, in any view of the run, nor the HTML
# or markdown report; the NUL cuts nothing from the journal.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
DB=$TMP/a.db

# The script, written by python so that every byte is what it says: the
# model's text holds the raw sequences (as JSON escapes) and a NUL; the
# command makes the box print the same kinds of bytes, and a NUL.
python3 - "$TMP/s.jsonl" <<'PY'
import json, sys
text = ("\x1b[2J\x1b[H\x1b]52;c;cGF5bG9hZA==\x07\x1b]8;;http://evil\x1b\\click"
        "\x1b]8;;\x1b\\\x1bP1$r\x1b\\\x9b31m\x9d0;title\x9c\u202eevil\u202c"
        "\u2066iso\u2069\u061c\u200f\r\b\x7f nul:\x00after-nul-model")
cmd = (r"printf '\033[2J\033]52;c;cGF5\007 \302\233 31m \342\200\256 evil "
       r"\342\201\246 x \033P1\033\\ \233 6n \r\b \000 after-nul-tool\n'")
lines = [
    {"kind": "tool_call", "text": text, "name": "bash", "arguments": {"cmd": cmd}},
    {"kind": "tool_call", "name": "submit",
     "arguments": {"flag": "\x1b]52;c;eA==\x07\u202eflag", "answers": ["\x9b2J"]}},
]
with open(sys.argv[1], "w") as f:
    for l in lines:
        f.write(json.dumps(l) + "\n")
PY
"$MOCKMODEL" --script "$TMP/s.jsonl" --idle-exit 60 >"$TMP/port" &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
ASSAY_LOG=debug OPENAI_API_KEY=k "$ASSAY" run --suite "$TASK" --model openai/m \
	--base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" --store "$DB" >"$TMP/run.out" 2>"$TMP/run.err"
kill $mock 2>/dev/null; wait $mock 2>/dev/null
EP=$(sqlite3 "$DB" "SELECT min(id) FROM episodes" 2>/dev/null)
[ -n "$EP" ] && ok "the hostile episode ran" || bad "run" "$(tail -3 "$TMP/run.err")"

# inert FILE: no C0 but newline/tab, no DEL, no C1 (raw or UTF-8), no bidi
# control, valid UTF-8
inert() {
	python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
bad = [c for c in b if (c < 0x20 and c not in (9, 10)) or c == 0x7f]
try:
    t = b.decode('utf-8')
except UnicodeDecodeError as x:
    print('invalid UTF-8 at', x.start, b[max(0, x.start - 40):x.start + 8]); sys.exit(1)
hidden = [hex(ord(c)) for c in t if 0x80 <= ord(c) <= 0x9f or ord(c) in
          (0x61c, 0x200e, 0x200f) or 0x2028 <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
if bad or hidden:
    print('raw controls', bad[:10], hidden[:10]); sys.exit(1)
PY
}
check() {  # check NAME CMD...: CMD's stdout and stderr are inert
	local name=$1; shift
	"$@" >"$TMP/o" 2>"$TMP/e"
	if inert "$TMP/o" >"$TMP/why" && inert "$TMP/e" >>"$TMP/why"; then ok "$name: nothing raw"
	else bad "$name" "$(cat "$TMP/why")"; fi
}
check "run output and debug log" cat "$TMP/run.out" "$TMP/run.err"
check "show --transcript" "$ASSAY" show --store "$DB" --episode "$EP" --transcript
check "show --raw" "$ASSAY" show --store "$DB" --episode "$EP" --raw
check "show --json" "$ASSAY" show --store "$DB" --episode "$EP" --json
check "show (episode)" "$ASSAY" show --store "$DB" --episode "$EP"
check "show (run)" "$ASSAY" show 1 --store "$DB"
check "report (term)" "$ASSAY" report 1 --store "$DB"
check "report --format json" "$ASSAY" report 1 --store "$DB" --format json
check "an error quoting hostile input" "$ASSAY" show --store "$DB" --episode $'\e]52;c;eA==\a\u202e'
check "a usage error quoting hostile input" "$ASSAY" show $'1\e[2J\x9b' --store "$DB"
"$ASSAY" report 1 --store "$DB" --format html -o "$TMP/r.html" 2>"$TMP/err"
inert "$TMP/r.html" >"$TMP/why" && grep -q 'after-nul-tool' "$TMP/r.html" &&
	ok "html report: nothing raw, the text after the NUL kept" ||
	bad "html report" "$(cat "$TMP/why" "$TMP/err")"
"$ASSAY" report 1 --store "$DB" --format md -o "$TMP/r.md" 2>"$TMP/err"
inert "$TMP/r.md" >"$TMP/why" && ok "markdown report: nothing raw" ||
	bad "md report" "$(cat "$TMP/why" "$TMP/err")"

# the escapes are visible, and a NUL cut nothing
"$ASSAY" show --store "$DB" --episode "$EP" --transcript >"$TMP/t" 2>&1
grep -qF '\u001b]52;c;' "$TMP/t" && grep -qF '\u202e' "$TMP/t" && grep -qF '\u009b' "$TMP/t" &&
	ok "the sequences are shown escaped" || bad "visible escapes" "$(head -c 1500 "$TMP/t")"
grep -q 'after-nul-tool' "$TMP/t" && ok "a NUL in tool output cuts nothing" ||
	bad "NUL in tool output" "$(grep -a -A3 'printf' "$TMP/t" | head -8)"
grep -q 'after-nul-model' "$TMP/t" && ok "a NUL in the model's JSON cuts nothing" ||
	bad "NUL in model JSON" "$(grep -a -B2 -A2 'nul:' "$TMP/t" | head -8)"
# JSON stays JSON with its meaning: the characters are still in the strings
"$ASSAY" show --store "$DB" --episode "$EP" --json >"$TMP/j" 2>&1
python3 -c '
import json, sys
def strings(v):
    if isinstance(v, str): yield v
    elif isinstance(v, dict):
        for x in v.values(): yield from strings(x)
    elif isinstance(v, list):
        for x in v: yield from strings(x)
j = "\n".join(strings(json.load(open(sys.argv[1]))))
ok = "\u202eevil" in j and "\x1b]52" in j and "\x9b31m" in j
i = j.find("evil")
print(ascii(j[max(0, i - 200):i + 40]))
sys.exit(0 if ok else 1)' "$TMP/j" >"$TMP/why" &&
	ok "show --json is valid JSON that still holds the characters" ||
	bad "json meaning" "$(cat "$TMP/why")"
finish
