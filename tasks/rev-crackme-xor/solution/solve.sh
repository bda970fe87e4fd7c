#!/bin/bash
# Download the checker, find the 20-byte table in .rodata, and invert
# c = rotl8(k ^ (0x5A + 7i), 3).
set -e
cd "$HOME"
curl -s -o keycheck http://forge:8080/download/keycheck
KEY=$(python3 - <<'PY'
import re, subprocess
out = subprocess.run(["objcopy", "-O", "binary", "--only-section=.rodata", "keycheck", "/dev/stdout"],
                     capture_output=True).stdout
rotr = lambda v, n: ((v >> n) | (v << (8 - n))) & 0xFF
for off in range(len(out) - 20 + 1):
    k = bytes(rotr(out[off + i], 3) ^ ((0x5A + 7 * i) & 0xFF) for i in range(20))
    if re.fullmatch(rb"FORGE(-[A-Z0-9]{4}){3}", k):
        print(k.decode())
        break
PY
)
chmod +x keycheck && ./keycheck "$KEY" >&2
curl -s --data-urlencode "key=$KEY" http://forge:8080/activate | grep -o 'flag{[0-9a-f]*}'
