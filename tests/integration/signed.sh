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
expect_rc "one trusted key where two are required fails" 2 "$ASSAY" verify "$R" --key "$K/evaluator.pub"
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
expect_rc "a flipped payload byte fails" 2 "$ASSAY" verify "$TMP/tampered.json" --key "$K/evaluator.pub" --key "$K/admin.pub"

# signed by the evaluator alone: it declares one signature, which verify
# requires by default; a relying party that wants two says --threshold 2
expect_rc "evaluator alone" 0 "$ASSAY" report 1 --store "$DB" --sign "$K/evaluator.key" -o "$TMP/single.json"
expect_rc "a single-signed result verifies as declared" 0 "$ASSAY" verify "$TMP/single.json" \
	--key "$K/evaluator.pub" --key "$K/admin.pub"
grep -q "1 valid signature by trusted keys, 1 required (declared by the result): evaluator" "$TMP/out" &&
	ok "verify says the requirement came from the result" || bad "declared 1" "$(cat "$TMP/out")"
expect_rc "--threshold 2 on a single signature fails" 2 "$ASSAY" verify "$TMP/single.json" \
	--key "$K/evaluator.pub" --key "$K/admin.pub" --threshold 2
[ ! -s "$TMP/out" ] && grep -q "1 valid signature by trusted keys, 2 required (--threshold)" "$TMP/err" &&
	ok "a failed threshold prints no count on stdout, and says why on stderr" ||
	bad "threshold failure output" "out: $(cat "$TMP/out") err: $(cat "$TMP/err")"

# keys by name, as 'assay keys list' shows them
expect_rc "--sign and --cosign take key names" 0 "$ASSAY" report 1 --store "$DB" --sign evaluator \
	--cosign admin -o "$TMP/named.json"
payload=$(python3 -c 'import json,base64,sys; print(base64.b64decode(json.load(open(sys.argv[1]))["payload"]).decode())' "$TMP/named.json")
if printf '%s' "$payload" | python3 -c 'import json,sys; s=json.load(sys.stdin)["predicate"]["signatures"]
assert s["required"] == 2, s
assert [k["name"] for k in s["keys"]] == ["evaluator", "admin"], s
assert all(len(k["keyid"]) == 16 for k in s["keys"])'; then
	ok "the statement declares the two signatures it needs"
else bad "declared signatures" "$payload"; fi
expect_rc "verify --key takes key names" 0 "$ASSAY" verify "$TMP/named.json" --key evaluator --key admin
grep -q "2 valid signatures by trusted keys, 2 required (declared by the result): evaluator admin" "$TMP/out" &&
	ok "two of two as declared" || bad "declared 2" "$(cat "$TMP/out")"
expect_rc "an unknown key name is an error" 2 "$ASSAY" report 1 --store "$DB" --sign nosuch -o "$TMP/x.json"
grep -q "no secret key 'nosuch' in .*keys list" "$TMP/err" && ok "the error names the key and where it looked" ||
	bad "unknown key message" "$(cat "$TMP/err")"

# which signature failed and why
expect_rc "declared two, one trusted key given: fails" 2 "$ASSAY" verify "$TMP/named.json" --key evaluator
[ ! -s "$TMP/out" ] && grep -q "1 valid signature by trusted keys, 2 required (declared by the result)" "$TMP/err" &&
	grep -q "signature 2 (key id [0-9a-f]*): not by any trusted key" "$TMP/err" &&
	grep -q "declared signer 'admin' (key id [0-9a-f]*): no valid signature" "$TMP/err" &&
	ok "names the signature without a trusted key and the missing declared signer" ||
	bad "untrusted signature message" "out: $(cat "$TMP/out") err: $(cat "$TMP/err")"
python3 - "$TMP/named.json" "$TMP/badsig.json" <<'PY'
import json, sys, base64
e = json.load(open(sys.argv[1]))
s = bytearray(base64.b64decode(e["signatures"][1]["sig"]))
s[3] ^= 1
e["signatures"][1]["sig"] = base64.b64encode(bytes(s)).decode()
json.dump(e, open(sys.argv[2], "w"))
PY
cp "$TMP/named.json.minisig" "$TMP/badsig.json.minisig"
expect_rc "an altered admin signature fails" 2 "$ASSAY" verify "$TMP/badsig.json" --key evaluator --key admin
grep -q "signature 2 (key id [0-9a-f]*, 'admin'): does not verify" "$TMP/err" && grep -q "signature 1 .*'evaluator'): valid" "$TMP/err" &&
	ok "names the altered signature and why" || bad "altered signature message" "$(cat "$TMP/err")"
# a bad .minisig: named, and stdout claims nothing
# flip the 21st base64 character of the signature line to a different one
cp "$TMP/named.json.minisig" "$TMP/good.minisig"
c=$(sed -n '2p' "$TMP/named.json.minisig" | cut -c21)
if [ "$c" = A ]; then r=B; else r=A; fi
sed -i "2s/^\(.\{20\}\)./\1$r/" "$TMP/named.json.minisig"
cmp -s "$TMP/named.json.minisig" "$TMP/good.minisig" && bad "minisig corruption" "unchanged"
expect_rc "a bad .minisig fails" 2 "$ASSAY" verify "$TMP/named.json" --key evaluator --key admin
[ ! -s "$TMP/out" ] && grep -q "minisign signature '.*named.json.minisig': by 'evaluator' (key id [0-9a-f]*): signature verification failed" "$TMP/err" &&
	ok "a bad .minisig names the signature, and stdout claims no count" ||
	bad "bad minisig output" "out: $(cat "$TMP/out") err: $(cat "$TMP/err")"
expect_rc "--sign without -o is a usage error" 2 "$ASSAY" report 1 --store "$DB" --sign "$K/evaluator.key"

"$ASSAY" audit log >"$TMP/audit" 2>&1
grep -q "report.sign" "$TMP/audit" && ok "signing is in the audit log" || bad "audit report.sign" "$(tail -3 "$TMP/audit")"
finish
