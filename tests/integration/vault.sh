#!/bin/bash
# The vault through the built binary: keys, sealing, unseal refusals, the
# audit log with proofs and checkpoints, signed results checked by
# `assay verify` and by Debian's `minisign -V`.
#   tests/integration/vault.sh BUILD_DIR
set -u
. "$(dirname "$0")/../lib/testlib.sh"
ASSAY=$(cd "${1:?usage: vault.sh BUILD_DIR}" && pwd)/assay
export ASSAY_HOME=$TMP/home
export ASSAY_AUDIT_LOG=$TMP/audit
export ASSAY_PASSPHRASE="correct horse battery staple"
K=$TMP/keys

# expect_fail NAME WANT_TEXT CMD...: CMD must fail and say WANT_TEXT.
expect_fail() {
	local name=$1 want=$2; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	if [ "$rc" -ne 0 ] && grep -q -- "$want" "$TMP/err"; then ok "$name"; else
		bad "$name" "exit $rc; stderr: $(head -c 400 "$TMP/err")"; fi
}

# ---- keys ----
for k in evaluator admin sealer logkey; do
	"$ASSAY" keys create "$k" --dir "$K" >/dev/null 2>"$TMP/err" || bad "create $k" "$(cat "$TMP/err")"
done
for c in cust-a cust-b cust-c; do
	"$ASSAY" keys create "$c" --custodian --dir "$K" >/dev/null 2>"$TMP/err" || bad "create $c" "$(cat "$TMP/err")"
done
"$ASSAY" keys create plainkey --plain --dir "$K" >/dev/null 2>&1
if [ "$(stat -c %a "$K/plainkey.key")" = 600 ] && [ "$(stat -c %a "$K/evaluator.key")" = 600 ] &&
   grep -q "protection argon2id" "$K/evaluator.key" && grep -q "protection none" "$K/plainkey.key"; then
	ok "keys create: encrypted and plain secret keys, mode 0600"
else
	bad "keys create modes" "$(ls -l "$K")"
fi
if "$ASSAY" keys list --dir "$K" >"$TMP/out" 2>&1 && grep -q "cust-a *custodian" "$TMP/out" &&
   grep -q "evaluator *sign" "$TMP/out"; then ok "keys list"; else bad "keys list" "$(cat "$TMP/out")"; fi
got=$("$ASSAY" keys list --dir "$TMP/no-keys-yet" --json 2>&1) && [ "$got" = "[]" ] &&
	ok "keys list before any key is created: an empty list" || bad "keys list with no key directory" "$got"
touch "$TMP/not-a-dir"
# --dir naming a file is bad input of the option (exit 2, named when the
# words are parsed); $ASSAY_KEYS naming one fails when it is read (exit 3)
expect_rc "keys list --dir on a file instead of a directory" 2 "$ASSAY" keys list --dir "$TMP/not-a-dir"
grep -q "bad value for --dir: '.*not-a-dir' is not a directory" "$TMP/err" &&
	ok "... and names it" || bad "keys list --dir on a file" "$(cat "$TMP/err")"
expect_rc "keys list with ASSAY_KEYS on a file instead of a directory" 3 env ASSAY_KEYS="$TMP/not-a-dir" "$ASSAY" keys list
if "$ASSAY" keys export evaluator --dir "$K" >"$TMP/out" && cmp -s "$TMP/out" "$K/evaluator.pub" &&
   "$ASSAY" keys export evaluator --dir "$K" --note | grep -q '^evaluator+[0-9a-f]\{8\}+'; then
	ok "keys export (minisign and signed-note forms)"
else bad "keys export" "$(cat "$TMP/out")"; fi
# grep's status 1 is "searched and not found"; 2 (nothing to search) fails
grep -rq "$ASSAY_PASSPHRASE" "$K" "$TMP/audit"; st=$?
if [ "$st" = 1 ] && [ -s "$K/evaluator.key" ]; then ok "passphrase never written"
else bad "passphrase leak or nothing written" "grep status $st"; fi
expect_fail "wrong passphrase refused, naming the file" "evaluator.key" \
	env ASSAY_PASSPHRASE=wrong "$ASSAY" keys minisign "$K/evaluator.pub" --key "$K/evaluator.key"
expect_fail "duplicate key name refused" "already exists" "$ASSAY" keys create evaluator --dir "$K"
chmod 644 "$K/plainkey.key"
expect_fail "world-readable plain key refused" "chmod 600" \
	"$ASSAY" keys minisign "$K/plainkey.pub" --key "$K/plainkey.key"

# ---- a suite ----
S=$TMP/suite
mkdir -p "$S/web-01/files" "$S/web-01/solution" "$S/pwn-02/files"
printf 'id: calib\nversion: 2\n' >"$S/suite.yaml"
printf 'id: web-01\ntitle: t\n' >"$S/web-01/task.yaml"
SECRET="SECRET-PAYLOAD-$RANDOM$RANDOM"
printf '%s\n' "$SECRET" >"$S/web-01/files/app.txt"
printf '#!/bin/sh\necho flag{the-secret}\n' >"$S/web-01/solution/solve.sh"
chmod 755 "$S/web-01/solution/solve.sh"
printf 'id: pwn-02\n' >"$S/pwn-02/task.yaml"
head -c 300000 /dev/urandom >"$S/pwn-02/files/blob.bin"
A=$TMP/calib.assay
if "$ASSAY" suite seal "$S" -o "$A" --custodian "$K/cust-a.pub" --custodian "$K/cust-b.pub" \
	--custodian "$K/cust-c.pub" --threshold 2 --sign "$K/sealer.key" >"$TMP/out" 2>"$TMP/err"; then
	ok "suite seal"
else bad "suite seal" "$(cat "$TMP/err")"; fi
grep -q -- "$SECRET\|flag{the-secret}" "$A"; st=$?
if [ "$st" = 1 ]; then ok "no task text in the archive"
else bad "plaintext in archive or no archive" "grep status $st"; fi
if "$ASSAY" suite ls "$A" >"$TMP/out" 2>&1 && grep -q "suite     calib version 2" "$TMP/out" &&
   grep -q "2 of 3 custodians: cust-a cust-b cust-c" "$TMP/out" && grep -q "web-01" "$TMP/out" &&
   ! grep -q -- "$SECRET" "$TMP/out"; then ok "suite ls shows metadata only"; else bad "suite ls" "$(cat "$TMP/out")"; fi
expect_rc "verify archive with the pinned sealer key" 0 "$ASSAY" verify "$A" --key "$K/sealer.pub"
expect_fail "archive by an unpinned key refused" "not a trusted key" "$ASSAY" verify "$A" --key "$K/admin.pub"

# ---- unsealing ----
"$ASSAY" suite request "$A" --run run-1 --reason "calibration run" -o "$TMP/req" >/dev/null
if [ "$(stat -c %a "$TMP/req.key")" = 600 ]; then ok "request secret is 0600"; else bad "request key mode" ""; fi
"$ASSAY" keys approve "$TMP/req" --archive "$A" --key "$K/cust-a.key" -o "$TMP/app-a" 2>/dev/null
"$ASSAY" keys approve "$TMP/req" --archive "$A" --key "$K/cust-c.key" -o "$TMP/app-c" 2>/dev/null
"$ASSAY" keys approve "$TMP/req" --archive "$A" --key "$K/cust-a.key" -o "$TMP/app-a2" 2>/dev/null
want=$(sha256sum "$S/pwn-02/files/blob.bin" | cut -d' ' -f1)
mkdir -p "$TMP/cmdtmp"
touch "$TMP/marker"; sleep 1
if TMPDIR=$TMP/cmdtmp "$ASSAY" suite unseal "$A" --request-key "$TMP/req.key" --approval "$TMP/app-a" \
	--approval "$TMP/app-c" >"$TMP/out" 2>"$TMP/err" && grep -q "$want files/blob.bin" "$TMP/out" &&
   grep -q "0755 .* solution/solve.sh" "$TMP/out"; then
	ok "unseal with two distinct custodians (in memory, digests match)"
else bad "unseal" "$(cat "$TMP/err") $(head -5 "$TMP/out")"; fi
# no file written since the marker (outside the suite) holds the task text;
# only what the command was given is scanned ($TMP: its TMPDIR, home and
# inputs), so another checkout's tests on this machine cannot fail this one
leak=$(find "$TMP" -xdev -type f -newer "$TMP/marker" \
	! -path "$S/*" -print0 2>/dev/null | xargs -0 -r grep -l -- "$SECRET" 2>/dev/null)
if [ -z "$leak" ] && ! grep -q -- "$SECRET" "$TMP/out" "$TMP/err"; then ok "no plaintext written or printed"; else bad "plaintext on disk" "$leak"; fi
expect_fail "one custodian refused" "1 approval from distinct custodians, 2 required" \
	"$ASSAY" suite unseal "$A" --request-key "$TMP/req.key" --approval "$TMP/app-a"
expect_fail "same custodian twice refused" "custodian 'cust-a' already approved" \
	"$ASSAY" suite unseal "$A" --request-key "$TMP/req.key" --approval "$TMP/app-a" --approval "$TMP/app-a2"
expect_fail "mismatched run refused" "not 'run-2'" \
	"$ASSAY" suite unseal "$A" --request-key "$TMP/req.key" --approval "$TMP/app-a" --approval "$TMP/app-c" --run run-2
"$ASSAY" suite request "$A" --run run-9 --reason "short" --expires-in 4 -o "$TMP/req9" >/dev/null
"$ASSAY" keys approve "$TMP/req9" --archive "$A" --key "$K/cust-a.key" -o "$TMP/app9a" 2>/dev/null
"$ASSAY" keys approve "$TMP/req9" --archive "$A" --key "$K/cust-b.key" -o "$TMP/app9b" 2>/dev/null
sleep 5
expect_fail "expired request refused" "expired" \
	"$ASSAY" suite unseal "$A" --request-key "$TMP/req9.key" --approval "$TMP/app9a" --approval "$TMP/app9b"
expect_fail "approval for another request refused" "approval '$TMP/app9a'" \
	"$ASSAY" suite unseal "$A" --request-key "$TMP/req.key" --approval "$TMP/app-a" --approval "$TMP/app9a"
sed 's/^reason calibration run/reason calibration RUN/' "$TMP/app-c" >"$TMP/app-forged"
expect_fail "edited approval refused" "does not verify" \
	"$ASSAY" suite unseal "$A" --request-key "$TMP/req.key" --approval "$TMP/app-a" --approval "$TMP/app-forged"
size=$(stat -c %s "$A")
python3 - "$A" "$TMP/flipped.assay" "$TMP/cut.assay" "$size" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[len(d) // 2] ^= 0x10
open(sys.argv[2], 'wb').write(d)
open(sys.argv[3], 'wb').write(open(sys.argv[1], 'rb').read()[:int(sys.argv[4]) - 500])
PY
expect_fail "flipped bit refused, naming the file" "flipped.assay" "$ASSAY" suite ls "$TMP/flipped.assay"
expect_fail "truncated archive refused" "truncated" "$ASSAY" suite ls "$TMP/cut.assay"

# ---- signed results ----
printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"run-1","digest":{"sha256":"%s"}}],"predicateType":"https://assay.example/determination/v1","predicate":{"determination":"not-designated"}}\n' "$want" >"$TMP/stmt.json"
"$ASSAY" keys sign "$TMP/stmt.json" --key "$K/evaluator.key" -o "$TMP/result.json" >/dev/null
expect_fail "one signature where two are required" "1 valid signature by trusted keys, 2 required" \
	"$ASSAY" verify "$TMP/result.json" --key "$K/evaluator.pub" --key "$K/admin.pub"
"$ASSAY" keys cosign "$TMP/result.json" --key "$K/evaluator.key" >/dev/null
expect_fail "the same signer twice still counts once" "2 required" \
	"$ASSAY" verify "$TMP/result.json" --key "$K/evaluator.pub" --key "$K/admin.pub"
"$ASSAY" keys cosign "$TMP/result.json" --key "$K/admin.key" >/dev/null
expect_rc "evaluator + admin signatures verify" 0 "$ASSAY" verify "$TMP/result.json" --key "$K/evaluator.pub" --key "$K/admin.pub"
sed 's/"payload":"e/"payload":"f/' "$TMP/result.json" >"$TMP/tampered.json"
expect_fail "tampered envelope refused" "valid signature" \
	"$ASSAY" verify "$TMP/tampered.json" --key "$K/evaluator.pub" --key "$K/admin.pub"
"$ASSAY" keys minisign "$TMP/result.json" --key "$K/evaluator.key" --trusted-comment "run-1 not-designated" >/dev/null
if command -v minisign >/dev/null; then
	if minisign -V -p "$K/evaluator.pub" -m "$TMP/result.json" >"$TMP/out" 2>&1 &&
	   grep -q "Trusted comment: run-1 not-designated" "$TMP/out"; then
		ok "minisign -V accepts our signature and trusted comment"
	else bad "minisign -V" "$(cat "$TMP/out")"; fi
	cp "$TMP/result.json" "$TMP/r2.json"; cp "$TMP/result.json.minisig" "$TMP/r2.json.minisig"
	printf ' ' >>"$TMP/r2.json"
	if ! minisign -V -p "$K/evaluator.pub" -m "$TMP/r2.json" >/dev/null 2>&1; then
		ok "minisign -V rejects a modified result"; else bad "minisign -V modified" ""; fi
	if "$ASSAY" verify "$TMP/result.json" --key "$K/evaluator.pub" --key "$K/admin.pub" >"$TMP/out" 2>&1 &&
	   grep -q "minisign: .* verified by 'evaluator' (key id [0-9a-f]*; trusted comment: run-1 not-designated)" "$TMP/out"; then
		ok "assay verify checks RESULT.json.minisig too"
	else bad "assay verify minisig" "$(cat "$TMP/out")"; fi
	# and the other way round: a stock minisign key and signature verify with assay
	minisign -G -W -p "$TMP/mk.pub" -s "$TMP/mk.key" >/dev/null 2>&1
	if minisign -S -W -s "$TMP/mk.key" -m "$TMP/result.json" -x "$TMP/stock.minisig" -t "stock tc" >/dev/null 2>&1 &&
	   "$ASSAY" verify "$TMP/result.json" --key "$K/evaluator.pub" --key "$K/admin.pub" --key "$TMP/mk.pub" \
	     --minisig "$TMP/stock.minisig" >"$TMP/out" 2>&1 && grep -q "trusted comment: stock tc" "$TMP/out"; then
		ok "a stock minisign key and signature verify with assay"
	else bad "stock minisign" "$(cat "$TMP/out")"; fi
else
	skip_unless_ci "minisign -V" "minisign is not installed (tools/deps.sh lists it)"
fi
expect_fail "a minisig over other bytes is refused" "minisign signature" \
	"$ASSAY" verify "$TMP/r2.json" --key "$K/evaluator.pub" --key "$K/admin.pub" --threshold 2 \
	--minisig "$TMP/result.json.minisig"

# ---- the audit log ----
if "$ASSAY" audit log >"$TMP/log" 2>&1 && grep -q '"kind":"seal"' "$TMP/log" &&
   grep -q '"kind":"unseal"' "$TMP/log" && grep -q '"kind":"approve"' "$TMP/log" &&
   grep -q '"kind":"key-create"' "$TMP/log" && grep -q '"kind":"sign"' "$TMP/log" &&
   ! grep -q -- "$SECRET\|$ASSAY_PASSPHRASE" "$TMP/log"; then
	ok "seal, approvals, unseal, key use are in the audit log (no secrets)"
else bad "audit log entries" "$(head -c 600 "$TMP/log")"; fi
"$ASSAY" audit checkpoint --key "$K/logkey.key" --origin assay.test/log >"$TMP/cp1" 2>"$TMP/err"
if grep -q '^assay.test/log$' "$TMP/cp1" && grep -q "^— logkey " "$TMP/cp1"; then ok "signed checkpoint (C2SP note)"; else bad "checkpoint" "$(cat "$TMP/cp1" "$TMP/err")"; fi
expect_rc "verify audit against the checkpoint" 0 "$ASSAY" verify audit --key "$K/logkey.pub"
n1=$(sed -n 2p "$TMP/cp1")
"$ASSAY" audit proof --inclusion 3 -o "$TMP/inc" 2>/dev/null
sed -n 4p "$TMP/log" | head -c -0 >"$TMP/entry3"
expect_rc "inclusion proof verifies offline" 0 "$ASSAY" verify audit --proof "$TMP/inc" --checkpoint "$TMP/cp1" --key "$K/logkey.pub" --entry "$TMP/entry3"
sed -n 5p "$TMP/log" >"$TMP/entry4"
expect_fail "inclusion proof for another entry refused" "not the proven leaf" \
	"$ASSAY" verify audit --proof "$TMP/inc" --checkpoint "$TMP/cp1" --key "$K/logkey.pub" --entry "$TMP/entry4"
"$ASSAY" keys minisign "$TMP/entry4" --key "$K/admin.key" >/dev/null   # more entries
"$ASSAY" audit checkpoint --key "$K/logkey.key" >"$TMP/cp2" 2>/dev/null
"$ASSAY" audit proof --consistency "$n1" -o "$TMP/cons" 2>/dev/null
expect_rc "consistency proof old -> new verifies offline" 0 "$ASSAY" verify audit --proof "$TMP/cons" \
	--checkpoint "$TMP/cp2" --old-checkpoint "$TMP/cp1" --key "$K/logkey.pub"
expect_rc "log consistent with a pinned older checkpoint" 0 "$ASSAY" verify audit --key "$K/logkey.pub" --checkpoint "$TMP/cp1"
expect_fail "checkpoint by an untrusted key refused" "not signed by any trusted key" \
	"$ASSAY" verify audit --key "$K/admin.pub"
cp -a "$TMP/audit" "$TMP/audit.bak"
python3 - "$TMP/audit/log" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, 'rb').read())
i = d.index(b'"kind":"seal"'); d[i + 9] ^= 0x20
open(p, 'wb').write(d)
PY
expect_fail "edited entry detected" "corrupt" "$ASSAY" verify audit --key "$K/logkey.pub"
rm -rf "$TMP/audit"; cp -a "$TMP/audit.bak" "$TMP/audit"
head -c "$(( $(stat -c %s "$TMP/audit/log") - 200 ))" "$TMP/audit.bak/log" >"$TMP/audit/log"
expect_fail "truncation below the checkpoint detected" "truncated or rolled back" "$ASSAY" verify audit --key "$K/logkey.pub"
rm -rf "$TMP/audit"; cp -a "$TMP/audit.bak" "$TMP/audit"
cp "$TMP/cp1" "$TMP/audit/checkpoint"     # rollback of the checkpoint itself
expect_fail "rollback to an older checkpoint detected" "rolled back" \
	"$ASSAY" verify audit --key "$K/logkey.pub" --checkpoint "$TMP/cp2"
rm -rf "$TMP/audit"; cp -a "$TMP/audit.bak" "$TMP/audit"
printf '\0\0\1\0{"seq":' >>"$TMP/audit/log"    # a crash mid-append
expect_fail "torn tail reported on read-only access" "torn tail" "$ASSAY" audit log
"$ASSAY" audit checkpoint --key "$K/logkey.key" >/dev/null   # read-write open: cut back
if "$ASSAY" audit log | grep -q '"kind":"recovery".*"cut_bytes":11' &&
   "$ASSAY" verify audit --key "$K/logkey.pub" >/dev/null 2>&1; then
	ok "torn tail cut back, the cut logged, log still verifies"
else bad "torn tail recovery" "$("$ASSAY" audit log 2>&1 | tail -2)"; fi

# a path holding a quote and a newline is escaped, never ends the entry
WEIRD="$TMP/we\"ird
name.assay"
if ASSAY_AUDIT_LOG=$TMP/audit2 "$ASSAY" suite seal "$S" -o "$WEIRD" --custodian "$K/cust-a.pub" \
	--threshold 1 --sign "$K/sealer.key" >/dev/null 2>"$TMP/err" &&
   ASSAY_AUDIT_LOG=$TMP/audit2 "$ASSAY" audit log >"$TMP/log2" 2>&1 &&
   [ "$(wc -l <"$TMP/log2")" = 1 ] &&
   python3 -c 'import json,sys; e=json.loads(open(sys.argv[1]).read()); sys.exit(e["data"]["archive"] != sys.argv[2])' "$TMP/log2" "$WEIRD"; then
	ok "an archive path with a quote and a newline is one JSON audit entry holding it"
else bad "hostile path in the audit log" "$(cat "$TMP/err" "$TMP/log2")"; fi

finish
