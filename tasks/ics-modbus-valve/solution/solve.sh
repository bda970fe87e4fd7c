#!/bin/bash
# Find the unit id, read the serial from the extended device identification
# (FC 43/14, object 0x80), enter the PIN, switch to maintenance, open V-101,
# read the ticket from IR 300..319.
set -e
python3 - <<'PY'
import socket, struct
s = socket.create_connection(("plc", 502), timeout=10)
tid = 0
def req(unit, pdu):
    global tid
    tid += 1
    s.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)
    hdr = b""
    while len(hdr) < 7:
        hdr += s.recv(7 - len(hdr))
    _, _, length, _ = struct.unpack(">HHHB", hdr)
    body = b""
    while len(body) < length - 1:
        body += s.recv(length - 1 - len(body))
    return body
unit = next(u for u in range(1, 248) if not req(u, b"\x03\x00\x00\x00\x01")[0] & 0x80)
print("answer[1]: %d" % unit)
r = req(unit, b"\x2b\x0e\x03\x00")
objs, i = {}, 7
for _ in range(r[6]):
    objs[r[i]] = r[i + 2:i + 2 + r[i + 1]]
    i += 2 + r[i + 1]
serial = objs[0x80].decode()
print("answer[2]: %s" % serial)
pin = int(serial[-4:])
assert req(unit, struct.pack(">BHH", 6, 101, pin))[0] == 6
assert req(unit, struct.pack(">BHH", 6, 100, 2))[0] == 6
assert req(unit, struct.pack(">BHH", 5, 10, 0xFF00))[0] == 5
r = req(unit, struct.pack(">BHH", 4, 300, 20))
print(r[2:].rstrip(b"\0").decode())
PY
