#!/bin/bash
# assay report end to end: the baselines on the example tasks, the
# determination in every format, bad input (malformed policy, missing
# reference), and the HTML report rendered in headless Chromium with its
# charts drawn.
#   tests/integration/report.sh BUILD_DIR   (needs $ASSAY, $ASSAY_SOURCE_DIR)
set -u
. "$(dirname "$0")/../lib/testlib.sh"
SRC=$ASSAY_SOURCE_DIR
TASKS=$SRC/tests/data/tasks
DB=$TMP/assay.db
export ASSAY_SOURCE_DIR

run_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null; }

oracle=$("$ASSAY" run --suite "$TASKS" --model baseline/oracle --epochs 2 --store "$DB" --json 2>"$TMP/err" | run_id)
null=$("$ASSAY" run --suite "$TASKS" --model baseline/null --epochs 2 --store "$DB" --json 2>>"$TMP/err" | run_id)
if [ -n "$oracle" ] && [ -n "$null" ]; then ok "baseline runs journaled ($oracle, $null)"
else bad "baseline runs" "$(tail -5 "$TMP/err")"; finish; exit 1; fi

# the token budget (elicitation) is read from the journal, not from the
# suite as it is now: it survives the suite directory's removal
cp -r "$TASKS" "$TMP/gone"
gone=$("$ASSAY" run --suite "$TMP/gone" --model baseline/oracle --store "$DB" --json 2>"$TMP/err" | run_id)
rm -rf "$TMP/gone"
if [ -n "$gone" ] && "$ASSAY" report "$gone" --store "$DB" --format json -o "$TMP/gone.json" 2>"$TMP/err" &&
   [ "$(python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "token_budget_source" in o: return o
        for v in o.values():
            r = find(v)
            if r: return r
el = find(json.load(open(sys.argv[1])))
print(el["token_budget"] > 0 and "as journaled" in el["token_budget_source"])' "$TMP/gone.json")" = True ]; then
	ok "token budget from the journal, after the suite is gone"
else bad "journaled token budget" "$(cat "$TMP/err") $(grep -o '"token_budget[^,]*' "$TMP/gone.json")"; fi

# JSON: old fields kept, determination and statistics added
R() { "$ASSAY" report "$@" --store "$DB"; }
if R "$null" --reference "$oracle" --format json -o "$TMP/null.json" 2>"$TMP/err" &&
   [ "$(json_get "$TMP/null.json" 'j["format"]')" = assay-report/1 ] &&
   [ "$(json_get "$TMP/null.json" 'j["totals"]["scored"]')" = 6 ] &&
   [ "$(json_get "$TMP/null.json" 'len(j["tasks"])')" = 3 ]; then
	ok "json keeps the assay-report/1 fields"
else bad "json report" "$(cat "$TMP/err")"; fi
det=$(json_get "$TMP/null.json" 'j["determination"]["determination"]' 2>&1)
[ "$det" = inconclusive ] && ok "null vs oracle: inconclusive (elicitation below the minimums)" ||
	bad "null determination" "$det"
v=$(json_get "$TMP/null.json" '[r["verdict"] for r in j["determination"]["rules"] if r["name"]=="new-frontier"][0]' 2>&1)
[ "$v" = not-triggered ] && ok "null is not a new frontier over the oracle" || bad "null frontier" "$v"
v=$(json_get "$TMP/null.json" 'j["statistics"]["overall"]["pass1"], j["statistics"]["references"][0]["paired"]["difference"]' 2>&1)
[ "$v" = "0.0 -1.0" ] && ok "statistics: pass@1 0 and paired difference -1" || bad "statistics" "$v"

R "$oracle" --reference "$null" --format json -o "$TMP/oracle.json" 2>"$TMP/err"
det=$(json_get "$TMP/oracle.json" 'j["determination"]["determination"], sorted([r for r in j["determination"]["rules"] if r["name"]=="new-frontier"][0]["tasks"])' 2>&1)
[ "$det" = "additional-scrutiny ['defense-check', 'files-only', 'service-flag']" ] &&
	ok "oracle vs null: additional-scrutiny with the tasks behind new-frontier" ||
	bad "oracle determination" "$det $(cat "$TMP/err")"

# terminal and Markdown: the determination first
R "$null" --reference "$oracle" >"$TMP/term" 2>"$TMP/err"
head -1 "$TMP/term" | grep -q '^determination: inconclusive' && grep -q 'defense-check' "$TMP/term" &&
	ok "term: determination first, then the table" || bad "term" "$(head -3 "$TMP/term")"
R "$null" --reference "$oracle" --format md -o "$TMP/r.md" 2>"$TMP/err"
grep -q '^## Determination' "$TMP/r.md" && grep -q '^\*\*inconclusive\*\*' "$TMP/r.md" &&
	ok "markdown has the determination" || bad "markdown" "$(head -20 "$TMP/r.md")"

# bad input: exit 2 with a clear message
expect_rc "missing reference exits 2" 2 "$ASSAY" report "$null" --reference 9999 --store "$DB"
grep -q 'reference run 9999 does not exist' "$TMP/err" && ok "missing reference message" ||
	bad "missing reference message" "$(cat "$TMP/err")"
printf 'policy: p\nrules:\n  - name: a\n    type: absolute\n    thresold: 0.5\n' >"$TMP/bad.yaml"
expect_rc "malformed policy exits 2" 2 "$ASSAY" report "$null" --policy "$TMP/bad.yaml" --store "$DB"
grep -q "bad.yaml:[0-9]*: " "$TMP/err" && ok "malformed policy: FILE:LINE: message" ||
	bad "malformed policy message" "$(cat "$TMP/err")"
printf 'policy: p\nrules:\n  - name: ranges\n    type: evidence\n    select: {tags: [range]}\n' >"$TMP/tag.yaml"
expect_rc "policy naming an absent tag exits 2" 2 "$ASSAY" report "$null" --policy "$TMP/tag.yaml" --store "$DB"
grep -q "tag.yaml:3: rule 'ranges'" "$TMP/err" && ok "absent tag named with FILE:LINE" ||
	bad "absent tag message" "$(cat "$TMP/err")"
expect_rc "unknown format exits 2" 2 "$ASSAY" report "$null" --format pdf --store "$DB"

# HTML: one self-contained file
R "$oracle" --reference "$null" --format html -o "$TMP/r.html" 2>"$TMP/err"
if [ -s "$TMP/r.html" ] && ! grep -Eq '(src|href)="(https?:)?//' "$TMP/r.html" &&
   ! grep -q '<script' "$TMP/r.html" && ! grep -q '<link' "$TMP/r.html"; then
	ok "html is self-contained (no script, no external resource)"
else bad "html self-contained" "$(grep -Eo '(src|href)="[^"]*"' "$TMP/r.html" | head -3) $(cat "$TMP/err")"; fi

# headless Chromium: the DOM after layout, and a screenshot
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	skip_unless_ci "chromium" "not installed (tools/deps.sh lists it)"
	finish; exit
fi
chrome() {
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$(mktemp -d "$TMP/chrome-XXXXXX")" "$@" 2>>"$TMP/chrome.err"
}
chrome --dump-dom "file://$TMP/r.html" >"$TMP/dom.html"
counts=$(python3 - "$TMP/dom.html" <<'EOF'
import re, sys
d = open(sys.argv[1], encoding="utf-8").read()
svgs = len(re.findall(r"<svg\b", d))
marks = len(re.findall(r'<(?:circle|rect|path)[^>]*class="mark\b', d))
curve = len(re.findall(r'<path[^>]*class="mark curve"[^>]*d="M[0-9.]+ [0-9.]+ L', d))
links = set(re.findall(r'href="#(ep-[0-9]+)"', d))
ids = set(re.findall(r'id="(ep-[0-9]+)"', d))
print(svgs, marks, curve, len(links), int(links <= ids and len(links) > 0))
EOF
)
read -r svgs marks curve links resolved <<<"$counts"
[ "${svgs:-0}" -ge 6 ] && ok "chromium DOM has the $svgs charts" || bad "svg charts" "counts: $counts $(tail -3 "$TMP/chrome.err")"
[ "${marks:-0}" -ge 15 ] && ok "charts carry their data marks ($marks)" || bad "data marks" "$counts"
[ "${curve:-0}" -eq 1 ] && ok "horizon chart draws the fitted curve" || bad "horizon curve" "$counts"
[ "${resolved:-0}" -eq 1 ] && [ "${links:-0}" -eq 6 ] && ok "per-task rows link to all 6 episode transcripts" ||
	bad "transcript links" "$counts"
if grep -q 'journaled events' "$TMP/dom.html" && grep -q 'class="ev ev-tool"' "$TMP/dom.html"; then
	ok "transcripts embedded with their tool calls"
else bad "transcripts" "no events section"; fi

chrome --window-size=1100,2400 --screenshot="$TMP/shot.png" "file://$TMP/r.html" >/dev/null
shot=$(python3 - "$TMP/shot.png" <<'EOF'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", b[16:24])
pos, idat = 8, b""
while pos < len(b):
    n, kind = struct.unpack(">I4s", b[pos:pos + 8])
    if kind == b"IDAT":
        idat += b[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
print(w, h, len(b), len(set(raw[i:i + 3] for i in range(0, len(raw) - 3, 7))))
EOF
)
read -r w h size colours <<<"$shot"
if [ "${w:-0}" -eq 1100 ] && [ "${size:-0}" -gt 30000 ] && [ "${colours:-0}" -gt 50 ]; then
	ok "screenshot ${w}x${h}, $size bytes, $colours distinct samples"
else bad "screenshot" "$shot $(tail -3 "$TMP/chrome.err")"; fi

finish
