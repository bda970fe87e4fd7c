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
#
# Every Slurm client call is wrapped in `timeout`: against a controller
# that is not listening, sinfo and squeue each block for MessageTimeout
# and retry, so an unbounded wait loop could stall CI for many minutes.
# A start that does not reach "idle" within START_SECS is retried once
# from scratch on fresh ports (a port taken between choosing and binding
# it is the usual cause) before giving up with the daemons' logs.
set -eu

cmd=${1:?usage: tools/slurm.sh start|stop DIR}
dir=${2:?usage: tools/slurm.sh $cmd DIR}
START_SECS=60

for t in munged slurmctld slurmd sbatch; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
		{ echo "slurm.sh: $t is not installed (tools/deps.sh)" >&2; exit 2; }
done
export PATH=$PATH:/usr/sbin

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		[ "$p" != "${1:-}" ] || continue
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
	done
	echo "slurm.sh: no free port" >&2
	return 1
}

# alive PIDFILE: the daemon it names is running
alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

kill_pidfile() {
	local f=$1 p
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	kill "$p" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
}

write_conf() {
	local d=$1 host ctld_port slurmd_port
	host=$(hostname -s)
	ctld_port=$(free_port) || return 1
	slurmd_port=$(free_port "$ctld_port") || return 1
	cat >"$d/slurm.conf" <<EOF
ClusterName=assaytest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
MessageTimeout=5
KillWait=10
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

# launch DIR: start munged, slurmctld and slurmd; succeed once the node is
# idle, fail as soon as a daemon has died or after START_SECS
launch() {
	local d=$1 start=$SECONDS
	mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
	chmod 700 "$d/munge"
	head -c 1024 /dev/urandom >"$d/munge/key"
	chmod 400 "$d/munge/key"
	munged --force --key-file="$d/munge/key" --socket="$d/munge/sock" \
		--pid-file="$d/munge/pid" --log-file="$d/munge/log" \
		--seed-file="$d/munge/seed" || return 1
	write_conf "$d" || return 1
	export SLURM_CONF=$d/slurm.conf
	slurmctld -i || return 1
	slurmd || return 1
	while [ $((SECONDS - start)) -lt $START_SECS ]; do
		timeout 5 sinfo -h -o %t 2>/dev/null | grep -qx idle && return 0
		for pf in slurmctld.pid slurmd.pid munge/pid; do
			if [ -f "$d/$pf" ]; then
				alive "$d/$pf" ||
					{ echo "slurm.sh: $pf names a dead process" >&2; return 1; }
			elif [ $((SECONDS - start)) -gt 10 ]; then
				echo "slurm.sh: no $pf after 10 s" >&2
				return 1
			fi
		done
		sleep 0.5
	done
	echo "slurm.sh: the node was not idle after $START_SECS s" >&2
	return 1
}

# halt DIR: cancel its jobs and stop its daemons
halt() {
	local d=$1
	export SLURM_CONF=$d/slurm.conf
	if [ -f "$SLURM_CONF" ] && alive "$d/slurmctld.pid"; then
		local jobs
		jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u) || true
		[ -z "$jobs" ] || timeout 10 scancel --full --quiet $jobs 2>/dev/null || true
		for _ in $(seq 50); do
			[ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break
			sleep 0.2
		done
	fi
	kill_pidfile "$d/slurmd.pid"
	kill_pidfile "$d/slurmctld.pid"
	kill_pidfile "$d/munge/pid"
}

logs() {
	local d=$1 f
	timeout 5 sinfo >&2 || true
	for f in "$d/log/slurmctld.log" "$d/log/slurmd.log" "$d/munge/log"; do
		[ -f "$f" ] || continue
		echo "--- last lines of $f" >&2
		tail -n 15 "$f" >&2
	done
}

case $cmd in
start)
	[ "$(id -u)" -eq 0 ] || { echo "slurm.sh: needs root" >&2; exit 2; }
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || { echo "slurm.sh: '$dir' is not empty" >&2; exit 2; }
	dir=$(cd "$dir" && pwd)
	for try in 1 2; do
		if launch "$dir"; then
			echo "$dir/slurm.conf"
			exit 0
		fi
		echo "slurm.sh: start attempt $try failed:" >&2
		logs "$dir"
		halt "$dir"
		find "$dir" -mindepth 1 -delete
	done
	exit 3
	;;
stop)
	[ -d "$dir" ] || exit 0
	halt "$dir"
	rm -rf "$dir"
	;;
*)
	echo "usage: tools/slurm.sh start|stop DIR" >&2
	exit 2
	;;
esac
