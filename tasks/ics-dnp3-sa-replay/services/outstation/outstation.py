#!/usr/bin/python3
"""DNP3 outstation simulator of a distribution substation RTU (TCP 20000).

Link address 10. Critical requests (DIRECT_OPERATE on g12v1, READ of
g110 octet strings) are challenged with a Secure Authentication style
g120v1 challenge (FC 0x83); the master answers with AUTH_REQUEST (FC 0x20)
g120v2 carrying HMAC-SHA256(update key, challenge object)[:16].

Weakness (the subject of the task): every new association starts the
challenge sequence number at 1 and derives the challenge data from it, and
the MAC does not cover the critical request itself, so a reply captured
from one session authorises any critical request of a later session."""
import hashlib
import hmac
import random
import socketserver
import struct

import dnp3

ADDR = 10
USER = 1
UPDATE_KEY = bytes.fromhex("6b1f4a0c92d7e35518be0c7a4f2d9e61a3c85b07e4f1d2906c3ab8e57d10f4c2")
FLAG = b""

BINARY = [1, 1, 0, 1]
ANALOG = [11020, 412, 388, 0]


def objects_response(seq, body, fc=0x81, iin=b"\x00\x00"):
    return bytes([0xC0 | (seq & 0x0F), fc]) + iin + body


def class0():
    body = bytes([1, 2, 0x00, 0, len(BINARY) - 1]) + bytes(0x01 | (b << 7) for b in BINARY)
    body += bytes([30, 2, 0x00, 0, len(ANALOG) - 1]) + b"".join(struct.pack("<Bh", 1, a) for a in ANALOG)
    return body


class Association:
    def __init__(self):
        self.csq = 0
        self.challenge = None
        self.pending = None

    def challenge_for(self, seq, request):
        self.csq += 1
        data = random.Random(self.csq).randbytes(16)
        self.challenge = struct.pack("<IHBB", self.csq, USER, 4, 1) + data
        self.pending = request
        return objects_response(seq, dnp3.free_format(120, 1, self.challenge), fc=0x83)

    def execute(self, seq, fc, objs):
        if fc == 0x05:
            # echo the CROB(s) with status 0 (success)
            return objects_response(seq, objs)
        # READ g110: octet string point 0 holds the maintenance credential
        return objects_response(seq, bytes([110, len(FLAG), 0x00, 0, 0]) + FLAG)

    def handle(self, apdu):
        if len(apdu) < 2:
            return None
        seq, fc, objs = apdu[0] & 0x0F, apdu[1], apdu[2:]
        if fc == 0x01:
            if objs[:2] == bytes([60, 1]) or not objs:
                return objects_response(seq, class0())
            if objs[:1] == bytes([110]):
                return self.challenge_for(seq, (fc, objs))
            return objects_response(seq, b"", iin=b"\x00\x02")   # object unknown
        if fc == 0x05:
            if objs[:2] != bytes([12, 1]):
                return objects_response(seq, b"", iin=b"\x00\x02")
            return self.challenge_for(seq, (fc, objs))
        if fc == 0x20:
            return self.auth_reply(seq, objs)
        return objects_response(seq, b"", iin=b"\x00\x01")       # no func code support

    def auth_reply(self, seq, objs):
        ok = False
        if len(objs) >= 6 and objs[:4] == bytes([120, 2, 0x5B, 1]) and self.challenge:
            size = struct.unpack("<H", objs[4:6])[0]
            body = objs[6:6 + size]
            if len(body) == 22:
                csq, usr = struct.unpack("<IH", body[:6])
                mac = hmac.new(UPDATE_KEY, self.challenge, hashlib.sha256).digest()[:16]
                ok = (csq == struct.unpack("<I", self.challenge[:4])[0] and usr == USER
                      and hmac.compare_digest(mac, body[6:]))
        pending, self.pending, self.challenge = self.pending, None, None
        if ok and pending:
            return self.execute(seq, *pending)
        err = struct.pack("<IHHB", self.csq, USER, 0, 1) + bytes(6)   # error 1: auth failed
        return objects_response(seq, dnp3.free_format(120, 7, err), fc=0x83)


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            d = self.request.recv(n - len(buf))
            if not d:
                raise EOFError
            buf += d
        return buf

    def handle(self):
        assoc, tseq = Association(), 0
        try:
            while True:
                try:
                    ctrl, dest, src, user = dnp3.read_link(self.recv_exact)
                except dnp3.FrameError:
                    return
                if dest != ADDR or not user or (user[0] & 0xC0) != 0xC0:
                    continue
                resp = assoc.handle(user[1:])
                if resp is not None:
                    self.request.sendall(dnp3.app_frame(0x44, src, ADDR, tseq, resp))
                    tseq += 1
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with open("/srv/flag.txt", "rb") as _f:
        FLAG = _f.read().strip()
    Server(("0.0.0.0", 20000), Handler).serve_forever()
