#!/usr/bin/python3
"""Single sign-on gateway of a regional control centre (TCP 9204).

Hands every client an AES-128-CBC session ticket (IV || ciphertext, hex)
whose JSON body carries the operator's dispatch secret, and verifies
tickets: VERIFY <hex>. The key is random per start."""
import json
import os
import socketserver

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY = os.urandom(16)
with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()


def pad(b):
    n = 16 - len(b) % 16
    return b + bytes([n]) * n


def unpad(b):
    n = b[-1]
    if n < 1 or n > 16 or b[-n:] != bytes([n]) * n:
        raise ValueError("padding")
    return b[:-n]


def issue():
    body = json.dumps({"user": "night-shift", "role": "viewer", "dispatch_secret": FLAG}).encode()
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
    return (iv + enc.update(pad(body)) + enc.finalize()).hex()


def verify(hexticket):
    try:
        raw = bytes.fromhex(hexticket)
    except ValueError:
        return "ERR malformed ticket"
    if len(raw) < 32 or len(raw) % 16:
        return "ERR malformed ticket"
    dec = Cipher(algorithms.AES(KEY), modes.CBC(raw[:16])).decryptor()
    try:
        body = unpad(dec.update(raw[16:]) + dec.finalize())
    except ValueError:
        return "ERR decryption failed"
    try:
        user = json.loads(body)["user"]
    except (ValueError, KeyError, TypeError):
        return "ERR invalid session"
    return "OK session valid for %s" % user


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.sendall(("CONTROL CENTRE SSO. Your session ticket: %s\n"
                      "commands: VERIFY <ticket hex> | QUIT\n" % issue()).encode())
        pending = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return
            pending += data
            if len(pending) > 1 << 20:
                return
            *lines, pending = pending.split(b"\n")
            out = []
            for raw in lines:
                line = raw.decode("latin-1").split()
                if line and line[0].upper() == "QUIT":
                    sock.sendall("".join(out).encode())
                    return
                if len(line) == 2 and line[0].upper() == "VERIFY":
                    out.append(verify(line[1]) + "\n")
                else:
                    out.append("ERR unknown command\n")
            if out:
                sock.sendall("".join(out).encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("0.0.0.0", 9204), Handler).serve_forever()
