#!/bin/bash
# A sealed suite on workers (issue 15, item 4), on PostgreSQL: the
# coordinator unseals with the custodians' approvals and wraps the task
# keys to the registered workers' public keys only. Two registered
# workers run it: every (task, epoch) scored exactly once, the results
# equal a local sealed run's. A worker without a key and one with an
# unregistered key get nothing; a worker revoked while it runs stops
# claiming. No plaintext of the sealed tasks (a marker in a prompt and in
# a file the agent reads) is in the database (pg_dump) or in the workers'
# directories. ASSAY_PG_CLUSTER=DIR: use that running cluster.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
SRC=$ASSAY_SOURCE_DIR
PGDIR=$TMP/pg
own_pg=1
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	[ -n "$own_pg" ] && "$SRC/tools/pg.sh" stop "$PGDIR" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
if [ -n "${ASSAY_PG_CLUSTER:-}" ] && [ -f "$ASSAY_PG_CLUSTER/port" ]; then
	PGDIR=$ASSAY_PG_CLUSTER
	own_pg=""
fi
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v psql >/dev/null; then
	skip_unless_ci "sealed runs on workers" "PostgreSQL is not installed (tools/deps.sh)"
	finish; exit
fi
chmod 755 "$TMP"
if [ -n "$own_pg" ] && ! "$SRC/tools/pg.sh" start "$PGDIR" >/dev/null 2>"$TMP/pg.err"; then
	bad "PostgreSQL on this host" "$(tail -3 "$TMP/pg.err")"
	finish; exit
fi
URL=$("$SRC/tools/pg.sh" createdb "$PGDIR" "sw$$_$RANDOM")

export ASSAY_PASSPHRASE="sealed workers test" OPENAI_API_KEY=k ASSAY_LEASE_TTL_S=3
K=$ASSAY_HOME/keys
mkdir -p "$K"
# four copies of files-only; the marker is in every prompt and in the
# note the agent cats (so it is in the transcripts' tool output too)
MARK=zq-sealed-marker-$$-$RANDOM
S=$TMP/suite
mkdir -p "$S"
for i in 1 2 3 4; do
	cp -r "$SRC/tests/data/tasks/files-only" "$S/t$i"
	sed -i "s/^id: files-only/id: t$i/; s/^prompt: \"/prompt: \"$MARK /" "$S/t$i/task.yaml"
	echo "$MARK" >>"$S/t$i/files/note.txt"
done
A=$TMP/suite.assay
for c in cust-a cust-b; do "$ASSAY" keys create "$c" --custodian --dir "$K" >/dev/null 2>&1; done
"$ASSAY" keys create sealer --dir "$K" >/dev/null 2>&1
"$ASSAY" suite seal "$S" -o "$A" --custodian "$K/cust-a.pub" --custodian "$K/cust-b.pub" \
	--threshold 2 --sign "$K/sealer.key" >/dev/null 2>"$TMP/err" || bad "seal" "$(cat "$TMP/err")"
rm -rf "$S"
approvals() {   # approvals NAME: a request for run NAME and both approvals
	"$ASSAY" suite request "$A" --run "$1" --reason test -o "$TMP/$1" >/dev/null 2>&1
	for c in a b; do
		"$ASSAY" keys approve "$TMP/$1" --archive "$A" --key "$K/cust-$c.key" -o "$TMP/$1-$c" >/dev/null 2>&1
	done
}
approvals local
approvals queued
approvals orphan
for w in w1 w2 w3 w4; do
	mkdir -p "$TMP/$w/tmp"
	"$ASSAY" keys worker-new "$TMP/$w/key" >"$TMP/$w/pub" 2>"$TMP/err" || bad "worker-new $w" "$(cat "$TMP/err")"
done
[ "$(stat -c %a "$TMP/w1/key")" = 600 ] && grep -q '^assay-worker-v1:[0-9a-f]\{64\}$' "$TMP/w1/pub" &&
	ok "worker-new: a 0600 secret key, a printable public key" || bad "worker-new" "$(cat "$TMP/w1/pub")"

# every call: cat the note, then submit (after 0.6 s): episodes last long
# enough for a worker to be revoked while it runs one
printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"cat note.txt"}}' \
	'{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]},"latency_ms":600}' >"$TMP/s.jsonl"
"$MOCKMODEL" --script "$TMP/s.jsonl" --loop --idle-exit 300 >"$TMP/port" 2>/dev/null &
pids="$pids $!"
disown $!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
RUN=(--suite "$A" --model openai/m --base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" --epochs 2 --seed 3 --no-preflight)
ap() { echo --request-key "$TMP/$1.key" --approval "$TMP/$1-a" --approval "$TMP/$1-b"; }

# the reference: the same sealed run, local
"$ASSAY" run "${RUN[@]}" $(ap local) --store "$TMP/local.db" -j 4 --json >/dev/null 2>"$TMP/local.err" ||
	bad "local sealed run" "$(tail -2 "$TMP/local.err")"

expect_rc "a sealed suite for workers without --worker-key is refused" 2 \
	"$ASSAY" run "${RUN[@]}" $(ap queued) --executor workers --store "$URL"
grep -q -- "--worker-key" "$TMP/err" || bad "no-key message" "$(cat "$TMP/err")"

# the queued run: w1, w2, w4 registered (w3 not); w4 is revoked once it runs
timeout 120 "$ASSAY" run "${RUN[@]}" $(ap queued) --executor workers --store "$URL" \
	--worker-key "$TMP/w1/pub" --worker-key "$(cat "$TMP/w2/pub")" --worker-key "$TMP/w4/pub" \
	--json >"$TMP/coord.out" 2>"$TMP/coord.err" &
coord=$!
pids="$pids $coord"
for _ in $(seq 1 200); do [ "$(q "$URL" "SELECT status FROM runs WHERE id=1" 2>/dev/null)" = queued ] && break; sleep 0.05; done
worker() {   # worker NAME ARGS...: in its own directory and TMPDIR
	local n=$1; shift
	(cd "$TMP/$n" && TMPDIR=$TMP/$n/tmp exec "$ASSAY" worker --store "$URL" --name "$n" "$@" 2>"$TMP/$n.err")
}
mkdir -p "$TMP/w0/tmp"
worker w0 --run 1; rc=$?
[ $rc = 2 ] && grep -q "is sealed: this worker has no key" "$TMP/w0.err" &&
	ok "a worker without a key is refused a sealed run, saying so" || bad "no key" "rc $rc: $(cat "$TMP/w0.err")"
worker w3 --key "$TMP/w3/key" --run 1; rc=$?
[ $rc = 2 ] && grep -q "is not registered for it" "$TMP/w3.err" &&
	ok "a worker whose key is not registered is refused, naming its key" || bad "unregistered" "rc $rc: $(cat "$TMP/w3.err")"
n=$(q "$URL" "SELECT count(*) FROM episodes e JOIN workers w ON w.id=e.worker WHERE w.name IN ('w0','w3')")
[ "$n" = 0 ] && ok "they claimed no episode" || bad "unregistered claims" "$n episodes"

worker w4 --key "$TMP/w4/key" --run 1 --slots 1 &
w4=$!
pids="$pids $w4"
w4n() { q "$URL" "SELECT count(*) FROM episodes e JOIN workers w ON w.id=e.worker WHERE w.name='w4'" 2>/dev/null; }
for _ in $(seq 1 200); do [ "$(w4n)" -ge 1 ] 2>/dev/null && break; sleep 0.05; done
"$ASSAY" keys worker-revoke "$TMP/w4/pub" --run 1 --store "$URL" 2>"$TMP/err" || bad "revoke" "$(cat "$TMP/err")"
had=$(w4n)
worker w1 --key "$TMP/w1/key" --slots 2 --idle-exit 2 &
w1=$!
worker w2 --key "$TMP/w2/key" --slots 2 --idle-exit 2
wait $w1
wait $coord; rc=$?
wait $w4; w4rc=$?
[ $rc -eq 0 ] && ok "the sealed run finishes on the workers" || bad "queued run" "exit $rc: $(tail -3 "$TMP/coord.err")"
[ "$had" -ge 1 ] && [ "$(w4n)" = "$had" ] && [ $w4rc = 2 ] && grep -q "was revoked" "$TMP/w4.err" &&
	ok "the worker revoked while it ran claimed nothing more ($had before), and says it was revoked" ||
	bad "revoked worker" "had $had, now $(w4n), rc $w4rc: $(tail -2 "$TMP/w4.err")"
[ "$(q "$URL" "SELECT count(*) FROM run_wrapped_keys WHERE pubkey='$(cat "$TMP/w4/pub")'")" = 0 ] &&
	[ "$(q "$URL" "SELECT count(*) FROM run_wrapped_keys")" = 8 ] &&
	ok "its wrapped keys are gone, the others' kept (2 x 4 tasks)" || bad "wrapped keys" "$(q "$URL" "SELECT pubkey, count(*) FROM run_wrapped_keys GROUP BY pubkey")"
ran=$(q "$URL" "SELECT count(DISTINCT w.name) FROM episodes e JOIN workers w ON w.id=e.worker WHERE w.name IN ('w1','w2') AND e.status='done'")
[ "$ran" = 2 ] && ok "both registered workers ran episodes" || bad "two workers" "$ran ran"
one=$(q "$URL" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1) AS x")
more=$(q "$URL" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1) AS x")
[ "$one|$more" = "8|0" ] && ok "every (task, epoch) scored exactly once" || bad "exactly once" "once=$one more=$more"
"$ASSAY" report 1 --store "$URL" --format json -o "$TMP/q.json" 2>/dev/null
"$ASSAY" report 1 --store "$TMP/local.db" --format json -o "$TMP/l.json" 2>/dev/null
res() { json_get "$1" 'j["totals"]["scored"], j["totals"]["solved"], sorted((t["id"], t["successes"], t["epochs"], t["unscored"]) for t in j["tasks"])' 2>&1; }
res "$TMP/l.json" | grep -q "^8 8 " && [ "$(res "$TMP/q.json")" = "$(res "$TMP/l.json")" ] &&
	ok "results equal the local sealed run's" || bad "results vs local" "workers: $(res "$TMP/q.json") local: $(res "$TMP/l.json")"

# the marker reached the model (a reader with the at-rest key sees it)...
ep=$(q "$URL" "SELECT min(id) FROM episodes WHERE status='done'")
"$ASSAY" show --store "$URL" --episode "$ep" --raw >"$TMP/show" 2>&1
[ "$(grep -c "$MARK" "$TMP/show")" -ge 2 ] && ok "the transcript holds the marker, in the prompt and in tool output" ||
	bad "marker in the transcript" "$(head -c 300 "$TMP/show")"
# ...but is nowhere at rest
pg_dump "$URL" >"$TMP/dump.sql" 2>"$TMP/err" || bad "pg_dump" "$(cat "$TMP/err")"
[ -s "$TMP/dump.sql" ] && ! grep -q "$MARK" "$TMP/dump.sql" && grep -q "run_wrapped_keys" "$TMP/dump.sql" &&
	ok "pg_dump of the database holds no plaintext of the sealed tasks" || bad "plaintext in the database" "$(grep -m2 -o ".\{40\}$MARK.\{20\}" "$TMP/dump.sql")"
leak=$(grep -rlF "$MARK" "$TMP"/w[0-4] "$ASSAY_HOME" 2>/dev/null | head -3)
[ -z "$leak" ] && ok "no plaintext in the workers' directories or the home" || bad "plaintext on disk" "$leak"
"$ASSAY" audit log >"$TMP/audit" 2>&1
[ "$(grep -c '"worker.key"' "$TMP/audit")" = 3 ] && grep -q '"worker.unwrap"' "$TMP/audit" &&
	grep -q '"worker.revoke"' "$TMP/audit" && ! grep -q "$MARK" "$TMP/audit" &&
	ok "audit log: 3 registrations, the unwraps, the revocation; no task text" || bad "audit" "$(grep -o '"kind":"worker[^"]*"' "$TMP/audit" | sort | uniq -c)"

# a queued sealed run whose coordinator died before any worker came:
# `assay resume` with the run's own request and approvals finishes it
# here (another run's approvals are refused), every pair scored once
"$ASSAY" run "${RUN[@]}" $(ap orphan) --executor workers --store "$URL" \
	--worker-key "$TMP/w1/pub" >/dev/null 2>"$TMP/orphan.err" &
coord=$!
pids="$pids $coord"
for _ in $(seq 1 200); do [ "$(q "$URL" "SELECT status FROM runs WHERE id=2" 2>/dev/null)" = queued ] && break; sleep 0.05; done
kill -9 $coord; wait $coord 2>/dev/null
[ "$(q "$URL" "SELECT status FROM runs WHERE id=2")" = queued ] || bad "orphaned queued run" "$(cat "$TMP/orphan.err")"
sleep 4   # its lease expires (ASSAY_LEASE_TTL_S=3)
expect_rc "resume of a queued sealed run with another run's approvals is refused" 2 \
	"$ASSAY" resume 2 --store "$URL" $(ap queued) --quiet
grep -q "already used" "$TMP/err" && ok "... and the refusal says its approvals were already used" ||
	bad "refusal reason" "$(head -c 400 "$TMP/err")"
"$ASSAY" resume 2 --store "$URL" $(ap orphan) --quiet >/dev/null 2>"$TMP/resume.err"; rc=$?
one=$(q "$URL" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1) AS x")
more=$(q "$URL" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1) AS x")
[ $rc = 0 ] && [ "$(q "$URL" "SELECT status FROM runs WHERE id=2")" = done ] && [ "$one|$more" = "8|0" ] &&
	ok "resume finishes a queued sealed run whose coordinator died: done, every pair once" ||
	bad "resume of a queued sealed run" "rc $rc once=$one more=$more: $(tail -3 "$TMP/resume.err")"
"$ASSAY" report 2 --store "$URL" --format json -o "$TMP/r.json" 2>/dev/null
[ "$(res "$TMP/r.json")" = "$(res "$TMP/l.json")" ] &&
	ok "... with the local sealed run's results" || bad "resumed results" "$(res "$TMP/r.json")"
finish
