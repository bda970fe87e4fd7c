#!/bin/bash
# A throwaway single-node Slurm cluster for tests and CI (Debian's
# slurm-wlm 22.05 and munge; tools/deps.sh installs them): its own munge
# key and socket, slurmctld and slurmd on free loopback ports, one
# partition "test" with this machine's CPUs, no accounting, no cgroups.
# Nothing is left behind by `stop`.
#   tools/slurm.sh start DIR   start it in DIR (created; must not exist or
#                              be empty); prints the SLURM_CONF to export
#   tools/slurm.sh stop DIR    cancel its jobs, stop it, delete DIR
# Runs as root (slurmd starts the jobs' processes as their users).
set -eu

cmd=${1:?usage: tools/slurm.sh start|stop DIR}
dir=${2:?usage: tools/slurm.sh $cmd DIR}

for t in munged slurmctld slurmd sbatch; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
		{ echo "slurm.sh: $t is not installed (tools/deps.sh)" >&2; exit 2; }
done
export PATH=$PATH:/usr/sbin

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
	done
	echo "slurm.sh: no free port" >&2
	return 1
}

kill_pidfile() {
	local f=$1 p
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	kill "$p" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
}

case $cmd in
start)
	[ "$(id -u)" -eq 0 ] || { echo "slurm.sh: needs root" >&2; exit 2; }
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || { echo "slurm.sh: '$dir' is not empty" >&2; exit 2; }
	dir=$(cd "$dir" && pwd)
	mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
	chmod 700 "$dir/munge"
	head -c 1024 /dev/urandom >"$dir/munge/key"
	chmod 400 "$dir/munge/key"
	munged --force --key-file="$dir/munge/key" --socket="$dir/munge/sock" \
		--pid-file="$dir/munge/pid" --log-file="$dir/munge/log" \
		--seed-file="$dir/munge/seed" ||
		{ cat "$dir/munge/log" >&2; exit 3; }
	host=$(hostname -s)
	cat >"$dir/slurm.conf" <<EOF
ClusterName=assaytest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
KillWait=10
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
	export SLURM_CONF=$dir/slurm.conf
	slurmctld -i || { cat "$dir/log/slurmctld.log" >&2; exit 3; }
	slurmd || { cat "$dir/log/slurmd.log" >&2; exit 3; }
	for _ in $(seq 100); do
		sinfo -h -o %t 2>/dev/null | grep -qx idle && { echo "$SLURM_CONF"; exit 0; }
		sleep 0.2
	done
	echo "slurm.sh: the node did not come up:" >&2
	sinfo >&2 || true
	tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
	exit 3
	;;
stop)
	[ -d "$dir" ] || exit 0
	export SLURM_CONF=$dir/slurm.conf
	if [ -f "$SLURM_CONF" ]; then
		scancel --full --quiet $(squeue -h -o %A 2>/dev/null | sort -u) 2>/dev/null || true
		for _ in $(seq 100); do
			[ -z "$(squeue -h 2>/dev/null)" ] && break
			sleep 0.2
		done
	fi
	kill_pidfile "$dir/slurmd.pid"
	kill_pidfile "$dir/slurmctld.pid"
	kill_pidfile "$dir/munge/pid"
	rm -rf "$dir"
	;;
*)
	echo "usage: tools/slurm.sh start|stop DIR" >&2
	exit 2
	;;
esac
