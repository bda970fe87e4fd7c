#!/bin/bash
# CBC padding oracle: "ERR decryption failed" means bad PKCS#7 padding, any
# other answer means good padding. Recover each block's intermediate state
# byte by byte (256 guesses per byte, pipelined), XOR with the previous block.
set -e
python3 - <<'PY'
import re, socket
s = socket.create_connection(("sso", 9204), timeout=30)
f = s.makefile("rwb", buffering=1 << 16)
ticket = bytes.fromhex(re.search(rb"ticket: ([0-9a-f]+)", f.readline()).group(1).decode())
f.readline()

def oracle_batch(cands):
    f.write(b"".join(b"VERIFY " + c.hex().encode() + b"\n" for c in cands))
    f.flush()
    return [b"decryption failed" not in f.readline() for _ in cands]

def intermediate(block):
    inter = bytearray(16)
    for pos in range(15, -1, -1):
        pad = 16 - pos
        base = bytearray(16)
        for j in range(pos + 1, 16):
            base[j] = inter[j] ^ pad
        cands = []
        for g in range(256):
            b = bytearray(base); b[pos] = g
            cands.append(bytes(b) + block)
        hits = [g for g, ok in zip(range(256), oracle_batch(cands)) if ok]
        if pos == 15 and len(hits) > 1:
            # rule out an accidental \x02\x02 (or longer) padding
            checks = []
            for g in hits:
                b = bytearray(base); b[pos] = g; b[14] ^= 0xFF
                checks.append(bytes(b) + block)
            hits = [g for g, ok in zip(hits, oracle_batch(checks)) if ok]
        inter[pos] = hits[0] ^ pad
    return bytes(inter)

blocks = [ticket[i:i + 16] for i in range(0, len(ticket), 16)]
pt = b""
for prev, cur in zip(blocks, blocks[1:]):
    pt += bytes(a ^ b for a, b in zip(intermediate(cur), prev))
print(re.search(rb"flag\{[0-9a-f]+\}", pt).group(0).decode())
PY
