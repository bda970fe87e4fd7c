#!/bin/bash
# Issue #12 on PostgreSQL: a kill -9 of `assay run` / `resume` while one of
# the loop's grouped writes is open (its session seen "idle in
# transaction" or running COMMIT in pg_stat_activity, the process stopped
# there with SIGSTOP), and the server ending assay's session mid-run
# (pg_terminate_backend): the run stops, the store stays consistent, and
# resumes end with every (task, epoch) scored exactly once.
# ASSAY_PG_CLUSTER=DIR: use that running cluster (.ci/run starts one).
set -u
. "$(dirname "$0")/../lib/testlib.sh"
TASK=$ASSAY_SOURCE_DIR/tests/data/tasks/files-only
PGDIR=$TMP/pg
MOCK_PID=""
trap '[ -n "$MOCK_PID" ] && kill $MOCK_PID 2>/dev/null; "$ASSAY_SOURCE_DIR/tools/pg.sh" stop "$PGDIR" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
if [ -n "${ASSAY_PG_CLUSTER:-}" ] && [ -f "$ASSAY_PG_CLUSTER/port" ]; then
	PGDIR=$ASSAY_PG_CLUSTER
	trap '[ -n "$MOCK_PID" ] && kill $MOCK_PID 2>/dev/null; rm -rf "$TMP"' EXIT
fi
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v psql >/dev/null; then
	skip_unless_ci "PostgreSQL faults" "PostgreSQL is not installed (tools/deps.sh)"
	finish; exit
fi
chmod 755 "$TMP"
if [ "$PGDIR" != "${ASSAY_PG_CLUSTER:-}" ] &&
   ! "$ASSAY_SOURCE_DIR/tools/pg.sh" start "$PGDIR" >"$TMP/url" 2>"$TMP/pg.err"; then
	bad "a PostgreSQL cluster on loopback" "$(tail -5 "$TMP/pg.err")"
	finish; exit
fi
export ASSAY_TEST_PG=$PGDIR OPENAI_API_KEY=k

printf '%s\n' '{"kind":"tool_call","name":"bash","arguments":{"cmd":"head -c 2000 /dev/urandom | base64"},"latency_ms":30}' \
	'{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]}}' >"$TMP/s.jsonl"
"$MOCKMODEL" --script "$TMP/s.jsonl" --loop --idle-exit 300 >"$TMP/port" &
MOCK_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
URL=http://127.0.0.1:$(cat "$TMP/port")/v1

exactly_once() {   # STORE RUN PAIRS
	local one more dup left
	one=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1) AS x")
	more=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 AND status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1) AS x")
	dup=$(q "$1" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE run_id=$2 GROUP BY task_id, epoch, attempt HAVING count(*)>1) AS x")
	left=$(q "$1" "SELECT count(*) FROM episodes WHERE run_id=$2 AND status IN ('running','pending')")
	[ "$one" = "$3" ] && [ "$more" = 0 ] && [ "$dup" = 0 ] && [ "$left" = 0 ] && return 0
	echo "one=$one (want $3) more-than-one=$more dup-attempts=$dup left-running=$left"
	return 1
}
wait_for() {   # wait_for STORE SQL: until it prints something but 0
	local v
	for _ in $(seq 1 600); do
		v=$(q "$1" "$2" 2>/dev/null)
		[ -n "$v" ] && [ "$v" != 0 ] && return 0
		sleep 0.05
	done
	return 1
}
# assay's sessions on the store's database, in a write group
in_group() {
	q "$1" "SELECT count(*) FROM pg_stat_activity WHERE datname=current_database()
		AND pid != pg_backend_pid() AND application_name='assay'
		AND (state LIKE 'idle in transaction%' OR (state='active' AND query ILIKE 'COMMIT%'))"
}

# ---- kill -9 inside a grouped write -----------------------------------
S=$(newdb kill)
inside=0; tries=0
for i in $(seq 1 8); do
	run=$(q "$S" "SELECT max(id) FROM runs" 2>/dev/null)
	if [ -z "$run" ]; then
		"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 24 -j 4 \
			--store "$S" >/dev/null 2>"$TMP/k$i.err" &
	else
		"$ASSAY" resume "$run" --store "$S" >/dev/null 2>"$TMP/k$i.err" &
	fi
	pid=$!
	# into the loop first (a fresh store's schema and the run's creation
	# are groups too, but a kill there leaves nothing to check): the run
	# has a finished episode, or this resume holds the run's lease
	if [ -z "$run" ]; then
		wait_for "$S" "SELECT count(*) FROM episodes WHERE status='done'"
	else
		wait_for "$S" "SELECT count(*) FROM leases WHERE scope='run' AND ref=$run AND pid=$pid"
	fi
	hit=0
	# stop the process at random instants until it is stopped inside a
	# group (its session has an open transaction), then kill it there
	for _ in $(seq 1 300); do
		kill -0 $pid 2>/dev/null || break
		tries=$((tries + 1))
		kill -STOP $pid 2>/dev/null
		if [ "$(in_group "$S")" != 0 ]; then hit=1; break; fi
		kill -CONT $pid 2>/dev/null
		sleep "0.0$((RANDOM % 5))"
	done
	kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	inside=$((inside + hit))
done
run=$(q "$S" "SELECT max(id) FROM runs")
rc=1
for _ in 1 2 3; do
	"$ASSAY" resume "$run" --store "$S" >/dev/null 2>"$TMP/final.err" && { rc=0; break; }
	sleep 1
done
[ "$inside" -ge 4 ] && ok "kill -9 inside a grouped write on PostgreSQL: $inside of 8 kills landed in one" ||
	bad "kills inside a group" "only $inside of 8 kills landed inside a group ($tries stops)"
m=$(exactly_once "$S" "$run" 24) && [ $rc = 0 ] && [ "$(q "$S" "SELECT status FROM runs WHERE id=$run")" = done ] &&
	ok "after kills inside grouped writes and a resume: done, exactly one scored attempt per pair" ||
	bad "exactly once (PostgreSQL kills)" "rc=$rc $m $(tail -2 "$TMP/final.err")"
"$ASSAY" report "$run" --store "$S" --format json -o "$TMP/r.json" 2>/dev/null
[ "$(json_get "$TMP/r.json" 'j["totals"]["scored"], j["totals"]["unscored"]')" = "24 0" ] &&
	ok "report and resume agree on PostgreSQL (24 of 24 scored)" || bad "report" "$(json_get "$TMP/r.json" 'j["totals"]')"

# ---- the server ends assay's session mid-run -----------------------------
S2=$(newdb term)
"$ASSAY" run --suite "$TASK" --model openai/m --base-url "$URL" --epochs 24 -j 4 \
	--store "$S2" >/dev/null 2>"$TMP/t.err" &
pid=$!
for _ in $(seq 1 400); do
	[ "$(q "$S2" "SELECT count(*) FROM episodes WHERE status='done'" 2>/dev/null)" -ge 3 ] 2>/dev/null && break
	sleep 0.05
done
q "$S2" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname=current_database() AND pid != pg_backend_pid() AND application_name='assay'" >/dev/null
t0=$(date +%s)
wait $pid; rc=$?
el=$(( $(date +%s) - t0 ))
st=$(q "$S2" "SELECT status FROM runs WHERE id=1")
[ $rc = 3 ] && [ $el -le 60 ] && grep -qi "store\|connection\|terminat" "$TMP/t.err" &&
	ok "the server ends assay's session mid-run: exit 3 within a minute, says why (run left $st)" ||
	bad "session ended" "rc=$rc ${el}s status=$st $(tail -3 "$TMP/t.err")"
expect_rc "resume after the session was ended: done" 0 "$ASSAY" resume 1 --store "$S2"
m=$(exactly_once "$S2" 1 24) && ok "session ended mid-run, then resume: exactly one scored attempt per pair" ||
	bad "exactly once (session ended)" "$m"

finish
