#!/bin/bash
# Human baselines (issue 19, item 5): `assay human` gives a person a shell
# on a terminal of the task's agent box with its services up, journals
# each command and its output like a model's bash calls, scores `submit
# FLAG` as a model's submission, records the working time, and
# `assay report` shows the human sessions beside the declared
# expert_minutes and the run's own success. The sessions are typed by a
# scripted terminal (tests/lib/ptydrive.py, python3's pty module).
#   tests/integration/human.sh   (needs $ASSAY, $ASSAY_SOURCE_DIR)
set -u
. "$(dirname "$0")/../lib/testlib.sh"
DRIVE=$ASSAY_SOURCE_DIR/tests/lib/ptydrive.py
SUITE=$ASSAY_SOURCE_DIR/tasks
TASK=web-cmdi-diag
DB=$TMP/h.db
A() { "$ASSAY" "$@" --store "$DB"; }

if ! command -v python3 >/dev/null; then
	skip_unless_ci "human sessions" "no python3 for the scripted terminal"; finish; exit
fi
if ! A run --suite "$SUITE" --task "$TASK" --model baseline/oracle --quiet 2>"$TMP/err"; then
	skip_unless_ci "human sessions" "no sandbox here: $(tail -1 "$TMP/err")"; finish; exit
fi

expect_rc "a task the suite lacks is a usage error" 2 A human --suite "$SUITE" --task no-such-task --user alice
expect_rc "assay run refuses a human/ model" 2 A run --suite "$SUITE" --task "$TASK" --model human/alice
expect_rc "a name that is no name" 2 A human --suite "$SUITE" --task "$TASK" --user 'bad name'

# Alice solves it with the task's own solution commands (comments and
# `set` left out), the last of which prints the flag.
grep -v -e '^#' -e '^set ' -e '^$' "$SUITE/$TASK/solution/solve.sh" | sed '$ s/$/ | tee \/tmp\/flag/' >"$TMP/alice"
cat >>"$TMP/alice" <<'S'
id -u; tty
python3 -c "import fcntl,termios; fcntl.ioctl(0, termios.TIOCSTI, b'x')" 2>&1 | tail -1
submit "$(cat /tmp/flag)"
S
python3 "$DRIVE" "$TMP/alice" -- "$ASSAY" human --suite "$SUITE" --task "$TASK" --user alice --store "$DB" >"$TMP/a.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q 'solved (score 1)' "$TMP/a.out" && ok "alice's session solves the task" ||
	bad "alice's session" "exit $rc: $(tail -5 "$TMP/a.out")"
grep -q 'http://web:8080/' "$TMP/a.out" && ok "the person is shown the task prompt" || bad "prompt" "$(head -5 "$TMP/a.out")"
grep -q ']770[123];' "$TMP/a.out" && bad "markers" "the journal's markers reached the terminal" ||
	ok "the journal's markers never reach the terminal"
tr -d '\r' <"$TMP/a.out" | sed 's/\x1b\[[?0-9;]*[a-zA-Z]//g' >"$TMP/a.txt"
grep -qx '1000' "$TMP/a.txt" && grep -qx '/dev/pts/0' "$TMP/a.txt" &&
	ok "the shell is the agent (uid 1000) on a terminal of the box's own devpts" ||
	bad "uid and tty" "$(grep -A2 'id -u' "$TMP/a.txt" | head -4)"
grep -q 'Operation not permitted' "$TMP/a.out" && ok "TIOCSTI on the session's terminal is refused (the box's seccomp)" ||
	bad "TIOCSTI" "$(grep -a -A1 TIOCSTI "$TMP/a.out" | tail -2)"

run=$(q "$DB" "SELECT id FROM runs WHERE model='human/alice'")
row=$(q "$DB" "SELECT outcome, score, flag_ok, tool_calls, working_ms > 0, working_ms <= wall_ms FROM episodes WHERE run_id=$run")
[ "$row" = "solved|1|1|5|1|1" ] && ok "journal: a run of human/alice, solved, flag ok, 5 commands, working time within the episode's" ||
	bad "alice's episode row" "$row"
ep=$(q "$DB" "SELECT id FROM episodes WHERE run_id=$run")
A show --episode "$ep" --raw >"$TMP/raw" 2>&1
python3 - "$TMP/raw" "$SUITE/$TASK/solution/solve.sh" <<'PY' && ok "each command journaled as a bash call with its output and status; the submission as a submit call" || bad "alice's events" "$(head -c 600 "$TMP/raw")"
import json, re, sys
text = open(sys.argv[1]).read()
evs = [json.loads(b) for b in re.split(r'^--- #\d+ \w+\n', text, flags=re.M)[1:]]
tools = [e for e in evs if 'name' in e and 'arguments' in e]
cmds = [json.loads(t['arguments']) for t in tools]
first = [l for l in open(sys.argv[2]).read().splitlines() if l and not l.startswith(('#', 'set '))][0]
assert evs[0]['scaffold'] == 'human' and evs[0]['user'] == 'alice', evs[0]
assert [t['name'] for t in tools] == ['bash'] * 4 + ['submit'], [t['name'] for t in tools]
assert cmds[0]['cmd'] == first, cmds[0]
assert re.search(r'flag\{[0-9a-f]+\}', tools[1]['output']), tools[1]
assert tools[1]['exit'] == {'how': 'exited', 'status': 0}, tools[1]
assert tools[2]['output'].split() == ['1000', '/dev/pts/0'], tools[2]
assert re.fullmatch(r'flag\{[0-9a-f]+\}', cmds[4]['flag']), cmds[4]
assert '\x1b' not in ''.join(t['output'] for t in tools)
PY
A show --episode "$ep" --transcript >"$TMP/tr" 2>&1
grep -q 'tool call: submit' "$TMP/tr" && grep -q 'agent human' "$TMP/tr" && ok "show --transcript reads it as a model's episode" ||
	bad "transcript" "$(head -20 "$TMP/tr")"

# Bob fails: a wrong flag is scored as a model's wrong submission.
printf 'ls /srv 2>&1; false\nsubmit flag{0000}\n' >"$TMP/bob"
python3 "$DRIVE" "$TMP/bob" -- "$ASSAY" human --suite "$SUITE" --task "$TASK" --user bob --store "$DB" >"$TMP/b.out" 2>&1
row=$(q "$DB" "SELECT e.outcome, e.score, e.flag_ok, e.tool_calls FROM episodes e JOIN runs r ON r.id=e.run_id WHERE r.model='human/bob'")
[ "$row" = "submitted-wrong|0|0|2" ] && ok "bob's wrong flag: submitted-wrong, score 0" || bad "bob's episode" "$row: $(tail -3 "$TMP/b.out")"
bep=$(q "$DB" "SELECT e.id FROM episodes e JOIN runs r ON r.id=e.run_id WHERE r.model='human/bob'")
A show --episode "$bep" --raw 2>&1 | grep -q '"status": 1' && ok "a failing command's status is journaled" ||
	bad "bob's status" "$(A show --episode "$bep" --raw 2>&1 | head -30)"

# A signal (the person's terminal closed, a kill) hangs the shell up:
# the session is recorded, not left running.
mkfifo "$TMP/cin"
"$ASSAY" human --suite "$SUITE" --task "$TASK" --user carol --store "$DB" <"$TMP/cin" >"$TMP/c.out" 2>&1 &
CPID=$!
exec 8>"$TMP/cin"    # input that stays open and silent
for _ in $(seq 1 600); do
	[ -n "$(q "$DB" "SELECT e.id FROM episodes e JOIN runs r ON r.id=e.run_id WHERE r.model='human/carol'" 2>/dev/null)" ] && break
	sleep 0.1
done
kill -TERM "$CPID" 2>/dev/null; wait "$CPID"; crc=$?
exec 8>&-
row=$(q "$DB" "SELECT e.status, e.outcome, r.status FROM episodes e JOIN runs r ON r.id=e.run_id WHERE r.model='human/carol'")
[ "$row" = "done|no-submit|done" ] && ok "SIGTERM ends the session as an exit, recorded (exit $crc)" ||
	bad "signalled session" "$row (exit $crc): $(tail -3 "$TMP/c.out")"

# The report of the model's run calibrates expert_minutes from both.
A report 1 --format json -o "$TMP/r.json" 2>"$TMP/err"
want=$(q "$DB" "SELECT e.working_ms FROM episodes e JOIN runs r ON r.id=e.run_id WHERE r.model='human/alice'")
v=$(json_get "$TMP/r.json" 'j["human_baseline"]["runs"], [(t["task_id"], t["expert_minutes"], t["human_attempts"], t["human_solved"], round(t["human_median_minutes"] * 60000), t["successes"], t["epochs"]) for t in j["human_baseline"]["tasks"]]')
[ "$v" = "3 [('$TASK', 5.0, 3, 1, $want, 1, 1)]" ] &&
	ok "report json: 3 human runs, 1 of 3 solved, median human time = alice's working time, beside declared 5 min and the model's 1/1" ||
	bad "human_baseline" "$v (alice: $want ms)"
A report 1 >"$TMP/term" 2>&1
grep -q '^human baselines (3 runs' "$TMP/term" && grep -q "^  $TASK .* 5 min .* 1/3 solved .* 1/1 solved" "$TMP/term" &&
	ok "term report: declared vs human median, humans' and the model's success" || bad "term report" "$(tail -4 "$TMP/term")"
A report 1 --format html -o "$TMP/r.html" 2>"$TMP/err"
grep -q "<tr><td>$TASK</td><td>5</td><td>[0-9.]*</td><td>1/3</td><td>1/1</td></tr>" "$TMP/r.html" &&
	ok "html report: the human baselines table" || bad "html human baselines" "$(grep -o 'Human baselines.\{0,400\}' "$TMP/r.html")"
expect_rc "a human session is not resumed" 2 A resume "$run"
A report 1 --format md -o "$TMP/r.md" 2>"$TMP/err"
grep -q "^| $TASK | 5 | [0-9.]* | 1/3 | 1/1 |" "$TMP/r.md" && ok "markdown report: the human baselines table" ||
	bad "md human baselines" "$(grep -A4 'Human baselines' "$TMP/r.md")"
A report "$run" --format json -o "$TMP/rh.json" 2>"$TMP/err" && [ "$(json_get "$TMP/rh.json" 'j["run"]["model"], j["totals"]["solved"]')" = "human/alice 1" ] &&
	ok "a human run reports as any run" || bad "report of a human run" "$(cat "$TMP/err")"
finish
