#!/bin/bash
# Services that fail say why: a service that exits fails its episode at
# once (not after its ready timeout) with its exit status and the end of
# its stderr, in the episode's error and in `task check`'s message; one
# that never becomes ready says how it is and what it wrote; a service
# that daemonizes is not taken for dead; every started service's output
# is journaled; `task check` lints a ready port missing from `ports`.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
DB=$TMP/a.db

# mktask DIR RUN-JSON READY-JSON [PORTS-JSON]: a one-service task
mktask() {
	mkdir -p "$1/solution" "$1/services/svc"
	cat >"$1/task.yaml" <<YAML
id: $(basename "$1")
title: A service
version: "1"
author: assay tests
canary: 5d2f6a52-3f0e-4f43-8a57-3c0f6f1d2c99
category: misc
difficulty: 1
expert_minutes: 1
attack: [T1046]
prompt: "Ask {target}."
agent: {tools: [python3]}
services:
  - name: svc
    run: $2
    ports: ${4:-[7000]}
    ready: $3
flag: {value: "flag{svc}"}
solution: solution/solve.sh
limits: {turns: 3, cmd_timeout_s: 10, wall_s: 60}
YAML
	printf '#!/bin/sh\necho "flag{svc}"\n' >"$1/solution/solve.sh"
	chmod +x "$1/solution/solve.sh"
}
cat >"$TMP/serve.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8)
print("listening on", sys.argv[1], flush=True)
sys.stderr.write("serving on %s\n" % sys.argv[1]); sys.stderr.flush()
while True: s.accept()[0].close()
PY

# 1. exits at once: a 120 s ready timeout must not be waited out
mktask "$TMP/crash" '[python3, -c, "import sys; print(\"starting up\"); sys.stderr.write(\"Traceback (most recent call last)\\n\\x1b[31mboom: bad config\\n\"); sys.exit(3)"]' '{tcp: 7000, timeout_s: 120}'
timeout 300 "$ASSAY" run --suite "$TMP/crash" --model baseline/oracle --store "$DB" --max-retries 0 \
	>"$TMP/out" 2>"$TMP/err"
err=$(sqlite3 "$DB" "SELECT error FROM episodes WHERE run_id=1 ORDER BY id LIMIT 1")
n=$(sqlite3 "$DB" "SELECT count(*) FROM episodes WHERE run_id=1")
case $err in
*"service 'svc' exited before it was ready (exited with status 3); its stderr ends: Traceback (most recent call last) | ?[31mboom: bad config"*)
	ok "a service that exits fails its episode at once with its status and stderr ($n attempts)" ;;
*) bad "service exit" "n=$n error: $err $(tail -3 "$TMP/err")" ;;
esac
ep=$(sqlite3 "$DB" "SELECT id FROM episodes WHERE run_id=1 ORDER BY id LIMIT 1")
"$ASSAY" show --store "$DB" --episode "$ep" --json >"$TMP/t.json" 2>&1
if python3 - "$TMP/t.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = [n for n in j["services"]]
assert len(s) == 1 and s[0]["service"] == "svc", s
assert s[0]["exit"] == {"how": "exited", "status": 3}, s[0]
assert s[0]["stdout"] == "starting up\n" and "boom: bad config" in s[0]["stderr"], s[0]
assert s[0]["alive"] is False
PY
then ok "the service's exit and output are journaled"; else bad "service event" "$(head -c 600 "$TMP/t.json")"; fi
"$ASSAY" show --store "$DB" --episode "$ep" --transcript >"$TMP/t.txt" 2>&1
grep -q "^--- service 'svc': exited with status 3" "$TMP/t.txt" && grep -q "stderr | \\\\u001b\[31mboom" "$TMP/t.txt" &&
	ok "the transcript shows the service's output, escaped" || bad "service in transcript" "$(grep -A6 -- '--- service' "$TMP/t.txt")"

# 2. never ready: alive, on the wrong port; its state and output are named
mktask "$TMP/deaf" "[python3, $TMP/serve.py, \"7001\"]" '{tcp: 7000, timeout_s: 1}' '[7000, 7001]'
mkdir -p "$TMP/deaf/services/svc"; cp "$TMP/serve.py" "$TMP/deaf/services/svc/serve.py"
sed -i "s|$TMP/serve.py|/srv/serve.py|" "$TMP/deaf/task.yaml"
"$ASSAY" run --suite "$TMP/deaf" --model baseline/oracle --store "$DB" >"$TMP/out" 2>"$TMP/err"
err=$(sqlite3 "$DB" "SELECT error FROM episodes WHERE run_id=2 ORDER BY id LIMIT 1")
case $err in
*"service 'svc' not ready after 1000 ms (tcp port 7000) (running); its stderr ends: serving on 7001"*)
	ok "a service never ready says it runs and what it wrote" ;;
*) bad "never ready" "error: $err" ;;
esac

# 3. a service that daemonizes (its entrypoint exits 0) is not dead
mktask "$TMP/daemon" '[/bin/sh, -c, "python3 /srv/serve.py 7000 >/dev/null 2>&1 & echo forked; exit 0"]' '{tcp: 7000, timeout_s: 20}'
cp "$TMP/serve.py" "$TMP/daemon/services/svc/serve.py"
out=$("$ASSAY" run --suite "$TMP/daemon" --model baseline/oracle --store "$DB" --json 2>"$TMP/err")
solved=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["solved"])' 2>/dev/null)
[ "$solved" = 1 ] && ok "a service whose entrypoint daemonizes still runs the episode" ||
	bad "daemon" "out=$out $(sqlite3 "$DB" "SELECT error FROM episodes WHERE run_id=3")"
ep=$(sqlite3 "$DB" "SELECT id FROM episodes WHERE run_id=3 LIMIT 1")
"$ASSAY" show --store "$DB" --episode "$ep" --json >"$TMP/d.json" 2>&1
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["services"][0]
assert s["exit"] == {"how": "exited", "status": 0} and s["alive"] is True and s["stdout"] == "forked\n", s' "$TMP/d.json" &&
	ok "a daemonized service is journaled as exited 0 with what it started alive" || bad "daemon event" "$(head -c 400 "$TMP/d.json")"

# 4. task check: the service's end in the message, no empty fragment
"$ASSAY" task check "$TMP/crash" --epochs 1 >"$TMP/check" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "FAIL  crash: baseline/oracle solved 0/1 epochs (3 infra failures): episode .*exited with status 3); its stderr ends: .*boom: bad config" "$TMP/check" &&
   ! grep -q '(;' "$TMP/check"; then ok "task check names the service's exit status and stderr"
else bad "task check message" "rc=$rc $(cat "$TMP/check")"; fi

# 5. lint: a ready port not among the ports
mktask "$TMP/lint" '[python3, /srv/x.py]' '{tcp: 7001}' '[7000]'
"$ASSAY" task check --static "$TMP/lint" >"$TMP/lint.out" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q "FAIL  lint: service 'svc': ready port 7001 is not among its ports (7000)" "$TMP/lint.out" &&
	ok "task check lints a ready port missing from ports" || bad "lint" "rc=$rc $(cat "$TMP/lint.out")"
mktask "$TMP/lint2" '[python3, /srv/x.py]' '{tcp: 7001}' '[]'
"$ASSAY" task check --static "$TMP/lint2" >"$TMP/lint.out" 2>&1
grep -q "ready port 7001 is not among its ports (it declares none)" "$TMP/lint.out" &&
	ok "... also when it declares no ports" || bad "lint none" "$(cat "$TMP/lint.out")"
finish
