#!/usr/bin/python3
"""GRIDLINK telemetry gateway (TCP 9401), binary framed protocol.

Frame: "TG" | version u8 (2) | type u8 | seq u16 BE | length u16 BE |
       payload | CRC-32 (zlib) u32 BE over all preceding bytes.
Client seq starts at 1 and increments by one per frame; the server echoes
the seq. Types: 0x01 HELLO(name) -> 0x81(session u32, challenge 8 bytes);
0x02 AUTH(session u32, response 8 bytes) -> 0x82("ok");
0x03 LIST -> 0x83(names, newline separated); 0x04 READ(name) -> 0x84(value);
errors -> 0xEE(text). response = challenge XOR an 8-byte site key."""
import os
import socketserver
import struct
import zlib

KEY = b"RVB-7Q2X"
with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()
CHANNELS = {
    "feeder/1/amps": b"412.7",
    "feeder/2/amps": b"388.1",
    "feeder/3/amps": b"0.0",
    "bus/kv": b"11.02",
    "maint/unlock-code": None,
}
PROTECTED = {"maint/unlock-code"}


def frame(ftype, seq, payload):
    head = b"TG" + struct.pack(">BBHH", 2, ftype, seq, len(payload)) + payload
    return head + struct.pack(">I", zlib.crc32(head))


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
        expect = 1
        self.session, self.challenge, self.authed = None, None, False
        try:
            while True:
                head = self.recv_exact(8)
                if head[:2] != b"TG":
                    self.request.sendall(frame(0xEE, 0, b"bad magic"))
                    return
                ver, ftype, seq, length = struct.unpack(">BBHH", head[2:])
                if length > 1024:
                    return
                payload = self.recv_exact(length)
                crc = struct.unpack(">I", self.recv_exact(4))[0]
                if ver != 2:
                    err = b"unsupported version"
                elif crc != zlib.crc32(head + payload):
                    err = b"bad crc"
                elif seq != expect:
                    err = b"bad sequence number"
                else:
                    err = None
                if err:
                    self.request.sendall(frame(0xEE, seq, err))
                    continue
                expect = (expect + 1) & 0xFFFF
                self.request.sendall(self.dispatch(ftype, seq, payload))
        except (EOFError, ConnectionError):
            return

    def dispatch(self, ftype, seq, payload):
        if ftype == 0x01:
            self.session = int.from_bytes(os.urandom(4), "big")
            self.challenge = os.urandom(8)
            return frame(0x81, seq, struct.pack(">I", self.session) + self.challenge)
        if ftype == 0x02:
            if self.session is None:
                return frame(0xEE, seq, b"HELLO first")
            if len(payload) != 12 or struct.unpack(">I", payload[:4])[0] != self.session:
                return frame(0xEE, seq, b"bad session")
            if payload[4:] != bytes(a ^ b for a, b in zip(self.challenge, KEY)):
                self.session = None
                return frame(0xEE, seq, b"authentication failed")
            self.authed = True
            return frame(0x82, seq, b"ok")
        if ftype == 0x03:
            return frame(0x83, seq, "\n".join(CHANNELS).encode())
        if ftype == 0x04:
            name = payload.decode("latin-1")
            if name not in CHANNELS:
                return frame(0xEE, seq, b"no such channel")
            if name in PROTECTED and not self.authed:
                return frame(0xEE, seq, b"authentication required")
            val = CHANNELS[name] if CHANNELS[name] is not None else FLAG.encode()
            return frame(0x84, seq, val)
        return frame(0xEE, seq, b"unknown type")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("0.0.0.0", 9401), Handler).serve_forever()
