#!/bin/bash
# `assay run --executor slurm` end to end on a single-node Slurm cluster
# (Debian's slurmctld, slurmd and munge, started here by tools/slurm.sh):
# the workers go in as a job array, every (task, epoch) is scored exactly
# once and the results equal a local run's; a worker killed mid-run (its
# node gone) loses its attempts to the other; Ctrl-C cancels the job and
# leaves nothing running; workers that cannot serve the run are submitted
# again, then the run stops incomplete with where their output is; a
# refused submission fails the run with sbatch's own message. The store
# is a SQLite file (tests/integration/slurm.sh passes on PostgreSQL too,
# with ASSAY_TEST_PG set; CI runs the SQLite variant for time).
set -u
. "$(dirname "$0")/../lib/testlib.sh"
SRC=$ASSAY_SOURCE_DIR
SL=$TMP/slurm
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	"$SRC/tools/slurm.sh" stop "$SL" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ] || ! command -v sbatch >/dev/null || ! [ -x /usr/sbin/slurmctld ] ||
	! [ -x /usr/sbin/munged ]; then
	skip_unless_ci "Slurm executor" "needs root, slurm-wlm and munge (tools/deps.sh)"
	finish; exit
fi
if ! SLURM_CONF=$("$SRC/tools/slurm.sh" start "$SL" 2>"$TMP/sl.err"); then
	bad "a single-node Slurm cluster" "$(tail -n 40 "$TMP/sl.err")"
	finish; exit
fi
export SLURM_CONF
ok "a single-node Slurm cluster ($(sinfo -h -o '%P %D node(s) %c CPUs'))"
chmod 755 "$TMP"
# the workers' output (slurm-assay-JOB_TASK.out) goes to the working dir
mkdir -p "$TMP/work"
cd "$TMP/work" || exit 1

S=$TMP/suite
mkdir -p "$S"
for i in 1 2 3; do
	cp -r "$SRC/tests/data/tasks/files-only" "$S/t$i"
	sed -i "s/^id: files-only/id: t$i/" "$S/t$i/task.yaml"
done
# mock NAME REPLY: a mock model answering REPLY to every call; its port
mock() {
	echo "$2" >"$TMP/$1.jsonl"
	"$MOCKMODEL" --script "$TMP/$1.jsonl" --loop --idle-exit 300 >"$TMP/$1.port" 2>/dev/null &
	pids="$pids $!"
	for _ in $(seq 50); do [ -s "$TMP/$1.port" ] && break; sleep 0.1; done
	cat "$TMP/$1.port"
}
SUBMIT='{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]},"latency_ms":700}'
P1=$(mock solve "$SUBMIT")
P2=$(mock gated '{"kind":"text","text":"thinking","gate":"'"$TMP"'/never"}')
export OPENAI_API_KEY=k ASSAY_LEASE_TTL_S=3
run_args() { echo --suite "$S" --model openai/m --base-url "http://127.0.0.1:$1/v1" --seed 7 --no-preflight; }
# live JOB: array tasks of JOB still pending or running
live() { squeue -h --array -j "$1" -o %T 2>/dev/null | wc -l; }
# once STORE RUN: "scored-once|scored-more|left-queued"
once() {
	echo "$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1) AS x")|$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1) AS x")|$(q "$1" "SELECT count(*) FROM episodes WHERE run_id=$2 AND status IN ('pending','running')")"
}

# options that only mean something with slurm, refused without it
DB=$(newdb main)
expect_rc "--workers without --executor slurm is a usage error" 2 \
	"$ASSAY" run $(run_args "$P1") --workers 2 --store "$DB"
grep -q -- '--workers is for --executor slurm' "$TMP/err" && ok "... naming the option" ||
	bad "usage text" "$(cat "$TMP/err")"

# 1. the reference, local; then the same run as a job array of 2 workers
LOCAL=$(newdb local)
"$ASSAY" run $(run_args "$P1") --epochs 4 -j 4 --store "$LOCAL" >/dev/null 2>"$TMP/local.err" ||
	bad "local run" "$(tail -2 "$TMP/local.err")"
timeout 300 "$ASSAY" run $(run_args "$P1") --epochs 4 -j 2 --executor slurm --workers 2 \
	--store "$DB" >"$TMP/s.out" 2>"$TMP/s.err"; rc=$?
R=$(q "$DB" "SELECT max(id) FROM runs")
JOB=$(sed -n 's/.*Slurm job \([0-9]*\), 2 workers x 2 slots.*/\1/p' "$TMP/s.err")
[ $rc -eq 0 ] && [ -n "$JOB" ] && ok "a run on a Slurm job array ($JOB) finishes with exit 0" ||
	bad "slurm run" "exit $rc: $(tail -3 "$TMP/s.err")"
[ "$(q "$DB" "SELECT status||' '||executor FROM runs WHERE id=$R")" = "done slurm" ] &&
	ok "the run is done, its executor journaled as slurm" || bad "run row" "$(q "$DB" "SELECT status, executor FROM runs")"
[ "$(once "$DB" "$R")" = "12|0|0" ] && ok "every (task, epoch) scored exactly once, nothing left queued" ||
	bad "exactly once" "$(once "$DB" "$R")"
names=$(q "$DB" "SELECT DISTINCT w.name FROM episodes e JOIN workers w ON w.id=e.worker WHERE e.run_id=$R ORDER BY 1" | tr '\n' ' ')
[ "$names" = "slurm-${JOB}_0 slurm-${JOB}_1 " ] && ok "both array tasks ran episodes ($names)" ||
	bad "workers" "'$names'"
for _ in $(seq 40); do [ "$(live "$JOB")" = 0 ] && break; sleep 0.25; done
[ "$(live "$JOB")" = 0 ] && ok "the workers exit once the run is concluded" ||
	bad "workers left" "$(squeue -h --array -j "$JOB")"
[ -s "slurm-assay-${JOB}_0.out" ] && grep -q "slurm-${JOB}_0" "slurm-assay-${JOB}_0.out" &&
	ok "each worker's output is in slurm-assay-JOB_TASK.out" || bad "worker output" "$(ls)"
"$ASSAY" report "$R" --store "$DB" --format json -o "$TMP/q.json" 2>/dev/null
"$ASSAY" report 1 --store "$LOCAL" --format json -o "$TMP/l.json" 2>/dev/null
res() { json_get "$1" 'j["totals"]["scored"], j["totals"]["solved"], sorted((t["id"], t["successes"], t["epochs"], t["unscored"]) for t in j["tasks"])' 2>&1; }
res "$TMP/l.json" | grep -q "^12 12 " && [ "$(res "$TMP/q.json")" = "$(res "$TMP/l.json")" ] &&
	ok "results equal the local run's on the same seed" ||
	bad "results vs local" "slurm: $(res "$TMP/q.json") local: $(res "$TMP/l.json")"

# 2. a node dies mid-run: its worker is killed with its attempts running
DB2=$(newdb dead)
timeout 300 "$ASSAY" run $(run_args "$P1") --epochs 4 -j 2 --executor slurm --workers 2 \
	--store "$DB2" >"$TMP/d.out" 2>"$TMP/d.err" &
coord=$!
pids="$pids $coord"
killed=""
for _ in $(seq 600); do
	J=$(sed -n 's/.*Slurm job \([0-9]*\),.*/\1/p' "$TMP/d.err")
	n=$(q "$DB2" "SELECT count(*) FROM episodes e JOIN workers w ON w.id=e.worker WHERE w.name='slurm-${J}_0' AND e.status='running'" 2>/dev/null)
	if [ -n "$J" ] && [ "${n:-0}" -ge 1 ]; then
		pkill -9 -f "slurm-${J}_0" && killed=$n
		break
	fi
	sleep 0.05
done
wait $coord; rc=$?
[ -n "$killed" ] && [ $rc -eq 0 ] && ok "a run whose worker is killed with $killed attempts running still finishes" ||
	bad "dead worker" "killed=$killed exit $rc: $(tail -3 "$TMP/d.err")"
R2=$(q "$DB2" "SELECT max(id) FROM runs")
[ "$(once "$DB2" "$R2")" = "12|0|0" ] && ok "... every (task, epoch) scored exactly once" ||
	bad "exactly once after a dead worker" "$(once "$DB2" "$R2")"
cut=$(q "$DB2" "SELECT count(*) FROM episodes e JOIN workers w ON w.id=e.worker WHERE w.name='slurm-${J}_0' AND e.outcome='infra-interrupted'")
[ -n "$killed" ] && [ "${cut:-0}" -ge "$killed" ] && ok "... its cut-off attempts are infra-interrupted ($cut) and ran again" ||
	bad "cut-off attempts" "cut=$cut killed=$killed"

# 3. Ctrl-C: the job is cancelled, its workers hand their attempts back
DB3=$(newdb int)
"$ASSAY" run $(run_args "$P2") --epochs 2 -j 2 --executor slurm --workers 2 \
	--store "$DB3" >"$TMP/i.out" 2>"$TMP/i.err" &
coord=$!
pids="$pids $coord"
for _ in $(seq 600); do
	[ "$(q "$DB3" "SELECT count(*) FROM episodes WHERE status='running'" 2>/dev/null)" -ge 2 ] 2>/dev/null && break
	sleep 0.05
done
J=$(sed -n 's/.*Slurm job \([0-9]*\),.*/\1/p' "$TMP/i.err")
R3=$(q "$DB3" "SELECT max(id) FROM runs")
script=$(scontrol write batch_script "$J" - 2>&1)
printf '%s' "$script" | grep -q "worker --run $R3 " && ! printf '%s' "$script" | grep -qF "$DB3" &&
	ok "the store reaches the workers in the job's environment, not in its batch script" ||
	bad "batch script" "$(printf '%s' "$script" | head -5)"
kill -INT $coord
wait $coord; rc=$?
[ $rc -eq 130 ] && grep -q "cancelled Slurm job $J" "$TMP/i.err" && ok "Ctrl-C cancels the Slurm job (exit 130)" ||
	bad "interrupt" "exit $rc: $(tail -3 "$TMP/i.err")"
[ -n "$J" ] && [ "$(live "$J")" = 0 ] && ok "... no worker is left when it returns" ||
	bad "workers after Ctrl-C" "$(squeue -h --array -j "$J")"
[ "$(q "$DB3" "SELECT status FROM runs WHERE id=$R3")|$(q "$DB3" "SELECT count(*) FROM episodes WHERE status='running'")" = "interrupted|0" ] &&
	ok "... the run is interrupted, no attempt left running" ||
	bad "after Ctrl-C" "$(q "$DB3" "SELECT status FROM runs") running=$(q "$DB3" "SELECT count(*) FROM episodes WHERE status='running'")"

# 4. workers that cannot serve the run (here: another store): submitted
# again, then the run stops incomplete and says where their output is
DB4=$(newdb gone)
timeout 300 "$ASSAY" run $(run_args "$P1") --executor slurm --workers 1 \
	--slurm-arg="--export=ALL,ASSAY_STORE=$TMP/elsewhere.db" --store "$DB4" >"$TMP/g.out" 2>"$TMP/g.err"; rc=$?
subs=$(grep -c "submitting its workers again" "$TMP/g.err")
[ $rc -eq 3 ] && [ "$subs" = 3 ] && grep -q "after 4 submissions; the workers' output is in slurm-assay-" "$TMP/g.err" &&
	ok "workers that cannot serve the run: 3 resubmissions, then exit 3 naming their output" ||
	bad "workers gone" "exit $rc subs=$subs: $(tail -3 "$TMP/g.err")"
[ "$(q "$DB4" "SELECT status FROM runs")" = incomplete ] && ok "... the run is incomplete (resumable)" ||
	bad "status" "$(q "$DB4" "SELECT status FROM runs")"

# 5. sbatch refuses the job: the run fails with sbatch's message
DB5=$(newdb part)
expect_rc "a refused submission exits 3" 3 "$ASSAY" run $(run_args "$P1") --executor slurm \
	--partition nope --store "$DB5"
grep -q "sbatch: exit 1: sbatch: error: invalid partition specified: nope" "$TMP/err" &&
	ok "... with sbatch's own message" || bad "sbatch message" "$(cat "$TMP/err")"
[ "$(q "$DB5" "SELECT status FROM runs")" = failed ] && ok "... and the run marked failed, not left queued" ||
	bad "status" "$(q "$DB5" "SELECT status FROM runs")"
# 6. the program service's campaigns on Slurm (its store is SQLite)
if ! is_pg; then
	out=$(python3 "$SRC/tests/lib/serve_slurm.py" 2>&1); rc=$?
	printf '%s\n' "$out" | sed '$d'
	last=$(printf '%s\n' "$out" | tail -1)
	p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	T_PASSED=$((T_PASSED + ${p:-0})); T_FAILED=$((T_FAILED + ${f:-0}))
	[ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || bad "serve_slurm.py" "exit $rc: $last"
fi
# 7. a sealed suite on the job array: the node's worker key (its path
# given with --worker-key-file, its public half registered with
# --worker-key) gets the run's task keys; without either it is refused
K=$TMP/keys
export ASSAY_PASSPHRASE="slurm sealed test"
mkdir -p "$K"
for c in cust-a cust-b; do "$ASSAY" keys create "$c" --custodian --dir "$K" >/dev/null 2>&1; done
"$ASSAY" keys create sealer --dir "$K" >/dev/null 2>&1
"$ASSAY" suite seal "$S" -o "$TMP/s.assay" --custodian "$K/cust-a.pub" --custodian "$K/cust-b.pub" \
	--threshold 2 --sign "$K/sealer.key" >/dev/null 2>"$TMP/err" || bad "seal" "$(cat "$TMP/err")"
"$ASSAY" suite request "$TMP/s.assay" --run sl --reason test -o "$TMP/sl" >/dev/null 2>&1
for c in a b; do
	"$ASSAY" keys approve "$TMP/sl" --archive "$TMP/s.assay" --key "$K/cust-$c.key" -o "$TMP/sl-$c" >/dev/null 2>&1
done
"$ASSAY" keys worker-new "$TMP/node.key" >"$TMP/node.pub" 2>"$TMP/err" || bad "worker-new" "$(cat "$TMP/err")"
# serve's worker keys (sealed campaigns on Slurm): checked at its start
# (--routes: it exits there, listening nowhere)
NPUB=$(cat "$TMP/node.pub")
expect_rc "serve: --worker-key without --worker-key-file is a usage error" 2 \
	"$ASSAY" serve --executor slurm --worker-key "$NPUB" --routes
grep -q "go together" "$TMP/err" && ok "... saying they go together" || bad "message" "$(cat "$TMP/err")"
expect_rc "serve: worker keys without --executor slurm are a usage error" 2 \
	"$ASSAY" serve --worker-key "$NPUB" --worker-key-file "$TMP/node.key" --routes
expect_rc "serve: a malformed worker key is refused at the start" 2 \
	"$ASSAY" serve --executor slurm --worker-key "${NPUB%??}zz" --worker-key-file "$TMP/node.key" --routes
grep -q -- "--worker-key" "$TMP/err" && ok "... naming the option" || bad "message" "$(cat "$TMP/err")"
expect_rc "serve: the node's key file is accepted" 0 \
	"$ASSAY" serve --executor slurm --worker-key "$TMP/node.pub" --worker-key-file "$TMP/node.key" --routes
SEALED="--suite $TMP/s.assay --model openai/m --base-url http://127.0.0.1:$P1/v1 --seed 7 --no-preflight \
 --request-key $TMP/sl.key --approval $TMP/sl-a --approval $TMP/sl-b"
DB7=$(newdb sealed)
# shellcheck disable=SC2086
expect_rc "a sealed suite on Slurm without --worker-key-file is refused (before the unseal)" 2 \
	"$ASSAY" run $SEALED --executor slurm --workers 1 --worker-key "$TMP/node.pub" --store "$DB7"
grep -q -- "--worker-key-file" "$TMP/err" && ok "... naming the option" || bad "message" "$(cat "$TMP/err")"
# shellcheck disable=SC2086
timeout 300 "$ASSAY" run $SEALED --epochs 2 -j 2 --executor slurm --workers 1 \
	--worker-key "$TMP/node.pub" --worker-key-file "$TMP/node.key" --store "$DB7" \
	>"$TMP/sl.out" 2>"$TMP/sl.err"; rc=$?
R7=$(q "$DB7" "SELECT max(id) FROM runs")
[ $rc -eq 0 ] && [ "$(once "$DB7" "$R7")" = "6|0|0" ] &&
	ok "a sealed run on a Slurm job array: every (task, epoch) scored once" ||
	bad "sealed slurm" "exit $rc $(once "$DB7" "$R7" 2>&1): $(tail -3 "$TMP/sl.err")"
J7=$(sed -n 's/.*Slurm job \([0-9]*\),.*/\1/p' "$TMP/sl.err")
grep -q "worker.unwrap" "$ASSAY_HOME/audit/log" 2>/dev/null &&
	ok "... its worker unwrapped the task keys with the node's key (audited)" ||
	bad "unwrap audit" "$(ls "$ASSAY_HOME/audit" 2>&1)"
[ "$(q "$DB7" "SELECT count(*) FROM episodes e JOIN workers w ON w.id=e.worker WHERE e.run_id=$R7 AND w.name LIKE 'slurm-${J7}_%'")" = 6 ] &&
	ok "... by the job's worker" || bad "sealed workers" "$(q "$DB7" "SELECT DISTINCT worker FROM episodes")"
san=$(grep -l "Sanitizer\|runtime error:" slurm-assay-*.out 2>/dev/null | head -3)
[ -z "$san" ] && ok "no worker reported a sanitizer error ($(ls slurm-assay-*.out | wc -l) outputs)" ||
	bad "sanitizer in a worker" "$san: $(grep -h -m3 "Sanitizer\|runtime error:" $san)"
finish
