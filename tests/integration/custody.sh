#!/bin/bash
# Custodial controls hold (docs/SECURITY.md, "Custody"): one unseal
# request and its approvals unseal exactly one run; the audit log names the
# run an unseal served and records every refused or failed unseal; the
# sealer can be pinned (--sealer) and is shown to the custodian before
# approving; a damaged archive says it is damaged.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
export ASSAY_PASSPHRASE="custody test passphrase"
K=$ASSAY_HOME/keys
DB=$TMP/assay.db
A=$TMP/suite.assay
mkdir -p "$K" "$TMP/suite"
cp -r "$ASSAY_SOURCE_DIR/tests/data/tasks/files-only" "$TMP/suite/"
for c in cust-a cust-b; do "$ASSAY" keys create "$c" --custodian --dir "$K" >/dev/null 2>&1; done
"$ASSAY" keys create sealer --dir "$K" >/dev/null 2>&1
"$ASSAY" keys create mallory --dir "$K" >/dev/null 2>&1
"$ASSAY" suite seal "$TMP/suite" -o "$A" --custodian "$K/cust-a.pub" --custodian "$K/cust-b.pub" \
	--threshold 2 --sign "$K/sealer.key" >/dev/null 2>"$TMP/err" || bad "seal" "$(cat "$TMP/err")"
"$ASSAY" suite request "$A" --run campaign-1 --reason "custody test" -o "$TMP/req" >/dev/null 2>&1
audit() { "$ASSAY" audit log 2>/dev/null; }
entries() { audit | grep -c "$1"; }

# the custodian sees who sealed the archive, and can pin it
"$ASSAY" keys approve "$TMP/req" --archive "$A" --key "$K/cust-a.key" -o "$TMP/app-a" 2>"$TMP/err" >/dev/null
kid=$(sed -n 's/^ed25519 \([0-9a-f]*\) .*/\1/p' "$K/sealer.pub" | head -1)
grep -q "sealed by: 'sealer'" "$TMP/err" && grep -q "digest: [0-9a-f]\{64\}" "$TMP/err" &&
	grep -q "sealer key: " "$TMP/err" && ok "keys approve shows the sealer key and the digest" ||
	bad "approve shows sealer" "$(cat "$TMP/err")"
expect_rc "keys approve --sealer of another key refuses" 3 "$ASSAY" keys approve "$TMP/req" \
	--archive "$A" --key "$K/cust-b.key" --sealer "$K/mallory.pub" -o "$TMP/app-x"
[ ! -e "$TMP/app-x" ] && ok "no approval written for the wrong sealer" || bad "wrong sealer" "approval written"
"$ASSAY" keys approve "$TMP/req" --archive "$A" --key "$K/cust-b.key" --sealer "$K/sealer.pub" \
	-o "$TMP/app-b" >/dev/null 2>"$TMP/err" && ok "keys approve --sealer of the right key approves" ||
	bad "approve pinned" "$(cat "$TMP/err")"
APPS=(--request-key "$TMP/req.key" --approval "$TMP/app-a" --approval "$TMP/app-b")

# run --sealer pins the sealer: the wrong key refuses, audited
expect_rc "run --sealer of another key refuses" 3 "$ASSAY" run --suite "$A" --model baseline/oracle \
	--store "$DB" "${APPS[@]}" --sealer "$K/mallory.pub"
[ "$(entries '"kind":"unseal.refused"')" -ge 1 ] && ok "the refused unseal is audited" ||
	bad "refusal audited" "$(audit | tail -3)"

# the first run unseals; the audit names the run it served
RUN=$("$ASSAY" run --suite "$A" --model baseline/oracle --store "$DB" --json "${APPS[@]}" \
	--sealer "$K/sealer.pub" 2>"$TMP/err" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null)
[ -n "$RUN" ] && ok "the first run with the request unseals (run $RUN)" || bad "first run" "$(tail -3 "$TMP/err")"
served="$RUN@$(realpath "$DB")"
audit | grep '"kind":"unseal.run"' | grep -qF "\"served\":\"$served\"" &&
	ok "the audit log names the run the unseal served" || bad "unseal names run" "$(audit | grep unseal)"

# the attack: a second run with the same request key and approvals
expect_rc "a second run with the same request and approvals is refused" 2 "$ASSAY" run --suite "$A" \
	--model baseline/null --store "$DB" "${APPS[@]}"
grep -q "already used" "$TMP/err" && ok "the refusal says the request was used" || bad "refusal text" "$(cat "$TMP/err")"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM runs')" = 1 ] && ok "nothing of the second run was recorded" ||
	bad "second run recorded" "$(sqlite3 "$DB" 'SELECT id, status FROM runs')"
expect_rc "nor in another store" 2 "$ASSAY" run --suite "$A" --model baseline/null \
	--store "$TMP/other.db" "${APPS[@]}"
expect_rc "nor as a dry run of suite unseal" 2 "$ASSAY" suite unseal "$A" "${APPS[@]}"
[ "$(entries '"kind":"unseal.refused".*already used')" -ge 3 ] && ok "each refused reuse is audited" ||
	bad "reuse audited" "$(audit | grep refused)"
# a resume of a run another live process holds (a lease of another
# machine's, far from expiring) refuses before it opens the sealed suite:
# no unseal is attempted or audited, nothing of the run changes
now=$(($(date +%s) * 1000))
sqlite3 "$DB" "INSERT INTO leases VALUES('run', $RUN, 'elsewhere:1:n', 'elsewhere', 'other-machine', 1, 1, $now, $now, $((now + 3600000)))"
before=$(entries '"kind":"unseal')
state=$(sqlite3 "$DB" "SELECT status, (SELECT count(*) FROM episodes WHERE run_id=$RUN) FROM runs WHERE id=$RUN")
expect_rc "a resume of a run held by another live process refuses (exit 3)" 3 "$ASSAY" resume "$RUN" \
	--store "$DB" "${APPS[@]}"
grep -q "cannot execute run $RUN: .*held by" "$TMP/err" && ! grep -qi "unseal" "$TMP/err" &&
	ok "the refusal names the lease, not the archive" || bad "held refusal" "$(cat "$TMP/err")"
[ "$(entries '"kind":"unseal')" = "$before" ] &&
	[ "$(sqlite3 "$DB" "SELECT status, (SELECT count(*) FROM episodes WHERE run_id=$RUN) FROM runs WHERE id=$RUN")" = "$state" ] &&
	ok "the refused resume opened nothing: no unseal audited, the run unchanged" ||
	bad "refused resume touched the run" "$(audit | grep unseal | tail -2)"
sqlite3 "$DB" "DELETE FROM leases"
# the run it served may unseal again to resume
"$ASSAY" resume "$RUN" --store "$DB" "${APPS[@]}" >/dev/null 2>"$TMP/err" &&
	ok "a resume of the run it served unseals again" || bad "resume" "$(tail -3 "$TMP/err")"

# a bad approval (a flipped byte in its signature): refused and audited
"$ASSAY" suite request "$A" --run campaign-2 --reason "custody test 2" -o "$TMP/req2" >/dev/null 2>&1
"$ASSAY" keys approve "$TMP/req2" --archive "$A" --key "$K/cust-a.key" -o "$TMP/a2" >/dev/null 2>&1
"$ASSAY" keys approve "$TMP/req2" --archive "$A" --key "$K/cust-b.key" -o "$TMP/b2" >/dev/null 2>&1
python3 - "$TMP/b2" <<'PY'
import sys
p = sys.argv[1]; t = open(p).read().splitlines(True)
sig = t[-1]; i = len(sig) - 6
t[-1] = sig[:i] + ('A' if sig[i] != 'A' else 'B') + sig[i + 1:]
open(p, 'w').write(''.join(t))
PY
expect_rc "a tampered approval is refused" 3 "$ASSAY" run --suite "$A" --model baseline/null \
	--store "$DB" --request-key "$TMP/req2.key" --approval "$TMP/a2" --approval "$TMP/b2"
audit | grep '"kind":"unseal.refused"' | grep -q "does not verify" &&
	ok "the bad approval is audited as refused" || bad "bad approval audited" "$(audit | grep refused | tail -2)"

# verify on an archive whose first line is damaged
sed '1s/sealed/seeled/' "$A" >"$TMP/damaged.assay"
"$ASSAY" verify "$TMP/damaged.assay" --key "$K/sealer.pub" >/dev/null 2>"$TMP/err"
grep -q "damaged" "$TMP/err" && ! grep -q "DSSE" "$TMP/err" &&
	ok "verify says a damaged archive is damaged" || bad "damaged archive" "$(cat "$TMP/err")"
cp "$A" "$TMP/damaged2.assay"; printf 'X' | dd of="$TMP/damaged2.assay" bs=1 seek=0 count=1 conv=notrunc 2>/dev/null
"$ASSAY" verify "$TMP/damaged2.assay" --key "$K/sealer.pub" >/dev/null 2>"$TMP/err"
grep -q "damaged" "$TMP/err" && ok "... also with its first byte changed" || bad "damaged first byte" "$(cat "$TMP/err")"
finish
