#!/usr/bin/python3
"""Authoring tool (not used at run time): writes files/feeder-ops.pcap, a
capture of the utility's master station operating a breaker on the
outstation: class-0 poll, DIRECT_OPERATE challenged by g120v1 (CSQ 1), the
master's g120v2 reply, the operate response. Uses the simulator's own code
so the MAC is valid for the outstation's key.
usage: python3 solution/make_capture.py   (from the task directory)"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "services", "outstation"))
import dnp3  # noqa: E402
import outstation  # noqa: E402
import hashlib, hmac  # noqa: E402,E401

MASTER, OUT = 1, 10
M_IP, O_IP = bytes([192, 168, 40, 5]), bytes([192, 168, 40, 20])
M_PORT, O_PORT = 51234, 20000
M_MAC, O_MAC = bytes.fromhex("02004c4f4f50"), bytes.fromhex("0200deadbeef")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_packet(src_ip, dst_ip, sport, dport, seq, ack, flags, data):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp) + len(data))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + data)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data), 0x1c46, 0x4000, 64, 6, 0,
                     src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    src_mac, dst_mac = (M_MAC, O_MAC) if src_ip == M_IP else (O_MAC, M_MAC)
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp + data


def main():
    t = 1767268800.0
    pkts = []
    mseq, oseq = 0x1A2B3C4D, 0x7E6F5A4B

    def add(p):
        nonlocal t
        t += 0.013
        pkts.append((t, p))

    add(tcp_packet(M_IP, O_IP, M_PORT, O_PORT, mseq, 0, 0x02, b""))
    add(tcp_packet(O_IP, M_IP, O_PORT, M_PORT, oseq, mseq + 1, 0x12, b""))
    mseq += 1
    oseq += 1
    add(tcp_packet(M_IP, O_IP, M_PORT, O_PORT, mseq, oseq, 0x10, b""))
    assoc = outstation.Association()
    tm, to = 0, 0

    def exchange(apdu):
        nonlocal mseq, oseq, tm, to
        req = dnp3.app_frame(0xC4, OUT, MASTER, tm, apdu)
        tm += 1
        add(tcp_packet(M_IP, O_IP, M_PORT, O_PORT, mseq, oseq, 0x18, req))
        mseq += len(req)
        resp_apdu = assoc.handle(apdu)
        resp = dnp3.app_frame(0x44, MASTER, OUT, to, resp_apdu)
        to += 1
        add(tcp_packet(O_IP, M_IP, O_PORT, M_PORT, oseq, mseq, 0x18, resp))
        oseq += len(resp)
        return resp_apdu

    exchange(bytes([0xC0, 0x01, 60, 1, 0x06]))
    crob = bytes([12, 1, 0x17, 1, 2]) + struct.pack("<BBIIB", 0x03, 1, 1000, 0, 0)
    chal = exchange(bytes([0xC1, 0x05]) + crob)
    body = chal[10:]
    mac = hmac.new(outstation.UPDATE_KEY, body, hashlib.sha256).digest()[:16]
    reply = dnp3.free_format(120, 2, body[:6] + mac)
    exchange(bytes([0xC2, 0x20]) + reply)
    add(tcp_packet(M_IP, O_IP, M_PORT, O_PORT, mseq, oseq, 0x11, b""))

    out = os.path.join(HERE, "..", "files", "feeder-ops.pcap")
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, p in pkts:
            f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(p), len(p)) + p)
    print("wrote", out)


if __name__ == "__main__":
    main()
