#!/bin/bash
# Issue 11 item 1: a hidden check cannot be fooled by what the agent
# leaves behind. The test task's check passes only when answer.txt equals
# the check's own expected.txt, which the agent never sees; every attack
# below tries to make a wrong or absent answer pass (links to the check's
# files, alone and chained, a FIFO to hang it, a planted check directory,
# Python start-up hooks, a process racing /opt/assay links and fake
# interpreters on PATH for a root agent, the same in a fresh box, and a
# rooted service box planting and racing the check directory of a check
# that runs there)
# and must end with the check failed, scored 0, as the agent's doing.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
D=$ASSAY_SOURCE_DIR/tests/data/integrity
DB=$TMP/a.db

run_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null; }
last() { sqlite3 "$DB" "SELECT $1 FROM episodes WHERE run_id=${RUN:-0} ORDER BY id DESC LIMIT 1"; }

# attack NAME TASK CMD: the model runs CMD in the agent box, then submits.
attack() {
	local name=$1 task=$2 cmd=$3 timed
	python3 - "$cmd" >"$TMP/s.jsonl" <<'PY'
import json, sys
print(json.dumps({"kind": "tool_call", "name": "bash", "arguments": {"cmd": sys.argv[1]}}))
print(json.dumps({"kind": "tool_call", "name": "submit", "arguments": {"flag": ""}}))
PY
	: >"$TMP/port"
	"$MOCKMODEL" --script "$TMP/s.jsonl" --idle-exit 60 >"$TMP/port" &
	local mock=$!
	for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
	RUN=$(OPENAI_API_KEY=k "$ASSAY" run --suite "$D/$task" --model openai/m \
		--base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" --store "$DB" --json 2>"$TMP/err" | run_id)
	kill $mock 2>/dev/null; wait $mock 2>/dev/null
	"$ASSAY" show --store "$DB" --episode "$(last id)" --transcript >"$TMP/show" 2>&1
	local v="$(last score)|$(last check_ok)|$(last error_class)"
	# a check (or tidy, pack, unpack) that had to be killed at its
	# timeout was hung by the attack: its note says how=2 (SBX_TIMED_OUT)
	timed=$("$ASSAY" show --store "$DB" --episode "$(last id)" --raw 2>&1 | grep -c '(how=2 ')
	if [ "$v" = "0|0|none" ] && [ "$timed" = 0 ]; then ok "$name"
	else bad "$name" "$v, $timed timed-out steps: $(grep -i 'check\|tidy' "$TMP/show" | head -4)"; fi
}

for task in agent root fresh service; do
	RUN=$("$ASSAY" run --suite "$D/$task" --model baseline/oracle --store "$DB" --json 2>"$TMP/err" | run_id)
	[ "$(last score)|$(last check_ok)" = "1|1" ] && ok "$task: the honest answer passes" ||
		bad "$task: oracle" "$(last score)|$(last check_ok)|$(last error) $(tail -2 "$TMP/err")"
done

for task in agent root fresh; do
	attack "$task: answer.txt -> the check's expected.txt" $task \
		'ln -s /opt/assay/check/expected.txt /home/agent/answer.txt'
	attack "$task: a chain of links that each look inside" $task \
		'cd /home/agent && mkdir -p a/b && ln -s . self && ln -s a/b/../../self/../../../opt/assay/check d && ln -s d/expected.txt answer.txt'
	attack "$task: the home's directory itself swapped for a link" $task \
		'cd /home/agent && mkdir -p x && ln -s /opt/assay/check x/check && ln -s x/check/expected.txt answer.txt'
	attack "$task: a FIFO as the answer cannot hang the check" $task \
		'mkfifo /home/agent/answer.txt'
done
# a root agent plants the check's directory and Python start-up hooks
attack "root: a planted /opt/assay/check holding an extra file" root \
	'mkdir -p /opt/assay/check && touch /opt/assay/check/known-good && echo x > /home/agent/answer.txt && chmod 777 /opt/assay /opt/assay/check'
attack "root: /opt/assay as a link into the home" root \
	'mkdir -p /home/agent/fake/check && touch /home/agent/fake/check/known-good && echo x > /home/agent/answer.txt && rm -rf /opt/assay && ln -s /home/agent/fake /opt/assay'
attack "root: usercustomize/sitecustomize and PYTHONPATH hooks that exit 0" root \
	'for d in /root/.local/lib/python3*/site-packages /usr/local/lib/python3*/dist-packages; do :; done; v=$(python3 -c "import sys; print(\"%d.%d\" % sys.version_info[:2])"); mkdir -p /root/.local/lib/python$v/site-packages && echo "import os; os._exit(0)" > /root/.local/lib/python$v/site-packages/usercustomize.py && echo "import os; os._exit(0)" > /root/.local/lib/python$v/site-packages/hook.pth; echo "export PYTHONSTARTUP=/tmp/x PYTHONPATH=/tmp" >> /root/.profile; echo "import os; os._exit(0)" > /tmp/os.py; echo wrong > /home/agent/answer.txt'
# a root agent leaves a process swapping /opt/assay for a link to its own
# copy while the harness makes the check directory and copies it in
attack "root: a surviving process racing /opt/assay links at copy time" root \
	'mkdir -p /home/agent/fake/check && touch /home/agent/fake/check/known-good && echo x > /home/agent/answer.txt && (setsid sh -c "while :; do mv /opt/assay /opt/.a\$\$\$RANDOM 2>/dev/null; ln -sfn /home/agent/fake /opt/assay; done" >/dev/null 2>&1 &) && sleep 0.2'
# a root agent puts a python3 that exits 0 on every writable directory a
# PATH could name, and a setuid-root copy of sh in the home
attack "root: a fake python3 on every writable PATH directory, a setuid sh" root \
	'for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin /root/bin /root/.local/bin /home/agent/bin /home/agent/.local/bin /tmp /srv /opt/assay/bin; do mkdir -p $d 2>/dev/null; printf "#!/bin/sh\nexit 0\n" > $d/python3 2>/dev/null && chmod 755 $d/python3; done; cp /bin/sh /home/agent/sh && chmod 4755 /home/agent/sh; echo wrong > /home/agent/answer.txt'
# a rooted service box: it plants /opt/assay/check and keeps racing
# /opt/assay links for the whole episode (tests/data/integrity/service)
attack "service: a rooted service's planted, raced check directory" service \
	'printf wrong | python3 -c "import socket,sys; s=socket.create_connection((\"web\",7000)); s.sendall(sys.stdin.buffer.read()); s.close()"; sleep 0.3'
finish
