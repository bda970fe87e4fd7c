#!/bin/bash
# Many machines, simulated: PostgreSQL on this host, two `assay worker`s
# each in its own network namespace (a "host" that reaches the database
# only over its veth link, and its model endpoint on its own loopback).
# A run queued with --executor workers; one worker's host is cut off and
# killed mid-run. Every (task, epoch) must be scored exactly once, the
# cut-off attempts marked infra-interrupted and run by the other worker,
# and the results equal a local run's on the same seed.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
SRC=$ASSAY_SOURCE_DIR
PGDIR=$TMP/pg
ID=$$
NS1=assay-w1-$ID NS2=assay-w2-$ID
pids=""
cleanup() {
	for ns in "$NS1" "$NS2"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	ip link del "aw1h$ID" 2>/dev/null; ip link del "aw2h$ID" 2>/dev/null
	"$SRC/tools/pg.sh" stop "$PGDIR" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v psql >/dev/null; then
	skip_unless_ci "workers on many hosts" "PostgreSQL is not installed (tools/deps.sh)"
	finish; exit
fi
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$NS1" 2>/dev/null; then
	skip_unless_ci "workers on many hosts" "needs root and network namespaces"
	finish; exit
fi
ip netns add "$NS2"
# host i: veth awNh (here, 10.77.N.1) <-> awNn (in the namespace, 10.77.N.2)
for n in 1 2; do
	ns=assay-w$n-$ID
	ip link add "aw${n}h$ID" type veth peer name "aw${n}n$ID"
	ip link set "aw${n}n$ID" netns "$ns"
	ip addr add "10.77.$n.1/24" dev "aw${n}h$ID"
	ip link set "aw${n}h$ID" up
	ip netns exec "$ns" ip addr add "10.77.$n.2/24" dev "aw${n}n$ID"
	ip netns exec "$ns" ip link set "aw${n}n$ID" up
	ip netns exec "$ns" ip link set lo up
done
chmod 755 "$TMP"
if ! PG_LISTEN=10.77.1.1,10.77.2.1 "$SRC/tools/pg.sh" start "$PGDIR" >/dev/null 2>"$TMP/pg.err"; then
	bad "PostgreSQL on this host" "$(tail -3 "$TMP/pg.err")"
	finish; exit
fi
PGPORT=$(cat "$PGDIR/port")
URL=$("$SRC/tools/pg.sh" createdb "$PGDIR" q)
LOCAL=$("$SRC/tools/pg.sh" createdb "$PGDIR" l)
dburl() { echo "postgresql://assay@10.77.$1.1:$PGPORT/q"; }
q "$(dburl 1)" "SELECT 1" >/dev/null 2>&1 && ip netns exec "$NS1" psql "$(dburl 1)" -XqAt -c "SELECT 1" >/dev/null 2>&1 &&
	ok "host 1 reaches the database over its veth link only" ||
	bad "host 1 reaches the database" "$(ip netns exec "$NS1" psql "$(dburl 1)" -c 'SELECT 1' 2>&1 | tail -1)"
ip netns exec "$NS1" psql "postgresql://assay@127.0.0.1:$PGPORT/q" -XqAt -c "SELECT 1" >/dev/null 2>&1 &&
	bad "host 1 is isolated" "it reaches the database's loopback address" || ok "host 1 cannot reach this host's loopback"

# four tasks x 4 epochs; each agent thinks (1.2 s), then submits: the
# same reply to every call of every episode, so the results of a run
# cannot depend on which worker ran what in which order
S=$TMP/suite
mkdir -p "$S"
for i in 1 2 3 4; do
	cp -r "$SRC/tests/data/tasks/files-only" "$S/t$i"
	sed -i "s/^id: files-only/id: t$i/" "$S/t$i/task.yaml"
done
echo '{"kind":"tool_call","name":"submit","arguments":{"flag":"flag{files-only-example}","answers":["base64"]},"latency_ms":1200}' >"$TMP/s.jsonl"
MPORT=$((30000 + RANDOM % 20000))
mock() { "$@" "$MOCKMODEL" --script "$TMP/s.jsonl" --port "$MPORT" --loop --idle-exit 300 >/dev/null 2>&1 & pids="$pids $!"; disown $!; }
mock
mock nsenter --net=/var/run/netns/$NS1
mock nsenter --net=/var/run/netns/$NS2
sleep 0.3
export OPENAI_API_KEY=k ASSAY_LEASE_TTL_S=3
# a host cut off inside a write group holds its row locks until the server
# ends its session: 5 s here (60 s by default)
export PGOPTIONS="-c idle_in_transaction_session_timeout=5000 -c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=2"
RUN=(--suite "$S" --model openai/m --base-url "http://127.0.0.1:$MPORT/v1" --epochs 4 --seed 7 --no-preflight)

# the reference: the same run, local
"$ASSAY" run "${RUN[@]}" -j 4 --store "$LOCAL" --json >"$TMP/local.out" 2>"$TMP/local.err" ||
	bad "local run" "$(tail -2 "$TMP/local.err")"

# the queued run, its coordinator here, its workers on the two hosts
# (nsenter --net: only the network is the host's own; `ip netns exec`
# would also remount /sys, hiding the cgroups the sandbox needs)
timeout 300 "$ASSAY" run "${RUN[@]}" --executor workers --store "$URL" --json >"$TMP/coord.out" 2>"$TMP/coord.err" &
coord=$!
pids="$pids $coord"
nsenter --net="/var/run/netns/$NS1" "$ASSAY" worker --store "$(dburl 1)" --slots 3 --name w1 --idle-exit 5 2>"$TMP/w1.err" &
# w(STATUS): attempts of worker w1 in that status
w1() { q "$URL" "SELECT count(*) FROM episodes e JOIN workers w ON w.id=e.worker WHERE w.name='w1' AND e.status='$1'" 2>/dev/null; }
# host 2 joins once host 1 runs something; host 1 is cut off once it has
# finished one attempt and runs another
started=""
w1_running=0
for _ in $(seq 1 1200); do
	[ -z "$(ip netns pids "$NS1")" ] && break      # the worker could not start
	w1_running=$(w1 running)
	if [ -z "$started" ] && [ "${w1_running:-0}" -ge 1 ]; then
		nsenter --net="/var/run/netns/$NS2" "$ASSAY" worker --store "$(dburl 2)" --slots 3 --name w2 --idle-exit 2 2>"$TMP/w2.err" &
		w2=$!
		started=1
	fi
	[ -n "$started" ] && [ "${w1_running:-0}" -ge 1 ] && [ "$(w1 done)" -ge 1 ] && break
	sleep 0.05
done
[ -n "$started" ] || { bad "host 1's worker runs" "$(tail -3 "$TMP/w1.err")"; finish; exit; }
# host 1 goes away: its link cut, everything on it killed
ip link del "aw1h$ID" 2>/dev/null
for p in $(ip netns pids "$NS1"); do kill -9 "$p" 2>/dev/null; done
wait $coord; rc=$?
wait "$w2"
[ $rc -eq 0 ] && ok "the queued run finishes after host 1 is cut off mid-run (w1 had $w1_running running)" ||
	bad "queued run" "exit $rc: $(tail -3 "$TMP/coord.err")"
[ "$(q "$URL" "SELECT status FROM runs WHERE id=1")" = done ] && ok "the run is done" ||
	bad "run status" "$(q "$URL" "SELECT status FROM runs")"
one=$(q "$URL" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)=1) AS x")
more=$(q "$URL" "SELECT count(*) FROM (SELECT 1 FROM episodes WHERE status='done' AND error_class!='infra' GROUP BY task_id, epoch HAVING count(*)>1) AS x")
left=$(q "$URL" "SELECT count(*) FROM episodes WHERE status IN ('pending','running')")
[ "$one|$more|$left" = "16|0|0" ] && ok "every (task, epoch) scored exactly once, nothing left queued" ||
	bad "exactly once" "once=$one more=$more left=$left"
cut=$(q "$URL" "SELECT count(*) FROM episodes e JOIN workers w ON w.id=e.worker WHERE w.name='w1' AND e.status='interrupted' AND e.outcome='infra-interrupted' AND e.error_class='infra'")
[ "${cut:-0}" -ge 1 ] && [ "$(w1 running)" = 0 ] &&
	ok "host 1's cut-off attempts ($cut) are infra-interrupted, none left running" ||
	bad "cut-off attempts" "cut=$cut running before the cut=$w1_running, now $(w1 running)"
redone=$(q "$URL" "SELECT count(*) FROM episodes i JOIN workers w ON w.id=i.worker JOIN episodes n ON n.task_id=i.task_id AND n.epoch=i.epoch AND n.attempt=i.attempt+1 JOIN workers w2 ON w2.id=n.worker WHERE w.name='w1' AND i.status='interrupted' AND w2.name='w2' AND n.status='done'")
[ "${cut:-0}" -ge 1 ] && [ "$redone" = "$cut" ] && ok "the other worker ran them again" || bad "rerun elsewhere" "redone=$redone cut=$cut"
"$ASSAY" report 1 --store "$URL" --format json -o "$TMP/q.json" 2>/dev/null
"$ASSAY" report 1 --store "$LOCAL" --format json -o "$TMP/l.json" 2>/dev/null
res() { json_get "$1" 'j["totals"]["scored"], j["totals"]["solved"], sorted((t["id"], t["successes"], t["epochs"], t["unscored"]) for t in j["tasks"])' 2>&1; }
res "$TMP/l.json" | grep -q "^16 16 " && [ "$(res "$TMP/q.json")" = "$(res "$TMP/l.json")" ] &&
	ok "results equal the local run's on the same seed" ||
	bad "results vs local" "workers: $(res "$TMP/q.json") local: $(res "$TMP/l.json")"
finish
