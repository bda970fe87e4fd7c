#!/usr/bin/python3
"""Substation lockbox server (HTTP 8080).

At start-up it builds the stripped firmware interpreter and generates an
LBX1 firmware image that checks a fresh random password; it serves both
and releases the flag for the right password:
  GET /download/lockbox       interpreter (ELF x86-64)
  GET /download/firmware.lbx  firmware image
  POST /unlock                form field password=..."""
import http.server
import os
import secrets
import string
import struct
import subprocess
import tempfile
import urllib.parse

ALPHA = string.ascii_letters + string.digits
N = 20
R = secrets.SystemRandom()


def rol(v, c):
    c &= 31
    return ((v << c) | (v >> (32 - c))) & 0xFFFFFFFF if c else v


class Asm:
    def __init__(self):
        self.code = bytearray()

    def ldi(self, r, v): self.code += bytes([0x3A, r]) + struct.pack("<I", v)
    def ldb(self, r, a): self.code += bytes([0x91, r, a])
    def rr(self, op, r, s): self.code += bytes([op, r << 4 | s])
    def rol(self, r, c): self.code += bytes([0x2B, r, c])
    def andi(self, r, v): self.code += bytes([0x70, r]) + struct.pack("<I", v)
    def jeq(self, off): self.code += bytes([0x4C]) + struct.pack("<h", off)
    def jmp(self, off): self.code += bytes([0xB3]) + struct.pack("<h", off)
    def fail(self): self.code += bytes([0x06])
    def length(self, r): self.code += bytes([0x85, r])
    def halt(self): self.code += bytes([0xFF])

    def junk(self):
        k = R.randrange(4)
        if k == 0:
            self.andi(7, 0xFFFFFFFF)
        elif k == 1:
            blob = secrets.token_bytes(R.randrange(1, 6))
            self.jmp(len(blob))
            self.code += blob
        elif k == 2:
            self.rr(0xD2, 7, 6)
        else:
            self.ldi(6, secrets.randbits(32))


def build_firmware(pw):
    a = Asm()
    a.length(5)
    a.ldi(6, len(pw))
    a.rr(0xE9, 5, 6)
    a.jeq(1)
    a.fail()
    acc = secrets.randbits(32)
    a.ldi(0, acc)
    for i, ch in enumerate(pw):
        k1 = secrets.randbits(32) | 1
        k2 = R.randrange(1, 32)
        j = R.randrange(i + 1)
        v = (rol(((ord(ch) * k1) & 0xFFFFFFFF) ^ acc, k2) + ord(pw[j])) & 0xFFFFFFFF
        a.junk()
        a.ldb(1, i)
        a.ldi(3, k1)
        a.rr(0x5E, 1, 3)
        a.junk()
        a.rr(0xC4, 1, 0)
        a.rol(1, k2)
        a.ldb(2, j)
        a.rr(0x17, 1, 2)
        a.rr(0xD2, 0, 1)
        a.junk()
        a.ldi(4, v)
        a.rr(0xE9, 1, 4)
        a.jeq(1)
        a.fail()
        acc = v
    a.halt()
    seed = secrets.randbelow(256)
    k, body = seed, bytearray()
    for b in a.code:
        body.append(b ^ k)
        k = (k * 13 + 7) & 0xFF
    return b"LBX1" + struct.pack("<H", len(body)) + bytes([seed]) + bytes(body)


def build_vm():
    d = tempfile.mkdtemp()
    exe = os.path.join(d, "lockbox")
    subprocess.run(["gcc", "-O2", "-s", "-o", exe, "lockbox.c"], check=True,
                   env=dict(os.environ, TMPDIR=d))
    with open(exe, "rb") as f:
        return f.read()


PASSWORD = "".join(secrets.choice(ALPHA) for _ in range(N))
FIRMWARE = build_firmware(PASSWORD)
VM = build_vm()
with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/download/lockbox":
            self.send(200, VM, "application/octet-stream")
        elif self.path == "/download/firmware.lbx":
            self.send(200, FIRMWARE, "application/octet-stream")
        elif self.path == "/":
            self.send(200, b"lockbox server: /download/lockbox /download/firmware.lbx ; POST /unlock password=...\n")
        else:
            self.send(404, b"not found\n")

    def do_POST(self):
        if self.path != "/unlock":
            self.send(404, b"not found\n")
            return
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(min(n, 4096)).decode("latin-1"))
        p = (form.get("password") or [""])[0].strip()
        if secrets.compare_digest(p.encode(), PASSWORD.encode()):
            self.send(200, ("lockbox open. maintenance token: %s\n" % FLAG).encode())
        else:
            self.send(403, b"wrong password\n")

    def log_message(self, *a):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
