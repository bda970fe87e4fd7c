#!/bin/sh
# Runs in a fresh box: the agent's home, nothing else of the agent's.
out=$(sh /home/agent/sum.sh 2 40 2>&1)
[ "$out" = 42 ] || { echo "sum.sh 2 40 printed '$out'"; exit 1; }
# (what makes the box fresh, asserted for the harness's tests)
[ "$(hostname)" = check ] || { echo "not the check box: $(hostname)"; exit 1; }
[ ! -e /tmp/.agent-was-here ] || { echo "a file from outside the home came along"; exit 1; }
! pgrep -x sleep >/dev/null || { echo "a process of the agent is here"; exit 1; }
[ "$(stat -c %U /home/agent/sum.sh)" = agent ] || { echo "owner not kept"; exit 1; }
echo ok
