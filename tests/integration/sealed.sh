#!/bin/bash
# A sealed suite end to end: seal with two custodians, ask for an unseal,
# run the sealed suite with both approvals (content only in memory), refuse
# a run with one, audit every step, and keep the exposure ledger.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
export ASSAY_PASSPHRASE="sealed test passphrase"
K=$ASSAY_HOME/keys
DB=$TMP/assay.db
A=$TMP/suite.assay
mkdir -p "$K"
for c in cust-a cust-b; do "$ASSAY" keys create "$c" --custodian --dir "$K" >/dev/null 2>&1; done
"$ASSAY" keys create sealer --dir "$K" >/dev/null 2>&1
if "$ASSAY" suite seal "$ASSAY_SOURCE_DIR/tests/data/tasks" -o "$A" --custodian "$K/cust-a.pub" \
	--custodian "$K/cust-b.pub" --threshold 2 --sign "$K/sealer.key" >/dev/null 2>"$TMP/err"; then
	ok "seal the example tasks for two custodians"
else bad "seal" "$(cat "$TMP/err")"; fi
"$ASSAY" suite request "$A" --run campaign-1 --reason "integration test" -o "$TMP/req" >/dev/null 2>&1
"$ASSAY" keys approve "$TMP/req" --archive "$A" --key "$K/cust-a.key" -o "$TMP/app-a" >/dev/null 2>&1
"$ASSAY" keys approve "$TMP/req" --archive "$A" --key "$K/cust-b.key" -o "$TMP/app-b" >/dev/null 2>&1

# one approval is not enough: refused before anything runs
expect_rc "one approval of two is refused" 2 "$ASSAY" run --suite "$A" --model baseline/oracle \
	--store "$DB" --request-key "$TMP/req.key" --approval "$TMP/app-a"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM runs' 2>/dev/null || echo 0)" = 0 ] &&
	ok "nothing was run or recorded" || bad "nothing recorded" "runs exist"
expect_rc "the same custodian twice is refused" 2 "$ASSAY" run --suite "$A" --model baseline/oracle \
	--store "$DB" --request-key "$TMP/req.key" --approval "$TMP/app-a" --approval "$TMP/app-a"
expect_rc "no approvals at all is refused" 2 "$ASSAY" run --suite "$A" --model baseline/oracle --store "$DB"
grep -q "sealed" "$TMP/err" && ok "the message says the suite is sealed" || bad "sealed message" "$(cat "$TMP/err")"

# with both: the oracle solves every task; nothing decrypted reaches disk.
# The command gets its own TMPDIR, store and home, all under $TMP, and only
# those are scanned: other checkouts on this machine copy the same tasks.
mkdir -p "$TMP/cmdtmp"
touch "$TMP/marker"
out=$(TMPDIR=$TMP/cmdtmp "$ASSAY" run --suite "$A" --model baseline/oracle --store "$DB" --json \
	--request-key "$TMP/req.key" --approval "$TMP/app-a" --approval "$TMP/app-b" 2>"$TMP/err")
solved=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["solved"])' 2>/dev/null)
[ "$solved" = 3 ] && ok "sealed suite runs: oracle solves 3/3" || bad "sealed run" "$out $(tail -3 "$TMP/err")"
# the service's source has a distinctive line; it must not be on any disk
needle="word == b\"please\""
leak=$(find "$TMP/cmdtmp" "$(dirname "$DB")" "$ASSAY_HOME" -xdev -type f -newer "$TMP/marker" -size -2M 2>/dev/null |
	xargs -r grep -lF "$needle" 2>/dev/null | head -3)
[ -z "$leak" ] && ok "no decrypted task file written to disk" || bad "decrypted content on disk" "$leak"

# the same digest as the plain directory: results are comparable
plain=$("$ASSAY" run --suite "$ASSAY_SOURCE_DIR/tests/data/tasks" --model baseline/null --store "$DB" --json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])')
d1=$(sqlite3 "$DB" "SELECT suite_digest FROM runs WHERE id=1"); d2=$(sqlite3 "$DB" "SELECT suite_digest FROM runs WHERE id=$plain")
[ -n "$d1" ] && [ "$d1" = "$d2" ] && ok "sealed and plain suites have the same content digest" ||
	bad "digest" "$d1 vs $d2"

# the audit log holds the unseal and the run, and verifies
"$ASSAY" audit log >"$TMP/audit" 2>&1
grep -q '"unseal"\|unseal' "$TMP/audit" && grep -q "run.start" "$TMP/audit" && grep -q "run.finish" "$TMP/audit" &&
	ok "audit log: unseal, run.start, run.finish" || bad "audit entries" "$(head -c 600 "$TMP/audit")"
grep -q "please" "$TMP/audit" && bad "audit log holds task text" "" || ok "audit log holds no task text"

# exposure: a remote model saw the files-only task; the ledger says so
printf '%s\n' '{"kind":"tool_call","name":"submit","arguments":{"flag":"x"}}' >"$TMP/s.jsonl"
"$MOCKMODEL" --script "$TMP/s.jsonl" --loop --idle-exit 60 >"$TMP/port" &
mock=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
OPENAI_API_KEY=k "$ASSAY" run --suite "$ASSAY_SOURCE_DIR/tests/data/tasks/files-only" --model openai/m \
	--base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" --developer acme --store "$DB" >/dev/null 2>&1
kill $mock; wait $mock 2>/dev/null
"$ASSAY" suite exposure "$A" --developer acme --store "$DB" >"$TMP/exp" 2>&1
if grep -q "files-only .*acme" "$TMP/exp" && grep -q "2 of 3 tasks never exposed to 'acme'" "$TMP/exp"; then
	ok "exposure ledger: files-only exposed to acme, 2 of 3 never"
else bad "exposure" "$(cat "$TMP/exp")"; fi
"$ASSAY" suite exposure "$A" --developer other --store "$DB" | grep -q "3 of 3 tasks never exposed" &&
	ok "exposure ledger: baselines expose nothing" || bad "baselines exposure" ""

finish
