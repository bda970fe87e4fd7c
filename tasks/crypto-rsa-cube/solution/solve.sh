#!/bin/bash
# m^3 < n: the ciphertext is the plain cube of the message; take the integer
# cube root.
set -e
python3 - <<'PY'
import re, socket
s = socket.create_connection(("beacon", 9201), timeout=10)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
c = int(re.search(rb"c = (\d+)", data).group(1))
lo, hi = 0, 1 << (c.bit_length() // 3 + 2)
while lo < hi:
    mid = (lo + hi) // 2
    if mid ** 3 < c:
        lo = mid + 1
    else:
        hi = mid
assert lo ** 3 == c
m = lo
print("answer[1]: %d" % int(re.search(rb"n = (\d+)", data).group(1)).bit_length())
print(m.to_bytes((m.bit_length() + 7) // 8, "big").decode())
PY
