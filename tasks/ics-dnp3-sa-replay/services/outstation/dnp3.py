"""Minimal DNP3 framing: link layer (with CRC-16/DNP blocks), transport
header, and application object helpers used by the outstation simulator."""
import struct

START = b"\x05\x64"


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
    return (~crc) & 0xFFFF


def link_frame(ctrl, dest, src, user):
    hdr = START + bytes([5 + len(user), ctrl]) + struct.pack("<HH", dest, src)
    out = hdr + struct.pack("<H", crc16(hdr))
    for i in range(0, len(user), 16):
        blk = user[i:i + 16]
        out += blk + struct.pack("<H", crc16(blk))
    return out


def app_frame(ctrl, dest, src, tseq, apdu):
    """One link frame carrying a single-segment transport PDU."""
    return link_frame(ctrl, dest, src, bytes([0xC0 | (tseq & 0x3F)]) + apdu)


class FrameError(Exception):
    pass


def read_link(recv_exact):
    """Read one link frame; return (ctrl, dest, src, user data)."""
    hdr = recv_exact(10)
    if hdr[:2] != START:
        raise FrameError("bad start bytes")
    if struct.unpack("<H", hdr[8:10])[0] != crc16(hdr[:8]):
        raise FrameError("bad header crc")
    length, ctrl = hdr[2], hdr[3]
    dest, src = struct.unpack("<HH", hdr[4:8])
    if length < 5:
        raise FrameError("bad length")
    left, user = length - 5, b""
    while left:
        n = min(16, left)
        blk = recv_exact(n + 2)
        if struct.unpack("<H", blk[n:])[0] != crc16(blk[:n]):
            raise FrameError("bad block crc")
        user += blk[:n]
        left -= n
    return ctrl, dest, src, user


def free_format(group, var, body):
    """Object header with qualifier 0x5B: count 1, 2-byte object size."""
    return bytes([group, var, 0x5B, 1]) + struct.pack("<H", len(body)) + body
