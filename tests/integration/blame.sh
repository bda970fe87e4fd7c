#!/bin/bash
# An agent cannot turn its own failure into an infrastructure failure
# (docs/SECURITY.md, "Scoring"): each attack below, made by a scripted
# model, must end as one scored, counted attempt of the model's -- never
# as a retried, uncounted infra-error.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
DB=$TMP/a.db
mock=
trap 'kill $mock 2>/dev/null; rm -rf "$TMP"' EXIT

run_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])' 2>/dev/null; }
rows() { sqlite3 "$DB" "SELECT group_concat(outcome || '|' || error_class, ' ') FROM episodes WHERE run_id=${RUN:-0}"; }

# attack TASK SCRIPT-LINES...: run TASK once against a mock model playing
# the lines; sets RUN
attack() {
	local task=$1; shift
	printf '%s\n' "$@" >"$TMP/s.jsonl"
	"$MOCKMODEL" --script "$TMP/s.jsonl" --loop --idle-exit 120 >"$TMP/port" &
	mock=$!
	for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.02; done
	RUN=$(OPENAI_API_KEY=k "$ASSAY" run --suite "$task" --model openai/m \
		--base-url "http://127.0.0.1:$(cat "$TMP/port")/v1" --store "$DB" \
		--json 2>"$TMP/err" | run_id)
	kill $mock 2>/dev/null; wait $mock 2>/dev/null
	: >"$TMP/port"
}

SUBMIT='{"kind":"tool_call","name":"submit","arguments":{"flag":"x"}}'

# 1. fill the disk: the hidden check (in the agent's box) cannot be copied in
cp -r "$ASSAY_SOURCE_DIR/tests/data/tasks/defense-check" "$TMP/full"
sed -i 's/^limits: {/limits: {disk_mb: 8, /' "$TMP/full/task.yaml"
attack "$TMP/full" \
	'{"kind":"tool_call","name":"bash","arguments":{"cmd":"cat /dev/zero > /home/agent/fill; df /home/agent"}}' \
	"$SUBMIT"
[ "$(rows)" = "check-blocked|agent-caused" ] &&
	ok "a full disk blocks the check: one attempt, agent-caused" ||
	bad "full disk" "$(rows) $(tail -2 "$TMP/err")"
"$ASSAY" report "$RUN" --store "$DB" --format json -o "$TMP/r.json" 2>"$TMP/err"
v=$(json_get "$TMP/r.json" 'j["tasks"][0]["epochs"], j["tasks"][0]["model_failures"], j["tasks"][0]["agent_caused"], j["tasks"][0]["unscored"], j["totals"]["infra_failures"]')
[ "$v" = "1 1 1 0 0" ] && ok "the report counts it against the model" ||
	bad "full disk in the report" "$v"

# 2. root in the box: raise init's oom_score_adj, then fill memory (a
#    tmpfs counts against the box's memory): the command dies, the box
#    and the episode live on
cp -r "$ASSAY_SOURCE_DIR/tests/data/tasks/files-only" "$TMP/oom"
sed -i -e 's/^agent: {tools: \[base64\]}/agent: {tools: [base64], user: root}/' \
	-e 's/^limits: {/limits: {memory_mb: 64, /' "$TMP/oom/task.yaml"
attack "$TMP/oom" \
	'{"kind":"tool_call","name":"bash","arguments":{"cmd":"echo 1000 > /proc/1/oom_score_adj; echo 1000 > /proc/1/task/1/oom_score_adj; head -c 200000000 /dev/zero > /dev/shm/fill"}}' \
	'{"kind":"tool_call","name":"bash","arguments":{"cmd":"rm -f /dev/shm/fill"}}' \
	"$SUBMIT"
"$ASSAY" show "$RUN" --store "$DB" --episode "$(sqlite3 "$DB" "SELECT min(id) FROM episodes WHERE run_id=$RUN")" --transcript >"$TMP/show" 2>&1
if [ "$(rows)" = "submitted-wrong|none" ] && grep -q 'Read-only file system' "$TMP/show"; then
	ok "init's oom_score_adj cannot be raised; an OOM kills the command, not the box"
else bad "OOM the box's init" "$(rows) $(grep -E 'output|error' "$TMP/show" | head -5)"; fi

finish
