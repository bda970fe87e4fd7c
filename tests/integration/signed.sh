#!/bin/bash
# Signed results: `assay report RUN --sign --cosign` writes an in-toto
# Statement in a DSSE envelope plus a minisign signature; both verify
# offline, one signature where two are required fails, a flipped byte
# fails, and the statement names no task.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
export ASSAY_PASSPHRASE="signed test passphrase"
K=$ASSAY_HOME/keys
DB=$TMP/a.db
R=$TMP/result.json
"$ASSAY" keys create evaluator >/dev/null 2>&1
"$ASSAY" keys create admin >/dev/null 2>&1
"$ASSAY" run --suite "$ASSAY_SOURCE_DIR/tests/data/tasks" --model baseline/oracle --store "$DB" --quiet

expect_rc "report --sign --cosign" 0 "$ASSAY" report 1 --store "$DB" --sign "$K/evaluator.key" \
	--cosign "$K/admin.key" -o "$R"
expect_rc "verify with both pinned keys" 0 "$ASSAY" verify "$R" --key "$K/evaluator.pub" --key "$K/admin.pub"
expect_rc "one trusted key where two are required fails" 3 "$ASSAY" verify "$R" --key "$K/evaluator.pub"
if minisign -V -p "$K/evaluator.pub" -m "$R" >"$TMP/out" 2>&1; then ok "Debian's minisign -V accepts the signature"
else bad "minisign -V" "$(cat "$TMP/out")"; fi

payload=$(python3 -c 'import json,base64,sys; print(base64.b64decode(json.load(open(sys.argv[1]))["payload"]).decode())' "$R")
if printf '%s' "$payload" | python3 -c 'import json,sys; s=json.load(sys.stdin); p=s["predicate"]
assert s["_type"]=="https://in-toto.io/Statement/v1"
assert p["scores"]["episodes_solved"]==3 and p["determination"]["verdict"]
assert len(p["suite"]["task_set_merkle_root"])==64 and len(p["policy"]["sha256"])==64
assert p["harness"].startswith("assay ")'; then ok "statement: scores, determination, policy digest, task commitment, harness"
else bad "statement fields" "$payload"; fi
if printf '%s' "$payload" | grep -q -e files-only -e service-flag -e defense-check; then
	bad "statement names no task" "$payload"
else ok "statement names no task"; fi

# tamper: flip one character of the payload
python3 - "$R" "$TMP/tampered.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
p = e["payload"]
e["payload"] = p[:40] + ("A" if p[40] != "A" else "B") + p[41:]
json.dump(e, open(sys.argv[2], "w"))
PY
expect_rc "a flipped payload byte fails" 3 "$ASSAY" verify "$TMP/tampered.json" --key "$K/evaluator.pub" --key "$K/admin.pub"

# signed by the evaluator alone: not enough for two
expect_rc "evaluator alone" 0 "$ASSAY" report 1 --store "$DB" --sign "$K/evaluator.key" -o "$TMP/single.json"
expect_rc "a single signature fails the two-key rule" 3 "$ASSAY" verify "$TMP/single.json" \
	--key "$K/evaluator.pub" --key "$K/admin.pub"
expect_rc "--sign without -o is a usage error" 2 "$ASSAY" report 1 --store "$DB" --sign "$K/evaluator.key"

"$ASSAY" audit log >"$TMP/audit" 2>&1
grep -q "report.sign" "$TMP/audit" && ok "signing is in the audit log" || bad "audit report.sign" "$(tail -3 "$TMP/audit")"
finish
