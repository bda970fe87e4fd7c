#!/bin/bash
# A guest token is two consecutive 32-bit outputs of a 48-bit LCG; the
# first gives the top 32 state bits, 2^16 guesses of the low bits are
# checked against the second. Then step the LCG to predict admin's token.
set -e
python3 - <<'PY'
import re, socket
M, A, C = (1 << 48) - 1, 0x5DEECE66D, 0xB
s = socket.create_connection(("portal", 9203), timeout=10)
f = s.makefile("rwb", buffering=0)
f.readline(); f.readline()
f.write(b"RESET guest\n"); f.readline()
f.write(b"MAILBOX\n")
tok = re.search(rb"guest: ([0-9a-f]{16})", f.readline()).group(1).decode(); f.readline()
o1, o2 = int(tok[:8], 16), int(tok[8:], 16)
state = next(st for st in ((o1 << 16) | lo for lo in range(1 << 16))
             if ((st * A + C) & M) >> 16 == o2)
state = (state * A + C) & M
def nxt():
    global state
    state = (state * A + C) & M
    return state >> 16
f.write(b"RESET admin\n"); f.readline()
pred = "%08x%08x" % (nxt(), nxt())
f.write(b"REDEEM admin " + pred.encode() + b"\n")
print(re.search(rb"flag\{[0-9a-f]+\}", f.readline()).group(0).decode())
PY
