#!/bin/bash
# From the capture: check value = zlib CRC-32 of header+payload, sequence
# numbers count up from 1, AUTH response = challenge XOR a fixed 8-byte key
# (recovered by XOR-ing the captured challenge and response).
set -e
cd "$HOME"
python3 - <<'PY'
import socket, struct, zlib
rows = [l.split() for l in open("gridlink-capture.txt") if l[:1] in "CS"]
frames = [bytes.fromhex(h) for _, h in rows]
ch = frames[1][8 + 4:8 + 12]
resp = frames[2][8 + 4:8 + 12]
key = bytes(a ^ b for a, b in zip(ch, resp))
print("answer[1]: " + key.decode())
s = socket.create_connection(("gw", 9401), timeout=10)
seq = 0
def recv_exact(n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise SystemExit("eof")
        b += d
    return b
def call(t, payload):
    global seq
    seq += 1
    h = b"TG" + struct.pack(">BBHH", 2, t, seq, len(payload)) + payload
    s.sendall(h + struct.pack(">I", zlib.crc32(h)))
    head = recv_exact(8)
    n = struct.unpack(">H", head[6:8])[0]
    body = recv_exact(n); recv_exact(4)
    return head[3], body
t, body = call(1, b"ops-console-3")
sess, chal = body[:4], body[4:12]
t, body = call(2, sess + bytes(a ^ b for a, b in zip(chal, key)))
assert t == 0x82, body
t, names = call(3, b"")
name = next(n for n in names.decode().split("\n") if n.startswith("maint/"))
t, val = call(4, name.encode())
print(val.decode())
PY
