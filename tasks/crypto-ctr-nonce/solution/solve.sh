#!/bin/bash
# The reuse guard compares the nonce *string*; bytes.fromhex accepts upper
# case, so the same nonce in upper case passes. Encrypting zeros under it
# yields the keystream; XOR with the sealed secret.
set -e
python3 - <<'PY'
import re, socket
s = socket.create_connection(("relay", 9202), timeout=10)
f = s.makefile("rwb", buffering=0)
f.readline()
m = re.search(rb"nonce=([0-9a-f]+) ct=([0-9a-f]+)", f.readline())
nonce, ct = m.group(1).decode(), bytes.fromhex(m.group(2).decode())
f.write(b"ENC %s %s\n" % (nonce.upper().encode(), b"00" * len(ct)))
ks = bytes.fromhex(f.readline().split()[1].decode())
print(bytes(a ^ b for a, b in zip(ct, ks)).decode())
PY
