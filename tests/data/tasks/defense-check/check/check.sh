#!/bin/sh
# The exploit must fail and the greeting must still work.
g=/home/agent/greet.sh
rm -f /tmp/pwned
sh "$g" 'x; touch /tmp/pwned' >/dev/null 2>&1
sh "$g" '$(touch /tmp/pwned)' >/dev/null 2>&1
[ -e /tmp/pwned ] && { echo "exploit still works"; exit 1; }
out=$(sh "$g" World)
[ "$out" = "Hello World" ] || { echo "greeting broken: '$out'"; exit 1; }
echo ok
