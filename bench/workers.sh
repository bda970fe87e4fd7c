#!/bin/bash
# bench/workers.sh BUILD_DIR [EPISODES] - assay worker on PostgreSQL: the
# same queued run (EPISODES, default 400, of a task whose agent makes two
# model calls of 1 s each against the mock model) by 1 worker and by 2
# workers of --slots 50, on one throwaway cluster (tools/pg.sh), and what
# PostgreSQL pays per episode (pg_stat_statements, pg_stat_database, the
# database's size). Then the same by 1 and 2 workers with the task sealed
# (custodians' approvals, task keys wrapped to each worker's key, tasks
# decrypted into the workers' locked memory): what sealing costs on
# workers. Prints a Markdown section for BENCHMARKS.md.
set -eu
build=$(cd "${1:?usage: bench/workers.sh BUILD_DIR [EPISODES]}" && pwd)
n=${2:-400}
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
tmp=$(mktemp -d /tmp/assay-bench-XXXXXX)
chmod 755 "$tmp"
mock=""
trap 'kill $mock 2>/dev/null; "$src/tools/pg.sh" stop "$tmp/pg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
PG_OPTS="-c shared_preload_libraries=pg_stat_statements" "$src/tools/pg.sh" start "$tmp/pg" >/dev/null
printf '{"kind":"tool_call","name":"bash","arguments":{"cmd":"true"},"latency_ms":1000,"usage":{"prompt":1000,"completion":20}}\n' >"$tmp/s.jsonl"
"$build/mockmodel" --script "$tmp/s.jsonl" --loop --idle-exit 600 >"$tmp/port" &
mock=$!
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.02; done
mkdir -p "$tmp/cheap/solution"
cp "$here/tasks/cheap/solution/solve.sh" "$tmp/cheap/solution/"
sed "s/turns: 1000/turns: 2/" "$here/tasks/cheap/task.yaml" >"$tmp/cheap/task.yaml"
export ASSAY_HOME=$tmp/home OPENAI_API_KEY=k ASSAY_INIT=$build/assay-init
export ASSAY_PASSPHRASE="bench custodians"

# the sealed copy: two custodians (2 of 2), a sealer, a key per worker
k=$tmp/keys
for c in cust-a cust-b; do "$build/assay" keys create "$c" --custodian --dir "$k" >/dev/null; done
"$build/assay" keys create sealer --dir "$k" >/dev/null
"$build/assay" suite seal "$tmp/cheap" -o "$tmp/cheap.assay" --custodian "$k/cust-a.pub" \
	--custodian "$k/cust-b.pub" --threshold 2 --sign "$k/sealer.key" >/dev/null
for i in 1 2; do "$build/assay" keys worker-new "$tmp/wk$i" >/dev/null; done   # and wk$i.pub

# suite_args NAME SEALED: the suite options of run NAME (sealed: its own
# unseal request, approved by both custodians)
suite_args() {
	if [ "$2" = 0 ]; then echo --suite "$tmp/cheap"; return; fi
	"$build/assay" suite request "$tmp/cheap.assay" --run "$1" --reason bench -o "$tmp/$1.req" >/dev/null
	for c in a b; do
		"$build/assay" keys approve "$tmp/$1.req" --archive "$tmp/cheap.assay" \
			--key "$k/cust-$c.key" -o "$tmp/$1.$c" >/dev/null
	done
	echo --suite "$tmp/cheap.assay" --request-key "$tmp/$1.req.key" \
		--approval "$tmp/$1.a" --approval "$tmp/$1.b" \
		--worker-key "$tmp/wk1.pub" --worker-key "$tmp/wk2.pub"
}

one() {   # one WORKERS [SEALED]: seconds from queueing to the run's end
	local url t0 t1 pids="" sealed=${2:-0} wkey args
	url=$("$src/tools/pg.sh" createdb "$tmp/pg" "w$1s$sealed")
	args=$(suite_args "w$1s$sealed" "$sealed")
	"$build/assay" runs --store "$url" >/dev/null
	psql "$url" -XqAt -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset(); SELECT pg_stat_reset();" >/dev/null
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$build/assay" run $args --model openai/m --base-url "http://127.0.0.1:$(cat "$tmp/port")/v1" \
		--epochs "$n" --no-preflight --executor workers --store "$url" --quiet >/dev/null 2>"$tmp/c$1.err" &
	local coord=$!
	for i in $(seq 1 "$1"); do
		wkey=""; [ "$sealed" = 0 ] || wkey="--key $tmp/wk$i"
		# shellcheck disable=SC2086
		"$build/assay" worker --store "$url" --slots 50 --name "w$i" $wkey --idle-exit 2 -q 2>>"$tmp/w.err" &
		pids="$pids $!"
	done
	wait $coord || { echo "run failed: $(tail -2 "$tmp/c$1.err")" >&2; exit 3; }
	t1=$(date +%s.%N)
	wait $pids
	# a run whose episodes failed fast would time nothing worth comparing
	local scored
	scored=$(psql "$url" -XqAt -c "SELECT count(*) FROM episodes WHERE status='done' AND validity='valid'")
	[ "$scored" = "$n" ] || { echo "run w$1s$sealed: $scored of $n episodes scored (valid)" >&2; exit 3; }
	echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}'
	[ "$1$sealed" = 10 ] && cost "$url"
	return 0
}

cost() {   # per episode, from the 1-worker run
	psql "$1" -XqAt -F' ' -c "SELECT
	  (SELECT sum(calls) FROM pg_stat_statements WHERE dbid=(SELECT oid FROM pg_database WHERE datname=current_database())),
	  (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname=current_database()),
	  (SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname=current_database()),
	  pg_database_size(current_database()),
	  (SELECT count(*) FROM episodes), (SELECT count(*) FROM events)" >"$tmp/cost"
}

w1=$(one 1)
w2=$(one 2)
s1=$(one 1 1)
s2=$(one 2 1)
read -r stmts xacts rows bytes eps evs <"$tmp/cost"
echo "## Workers (PostgreSQL)"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, PostgreSQL 15 on loopback (tools/pg.sh: fsync off),"
echo "$n episodes of 2 model calls (1 s latency each), \`--slots 50\` per worker:"
echo
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }
echo "| workers | wall s | ratio to 1 | sealed: wall s | ratio to 1 | sealed / open |"
echo "|---|---|---|---|---|---|"
echo "| 1 | $w1 | 1.00 | $s1 | 1.00 | $(ratio "$s1" "$w1") |"
echo "| 2 | $w2 | $(ratio "$w2" "$w1") | $s2 | $(ratio "$s2" "$s1") | $(ratio "$s2" "$w2") |"
echo
echo "PostgreSQL per episode (the 1-worker run, coordinator included; $eps attempts, $evs events):"
echo "$(echo "$stmts $xacts $rows $bytes $eps" | awk '{printf "%.1f statements (round trips), %.1f transactions, %.1f rows written, %.0f bytes of database", $1/$5, $2/$5, $3/$5, $4/$5}')."
